"""Tests of attnbook.efficient (chapter 7): each cheaper attention against the full one, the
masks they respect, and the memory and time measurements."""

from __future__ import annotations

import pytest
import torch

from attnbook import efficient as E
from attnbook.attention import scaled_dot_product_attention
from attnbook.masks import causal_mask, padding_mask, window_mask


def qkv(*shape_q, lk=None, dv=None, dtype=torch.float64, seed=0):
    """Random q [..., Lq, d], k [..., Lk, d], v [..., Lk, dv]."""
    g = torch.Generator().manual_seed(seed)
    *batch, lq, d = shape_q
    lk = lq if lk is None else lk
    dv = d if dv is None else dv
    q = torch.randn(*batch, lq, d, generator=g, dtype=dtype)
    k = torch.randn(*batch, lk, d, generator=g, dtype=dtype)
    v = torch.randn(*batch, lk, dv, generator=g, dtype=dtype)
    return q, k, v


def reference(q, k, v, mask=None):
    return scaled_dot_product_attention(q, k, v, mask)[0]


# ------------------------------------------------------------------------------ full


def test_full_attention_is_the_book_attention_without_weights():
    q, k, v = qkv(2, 3, 9, 4, lk=7, dv=5)
    mask = torch.rand(9, 7, generator=torch.Generator().manual_seed(1)) > 0.3
    torch.testing.assert_close(E.full_attention(q, k, v), reference(q, k, v))
    torch.testing.assert_close(E.full_attention(q, k, v, mask), reference(q, k, v, mask))


def test_shape_errors_name_the_shapes():
    q, k, v = qkv(5, 4)
    with pytest.raises(ValueError, match="same size"):
        E.full_attention(q, k[..., :3], v)
    with pytest.raises(ValueError, match="every key needs a value"):
        E.tiled_attention(q, k, v[:3])
    with pytest.raises(ValueError, match="as many keys as queries"):
        E.local_attention(q, k[:3], v[:3], 1)


# ------------------------------------------------------------------------------ tiled


@pytest.mark.parametrize("block_size", [1, 3, 16, 64, (5, 2), (64, 7)])
@pytest.mark.parametrize("lq,lk", [(1, 1), (13, 13), (40, 23), (7, 50)])
def test_tiled_equals_full(block_size, lq, lk):
    q, k, v = qkv(2, 3, lq, 8, lk=lk, dv=6)
    torch.testing.assert_close(E.tiled_attention(q, k, v, block_size=block_size),
                               reference(q, k, v), rtol=0, atol=1e-12)


def test_tiled_equals_full_in_float32_to_1e_5():
    """The chapter's claim, at the chapter's scale (q = k = v, n = 1024, d = 64)."""
    x = torch.randn(1, 1024, 64, generator=torch.Generator().manual_seed(1))
    diff = (E.tiled_attention(x, x, x) - E.full_attention(x, x, x)).abs().max()
    assert diff < 1e-5


@pytest.mark.parametrize("name", ["causal", "window", "padding", "random", "empty rows"])
def test_tiled_respects_masks(name):
    n = 29
    q, k, v = qkv(3, n, 4)
    g = torch.Generator().manual_seed(2)
    masks = {
        "causal": causal_mask(n),
        "window": window_mask(n, 3),
        "padding": padding_mask([29, 17, 5], n)[:, None, :],  # (3, 1, n): per sequence
        "random": torch.rand(3, n, n, generator=g) > 0.7,
        "empty rows": causal_mask(n) & (torch.arange(n)[:, None] % 4 != 0),
    }
    mask = masks[name]
    expected = reference(q, k, v, mask)
    got = E.tiled_attention(q, k, v, mask=mask, block_size=(6, 4))
    torch.testing.assert_close(got, expected, rtol=0, atol=1e-12)
    if name == "empty rows":  # a query with no key left gets zeros, never NaN
        assert torch.equal(got[:, ::4], torch.zeros_like(got[:, ::4]))


def test_tiled_causal_flag_equals_the_causal_mask():
    q, k, v = qkv(2, 37, 8)
    torch.testing.assert_close(E.tiled_attention(q, k, v, causal=True, block_size=8),
                               reference(q, k, v, causal_mask(37)), rtol=0, atol=1e-12)


def test_tiled_changing_a_masked_key_changes_nothing():
    q, k, v = qkv(20, 4)
    mask = window_mask(20, 2)
    before = E.tiled_attention(q, k, v, mask=mask, block_size=4)
    k2, v2 = k.clone(), v.clone()
    k2[10], v2[10] = 100.0, -100.0  # key 10 is visible only to queries 8..12
    after = E.tiled_attention(q, k2, v2, mask=mask, block_size=4)
    unchanged = (torch.arange(20) - 10).abs() > 2
    torch.testing.assert_close(after[unchanged], before[unchanged], rtol=0, atol=0)
    assert not torch.allclose(after[~unchanged], before[~unchanged])


def test_tiled_gradients_equal_full_gradients():
    q, k, v = (t.requires_grad_() for t in qkv(2, 19, 4))
    grads = torch.autograd.grad(E.tiled_attention(q, k, v, block_size=5).square().sum(),
                                (q, k, v))
    expected = torch.autograd.grad(reference(q, k, v).square().sum(), (q, k, v))
    for g, e in zip(grads, expected, strict=True):
        torch.testing.assert_close(g, e)


def test_tiled_rejects_a_mask_that_does_not_fit():
    q, k, v = qkv(6, 4)
    with pytest.raises(ValueError, match="does not broadcast"):
        E.tiled_attention(q, k, v, mask=torch.ones(5, 6, dtype=torch.bool))
    with pytest.raises(ValueError, match="bool"):
        E.tiled_attention(q, k, v, mask=torch.ones(6, 6))
    with pytest.raises(ValueError, match="block_size"):
        E.tiled_attention(q, k, v, block_size=0)


def test_online_softmax_equals_softmax():
    g = torch.Generator().manual_seed(3)
    scores = 20 * torch.randn(4, 50, generator=g, dtype=torch.float64)
    for block in (1, 7, 50, 64):
        torch.testing.assert_close(E.online_softmax(scores, block), scores.softmax(-1))
    masked = scores.masked_fill(torch.rand(4, 50, generator=g) > 0.5, float("-inf"))
    masked[0] = float("-inf")  # a row with nothing to attend to
    got = E.online_softmax(masked, 8)
    assert torch.equal(got[0], torch.zeros(50, dtype=torch.float64))
    torch.testing.assert_close(got[1:], masked[1:].softmax(-1))


# ------------------------------------------------------------------------------ local


@pytest.mark.parametrize("window", [0, 1, 4, 9, 40])
@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize("block_size", [None, 3])
def test_local_equals_full_with_the_window_mask(window, causal, block_size):
    q, k, v = qkv(2, 23, 8, dv=5)
    expected = reference(q, k, v, window_mask(23, window, causal=causal))
    got = E.local_attention(q, k, v, window, causal=causal, block_size=block_size)
    torch.testing.assert_close(got, expected, rtol=0, atol=1e-12)


def test_local_ignores_keys_outside_the_window():
    q, k, v = qkv(30, 4)
    before = E.local_attention(q, k, v, window=3)
    k2, v2 = k.clone(), v.clone()
    k2[0], v2[0] = 50.0, 50.0
    after = E.local_attention(q, k2, v2, window=3)
    torch.testing.assert_close(after[4:], before[4:], rtol=0, atol=0)  # too far from key 0
    assert not torch.allclose(after[:4], before[:4])


def test_local_gradients_are_finite():
    q, k, v = (t.requires_grad_() for t in qkv(1, 10, 4))
    grads = torch.autograd.grad(E.local_attention(q, k, v, 0).sum(), (q, k, v))
    assert all(torch.isfinite(g).all() for g in grads)


# ------------------------------------------------------------------------------ linear


@pytest.mark.parametrize("feature_map", ["elu", "relu", torch.exp])
@pytest.mark.parametrize("causal", [False, True])
def test_linear_attention_equals_its_quadratic_form(feature_map, causal):
    q, k, v = qkv(2, 17, 6, dv=3)
    weights = E.kernel_attention_weights(q, k, feature_map, causal=causal)
    torch.testing.assert_close(E.linear_attention(q, k, v, feature_map, causal=causal),
                               weights @ v)
    rows = weights.sum(-1)
    assert torch.all((rows - 1).abs() < 1e-9) or feature_map == "relu"


def test_linear_attention_is_a_different_attention():
    """Its weights are φ(q)·φ(k) normalized, not a softmax: close in spirit, not in value."""
    q, k, v = qkv(12, 4)
    assert not torch.allclose(E.linear_attention(q, k, v), reference(q, k, v), atol=1e-3)
    phi_q, phi_k = torch.nn.functional.elu(q) + 1, torch.nn.functional.elu(k) + 1
    weights = phi_q @ phi_k.T
    torch.testing.assert_close(E.kernel_attention_weights(q, k),
                               weights / weights.sum(-1, keepdim=True))


def test_linear_attention_rejects_unknown_feature_maps():
    q, k, v = qkv(5, 4)
    with pytest.raises(ValueError, match="feature_map"):
        E.linear_attention(q, k, v, "tanh")
