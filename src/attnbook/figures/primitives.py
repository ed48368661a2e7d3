"""Drawing primitives shared by the figures and plots of `attnbook.figures`.

A numbered figure is one axes whose data units are inches (:func:`canvas`), so that sizes and
gaps are easy to reason about and text (in points) can be placed without overlap; on it the
primitives draw boxes, vectors, matrices, arrows, circles and labelled chips, each in the
colours of :data:`attnbook.figures.style.STYLE`. A plot of measurements starts from
:func:`plot_figure` and :func:`style_axes` instead.

These are the package's building blocks, public inside ``attnbook.figures`` (the part modules
and ``plots`` import them); the chapters call the figures and plots, not these.

>>> fig, ax = canvas(2.0, 1.0)
>>> box(ax, 1.0, 0.5, 0.8, 0.4, "layer")
(0.6, 0.3, 1.4, 0.7)
>>> num(-0.001), fmt(1.234, 1)
('$0.00$', '1.2')
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.offsetbox import AnnotationBbox, HPacker, TextArea, VPacker
from matplotlib.patches import Circle, FancyArrowPatch, FancyBboxPatch, Rectangle
from matplotlib.path import Path as MplPath

from attnbook.figures.style import STYLE, style_context

__all__ = [
    "arrow",
    "box",
    "bracket",
    "canvas",
    "chip",
    "circle",
    "fmt",
    "frame",
    "heading",
    "matrix",
    "mixed_text",
    "num",
    "operator_sign",
    "plot_figure",
    "polyline",
    "row_vector",
    "style_axes",
    "text",
    "vector",
]


# --------------------------------------------------------------------------------------------
# Figures and axes
# --------------------------------------------------------------------------------------------


def canvas(width: float, height: float) -> tuple[Figure, Axes]:
    """A blank white figure of `width` x `height` inches with one axes in inch units.

    The figure is made with pyplot (so the notebook's inline backend knows how to show it)
    and closed at once, so that the inline backend does not show it a second time at the
    end of the cell: the returned object is shown once, as the cell's value.

    Used in chapter 1 by `f1_output_types` (and by every numbered figure).
    """
    fig = plt.figure(figsize=(width, height), dpi=STYLE.dpi, facecolor=STYLE.background)
    plt.close(fig)
    ax = fig.add_axes((0.0, 0.0, 1.0, 1.0))
    ax.set_xlim(0.0, width)
    ax.set_ylim(0.0, height)
    ax.set_aspect("equal")
    ax.set_axis_off()
    return fig, ax


def plot_figure(width: float, height: float, ncols: int = 1, *, nrows: int = 1,
                **kwargs) -> tuple[Figure, list[Axes]]:
    """A white figure with `nrows` x `ncols` data axes (listed row by row) in the book's
    style, closed in pyplot (so that a notebook shows it once, as the cell's value).

    For the plots of measurements (not the numbered diagrams, which use :func:`canvas`);
    `kwargs` go to :func:`matplotlib.pyplot.subplots` (e.g. ``layout="constrained"``).

    Used in chapter 3 by `saturation_plot` (and by every plot).
    """
    with style_context():
        fig, axes = plt.subplots(nrows, ncols, figsize=(width, height), dpi=STYLE.dpi,
                                 squeeze=False, **kwargs)
    plt.close(fig)
    return fig, list(axes.ravel())


def style_axes(ax: Axes) -> None:
    """Light grid, no top or right spine, the book's tick labels.

    Used in chapter 3 by `saturation_plot` (and by every line plot).
    """
    for spine in ("top", "right"):
        ax.spines[spine].set_visible(False)
    ax.tick_params(labelsize=STYLE.small, colors=STYLE.text)
    ax.grid(True, color=STYLE.grid, linewidth=0.6)
    ax.set_axisbelow(True)


# --------------------------------------------------------------------------------------------
# Text and numbers
# --------------------------------------------------------------------------------------------


def text(ax: Axes, x: float, y: float, s: str, **kwargs):
    """`s` centred on (x, y) in the book's text colour and size (`kwargs` override them).

    A text that mixes Chinese characters with math (``"第 $j$ 列"``) is laid out by
    :func:`mixed_text`, since mathtext draws no Chinese character.

    Used in chapter 1 by `f1_output_types` (and by every numbered figure).
    """
    kwargs.setdefault("ha", "center")
    kwargs.setdefault("va", "center")
    kwargs.setdefault("color", STYLE.text)
    kwargs.setdefault("fontsize", STYLE.fontsize)
    if _MATH.search(s) and _CJK.search(s):
        return mixed_text(ax, x, y, s, **kwargs)
    return ax.text(x, y, s, **kwargs)


_MATH = re.compile(r"(\$[^$]+\$)")
_CJK = re.compile("[\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef]")
_MIXED_TEXT_PROPS = ("color", "fontsize", "fontweight", "fontstyle")


def mixed_text(ax: Axes, x: float, y: float, s: str, *, ha: str = "center",
               va: str = "center", zorder: float = 3, transform=None,
               offset: tuple[float, float] = (0.0, 0.0), **props):
    """`s`, plain text with math between ``$`` signs (each line of it), drawn piece by piece:
    the math by mathtext, the rest (Chinese characters among it) by the fonts, side by side
    on one baseline. Returns the AnnotationBbox that holds the pieces.

    `ha` and `va` align the whole text on (x, y), in data coordinates or `transform`'s,
    moved by `offset` points; `props` are the pieces' color, fontsize, fontweight and
    fontstyle.

    Used in chapter 2 by `f3_relevance` (in Chinese, ``language="zh_CN"``; :func:`text`
    calls it for every text that mixes Chinese with math).
    """
    unknown = set(props) - set(_MIXED_TEXT_PROPS)
    if unknown:
        raise TypeError(f"mixed_text() takes no {', '.join(sorted(unknown))}: {s!r}")
    lines = [
        HPacker(children=[TextArea(piece, textprops=props)
                          for piece in _MATH.split(line) if piece],
                align="baseline", pad=0, sep=0)
        for line in s.split("\n")
    ]
    box = lines[0] if len(lines) == 1 else VPacker(
        children=lines, align={"left": "left", "right": "right"}.get(ha, "center"), pad=0,
        sep=0.3 * props.get("fontsize", STYLE.fontsize))
    fx = {"left": 0.0, "center": 0.5, "right": 1.0}[ha]
    fy = {"bottom": 0.0, "center": 0.5, "top": 1.0}[va]
    holder = AnnotationBbox(box, (x, y), xycoords=transform or "data", xybox=offset,
                            boxcoords="offset points", box_alignment=(fx, fy), frameon=False,
                            pad=0, annotation_clip=False, zorder=zorder)
    ax.add_artist(holder)
    return holder


def heading(ax: Axes, x: float, y: float, s: str, fontsize: float | None = None):
    """A bold title centred on (x, y).

    Used in chapter 1 by `f1_output_types` (and by most numbered figures).
    """
    return text(ax, x, y, s, fontsize=fontsize or STYLE.title, fontweight="bold")


def operator_sign(ax: Axes, x: float, y: float, s: str):
    """A large operator sign (``$+$``, ``$=$``, ``$\\times$``) between two terms of an equation.

    Used in chapter 3 by `draw` (figures F6–F10).
    """
    return text(ax, x, y, s, fontsize=STYLE.title + 2)


def chip(ax: Axes, x: float, y: float, label: str, color: str, fontsize: float | None = None,
         ha: str = "center", pad: float = 0.25, zorder: float = 3):
    """A word in a rounded, tinted box: a token or a label.

    Used in chapter 8 by `draw` (figures F12–F14, F16, F19).
    """
    return text(
        ax, x, y, label, ha=ha, fontsize=fontsize or STYLE.fontsize,
        bbox={
            "boxstyle": f"round,pad={pad}",
            "facecolor": STYLE.tint(color, 0.4),
            "edgecolor": STYLE.line,
            "linewidth": STYLE.linewidth * 0.8,
        },
        zorder=zorder,
    )


def fmt(x: float, digits: int = 2) -> str:
    """`x` rounded for a figure (never "-0.00"), to put inside mathtext.

    Used in chapter 2 by `f3_relevance` (and by the plots that print values in cells).
    """
    s = f"{x:.{digits}f}"
    return s.lstrip("-") if float(s) == 0.0 else s


def num(x: float, digits: int = 2) -> str:
    """`x` rounded, as mathtext: a true minus sign.

    Used in chapter 2 by `f5_weighted_sum` (and by the matrices of F6–F9).
    """
    return f"${fmt(x, digits)}$"


# --------------------------------------------------------------------------------------------
# Shapes
# --------------------------------------------------------------------------------------------


def box(
    ax: Axes,
    cx: float,
    cy: float,
    w: float,
    h: float,
    label: str = "",
    color: str | None = None,
    fontsize: float | None = None,
) -> tuple[float, float, float, float]:
    """A rounded box centred on (cx, cy); returns (left, bottom, right, top).

    Used in chapter 1 by `f1_output_types` (and by most numbered figures).
    """
    color = color or STYLE.layer
    ax.add_patch(
        FancyBboxPatch(
            (cx - w / 2, cy - h / 2),
            w,
            h,
            boxstyle="round,pad=0,rounding_size=0.06",
            facecolor=STYLE.tint(color, 0.35),
            edgecolor=STYLE.line,
            linewidth=STYLE.linewidth,
            zorder=2,
        )
    )
    if label:
        text(ax, cx, cy, label, fontsize=fontsize or STYLE.fontsize, zorder=3)
    return cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2


def square(ax: Axes, left: float, bottom: float, width: float, height: float,
           facecolor: str) -> None:
    """One cell of a vector or a matrix: a plain rectangle with a thin outline.

    Used in chapter 1 by `f1_output_types` (through :func:`vector`).
    """
    ax.add_patch(Rectangle((left, bottom), width, height, facecolor=facecolor,
                           edgecolor=STYLE.line, linewidth=STYLE.linewidth * 0.8, zorder=2))


def band(ax: Axes, left: float, bottom: float, width: float, height: float) -> None:
    """The tinted band behind a layer's boxes (a self-attention layer, a convolution).

    Used in chapter 2 by `f2_self_attention_layer`.
    """
    ax.add_patch(
        FancyBboxPatch(
            (left, bottom), width, height,
            boxstyle="round,pad=0,rounding_size=0.08",
            facecolor=STYLE.tint(STYLE.layer, 0.3), edgecolor=STYLE.line,
            linewidth=STYLE.linewidth, zorder=0,
        )
    )


def frame(ax: Axes, left: float, bottom: float, right: float, top: float, color: str) -> None:
    """A light rounded frame behind a group of boxes (a block that is repeated N times).

    Used in chapter 9 by `draw` (figure F14).
    """
    ax.add_patch(
        FancyBboxPatch(
            (left, bottom), right - left, top - bottom,
            boxstyle="round,pad=0,rounding_size=0.1",
            facecolor=STYLE.tint(color, 0.12), edgecolor=STYLE.muted,
            linewidth=STYLE.linewidth, linestyle=(0, (4, 2)), zorder=0,
        )
    )


def circle(
    ax: Axes,
    cx: float,
    cy: float,
    r: float,
    label: str,
    color: str | None = None,
    fontsize: float | None = None,
):
    """A tinted circle of radius `r` centred on (cx, cy), with `label` inside (e.g. "+").

    Used in chapter 2 by `f4_dot_product_and_additive` (and F5, F15, F18, F19).
    """
    ax.add_patch(
        Circle(
            (cx, cy),
            r,
            facecolor=STYLE.tint(color or STYLE.layer, 0.35),
            edgecolor=STYLE.line,
            linewidth=STYLE.linewidth,
            zorder=2,
        )
    )
    text(ax, cx, cy, label, zorder=3, fontsize=fontsize or STYLE.fontsize)


def vector(
    ax: Axes,
    cx: float,
    bottom: float,
    color: str,
    n: int = 3,
    cell: float = 0.16,
    width: float = 0.22,
    values: Iterable[float] | None = None,
    fontsize: float | None = None,
) -> tuple[float, float]:
    """A column vector: `n` stacked cells, bottom at `bottom`; returns (bottom, top).

    With `values`, each cell shows its number (top cell first).

    Used in chapter 1 by `f1_output_types` (and by most numbered figures).
    """
    values = None if values is None else list(values)
    if values is not None:
        n = len(values)
    for i in range(n):
        y = bottom + (n - 1 - i) * cell
        square(ax, cx - width / 2, y, width, cell, STYLE.tint(color, 0.45))
        if values is not None:
            text(ax, cx, y + cell / 2, num(values[i]), fontsize=fontsize or STYLE.small)
    return bottom, bottom + n * cell


def inputs_and_outputs(ax: Axes, xs: Iterable[float], y_a: float, y_b: float,
                       label_gap: float = 0.2) -> list[float]:
    """A layer's input vectors aʲ (at ``y_a``) and output vectors bʲ (at ``y_b``), one column
    per x, labelled; returns the tops of the input vectors, where arrows to the outputs start.

    Used in chapter 2 by `f2_self_attention_layer`.
    """
    tops = []
    for j, x in enumerate(xs, start=1):
        _, top = vector(ax, x, y_a, STYLE.inputs)
        tops.append(top)
        text(ax, x, y_a - 0.2, f"$a^{j}$")
        vector(ax, x, y_b, STYLE.outputs)
        text(ax, x, y_b + 0.48 + label_gap, f"$b^{j}$")
    return tops


def row_vector(
    ax: Axes,
    left: float,
    cy: float,
    values: Iterable[float],
    color: str,
    cell: float = 0.5,
    height: float = 0.3,
) -> tuple[float, float]:
    """A vector drawn as a row of cells showing its numbers; returns (left, right).

    Used in chapter 2 by `f5_weighted_sum`.
    """
    values = list(values)
    for i, value in enumerate(values):
        x = left + i * cell
        square(ax, x, cy - height / 2, cell, height, STYLE.tint(color, 0.3))
        text(ax, x + cell / 2, cy, num(value), fontsize=STYLE.small, zorder=3)
    return left, left + len(values) * cell


def matrix(ax: Axes, left: float, top: float, shape: tuple[int, int], color: str, *,
           values: np.ndarray | None = None, cell: tuple[float, float] = (0.5, 0.3),
           strong: Sequence[int] = (), by: str = "col", col_labels: Sequence[str] = (),
           row_labels: Sequence[str] = (), fontsize: float | None = None
           ) -> tuple[float, float, float, float]:
    """A grid of cells with its top-left corner at (left, top); returns (left, bottom, right,
    top). The columns (``by="col"``) or rows (``by="row"``) in `strong` get a stronger tint;
    labels go above the columns and left of the rows.

    Used in chapter 3 by `draw` (figures F6–F9).
    """
    rows, cols = shape
    w, h = cell
    for i in range(rows):
        for j in range(cols):
            line = j if by == "col" else i
            ax.add_patch(Rectangle(
                (left + j * w, top - (i + 1) * h), w, h,
                facecolor=STYLE.tint(color, 0.6 if line in strong else 0.22),
                edgecolor=STYLE.line, linewidth=STYLE.linewidth * 0.6, zorder=2))
            if values is not None:
                text(ax, left + (j + 0.5) * w, top - (i + 0.5) * h, num(values[i, j]),
                     fontsize=fontsize or STYLE.small, zorder=3)
    ax.add_patch(Rectangle((left, top - rows * h), cols * w, rows * h, facecolor="none",
                           edgecolor=STYLE.line, linewidth=STYLE.linewidth * 1.4, zorder=3))
    for j, label in enumerate(col_labels):
        text(ax, left + (j + 0.5) * w, top + 0.16, label, fontsize=STYLE.small)
    for i, label in enumerate(row_labels):
        text(ax, left - 0.06, top - (i + 0.5) * h, label, ha="right", fontsize=STYLE.small)
    return left, top - rows * h, left + cols * w, top


# --------------------------------------------------------------------------------------------
# Arrows and paths
# --------------------------------------------------------------------------------------------


def arrow(
    ax: Axes,
    start: tuple[float, float] | None,
    end: tuple[float, float] | None,
    color: str | None = None,
    linewidth: float | None = None,
    connectionstyle: str = "arc3",
    path: MplPath | None = None,
    zorder: float = 1,
    head: bool = True,
) -> FancyArrowPatch:
    """An arrow from `start` to `end`, or along `path` (then pass None for both); a plain
    line with ``head=False``.

    Used in chapter 1 by `f1_output_types` (and by every diagram with an arrow).
    """
    kwargs = {"path": path} if path is not None else {"posA": start, "posB": end}
    patch = FancyArrowPatch(
        **kwargs,
        arrowstyle="-|>" if head else "-",
        mutation_scale=11,
        connectionstyle=connectionstyle,
        color=color or STYLE.line,
        linewidth=linewidth or STYLE.linewidth,
        shrinkA=0,
        shrinkB=0,
        zorder=zorder,
    )
    ax.add_patch(patch)
    return patch


def polyline(points: list[tuple[float, float]]) -> MplPath:
    """A path through `points` with straight segments (for :func:`arrow`'s `path`).

    Used in chapter 9 by `draw` (figures F14, F15, F19).
    """
    return MplPath(points, [MplPath.MOVETO] + [MplPath.LINETO] * (len(points) - 1))


def bracket(x0: float, x1: float, y0: float, y1: float, h: float, r: float = 0.08) -> MplPath:
    """Up from (x0, y0) to height h, across to x1, down to (x1, y1), with rounded corners.

    Used in chapter 2 by `f3_relevance`.
    """
    sign = 1.0 if x1 > x0 else -1.0
    verts = [
        (x0, y0),
        (x0, h - r),
        (x0, h),
        (x0 + sign * r, h),
        (x1 - sign * r, h),
        (x1, h),
        (x1, h - r),
        (x1, y1),
    ]
    codes = [
        MplPath.MOVETO,
        MplPath.LINETO,
        MplPath.CURVE3,
        MplPath.CURVE3,
        MplPath.LINETO,
        MplPath.CURVE3,
        MplPath.CURVE3,
        MplPath.LINETO,
    ]
    return MplPath(verts, codes)
