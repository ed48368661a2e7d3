"""attnbook.layers is PyTorch's modules written out: equal outputs, weights and gradients."""

from __future__ import annotations

import itertools

import pytest
import torch
from torch import nn

from attnbook.attention import scaled_dot_product_attention
from attnbook.layers import (
    DecoderCache,
    DecoderLayer,
    EncoderLayer,
    KVCache,
    MultiHeadAttention,
    keep_weights,
)
from attnbook.masks import causal_mask, padding_mask, to_torch_blocked
from attnbook.positional import RotaryEmbedding

ATOL = 1e-5
RTOL = 1e-5  # gradients of a squared sum reach ~100: compare them relatively too
D, H = 16, 4


def torch_mha(bias: bool = True, seed: int = 0) -> nn.MultiheadAttention:
    torch.manual_seed(seed)
    m = nn.MultiheadAttention(D, H, bias=bias, batch_first=True)
    if bias:  # PyTorch starts its biases at zero; random ones test that they are copied
        nn.init.normal_(m.in_proj_bias)
        nn.init.normal_(m.out_proj.bias)
    return m.eval()


def inputs(B=3, Lq=5, Lk=7, seed=1):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(B, Lq, D, generator=g), torch.randn(B, Lk, D, generator=g)


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("kind", ["self", "cross"])
@pytest.mark.parametrize("masking", ["none", "padding", "causal_or_random"])
def test_mha_equals_torch(bias, kind, masking):
    theirs = torch_mha(bias)
    ours = MultiHeadAttention.from_torch(theirs)
    x, memory = inputs()
    kv = x if kind == "self" else memory
    Lq, Lk = x.shape[1], kv.shape[1]
    mask = attn_mask = key_padding_mask = None
    if masking == "padding":
        keep = padding_mask([Lk, Lk - 2, 1], Lk)  # (B, Lk)
        mask = keep[:, None, :]  # (B, 1, Lk): every query sees the same keys
        key_padding_mask = to_torch_blocked(keep)
    else:  # causal for self-attention; for cross attention any (Lq, Lk) pattern
        g = torch.Generator().manual_seed(2)
        mask = causal_mask(Lq) if kind == "self" else torch.rand(Lq, Lk, generator=g) < 0.6
        mask[:, 0] = True  # every query keeps a key: PyTorch gives NaN otherwise
        attn_mask = to_torch_blocked(mask)
    expected, expected_w = theirs(x, kv, kv, key_padding_mask=key_padding_mask,
                                  attn_mask=attn_mask, average_attn_weights=False)
    got, got_w = ours(x, kv, kv, mask)
    torch.testing.assert_close(got, expected, atol=ATOL, rtol=RTOL)
    torch.testing.assert_close(got_w, expected_w, atol=ATOL, rtol=RTOL)
    assert got_w.shape == (3, H, Lq, Lk)
    fused, no_weights = ours(x, kv, kv, mask, need_weights=False)
    assert no_weights is None
    torch.testing.assert_close(fused, expected, atol=ATOL, rtol=RTOL)


@pytest.mark.parametrize("need_weights", [True, False])
def test_mha_gradients_equal_torch(need_weights):
    theirs = torch_mha()
    ours = MultiHeadAttention.from_torch(theirs)
    x, _ = inputs()
    x1, x2 = x.clone().requires_grad_(), x.clone().requires_grad_()
    mask = causal_mask(x.shape[1])
    theirs(x1, x1, x1, attn_mask=to_torch_blocked(mask))[0].pow(2).sum().backward()
    ours(x2, x2, x2, mask, need_weights=need_weights)[0].pow(2).sum().backward()
    torch.testing.assert_close(x2.grad, x1.grad, atol=ATOL, rtol=RTOL)
    w_q, w_k, w_v = theirs.in_proj_weight.grad.chunk(3)
    for ours_grad, theirs_grad in ((ours.q_proj.weight.grad, w_q), (ours.k_proj.weight.grad, w_k),
                                   (ours.v_proj.weight.grad, w_v),
                                   (ours.out_proj.weight.grad, theirs.out_proj.weight.grad)):
        torch.testing.assert_close(ours_grad, theirs_grad, atol=ATOL, rtol=RTOL)


def test_mha_errors_name_the_problem():
    with pytest.raises(ValueError, match="d_model=10 is not divisible by num_heads=3"):
        MultiHeadAttention(10, 3)
    m = MultiHeadAttention(D, H)
    x, _ = inputs()
    with pytest.raises(ValueError, match=r"mask of shape \(4, 4\) does not broadcast .*"
                                         r"\(3, 5, 5\)"):
        m(x, x, x, causal_mask(4))
    with pytest.raises(ValueError, match="must be a bool tensor"):
        m(x, x, x, torch.ones(5, 5))
    with pytest.raises(ValueError, match=r"query must be \[batch, length, d_model=16\]"):
        m(x[..., :8], x, x)
    with pytest.raises(ValueError, match="batch_first=True"):
        MultiHeadAttention.from_torch(nn.MultiheadAttention(D, H))


def test_a_query_with_no_key_gets_zero_weights_on_both_paths():
    m = MultiHeadAttention(D, H).eval()
    x, _ = inputs()
    mask = torch.ones(3, 5, 5, dtype=torch.bool)
    mask[1, 2] = False  # query 2 of sequence 1 may see nothing
    out, w = m(x, x, x, mask)
    assert torch.isfinite(out).all()
    assert (w[1, :, 2] == 0).all()
    torch.testing.assert_close(out[1, 2], m.out_proj.bias)  # zero mix of values, then Wo
    fused, _ = m(x, x, x, mask, need_weights=False)
    torch.testing.assert_close(fused, out)


def torch_layers(kind: str, norm_first: bool, activation: str, eps: float):
    torch.manual_seed(0)
    cls = nn.TransformerEncoderLayer if kind == "encoder" else nn.TransformerDecoderLayer
    layer = cls(D, H, dim_feedforward=32, dropout=0.0, activation=activation,
                layer_norm_eps=eps, batch_first=True, norm_first=norm_first)
    with torch.no_grad():  # non-trivial norms and biases, so that copying them matters
        for name, p in layer.named_parameters():
            if "norm" in name or "bias" in name:
                p.add_(0.1 * torch.randn_like(p))
    return layer


COMBINATIONS = list(itertools.product([False, True], ["relu", "gelu"]))


@pytest.mark.parametrize("norm_first,activation", COMBINATIONS)
@pytest.mark.parametrize("mode", ["train", "eval"])
def test_encoder_layer_equals_torch(norm_first, activation, mode):
    theirs = torch_layers("encoder", norm_first, activation, eps=1e-6)
    ours = EncoderLayer.from_torch(theirs)
    theirs.train(mode == "train")  # eval may take PyTorch's fused fast path
    ours.train(mode == "train")
    x, _ = inputs(Lq=6)
    keep = padding_mask([6, 4, 2], 6)
    x1, x2 = x.clone().requires_grad_(), x.clone().requires_grad_()
    expected = theirs(x1, src_key_padding_mask=to_torch_blocked(keep))
    got = ours(x2, keep[:, None, :])
    real = keep[..., None]  # PyTorch's fast path leaves padded positions as zeros
    torch.testing.assert_close(got * real, expected * real, atol=ATOL, rtol=RTOL)
    if mode == "train":
        expected.pow(2).sum().backward()
        got.pow(2).sum().backward()
        torch.testing.assert_close(x2.grad, x1.grad, atol=ATOL, rtol=RTOL)
        torch.testing.assert_close(ours.feed_forward.linear1.weight.grad,
                                   theirs.linear1.weight.grad, atol=ATOL, rtol=RTOL)
        torch.testing.assert_close(ours.norm1.weight.grad, theirs.norm1.weight.grad,
                                   atol=ATOL, rtol=RTOL)


@pytest.mark.parametrize("norm_first,activation", COMBINATIONS)
def test_decoder_layer_equals_torch(norm_first, activation):
    theirs = torch_layers("decoder", norm_first, activation, eps=1e-5)
    ours = DecoderLayer.from_torch(theirs)
    y, memory = inputs(Lq=5, Lk=7)
    memory_keep = padding_mask([7, 5, 3], 7)
    y1, y2 = y.clone().requires_grad_(), y.clone().requires_grad_()
    m1, m2 = memory.clone().requires_grad_(), memory.clone().requires_grad_()
    expected = theirs(y1, m1, tgt_mask=to_torch_blocked(causal_mask(5)),
                      memory_key_padding_mask=to_torch_blocked(memory_keep))
    got = ours(y2, m2, self_mask=causal_mask(5), cross_mask=memory_keep[:, None, :])
    torch.testing.assert_close(got, expected, atol=ATOL, rtol=RTOL)
    expected.pow(2).sum().backward()
    got.pow(2).sum().backward()
    torch.testing.assert_close(y2.grad, y1.grad, atol=ATOL, rtol=RTOL)
    torch.testing.assert_close(m2.grad, m1.grad, atol=ATOL, rtol=RTOL)
    torch.testing.assert_close(ours.cross_attn.q_proj.weight.grad,
                               theirs.multihead_attn.in_proj_weight.grad[:D], atol=ATOL, rtol=RTOL)


def test_keep_weights_exposes_every_head():
    layer = DecoderLayer(D, H, 32, dropout=0.0).eval()
    y, memory = inputs(Lq=5, Lk=7)
    assert layer.self_attn.weights is None
    with keep_weights(layer) as attns:
        layer(y, memory, self_mask=causal_mask(5))
    names = [n for n, _ in attns]
    assert names == ["self_attn", "cross_attn"]
    assert layer.self_attn.weights.shape == (3, H, 5, 5)
    assert layer.cross_attn.weights.shape == (3, H, 5, 7)
    assert (layer.self_attn.weights.triu(1) == 0).all()  # no weight on the future
    assert not layer.self_attn.keep_weights  # switched off again after the block


def test_from_torch_rejects_unsupported_layers():
    with pytest.raises(ValueError, match="batch_first=True"):
        EncoderLayer.from_torch(nn.TransformerEncoderLayer(D, H))
    layer = nn.TransformerEncoderLayer(D, H, activation=torch.tanh, batch_first=True)
    with pytest.raises(ValueError, match="no counterpart"):
        EncoderLayer.from_torch(layer)
    with pytest.raises(ValueError, match="'relu' or 'gelu'"):
        EncoderLayer(D, H, activation="swish")


# ------------------------------------------------------------------- q/k hook and the KV cache


def test_qk_transform_is_applied_to_queries_and_keys_only():
    torch.manual_seed(0)
    m = MultiHeadAttention(D, H).eval()
    rope = RotaryEmbedding(m.d_head)
    x, _ = inputs(Lq=6)
    # The forward written out by hand, with RoPE between the projections and the scores.
    q, k, v = (m.split_heads(p(x)) for p in (m.q_proj, m.k_proj, m.v_proj))  # (B, h, L, dh)
    out, weights = scaled_dot_product_attention(rope(q), rope(k), v)
    expected = m.out_proj(m.merge_heads(out))
    m.qk_transform = rope.rotate_qk
    with keep_weights(m):
        got, got_w = m(x, x, x)
    torch.testing.assert_close(got, expected, atol=1e-6, rtol=1e-6)
    torch.testing.assert_close(got_w, weights)
    torch.testing.assert_close(m.weights, weights)
    fused, _ = m(x, x, x, need_weights=False)
    torch.testing.assert_close(fused, expected, atol=1e-5, rtol=1e-5)
    m.qk_transform = None
    assert not torch.allclose(m(x, x, x)[0], expected)
    calls = []
    built = MultiHeadAttention(D, H, qk_transform=lambda q, k: (calls.append(1) or (q, k)))
    built(x, x, x)
    assert calls == [1]


@pytest.mark.parametrize("rope", [False, True])
def test_self_attention_with_a_cache_equals_causal_attention(rope):
    torch.manual_seed(1)
    m = MultiHeadAttention(D, H).eval()
    if rope:
        m.qk_transform = RotaryEmbedding(m.d_head).rotate_qk
    x, _ = inputs(Lq=7)
    full, full_w = m(x, x, x, causal_mask(7))
    cache = KVCache()
    rows, row_w = [], []
    with keep_weights(m):
        for chunk in (x[:, :3], x[:, 3:4], x[:, 4:7]):  # 3 positions, then 1, then 3
            start, n = len(cache), chunk.shape[1]
            mask = causal_mask(start + n)[start:]  # (n, start + n): the new rows
            rows.append(m(chunk, chunk, chunk, mask, cache=cache)[0])
            row_w.append(m.weights)
            assert m.weights.shape == (3, H, n, start + n)
    assert len(cache) == 7 and cache.k.shape == (3, H, 7, D // H)
    torch.testing.assert_close(torch.cat(rows, 1), full, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(row_w[1], full_w[:, :, 3:4, :4], atol=1e-6, rtol=1e-5)


def test_kv_cache_static_and_select():
    cache = KVCache(static=True)
    k = torch.arange(2 * 3, dtype=torch.float).view(2, 1, 3, 1).expand(2, 1, 3, 4)
    assert cache.update(k, k)[0] is k and cache.filled
    assert cache.update(torch.zeros(2, 1, 1, 4), torch.zeros(2, 1, 1, 4))[0] is k  # reused
    cache.select(torch.tensor([1, 1, 0]))
    assert cache.k.shape == (3, 1, 3, 4) and cache.k[:, 0, 0, 0].tolist() == [3.0, 3.0, 0.0]
    grown = KVCache()
    assert len(grown) == 0 and not grown.filled
    m = MultiHeadAttention(D, H, qk_transform=lambda q, k: (q, k))
    x, memory = inputs()
    with pytest.raises(ValueError, match="static cache"):
        m(x, memory, memory, cache=KVCache(static=True))


@pytest.mark.parametrize("norm_first", [False, True])
def test_decoder_layer_with_a_cache_equals_the_whole_sequence(norm_first):
    torch.manual_seed(2)
    layer = DecoderLayer(D, H, 32, dropout=0.0, norm_first=norm_first).eval()
    y, memory = inputs(Lq=6, Lk=7)
    cross = padding_mask([7, 5, 3], 7)[:, None, :]  # (B, 1, S): a padded batch
    full = layer(y, memory, self_mask=causal_mask(6), cross_mask=cross)
    cache = DecoderCache()
    with keep_weights(layer):
        steps = []
        for t in range(6):  # one new position at a time: no self mask needed
            steps.append(layer(y[:, t:t + 1], memory, cross_mask=cross, cache=cache))
            assert layer.self_attn.weights.shape == (3, H, 1, t + 1)
            assert layer.cross_attn.weights.shape == (3, H, 1, 7)
            assert (layer.cross_attn.weights[2, :, :, 3:] == 0).all()
    assert len(cache) == 6 and len(cache.cross_attn) == 7
    torch.testing.assert_close(torch.cat(steps, 1), full, atol=1e-5, rtol=1e-5)
