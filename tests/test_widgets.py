"""Unit tests of attnbook.widgets.AttentionMap (the Python side; the page is tested in
tests/test_browser.py)."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
import torch
import traitlets

from attnbook.widgets import AttentionMap

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
