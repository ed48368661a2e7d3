"""The book's diagrams, redrawn with matplotlib from the lecture notes' lost images.

Every figure is a function that takes no argument and returns a `matplotlib.figure.Figure`.
A decorator registers it in `FIGURES` under its id ("F1", "F2", ...) with its alt text and
caption, so that a chapter can show it in a notebook cell::

    from attnbook.figures import draw
    draw("F3")

and ``python -m attnbook.figures --out figures`` (or ``make figures``) writes every figure
to ``figures/<id>.svg``, byte for byte the same on every run.

All figures share one style (`STYLE`, `style_context`): the Okabe-Ito colour-blind-safe
palette, dark text on an opaque white card (so a figure also reads in the website's dark
mode), fonts of 10 pt or more. Every number a figure shows is computed here, from the
seeded example of `relevance_example`.
"""

from __future__ import annotations

import argparse
import io
import re
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Circle, FancyArrowPatch, FancyBboxPatch, Rectangle
from matplotlib.path import Path as MplPath

from attnbook.relevance import self_attention_step_by_step

__all__ = [
    "FIGURES",
    "STYLE",
    "FigureSpec",
    "draw",
    "f1_output_types",
    "f2_self_attention_layer",
    "f3_relevance",
    "f4_dot_product_and_additive",
    "f5_weighted_sum",
    "figure",
    "relevance_example",
    "save_all",
    "style_context",
    "svg_bytes",
]

# --------------------------------------------------------------------------------------------
# Style
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Style:
    """The look shared by every figure: palette, roles of the colours, fonts, sizes."""

    # Okabe-Ito, a palette that colour-blind readers can tell apart.
    orange: str = "#E69F00"
    sky: str = "#56B4E9"
    green: str = "#009E73"
    yellow: str = "#F0E442"
    blue: str = "#0072B2"
    vermillion: str = "#D55E00"
    purple: str = "#CC79A7"
    black: str = "#000000"
    # Text and lines: dark on an opaque white card.
    text: str = "#1A1A1A"
    line: str = "#333333"
    muted: str = "#8C8C8C"
    background: str = "#FFFFFF"
    # Sizes, in points.
    fontsize: float = 11.0
    small: float = 10.0
    title: float = 12.0
    linewidth: float = 1.2
    dpi: int = 100
    svg_hashsalt: str = "attnbook"

    # What each colour stands for, the same in every figure.
    @property
    def inputs(self) -> str:
        """Input vectors a."""
        return self.sky

    @property
    def outputs(self) -> str:
        """Output vectors b and labels."""
        return self.orange

    @property
    def query(self) -> str:
        return self.vermillion

    @property
    def key(self) -> str:
        return self.blue

    @property
    def value(self) -> str:
        return self.green

    @property
    def score(self) -> str:
        """Attention scores alpha and weights alpha'."""
        return self.purple

    @property
    def layer(self) -> str:
        """Boxes that stand for a layer or a model."""
        return self.yellow

    def tint(self, color: str, amount: float = 0.3) -> str:
        """`color` mixed with white: `amount` of the colour, opaque (no alpha in the SVG)."""
        rgb = np.array(matplotlib.colors.to_rgb(color))
        mixed = amount * rgb + (1.0 - amount) * np.ones(3)
        return matplotlib.colors.to_hex(mixed)

    def rc(self) -> dict:
        """The matplotlib settings every figure is drawn and saved with."""
        return {
            "font.family": "DejaVu Sans",
            "font.size": self.fontsize,
            "mathtext.fontset": "dejavusans",
            "text.color": self.text,
            "figure.dpi": self.dpi,
            "figure.facecolor": self.background,
            "savefig.facecolor": self.background,
            "savefig.transparent": False,
            "svg.fonttype": "path",  # glyphs as paths: the SVG looks the same without fonts
            "svg.hashsalt": self.svg_hashsalt,  # fixed ids: identical bytes on every run
        }


STYLE = Style()
"""The shared style. Introduced in chapter 1, with the first figure."""


@contextmanager
def style_context() -> Iterator[Style]:
    """Draw or save inside this context to get the book's figure style.

    Introduced in chapter 1. `draw` and `save_all` use it; a figure function called
    directly outside it still gets the colours, which every figure passes explicitly.
    """
    with matplotlib.rc_context(STYLE.rc()):
        yield STYLE


# --------------------------------------------------------------------------------------------
# Registry
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FigureSpec:
    """One registered figure: its id, alt text, caption and the function that draws it.

    Introduced in chapter 1 (every figure of the book is one).
    """

    id: str
    alt: str
    caption: str
    function: Callable[[], Figure]

    @property
    def chapter(self) -> int | None:
        """The chapter that introduces the figure, read from the function's docstring."""
        found = re.search(r"Introduced in chapter (\d+)", self.function.__doc__ or "")
        return int(found.group(1)) if found else None

    def draw(self) -> Figure:
        """A new Figure, drawn in the book's style."""
        with style_context():
            return self.function()


FIGURES: dict[str, FigureSpec] = {}
"""Every figure of the book by id, in the order the book introduces them."""

_ID = re.compile(r"F[1-9][0-9]*")


def figure(fig_id: str, *, alt: str, caption: str) -> Callable:
    """Register the decorated function in `FIGURES` as figure `fig_id`.

    Introduced in chapter 1. `alt` is what a screen reader says (what the figure shows,
    in one to three sentences); `caption` is printed under the figure.
    """
    if not _ID.fullmatch(fig_id):
        raise ValueError(f"figure id must look like 'F7', not {fig_id!r}")
    if not alt.strip() or not caption.strip():
        raise ValueError(f"figure {fig_id} needs a non-empty alt text and caption")

    def register(function: Callable[[], Figure]) -> Callable[[], Figure]:
        if fig_id in FIGURES:
            raise ValueError(f"figure {fig_id} is registered twice")
        FIGURES[fig_id] = FigureSpec(fig_id, alt.strip(), caption.strip(), function)
        return function

    return register


def _spec(fig_id: str) -> FigureSpec:
    try:
        return FIGURES[fig_id]
    except KeyError:
        raise KeyError(f"no figure {fig_id!r}; the figures are {', '.join(FIGURES)}") from None


def draw(fig_id: str) -> Figure:
    """Figure `fig_id` (e.g. "F2"), drawn anew. As a cell's last line it shows one image.

    Introduced in chapter 1.
    """
    return _spec(fig_id).draw()


def svg_bytes(fig_id: str) -> bytes:
    """Figure `fig_id` as SVG: the same bytes on every run (no date, fixed ids).

    Introduced in chapter 1.
    """
    spec = _spec(fig_id)
    buffer = io.BytesIO()
    with style_context():
        fig = spec.function()
        fig.savefig(
            buffer,
            format="svg",
            metadata={"Date": None, "Creator": None},
            bbox_inches="tight",
            pad_inches=0.1,
        )
    return buffer.getvalue()


def save_all(directory: str | Path = "figures", ids: Iterable[str] | None = None) -> list[Path]:
    """Write every figure (or those in `ids`) to ``<directory>/<id>.svg``; return the paths.

    Introduced in chapter 1. Two runs write identical files.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for fig_id in FIGURES if ids is None else ids:
        path = directory / f"{fig_id}.svg"
        path.write_bytes(svg_bytes(fig_id))
        paths.append(path)
    return paths


# --------------------------------------------------------------------------------------------
# Drawing primitives. Every figure is one axes whose data units are inches, so that sizes
# and gaps are easy to reason about and text (in points) can be placed without overlap.
# --------------------------------------------------------------------------------------------


def _canvas(width: float, height: float) -> tuple[Figure, Axes]:
    """A blank white figure of `width` x `height` inches with one axes in inch units.

    The figure is made with pyplot (so the notebook's inline backend knows how to show it)
    and closed at once, so that the inline backend does not show it a second time at the
    end of the cell: the returned object is shown once, as the cell's value.
    """
    fig = plt.figure(figsize=(width, height), dpi=STYLE.dpi, facecolor=STYLE.background)
    plt.close(fig)
    ax = fig.add_axes((0.0, 0.0, 1.0, 1.0))
    ax.set_xlim(0.0, width)
    ax.set_ylim(0.0, height)
    ax.set_aspect("equal")
    ax.set_axis_off()
    return fig, ax


def _plot_figure(width: float, height: float, ncols: int = 1) -> tuple[Figure, list[Axes]]:
    """A white figure with `ncols` data axes in the book's style, closed in pyplot (shown once).

    For the plots of measurements (not the numbered diagrams, which use :func:`_canvas`).
    """
    with style_context():
        fig, axes = plt.subplots(1, ncols, figsize=(width, height), dpi=STYLE.dpi,
                                 squeeze=False)
    plt.close(fig)
    return fig, list(axes[0])


def _style_axes(ax: Axes) -> None:
    """Light grid, no top or right spine, the book's tick labels."""
    for spine in ("top", "right"):
        ax.spines[spine].set_visible(False)
    ax.tick_params(labelsize=STYLE.small, colors=STYLE.text)
    ax.grid(True, color="#DDDDDD", linewidth=0.6)
    ax.set_axisbelow(True)


def _text(ax: Axes, x: float, y: float, s: str, **kwargs):
    kwargs.setdefault("ha", "center")
    kwargs.setdefault("va", "center")
    kwargs.setdefault("color", STYLE.text)
    kwargs.setdefault("fontsize", STYLE.fontsize)
    return ax.text(x, y, s, **kwargs)


def _title(ax: Axes, x: float, y: float, s: str, fontsize: float | None = None):
    return _text(ax, x, y, s, fontsize=fontsize or STYLE.title, fontweight="bold")


def _box(
    ax: Axes,
    cx: float,
    cy: float,
    w: float,
    h: float,
    label: str = "",
    color: str | None = None,
    fontsize: float | None = None,
) -> tuple[float, float, float, float]:
    """A rounded box centred on (cx, cy); returns (left, bottom, right, top)."""
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
        _text(ax, cx, cy, label, fontsize=fontsize or STYLE.fontsize, zorder=3)
    return cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2


def _vector(
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
    """
    values = None if values is None else list(values)
    if values is not None:
        n = len(values)
    for i in range(n):
        y = bottom + (n - 1 - i) * cell
        ax.add_patch(
            Rectangle(
                (cx - width / 2, y),
                width,
                cell,
                facecolor=STYLE.tint(color, 0.45),
                edgecolor=STYLE.line,
                linewidth=STYLE.linewidth * 0.8,
                zorder=2,
            )
        )
        if values is not None:
            _text(ax, cx, y + cell / 2, _num(values[i]), fontsize=fontsize or STYLE.small)
    return bottom, bottom + n * cell


def _row_vector(
    ax: Axes,
    left: float,
    cy: float,
    values: Iterable[float],
    color: str,
    cell: float = 0.5,
    height: float = 0.3,
) -> tuple[float, float]:
    """A vector drawn as a row of cells showing its numbers; returns (left, right)."""
    values = list(values)
    for i, value in enumerate(values):
        x = left + i * cell
        ax.add_patch(
            Rectangle(
                (x, cy - height / 2),
                cell,
                height,
                facecolor=STYLE.tint(color, 0.3),
                edgecolor=STYLE.line,
                linewidth=STYLE.linewidth * 0.8,
                zorder=2,
            )
        )
        _text(ax, x + cell / 2, cy, _num(value), fontsize=STYLE.small, zorder=3)
    return left, left + len(values) * cell


def _arrow(
    ax: Axes,
    start: tuple[float, float],
    end: tuple[float, float],
    color: str | None = None,
    linewidth: float | None = None,
    connectionstyle: str = "arc3",
    path: MplPath | None = None,
    zorder: float = 1,
    head: bool = True,
):
    kwargs = {"path": path} if path is not None else {"posA": start, "posB": end}
    arrow = FancyArrowPatch(
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
    ax.add_patch(arrow)
    return arrow


def _circle(
    ax: Axes,
    cx: float,
    cy: float,
    r: float,
    label: str,
    color: str | None = None,
    fontsize: float | None = None,
):
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
    _text(ax, cx, cy, label, zorder=3, fontsize=fontsize or STYLE.fontsize)


def _fmt(x: float, digits: int = 2) -> str:
    """`x` rounded for a figure (never "-0.00"), to put inside mathtext."""
    s = f"{x:.{digits}f}"
    return s.lstrip("-") if float(s) == 0.0 else s


def _num(x: float, digits: int = 2) -> str:
    """`x` rounded, as mathtext: a true minus sign."""
    return f"${_fmt(x, digits)}$"


# --------------------------------------------------------------------------------------------
# The seeded example behind F3 and F5
# --------------------------------------------------------------------------------------------


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
    """
    rng = np.random.default_rng(seed)
    a = rng.standard_normal((n, d))
    W_q, W_k, W_v = 0.5 * rng.standard_normal((3, d, d))
    # The computation itself is the package's tested one (attnbook.relevance), not a copy.
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


# --------------------------------------------------------------------------------------------
# The figures
# --------------------------------------------------------------------------------------------


@figure(
    "F1",
    alt=(
        "Three panels, each with a row of input vectors feeding a model. In (a) the model "
        "gives one label per vector, N V DET N for the words 'I saw a saw'; in (b) one label, "
        "positive, for the whole sentence 'this is good'; in (c) a sequence-to-sequence model "
        "turns three English words into four German ones, choosing the output length itself."
    ),
    caption=(
        "Three kinds of output for a sequence of vectors: (a) one label per vector, as in "
        "part-of-speech tagging; (b) one label for the whole sequence, as in sentiment "
        "analysis; (c) a length the model decides, as in translation (seq2seq)."
    ),
)
def f1_output_types() -> Figure:
    """F1: the three kinds of output for a sequence of input vectors.

    Introduced in chapter 1.
    """
    width, height = 8.4, 3.1
    fig, ax = _canvas(width, height)
    panel = width / 3
    y_word, y_vec = 0.18, 0.4
    box_y, box_h = 1.38, 0.42
    y_out = 2.12
    panels = [
        (
            "(a) one label per vector",
            "part-of-speech tagging",
            ["I", "saw", "a", "saw"],
            ["N", "V", "DET", "N"],
            "model",
        ),
        (
            "(b) one label per sequence",
            "sentiment analysis",
            ["this", "is", "good"],
            ["positive"],
            "model",
        ),
        (
            "(c) the model decides the length",
            "translation (seq2seq)",
            ["how", "are", "you"],
            ["wie", "geht", "es", "dir"],
            "seq2seq model",
        ),
    ]
    spacing = 0.58
    for p, (title, task, words, labels, model) in enumerate(panels):
        cx = panel * (p + 0.5)
        _title(ax, cx, 2.92, title, fontsize=STYLE.fontsize)
        _text(ax, cx, 2.64, task, fontsize=STYLE.small)
        xs = cx + spacing * (np.arange(len(words)) - (len(words) - 1) / 2)
        _, box_bottom, _, box_top = _box(ax, cx, box_y, 2.3, box_h, model)
        for x, word in zip(xs, words, strict=True):
            _, top = _vector(ax, x, y_vec, STYLE.inputs)
            _text(ax, x, y_word, word, fontstyle="italic")
            _arrow(ax, (x, top + 0.04), (x, box_bottom))
        out_xs = cx + spacing * (np.arange(len(labels)) - (len(labels) - 1) / 2)
        for x, label in zip(out_xs, labels, strict=True):
            _arrow(ax, (x, box_top), (x, y_out - 0.17))
            _text(
                ax,
                x,
                y_out,
                label,
                bbox={
                    "boxstyle": "round,pad=0.25",
                    "facecolor": STYLE.tint(STYLE.outputs, 0.4),
                    "edgecolor": STYLE.line,
                    "linewidth": STYLE.linewidth * 0.8,
                },
            )
    return fig


@figure(
    "F2",
    alt=(
        "Left: a self-attention layer takes four input vectors a1 to a4 and gives four "
        "outputs b1 to b4; lines join every output to every input, and the four lines into b1 "
        "are highlighted. Right: a stack that alternates self-attention with a fully "
        "connected network applied to each vector separately, twice."
    ),
    caption=(
        "(a) A self-attention layer: every output $b^i$ is computed from the whole input "
        "sequence $a^1, \\ldots, a^4$. (b) Self-attention layers alternate with a fully "
        "connected network (FC) that is applied to each vector on its own."
    ),
)
def f2_self_attention_layer() -> Figure:
    """F2: a self-attention layer, and self-attention stacked with fully connected layers.

    Introduced in chapter 2.
    """
    fig, ax = _canvas(8.4, 3.5)
    # (a) one layer: every b^i is connected to every a^j.
    _title(ax, 2.15, 3.3, "(a) a self-attention layer")
    xs = np.array([1.55, 2.3, 3.05, 3.8])
    y_a, y_b = 0.42, 2.25
    band_bottom, band_top = 1.08, 1.92
    ax.add_patch(
        FancyBboxPatch(
            (0.1, band_bottom),
            4.1,
            band_top - band_bottom,
            boxstyle="round,pad=0,rounding_size=0.08",
            facecolor=STYLE.tint(STYLE.layer, 0.3),
            edgecolor=STYLE.line,
            linewidth=STYLE.linewidth,
            zorder=0,
        )
    )
    _text(ax, 0.68, (band_bottom + band_top) / 2, "self-\nattention", linespacing=1.3)
    tops = []
    for j, x in enumerate(xs, start=1):
        _, top = _vector(ax, x, y_a, STYLE.inputs)
        tops.append(top)
        _text(ax, x, y_a - 0.2, f"$a^{j}$")
        _vector(ax, x, y_b, STYLE.outputs)
        _text(ax, x, y_b + 0.48 + 0.2, f"$b^{j}$")
    for i, xb in enumerate(xs):
        for xa, top in zip(xs, tops, strict=True):
            highlight = i == 0
            _arrow(
                ax,
                (xa, top),
                (xb, y_b),
                color=STYLE.outputs if highlight else STYLE.muted,
                linewidth=2.2 if highlight else 0.9,
                zorder=1.5 if highlight else 1,
                head=False,
            )

    # (b) the stack: self-attention, FC per vector, self-attention, FC per vector.
    _title(ax, 6.3, 3.3, "(b) stacking layers")
    xs = np.array([5.25, 5.85, 6.45, 7.05])
    cx = xs.mean()
    gap = 0.2
    y = 0.3
    for x in xs:
        _vector(ax, x, y, STYLE.inputs, cell=0.1, width=0.18)
    _text(ax, xs[0] - 0.4, y + 0.15, "$a$")
    y += 0.3
    for k, kind in enumerate(["self-attention", "FC", "self-attention", "FC"]):
        for x in xs:
            _arrow(ax, (x, y + 0.03), (x, y + gap))
        y += gap
        if kind == "FC":
            for x in xs:
                _box(ax, x, y + 0.15, 0.42, 0.3, "FC", color=STYLE.green, fontsize=STYLE.small)
            if k == 1:
                _text(
                    ax,
                    xs[-1] + 0.32,
                    y + 0.15,
                    "the same FC\non each vector",
                    ha="left",
                    fontsize=STYLE.small,
                    linespacing=1.2,
                )
        else:
            _box(ax, cx, y + 0.15, xs[-1] - xs[0] + 0.42, 0.3, kind)
        y += 0.3
    for x in xs:
        _arrow(ax, (x, y + 0.03), (x, y + gap))
        _vector(ax, x, y + gap + 0.03, STYLE.outputs, cell=0.1, width=0.18)
    _text(ax, xs[0] - 0.4, y + gap + 0.18, "$b$")
    return fig


def _bracket(x0: float, x1: float, y0: float, y1: float, h: float, r: float = 0.08) -> MplPath:
    """Up from (x0, y0) to height h, across to x1, down to (x1, y1), with rounded corners."""
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


@figure(
    "F3",
    alt=(
        "Four input vectors a1 to a4 in a row. Arrows go from a1 to each of a1, a2, a3 and "
        "a4, labelled with the relevance scores alpha 1,1 to alpha 1,4 of a small random "
        "example; a note gives the formula alpha 1,j = q1 dot kj."
    ),
    caption=(
        "How relevant is each $a^j$ to $a^1$? A score $\\alpha_{1,j} = q^1 \\cdot k^j$ "
        "for every $j$, including $a^1$ itself. The numbers come from a small seeded example "
        "($d = 4$, random $a^j$, $W^q$ and $W^k$; see `relevance_example`)."
    ),
)
def f3_relevance() -> Figure:
    """F3: the relevance score of every a^j to a^1, with the numbers of a seeded example.

    Introduced in chapter 2.
    """
    ex = relevance_example()
    alpha = ex["alpha"]
    fig, ax = _canvas(8.6, 2.9)
    xs = 1.45 + 1.38 * np.arange(4)
    y_vec = 0.42
    top = y_vec + 0.48
    heights = [None, top + 0.5, top + 1.0, top + 1.5]
    for j, x in enumerate(xs, start=1):
        _vector(ax, x, y_vec, STYLE.inputs)
        _text(ax, x, y_vec - 0.2, f"$a^{j}$")
    start_offsets = [None, 0.07, 0.0, -0.07]  # the inner bracket starts on the right
    for j in range(1, 4):
        x0 = xs[0] + start_offsets[j]
        h = heights[j]
        path = _bracket(x0, xs[j], top + 0.04, top + 0.06, h)
        _arrow(ax, None, None, color=STYLE.score, linewidth=1.6, path=path)
        _text(
            ax,
            (xs[0] + xs[j]) / 2 + (0.1 if j == 1 else 0.0),
            h,
            rf"$\alpha_{{1,{j + 1}}} = {_fmt(alpha[j])}$",
            bbox={"boxstyle": "round,pad=0.15", "facecolor": STYLE.background, "edgecolor": "none"},
            zorder=3,
        )
    # The score of a^1 with itself: a loop on the left of a^1.
    left = xs[0] - 0.11 - 0.03
    loop = MplPath(
        [
            (left, top - 0.08),
            (left - 0.55, top + 0.3),
            (left - 0.55, y_vec - 0.22),
            (left - 0.02, y_vec + 0.1),
        ],
        [MplPath.MOVETO, MplPath.CURVE4, MplPath.CURVE4, MplPath.CURVE4],
    )
    _arrow(ax, None, None, color=STYLE.score, linewidth=1.6, path=loop)
    _text(ax, left - 0.5, y_vec + 0.24, rf"$\alpha_{{1,1}} = {_fmt(alpha[0])}$", ha="right")

    # The formula and where the numbers come from.
    x_note = 6.25
    lines = [
        (r"$\alpha_{1,j} = q^1 \cdot k^j$", STYLE.fontsize + 1),
        (r"$q^1 = W^q a^1, \quad k^j = W^k a^j$", STYLE.fontsize),
        (r"random $a^j \in \mathbb{R}^4$, $W^q$, $W^k$", STYLE.small),
    ]
    for i, (line, size) in enumerate(lines):
        _text(ax, x_note, 1.75 - 0.42 * i, line, ha="left", fontsize=size)
    return fig


@figure(
    "F4",
    alt=(
        "Two block diagrams. Dot product: a1 goes through Wq to give q, aj goes through Wk "
        "to give k, and the dot product of q and k is the score alpha. Additive: q and k are "
        "added, passed through tanh, then multiplied by a vector w to give alpha."
    ),
    caption=(
        "Two ways to compute the relevance $\\alpha$ of $a^j$ to $a^1$: (a) the dot product "
        "$\\alpha = q \\cdot k$, used by the Transformer; (b) additive attention, "
        "$\\alpha = w^{\\mathsf{T}} \\tanh(q + k)$."
    ),
)
def f4_dot_product_and_additive() -> Figure:
    """F4: the dot-product and the additive way to compute a relevance score.

    Introduced in chapter 2.
    """
    fig, ax = _canvas(8.4, 3.6)
    y_vec, y_w, y_join = 0.4, 1.15, 1.72
    y_title = 3.45

    def front(cx: float) -> None:
        """a^1 and a^j, W^q and W^k, and the arrows q and k into the joint at (cx, y_join)."""
        for x, name, w_name, vec, col, side in [
            (cx - 0.75, "$a^1$", "$W^q$", "$q$", STYLE.query, -1),
            (cx + 0.75, "$a^j$", "$W^k$", "$k$", STYLE.key, 1),
        ]:
            _, top = _vector(ax, x, y_vec, STYLE.inputs)
            _text(ax, x, y_vec - 0.2, name)
            _, _, _, box_top = _box(ax, x, y_w, 0.6, 0.34, w_name, color=col)
            _arrow(ax, (x, top + 0.03), (x, y_w - 0.17))
            end_x = cx + side * 0.14
            _arrow(ax, (x, box_top), (end_x, y_join - 0.12), color=col, linewidth=1.8)
            _text(
                ax,
                (x + end_x) / 2 + side * 0.2,
                (box_top + y_join) / 2 + 0.02,
                vec,
                fontsize=STYLE.title,
            )

    # (a) dot product
    cx = 2.1
    _title(ax, cx, y_title, "(a) dot product")
    front(cx)
    _circle(ax, cx, y_join, 0.17, "")
    ax.add_patch(Circle((cx, y_join), 0.035, facecolor=STYLE.text, edgecolor="none", zorder=3))
    _arrow(ax, (cx, y_join + 0.17), (cx, 2.25))
    _text(ax, cx, 2.42, r"$\alpha = q \cdot k$", fontsize=STYLE.title)

    # (b) additive
    cx = 6.3
    _title(ax, cx, y_title, "(b) additive")
    front(cx)
    _circle(ax, cx, y_join, 0.17, "$+$")
    _arrow(ax, (cx, y_join + 0.17), (cx, 2.0))
    _box(ax, cx, 2.15, 0.7, 0.3, r"$\tanh$", color=STYLE.green)
    _arrow(ax, (cx, 2.3), (cx, 2.48))
    _box(ax, cx, 2.63, 0.7, 0.3, r"$w^{\mathsf{T}}$", color=STYLE.green)
    _arrow(ax, (cx, 2.78), (cx, 2.96))
    _text(ax, cx, 3.12, r"$\alpha = w^{\mathsf{T}} \tanh(q + k)$", fontsize=STYLE.title)
    return fig


@figure(
    "F5",
    alt=(
        "For the seeded example, the four scores alpha 1,1 to alpha 1,4 go through a "
        "softmax that turns them into weights alpha-prime which sum to 1. Each weight "
        "multiplies a value vector vj = Wv aj, and the weighted values are summed into the "
        "output b1, shown with its four numbers."
    ),
    caption=(
        "From scores to the output $b^1$: the softmax turns the scores $\\alpha_{1,j}$ into "
        "weights $\\alpha'_{1,j}$ that sum to 1, and $b^1 = \\sum_j \\alpha'_{1,j} v^j$ "
        "with the values $v^j = W^v a^j$. Same seeded example as the previous figure; "
        "the thicker an arrow into the sum, the larger its weight."
    ),
)
def f5_weighted_sum() -> Figure:
    """F5: softmax of the scores, values, and b^1 as the weighted sum of the values.

    Introduced in chapter 2.
    """
    ex = relevance_example()
    alpha, alpha_prime, v, b = ex["alpha"], ex["alpha_prime"], ex["v"], ex["b"]
    n = len(alpha)
    fig, ax = _canvas(8.6, 3.3)
    row_ys = 2.3 - 0.52 * np.arange(n)
    mid = row_ys.mean()
    y_head = 2.85
    # scores
    _text(ax, 0.75, y_head, r"$\alpha_{1,j} = q^1 \cdot k^j$")
    for j, y in enumerate(row_ys):
        _text(ax, 1.3, y, rf"$\alpha_{{1,{j + 1}}} = {_fmt(alpha[j])}$", ha="right")
        _arrow(ax, (1.38, y), (1.68, y))
    # softmax
    sm_left, sm_right = 1.68, 2.58
    _box(
        ax,
        (sm_left + sm_right) / 2,
        mid,
        sm_right - sm_left,
        row_ys[0] - row_ys[-1] + 0.4,
        "softmax",
        color=STYLE.score,
    )
    _text(ax, 3.45, y_head, r"$\alpha'_{1,j}$")
    # weights times values
    _text(ax, 5.35, y_head, r"$v^j = W^v a^j$")
    v_left = 4.35
    ends = []
    for j, y in enumerate(row_ys):
        _arrow(ax, (sm_right, y), (2.86, y))
        _text(ax, 2.9, y, rf"$\alpha'_{{1,{j + 1}}} = {_fmt(alpha_prime[j])}$", ha="left")
        _text(ax, 4.1, y, rf"$\times\, v^{j + 1}$", ha="center")
        _, right = _row_vector(ax, v_left, y, v[j], STYLE.value, cell=0.5, height=0.3)
        ends.append((right, y))
    _text(
        ax,
        3.45,
        row_ys[-1] - 0.45,
        rf"$\Sigma_j\, \alpha'_{{1,j}} = {_fmt(alpha_prime.sum())}$",
        fontsize=STYLE.small,
    )
    # weighted sum
    sx = 6.95
    _circle(ax, sx, mid, 0.2, r"$\Sigma$")
    for (right, y), w in zip(ends, alpha_prime, strict=True):
        _arrow(
            ax,
            (right + 0.05, y),
            (sx - 0.2, mid + (y - mid) * 0.25),
            color=STYLE.score,
            linewidth=0.6 + 3.0 * w,
        )
    # b^1
    bx = 7.9
    _arrow(ax, (sx + 0.2, mid), (bx - 0.3, mid))
    cell = 0.3
    _vector(ax, bx, mid - 2 * cell, STYLE.outputs, cell=cell, width=0.56, values=b)
    _text(ax, bx, mid + 2 * cell + 0.2, "$b^1$")
    _text(ax, 7.55, y_head, r"$b^1 = \Sigma_j\, \alpha'_{1,j}\, v^j$")
    return fig


# --------------------------------------------------------------------------------------------
# The figures of later chapters live in modules of their own; importing them registers them,
# in the book's order.

# F6–F10 (chapters 3–5), F11 (chapter 6), F12–F15 (chapters 8–9), F16–F18 (chapters 10–11),
# F19 (chapter 12):
from attnbook import figures_matrices  # noqa: E402, F401, I001
from attnbook import figures_compare  # noqa: E402, F401, I001
from attnbook import figures_seq2seq  # noqa: E402, F401, I001
from attnbook import figures_decoder  # noqa: E402, F401, I001
from attnbook import figures_training  # noqa: E402, F401, I001

# --------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> None:
    """``python -m attnbook.figures [--out DIR]``: write every figure as SVG, print the paths.

    Introduced in chapter 1 (``make figures`` runs it).
    """
    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--out", default="figures", help="directory for <id>.svg (figures)")
    parser.add_argument("ids", nargs="*", help="only these figures (default: all)")
    args = parser.parse_args(argv)
    for path in save_all(args.out, args.ids or None):
        print(path)


if __name__ == "__main__":
    # Under `python -m`, this file runs as __main__, a second copy of the module; the figures of
    # later chapters register themselves in attnbook.figures, so call that module's main.
    from attnbook.figures import main as _main

    _main()
