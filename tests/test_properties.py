"""Properties of attention that hold for every shape and mask (hypothesis draws them)."""

from __future__ import annotations

import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from attnbook.attention import scaled_dot_product_attention
from attnbook.layers import EncoderLayer, MultiHeadAttention
from attnbook.masks import causal_mask

SETTINGS = settings(max_examples=40, deadline=None)


@st.composite
def attention_inputs(draw):
    """q, k, v and a random bool mask (some rows may be fully masked)."""
    batch = draw(st.integers(1, 3))
    lq, lk = draw(st.integers(1, 7)), draw(st.integers(1, 7))
    d, dv = draw(st.integers(1, 8)), draw(st.integers(1, 5))
    seed = draw(st.integers(0, 2**31 - 1))
    density = draw(st.floats(0.0, 1.0))
    g = torch.Generator().manual_seed(seed)
    q = torch.randn(batch, lq, d, generator=g) * 3
    k = torch.randn(batch, lk, d, generator=g) * 3
    v = torch.randn(batch, lk, dv, generator=g)
    mask = torch.rand(batch, lq, lk, generator=g) < density
    return q, k, v, mask


@SETTINGS
@given(attention_inputs())
def test_weights_are_distributions_and_masked_weights_are_exactly_zero(inputs):
    q, k, v, mask = inputs
    out, weights = scaled_dot_product_attention(q, k, v, mask)
    assert torch.isfinite(out).all() and torch.isfinite(weights).all()
    assert (weights[~mask] == 0).all()
    assert (weights >= 0).all()
    has_key = mask.any(dim=-1)
    torch.testing.assert_close(weights.sum(-1)[has_key], torch.ones(int(has_key.sum())))
    # A query with no key left gets all-zero weights and a zero output.
    assert (weights[~has_key] == 0).all() and (out[~has_key] == 0).all()


@SETTINGS
@given(st.integers(2, 9), st.sampled_from([(8, 2), (12, 3), (6, 6)]), st.integers(0, 10_000))
def test_self_attention_without_positions_is_permutation_equivariant(n, shape, seed):
    d_model, heads = shape
    torch.manual_seed(seed)
    layer = MultiHeadAttention(d_model, heads).eval()
    x = torch.randn(1, n, d_model)
    perm = torch.randperm(n)
    out, weights = layer(x, x, x)
    out_p, weights_p = layer(x[:, perm], x[:, perm], x[:, perm])
    torch.testing.assert_close(out_p, out[:, perm], atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(weights_p, weights[:, :, perm][:, :, :, perm], atol=1e-6,
                               rtol=1e-5)


@SETTINGS
@given(st.integers(2, 9), st.data(), st.booleans(), st.integers(0, 10_000))
def test_causal_output_at_t_ignores_inputs_after_t(n, data, norm_first, seed):
    t = data.draw(st.integers(0, n - 2))
    torch.manual_seed(seed)
    layer = EncoderLayer(8, 2, 16, dropout=0.0, norm_first=norm_first).eval()
    x = torch.randn(1, n, 8)
    changed = x.clone()
    changed[:, t + 1:] = torch.randn(1, n - t - 1, 8) * 5  # rewrite the future
    mask = causal_mask(n)
    before, after = layer(x, mask), layer(changed, mask)
    torch.testing.assert_close(after[:, : t + 1], before[:, : t + 1], atol=1e-5, rtol=1e-5)
    assert not torch.allclose(after[:, t + 1:], before[:, t + 1:])
