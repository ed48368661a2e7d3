"""attnbook.numpy_ref: the notes' column convention agrees with PyTorch's row convention."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from attnbook.attention import scaled_dot_product_attention
from attnbook.layers import MultiHeadAttention
from attnbook.numpy_ref import multi_head_self_attention, self_attention


def example(d_in=6, d_k=4, d_v=5, n=7, seed=0):
    rng = np.random.default_rng(seed)
    return (rng.normal(size=(d_in, n)), rng.normal(size=(d_k, d_in)),
            rng.normal(size=(d_k, d_in)), rng.normal(size=(d_v, d_in)))


@pytest.mark.parametrize("scaled", [True, False])
def test_columns_are_the_transpose_of_torch_rows(scaled):
    I, Wq, Wk, Wv = example()
    O, A_prime = self_attention(I, Wq, Wk, Wv, scaled=scaled)
    assert O.shape == (5, 7) and A_prime.shape == (7, 7)
    np.testing.assert_allclose(A_prime.sum(axis=0), 1.0)  # each column is one query's weights
    X = torch.tensor(I.T)  # (n, d_in): one token per row
    q, k, v = X @ torch.tensor(Wq.T), X @ torch.tensor(Wk.T), X @ torch.tensor(Wv.T)
    if not scaled:  # undo the 1/sqrt(d_k) that PyTorch's formula always applies
        q = q * np.sqrt(Wq.shape[0])
    out, weights = scaled_dot_product_attention(q, k, v)
    np.testing.assert_allclose(O, out.numpy().T, atol=1e-10)
    np.testing.assert_allclose(A_prime, weights.numpy().T, atol=1e-10)


def test_multi_head_equals_the_layer():
    torch.manual_seed(0)
    layer = MultiHeadAttention(8, 2, bias=False).double()
    I = np.random.default_rng(1).normal(size=(8, 5))
    W = {name: getattr(layer, name).weight.detach().numpy()
         for name in ("q_proj", "k_proj", "v_proj", "out_proj")}
    O, A_primes = multi_head_self_attention(I, W["q_proj"], W["k_proj"], W["v_proj"],
                                            W["out_proj"], num_heads=2)
    x = torch.tensor(I.T)[None]  # (1, n, d): batch of one, tokens as rows
    out, weights = layer(x, x, x)
    np.testing.assert_allclose(O, out[0].detach().numpy().T, atol=1e-10)
    np.testing.assert_allclose(A_primes, weights[0].detach().numpy().transpose(0, 2, 1),
                               atol=1e-10)


def test_shape_errors_name_the_matrices():
    I, Wq, Wk, Wv = example()
    with pytest.raises(ValueError, match=r"Wq of shape \(4, 5\) cannot multiply I of shape"):
        self_attention(I, Wq[:, :5], Wk, Wv)
    with pytest.raises(ValueError, match="I must be a 2-D matrix"):
        self_attention(I[0], Wq, Wk, Wv)
    with pytest.raises(ValueError, match="not divisible by num_heads=3"):
        multi_head_self_attention(I, Wq, Wk, Wv, np.eye(5), num_heads=3)
