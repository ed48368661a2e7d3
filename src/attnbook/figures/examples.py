"""The seeded examples whose numbers the figures show: every number in F1–F19 comes from here.

- :func:`relevance_example` (chapter 2, F3 and F5) and :func:`column_example` (chapter 3, the
  same numbers with tokens as columns, F6–F9);
- :data:`PINYIN_VOCAB` and :func:`decoding_example` (chapter 10, F16 and F17);
- :func:`cross_attention_example` (chapter 11, F18).
"""

from __future__ import annotations

import numpy as np

from attnbook.labs.relevance import self_attention_step_by_step
from attnbook.numpy_ref import self_attention

__all__ = [
    "PINYIN_VOCAB",
    "column_example",
    "cross_attention_example",
    "decoding_example",
    "relevance_example",
]


def relevance_example(seed: int = 0, n: int = 4, d: int = 4) -> dict[str, np.ndarray]:
    """The small worked example of chapter 2: how much each a^j matters to a^1.

    Introduced in chapter 2 (figures F3 and F5 show its numbers).

    `n` random input vectors a^1..a^n of size `d` (rows of ``a``) and random matrices
    W^q, W^k, W^v (entries of standard deviation 1/2, so that the scores are moderate).
    Returns a dict of NumPy arrays:

    - ``a`` (n, d): the inputs, ``a[j]`` is a^(j+1);
    - ``W_q``, ``W_k``, ``W_v`` (d, d);
    - ``q`` (d,): q^1 = W^q a^1;  ``k``, ``v`` (n, d): k^j = W^k a^j, v^j = W^v a^j;
    - ``alpha`` (n,): alpha_{1,j} = q^1 . k^j;
    - ``alpha_prime`` (n,): softmax of ``alpha``, which sums to 1;
    - ``b`` (d,): b^1 = sum_j alpha'_{1,j} v^j.

    >>> ex = relevance_example()
    >>> ex["a"].shape, round(float(ex["alpha_prime"].sum()), 6)
    ((4, 4), 1.0)
    """
    rng = np.random.default_rng(seed)
    a = rng.standard_normal((n, d))
    W_q, W_k, W_v = 0.5 * rng.standard_normal((3, d, d))
    # The computation itself is the package's tested one (attnbook.labs.relevance), not a copy.
    step = self_attention_step_by_step(a, W_q, W_k, W_v, query_index=0)
    return {
        "a": a,
        "W_q": W_q,
        "W_k": W_k,
        "W_v": W_v,
        "q": step.q,
        "k": step.k,
        "v": step.v,
        "alpha": step.alpha,
        "alpha_prime": step.alpha_prime,
        "b": step.b,
    }


def column_example(seed: int = 0) -> dict[str, np.ndarray]:
    """Chapter 2's seeded example with tokens as columns: the matrices of F6–F9.

    Introduced in chapter 3. Returns ``I`` (d, n) whose column j is aʲ, ``W_q``, ``W_k``,
    ``W_v``, ``Q``, ``K``, ``V`` (one column per token), ``A = KᵀQ`` (column j: the scores of
    query j), ``A_prime`` (softmax of each column) and ``O = V A′`` (column j is bʲ). As in the
    notes' figures, the scores are not divided by √d_k here; chapter 3 adds that afterwards.
    """
    ex = relevance_example(seed)
    I = ex["a"].T  # noqa: E741 - the notes' name. (d, n): one column per token
    W_q, W_k, W_v = ex["W_q"], ex["W_k"], ex["W_v"]
    Q, K, V = W_q @ I, W_k @ I, W_v @ I  # (d_k, n), (d_k, n), (d_v, n)
    O, A_prime = self_attention(I, W_q, W_k, W_v, scaled=False)  # noqa: E741
    return {"I": I, "W_q": W_q, "W_k": W_k, "W_v": W_v, "Q": Q, "K": K, "V": V,
            "A": K.T @ Q, "A_prime": A_prime, "O": O}


PINYIN_VOCAB = ("END", "líng", "yī", "èr", "sān", "sì", "wǔ", "liù", "qī", "bā", "jiǔ",
                "shí", "bǎi", "qiān", "wàn")
"""The output vocabulary of the figures, in pinyin: END, 零 一 二 … 九, 十 百 千 万.

Used in chapter 10 by `draw` (figures F16 and F17)."""


def decoding_example(chosen: list[str], seed: int = 10) -> np.ndarray:
    """Made-up output distributions for the figures: one row per step, peaked on `chosen`.

    Used in chapter 10 by `draw` (figures F16 and F17). Row t is a softmax over `PINYIN_VOCAB`
    of seeded random scores, with the score of ``chosen[t]`` raised so that it is the largest;
    the rows are illustrations, not a trained model's outputs (the chapter shows those).
    """
    rng = np.random.default_rng(seed)
    scores = rng.normal(0.0, 0.8, size=(len(chosen), len(PINYIN_VOCAB)))  # (steps, vocab)
    for t, token in enumerate(chosen):
        scores[t, PINYIN_VOCAB.index(token)] = scores[t].max() + 2.0 + 0.5 * rng.random()
    e = np.exp(scores - scores.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def cross_attention_example(seed: int = 18, n: int = 4, d: int = 3) -> dict[str, np.ndarray]:
    """The seeded example of figure F18: one decoder query attending over `n` encoder outputs.

    Used in chapter 11 by `draw` (figure F18). Returns NumPy arrays: ``a`` (n, d) the
    encoder's outputs, ``k`` and ``v`` (n, d) their keys and values (``k = a W_k``,
    ``v = a W_v``), ``q`` (d,) the decoder's query, ``alpha`` (n,) the scores ``q · k^i``,
    ``alpha_prime`` their softmax, and ``out`` (d,) the weighted sum ``Σ alpha_prime[i] v^i``.
    """
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(n, d))
    W_k, W_v = rng.normal(size=(2, d, d))
    q = rng.normal(size=d)
    k, v = a @ W_k, a @ W_v  # (n, d) each
    alpha = k @ q  # (n,)
    e = np.exp(alpha - alpha.max())
    alpha_prime = e / e.sum()
    return {"a": a, "k": k, "v": v, "q": q, "alpha": alpha, "alpha_prime": alpha_prime,
            "out": alpha_prime @ v}
