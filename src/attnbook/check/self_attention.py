"""Checkers of part 1, "Self-attention": the exercises of chapters 1 to 7.

Introduced in chapter 1. Sequences and one-hot vectors (chapter 1), relevance, softmax and the
weighted sum (2), the matrix form (3), heads (4), positions (5), convolutions (6) and the
cost-saving forms of attention (7). Each checker's expected answers come from the package's
own tested functions.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from attnbook.check._core import Case, CheckResult, run_cases
from attnbook.labs import relevance as _relevance
from attnbook.labs import sequences as _sequences
from attnbook.numpy_ref import softmax as _softmax

# Modules that import PyTorch are imported inside the checkers that need them, so that the
# NumPy-only chapters (1 and 2) import the checkers without loading PyTorch.


# ----------------------------------------------------------------------------- chapter 1


def _break_even_window(d_in: int, d_out: int, d_k: int, d_v: int) -> int:
    """The smallest window whose fully connected layer outweighs a self-attention layer."""
    attention = _sequences.self_attention_parameters(d_in=d_in, d_k=d_k, d_v=d_v)
    window = 1
    while _sequences.fully_connected_window_parameters(window, d_in, d_out) <= attention:
        window += 1
    return window


def break_even_window(fn: Callable[[int, int, int, int], Any]) -> CheckResult:
    """Check ``fn(d_in, d_out, d_k, d_v)`` → the smallest window (in words) at which a fully
    connected layer over the window, weights and biases, has more parameters than a
    self-attention layer (Wq and Wk of ``d_k × d_in``, Wv of ``d_v × d_in``, no biases).

    Introduced in chapter 1 (exercise: where the window outgrows attention). The expected
    answers count both layers with :mod:`attnbook.labs.sequences`, one window at a time.
    """
    inputs = [
        ("d = 300 everywhere, as in the table above", (300, 300, 300, 300)),
        ("the weights never tie: a whole window more", (100, 10, 32, 64)),
        ("a wide output: a window of one word is larger", (300, 300, 64, 64)),
        ("the weights tie at 2 words: the biases decide", (4, 3, 2, 2)),
        ("a small output needs a long window", (512, 8, 64, 64)),
    ]
    cases = [Case(d, a, _break_even_window(*a)) for d, a in inputs]
    return run_cases("break_even_window", fn, cases)


def _fewest_sentences(window: int, d: int, length: int) -> int:
    """The fewest sentences whose targets outnumber a window model's parameters."""
    parameters = _sequences.fully_connected_window_parameters(window, d_in=d, d_out=1)
    n = 1
    while n * length <= parameters:
        n += 1
    return n


def fewest_sentences(fn: Callable[[int, int, int], Any]) -> CheckResult:
    """Check ``fn(window, d, length)`` → the fewest training sentences of ``length`` positions
    (one target each) whose targets outnumber the parameters of a fully connected window
    model with one output (``window × d`` weights and a bias), so that least squares can no
    longer fit every training target exactly.

    Introduced in chapter 1 (exercise: when does the wide window stop memorising?).
    """
    inputs = [
        ("the chapter's wide window", (23, 8, 12)),
        ("a window of one vector", (1, 8, 12)),
        ("as many targets as parameters is not enough", (3, 4, 13)),
        ("300-dimensional vectors, 20-word sentences", (5, 300, 20)),
        ("a window of 50 words over 50-word sentences", (50, 300, 50)),
    ]
    cases = [Case(d, a, _fewest_sentences(*a)) for d, a in inputs]
    return run_cases("fewest_sentences", fn, cases)


# ----------------------------------------------------------------------------- chapter 2


def softmax(fn: Callable[[np.ndarray], Any]) -> CheckResult:
    """Check ``fn(x)`` → softmax over the last axis, numerically stable.

    Introduced in chapter 2 (exercise: softmax).
    """
    rng = np.random.default_rng(2)
    inputs = [
        ("three scores", np.array([1.0, 2.0, 3.0])),
        ("equal scores give equal weights", np.zeros(4)),
        ("a matrix: softmax of each row", rng.normal(size=(2, 3))),
        ("large scores (exp would overflow)", np.array([1000.0, 1001.0, 1002.0])),
        ("very negative scores (exp would underflow to 0)", np.array([-1000.0, -1001.0])),
    ]
    cases = [Case(d, (x,), _softmax(x)) for d, x in inputs]
    return run_cases("softmax", fn, cases)


def relevance_scores(fn: Callable[[np.ndarray, np.ndarray], Any]) -> CheckResult:
    """Check ``fn(q, k)`` → the dot product of one query ``(d,)`` with each key ``(n, d)``.

    Introduced in chapter 2 (exercise: relevance scores).
    """
    rng = np.random.default_rng(3)
    inputs = [
        ("two keys", np.array([1.0, 0.0]), np.array([[1.0, 2.0], [3.0, 4.0]])),
        ("four random keys", rng.normal(size=3), rng.normal(size=(4, 3))),
        ("one key", rng.normal(size=5), rng.normal(size=(1, 5))),
    ]
    cases = [Case(d, (q, k), _relevance.dot_product_relevance(q, k)) for d, q, k in inputs]
    return run_cases("relevance_scores", fn, cases)


def weighted_sum(fn: Callable[[np.ndarray, np.ndarray], Any]) -> CheckResult:
    """Check ``fn(alpha_prime, v)`` → ``b = Σᵢ alpha_prime[i] v[i]``, shape ``(d_v,)``.

    Introduced in chapter 2 (exercise: the weighted sum).
    """
    rng = np.random.default_rng(4)
    v = rng.normal(size=(4, 3))
    inputs = [
        ("all weight on the second value", np.array([0.0, 1.0, 0.0, 0.0]), v),
        ("equal weights: the mean of the values", np.full(4, 0.25), v),
        ("softmax weights", _softmax(rng.normal(size=4)), v),
        ("more values than dimensions", _softmax(rng.normal(size=6)),
         rng.normal(size=(6, 2))),
    ]
    cases = [Case(d, (w, vals), _relevance.weighted_sum(w, vals)) for d, w, vals in inputs]
    return run_cases("weighted_sum", fn, cases)


# ----------------------------------------------------------------------------- chapter 3


def attention_columns(fn: Callable[..., Any]) -> CheckResult:
    """Check ``fn(I, Wq, Wk, Wv)`` → ``O = V A′`` with tokens as columns, scores ÷ √d_k.

    Introduced in chapter 3 (exercise: self-attention in the notes' notation).
    """
    from attnbook import numpy_ref

    rng = np.random.default_rng(31)
    inputs = [
        ("three tokens of size 2 (d_k = 2)", rng.normal(size=(2, 3)),
         *rng.normal(size=(3, 2, 2))),
        ("d_k = 16: the scores must be divided by 4", rng.normal(size=(4, 5)),
         rng.normal(size=(16, 4)), rng.normal(size=(16, 4)), rng.normal(size=(3, 4))),
        ("d_in, d_k and d_v all different", rng.normal(size=(5, 4)),
         rng.normal(size=(3, 5)), rng.normal(size=(3, 5)), rng.normal(size=(2, 5))),
        ("one token: the output is its own value", rng.normal(size=(3, 1)),
         *rng.normal(size=(3, 3, 3))),
        ("large scores (a naive softmax overflows)", 30 * rng.normal(size=(4, 3)),
         rng.normal(size=(4, 4)), rng.normal(size=(4, 4)), rng.normal(size=(4, 4))),
    ]
    cases = [Case(d, (I, Wq, Wk, Wv), numpy_ref.self_attention(I, Wq, Wk, Wv)[0])
             for d, I, Wq, Wk, Wv in inputs]  # noqa: E741 - I is the notes' name
    return run_cases("attention_columns", fn, cases)


def _entropy(weights: np.ndarray) -> np.ndarray:
    weights = np.asarray(weights, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(weights > 0, -weights * np.log(weights), 0.0)
    return terms.sum(axis=-1)


def attention_entropy(fn: Callable[[np.ndarray], Any]) -> CheckResult:
    """Check ``fn(weights)`` → the entropy (natural log) of each row of attention weights.

    Introduced in chapter 3 (exercise: how flat are the weights?). A weight of 0 adds nothing
    (0 · log 0 = 0).
    """
    rng = np.random.default_rng(32)
    inputs = [
        ("uniform weights over 4 keys: log 4", np.full(4, 0.25)),
        ("all weight on one key: 0", np.array([0.0, 1.0, 0.0])),
        ("a matrix: one entropy per row", _softmax(rng.normal(size=(3, 5)))),
        ("a zero weight next to others (0 · log 0 = 0)", np.array([0.5, 0.5, 0.0])),
        ("a stack of maps (heads, queries, keys)", _softmax(rng.normal(size=(2, 3, 4)))),
    ]
    cases = [Case(d, (w,), _entropy(w)) for d, w in inputs]
    return run_cases("attention_entropy", fn, cases)


# ----------------------------------------------------------------------------- chapter 4


def split_heads(fn: Callable[[Any, int], Any]) -> CheckResult:
    """Check ``fn(x, num_heads)``: ``[B, L, d_model]`` → ``[B, num_heads, L, d_model/num_heads]``.

    Introduced in chapter 4 (exercise: splitting the heads). Head ``h`` gets features
    ``h*d_head`` to ``(h+1)*d_head - 1`` of every token, as in
    :meth:`attnbook.layers.MultiHeadAttention.split_heads`.
    """
    import torch

    from attnbook.layers import MultiHeadAttention

    def expected(x: np.ndarray, h: int) -> np.ndarray:
        layer = MultiHeadAttention(x.shape[-1], h)
        return layer.split_heads(torch.from_numpy(x)).numpy()

    rng = np.random.default_rng(41)
    inputs = [
        ("one sequence of 3 tokens, d_model = 4, 2 heads", np.arange(12.0).reshape(1, 3, 4), 2),
        ("one head: only a new axis", rng.normal(size=(2, 3, 4)), 1),
        ("as many heads as features", rng.normal(size=(1, 2, 3)), 3),
        ("a batch of 2, 5 tokens, d_model = 6, 3 heads", rng.normal(size=(2, 5, 6)), 3),
    ]
    cases = [Case(d, (x, h), expected(x, h)) for d, x, h in inputs]
    return run_cases("split_heads", fn, cases)


def multi_head_parameters(fn: Callable[[int, int, bool], Any]) -> CheckResult:
    """Check ``fn(d_model, num_heads, bias)`` → the parameters of a multi-head attention layer.

    Introduced in chapter 4 (exercise: what do more heads cost?). Counts Wq, Wk, Wv and Wo
    (and their biases when `bias`), as :class:`attnbook.layers.MultiHeadAttention` has them.
    """
    from attnbook.layers import MultiHeadAttention

    def expected(d: int, h: int, bias: bool) -> int:
        layer = MultiHeadAttention(d, h, bias=bias)
        return int(sum(p.numel() for p in layer.parameters()))

    inputs = [
        ("d_model = 4, one head, no bias", (4, 1, False)),
        ("d_model = 4, two heads, no bias", (4, 2, False)),
        ("d_model = 8, four heads, with bias", (8, 4, True)),
        ("d_model = 512, eight heads, with bias (the Transformer)", (512, 8, True)),
    ]
    cases = [Case(d, a, expected(*a)) for d, a in inputs]
    return run_cases("multi_head_parameters", fn, cases)


# ----------------------------------------------------------------------------- chapter 5


def sinusoidal_table(fn: Callable[[int, int], Any]) -> CheckResult:
    """Check ``fn(max_len, d_model)`` → the sinusoidal table ``[max_len, d_model]``.

    Introduced in chapter 5 (exercise: the sinusoidal table). Column ``2i`` is
    ``sin(pos / 10000^(2i/d_model))``, column ``2i+1`` the cosine of the same angle.
    """
    from attnbook.positional import sinusoidal_encoding

    inputs = [
        ("one position: sin 0 = 0, cos 0 = 1", (1, 4)),
        ("d_model = 2: a single pair", (5, 2)),
        ("8 positions, d_model = 6", (8, 6)),
        ("50 positions, d_model = 16", (50, 16)),
    ]
    cases = [Case(d, a, sinusoidal_encoding(*a).double().numpy()) for d, a in inputs]
    return run_cases("sinusoidal_table", fn, cases, atol=1e-5, rtol=1e-5)


def rope_rotate(fn: Callable[[np.ndarray], Any]) -> CheckResult:
    """Check ``fn(x)`` → RoPE applied to ``x [L, d]``: pair ``(2i, 2i+1)`` at position ``m``
    rotated by the angle ``m · 10000^(-2i/d)``.

    Introduced in chapter 5 (exercise: rotary position embedding), as
    :class:`attnbook.positional.RotaryEmbedding` computes it.
    """
    import torch

    from attnbook.positional import RotaryEmbedding

    def expected(x: np.ndarray) -> np.ndarray:
        return RotaryEmbedding(x.shape[-1])(torch.from_numpy(x)).numpy()

    rng = np.random.default_rng(51)
    inputs = [
        ("position 0 is not rotated", rng.normal(size=(1, 4))),
        ("d = 2: one pair, angle m", np.tile([1.0, 0.0], (4, 1))),
        ("5 positions, d = 8", rng.normal(size=(5, 8))),
        ("12 positions, d = 6", rng.normal(size=(12, 6))),
    ]
    cases = [Case(d, (x,), expected(x)) for d, x in inputs]
    return run_cases("rope_rotate", fn, cases, atol=1e-5, rtol=1e-5)


# ----------------------------------------------------------------------------- chapter 6


def receptive_field(fn: Callable[[int, int, int], Any]) -> CheckResult:
    """Check ``fn(n, kernel_size, num_layers)`` → bool ``(n, n)``: which inputs (columns) each
    output (row) of a stack of 1-D convolutions with "same" padding can depend on.

    Introduced in chapter 6 (exercise: the receptive field of stacked convolutions). The
    expected masks are measured from real convolutions' Jacobians
    (:func:`attnbook.labs.cnn_vs_attention.conv_receptive_field`).
    """
    from attnbook.labs.cnn_vs_attention import conv_receptive_field

    inputs = [
        ("one layer, kernel 3", (8, 3, 1)),
        ("two layers, kernel 3: the field grows", (10, 3, 2)),
        ("one layer, kernel 5", (12, 5, 1)),
        ("kernel 1: each output sees only its own input", (6, 1, 3)),
        ("a field wider than the sequence", (5, 7, 2)),
    ]
    cases = [Case(d, a, conv_receptive_field(*a).numpy()) for d, a in inputs]
    return run_cases("receptive_field", fn, cases)


def conv1d_as_attention(fn: Callable[[np.ndarray, np.ndarray, np.ndarray], Any]) -> CheckResult:
    """Check ``fn(x, weight, bias)`` → a 1-D convolution with "same" zero padding, ``(L, d_out)``,
    for ``x (L, d_in)``, ``weight (d_out, d_in, K)`` (``nn.Conv1d``'s layout, K odd), ``bias
    (d_out,)``.

    Introduced in chapter 6 (exercise: a convolution as attention heads). The expected
    outputs come from ``torch.nn.functional.conv1d``.
    """
    import torch

    def expected(x, weight, bias):
        out = torch.nn.functional.conv1d(torch.from_numpy(x.T)[None], torch.from_numpy(weight),
                                         torch.from_numpy(bias), padding=weight.shape[-1] // 2)
        return out[0].T.numpy()  # (L, d_out)

    rng = np.random.default_rng(61)
    inputs = [
        ("kernel 1: a linear map of each token",
         rng.normal(size=(5, 2)), rng.normal(size=(3, 2, 1)), rng.normal(size=3)),
        ("kernel 3", rng.normal(size=(6, 3)), rng.normal(size=(2, 3, 3)), rng.normal(size=2)),
        ("kernel 5, zero bias", rng.normal(size=(7, 2)), rng.normal(size=(4, 2, 5)),
         np.zeros(4)),
        ("a kernel wider than the sequence", rng.normal(size=(2, 1)),
         rng.normal(size=(1, 1, 5)), rng.normal(size=1)),
    ]
    cases = [Case(d, (x, w, b), expected(x, w, b)) for d, x, w, b in inputs]
    return run_cases("conv1d_as_attention", fn, cases, atol=1e-6, rtol=1e-6)


# ----------------------------------------------------------------------------- chapter 7


def online_softmax(fn: Callable[[np.ndarray, int], Any]) -> CheckResult:
    """Check ``fn(scores, block_size)`` → the softmax of a 1-D array of scores, computed by
    reading them ``block_size`` at a time (running maximum and running sum).

    Introduced in chapter 7 (exercise: the online softmax). Scores of ``-inf`` get weight 0.
    """
    import torch

    from attnbook.efficient import online_softmax as reference

    def expected(scores, block):
        return reference(torch.from_numpy(scores), block).numpy()

    rng = np.random.default_rng(71)
    big = 1000 + rng.normal(size=10)  # exp would overflow without the running maximum
    masked = rng.normal(size=9)
    masked[[0, 4, 5]] = -np.inf
    inputs = [
        ("one block", rng.normal(size=6), 8),
        ("blocks of 3", rng.normal(size=9), 3),
        ("a last block shorter than the others", rng.normal(size=10), 4),
        ("the maximum in the last block", np.arange(12.0), 5),
        ("large scores: keep a running maximum", big, 3),
        ("-inf scores get weight 0 (a whole first block of them)", masked[[4, 5, 0, 1, 2, 3]], 3),
    ]
    cases = [Case(d, (x, b), expected(x, b)) for d, x, b in inputs]
    return run_cases("online_softmax", fn, cases)


def linear_attention(fn: Callable[[np.ndarray, np.ndarray, np.ndarray], Any]) -> CheckResult:
    """Check ``fn(q, k, v)`` → linear attention with φ(x) = elu(x) + 1: ``(L, d_v)`` for
    ``q (L, d)``, ``k (L, d)``, ``v (L, d_v)``, every query over every key.

    Introduced in chapter 7 (exercise: linear attention), as
    :func:`attnbook.efficient.linear_attention` computes it.
    """
    import torch

    from attnbook.efficient import linear_attention as reference

    def expected(q, k, v):
        return reference(*(torch.from_numpy(t) for t in (q, k, v))).numpy()

    rng = np.random.default_rng(72)
    inputs = [
        ("one token", rng.normal(size=(1, 3)), rng.normal(size=(1, 3)), rng.normal(size=(1, 2))),
        ("five tokens", rng.normal(size=(5, 4)), rng.normal(size=(5, 4)),
         rng.normal(size=(5, 4))),
        ("d_v differs from d", rng.normal(size=(6, 2)), rng.normal(size=(6, 2)),
         rng.normal(size=(6, 5))),
        ("very negative scores: elu + 1 stays positive", -5 + rng.normal(size=(4, 3)),
         -5 + rng.normal(size=(4, 3)), rng.normal(size=(4, 3))),
    ]
    cases = [Case(d, (q, k, v), expected(q, k, v)) for d, q, k, v in inputs]
    return run_cases("linear_attention", fn, cases, atol=1e-6, rtol=1e-6)
