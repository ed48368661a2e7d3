"""attnbook.layers is PyTorch's modules written out: equal outputs, weights and gradients."""

from __future__ import annotations

import itertools

import pytest
import torch
from torch import nn

from attnbook.layers import DecoderLayer, EncoderLayer, MultiHeadAttention, keep_weights
from attnbook.masks import causal_mask, padding_mask, to_torch_blocked

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
