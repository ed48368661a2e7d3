"""AttentionMap: an attention view that works in a live notebook and on the static website."""

from __future__ import annotations

import math
from collections.abc import Sequence

import anywidget
import numpy as np
import traitlets

from attnbook.widgets._front_end import as_array, css, esm

VIEWS = ("heatmap", "lines")

_DEFAULT_AXES = {0: [], 1: ["head"], 2: ["layer", "head"]}


def _tokens(tokens, what: str) -> list[str]:
    if isinstance(tokens, str):
        raise ValueError(f"{what} must be a list of strings, one per token, not one string")
    tokens = [str(t) for t in tokens]
    if not tokens:
        raise ValueError(f"{what} is empty: an attention map needs at least one token")
    return tokens


class AttentionMap(anywidget.AnyWidget):
    """An attention view: a heatmap with a hover readout, and lines between two token columns.

    Introduced in chapter 1 (which inputs each output can see); from chapter 2 on, every
    chapter shows attention weights with it.

    ``weights[..., i, j]`` is how much row token ``i`` (a query) attends to column token ``j``
    (a key). The leading axes, if any, are views the reader can switch between in the page:
    heads, layers, decoding steps, temperatures. Python computes every map up front; the
    JavaScript front end only draws and reacts, so the widget works without a kernel.

    Args:
        weights: array-like of shape ``(*grid, n_rows, n_cols)``, finite and non-negative.
        row_tokens: the queries, one string per row.
        col_tokens: the keys, one string per column; defaults to ``row_tokens``
            (self-attention).
        axes: a name for each leading axis of ``weights``. Defaults: none for 2-D weights,
            ``["head"]`` for 3-D, ``["layer", "head"]`` for 4-D.
        axis_labels: for each axis, one label per index; defaults to ``"0"``, ``"1"``, ...
        title: shown above the view.
        view: ``"heatmap"`` or ``"lines"``, the view shown first.
        row_name, col_name: what the rows and columns are, shown in the readout.
        vmax: the weight drawn with the brightest colour; defaults to the largest weight over
            all maps, so that maps are compared on one scale.
        decimals: decimals kept in the page (and shown in the readout).

    Raises:
        ValueError: when the weights do not fit the tokens, axes or labels, or are not finite
            and non-negative.
    """

    _esm = esm("attention_map")
    _css = css("attention_map")

    row_tokens = traitlets.List(traitlets.Unicode()).tag(sync=True)
    col_tokens = traitlets.List(traitlets.Unicode()).tag(sync=True)
    # Every map the view can show, flattened over the leading axes: [n_maps][n_rows][n_cols].
    weights = traitlets.List().tag(sync=True)
    axes = traitlets.List(traitlets.Unicode()).tag(sync=True)
    axis_labels = traitlets.List(traitlets.List(traitlets.Unicode())).tag(sync=True)
    # The index chosen on each axis; set by the page when the reader clicks, readable here.
    selection = traitlets.List(traitlets.Int()).tag(sync=True)
    view = traitlets.Enum(VIEWS, default_value="heatmap").tag(sync=True)
    title = traitlets.Unicode("").tag(sync=True)
    row_name = traitlets.Unicode("query").tag(sync=True)
    col_name = traitlets.Unicode("key").tag(sync=True)
    vmax = traitlets.Float(1.0).tag(sync=True)
    decimals = traitlets.Int(3).tag(sync=True)

    def __init__(
        self,
        weights,
        row_tokens: Sequence[str],
        col_tokens: Sequence[str] | None = None,
        *,
        axes: Sequence[str] | None = None,
        axis_labels: Sequence[Sequence[str]] | None = None,
        title: str = "",
        view: str = "heatmap",
        row_name: str = "query",
        col_name: str = "key",
        vmax: float | None = None,
        decimals: int = 3,
    ) -> None:
        if view not in VIEWS:
            raise ValueError(f"view={view!r} is not one of {VIEWS}")
        if not 0 <= decimals <= 8:
            raise ValueError(f"decimals={decimals} must be between 0 and 8")
        super().__init__(
            title=str(title), view=view, row_name=str(row_name), col_name=str(col_name),
            decimals=decimals,
        )
        self.update(weights, row_tokens, col_tokens, axes=axes, axis_labels=axis_labels,
                    vmax=vmax)

    @classmethod
    def from_decoding(cls, record, kind: str = "cross", title: str = "") -> AttentionMap:
        """The attention of one recorded greedy decoding, with step, layer and head axes.

        Introduced in chapter 10 (``kind='self'``: rows and columns are the decoder's inputs)
        and chapter 11 (``kind='cross'``: rows are the output tokens, columns the source
        tokens). The record is read by its attributes only (as
        :class:`attnbook.labs.decoding_steps.DecodingRecord` has them): ``step_maps(kind)``
        ``(steps, layers, heads, rows, keys)``, ``outputs``, ``inputs`` and ``source``.
        """
        maps = record.step_maps(kind)  # (steps, L, h, T, K)
        layers, heads = maps.shape[1:3]
        labels = [[f"{t + 1}: {tok}" for t, tok in enumerate(record.outputs)],
                  [str(i + 1) for i in range(layers)], [str(i + 1) for i in range(heads)]]
        if kind == "cross":
            return cls(maps, record.outputs, list(record.source), axes=["step", "layer", "head"],
                       axis_labels=labels, title=title, row_name="output", col_name="digit",
                       vmax=1.0)
        return cls(maps, record.inputs, axes=["step", "layer", "head"], axis_labels=labels,
                   title=title, row_name="input", col_name="earlier input", vmax=1.0)

    def update(self, weights, row_tokens, col_tokens=None, *, axes=None, axis_labels=None,
               vmax=None) -> None:
        """Replace the maps and tokens at once (validated together; the page redraws)."""
        rows = _tokens(row_tokens, "row_tokens")
        cols = rows if col_tokens is None else _tokens(col_tokens, "col_tokens")
        w = as_array(weights)
        if w.ndim < 2:
            raise ValueError(
                f"weights must have at least 2 dimensions (rows, columns); got shape {w.shape}"
            )
        if w.shape[-2:] != (len(rows), len(cols)):
            raise ValueError(
                f"weights shape {w.shape} does not match the tokens: expected "
                f"(..., {len(rows)}, {len(cols)}) for {len(rows)} row tokens (queries) and "
                f"{len(cols)} column tokens (keys)"
            )
        if not np.isfinite(w).all():
            raise ValueError("weights contain NaN or infinity; an attention map needs finite "
                             "weights")
        if (w < 0).any():
            raise ValueError(f"weights must be non-negative; the smallest is {w.min():.4g}")
        grid = w.shape[:-2]
        if axes is None:
            axes = _DEFAULT_AXES.get(len(grid), [f"axis {i}" for i in range(len(grid))])
        axes = [str(a) for a in axes]
        if len(axes) != len(grid):
            raise ValueError(
                f"axes={axes} names {len(axes)} axes but weights of shape {w.shape} have "
                f"{len(grid)} leading axes"
            )
        if axis_labels is None:
            axis_labels = [[str(i) for i in range(n)] for n in grid]
        axis_labels = [[str(label) for label in labels] for labels in axis_labels]
        if [len(labels) for labels in axis_labels] != list(grid):
            raise ValueError(
                f"axis_labels has {[len(labels) for labels in axis_labels]} labels per axis "
                f"but the leading axes of weights have sizes {list(grid)}"
            )
        if vmax is None:
            vmax = float(w.max()) if w.size else 1.0
        if not (math.isfinite(vmax) and vmax > 0):
            vmax = 1.0
        maps = np.round(w.reshape(-1, len(rows), len(cols)), self.decimals)  # (n_maps, Lq, Lk)
        with self.hold_trait_notifications():
            self.row_tokens = rows
            self.col_tokens = cols
            self.axes = axes
            self.axis_labels = axis_labels
            self.selection = [0] * len(grid)
            self.vmax = float(vmax)
            self.weights = maps.tolist()

    @traitlets.validate("selection")
    def _check_selection(self, proposal):
        selection = proposal["value"]
        labels = self.axis_labels
        if len(selection) != len(labels) or any(
            not 0 <= s < len(lab) for s, lab in zip(selection, labels, strict=False)
        ):
            raise traitlets.TraitError(
                f"selection={selection} does not fit axes {self.axes} of sizes "
                f"{[len(lab) for lab in labels]}"
            )
        return selection

    @property
    def shape(self) -> tuple[int, ...]:
        """The shape of the weights: ``(*grid, n_rows, n_cols)``."""
        grid = tuple(len(labels) for labels in self.axis_labels)
        return (*grid, len(self.row_tokens), len(self.col_tokens))

    def current(self) -> np.ndarray:
        """The map the page shows now (after the reader's clicks, in a live kernel)."""
        index = 0
        for s, labels in zip(self.selection, self.axis_labels, strict=True):
            index = index * len(labels) + s
        return np.array(self.weights[index])

    def __repr__(self) -> str:
        # Deterministic (no memory address), so a notebook's text output is reproducible.
        axes = ", ".join(f"{a}={len(lab)}" for a, lab in zip(self.axes, self.axis_labels,
                                                             strict=True))
        grid = f", {axes}" if axes else ""
        return (f"AttentionMap({len(self.row_tokens)} {self.row_name} × "
                f"{len(self.col_tokens)} {self.col_name}{grid})")
