"""Self-attention in NumPy, in the notes' own notation: tokens are the **columns** of ``I``.

Introduced in chapter 3. With ``I`` of shape ``(d_in, n)`` (one column per token)::

    Q = Wq I,  K = Wk I,  V = Wv I       # (d_k, n), (d_k, n), (d_v, n)
    A = Kᵀ Q   (÷ √d_k when scaled)      # (n, n): column j holds query j's scores
    A′ = softmax of each column          # each column sums to 1
    O = V A′                             # (d_v, n): column j is the output b^j

PyTorch's convention is the transpose of this (one token per row): ``O.T`` equals
``softmax(Iᵀ Wqᵀ (Iᵀ Wkᵀ)ᵀ / √d_k) Iᵀ Wvᵀ`` and ``A′.T`` is PyTorch's weight matrix.

:func:`softmax` (chapter 2) is the book's one NumPy softmax; the chapters' NumPy code uses it.
"""

from __future__ import annotations

import numpy as np

__all__ = ["multi_head_self_attention", "self_attention", "softmax"]


def _array(x, name: str) -> np.ndarray:
    """`x` as a float array, refusing NaN (a NaN relevance would silently spread everywhere)."""
    arr = np.asarray(x, dtype=float)
    if np.isnan(arr).any():
        raise ValueError(f"{name} contains NaN")
    return arr


def softmax(x, axis: int = -1, temperature: float = 1.0) -> np.ndarray:
    """Turn scores into positive weights that sum to 1 along `axis`.

    Introduced in chapter 2. ``softmax(x)_i = exp(x_i / T) / sum_j exp(x_j / T)``. Subtracting
    the largest score first changes nothing mathematically (it cancels in the ratio) but keeps
    ``exp`` from overflowing for large scores. ``-inf`` scores get weight 0 (masking, chapter
    10); a slice of only ``-inf`` has no distribution and raises. A low temperature sharpens the
    weights, a high one flattens them.
    """
    x = _array(x, "softmax input")
    if not (np.isfinite(temperature) and temperature > 0):
        raise ValueError(f"temperature={temperature} must be a positive finite number")
    if x.ndim == 0:
        raise ValueError("softmax needs at least one axis; got a scalar")
    if not -x.ndim <= axis < x.ndim:
        raise ValueError(f"axis={axis} is out of range for an input of shape {x.shape}")
    if x.shape[axis] == 0:
        raise ValueError(f"softmax over an empty axis (shape {x.shape}, axis={axis})")
    if np.isposinf(x).any():
        raise ValueError("softmax input contains +inf; the weights would be undefined")
    top = x.max(axis=axis, keepdims=True)
    if np.isneginf(top).any():
        raise ValueError("softmax input has a slice where every score is -inf; no weight can "
                         "be positive there")
    e = np.exp((x - top) / temperature)
    return e / e.sum(axis=axis, keepdims=True)


def _matrix(x, name: str) -> np.ndarray:
    x = np.asarray(x, dtype=float)
    if x.ndim != 2:
        raise ValueError(f"{name} must be a 2-D matrix, got shape {x.shape}")
    return x


def self_attention(I, Wq, Wk, Wv, scaled: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """``(O, A_prime)`` for tokens as columns of ``I``; see the module docstring.

    Introduced in chapter 3 (figures F6–F9). ``Wq`` and ``Wk`` are ``(d_k, d_in)``, ``Wv`` is
    ``(d_v, d_in)``. ``A_prime[i, j]`` is how much query ``j`` attends to key ``i``.
    """
    I, Wq, Wk, Wv = (_matrix(m, n) for m, n in ((I, "I"), (Wq, "Wq"), (Wk, "Wk"), (Wv, "Wv")))
    for name, W in (("Wq", Wq), ("Wk", Wk), ("Wv", Wv)):
        if W.shape[1] != I.shape[0]:
            raise ValueError(f"{name} of shape {W.shape} cannot multiply I of shape {I.shape}: "
                             f"it needs {I.shape[0]} columns")
    if Wq.shape[0] != Wk.shape[0]:
        raise ValueError(f"Wq {Wq.shape} and Wk {Wk.shape} must give queries and keys of the "
                         "same size")
    Q, K, V = Wq @ I, Wk @ I, Wv @ I  # (d_k, n), (d_k, n), (d_v, n)
    A = K.T @ Q  # (n, n): A[i, j] = k^i · q^j
    if scaled:
        A = A / np.sqrt(Q.shape[0])
    A_prime = softmax(A, axis=0)  # normalise each column: one query's weights
    return V @ A_prime, A_prime  # (d_v, n), (n, n)


def multi_head_self_attention(I, Wq, Wk, Wv, Wo, num_heads: int, scaled: bool = True
                              ) -> tuple[np.ndarray, np.ndarray]:
    """Multi-head self-attention with tokens as columns: ``(O, A_primes)``.

    Introduced in chapter 4. The rows of ``Q = Wq I`` (and of K and V) are cut into
    ``num_heads`` equal blocks; head h attends with its own block; the heads' outputs are
    stacked again and mixed by ``Wo``. Returns ``O`` ``(d_out, n)`` and the heads' attention
    matrices ``A_primes`` ``(num_heads, n, n)``.
    """
    Wq, Wk, Wv, Wo = (_matrix(m, n) for m, n in ((Wq, "Wq"), (Wk, "Wk"), (Wv, "Wv"), (Wo, "Wo")))
    for name, W in (("Wq", Wq), ("Wk", Wk), ("Wv", Wv)):
        if W.shape[0] % num_heads:
            raise ValueError(f"{name} has {W.shape[0]} rows, not divisible by "
                             f"num_heads={num_heads}")
    if Wo.shape[1] != Wv.shape[0]:
        raise ValueError(f"Wo {Wo.shape} must have as many columns as Wv {Wv.shape} has rows")
    outputs, maps = [], []
    for Wq_h, Wk_h, Wv_h in zip(np.split(Wq, num_heads), np.split(Wk, num_heads),
                                np.split(Wv, num_heads), strict=True):
        O_h, A_h = self_attention(I, Wq_h, Wk_h, Wv_h, scaled=scaled)
        outputs.append(O_h)
        maps.append(A_h)
    return Wo @ np.concatenate(outputs, axis=0), np.stack(maps)  # (d_out, n), (h, n, n)
