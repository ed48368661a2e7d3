"""The core every exercise checker shares: cases, results shown as text, comparison.

Introduced in chapter 1. The checkers of each part of the book (``attnbook.check.*``) build
a list of :class:`Case` with the expected answers from the package's own tested functions,
then call :func:`run_cases` (numbers, compared with a tolerance) or :func:`run_equal` (exact
answers such as text).
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np


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
        # 70 characters, so that a line indented by _indent still fits the page (76).
        text = np.array2string(
            value, precision=4, suppress_small=True, threshold=40, max_line_width=70
        )
        # A matrix, or a vector too long for one line, starts on its own line, so that its
        # rows line up.
        if value.ndim >= 2 or "\n" in text:
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
                if r.problem:  # wrapped to the page's 76 characters
                    lines += textwrap.wrap(
                        f"problem: {r.problem}", width=76, initial_indent="    ",
                        subsequent_indent="      ",
                    )
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


def _run(name: str, fn: Callable[..., Any], cases: Sequence[Case],
         judge: Callable[[Any, Any], str | None]) -> CheckResult:
    """Run `fn` on every case, catching exceptions; ``judge(expected, got)`` names a problem."""
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
        problem = judge(case.expected, got)
        results.append(CaseResult(case, problem is None, got=got, problem=problem))
    return CheckResult(name, tuple(results))


def run_cases(
    name: str,
    fn: Callable[..., Any],
    cases: Sequence[Case],
    atol: float = 1e-6,
    rtol: float = 1e-6,
) -> CheckResult:
    """Run `fn` on every case, catching exceptions, and compare each answer with the expected one.

    Introduced in chapter 1. The core every exercise checker shares; answers are compared by
    :func:`compare`.

    >>> result = run_cases("double", lambda x: 2 * x, [Case("two", (1,), 2), Case("four", (2,), 4)])
    >>> print(result)
    double: 2 of 2 cases pass ✓
    """
    return _run(name, fn, cases, lambda expected, got: compare(expected, got, atol=atol,
                                                                  rtol=rtol))


def run_equal(name: str, fn: Callable[..., Any], cases: Sequence[Case],
              what: str = "") -> CheckResult:
    """Like :func:`run_cases`, for answers that must equal the expected value exactly.

    For the answers of chapter 8 (text, lists of ids): the type must match too, and no
    tolerance applies. `what` names the expected type in the message, e.g. ``"a str"``.
    """
    def judge(expected: Any, got: Any) -> str | None:
        if type(got) is not type(expected):
            return f"expected {what or type(expected).__name__}, got {type(got).__name__}"
        return None if got == expected else "not the same"

    return _run(name, fn, cases, judge)


def bool_mask(got: Any) -> Any:
    """`got` as it is when it is a bool mask (array or tensor); a TypeError saying so if not.

    For the masks of chapters 10 and 11. The book's masks are bool, True = may attend; a
    float or int mask with the right values is the wrong answer, named as such.
    """
    dtype = getattr(got, "dtype", None)
    if dtype is None:  # a list: look at it as an array
        got = np.asarray(got)
        dtype = got.dtype
    if str(dtype) not in ("bool", "torch.bool"):
        raise TypeError(f"the mask must be bool (True = may attend), got dtype {dtype}")
    return got


def reword(result: CheckResult, explain: Callable[[CaseResult], str | None]) -> CheckResult:
    """`result`, with the problem of each wrong answer said by ``explain(case_result)`` where
    it returns a sentence (a known mistake, named), and left as it is where it returns None.

    Used by the checkers of chapter 10, which name the likeliest mistakes in words (a mask in
    the other convention, BEGIN and END left in the answer) instead of "values differ".
    """
    results = []
    for r in result.results:
        problem = None if r.passed or r.error is not None else explain(r)
        if problem is not None:
            r = CaseResult(r.case, False, got=r.got, problem=problem)
        results.append(r)
    return CheckResult(result.name, tuple(results))
