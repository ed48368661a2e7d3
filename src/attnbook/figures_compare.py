"""Figure F11, chapter 6: registered in attnbook.figures.FIGURES on import.

F11 redraws the notes' comparison of self-attention with an RNN: the RNN carries a memory from
step to step, so the first input reaches the last output only after every step in between;
self-attention computes every output at once, and links any two positions in one step.

The module also has the plots that chapters 6 and 7 draw from their own measurements
(:func:`receptive_field_plot`, :func:`data_size_plot`, :func:`rnn_timing_plot`,
:func:`cost_plot`), in the book's style: dark text on a white card, so that they read in the
website's light and dark modes, and the Okabe-Ito colours, each curve also told apart by its
marker and line style.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import FancyBboxPatch

from attnbook.figures import (
    FIGURES,
    STYLE,
    _arrow,
    _box,
    _canvas,
    _plot_figure,
    _style_axes,
    _text,
    _title,
    _vector,
    figure,
    style_context,
)

__all__ = [
    "METHOD_STYLE",
    "cost_plot",
    "data_size_plot",
    "f11_rnn_vs_self_attention",
    "receptive_field_plot",
    "rnn_timing_plot",
]


@figure(
    "F11",
    alt=(
        "Left: an RNN reads a1 to a4 one step at a time; a memory arrow runs from each RNN "
        "cell to the next, and the highlighted path from a1 to b4 passes through all four "
        "cells, four steps one after another. Right: a self-attention layer computes b1 to b4 "
        "at once; every output is joined to every input, and the highlighted line from a1 "
        "to b4 is a single step."
    ),
    caption=(
        "(a) An RNN keeps a memory $h$ and must run its steps in order: $a^1$ reaches $b^4$ "
        "only after 4 steps, through every cell in between. (b) Self-attention computes every "
        "$b^i$ in one parallel step, and any two positions, however far apart, are one step "
        "apart."
    ),
)
def f11_rnn_vs_self_attention() -> Figure:
    """F11: an RNN's sequential memory against self-attention's one parallel step.

    Introduced in chapter 6.
    """
    fig, ax = _canvas(8.4, 3.85)
    n = 4
    y_a, y_cell, y_b = 0.66, 1.8, 2.65
    y_title, y_note = 3.62, 0.13
    path = STYLE.vermillion

    # (a) the RNN: one cell per step, a memory arrow from each cell to the next.
    _title(ax, 2.1, y_title, "(a) RNN: one step after another")
    xs = 0.55 + 0.95 * np.arange(n)
    cell_w, cell_h = 0.62, 0.42
    for t, x in enumerate(xs):
        _, top = _vector(ax, x, y_a, STYLE.inputs)
        _text(ax, x, y_a - 0.2, f"$a^{t + 1}$")
        _box(ax, x, y_cell, cell_w, cell_h, "RNN")
        _arrow(ax, (x, top + 0.03), (x, y_cell - cell_h / 2),
               color=path if t == 0 else None, linewidth=2.2 if t == 0 else None)
        _vector(ax, x, y_b, STYLE.outputs)
        _text(ax, x, y_b + 0.48 + 0.17, f"$b^{t + 1}$")
        last = t == n - 1
        _arrow(ax, (x, y_cell + cell_h / 2), (x, y_b - 0.03),
               color=path if last else None, linewidth=2.2 if last else None)
        _text(ax, x + 0.07, (top + y_cell - cell_h / 2) / 2, f"step {t + 1}", ha="left",
              fontsize=STYLE.small - 1, color=STYLE.text)
        if t < n - 1:  # the memory h: a¹ passes through every cell on its way to b⁴
            _arrow(ax, (x + cell_w / 2, y_cell), (xs[t + 1] - cell_w / 2, y_cell),
                   color=path, linewidth=2.2)
            _text(ax, (x + xs[t + 1]) / 2, y_cell + 0.15, "$h$", fontsize=STYLE.small)

    # (b) self-attention: every output from every input, all at once.
    _title(ax, 6.3, y_title, "(b) self-attention: one step")
    xs = 4.95 + 0.9 * np.arange(n)
    band_bottom, band_top = y_cell - 0.3, y_cell + 0.3
    ax.add_patch(
        FancyBboxPatch(
            (xs[0] - 0.4, band_bottom),
            xs[-1] - xs[0] + 0.8,
            band_top - band_bottom,
            boxstyle="round,pad=0,rounding_size=0.08",
            facecolor=STYLE.tint(STYLE.layer, 0.3),
            edgecolor=STYLE.line,
            linewidth=STYLE.linewidth,
            zorder=0,
        )
    )
    _text(ax, xs[2] + 0.5, y_cell, "self-attention", fontsize=STYLE.small, zorder=3,
          bbox={"boxstyle": "round,pad=0.2", "facecolor": STYLE.tint(STYLE.layer, 0.3),
                "edgecolor": "none"})
    tops = []
    for j, x in enumerate(xs):
        _, top = _vector(ax, x, y_a, STYLE.inputs)
        tops.append(top)
        _text(ax, x, y_a - 0.2, f"$a^{j + 1}$")
        _vector(ax, x, y_b, STYLE.outputs)
        _text(ax, x, y_b + 0.48 + 0.17, f"$b^{j + 1}$")
    for i, xb in enumerate(xs):
        for j, (xa, top) in enumerate(zip(xs, tops, strict=True)):
            highlight = i == n - 1 and j == 0
            _arrow(ax, (xa, top + 0.03), (xb, y_b - 0.03),
                   color=path if highlight else STYLE.muted,
                   linewidth=2.4 if highlight else 0.8,
                   zorder=1.5 if highlight else 1, head=highlight)
    _text(ax, 6.3, y_note, "$a^1 \\to b^4$: 1 step, all $b^i$ at once", fontsize=STYLE.small,
          color=STYLE.text)
    _text(ax, 2.1, y_note, "$a^1 \\to b^4$: 4 steps, one after another", fontsize=STYLE.small,
          color=STYLE.text)
    return fig


# Imported on its own (before attnbook.figures), this module lets attnbook.figures register
# F12–F19 first; put the registry back in the book's order whichever module came first.
_registered = sorted(FIGURES.items(), key=lambda item: int(item[0][1:]))
FIGURES.clear()
FIGURES.update(_registered)


# --------------------------------------------------------------------------------------------
# Plots of the chapters' measurements (not numbered figures)
# --------------------------------------------------------------------------------------------

METHOD_STYLE: dict[str, dict] = {
    "full": {"color": STYLE.vermillion, "marker": "o", "linestyle": "-", "label": "full"},
    "local": {"color": STYLE.blue, "marker": "s", "linestyle": "--", "label": "local (window 32)"},
    "linear": {"color": STYLE.green, "marker": "^", "linestyle": "-.", "label": "linear (elu + 1)"},
    "tiled": {"color": STYLE.orange, "marker": "D", "linestyle": ":", "label": "tiled (block 128)"},
}
"""Colour, marker and line style of each attention method in chapter 7's plots."""


def receptive_field_plot(panels: Mapping[str, np.ndarray]) -> Figure:
    """Bool ``[n, n]`` masks side by side: which inputs (columns) each output (row) sees.

    Introduced in chapter 6, to set a convolution's measured receptive field beside a
    window mask. Allowed cells are dark, the others white.
    """
    with style_context():
        fig, axes = _plot_figure(8.4, 3.1, ncols=len(panels))
        for ax, (title, mask) in zip(axes, panels.items(), strict=True):
            mask = np.asarray(mask, dtype=float)
            ax.imshow(mask, cmap="Greys", vmin=0, vmax=1.25, interpolation="nearest")
            ax.set_title(title, fontsize=STYLE.small)
            ax.set_xlabel("input (key) position", fontsize=STYLE.small)
            ax.tick_params(labelsize=8, length=0)
        axes[0].set_ylabel("output (query) position", fontsize=STYLE.small)
        fig.tight_layout()
    return fig


def data_size_plot(sizes: Sequence[int], accuracy: Mapping[str, np.ndarray],
                   live: Mapping[str, tuple[Sequence[int], Sequence[float]]] | None = None,
                   ) -> Figure:
    """Test accuracy against training-set size, one curve per model (mean over seeds, with
    the range of the seeds as a band); ``live`` adds this run's own points as open markers.

    Introduced in chapter 6. ``accuracy[name]`` is ``[len(sizes), n_seeds]``.
    """
    colors = {"CNN": STYLE.blue, "ViT": STYLE.vermillion}
    markers = {"CNN": "s", "ViT": "o"}
    with style_context():
        fig, (ax,) = _plot_figure(8.0, 3.3)
        for name, acc in accuracy.items():
            acc = np.asarray(acc, dtype=float)
            color = colors.get(name, STYLE.green)
            ax.fill_between(sizes, acc.min(axis=1), acc.max(axis=1), color=color, alpha=0.15,
                            linewidth=0)
            ax.plot(sizes, acc.mean(axis=1), marker=markers.get(name, "^"), color=color,
                    linewidth=1.8, label=f"{name} (saved sweep, mean of {acc.shape[1]} seeds)")
        for name, (xs, ys) in (live or {}).items():
            ax.plot(xs, ys, linestyle="none", marker=markers.get(name, "^"), markersize=9,
                    markerfacecolor="none", markeredgewidth=1.6,
                    color=colors.get(name, STYLE.green), label=f"{name} (this run)")
        ax.axhline(0.1, color=STYLE.muted, linestyle=":", linewidth=1.0)
        ax.text(sizes[0], 0.12, "chance", ha="left", fontsize=STYLE.small, color=STYLE.text)
        ax.set_xscale("log")
        ax.set_xticks(sizes, [str(s) for s in sizes])
        ax.minorticks_off()
        ax.set_ylim(0, 1.02)
        ax.set_xlabel("training images")
        ax.set_ylabel("test accuracy")
        _style_axes(ax)
        ax.legend(fontsize=STYLE.small - 1, frameon=False, loc="lower right")
        fig.tight_layout()
    return fig


def rnn_timing_plot(lengths: Sequence[int], ratio: Sequence[float],
                    distances: np.ndarray, gradients: Mapping[str, np.ndarray],
                    saved: tuple[Sequence[int], Sequence[float]] | None = None) -> Figure:
    """Left: RNN time / attention time against the sequence length. Right: how strongly the
    last output depends on each input, against the distance between them.

    Introduced in chapter 6. ``saved`` adds the ratio of the saved, longer sweep.
    """
    with style_context():
        fig, (left, right) = _plot_figure(8.4, 3.3, ncols=2)
        if saved is not None:
            left.plot(saved[0], saved[1], marker="s", color=STYLE.muted, linestyle="--",
                      linewidth=1.4, label="saved sweep")
        left.plot(lengths, ratio, marker="o", color=STYLE.vermillion, linewidth=1.8,
                  label="this run")
        left.axhline(1.0, color=STYLE.text, linewidth=0.9)
        left.text(lengths[0], 1.08, "equal time", fontsize=STYLE.small, color=STYLE.text,
                  va="bottom")
        left.set_xscale("log", base=2)
        left.set_yscale("log")
        left.set_xlabel("sequence length n")
        left.set_ylabel("RNN time / attention time")
        left.set_title("above 1: attention is faster", fontsize=STYLE.small)
        left.legend(fontsize=STYLE.small - 1, frameon=False, loc="lower left")
        styles = {"RNN": (STYLE.blue, "s", "-"), "self-attention": (STYLE.vermillion, "o", "--")}
        for name, values in gradients.items():
            color, marker, line = styles.get(name, (STYLE.green, "^", "-."))
            right.plot(distances, values, marker=marker, markersize=3.5, color=color,
                       linestyle=line, linewidth=1.5, label=name)
        right.set_yscale("log")
        right.set_xlabel("distance from the last position")
        right.set_ylabel(r"$\|\partial b^n / \partial a^{n-k}\|$")
        right.set_title("gradient of the last output", fontsize=STYLE.small)
        right.legend(fontsize=STYLE.small - 1, frameon=False, loc="lower left")
        for ax in (left, right):
            _style_axes(ax)
        fig.tight_layout()
    return fig


def cost_plot(results: Mapping[str, Mapping[str, Sequence[float]]],
              saved: Mapping[str, Mapping[str, Sequence[float]]] | None = None) -> Figure:
    """Time (left) and peak memory (right) against n, one curve per attention method.

    Introduced in chapter 7. ``results[method]`` has ``"n"``, ``"seconds"`` and
    ``"peak_bytes"`` (:func:`attnbook.efficient.cost_sweep`); ``saved``, the same for the
    saved longer sweep, is drawn thinner, without markers, behind this run's points.
    """
    with style_context():
        fig, (left, right) = _plot_figure(8.4, 3.4, ncols=2)
        for method, style in METHOD_STYLE.items():
            for source, thin in ((saved or {}, True), (results, False)):
                row = source.get(method)
                if not row or not row.get("n"):
                    continue
                kw = {"color": style["color"], "linestyle": style["linestyle"]}
                if thin:
                    kw.update(linewidth=1.0, alpha=0.6)
                else:
                    kw.update(marker=style["marker"], markersize=4.5, linewidth=1.8,
                              label=style["label"])
                left.plot(row["n"], row["seconds"], **kw)
                if row.get("peak_bytes"):
                    right.plot(row["n"], np.asarray(row["peak_bytes"]) / 2**20, **kw)
        for ax in (left, right):
            ax.set_xscale("log", base=2)
            ax.set_yscale("log")
            ax.set_xlabel("sequence length n")
            _style_axes(ax)
        left.set_ylabel("seconds (median)")
        right.set_ylabel("peak memory (MiB)")
        left.set_title("time", fontsize=STYLE.small)
        right.set_title("memory", fontsize=STYLE.small)
        right.legend(fontsize=STYLE.small - 1, frameon=False, loc="upper left")
        fig.tight_layout()
    return fig
