"""Checkers for the book's exercises: run the reader's function on cases and say what fails.

Introduced in chapter 1. Each exercise has one public function here, e.g. ``check.softmax(fn)``.
It returns a :class:`CheckResult`, which a notebook shows as text ("3 of 4 cases pass", then
every failing case) and which has ``.passed``. The expected values always come from the
package's own tested functions, never from numbers typed in here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from attnbook import relevance as _relevance
from attnbook import sequences as _sequences

__all__ = [
    "Case",
    "CaseResult",
    "CheckResult",
    "attention_columns",
    "attention_entropy",
    "causal_mask",
    "chinese_numeral",
    "compare",
    "conv1d_as_attention",
    "count_parameters",
    "cross_attention",
    "cross_attention_mask",
    "encoder_block",
    "greedy_decode",
    "layer_norm",
    "linear_attention",
    "mean_attention_distance",
    "mean_pool",
    "multi_head_parameters",
    "multilabel_target",
    "online_softmax",
    "one_hot",
    "receptive_field",
    "relevance_scores",
    "rope_rotate",
    "run_cases",
    "sequence_cross_entropy",
    "shift_right",
    "sinusoidal_table",
    "softmax",
    "split_heads",
    "weighted_sum",
]


# ----------------------------------------------------------------------------- the generic core


@dataclass(frozen=True)
class Case:
    """One input for the reader's function and the answer it should give.

    Introduced in chapter 1. ``description`` says in words what the case tests.
    """

    description: str
    args: tuple
    expected: Any
    kwargs: dict = field(default_factory=dict)


@dataclass(frozen=True)
class CaseResult:
    """What happened on one case: ``got`` the returned value, or ``error`` the exception text.

    Introduced in chapter 1.
    """

    case: Case
    passed: bool
    got: Any = None
    error: str | None = None
    problem: str | None = None


_MAX_ITEMS = 8  # a list or dict longer than this is shown by its ends
_MAX_FAILURES = 3  # failing cases shown in full; the rest are counted


def _show(value: Any) -> str:
    """A short, deterministic text form (no memory addresses, 4 decimals)."""
    if hasattr(value, "detach"):  # a torch.Tensor
        value = value.detach().cpu().numpy()
    if isinstance(value, np.ndarray):
        text = np.array2string(value, precision=4, suppress_small=True, threshold=40)
        if value.ndim >= 2:  # a matrix starts on its own line, so that its rows line up
            return f"array of shape {value.shape}:\n{text}"
        return f"array of shape {value.shape}: {text}" if value.ndim else text
    if isinstance(value, (list, tuple)):
        items = [_show(v) for v in value]
        if len(items) > _MAX_ITEMS:  # keep long inputs to one readable line
            items = [*items[:3], "...", *items[-2:], f"({len(value)} items)"]
        return "[" + ", ".join(items) + "]"
    if isinstance(value, dict):
        items = [f"{k!r}: {_show(v)}" for k, v in value.items()]
        if len(items) > _MAX_ITEMS:
            items = [*items[:3], "...", *items[-2:], f"({len(value)} entries)"]
        return "{" + ", ".join(items) + "}"
    if isinstance(value, float):
        return f"{value:.6g}"
    return repr(value) if isinstance(value, str) else str(value)


def _indent(text: str, prefix: str = "      ") -> str:
    return "\n".join(prefix + line for line in text.splitlines())


@dataclass(frozen=True)
class CheckResult:
    """The outcome of checking one exercise: per-case results, shown as readable text.

    Introduced in chapter 1. ``passed`` is True when every case passes.
    """

    name: str
    results: tuple[CaseResult, ...]

    @property
    def passed(self) -> bool:
        return all(r.passed for r in self.results)

    @property
    def n_passed(self) -> int:
        return sum(r.passed for r in self.results)

    def __bool__(self) -> bool:
        return self.passed

    def __str__(self) -> str:
        n = len(self.results)
        head = f"{self.name}: {self.n_passed} of {n} cases pass"
        if self.passed:
            return head + " ✓"
        lines = [head]
        failing = [(i, r) for i, r in enumerate(self.results, start=1) if not r.passed]
        for i, r in failing[:_MAX_FAILURES]:
            lines.append(f"  ✗ case {i}: {r.case.description}")
            # One argument per line: a matrix argument spans several lines.
            inputs = [_show(a) for a in r.case.args]
            inputs += [f"{k}={_show(v)}" for k, v in r.case.kwargs.items()]
            lines.append("    input:\n" + "\n".join(_indent(x) for x in inputs))
            lines.append("    expected:\n" + _indent(_show(r.case.expected)))
            if r.error is not None:
                lines.append("    raised:\n" + _indent(r.error))
            else:
                lines.append("    got:\n" + _indent(_show(r.got)))
                if r.problem:
                    lines.append(f"    problem: {r.problem}")
        if len(failing) > _MAX_FAILURES:
            rest = ", ".join(str(i) for i, _ in failing[_MAX_FAILURES:])
            lines.append(f"  ... and {len(failing) - _MAX_FAILURES} more failing (case {rest})")
        return "\n".join(lines)

    __repr__ = __str__

    def _repr_pretty_(self, printer, cycle: bool) -> None:  # IPython's display hook
        printer.text(str(self))


def compare(expected: Any, got: Any, atol: float = 1e-6, rtol: float = 1e-6) -> str | None:
    """``None`` when `got` matches `expected`, else a sentence saying what differs.

    Introduced in chapter 1. Arrays must have the same shape (no broadcasting) and be close;
    integers must be equal; NaN never matches.
    """
    if hasattr(got, "detach"):  # accept torch tensors as answers
        got = got.detach().cpu().numpy()
    if isinstance(expected, (int, np.integer)) and not isinstance(expected, bool):
        if isinstance(got, (bool, np.bool_)) or not isinstance(got, (int, np.integer, float,
                                                                     np.floating)):
            return f"expected a whole number, got {type(got).__name__}"
        if got != expected:
            return f"off by {got - expected:+g}"
        return None
    try:
        g = np.asarray(got, dtype=float)
    except (TypeError, ValueError):
        return f"expected numbers, got {type(got).__name__}"
    e = np.asarray(expected, dtype=float)
    if g.shape != e.shape:
        return f"shape {g.shape} instead of {e.shape}"
    if np.isnan(g).any():
        return "the answer contains NaN"
    if np.isinf(g).any() and not np.array_equal(np.isinf(g), np.isinf(e)):
        return "the answer contains infinity"
    if not np.allclose(g, e, atol=atol, rtol=rtol):
        worst = float(np.max(np.abs(g - e)))
        return f"values differ (largest difference {worst:.4g})"
    return None


def run_cases(
    name: str,
    fn: Callable[..., Any],
    cases: Sequence[Case],
    atol: float = 1e-6,
    rtol: float = 1e-6,
) -> CheckResult:
    """Run `fn` on every case, catching exceptions, and compare each answer with the expected one.

    Introduced in chapter 1. The core every exercise checker shares.
    """
    if not callable(fn):
        raise ValueError(f"{name}: expected a function to check, got {type(fn).__name__}")
    results = []
    for case in cases:
        # Give the reader's function copies, so that one that modifies its input in place
        # cannot change the expected values or the next case.
        args = tuple(a.copy() if isinstance(a, np.ndarray) else a for a in case.args)
        try:
            with np.errstate(all="ignore"):  # overflow shows up as a wrong answer, not a warning
                got = fn(*args, **case.kwargs)
        except Exception as err:  # noqa: BLE001 - any error of the reader's code is a result
            results.append(CaseResult(case, False, error=f"{type(err).__name__}: {err}"))
            continue
        problem = compare(case.expected, got, atol=atol, rtol=rtol)
        results.append(CaseResult(case, problem is None, got=got, problem=problem))
    return CheckResult(name, tuple(results))


# ----------------------------------------------------------------------------- chapter 1


def one_hot(fn: Callable[[Sequence[str], dict[str, int]], Any]) -> CheckResult:
    """Check ``fn(tokens, vocab)`` → the one-hot matrix of shape ``(len(tokens), len(vocab))``.

    Introduced in chapter 1 (exercise: one-hot vectors).
    """
    vocab = _sequences.build_vocab(["the cat sat on the mat"])
    big = _sequences.build_vocab(_sequences.TINY_CORPUS)
    inputs = [
        ("a three-word sentence", ["the", "cat", "sat"], vocab),
        ("a repeated word gives repeated rows", ["the", "mat", "the"], vocab),
        ("one word", ["on"], vocab),
        ("a larger vocabulary", _sequences.tokenize("the dog ate the cheese"), big),
    ]
    cases = [Case(d, (t, v), _sequences.one_hot(t, v)) for d, t, v in inputs]
    return run_cases("one_hot", fn, cases)


def count_parameters(fn: Callable[[int, int, int], Any]) -> CheckResult:
    """Check ``fn(window, d_in, d_out)`` → parameters of a fully connected window layer.

    Introduced in chapter 1 (exercise: counting parameters). Weights and biases both count.
    """
    inputs = [
        ("a window of one vector", (1, 4, 3)),
        ("a window of three vectors", (3, 4, 3)),
        ("a window as wide as a 50-word sentence", (50, 300, 300)),
        ("d_in differs from d_out", (5, 10, 2)),
    ]
    cases = [Case(d, a, _sequences.fully_connected_window_parameters(*a)) for d, a in inputs]
    return run_cases("count_parameters", fn, cases)


# ----------------------------------------------------------------------------- chapter 2


def _rng_cases(seed: int) -> np.random.Generator:
    return np.random.default_rng(seed)


def softmax(fn: Callable[[np.ndarray], Any]) -> CheckResult:
    """Check ``fn(x)`` → softmax over the last axis, numerically stable.

    Introduced in chapter 2 (exercise: softmax).
    """
    rng = _rng_cases(2)
    inputs = [
        ("three scores", np.array([1.0, 2.0, 3.0])),
        ("equal scores give equal weights", np.zeros(4)),
        ("a matrix: softmax of each row", rng.normal(size=(2, 3))),
        ("large scores (exp would overflow)", np.array([1000.0, 1001.0, 1002.0])),
        ("very negative scores (exp would underflow to 0)", np.array([-1000.0, -1001.0])),
    ]
    cases = [Case(d, (x,), _relevance.softmax(x)) for d, x in inputs]
    return run_cases("softmax", fn, cases)


def relevance_scores(fn: Callable[[np.ndarray, np.ndarray], Any]) -> CheckResult:
    """Check ``fn(q, k)`` → the dot product of one query ``(d,)`` with each key ``(n, d)``.

    Introduced in chapter 2 (exercise: relevance scores).
    """
    rng = _rng_cases(3)
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
    rng = _rng_cases(4)
    v = rng.normal(size=(4, 3))
    inputs = [
        ("all weight on the second value", np.array([0.0, 1.0, 0.0, 0.0]), v),
        ("equal weights: the mean of the values", np.full(4, 0.25), v),
        ("softmax weights", _relevance.softmax(rng.normal(size=4)), v),
        ("more values than dimensions", _relevance.softmax(rng.normal(size=6)),
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

    rng = _rng_cases(31)
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
    rng = _rng_cases(32)
    inputs = [
        ("uniform weights over 4 keys: log 4", np.full(4, 0.25)),
        ("all weight on one key: 0", np.array([0.0, 1.0, 0.0])),
        ("a matrix: one entropy per row", _relevance.softmax(rng.normal(size=(3, 5)))),
        ("a zero weight next to others (0 · log 0 = 0)", np.array([0.5, 0.5, 0.0])),
        ("a stack of maps (heads, queries, keys)", _relevance.softmax(rng.normal(size=(2, 3, 4)))),
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

    rng = _rng_cases(41)
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

    rng = _rng_cases(51)
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
    (:func:`attnbook.compare.conv_receptive_field`).
    """
    from attnbook.compare import conv_receptive_field

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

    rng = _rng_cases(61)
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

    rng = _rng_cases(71)
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

    rng = _rng_cases(72)
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


# ----------------------------------------------------------------------------- chapter 13


def mean_attention_distance(fn: Callable[[np.ndarray], Any]) -> CheckResult:
    """Check ``fn(weights [..., L, L])`` → ``[...]``: Σⱼ α′ᵢⱼ |i − j| averaged over queries i.

    Introduced in chapter 13 (exercise: how far a head looks).
    """
    from attnbook import pretrained as _pretrained

    rng = _rng_cases(13)
    previous = np.eye(5, k=-1)
    previous[0, 0] = 1.0  # the first token has no previous one: it attends to itself
    inputs = [
        ("every token attends to itself: distance 0", np.eye(5)),
        ("each token attends to the one before it", previous),
        ("equal weights over 4 tokens", np.full((4, 4), 0.25)),
        ("random weights of one head", rng.dirichlet(np.ones(6), size=6)),
        ("2 layers x 3 heads at once: one distance per head", rng.dirichlet(np.ones(4),
                                                                           size=(2, 3, 4))),
    ]
    cases = [Case(d, (w,), _pretrained.mean_attention_distance(w)) for d, w in inputs]
    return run_cases("mean_attention_distance", fn, cases)


def mean_pool(fn: Callable[[Any, Any], Any]) -> CheckResult:
    """Check ``fn(hidden [B, L, d], attention_mask [B, L])`` → unit-length sentence vectors.

    Introduced in chapter 13 (exercise: mean pooling over the real tokens).
    """
    import torch

    from attnbook import pretrained as _pretrained

    rng = _rng_cases(14)

    def batch(lengths, L, d=4, pad_value=None):
        # An encoder computes outputs at [PAD] positions too: random numbers, or pad_value.
        hidden = torch.from_numpy(rng.normal(size=(len(lengths), L, d)))
        mask = torch.zeros(len(lengths), L, dtype=torch.long)
        for i, n in enumerate(lengths):
            mask[i, :n] = 1
            if pad_value is not None:
                hidden[i, n:] = pad_value
        return hidden, mask

    inputs = [
        ("one sentence of 3 tokens, no padding", batch([3], 3)),
        ("a batch whose second sentence has 2 [PAD] positions", batch([5, 3], 5)),
        ("[PAD] positions hold large numbers that must not count", batch([2, 4], 4, 3, 100.0)),
        ("three sentences of different lengths", batch([1, 6, 4], 6, 5)),
    ]
    cases = [Case(d, (h, m), _pretrained.mean_pool(h, m).numpy()) for d, (h, m) in inputs]
    return run_cases("mean_pool", fn, cases)


# ----------------------------------------------------------------------------- chapter 8


def _run_equal(name: str, fn: Callable[..., Any], cases: Sequence[Case],
               what: str = "") -> CheckResult:
    """Like `run_cases`, for answers that must equal the expected value exactly (text)."""
    if not callable(fn):
        raise ValueError(f"{name}: expected a function to check, got {type(fn).__name__}")
    results = []
    for case in cases:
        try:
            got = fn(*case.args, **case.kwargs)
        except Exception as err:  # noqa: BLE001 - any error of the reader's code is a result
            results.append(CaseResult(case, False, error=f"{type(err).__name__}: {err}"))
            continue
        ok = type(got) is type(case.expected) and got == case.expected
        problem = None if ok else (f"expected {what or type(case.expected).__name__}, got "
                                   f"{type(got).__name__}" if type(got) is not
                                   type(case.expected) else "not the same")
        results.append(CaseResult(case, ok, got=got, problem=problem))
    return CheckResult(name, tuple(results))


def chinese_numeral(fn: Callable[[int], Any]) -> CheckResult:
    """Check ``fn(n)`` → the Chinese numeral of ``0 ≤ n ≤ 9999`` as a string.

    Introduced in chapter 8 (exercise: Chinese numerals). The rules are those of
    :func:`attnbook.numerals.to_chinese`, which gives the expected answers.
    """
    from attnbook import numerals as _numerals

    inputs = [
        ("zero", 0),
        ("one digit", 7),
        ("ten is 十, not 一十", 10),
        ("a teen", 15),
        ("a round hundred", 300),
        ("a zero between two read digits is 零", 305),
        ("a run of zeros is one 零", 1005),
        ("zeros at the end are silent", 1100),
        ("a 1 in the tens place after 百 is 一十", 110),
        ("2 is always 二", 2026),
        ("two runs of zeros", 1010),
        ("every digit read", 9999),
    ]
    cases = [Case(d, (n,), _numerals.to_chinese(n)) for d, n in inputs]
    return _run_equal("chinese_numeral", fn, cases, what="a str")


def multilabel_target(fn: Callable[[Sequence[str], Sequence[str]], Any]) -> CheckResult:
    """Check ``fn(labels, vocab)`` → the label set as a target sequence of ids, END last.

    Introduced in chapter 8 (exercise: multi-label classification as sequence to sequence).
    The ids follow the vocabulary's order, each label once, then the id of ``"END"``; the
    expected answers come from :func:`attnbook.experiments.multilabel_target`.
    """
    from attnbook import experiments as _experiments

    vocab = ["END", "action", "comedy", "drama", "horror", "romance", "sci-fi"]
    inputs = [
        ("one label", ["comedy"]),
        ("two labels, given in vocabulary order", ["comedy", "romance"]),
        ("two labels, given in the other order", ["sci-fi", "action"]),
        ("a label given twice counts once", ["drama", "horror", "drama"]),
        ("no label at all: only END", []),
    ]
    cases = [Case(d, (labels, vocab), _experiments.multilabel_target(labels, vocab))
             for d, labels in inputs]

    def as_ids(labels, vocab):
        got = fn(labels, vocab)
        return [int(i) for i in (got.tolist() if hasattr(got, "tolist") else got)]

    return _run_equal("multilabel_target", as_ids, cases, what="a list of ids")


# ----------------------------------------------------------------------------- chapter 9


def layer_norm(fn: Callable[..., Any]) -> CheckResult:
    """Check ``fn(x, gamma, beta, eps=1e-5)`` → layer normalization over the last axis.

    Introduced in chapter 9 (exercise: layer normalization). Each vector (the last axis of
    ``x``) is shifted to mean 0 and scaled to variance 1 (the biased variance, over the
    features, plus ``eps`` under the square root), then multiplied by ``gamma`` and shifted
    by ``beta``. The expected answers come from ``torch.nn.functional.layer_norm``.
    """
    import torch
    import torch.nn.functional as F

    def expected(x, gamma, beta, eps=1e-5):
        t = torch.from_numpy(x)
        return F.layer_norm(t, t.shape[-1:], torch.from_numpy(gamma), torch.from_numpy(beta),
                            eps).numpy()

    rng = _rng_cases(9)
    inputs = [
        ("one vector, gamma = 1, beta = 0", (rng.normal(size=4), np.ones(4), np.zeros(4))),
        ("one vector per row of a matrix", (rng.normal(2.0, 3.0, size=(3, 5)), np.ones(5),
                                            np.zeros(5))),
        ("a learned scale and shift", (rng.normal(size=(2, 6)), rng.normal(size=6),
                                       rng.normal(size=6))),
        ("a batch of sequences (B, L, d)", (rng.normal(size=(2, 3, 4)), rng.normal(size=4),
                                            rng.normal(size=4))),
        ("a constant vector: eps keeps the division finite", (np.full(4, 3.0), np.ones(4),
                                                              np.zeros(4))),
    ]
    cases = [Case(d, args, expected(*args)) for d, args in inputs]
    cases.append(Case("a larger eps", inputs[0][1], expected(*inputs[0][1], eps=0.5),
                      kwargs={"eps": 0.5}))
    return run_cases("layer_norm", fn, cases, atol=1e-5, rtol=1e-5)


class _Sublayer:
    """A module of a random encoder block, passed to the reader's function as a callable."""

    def __init__(self, description: str, function: Callable[[Any], Any]):
        self.description = description
        self.function = function

    def __call__(self, x):
        return self.function(x)

    def __repr__(self) -> str:
        return f"<{self.description}>"


def encoder_block(fn: Callable[..., Any]) -> CheckResult:
    """Check ``fn(x, self_attention, feed_forward, norm1, norm2, norm_first)`` → the output
    of one encoder block.

    Introduced in chapter 9 (exercise: the encoder block). ``x`` is a tensor ``[B, L, d]``;
    the other arguments are the block's sublayers as functions of one tensor, taken from a
    random :class:`attnbook.layers.EncoderLayer`, whose own output is the expected answer.
    ``norm_first=False`` is post-LN (the notes), ``True`` pre-LN.
    """
    import torch

    from attnbook.layers import EncoderLayer

    cases = []
    for i, (norm_first, shape) in enumerate([(False, (1, 4, 8)), (False, (2, 3, 8)),
                                             (True, (1, 4, 8)), (True, (2, 5, 8))]):
        torch.manual_seed(90 + i)
        layer = EncoderLayer(8, 2, dim_feedforward=16, dropout=0.0, norm_first=norm_first)
        with torch.no_grad():  # a learned-looking scale and shift, so the norms differ
            for norm in (layer.norm1, layer.norm2):
                norm.weight.uniform_(0.5, 1.5)
                norm.bias.normal_(0.0, 0.3)
        layer.eval()
        x = torch.randn(shape)

        def attend(h, layer=layer):
            with torch.no_grad():
                return layer.self_attn(h, h, h, need_weights=False)[0]

        def no_grad(module):
            def call(h):
                with torch.no_grad():
                    return module(h)
            return call

        kind = "pre-LN" if norm_first else "post-LN"
        args = (x, _Sublayer("self-attention", attend),
                _Sublayer("feed forward", no_grad(layer.feed_forward)),
                _Sublayer("layer norm 1", no_grad(layer.norm1)),
                _Sublayer("layer norm 2", no_grad(layer.norm2)), norm_first)
        with torch.no_grad():
            want = layer(x).numpy()
        cases.append(Case(f"a {kind} block on a batch of shape {shape}", args, want))
    return run_cases("encoder_block", fn, cases, atol=1e-5, rtol=1e-5)


# ----------------------------------------------------------------------------- chapter 12


def shift_right(fn: Callable[[Sequence[int]], Any]) -> CheckResult:
    """Check ``fn(target)`` → ``(decoder_input, labels)`` for teacher forcing.

    Introduced in chapter 12 (exercise: the decoder's input and labels). ``target`` holds
    the answer's token ids without BEGIN (id 1) and END (id 2); the expected answers come
    from :func:`attnbook.experiments.shift_right`.
    """
    from attnbook import experiments as _experiments
    from attnbook import numerals as _numerals

    inputs = [
        ("305 = 三百零五", _numerals.target_ids(305)),
        ("7 = 七, one token", _numerals.target_ids(7)),
        ("100001 = 十万零一", _numerals.target_ids(100001)),
        ("an empty answer: only BEGIN in, only END out", []),
    ]
    cases = [Case(d, (t,), _experiments.shift_right(t)) for d, t in inputs]

    def as_lists(target):
        got = fn(list(target))
        if not isinstance(got, (tuple, list)) or len(got) != 2:
            raise TypeError("return a pair: (decoder_input, labels)")
        return tuple([int(i) for i in (g.tolist() if hasattr(g, "tolist") else g)]
                     for g in got)

    return _run_equal("shift_right", as_lists, cases, what="a pair of lists")


def sequence_cross_entropy(fn: Callable[..., Any]) -> CheckResult:
    """Check ``fn(logits, labels, pad_id)`` → the mean cross-entropy over the non-padding
    positions.

    Introduced in chapter 12 (exercise: the teacher-forcing loss). ``logits`` is a tensor
    ``[B, T, V]``, ``labels`` ``[B, T]`` token ids, padded with ``pad_id``. The expected
    answers come from :func:`attnbook.experiments.sequence_cross_entropy`.
    """
    import torch

    from attnbook import experiments as _experiments

    g = torch.Generator().manual_seed(12)

    def draw(B, T, V, pad_from=None):
        logits = torch.randn(B, T, V, generator=g) * 2
        labels = torch.randint(1, V, (B, T), generator=g)
        if pad_from is not None:
            for b, start in enumerate(pad_from):
                labels[b, start:] = 0
        return logits, labels, 0

    inputs = [
        ("one sequence, no padding", draw(1, 4, 5)),
        ("a batch, no padding", draw(3, 3, 6)),
        ("a batch with padding: padded positions are not scored", draw(3, 5, 6, [5, 2, 4])),
        ("confident logits", (torch.eye(4)[None] * 20, torch.arange(4)[None] % 3 + 1, 0)),
    ]
    cases = [Case(d, args, float(_experiments.sequence_cross_entropy(*args)))
             for d, args in inputs]

    def as_float(logits, labels, pad_id):
        got = fn(logits.clone(), labels.clone(), pad_id)
        return float(got.detach() if hasattr(got, "detach") else got)

    return run_cases("sequence_cross_entropy", as_float, cases, atol=1e-5, rtol=1e-5)


# ----------------------------------------------------------------------------- chapter 10


def causal_mask(fn: Callable[[int], Any]) -> CheckResult:
    """Check ``fn(n)`` → the causal mask, bool ``[n, n]``, True where query i may attend key j.

    Introduced in chapter 10 (exercise: the causal mask). The book's convention: True = may
    attend, so True on and below the diagonal. A mask in the other convention (True =
    blocked, as ``nn.MultiheadAttention`` wants) fails, and so does a mask that is not bool.
    """
    from attnbook import masks as _masks

    def bool_only(n):
        got = fn(n)
        dtype = getattr(got, "dtype", None)
        if dtype is None:
            got = np.asarray(got)
            dtype = got.dtype
        if str(dtype) not in ("bool", "torch.bool"):
            raise TypeError(f"the mask must be bool (True = may attend), got dtype {dtype}")
        return got

    inputs = [
        ("one position: it sees itself", 1),
        ("two positions", 2),
        ("four positions", 4),
        ("seven positions", 7),
    ]
    cases = [Case(d, (n,), _masks.causal_mask(n).numpy()) for d, n in inputs]
    results = run_cases("causal_mask", bool_only, cases)
    # The other convention is the likeliest mistake: name it.
    named = []
    for r in results.results:
        if r.error is None and not r.passed and r.problem and "differ" in r.problem:
            got = np.asarray(r.got.detach().cpu() if hasattr(r.got, "detach") else r.got)
            if got.shape == r.case.expected.shape and np.array_equal(got, ~r.case.expected):
                r = CaseResult(r.case, False, got=r.got, problem="this is the opposite "
                               "convention (True = blocked); here True means 'may attend'")
        named.append(r)
    return CheckResult(results.name, tuple(named))


class _ToyDecoder:
    """A stand-in for a trained decoder: a fixed next-token distribution for each prefix.

    ``spell`` is the sequence it wants to produce; at step t it gives most of the
    probability to ``spell[t]`` (or to END once the sequence is spelt, unless ``endless``),
    and spreads the rest over the other tokens with seeded random numbers.
    """

    def __init__(self, description: str, spell: Sequence[int], vocab: int = 8, end: int = 2,
                 endless: bool = False, seed: int = 0, follow_prefix: bool = False):
        self.description = description
        self.spell = list(spell)
        self.vocab, self.end, self.endless = vocab, end, endless
        self.rng = np.random.default_rng(seed)
        self.noise = self.rng.dirichlet(np.ones(vocab), size=32)  # (steps, vocab)
        self.follow_prefix = follow_prefix  # choose from the last token read, not the step

    def __call__(self, prefix: list[int]) -> np.ndarray:
        t = len(prefix) - 1  # tokens chosen so far
        if self.follow_prefix:
            # The next token is the last one read plus 3 (mod vocab): only a loop that feeds
            # its own choice back produces the right sequence.
            target = (prefix[-1] + 3) % self.vocab
            if target in (0, 1):
                target = self.end
        elif t < len(self.spell):
            target = self.spell[t]
        else:
            target = (3 + t) % self.vocab if self.endless else self.end
            if self.endless and target in (0, 1, self.end):
                target = 4
        probs = 0.4 * self.noise[t % len(self.noise)]
        probs[target] += 0.6
        return probs

    def __repr__(self) -> str:
        return f"<{self.description}>"


def greedy_decode(fn: Callable[..., Any]) -> CheckResult:
    """Check ``fn(next_distribution, begin, end, max_len)`` → the greedily decoded token ids.

    Introduced in chapter 10 (exercise: the autoregressive loop). ``next_distribution(prefix)``
    returns one probability per token id for the decoder input ``prefix`` (a list of ids that
    starts with ``begin``). The answer is the list of chosen ids, without BEGIN and END.
    """
    from attnbook import decoding as _decoding

    begin, end = 1, 2
    decoders = [
        (_ToyDecoder("a decoder that spells 5 7 3 then END", [5, 7, 3], seed=1), 10),
        (_ToyDecoder("a decoder whose first choice is END", [], seed=2), 10),
        (_ToyDecoder("a decoder that never chooses END", [], endless=True, seed=3), 6),
        (_ToyDecoder("a decoder that chooses from the last token it read", [],
                     follow_prefix=True, vocab=11, seed=4), 10),
        (_ToyDecoder("a decoder that would spell 9 tokens, with max_len=4", [3] * 9, vocab=10,
                     seed=5), 4),
    ]
    cases = [Case(dec.description, (dec, begin, end, max_len),
                  _decoding.greedy_loop(dec, begin, end, max_len))
             for dec, max_len in decoders]

    def as_list(*args):
        got = fn(*args)
        if hasattr(got, "tolist"):
            got = got.tolist()
        return [int(t) for t in got]

    results = run_cases("greedy_decode", as_list, cases)
    # Lists of different lengths cannot be compared as arrays: say so in words.
    fixed = []
    for r in results.results:
        if r.error is None and not r.passed and isinstance(r.got, list) \
                and len(r.got) != len(r.case.expected):
            n, want = len(r.got), len(r.case.expected)
            r = CaseResult(r.case, False, got=r.got, problem=f"{n} token{'s' * (n != 1)} "
                           f"instead of {want} (BEGIN and END are not part of the answer)")
        fixed.append(r)
    return CheckResult(results.name, tuple(fixed))


# ----------------------------------------------------------------------------- chapter 11


def cross_attention(fn: Callable[..., Any]) -> CheckResult:
    """Check ``fn(y, memory, W_q, W_k, W_v)`` → cross attention's output, one row per query.

    Introduced in chapter 11 (exercise: cross attention). ``y`` ``(T, d)`` are the decoder's
    vectors (one per row), ``memory`` ``(S, d)`` the encoder's output. Queries come from
    ``y @ W_q``, keys and values from ``memory @ W_k`` and ``memory @ W_v``; the weights are
    ``softmax(q kᵀ / √d_k)`` over the S encoder positions. The answer is ``(T, d_v)``.
    """
    import torch

    from attnbook.attention import scaled_dot_product_attention

    def expected(y, memory, W_q, W_k, W_v):
        t = [torch.from_numpy(m) for m in (y @ W_q, memory @ W_k, memory @ W_v)]
        return scaled_dot_product_attention(*t)[0].numpy()

    rng = _rng_cases(11)

    def draw(T, S, d, d_v):
        return (rng.normal(size=(T, d)), rng.normal(size=(S, d)), rng.normal(size=(d, d)),
                rng.normal(size=(d, d)), rng.normal(size=(d, d_v)))

    inputs = [
        ("one query, three encoder positions", draw(1, 3, 4, 4)),
        ("more queries than encoder positions", draw(5, 2, 4, 4)),
        ("fewer queries than encoder positions, d_v != d", draw(2, 6, 8, 3)),
    ]
    cases = [Case(d, args, expected(*args)) for d, args in inputs]
    return run_cases("cross_attention", fn, cases)


def cross_attention_mask(fn: Callable[..., Any]) -> CheckResult:
    """Check ``fn(src_lengths, tgt_len, src_len)`` → bool ``[B, tgt_len, src_len]`` mask.

    Introduced in chapter 11 (exercise: cross attention on a padded batch). Source ``b`` has
    ``src_lengths[b]`` real tokens and is padded to ``src_len``; every decoder position may
    attend to the real source tokens of its own example and to no padding (True = may
    attend).
    """
    from attnbook import masks as _masks

    def expected(lengths, tgt_len, src_len):
        m = _masks.padding_mask(lengths, src_len)[:, None, :]  # (B, 1, S)
        return m.expand(len(lengths), tgt_len, src_len).numpy()

    def bool_only(*args):
        got = fn(*args)
        dtype = getattr(got, "dtype", np.asarray(got).dtype)
        if str(dtype) not in ("bool", "torch.bool"):
            raise TypeError(f"the mask must be bool (True = may attend), got dtype {dtype}")
        return got

    inputs = [
        ("one source, no padding", ([4], 3, 4)),
        ("two sources, the second padded", ([4, 2], 3, 4)),
        ("three sources, one decoder position", ([1, 5, 3], 1, 5)),
    ]
    cases = [Case(d, args, expected(*args)) for d, args in inputs]
    return run_cases("cross_attention_mask", bool_only, cases)
