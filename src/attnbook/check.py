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
    "compare",
    "count_parameters",
    "one_hot",
    "relevance_scores",
    "run_cases",
    "softmax",
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
