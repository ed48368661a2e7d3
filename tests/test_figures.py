"""Tests of attnbook.figures: the registry, deterministic SVGs, the committed figures/ files
(English, and the Chinese edition's figures/zh_CN/), the numbers of the seeded examples and of
the trained translator that the figures show, the Chinese figures' words (every word
translated, the same numbers as in English), the Chinese characters (drawn with the package's
CJK font, which covers both languages, never spelled in pinyin), the website's CJK web font,
every plot of attnbook.figures.plots, and the package's layout (one style, no import
circle)."""

from __future__ import annotations

import importlib.util
import re
from collections import Counter
from importlib.resources import files
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from attnbook import figures  # noqa: E402
from attnbook.figures import (  # noqa: E402
    FIGURES,
    STYLE,
    column_example,
    draw,
    plots,
    relevance_example,
    save_all,
    svg_bytes,
)
from attnbook.numpy_ref import self_attention  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
COMMITTED = ROOT / "figures"
FIRST_IDS = ["F1", "F2", "F3", "F4", "F5"]
ZH = "zh_CN"


@pytest.fixture(scope="module")
def svgs() -> dict[str, bytes]:
    """Every figure rendered once to SVG (rendering is the slow part; share it)."""
    return {fig_id: svg_bytes(fig_id) for fig_id in FIGURES}


@pytest.fixture(scope="module")
def zh_svgs() -> dict[str, bytes]:
    """Every figure's Chinese variant rendered once to SVG."""
    return {fig_id: svg_bytes(fig_id, language=ZH) for fig_id in FIGURES}


def test_ids_are_numbered_in_order():
    assert list(FIGURES)[: len(FIRST_IDS)] == FIRST_IDS
    assert list(FIGURES) == [f"F{i}" for i in range(1, len(FIGURES) + 1)]
    for fig_id, spec in FIGURES.items():
        assert spec.id == fig_id


@pytest.mark.parametrize("fig_id", list(FIGURES))
def test_figure_draws_with_alt_and_caption(fig_id):
    spec = FIGURES[fig_id]
    assert spec.alt.strip() and spec.caption.strip()
    assert len(spec.alt) <= 600, "alt text should be 1-3 sentences"
    open_before = plt.get_fignums()
    fig = draw(fig_id)
    assert isinstance(fig, Figure)
    assert fig.axes, "a figure needs at least one axes"
    # Closed in pyplot, so that a notebook's inline backend shows it once, not twice.
    assert plt.get_fignums() == open_before
    # An opaque white card, about 8 x 3 inches.
    assert matplotlib.colors.to_hex(fig.get_facecolor(), keep_alpha=True) == "#ffffffff"
    width, height = fig.get_size_inches()
    assert 6 <= width <= 9 and 2.5 <= height <= 4


@pytest.mark.parametrize("fig_id", list(FIGURES))
def test_docstring_names_the_chapter(fig_id):
    spec = FIGURES[fig_id]
    assert spec.chapter is not None, f"{spec.function.__name__}: say 'Introduced in chapter N.'"
    assert spec.chapter == (1 if fig_id == "F1" else 2) or int(fig_id[1:]) > 5


def test_every_public_function_names_its_chapter():
    """Each says the chapter that uses it, or that it is the build's (``make figures``)."""
    said = re.compile(r"(Introduced|Used) in chapters? \d+|Not used by a chapter: ``make figures``")
    for module in (figures, figures.primitives, figures.plots):
        for name in module.__all__:
            obj = getattr(module, name)
            if callable(obj) and not isinstance(obj, type):
                assert said.search(obj.__doc__ or ""), name


CJK = re.compile(r"[\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff\uff00-\uffef]")
# Pinyin: a vowel with a tone mark, or a numeral's syllable as a word (san bai ling wu).
PINYIN = re.compile(r"[āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜ]|\b(?:ling|yi|er|san|si|wu|liu|qi|ba|jiu|shi|"
                    r"bai|qian|wan)\b", re.IGNORECASE)


def _all_texts(fig_id: str, language: str = "en") -> list[str]:
    """Every text the figure draws (a text that mixes Chinese with math: each of its pieces)."""
    return [t.get_text() for t in draw(fig_id, language).findobj(matplotlib.text.Text)]


@pytest.fixture(scope="module")
def figure_texts() -> dict[str, list[str]]:
    return {fig_id: _all_texts(fig_id) for fig_id in FIGURES}


@pytest.fixture(scope="module")
def zh_figure_texts() -> dict[str, list[str]]:
    return {fig_id: _all_texts(fig_id, ZH) for fig_id in FIGURES}


def test_no_figure_text_is_pinyin(figure_texts, zh_figure_texts):
    for fig_id, texts in [*figure_texts.items(), *zh_figure_texts.items()]:
        for text in texts:
            assert not PINYIN.search(text), (fig_id, text)


def test_the_numerals_are_drawn_in_chinese(figure_texts):
    """F13, F14, F16, F17 and F19 write the running example's numerals in 汉字."""
    for fig_id in ("F13", "F14", "F16", "F17", "F19"):
        assert any(CJK.search(t) for t in figure_texts[fig_id]), fig_id


def test_every_cjk_character_drawn_is_in_the_figures_font(figure_texts, zh_figure_texts):
    """In both languages: the committed subsets cover every Chinese character drawn."""
    from fontTools.ttLib import TTFont

    from attnbook.figures import style

    drawn = {c for texts in [*figure_texts.values(), *zh_figure_texts.values()]
             for t in texts for c in CJK.findall(t)}
    assert drawn, "no figure draws a Chinese character"
    assert len(drawn) > 100, "the Chinese figures draw their words in Chinese"
    data = Path(str(files("attnbook") / "data"))
    for name in style.CJK_FONT_FILES:
        font = TTFont(data / name)
        covered = {chr(c) for c in font.getBestCmap()}
        assert drawn <= covered, (name, sorted(drawn - covered))
        assert font["name"].getDebugName(1) == style.register_cjk_font()
    # The font covers every character a numeral can have (attnbook.numerals).
    from attnbook import numerals

    assert set(numerals.DIGITS + "十百千万") <= covered


def test_figure_font_characters_are_those_drawn(figure_texts, zh_figure_texts):
    """`vendor_assets.py --figure-fonts` cuts the subsets to exactly what the figures draw
    in both languages (read from words.toml, without drawing), and the numerals."""
    va = _vendor_assets()
    drawn = {c for texts in [*figure_texts.values(), *zh_figure_texts.values()]
             for t in texts for c in CJK.findall(t)}
    chars = set(va.figure_characters())
    assert drawn <= chars, sorted(drawn - chars)
    assert chars - drawn <= set(va.FIGURE_CHARACTERS), sorted(chars - drawn)


def test_cjk_text_is_drawn_as_paths(svgs, zh_svgs):
    """No reader needs the font: the SVG holds the glyphs' outlines, no <text> element."""
    for fig_id in ("F13", "F17"):
        assert b"<text" not in svgs[fig_id] and b"font-family" not in svgs[fig_id]
    for fig_id, data in zh_svgs.items():
        assert b"<text" not in data and b"font-family" not in data, fig_id


def test_saving_twice_gives_identical_bytes(tmp_path, svgs, zh_svgs):
    first = save_all(tmp_path / "a", ids=["F1", "F5"])
    second = save_all(tmp_path / "b", ids=["F1", "F5"])
    assert [p.name for p in first] == ["F1.svg", "F5.svg"]
    for a, b in zip(first, second, strict=True):
        assert a.read_bytes() == b.read_bytes()
        assert a.read_bytes() == svgs[a.stem]
    for fig_id, data in [*svgs.items(), *zh_svgs.items()]:
        assert b"<dc:date>" not in data, fig_id
    zh = save_all(tmp_path / "a", ids=["F3"], language=ZH)
    assert zh == [tmp_path / "a" / ZH / "F3.svg"]
    assert zh[0].read_bytes() == zh_svgs["F3"] == svg_bytes("F3", ZH)


@pytest.mark.parametrize("fig_id", list(FIGURES))
def test_committed_svg_is_up_to_date(fig_id, svgs):
    path = COMMITTED / f"{fig_id}.svg"
    assert path.exists(), f"{path} is missing: run `make figures`"
    assert path.read_bytes() == svgs[fig_id], (
        f"{path} differs from what attnbook.figures draws now: run `make figures` "
        "(python -m attnbook.figures --out figures) and commit the result"
    )


@pytest.mark.parametrize("fig_id", list(FIGURES))
def test_committed_chinese_svg_is_up_to_date(fig_id, zh_svgs):
    """figures/zh_CN/<id>.svg: what the Chinese edition shows instead of the chapter's figure."""
    path = COMMITTED / ZH / f"{fig_id}.svg"
    assert path == figures.svg_path(COMMITTED, fig_id, ZH)
    assert path.exists(), f"{path} is missing: run `make figures`"
    assert path.read_bytes() == zh_svgs[fig_id], (
        f"{path} differs from what attnbook.figures draws now: run `make figures` "
        "(python -m attnbook.figures --out figures) and commit the result"
    )


def test_chinese_folder_holds_one_svg_per_figure():
    assert sorted(p.name for p in (COMMITTED / ZH).iterdir()) == sorted(
        f"{fig_id}.svg" for fig_id in FIGURES)


# ------------------------------------------------------------------ the Chinese figures' words

MATH = re.compile(r"\$[^$]*\$")
WORD = re.compile(r"[A-Za-z][A-Za-z0-9'-]*")
# What a Chinese figure may still write in Latin letters (words of 3 letters or more; math
# between $ signs is notation, and shorter ones are symbols: q, k, v, FC, CE, N, p, a, I, am).
NOTATION = {
    "softmax", "tanh", "sin", "cos",  # functions
    "RNN",  # the model's name, as CNN (the notes write RNN, glossary.md)
    "BEGIN", "END",  # the translator's tokens, by their names (attnbook.numerals)
    "post-LN", "pre-LN",  # the block orders, named so in both editions (glossary.md)
}
EXAMPLES = {  # data: an example in English in the Chinese figure
    "F1": {"student"},  # 我是学生 translated into English: I am a student
    "F12": {"student"},
    "F15": {"Vaswani"},  # a name: Vaswani 等人（2017）
}


def _latin_words(text: str) -> list[str]:
    return [w for w in WORD.findall(MATH.sub("", text)) if sum(c.isalpha() for c in w) >= 3]


def test_latin_words_are_found_outside_math():
    assert _latin_words(r"$\alpha' = \mathrm{softmax}(q)$ 和 self-attention") == [
        "self-attention"]
    assert _latin_words("(a) RNN：一步接一步") == ["RNN"]
    assert _latin_words("同一个 FC\n作用于每个向量") == []


def test_chinese_figures_draw_no_english_word(zh_figure_texts):
    """Every word of a Chinese figure is Chinese, but notation and its English examples."""
    for fig_id, texts in zh_figure_texts.items():
        allowed = NOTATION | EXAMPLES.get(fig_id, set())
        english = {w for text in texts for w in _latin_words(text)} - allowed
        assert not english, f"{fig_id} (zh_CN) writes {sorted(english)}: translate them in " \
                            "attnbook/figures/words.toml"
        if fig_id != "F5":  # F5 is notation only
            assert any(CJK.search(t) for t in texts), fig_id
    assert zh_figure_texts["F5"] == _all_texts("F5")


def test_chinese_figures_show_the_same_numbers_and_math(figure_texts, zh_figure_texts):
    """A translation changes the words only: every number and every piece of math of the
    English figure is in the Chinese one, as often (a digit inside a word, seq2seq, is none)."""
    number = re.compile(r"(?<![A-Za-z])\d+(?:\.\d+)?(?![A-Za-z])")
    for fig_id in FIGURES:
        en, zh = figure_texts[fig_id], zh_figure_texts[fig_id]
        for pattern in (number, MATH):
            assert Counter(m for t in en for m in pattern.findall(t)) == Counter(
                m for t in zh for m in pattern.findall(t)), (fig_id, pattern.pattern)


def test_every_chinese_word_is_used(zh_figure_texts):
    """words.toml holds no stale entry: drawing the Chinese figures looks up every one."""
    from attnbook.figures import language

    assert set(language.WORDS) == set(figures.LANGUAGES) - {"en"}
    assert set(language.WORDS[ZH]) == set(FIGURES)
    listed = {(ZH, fig_id, english) for fig_id, table in language.WORDS[ZH].items()
              for english in table}
    assert not listed - language._used, sorted(listed - language._used)


def test_words_fill_templates_and_name_what_is_missing():
    from attnbook.figures.language import words

    assert words("F11")("step {n}", n=3) == "step 3"
    assert words("F11", ZH)("step {n}", n=3) == "第 3 步"
    assert words("F1").tokens("I saw a saw") == ["I", "saw", "a", "saw"]
    assert words("F1", ZH).tokens("I saw a saw") == ["他", "在", "画", "画"]
    with pytest.raises(KeyError, match=r"words\.toml"):
        words("F11", ZH)("no such text")
    with pytest.raises(ValueError, match="zh_CN"):
        words("F11", "fr")


def test_unknown_language_says_which_exist():
    for call in (lambda: draw("F1", "zh"), lambda: svg_bytes("F1", "de"),
                 lambda: save_all("unused", ["F1"], language="zh-CN")):
        with pytest.raises(ValueError, match="'en', 'zh_CN'"):
            call()


def test_figure_functions_take_the_language():
    """Each figure function draws English by default (the chapters' figures.draw("F3"))."""
    import inspect

    for fig_id, spec in FIGURES.items():
        parameter = inspect.signature(spec.function).parameters["language"]
        assert parameter.default == "en", fig_id
        assert "`language`" in spec.function.__doc__, fig_id
    for function in (draw, svg_bytes, save_all):
        assert inspect.signature(function).parameters["language"].default == "en"
        assert "zh_CN" in function.__doc__


def test_relevance_example_is_consistent():
    ex = relevance_example()
    a, q, k, v = ex["a"], ex["q"], ex["k"], ex["v"]
    n, d = a.shape
    assert (n, d) == (4, 4)
    np.testing.assert_allclose(q, ex["W_q"] @ a[0])
    for j in range(n):
        np.testing.assert_allclose(k[j], ex["W_k"] @ a[j])
        np.testing.assert_allclose(v[j], ex["W_v"] @ a[j])
    np.testing.assert_allclose(ex["alpha"], [q @ k[j] for j in range(n)])
    alpha_prime = ex["alpha_prime"]
    assert np.all(alpha_prime > 0)
    assert alpha_prime.sum() == pytest.approx(1.0)
    expected = np.exp(ex["alpha"]) / np.exp(ex["alpha"]).sum()
    np.testing.assert_allclose(alpha_prime, expected)
    np.testing.assert_allclose(ex["b"], sum(alpha_prime[j] * v[j] for j in range(n)))
    # Seeded: the same numbers every call.
    again = relevance_example()
    for key in ex:
        np.testing.assert_array_equal(ex[key], again[key])


def _texts(fig_id: str) -> str:
    return "\n".join(t.get_text() for t in draw(fig_id).findobj(matplotlib.text.Text))


def test_f3_and_f5_show_the_computed_numbers():
    ex = relevance_example()
    f3, f5 = _texts("F3"), _texts("F5")
    for j, value in enumerate(ex["alpha"], start=1):
        assert f"alpha_{{1,{j}}} = {value:.2f}" in f3
        assert f"alpha_{{1,{j}}} = {value:.2f}" in f5
    for j, value in enumerate(ex["alpha_prime"], start=1):
        assert f"alpha'_{{1,{j}}} = {value:.2f}" in f5
    assert "= 1.00" in f5  # the weights sum to 1
    for value in ex["b"]:
        assert f"{value:.2f}".lstrip("-") in f5


def test_unknown_id_says_which_exist():
    with pytest.raises(KeyError, match="F1"):
        draw("F99")


def test_register_rejects_bad_ids_missing_text_and_repeats():
    with pytest.raises(ValueError, match="F7"):
        figures.figure("G1")
    with pytest.raises(ValueError, match="captions.toml"):
        figures.figure("F100")  # no alt text or caption for it
    with pytest.raises(ValueError, match="twice"):
        figures.figure("F1")(lambda: None)


def test_every_caption_belongs_to_a_figure():
    from attnbook.figures.registry import CAPTIONS

    assert set(CAPTIONS) == set(figures.FIGURES)
    for fig_id, text in CAPTIONS.items():
        assert set(text) == {"alt", "caption"}, fig_id


def test_command_line_writes_and_prints(tmp_path, capsys, zh_svgs):
    """By default every language (what `make figures` runs); --language picks one."""
    figures.main(["--out", str(tmp_path), "F2"])
    assert capsys.readouterr().out.split() == [str(tmp_path / "F2.svg"),
                                               str(tmp_path / ZH / "F2.svg")]
    assert (tmp_path / "F2.svg").read_bytes().startswith(b"<?xml")
    assert (tmp_path / ZH / "F2.svg").read_bytes() == zh_svgs["F2"]
    figures.main(["--out", str(tmp_path / "zh"), "--language", ZH, "F4"])
    assert capsys.readouterr().out.split() == [str(tmp_path / "zh" / ZH / "F4.svg")]
    figures.main(["--out", str(tmp_path / "en"), "--language", "en", "F4"])
    assert capsys.readouterr().out.split() == [str(tmp_path / "en" / "F4.svg")]


def test_column_example_matches_chapter_2():
    ex = column_example()
    rel = relevance_example()
    np.testing.assert_allclose(ex["I"], rel["a"].T)
    np.testing.assert_allclose(ex["A"][:, 0], rel["alpha"])
    np.testing.assert_allclose(ex["A_prime"][:, 0], rel["alpha_prime"])
    np.testing.assert_allclose(ex["O"][:, 0], rel["b"])
    np.testing.assert_allclose(ex["A_prime"].sum(axis=0), np.ones(4))
    out, _ = self_attention(ex["I"], ex["W_q"], ex["W_k"], ex["W_v"], scaled=False)
    np.testing.assert_allclose(ex["O"], out)


def test_f7_to_f9_show_the_computed_numbers():
    ex = column_example()
    f7, f8, f9 = _texts("F7"), _texts("F8"), _texts("F9")
    for value in ex["A"][:, 0]:
        assert f"${value:.2f}$".replace("$-0.00$", "$0.00$") in f7
    for value in ex["A_prime"].ravel():
        assert f"${value:.2f}$" in f8 and f"${value:.2f}$" in f9
    for value in ex["O"].ravel():
        text = f"{value:.2f}"
        assert f"${text.lstrip('-') if float(text) == 0 else text}$" in f9


# ------------------------------------------------------- the trained translator's numbers


@pytest.fixture(scope="module")
def book_model():
    import torch

    from attnbook import translate

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield translate.load_book_model("at")
    torch.set_num_threads(before)


def test_f16_and_f17_show_the_models_decoding(book_model):
    """The bars, choices and p(END) are chapter 10's: record_decoding on the book's model."""
    from attnbook import numerals
    from attnbook.labs.decoding_steps import record_decoding

    record = record_decoding(book_model, 1005)
    f16, f17 = _texts("F16"), _texts("F17")
    p_chosen = record.probs[np.arange(record.steps), list(record.choices)]
    for t, token in enumerate(record.outputs[:4]):
        assert token in f16.split("\n")
        assert f"p = {p_chosen[t]:.3f}" in f16
    p_end = record.probs[-1, numerals.END]
    assert record.outputs[-1] == "END" and f"p(END) = {p_end:.3f}" in f17
    assert f"p(END) = {p_end:.3f}" == "p(END) = 1.000"  # what chapter 10 prints
    assert "".join(record.inputs[1:]) in f17  # the heading: after BEGIN 一千零五
    for n in (1005, 20, 300000):  # (b): the model's own outputs, each then END
        tokens = book_model.greedy_decode([numerals.source_ids(n)])[0]
        assert numerals.decode_target(tokens) == numerals.to_chinese(n)
        assert f"{n}  →  {len(tokens)} tokens, then END" in f17


def test_decoding_example_draws_the_models_distribution(book_model):
    from attnbook import numerals
    from attnbook.figures import VOCABULARY, decoding_example
    from attnbook.labs.decoding_steps import record_decoding

    ex = decoding_example(1005)
    probs = record_decoding(book_model, 1005).probs  # (steps, 18)
    columns = [numerals.TARGET_TOKENS.index(t) for t in VOCABULARY]
    np.testing.assert_allclose(ex["probs"], probs[:, columns], atol=1e-4)
    # The tokens left out (PAD, BEGIN, MASK) have no visible probability.
    assert probs[:, [numerals.PAD, numerals.BEGIN, numerals.MASK]].max() < 1e-4
    assert ex["outputs"] == [*numerals.to_chinese(1005), "END"]


def test_f18_shows_the_models_cross_attention(book_model):
    """α' of F18: the first decoder block's head 1 at the first step (query from BEGIN)."""
    import torch

    from attnbook import numerals
    from attnbook.figures import cross_attention_example
    from attnbook.layers import keep_weights

    src = torch.tensor([numerals.source_ids(1005)])
    with torch.no_grad(), keep_weights(book_model):
        book_model(src, torch.tensor([[numerals.BEGIN]]))
        weights = book_model.decoder[0].cross_attn.weights[0, 0, 0].double().numpy()  # (S,)
    ex = cross_attention_example(1005)
    np.testing.assert_allclose(ex["alpha_prime"], weights, atol=1e-4)
    assert ex["alpha_prime"].sum() == pytest.approx(1.0, abs=1e-3)
    f18 = _texts("F18")
    for i, value in enumerate(weights, start=1):
        assert f"alpha'_{i} = {value:.2f}" in f18


def test_f19_shows_the_models_teacher_forced_cross_entropy(book_model):
    import torch

    from attnbook import numerals
    from attnbook.figures import VOCABULARY, teacher_forcing_example

    target = numerals.target_ids(305)
    src = torch.tensor([numerals.source_ids(305)])
    with torch.no_grad():
        log_p = book_model(src, torch.tensor([[numerals.BEGIN, *target]])).log_softmax(-1)[0]
    labels = [*target, numerals.END]
    ce = [-log_p[t, y].item() for t, y in enumerate(labels)]
    ex = teacher_forcing_example(305)
    np.testing.assert_allclose(ex["cross_entropy"], ce, atol=1e-4)
    columns = [numerals.TARGET_TOKENS.index(t) for t in VOCABULARY]
    np.testing.assert_allclose(ex["probs"], log_p.exp().numpy()[:, columns], atol=1e-4)
    f19 = _texts("F19").split("\n")
    assert [f"{value:.3f}" in f19 for value in ce] == [True] * len(ce)
    for token in numerals.to_chinese(305):
        assert token in f19


def test_no_model_figure_calls_itself_illustrative():
    """F16–F19 draw the trained model's numbers; their captions must not say otherwise."""
    for fig_id in ("F16", "F17", "F18", "F19"):
        text = (FIGURES[fig_id].caption + FIGURES[fig_id].alt).lower()
        for word in ("illustrative", "sketch", "seeded", "made-up"):
            assert word not in text, (fig_id, word)


def test_f10_shows_as_many_numbers_as_it_says():
    texts = _texts("F10")
    shown, total = map(int, re.search(r"\((\d+) of (\d+) shown\)", texts).groups())
    fig = draw("F10")
    # The column e^i: the cells centred at x = 1.55 (inches) of the left axes.
    cells = [p for p in fig.axes[0].patches if isinstance(p, matplotlib.patches.Rectangle)
             and abs(p.get_x() + p.get_width() / 2 - 1.55) < 1e-9]
    assert len(cells) == 2 * shown  # the tinted column and, over it, the table's values
    assert total == 64
    assert f"first {shown} of the {total} numbers" in FIGURES["F10"].caption


# ------------------------------------------------------------------------------ CJK fonts


def _vendor_assets():
    spec = importlib.util.spec_from_file_location("vendor_assets",
                                                  ROOT / "scripts" / "vendor_assets.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_figure_fonts_are_the_npm_fonts_subset():
    """The committed subsets are what `vendor_assets.py --figure-fonts` makes from npm's."""
    va = _vendor_assets()
    from attnbook.figures import style

    assert tuple(va.FIGURE_FONTS.values()) == style.CJK_FONT_FILES
    assert va.FONT_FAMILY == style.register_cjk_font()
    if not (va.NODE / va.FONT_FILES["Regular"]).is_file():
        pytest.skip("node_modules has no Noto Sans SC: run `make install`")
    for weight, name in va.FIGURE_FONTS.items():
        assert (va.FIGURE_FONT_DIR / name).read_bytes() == va.figure_font_bytes(weight), (
            f"{name} is stale: run `python scripts/vendor_assets.py --figure-fonts`")


def test_book_characters_are_found_in_every_kind_of_source(tmp_path):
    va = _vendor_assets()
    (tmp_path / "chapters").mkdir()
    (tmp_path / "chapters" / "01_x.ipynb").write_text(
        '{"cells": [{"source": ["解码器"]}], "metadata": {"w": "\\u6ce8"}}', encoding="utf-8")
    (tmp_path / "glossary.md").write_text("层归一化, Latin — and …", encoding="utf-8")
    chars = va.book_cjk_characters(tmp_path)
    assert set("解码器注层归一化") <= set(chars)
    assert set(va.FIGURE_CHARACTERS) <= set(chars)  # the numerals always
    assert not {"—", "…", "L"} & set(chars)
    assert va.unicode_range("一丁七") == "U+4E00-4E01, U+4E03"


def test_web_font_covers_every_cjk_character_of_the_book():
    """Every CJK character in the chapters, pages and package is in the site's font subset:
    the built one (_assets/vendor/fonts) when there is one, else a subset made now."""
    from fontTools.ttLib import TTFont

    va = _vendor_assets()
    chars = va.book_cjk_characters()
    assert "解" in chars and "零" in chars
    english = va.book_cjk_characters(chinese_edition=False)
    assert set(english) < set(chars)  # the Chinese edition's catalogues add characters
    built = va.OUT / va.WEB_FONT
    if built.is_file():
        where = f"{built} (rebuild it: python scripts/vendor_assets.py, which make install runs)"
        css = (va.OUT / va.WEB_FONT_CSS).read_text(encoding="utf-8")
        chinese = "".join(sorted(set(chars) - set(english)))
        for subset, path in ((english, va.WEB_FONT), (chinese, va.WEB_FONT_CHINESE)):
            assert va.unicode_range(subset) in css, f"the CSS's unicode-range is stale: {where}"
            font = TTFont(va.OUT / path)  # woff2: needs brotli (requirements.txt)
            missing = set(subset) - {chr(c) for c in font.getBestCmap()}
            assert not missing, f"{va.OUT / path} lacks {''.join(sorted(missing))}"
        return
    if (va.NODE / va.FONT_FILES["Regular"]).is_file():
        import io

        font = TTFont(io.BytesIO(va.subset_font(va.font_source(), chars)))
        where = "Noto Sans SC"
    else:
        pytest.skip("neither a built web font nor node_modules: run `make install`")
    missing = set(chars) - {chr(c) for c in font.getBestCmap()}
    assert not missing, f"{where} lacks {''.join(sorted(missing))}"


# ------------------------------------------------------------------------------ plots

AT_NAT_ROWS = [
    {"method": "AT (greedy)", "passes": 8.5, "accuracy": 0.98},
    {"method": "NAT, 1 pass", "passes": 1.0, "accuracy": 0.6, "length_accuracy": 0.9,
     "accuracy_true_length": 0.7},
    {"method": "NAT, 4 passes", "passes": 4.0, "accuracy": 0.8, "length_accuracy": 0.9,
     "accuracy_true_length": 0.9},
]
SIMILARITY = np.array([[1.0, 0.5, 0.2], [0.5, 1.0, 0.3], [0.2, 0.3, 1.0]])
GRID = np.arange(72, dtype=float).reshape(6, 12) / 72
COST = {m: {"n": [8, 16], "seconds": [1e-3, 2e-3], "peak_bytes": [10, 20]}
        for m in plots.METHOD_STYLE}

PLOTS = {
    "saturation_plot": lambda: plots.saturation_plot(
        [1, 4, 16], {"a": [1, 4, 16], "b": [1, 1, 1]}, {"a": [2, 1, 0.5], "b": [2, 2, 2]},
        max_entropy=2.3),
    "head_maps_plot": lambda: plots.head_maps_plot(np.full((3, 4, 4), 0.25), list("abcd"),
                                                   ["x", "y", "z"]),
    "encoding_similarity_plot": lambda: plots.encoding_similarity_plot(
        np.arange(5), {"d": np.ones(5)}),
    "accuracy_by_position_plot": lambda: plots.accuracy_by_position_plot(
        {"a": np.linspace(0, 1, 10)}, train_length=5, chance=0.1),
    "receptive_field_plot": lambda: plots.receptive_field_plot(
        {"a": np.eye(4, dtype=bool), "b": np.ones((4, 4), bool)}),
    "data_size_plot": lambda: plots.data_size_plot(
        [10, 20], {"CNN": np.array([[0.5, 0.6], [0.7, 0.8]]),
                   "ViT": np.array([[0.3, 0.2], [0.5, 0.6]])}, live={"CNN": ([10], [0.55])}),
    "crossover_plot": lambda: plots.crossover_plot(
        [10, 100], *[{"CNN": np.full((2, 2), 0.7), "attention": np.full((2, 2), 0.9)}] * 3,
        live={"CNN": ([10], [0.7])}),
    "rnn_timing_plot": lambda: plots.rnn_timing_plot(
        [8, 16], [2.0, 1.0], np.arange(3),
        {"RNN": np.array([1e-3, 1e-2, 1.0]), "self-attention": np.array([0.1, 0.1, 0.2])},
        saved=([8, 16, 32], [2.0, 1.0, 0.5])),
    "cost_plot": lambda: plots.cost_plot(COST, COST),
    "at_vs_nat_plot": lambda: plots.at_vs_nat_plot(AT_NAT_ROWS),
    "head_grid_plot": lambda: plots.head_grid_plot([("a", GRID), ("b", GRID[::-1])],
                                                   label="weight"),
    "sentence_similarity_plot": lambda: plots.sentence_similarity_plot(["x", "y", "z"],
                                                                       SIMILARITY),
}


def test_every_plot_is_tested_here():
    assert sorted(PLOTS) == sorted(n for n in plots.__all__ if n.endswith("_plot"))


@pytest.mark.parametrize("name", list(PLOTS))
def test_plot_is_a_closed_figure_on_a_white_card(name):
    before = plt.get_fignums()
    fig = PLOTS[name]()
    assert isinstance(fig, Figure) and fig.axes
    assert plt.get_fignums() == before, "closed in pyplot, so that a notebook shows it once"
    assert matplotlib.colors.to_hex(fig.get_facecolor(), keep_alpha=True) == "#ffffffff"
    assert re.search(r"[Ii]ntroduced in chapter \d+", getattr(plots, name).__doc__)


@pytest.mark.parametrize("name", ["head_maps_plot", "head_grid_plot", "sentence_similarity_plot"])
def test_every_heatmap_uses_the_one_sequential_colormap(name):
    images = PLOTS[name]().findobj(matplotlib.image.AxesImage)
    assert images and {image.get_cmap().name for image in images} == {STYLE.sequential}


def test_heatmap_cells_print_their_values_readably():
    fig = PLOTS["sentence_similarity_plot"]()
    texts = {t.get_text(): t.get_color() for t in fig.axes[0].texts}
    assert texts["1.00"] == STYLE.text  # the bright end of viridis: dark text
    assert texts["0.20"] == STYLE.background  # the dark end: white text


def test_plots_reject_bad_shapes():
    with pytest.raises(ValueError, match="2 titles for 3 heads"):
        plots.head_maps_plot(np.full((3, 4, 4), 0.25), list("abcd"), ["x", "y"])
    with pytest.raises(ValueError, match="panels"):
        plots.head_grid_plot([("bad", GRID[0])], label="x")
    with pytest.raises(ValueError, match=r"\[3, 3\]"):
        plots.sentence_similarity_plot(["x", "y", "z"], GRID)


def test_head_grid_plot_takes_tensors_and_shares_one_scale():
    torch = pytest.importorskip("torch")
    fig = plots.head_grid_plot([("a", torch.tensor(GRID)), ("b", GRID * 2)], label="w",
                               vmax=None)
    assert len(fig.axes) == 3  # two panels and a colour bar
    scales = {ax.images[0].get_clim() for ax in fig.axes[:2]}
    assert scales == {(0.0, 2 * GRID.max())}


# ------------------------------------------------------------------------------ layout


def test_part_modules_import_no_sibling_but_the_shared_ones():
    """No import circle: a part module imports style, primitives, registry, language and
    examples only."""
    import ast
    import importlib

    allowed = {"attnbook.figures.style", "attnbook.figures.primitives",
               "attnbook.figures.registry", "attnbook.figures.examples",
               "attnbook.figures.language"}
    package = Path(figures.__file__).parent
    for path in sorted(package.glob("*.py")):
        if path.stem in {"__init__", "__main__"}:
            continue
        tree = ast.parse(path.read_text())
        imported = {node.module for node in ast.walk(tree)
                    if isinstance(node, ast.ImportFrom) and node.module}
        imported |= {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import)
                     for alias in node.names}
        inside = {m for m in imported if m.split(".")[:2] == ["attnbook", "figures"]}
        assert inside <= allowed - {f"attnbook.figures.{path.stem}"}, (path.name, inside)
        forbidden = {m for m in imported if m.startswith(("attnbook.widgets", "attnbook.check"))}
        assert not forbidden, (path.name, forbidden)
        importlib.import_module(f"attnbook.figures.{path.stem}")
