"""attnbook.masks and attnbook.attention: the convention, equality to PyTorch, no NaN."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from attnbook.attention import masked_softmax, scaled_dot_product_attention
from attnbook.masks import causal_mask, padding_mask, to_torch_blocked, window_mask


def test_causal_mask_is_true_on_and_below_the_diagonal():
    m = causal_mask(4)
    assert m.dtype == torch.bool and m.shape == (4, 4)
    assert m.tolist() == [[True, False, False, False], [True, True, False, False],
                          [True, True, True, False], [True, True, True, True]]
    with pytest.raises(ValueError, match="positive length, got n=0"):
        causal_mask(0)


def test_padding_mask_marks_real_tokens():
    m = padding_mask([3, 1, 0], 4)
    assert m.dtype == torch.bool and m.shape == (3, 4)
    assert m.sum(dim=1).tolist() == [3, 1, 0]
    assert m[0].tolist() == [True, True, True, False]
    assert padding_mask(torch.tensor([2, 5])).shape == (2, 5)  # max_len defaults to the longest
    with pytest.raises(ValueError, match="a length of 5 does not fit max_len=4"):
        padding_mask([5], 4)
    with pytest.raises(ValueError, match="lengths must be >= 0"):
        padding_mask([-1], 4)


def test_window_mask_and_torch_convention():
    w = window_mask(5, 1)
    assert w.sum(dim=1).tolist() == [2, 3, 3, 3, 2]
    assert ((w & causal_mask(5)) == window_mask(5, 1, causal=True)).all()
    assert (to_torch_blocked(causal_mask(3)) == torch.ones(3, 3).triu(1).bool()).all()


@pytest.mark.parametrize("mask_kind", ["none", "causal", "padding", "random"])
def test_equals_torch_sdpa(mask_kind):
    g = torch.Generator().manual_seed(0)
    q, k = torch.randn(2, 3, 6, 8, generator=g), torch.randn(2, 3, 6, 8, generator=g)
    v = torch.randn(2, 3, 6, 5, generator=g)
    mask = {"none": None, "causal": causal_mask(6),
            "padding": padding_mask([6, 4], 6)[:, None, None, :],
            "random": (torch.rand(2, 3, 6, 6, generator=g) < 0.5) | torch.eye(6).bool()}[mask_kind]
    out, weights = scaled_dot_product_attention(q, k, v, mask)
    torch.testing.assert_close(out, F.scaled_dot_product_attention(q, k, v, attn_mask=mask),
                               atol=1e-6, rtol=1e-5)
    torch.testing.assert_close(weights.sum(-1), torch.ones(2, 3, 6))
    if mask is not None:
        assert (weights[~mask.expand_as(weights)] == 0).all()


def test_fully_masked_query_gets_zeros_not_nan():
    q = k = v = torch.randn(1, 3, 4)
    mask = torch.tensor([[True, True, False], [False, False, False], [True, False, False]])
    out, weights = scaled_dot_product_attention(q, k, v, mask)
    assert torch.isfinite(out).all() and torch.isfinite(weights).all()
    assert (weights[0, 1] == 0).all() and (out[0, 1] == 0).all()
    assert weights[0, 2].tolist() == [1.0, 0.0, 0.0]
    q.requires_grad_()
    out, _ = scaled_dot_product_attention(q, k, v, mask)
    out.sum().backward()
    assert torch.isfinite(q.grad).all()  # the backward pass is NaN-free too


def test_errors_name_the_shapes():
    q = torch.randn(2, 4, 8)
    with pytest.raises(ValueError, match=r"same size: q \(2, 4, 8\), k \(2, 4, 7\)"):
        scaled_dot_product_attention(q, torch.randn(2, 4, 7), torch.randn(2, 4, 8))
    with pytest.raises(ValueError, match=r"every key needs a value"):
        scaled_dot_product_attention(q, q, torch.randn(2, 5, 8))
    with pytest.raises(ValueError, match=r"mask of shape \(3, 3\) does not broadcast .*"
                                         r"\(2, 4, 4\)"):
        scaled_dot_product_attention(q, q, q, causal_mask(3))
    with pytest.raises(ValueError, match="bool tensor .* got torch.float32"):
        masked_softmax(torch.zeros(2, 2), torch.zeros(2, 2))
