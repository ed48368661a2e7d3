"""Relevance between vectors, softmax, and one self-attention output computed step by step.

Introduced in chapter 2. NumPy and written to be read: the PyTorch version that later
chapters train lives in ``attnbook.attention``, and the softmax used here is
:func:`attnbook.numpy_ref.softmax`.

Conventions follow the lecture notes: an input vector ``a`` is multiplied from the left,
``q = Wq a``, so ``Wq`` has shape ``(d_k, d_in)``. A sequence is stored with one token per row,
``a`` of shape ``(L, d_in)``, which makes all queries at once ``a @ Wq.T``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from attnbook.numpy_ref import softmax

__all__ = [
    "AttentionStep",
    "additive_relevance",
    "dot_product_relevance",
    "self_attention_all_at_once",
    "self_attention_step_by_step",
    "weighted_sum",
]


def _array(x, name: str) -> np.ndarray:
    """`x` as a float array, refusing NaN (a NaN relevance would silently spread everywhere)."""
    arr = np.asarray(x, dtype=float)
    if np.isnan(arr).any():
        raise ValueError(f"{name} contains NaN")
    return arr


def _query_key_shapes(q: np.ndarray, k: np.ndarray, what: str) -> None:
    if q.ndim not in (1, 2) or k.ndim not in (1, 2):
        raise ValueError(f"{what}: q and k must be 1-D (one vector) or 2-D (one vector per row); "
                         f"got shapes {q.shape} and {k.shape}")
    if q.shape[-1] != k.shape[-1]:
        raise ValueError(f"{what}: q has size {q.shape[-1]} but k has size {k.shape[-1]}; a "
                         f"query and a key must have the same size d_k")


def dot_product_relevance(q, k) -> np.ndarray:
    """Relevance as a dot product: ``alpha = q · k``.

    Introduced in chapter 2. ``q`` is one query ``(d,)`` or several ``(m, d)``; ``k`` is one key
    ``(d,)`` or several ``(n, d)``. The result has shape ``()``, ``(n,)``, ``(m,)`` or
    ``(m, n)``: entry ``[i, j]`` is how relevant key ``j`` is to query ``i``.
    """
    q, k = _array(q, "q"), _array(k, "k")
    _query_key_shapes(q, k, "dot_product_relevance")
    return q @ k.T


def additive_relevance(q, k, w) -> np.ndarray:
    """Relevance as a small network (Bahdanau-style): ``alpha = wᵀ tanh(q + k)``.

    Introduced in chapter 2. ``q = Wq a`` and ``k = Wk a`` are the projected vectors, as for the
    dot product; ``w`` (shape ``(d,)``) is one more learned vector. Shapes as in
    :func:`dot_product_relevance`.
    """
    q, k, w = _array(q, "q"), _array(k, "k"), _array(w, "w")
    _query_key_shapes(q, k, "additive_relevance")
    if w.shape != (q.shape[-1],):
        raise ValueError(f"additive_relevance: w has shape {w.shape}; expected ({q.shape[-1]},) "
                         f"to match q and k")
    # Broadcast every query against every key: (m, 1, d) + (1, n, d) -> (m, n, d).
    pairs = np.tanh(np.atleast_2d(q)[:, None, :] + np.atleast_2d(k)[None, :, :])
    scores = pairs @ w  # (m, n)
    # Drop the axes that were added for a single query or key, mirroring q @ k.T.
    if k.ndim == 1:
        scores = scores[:, 0]
    if q.ndim == 1:
        scores = scores[0]
    return scores


def weighted_sum(weights, values) -> np.ndarray:
    """``b = Σᵢ weights[i] · values[i]``: shape ``(d_v,)``, or ``(m, d_v)`` for 2-D weights.

    Introduced in chapter 2. With attention weights ``α′`` and values ``vⁱ``, this is the
    output ``b``: the values that matter most contribute most.
    """
    weights, values = _array(weights, "weights"), _array(values, "values")
    if values.ndim != 2:
        raise ValueError(f"values must be 2-D (n, d_v), one value per row; got shape "
                         f"{values.shape}")
    if weights.ndim not in (1, 2) or weights.shape[-1] != values.shape[0]:
        raise ValueError(f"weights of shape {weights.shape} do not fit {values.shape[0]} values; "
                         f"expected ({values.shape[0]},) or (m, {values.shape[0]})")
    return weights @ values


@dataclass(frozen=True)
class AttentionStep:
    """Every intermediate of one self-attention output ``b``, for one query position.

    Used in chapter 2 by :func:`self_attention_step_by_step`. ``q`` (d_k,), ``k`` (L, d_k),
    ``v`` (L, d_v), ``alpha`` (L,) the raw relevance scores, ``alpha_prime`` (L,) after
    softmax, ``b`` (d_v,) the output.
    """

    query_index: int
    q: np.ndarray
    k: np.ndarray
    v: np.ndarray
    alpha: np.ndarray
    alpha_prime: np.ndarray
    b: np.ndarray


def _check_weights(a: np.ndarray, w_q, w_k, w_v) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    if a.ndim != 2:
        raise ValueError(f"a must be 2-D (L, d_in), one input vector per row; got shape {a.shape}")
    mats = []
    for name, w in (("w_q", w_q), ("w_k", w_k), ("w_v", w_v)):
        w = _array(w, name)
        if w.ndim != 2 or w.shape[1] != a.shape[1]:
            raise ValueError(f"{name} has shape {w.shape}; expected (d_out, {a.shape[1]}) so that "
                             f"{name} @ a^i works for inputs of size {a.shape[1]}")
        mats.append(w)
    if mats[0].shape[0] != mats[1].shape[0]:
        raise ValueError(f"w_q gives queries of size {mats[0].shape[0]} but w_k gives keys of "
                         f"size {mats[1].shape[0]}; they must match for q · k")
    return mats[0], mats[1], mats[2]


def self_attention_step_by_step(
    a, w_q, w_k, w_v, query_index: int = 0, relevance: str = "dot", w_additive=None
) -> AttentionStep:
    """One output ``b^i`` of a self-attention layer, keeping every intermediate.

    Introduced in chapter 2. Follows the notes literally: ``q = Wq a^i``; ``k^j = Wk a^j`` and
    ``v^j = Wv a^j`` for every j (the query's own position included); ``alpha_j`` = relevance of
    ``q`` and ``k^j`` (``"dot"`` or ``"additive"``, which needs ``w_additive``);
    ``alpha′ = softmax(alpha)``; ``b = Σ_j alpha′_j v^j``. No 1/√d_k scaling yet (chapter 3).
    """
    a = _array(a, "a")
    w_q, w_k, w_v = _check_weights(a, w_q, w_k, w_v)
    if not -a.shape[0] <= query_index < a.shape[0]:
        raise ValueError(f"query_index={query_index} is out of range for {a.shape[0]} inputs")
    q = w_q @ a[query_index]  # (d_k,)
    k = a @ w_k.T  # (L, d_k): row j is Wk a^j
    v = a @ w_v.T  # (L, d_v): row j is Wv a^j
    if relevance == "dot":
        alpha = dot_product_relevance(q, k)
    elif relevance == "additive":
        if w_additive is None:
            raise ValueError("relevance='additive' needs w_additive, the vector w in "
                             "wᵀ tanh(q + k)")
        alpha = additive_relevance(q, k, w_additive)
    else:
        raise ValueError(f"relevance={relevance!r} must be 'dot' or 'additive'")
    alpha_prime = softmax(alpha)
    return AttentionStep(query_index % a.shape[0], q, k, v, alpha, alpha_prime,
                         weighted_sum(alpha_prime, v))


def self_attention_all_at_once(a, w_q, w_k, w_v) -> np.ndarray:
    """All outputs at once: ``softmax(Q Kᵀ) V`` with ``Q = a Wqᵀ`` etc.; shape ``(L, d_v)``.

    Introduced in chapter 2 as the check that the step-by-step loop is right; chapter 3
    derives it as matrices. Tokens are rows and the relevance is the dot product, unscaled,
    as in chapter 2 (:func:`attnbook.numpy_ref.self_attention` is chapter 3's: tokens are
    columns, scaled by ``1/√d_k``, and it returns the weights too).

    >>> import numpy as np
    >>> a = np.eye(3)
    >>> out = self_attention_all_at_once(a, np.eye(3), np.eye(3), np.eye(3))
    >>> bool(np.allclose(out[0], self_attention_step_by_step(a, *[np.eye(3)] * 3, 0).b))
    True
    """
    a = _array(a, "a")
    w_q, w_k, w_v = _check_weights(a, w_q, w_k, w_v)
    q, k, v = a @ w_q.T, a @ w_k.T, a @ w_v.T  # (L, d_k), (L, d_k), (L, d_v)
    return softmax(q @ k.T, axis=-1) @ v  # (L, L) weights times (L, d_v) values
