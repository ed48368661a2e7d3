"""Browser tests of the TranslatorView (chapters 8, 10-12): the book's models, run in Chromium.

The JavaScript forward pass is checked against PyTorch: the logits and every attention map
("golden" values exported from the PyTorch models by this test) for numbers that include the
zero-heavy ones, greedy decoding of all 1,000 held-out numbers, mask-predict (NAT) and beam
search. Then the view itself, on a page built like the website's (no kernel): the contract
for checks outside the repository (input name="number", data-testid="translation" with
data-state, data-testid="message"), bad input, the switches and the step control.
"""

from __future__ import annotations

import random

import numpy as np
import pytest
import torch
from conftest import VENDOR, LocalServer
from test_browser import (
    WIDGET_VIEW,
    assert_readable,
    open_page,
    serve_widget_page,
    wait_for_views,
)

from attnbook import numerals, translate
from attnbook.layers import keep_weights
from attnbook.model import pad_batch

pytestmark = pytest.mark.browser

TOLERANCE = 1e-4  # max |JS - PyTorch| on logits and attention weights
GOLDEN_NUMBERS = [0, 7, 10, 20, 100, 110, 1005, 2026, 10000, 10100, 70809, 100000, 100001,
                  100010, 101000, 110000, 123456, 300200, 999999]
GOLDEN_NUMBERS += random.Random(12).sample(range(1_000_000), 6)  # 25 numbers in all

# Import the view's ES module in a blank page and load both models once: window.tv.
LOAD = r"""async ([code, models]) => {
    const url = URL.createObjectURL(new Blob([code], { type: "text/javascript" }));
    const mod = await import(url);
    const loaded = {};
    for (const [kind, packed] of Object.entries(models)) loaded[kind] = await mod.loadModel(packed);
    window.tv = { mod, models: loaded };
    return Object.keys(loaded);
}"""


@pytest.fixture(scope="module")
def view():
    from attnbook.widgets import TranslatorView

    return TranslatorView()


@pytest.fixture(scope="module")
def models():
    return {kind: translate.load_book_model(kind) for kind in ("at", "nat")}


@pytest.fixture(scope="module")
def js(browser, view):
    """A blank page (no network) with the view's module loaded: call its exported functions."""
    context = browser.new_context()
    context.route("**/*", lambda route: route.abort())
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.set_content("<!doctype html><html><body></body></html>")
    assert page.evaluate(LOAD, [str(view._esm), view.models]) == ["at", "nat"]
    yield page
    assert not errors, errors
    context.close()


def src_ids(numbers):
    return [numerals.source_ids(n) for n in numbers]


def golden(model, n: int) -> dict:
    """PyTorch's logits and attention maps for number n: AT on BEGIN + the true numeral (teacher
    forcing), NAT on as many MASK tokens as the true numeral has characters."""
    src = torch.tensor([numerals.source_ids(n)])
    target = numerals.target_ids(n)
    nat = isinstance(model, translate.NATransformer)
    tgt_in = [numerals.MASK] * len(target) if nat else [numerals.BEGIN, *target]
    with torch.no_grad(), keep_weights(model) as attns:
        out = model(src, torch.tensor([tgt_in]))
    weights = {name: m.weights[0].numpy() for name, m in attns}  # (heads, Lq, Lk)
    c = model.config

    def stack(part: str, n_layers: int) -> np.ndarray:  # (layers, heads, Lq, Lk)
        return np.stack([weights[part.format(i)] for i in range(n_layers)])

    result = {
        "tgt_in": tgt_in,
        "logits": (out[0] if nat else out)[0].numpy(),
        "encoder": stack("encoder.{}.self_attn", c.num_encoder_layers),
        "decoderSelf": stack("decoder.{}.self_attn", c.num_decoder_layers),
        "cross": stack("decoder.{}.cross_attn", c.num_decoder_layers),
    }
    if nat:
        result["lengthLogits"] = out[1][0].numpy()
    return result


@pytest.mark.parametrize("kind", ["at", "nat"])
def test_forward_pass_matches_pytorch(js, models, kind, one_torch_thread, record_property):
    """Logits and every attention map of every layer and head: max |JS - PyTorch| <= 1e-4."""
    goldens = [golden(models[kind], n) for n in GOLDEN_NUMBERS]
    got = js.evaluate(
        """([kind, srcs, tgts]) => srcs.map((s, i) =>
            window.tv.mod.forward(window.tv.models[kind], s, tgts[i]))""",
        [kind, src_ids(GOLDEN_NUMBERS), [g["tgt_in"] for g in goldens]])
    worst = {}
    for n, want, have in zip(GOLDEN_NUMBERS, goldens, got, strict=True):
        for key in ("logits", "encoder", "decoderSelf", "cross") + (
                ("lengthLogits",) if kind == "nat" else ()):
            a, b = np.asarray(want[key]), np.asarray(have[key], dtype=np.float64)
            assert a.shape == b.shape, f"{kind} {n} {key}: shape {b.shape}, expected {a.shape}"
            err = float(np.abs(a - b).max())
            worst[key] = max(worst.get(key, 0.0), err)
            assert err <= TOLERANCE, f"{kind} {n} {key}: max |Δ| = {err:.2e}"
    record_property("max_abs_error", worst)
    print(f"\n{kind}: max |JS - PyTorch| over {len(GOLDEN_NUMBERS)} numbers: "
          + ", ".join(f"{k} {v:.1e}" for k, v in worst.items()))


def test_greedy_decoding_matches_pytorch_on_the_heldout_numbers(js, models, one_torch_thread):
    numbers = translate.heldout_numbers()
    assert len(numbers) == 1000
    want = models["at"].greedy_decode(pad_batch(src_ids(numbers)))
    got = js.evaluate(
        """(srcs) => srcs.map((s) => window.tv.mod.greedyDecode(window.tv.models.at, s).tokens)""",
        src_ids(numbers))
    differ = [n for n, a, b in zip(numbers, want, got, strict=True) if a != b]
    assert not differ, f"{len(differ)} of 1000 held-out numbers decode differently: {differ[:10]}"


def test_maps_recorded_step_by_step_equal_one_whole_pass(js):
    """The view draws greedy decoding's maps as recorded at each step (with the cache); they
    are the maps of one pass over the whole decoder input."""
    numbers = [0, 1005, 100000, 123456, 999999]
    worst = js.evaluate(
        """(srcs) => srcs.map((s) => {
            const { mod, models } = window.tv;
            const g = mod.greedyDecode(models.at, s);
            const steps = mod.mapsFromSteps(g.record, s.length);
            const whole = mod.forward(models.at, s, [1, ...g.choices.slice(0, -1)]);
            let worst = 0;
            for (const [mine, theirs] of [[steps.selfMaps, whole.decoderSelf],
                                          [steps.crossMaps, whole.cross]]) {
                mine.forEach((heads, l) => heads.forEach((w, h) => theirs[l][h].forEach(
                    (row, i) => row.forEach((x, j) => {
                        worst = Math.max(worst, Math.abs(x - w[i * row.length + j]));
                    }))));
            }
            return worst;
        })""", src_ids(numbers))
    assert max(worst) < 1e-9, worst


@pytest.mark.parametrize("k", sorted({translate.NAT_ITERATIONS, 4}))
def test_mask_predict_matches_pytorch(js, models, k, one_torch_thread):
    numbers = translate.heldout_numbers()[::4] + [0, 100000, 101000, 110000, 999999]  # 255
    want = models["nat"].generate(pad_batch(src_ids(numbers)), iterations=k)
    got = js.evaluate(
        """([srcs, k]) => srcs.map((s) =>
            window.tv.mod.natDecode(window.tv.models.nat, s, k).tokens)""",
        [src_ids(numbers), k])
    differ = [n for n, a, b in zip(numbers, want, got, strict=True) if a != b]
    assert not differ, f"{len(differ)} of {len(numbers)} numbers differ (NAT, {k} passes)"


@pytest.mark.parametrize("beam", [2, 4])
def test_beam_search_matches_pytorch(js, models, beam, one_torch_thread):
    numbers = translate.heldout_numbers()[::25] + [100000, 101000]  # 42
    want, scores = models["at"].beam_search(src_ids(numbers), beam_size=beam,
                                            return_scores=True)
    got = js.evaluate(
        """([srcs, beam]) => srcs.map((s) => {
            const r = window.tv.mod.beamSearch(window.tv.models.at, s, beam);
            return [r.tokens, r.score];
        })""", [src_ids(numbers), beam])
    assert [g[0] for g in got] == want
    np.testing.assert_allclose([g[1] for g in got], scores, atol=1e-4)


def test_chinese_numerals_match_python(js):
    numbers = list(range(0, 2000)) + random.Random(3).sample(range(1_000_000), 3000) + [
        10000, 10001, 10010, 10100, 100000, 100001, 100010, 110000, 999999]
    got = js.evaluate("(ns) => ns.map((n) => window.tv.mod.toChinese(n))", numbers)
    assert got == [numerals.to_chinese(n) for n in numbers]


BAD_INPUTS = {
    "empty": "",
    "whitespace": "   ",
    "letters": "abc",
    "mixed": "12a",
    "negative": "-5",
    "decimal": "3.5",
    "exponent": "1e5",
    "too large": "1000000",
    "too large with commas": "1,000,000",
    "markup": "<img src=x onerror=alert(1)>",
}


def test_parse_number(js):
    parse = "(texts) => texts.map((t) => window.tv.mod.parseNumber(t))"
    good = js.evaluate(parse, ["0", " 42 ", "007", "999999", "１２３", "12,345", "+8"])
    assert [g["value"] for g in good] == [0, 42, 7, 999999, 123, 12345, 8]
    bad = js.evaluate(parse, list(BAD_INPUTS.values()))
    for (kind, text), result in zip(BAD_INPUTS.items(), bad, strict=True):
        assert result["ok"] is False, f"{kind} input {text!r} was accepted"
        assert result["message"], f"no message for {kind} input {text!r}"
    messages = dict(zip(BAD_INPUTS, (r["message"] for r in bad), strict=True))
    assert "Negative" in messages["negative"]
    assert "decimals" in messages["decimal"]
    assert "exponent" in messages["exponent"]
    assert "Too large" in messages["too large"] and "Too large" in messages["too large with commas"]


# -- The view on a page of its own, as the website embeds it ----------------------------------


@pytest.fixture(scope="module")
def translator_page(tmp_path_factory, view):
    server = serve_widget_page(tmp_path_factory.mktemp("translator"), [view], "TranslatorView")
    yield server
    server.close()


def type_number(page, text: str) -> None:
    box = page.locator('input[name="number"]')
    box.fill(text)
    box.press("Enter")


def test_translator_contract(browser, translator_page, models, one_torch_thread):
    page, report = open_page(browser, translator_page.url, "index.html")
    try:
        wait_for_views(page, 1)
        translation = page.locator('[data-testid="translation"]')
        message = page.locator('[data-testid="message"]')
        # The first example is decoded when the view opens.
        page.wait_for_function(
            "() => document.querySelector('[data-testid=translation]').dataset.state === 'done'")
        assert translation.text_content() == "一千零五"
        for n in (0, 100000, 101000, 110000, 999999, 70809):
            type_number(page, str(n))
            assert translation.get_attribute("data-state") == "done"
            want = translate.translate(models["at"], [n])[0]
            assert translation.text_content() == want, n
            assert message.text_content() == ""
        for kind, text in BAD_INPUTS.items():
            type_number(page, text)
            assert translation.get_attribute("data-state") == "error", kind
            assert message.text_content().strip(), f"no message for {kind} input"
            # The last good result stays on screen.
            assert translation.text_content() == translate.translate(models["at"], [70809])[0]
        assert page.locator(".attnbook-tview img").count() == 0
        # A good number after an error: done again, the message cleared.
        type_number(page, "2026")
        assert translation.get_attribute("data-state") == "done"
        assert translation.text_content() == translate.translate(models["at"], [2026])[0]
        assert message.text_content() == ""
    finally:
        page.context.close()
    assert not report.problems(), "\n".join(report.problems())


def test_translator_steps_switches_and_maps(browser, translator_page, models, one_torch_thread):
    page, report = open_page(browser, translator_page.url, "index.html")
    try:
        wait_for_views(page, 1)
        view = page.locator(".attnbook-tview")
        translation = view.locator('[data-testid="translation"]')
        type_number(page, "123456")
        want = translate.translate(models["at"], [123456])[0]
        steps = len(want) + 1  # every character, then END
        assert view.locator(".tview-step-label").text_content() == f"{steps} of {steps}"
        # Every layer and head of the three kinds of attention: 3 kinds x 2 layers x 4 heads.
        maps = view.locator("canvas.tview-map")
        assert maps.count() == 3
        assert [maps.nth(i).get_attribute("data-maps") for i in range(3)] == ["8"] * 3
        # The causal mask: the decoder's self-attention draws only cells on or below the
        # diagonal, so its 8 maps hold T(T+1)/2 cells each.
        self_maps = view.locator(".tview-section").nth(1).locator("canvas.tview-map")
        assert self_maps.get_attribute("data-cells") == str(steps * (steps + 1) // 2)
        # Stepping back shows fewer rows; the first step reads BEGIN only.
        view.locator("input.tview-range").fill("0")
        assert view.locator(".tview-step-label").text_content() == f"1 of {steps}"
        assert self_maps.first.get_attribute("data-cells") == "1"
        assert view.locator(".tview-step .tview-chip").first.text_content() == "BEGIN"
        view.locator(".tview-next").click()
        assert view.locator(".tview-step-label").text_content() == f"2 of {steps}"
        left, top, cell = map(float, self_maps.first.get_attribute("data-grid").split())
        self_maps.first.hover(position={"x": left + cell / 2, "y": top + cell / 2})
        readout = view.locator(".tview-readout")
        assert readout.text_content().startswith("layer 1, head 1: BEGIN → BEGIN: ")
        # The keyboard reaches every cell; the cells the causal mask hides say so.
        self_maps.focus()
        page.keyboard.press("ArrowRight")
        assert readout.text_content().endswith("masked (the causal mask hides later inputs)")
        page.keyboard.press("ArrowDown")
        assert readout.text_content().startswith("layer 1, head 1: ")
        assert "masked" not in readout.text_content()
        # NAT: the length, then one step per mask-predict pass.
        view.locator('button[data-kind="nat"]').click()
        assert translation.get_attribute("data-state") == "done"
        nat = translate.translate(models["nat"], [123456])[0]
        assert translation.text_content() == nat
        k = translate.NAT_ITERATIONS
        assert view.locator(".tview-step-label").text_content() == f"{k + 1} of {k + 1}"
        assert view.locator('.tview-beam[aria-pressed]').first.is_disabled()
        # More mask-predict passes: one step more each.
        view.locator('button[data-passes="3"]').click()
        assert view.locator(".tview-step-label").text_content() == "4 of 4"
        assert translation.text_content() == translate.translate(models["nat"], [123456],
                                                                 iterations=3)[0]
        view.locator(f'button[data-passes="{k}"]').click()
        # Beam search, size 3: the beams kept are listed at each step.
        view.locator('button[data-kind="at"]').click()
        view.locator('button[data-beam="3"]').click()
        assert translation.get_attribute("data-state") == "done"
        assert translation.text_content() == translate.translate(models["at"], [123456], 3)[0]
        assert 1 <= view.locator(".tview-beam-row").count() <= 6
        # Teacher forcing: the decoder input is the true prefix.
        view.locator('button[data-beam="1"]').click()
        view.locator(".tview-tf-box").check()
        assert translation.text_content() == want  # the translation stays the free-running one
        view.locator("input.tview-range").fill("2")
        chips = view.locator(".tview-step .tview-chip").all_text_contents()
        assert chips == ["BEGIN", *numerals.to_chinese(123456)[:2]]
        assert "Teacher forcing" in view.locator(".tview-explain").text_content()
    finally:
        page.context.close()
    assert not report.problems(), "\n".join(report.problems())


def test_translator_with_the_sites_static_renderer(browser, tmp_path, view, models):
    """The website draws anywidget views with its own small renderer (widgets-static.js),
    not the widget manager: the view works there too."""
    import json

    from ipywidgets.embed import embed_data

    if not (VENDOR / "widgets-static.js").exists():
        pytest.fail("no vendor/widgets-static.js in _assets/vendor: run `make book` first")
    data = embed_data(views=[view], drop_defaults=False)
    (tmp_path / "vendor").symlink_to(VENDOR, target_is_directory=True)
    specs = "".join(f'<script type="{WIDGET_VIEW}">{json.dumps(s)}</script>'
                    for s in data["view_specs"])
    (tmp_path / "index.html").write_text(
        f"""<!doctype html><html><head><meta charset="utf-8"><title>static</title>
<script src="vendor/widgets-static.js"></script>
<script type="application/vnd.jupyter.widget-state+json">{json.dumps(data["manager_state"])}
</script></head><body>{specs}</body></html>""", encoding="utf-8")
    server = LocalServer(tmp_path)
    try:
        page, report = open_page(browser, server.url, "index.html")
        try:
            wait_for_views(page, 1)
            translation = page.locator('[data-testid="translation"]')
            page.wait_for_function("() => document.querySelector("
                                   "'[data-testid=translation]')?.dataset.state === 'done'")
            type_number(page, "100000")
            assert translation.get_attribute("data-state") == "done"
            assert translation.text_content() == translate.translate(models["at"], [100000])[0]
            type_number(page, "abc")
            assert translation.get_attribute("data-state") == "error"
            assert page.locator('[data-testid="message"]').text_content()
            # A switch decodes the last good number again (the box held bad input).
            page.locator('button[data-kind="nat"]').click()
            assert translation.get_attribute("data-state") == "done"
            assert page.locator('input[name="number"]').input_value() == "100000"
            assert translation.text_content() == translate.translate(models["nat"], [100000])[0]
            type_number(page, "101000")
            assert translation.text_content() == translate.translate(models["nat"], [101000])[0]
            assert page.locator("script[src*='require.js']").count() == 0  # no widget manager
        finally:
            page.context.close()
    finally:
        server.close()
    assert not report.problems(), "\n".join(report.problems())


@pytest.mark.parametrize("mode", ["light", "dark"])
def test_translator_is_readable_in_both_themes(browser, translator_page, mode):
    page, report = open_page(browser, translator_page.url, "index.html", color_scheme=mode)
    try:
        wait_for_views(page, 1)
        page.evaluate(f"document.documentElement.dataset.theme = '{mode}'")
        view = page.locator(".attnbook-tview")
        type_number(page, "1,000,000")
        assert_readable(view, ((".tview-token", "fill"), (".tview-translation", "color"),
                               (".tview-message", "color"), (".tview-name", "color"),
                               ('.ab-choice[aria-pressed="false"]', "color")), mode)
    finally:
        page.context.close()
    assert not report.problems(), "\n".join(report.problems())
