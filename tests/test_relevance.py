"""Tests of chapter 2's code: attnbook.numpy_ref.softmax and attnbook.labs.relevance
(relevance, and one self-attention output step by step)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from attnbook import numpy_ref
from attnbook.labs import relevance as R

finite = st.floats(min_value=-1e4, max_value=1e4, allow_nan=False, allow_infinity=False)


@settings(max_examples=50, deadline=None)
@given(hnp.arrays(np.float64, hnp.array_shapes(min_dims=1, max_dims=3, max_side=6),
                  elements=finite))
def test_softmax_is_a_distribution_along_the_axis(x):
    p = numpy_ref.softmax(x)
    assert p.shape == x.shape
    assert np.all(p >= 0) and np.all(np.isfinite(p))
    np.testing.assert_allclose(p.sum(axis=-1), 1.0, rtol=1e-12)


@settings(max_examples=50, deadline=None)
@given(hnp.arrays(np.float64, hnp.array_shapes(min_dims=1, max_dims=2, max_side=6),
                  elements=finite), st.floats(min_value=-50, max_value=50))
def test_softmax_ignores_a_shift(x, c):
    np.testing.assert_allclose(numpy_ref.softmax(x + c), numpy_ref.softmax(x), atol=1e-12)


@settings(max_examples=40, deadline=None)
@given(hnp.arrays(np.float64, hnp.array_shapes(min_dims=1, max_dims=3, max_side=5),
                  elements=st.floats(-30, 30)), st.integers(0, 2))
def test_softmax_equals_torch(x, axis):
    axis = axis % x.ndim
    expected = torch.softmax(torch.from_numpy(x), dim=axis).numpy()
    np.testing.assert_allclose(numpy_ref.softmax(x, axis=axis), expected, rtol=1e-10, atol=1e-14)


def test_softmax_is_stable_for_large_scores():
    p = numpy_ref.softmax(np.array([1000.0, 1001.0, 1002.0]))
    np.testing.assert_allclose(p, numpy_ref.softmax(np.array([0.0, 1.0, 2.0])))
    p = numpy_ref.softmax(np.array([-1000.0, -1001.0]))
    assert np.isfinite(p).all() and p[0] > p[1]


def test_softmax_temperature_sharpens_and_flattens():
    x = np.array([1.0, 2.0, 3.0])
    sharp, plain, flat = (numpy_ref.softmax(x, temperature=t).max() for t in (0.1, 1.0, 10.0))
    assert sharp > plain > flat
    np.testing.assert_allclose(numpy_ref.softmax(x, temperature=2.0), numpy_ref.softmax(x / 2.0))


def test_softmax_masks_minus_infinity():
    p = numpy_ref.softmax(np.array([0.0, -np.inf, 0.0]))
    np.testing.assert_array_equal(p, [0.5, 0.0, 0.5])


@pytest.mark.parametrize(
    ("x", "kwargs", "message"),
    [
        (np.array([1.0, np.nan]), {}, "contains NaN"),
        (np.array([1.0, np.inf]), {}, r"contains \+inf"),
        (np.array([-np.inf, -np.inf]), {}, "every score is -inf"),
        (np.zeros((2, 0)), {}, r"empty axis \(shape \(2, 0\), axis=-1\)"),
        (np.array(3.0), {}, "got a scalar"),
        (np.zeros(3), {"axis": 1}, r"axis=1 is out of range for an input of shape \(3,\)"),
        (np.zeros(3), {"temperature": 0.0}, "temperature=0.0 must be a positive"),
    ],
)
def test_softmax_errors(x, kwargs, message):
    with pytest.raises(ValueError, match=message):
        numpy_ref.softmax(x, **kwargs)


def test_dot_product_relevance_shapes_and_values():
    rng = np.random.default_rng(0)
    q, k = rng.normal(size=(2, 3)), rng.normal(size=(4, 3))
    assert R.dot_product_relevance(q, k).shape == (2, 4)
    assert R.dot_product_relevance(q[0], k).shape == (4,)
    assert R.dot_product_relevance(q, k[0]).shape == (2,)
    assert R.dot_product_relevance(q[0], k[0]).shape == ()
    np.testing.assert_allclose(R.dot_product_relevance(q, k)[1, 2], np.sum(q[1] * k[2]))


def test_dot_product_relevance_rejects_mismatched_sizes():
    with pytest.raises(ValueError, match="q has size 3 but k has size 4"):
        R.dot_product_relevance(np.zeros(3), np.zeros((2, 4)))
    with pytest.raises(ValueError, match="must be 1-D"):
        R.dot_product_relevance(np.zeros((1, 1, 3)), np.zeros(3))


def test_additive_relevance_matches_its_formula():
    rng = np.random.default_rng(1)
    q, k, w = rng.normal(size=(2, 3)), rng.normal(size=(4, 3)), rng.normal(size=3)
    scores = R.additive_relevance(q, k, w)
    assert scores.shape == (2, 4)
    for i in range(2):
        for j in range(4):
            np.testing.assert_allclose(scores[i, j], w @ np.tanh(q[i] + k[j]))
    # Single vectors drop the same axes as the dot product does.
    assert R.additive_relevance(q[0], k, w).shape == (4,)
    assert R.additive_relevance(q, k[0], w).shape == (2,)
    assert R.additive_relevance(q[0], k[0], w).shape == ()


def test_additive_relevance_is_bounded_by_the_norm_of_w():
    rng = np.random.default_rng(2)
    q, k, w = 100 * rng.normal(size=(5, 3)), 100 * rng.normal(size=(6, 3)), rng.normal(size=3)
    assert np.all(np.abs(R.additive_relevance(q, k, w)) <= np.abs(w).sum() + 1e-12)


def test_additive_relevance_checks_w():
    with pytest.raises(ValueError, match=r"w has shape \(2,\); expected \(3,\)"):
        R.additive_relevance(np.zeros(3), np.zeros((2, 3)), np.zeros(2))


def test_weighted_sum():
    v = np.array([[1.0, 0.0], [0.0, 2.0], [3.0, 3.0]])
    np.testing.assert_allclose(R.weighted_sum(np.array([0.5, 0.5, 0.0]), v), [0.5, 1.0])
    assert R.weighted_sum(np.ones((4, 3)) / 3, v).shape == (4, 2)
    with pytest.raises(ValueError, match=r"weights of shape \(2,\) do not fit 3 values"):
        R.weighted_sum(np.ones(2), v)
    with pytest.raises(ValueError, match="values must be 2-D"):
        R.weighted_sum(np.ones(2), np.ones(2))


def _layer(seed=0, L=4, d_in=5, d_k=3, d_v=2):
    rng = np.random.default_rng(seed)
    return (rng.normal(size=(L, d_in)), rng.normal(size=(d_k, d_in)),
            rng.normal(size=(d_k, d_in)), rng.normal(size=(d_v, d_in)))


def test_step_by_step_intermediates():
    a, wq, wk, wv = _layer()
    s = R.self_attention_step_by_step(a, wq, wk, wv, query_index=1)
    np.testing.assert_allclose(s.q, wq @ a[1])
    np.testing.assert_allclose(s.k[2], wk @ a[2])
    np.testing.assert_allclose(s.v[3], wv @ a[3])
    np.testing.assert_allclose(s.alpha, [s.q @ s.k[j] for j in range(4)])
    np.testing.assert_allclose(s.alpha_prime.sum(), 1.0)
    np.testing.assert_allclose(s.b, sum(s.alpha_prime[j] * s.v[j] for j in range(4)))


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 1000), st.integers(1, 6))
def test_step_by_step_loop_equals_vectorized_and_torch(seed, L):
    a, wq, wk, wv = _layer(seed, L=L)
    loop = np.stack([R.self_attention_step_by_step(a, wq, wk, wv, i).b for i in range(L)])
    np.testing.assert_allclose(loop, R.self_attention_all_at_once(a, wq, wk, wv), rtol=1e-10,
                               atol=1e-12)
    t = [torch.from_numpy(m) for m in (a, wq, wk, wv)]
    q, k, v = t[0] @ t[1].T, t[0] @ t[2].T, t[0] @ t[3].T
    expected = torch.softmax(q @ k.T, dim=-1) @ v
    np.testing.assert_allclose(loop, expected.numpy(), rtol=1e-10, atol=1e-12)


def test_additive_step_uses_w():
    a, wq, wk, wv = _layer(3)
    w = np.ones(3)
    s = R.self_attention_step_by_step(a, wq, wk, wv, 0, relevance="additive", w_additive=w)
    np.testing.assert_allclose(s.alpha, R.additive_relevance(wq @ a[0], a @ wk.T, w))
    with pytest.raises(ValueError, match="needs w_additive"):
        R.self_attention_step_by_step(a, wq, wk, wv, 0, relevance="additive")
    with pytest.raises(ValueError, match="relevance='cosine' must be 'dot' or 'additive'"):
        R.self_attention_step_by_step(a, wq, wk, wv, 0, relevance="cosine")


def test_step_errors_name_the_shapes():
    a, wq, wk, wv = _layer()
    with pytest.raises(ValueError, match=r"w_k has shape \(3, 4\); expected \(d_out, 5\)"):
        R.self_attention_step_by_step(a, wq, wk[:, :4], wv)
    with pytest.raises(ValueError, match="queries of size 3 but w_k gives keys of size 2"):
        R.self_attention_all_at_once(a, wq, wk[:2], wv)
    with pytest.raises(ValueError, match="query_index=4 is out of range for 4 inputs"):
        R.self_attention_step_by_step(a, wq, wk, wv, query_index=4)
    with pytest.raises(ValueError, match=r"a must be 2-D"):
        R.self_attention_all_at_once(a[0], wq, wk, wv)
