"""MemoryView: scrub the sequence length n and see the memory each attention method needs."""

from __future__ import annotations

import math
from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal

import anywidget
import traitlets

from attnbook.widgets._front_end import css, esm

_UNITS = ("B", "KiB", "MiB", "GiB", "TiB", "PiB")


def format_bytes(n: float) -> str:
    """``1536`` → ``"1.5 KiB"``: three significant digits, binary units.

    Introduced in chapter 7. The page formats sizes the same way (memory_view.js), so that
    what Python prints and what the view shows agree.
    """
    n = float(n)
    if not math.isfinite(n) or n < 0:
        raise ValueError(f"a size in bytes must be finite and >= 0, got {n}")
    unit = 0
    while n >= 1024 and unit < len(_UNITS) - 1:
        n /= 1024
        unit += 1
    if unit == 0:
        return f"{int(round(n))} B"
    digits = 2 if n < 10 else 1 if n < 100 else 0
    # Round half up on the exact binary value, as JavaScript's toFixed does (Python's own
    # formatting rounds half to even), so that both sides print the same text.
    rounded = Decimal(n).quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP)
    return f"{rounded} {_UNITS[unit]}"


class MemoryView(anywidget.AnyWidget):
    """Bars of the memory each method needs at a sequence length ``n`` the reader picks.

    Introduced in chapter 7. ``values[i][m]`` is the memory, in bytes, that method
    ``methods[m]`` needs at ``sizes[i]``; a slider moves over the sizes and the bars follow
    on one logarithmic scale (so a bar twice as long is not twice the bytes: every grid line
    is a factor of 1024). ``measured[i][m]``, when given, is a measured peak shown next to
    the computed one (``None`` where nothing was measured). ``budget``, in bytes, draws a line
    (e.g. a laptop's memory) and marks the bars that do not fit under it. Every state is
    computed in Python, so the view works on the static website without a kernel.

    Args:
        sizes: the sequence lengths, increasing.
        methods: one name per method.
        values: ``[len(sizes)][len(methods)]`` bytes, finite and > 0.
        measured: same shape, bytes or ``None``; optional.
        budget: bytes for the reference line; ``None`` for no line.
        budget_label: what the line stands for, e.g. ``"16 GiB of RAM"``.
        title: shown above the view.
        index: the size shown first.
    """

    _esm = esm("memory_view")
    _css = css("memory_view")

    sizes = traitlets.List(traitlets.Int()).tag(sync=True)
    methods = traitlets.List(traitlets.Unicode()).tag(sync=True)
    # values[i][m]: bytes that method m needs at sizes[i]; measured: the same, or None.
    values = traitlets.List(traitlets.List(traitlets.Float())).tag(sync=True)
    measured = traitlets.List(traitlets.List()).tag(sync=True)
    budget = traitlets.Float(0.0).tag(sync=True)  # 0: no reference line
    budget_label = traitlets.Unicode("").tag(sync=True)
    title = traitlets.Unicode("").tag(sync=True)
    # The index into `sizes` shown now; set by the page when the reader moves the slider.
    index = traitlets.Int(0).tag(sync=True)

    def __init__(self, sizes: Sequence[int], methods: Sequence[str],
                 values: Sequence[Sequence[float]], *,
                 measured: Sequence[Sequence[float | None]] | None = None,
                 budget: float | None = None, budget_label: str = "", title: str = "",
                 index: int = 0) -> None:
        sizes = [int(n) for n in sizes]
        if isinstance(methods, str):
            raise ValueError("methods must be a list of names, not one string")
        methods = [str(m) for m in methods]
        if not sizes or not methods:
            raise ValueError(f"need at least one size and one method, got {len(sizes)} sizes "
                             f"and {len(methods)} methods")
        if any(b <= a for a, b in zip(sizes, sizes[1:], strict=False)) or sizes[0] < 1:
            raise ValueError(f"sizes must be positive and increasing, got {sizes}")
        shape = (len(sizes), len(methods))
        values = [[float(x) for x in row] for row in values]
        if (len(values), *{len(r) for r in values}) != shape:
            raise ValueError(f"values must be [{shape[0]} sizes][{shape[1]} methods], got "
                             f"{len(values)} rows of lengths {[len(r) for r in values]}")
        if not all(math.isfinite(x) and x > 0 for row in values for x in row):
            raise ValueError("every value must be a finite number of bytes > 0")
        if measured is None:
            measured = [[None] * len(methods) for _ in sizes]
        measured = [[None if x is None else float(x) for x in row] for row in measured]
        if (len(measured), *{len(r) for r in measured}) != shape:
            raise ValueError(f"measured must have the shape of values, {shape}")
        if not all(x is None or (math.isfinite(x) and x > 0) for row in measured for x in row):
            raise ValueError("every measured value must be None or a finite number of bytes > 0")
        if budget is not None and not (math.isfinite(budget) and budget > 0):
            raise ValueError(f"budget must be a number of bytes > 0 or None, got {budget}")
        if not 0 <= index < len(sizes):
            raise ValueError(f"index={index} is not between 0 and {len(sizes) - 1}")
        super().__init__(sizes=sizes, methods=methods, values=values, measured=measured,
                         budget=float(budget or 0.0), budget_label=str(budget_label),
                         title=str(title), index=index)

    @traitlets.validate("index")
    def _check_index(self, proposal):
        index = proposal["value"]
        if self.sizes and not 0 <= index < len(self.sizes):
            raise traitlets.TraitError(f"index={index} is not between 0 and "
                                       f"{len(self.sizes) - 1}")
        return index

    def current(self) -> dict[str, float]:
        """The bytes per method at the size the view shows now."""
        return dict(zip(self.methods, self.values[self.index], strict=True))

    def __repr__(self) -> str:
        # Deterministic (no memory address), so a notebook's text output is reproducible.
        return (f"MemoryView({len(self.methods)} methods × {len(self.sizes)} sizes, "
                f"n = {self.sizes[0]}…{self.sizes[-1]})")
