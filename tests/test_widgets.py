"""Unit tests of attnbook.widgets (the Python side of AttentionMap, DecodingView and
MemoryView, and how their front ends are assembled; the pages are tested in
tests/test_browser*.py)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
import torch
import traitlets

from attnbook.widgets import AttentionMap, DecodingView, MemoryView, TranslatorView
from attnbook.widgets.memory_view import format_bytes

WIDGETS = Path(__file__).resolve().parent.parent / "src" / "attnbook" / "widgets"
TOKENS = ["the", "cat", "sat", "down"]


def softmax_rows(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


@pytest.fixture
def heads() -> np.ndarray:
    rng = np.random.default_rng(0)
    return softmax_rows(rng.normal(size=(3, 4, 4)))  # (heads, Lq, Lk)


def test_self_attention_defaults(heads):
    view = AttentionMap(heads, TOKENS)
    assert view.row_tokens == TOKENS and view.col_tokens == TOKENS
    assert view.axes == ["head"]
    assert view.axis_labels == [["0", "1", "2"]]
    assert view.selection == [0]
    assert view.shape == (3, 4, 4)
    assert view.view == "heatmap"
    assert view.vmax == pytest.approx(heads.max(), abs=1e-3)


def test_weights_are_sent_rounded_and_in_order(heads):
    view = AttentionMap(heads, TOKENS, decimals=3)
    sent = np.array(view.weights)
    assert sent.shape == (3, 4, 4)
    np.testing.assert_allclose(sent, heads, atol=5e-4)
    assert np.array_equal(sent, np.round(sent, 3))


def test_leading_axes_flatten_row_major_and_selection_picks_the_map():
    w = softmax_rows(np.random.default_rng(1).normal(size=(2, 3, 4, 5)))  # (layer, head, q, k)
    view = AttentionMap(w, TOKENS, list("abcde"), axis_labels=[["L1", "L2"], ["h1", "h2", "h3"]])
    assert view.axes == ["layer", "head"]
    for layer in range(2):
        for head in range(3):
            view.selection = [layer, head]
            np.testing.assert_allclose(view.current(), w[layer, head], atol=5e-4)


def test_torch_tensors_are_accepted():
    w = torch.softmax(torch.randn(4, 4), dim=-1)
    view = AttentionMap(w, TOKENS)
    np.testing.assert_allclose(view.current(), w.numpy(), atol=5e-4)
    assert view.axes == []


def test_cross_attention_has_its_own_column_tokens():
    view = AttentionMap(np.full((2, 3), 1 / 3), ["一", "千"], ["1", "0", "0"])
    assert view.col_tokens == ["1", "0", "0"]
    assert view.shape == (2, 3)


@pytest.mark.parametrize(
    ("weights", "rows", "cols", "message"),
    [
        (np.ones((3, 4)), TOKENS, None, r"weights shape \(3, 4\) does not match the tokens: "
         r"expected \(\.\.\., 4, 4\)"),
        (np.ones((4, 3)), TOKENS, ["a", "b"], r"expected \(\.\.\., 4, 2\)"),
        (np.ones(4), TOKENS, None, r"at least 2 dimensions .* got shape \(4,\)"),
        (np.full((4, 4), np.nan), TOKENS, None, "NaN or infinity"),
        (-np.ones((4, 4)), TOKENS, None, "non-negative; the smallest is -1"),
        (np.ones((4, 4)), [], None, "row_tokens is empty"),
        (np.ones((4, 4)), "the cat sat down", None, "list of strings"),
        ([[1, 2], [3]], ["a", "b"], None, "rectangular"),
    ],
)
def test_bad_input_names_the_problem(weights, rows, cols, message):
    with pytest.raises(ValueError, match=message):
        AttentionMap(weights, rows, cols)


def test_axes_and_labels_must_fit(heads):
    with pytest.raises(ValueError, match=r"names 2 axes but .* have 1 leading axes"):
        AttentionMap(heads, TOKENS, axes=["layer", "head"])
    with pytest.raises(ValueError, match=r"\[2\] labels per axis .* sizes \[3\]"):
        AttentionMap(heads, TOKENS, axis_labels=[["a", "b"]])
    with pytest.raises(ValueError, match="view='grid' is not one of"):
        AttentionMap(heads, TOKENS, view="grid")


def test_selection_out_of_range_is_refused(heads):
    view = AttentionMap(heads, TOKENS)
    with pytest.raises(traitlets.TraitError, match=r"selection=\[3\] does not fit"):
        view.selection = [3]
    with pytest.raises(traitlets.TraitError, match="does not fit"):
        view.selection = [0, 0]


def test_update_replaces_everything_together(heads):
    view = AttentionMap(heads, TOKENS)
    view.selection = [2]
    view.update(np.eye(2), ["x", "y"])
    assert view.shape == (2, 2) and view.axes == [] and view.selection == []
    with pytest.raises(ValueError, match="does not match the tokens"):
        view.update(np.eye(3), ["x", "y"])
    assert view.shape == (2, 2)  # a refused update changes nothing


def test_tokens_are_data_not_markup():
    """Tokens travel as plain strings; the front end sets them with textContent only."""
    evil = "<img src=x onerror=alert(1)>"
    view = AttentionMap(np.eye(2), [evil, "ok"])
    assert view.row_tokens[0] == evil
    source = view._esm  # the front end's code, as sent to the page
    assert "innerHTML" not in source and "insertAdjacentHTML" not in source
    assert "textContent" in source


def test_state_is_json_and_repr_is_deterministic(heads):
    view = AttentionMap(heads, TOKENS, title="layer 1")
    state = view.get_state()
    json.dumps({k: v for k, v in state.items() if not k.startswith("_")})
    assert repr(view) == "AttentionMap(4 query × 4 key, head=3)"
    assert not re.search(r"0x[0-9a-f]+", repr(view))
    bundle = view._repr_mimebundle_()
    data = bundle[0] if isinstance(bundle, tuple) else bundle
    assert data["text/plain"] == repr(view)


# ----------------------------------------------------------------- the front end, assembled


@pytest.mark.parametrize("view", [AttentionMap, DecodingView, MemoryView, TranslatorView])
def test_each_front_end_is_the_shared_code_then_the_view(view):
    """One ES module and one stylesheet per view: shared.js / shared.css, then the view's
    own file; the helpers are defined once and the module has one default export."""
    name = view.__module__.rsplit(".", 1)[1]
    shared_js = (WIDGETS / "shared.js").read_text(encoding="utf-8")
    own_js = (WIDGETS / f"{name}.js").read_text(encoding="utf-8")
    code = str(view._esm)
    assert code.startswith(shared_js) and code.endswith(own_js)
    assert len(re.findall(r"^export default ", code, re.M)) == 1
    assert not re.search(r"^export ", shared_js, re.M)
    for helper in ("function el(", "function svgEl(", "function fmt(", "function saveChanges(",
                   "function redrawOnChange(", "const SVG_NS"):
        assert code.count(helper) == 1, helper
    assert "save_changes" not in own_js  # the kernel-less guard is shared.js's saveChanges
    assert "model.on(" not in own_js  # redraws go through redrawOnChange, one per batch
    style = str(view._css)
    shared_css = (WIDGETS / "shared.css").read_text(encoding="utf-8")
    assert style.startswith(shared_css) and style.endswith(
        (WIDGETS / f"{name}.css").read_text(encoding="utf-8"))
    assert style.count(".attnbook-view {") == 1 and "--pst-color-background" in shared_css
    assert 'class: "attnbook-view ' in own_js  # the root gets the shared block


def test_interactive_svgs_are_not_images():
    """role="img" would hide the focusable cells and tokens from assistive technology."""
    code = (WIDGETS / "attention_map.js").read_text(encoding="utf-8")
    assert 'role: "img"' not in code and code.count('role: "group"') >= 2
    assert "arrow keys" in code and "Tab" in code  # the hint says what the keys do


# ------------------------------------------------------------------------ DecodingView


class FakeRecord:
    """What the views read of a decoding record (labs' DecodingRecord has these): two steps
    that chose 一 then END, with self- and cross-attention of 1 layer and 2 heads."""

    vocab = ("PAD", "BEGIN", "END", "MASK", "一")
    source = ("1",)
    choices = (4, 2)
    probs = np.array([[0.0, 0.0, 0.1, 0.0, 0.9], [0.0, 0.0, 0.8, 0.0, 0.2]])  # (steps, vocab)
    inputs = ["BEGIN", "一"]
    outputs = ["一", "END"]

    def step_maps(self, kind):
        keys = 1 if kind == "cross" else 2
        maps = np.full((2, 1, 2, 2, keys), 1.0 / keys)  # (steps, layers, heads, rows, keys)
        maps[0, :, :, 1] = 0  # the second row is not decoded at the first step
        return maps


def test_decoding_view_from_records():
    view = DecodingView.from_records([FakeRecord(), FakeRecord()], title="steps")
    assert view.title == "steps" and [e["source"] for e in view.examples] == ["1", "1"]
    assert [FakeRecord.vocab[i] for i in view.shown] == ["END", "一"]
    assert view.examples[0]["choices"] == [4, 2]
    np.testing.assert_allclose(view.examples[0]["probs"], FakeRecord.probs[:, [2, 4]])
    assert view.inputs(0, 1) == ["BEGIN", "一"] and view.output(0) == ["一", "END"]
    json.dumps(view.get_state(), default=str)  # what the page receives is plain JSON
    with pytest.raises(ValueError, match="at least one record"):
        DecodingView.from_records([])


def test_attention_map_from_decoding():
    record = FakeRecord()
    cross = AttentionMap.from_decoding(record, "cross", title="cross")
    assert cross.title == "cross" and cross.axes == ["step", "layer", "head"]
    assert cross.row_tokens == ["一", "END"] and cross.col_tokens == ["1"]
    assert cross.shape == (2, 1, 2, 2, 1) and cross.vmax == 1.0
    assert cross.axis_labels == [["1: 一", "2: END"], ["1"], ["1", "2"]]
    assert (cross.row_name, cross.col_name) == ("output", "digit")
    own = AttentionMap.from_decoding(record, "self")
    assert own.row_tokens == own.col_tokens == ["BEGIN", "一"]
    own.selection = [1, 0, 1]
    np.testing.assert_allclose(own.current(), np.full((2, 2), 0.5))


TOY_VOCAB = ["PAD", "BEGIN", "END", "MASK", "x"]


@pytest.mark.parametrize(("examples", "message"), [
    ([], "examples is empty"),
    ([("1", np.ones((2, 3)), [0, 1])], "shape"),
    ([("1", np.full((2, 5), np.nan), [2, 4])], "finite"),
    ([("1", np.ones((2, 5)), [2])], "1 choices for 2 steps"),
    ([("1", np.ones((1, 5)), [0])], "hidden"),
    ([("1", np.ones((1, 5)), [9])], "hidden or not token ids"),
    ([("1", [[1, 2], [3]], [2, 2])], "example 0: probs must be numbers"),
    (["abc"], "must be"),
])
def test_decoding_view_names_bad_input(examples, message):
    with pytest.raises(ValueError, match=message):
        DecodingView(examples, TOY_VOCAB)


def test_decoding_view_selection_is_validated():
    view = DecodingView([("1", np.full((3, 5), 0.2), [4, 4, 2])], TOY_VOCAB)
    assert [TOY_VOCAB[i] for i in view.shown] == ["END", "x"]
    view.step = 2
    with pytest.raises(traitlets.TraitError, match="step=3"):
        view.step = 3
    with pytest.raises(traitlets.TraitError, match="example=1"):
        view.example = 1
    with pytest.raises(ValueError, match="hide_tokens"):
        DecodingView([("1", np.ones((1, 5)), [2])], TOY_VOCAB, hide_tokens=["nope"])
    assert repr(view) == "DecodingView(1 examples, steps [3], 2 tokens shown)"


# -------------------------------------------------------------------------- MemoryView


@pytest.mark.parametrize("n,text", [(0, "0 B"), (1023, "1023 B"), (1024, "1.00 KiB"),
                                    (1152, "1.13 KiB"), (1536, "1.50 KiB"),
                                    (10 * 1024, "10.0 KiB"), (34078720, "32.5 MiB"),
                                    (16 * 2**30, "16.0 GiB"), (2**50 * 5000, "5000 PiB")])
def test_format_bytes(n, text):
    assert format_bytes(n) == text


def test_memory_view_state_and_validation():
    view = MemoryView([256, 512], ["full", "tiled"], [[1e6, 1e4], [4e6, 2e4]],
                      measured=[[1e6, None], [None, None]], budget=2**34, budget_label="16 GiB",
                      title="memory")
    assert view.sizes == [256, 512] and view.values[1] == [4e6, 2e4]
    assert view.measured == [[1e6, None], [None, None]]
    assert view.current() == {"full": 1e6, "tiled": 1e4}
    view.index = 1
    assert view.current()["full"] == 4e6
    with pytest.raises(traitlets.TraitError):
        view.index = 2
    assert repr(view) == "MemoryView(2 methods × 2 sizes, n = 256…512)"
    with pytest.raises(ValueError, match="increasing"):
        MemoryView([512, 256], ["a"], [[1], [2]])
    with pytest.raises(ValueError, match="values must be"):
        MemoryView([1, 2], ["a", "b"], [[1, 2]])
    with pytest.raises(ValueError, match="> 0"):
        MemoryView([1], ["a"], [[0]])
    with pytest.raises(ValueError, match="one string"):
        MemoryView([1], "ab", [[1, 2]])
    with pytest.raises(ValueError, match="budget"):
        MemoryView([1], ["a"], [[1]], budget=-1)
