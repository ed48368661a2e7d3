"""Tests of attnbook.figures: the registry, deterministic SVGs, the committed figures/ files,
and the numbers of the seeded example that F3 and F5 show."""

from __future__ import annotations

import re
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from attnbook import figures  # noqa: E402
from attnbook.figures import FIGURES, draw, relevance_example, save_all, svg_bytes  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
COMMITTED = ROOT / "figures"
FIRST_IDS = ["F1", "F2", "F3", "F4", "F5"]


@pytest.fixture(scope="module")
def svgs() -> dict[str, bytes]:
    """Every figure rendered once to SVG (rendering is the slow part; share it)."""
    return {fig_id: svg_bytes(fig_id) for fig_id in FIGURES}


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
    for name in figures.__all__:
        obj = getattr(figures, name)
        if callable(obj) and not isinstance(obj, type):
            assert re.search(r"[Ii]ntroduced in chapter \d+", obj.__doc__ or ""), name


def test_no_cjk_characters_in_text():
    cjk = re.compile(r"[\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff\uff00-\uffef]")
    for fig_id in FIGURES:
        fig = draw(fig_id)
        for text in fig.findobj(matplotlib.text.Text):
            assert not cjk.search(text.get_text()), (fig_id, text.get_text())


def test_saving_twice_gives_identical_bytes(tmp_path, svgs):
    first = save_all(tmp_path / "a", ids=["F1", "F5"])
    second = save_all(tmp_path / "b", ids=["F1", "F5"])
    assert [p.name for p in first] == ["F1.svg", "F5.svg"]
    for a, b in zip(first, second, strict=True):
        assert a.read_bytes() == b.read_bytes()
        assert a.read_bytes() == svgs[a.stem]
    for fig_id, data in svgs.items():
        assert b"<dc:date>" not in data, fig_id


@pytest.mark.parametrize("fig_id", list(FIGURES))
def test_committed_svg_is_up_to_date(fig_id, svgs):
    path = COMMITTED / f"{fig_id}.svg"
    assert path.exists(), f"{path} is missing: run `make figures`"
    assert path.read_bytes() == svgs[fig_id], (
        f"{path} differs from what attnbook.figures draws now: run `make figures` "
        "(python -m attnbook.figures --out figures) and commit the result"
    )


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


def test_register_rejects_bad_ids_and_empty_text():
    with pytest.raises(ValueError):
        figures.figure("G1", alt="x", caption="y")
    with pytest.raises(ValueError):
        figures.figure("F100", alt=" ", caption="y")
    with pytest.raises(ValueError):
        figures.figure("F1", alt="x", caption="y")(lambda: None)


def test_command_line_writes_and_prints(tmp_path, capsys):
    figures.main(["--out", str(tmp_path), "F2"])
    assert capsys.readouterr().out.split() == [str(tmp_path / "F2.svg")]
    assert (tmp_path / "F2.svg").read_bytes().startswith(b"<?xml")
