"""Figure F11, chapter 6: self-attention against an RNN.

F11 redraws the notes' comparison of self-attention with an RNN: the RNN carries a memory from
step to step, so the first input reaches the last output only after every step in between;
self-attention computes every output at once, and links any two positions in one step. The
figure takes ``language`` ("en" or "zh_CN"), the language of its words
(:mod:`attnbook.figures.language`).
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from attnbook.figures.language import words
from attnbook.figures.primitives import (
    arrow,
    band,
    box,
    canvas,
    heading,
    inputs_and_outputs,
    text,
    vector,
)
from attnbook.figures.registry import figure
from attnbook.figures.style import STYLE

__all__ = ["f11_rnn_vs_self_attention"]


@figure("F11")
def f11_rnn_vs_self_attention(language: str = "en") -> Figure:
    """F11: an RNN's sequential memory against self-attention's one parallel step.

    Used in chapter 6 by `draw` (``draw("F11")``). `language` ("en" or "zh_CN") is the
    language of its words.
    """
    t = words("F11", language)
    fig, ax = canvas(8.4, 3.85)
    n = 4
    y_a, y_cell, y_b = 0.66, 1.8, 2.65
    y_title, y_note = 3.62, 0.13
    path = STYLE.vermillion

    # (a) the RNN: one cell per step, a memory arrow from each cell to the next.
    heading(ax, 2.1, y_title, t("(a) RNN: one step after another"))
    xs = 0.55 + 0.95 * np.arange(n)
    cell_w, cell_h = 0.62, 0.42
    for step, x in enumerate(xs):
        _, top = vector(ax, x, y_a, STYLE.inputs)
        text(ax, x, y_a - 0.2, f"$a^{step + 1}$")
        box(ax, x, y_cell, cell_w, cell_h, "RNN")
        arrow(ax, (x, top + 0.03), (x, y_cell - cell_h / 2),
              color=path if step == 0 else None, linewidth=2.2 if step == 0 else None)
        vector(ax, x, y_b, STYLE.outputs)
        text(ax, x, y_b + 0.48 + 0.17, f"$b^{step + 1}$")
        last = step == n - 1
        arrow(ax, (x, y_cell + cell_h / 2), (x, y_b - 0.03),
              color=path if last else None, linewidth=2.2 if last else None)
        text(ax, x + 0.07, (top + y_cell - cell_h / 2) / 2, t("step {n}", n=step + 1), ha="left",
             fontsize=STYLE.small - 1, color=STYLE.text)
        if step < n - 1:  # the memory h: a¹ passes through every cell on its way to b⁴
            arrow(ax, (x + cell_w / 2, y_cell), (xs[step + 1] - cell_w / 2, y_cell),
                  color=path, linewidth=2.2)
            text(ax, (x + xs[step + 1]) / 2, y_cell + 0.15, "$h$", fontsize=STYLE.small)

    # (b) self-attention: every output from every input, all at once.
    heading(ax, 6.3, y_title, t("(b) self-attention: one step"))
    xs = 4.95 + 0.9 * np.arange(n)
    band_bottom, band_top = y_cell - 0.3, y_cell + 0.3
    band(ax, xs[0] - 0.4, band_bottom, xs[-1] - xs[0] + 0.8, band_top - band_bottom)
    text(ax, xs[2] + 0.5, y_cell, t("self-attention"), fontsize=STYLE.small, zorder=3,
         bbox={"boxstyle": "round,pad=0.2", "facecolor": STYLE.tint(STYLE.layer, 0.3),
                "edgecolor": "none"})
    tops = inputs_and_outputs(ax, xs, y_a, y_b, label_gap=0.17)
    for i, xb in enumerate(xs):
        for j, (xa, top) in enumerate(zip(xs, tops, strict=True)):
            highlight = i == n - 1 and j == 0
            arrow(ax, (xa, top + 0.03), (xb, y_b - 0.03),
                  color=path if highlight else STYLE.muted,
                  linewidth=2.4 if highlight else 0.8,
                  zorder=1.5 if highlight else 1, head=highlight)
    text(ax, 6.3, y_note, t("$a^1 \\to b^4$: 1 step, all $b^i$ at once"),
         fontsize=STYLE.small, color=STYLE.text)
    text(ax, 2.1, y_note, t("$a^1 \\to b^4$: 4 steps, one after another"),
         fontsize=STYLE.small, color=STYLE.text)
    return fig
