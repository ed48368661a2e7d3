"""Figure F19, chapter 12: teacher forcing.

The decoder reads the ground truth, shifted right by one BEGIN token, and each of its output
distributions is scored by cross-entropy against the next ground-truth token. The example is
305 → 三百零五, and the distributions are the book's trained translator's
(:func:`attnbook.figures.examples.teacher_forcing_example`), as chapter 12 computes them.
The figure takes ``language`` ("en" or "zh_CN"), the language of its words
(:mod:`attnbook.figures.language`).
"""

from __future__ import annotations

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from attnbook.figures.examples import VOCABULARY, teacher_forcing_example
from attnbook.figures.language import words
from attnbook.figures.primitives import arrow, box, canvas, chip, circle, polyline, text, vector
from attnbook.figures.registry import figure
from attnbook.figures.style import STYLE

__all__ = ["f19_teacher_forcing"]


def _distribution(ax: Axes, cx: float, bottom: float, probs: np.ndarray, correct: int,
                  width: float = 0.8, height: float = 0.5) -> None:
    """A small bar chart of a distribution over the vocabulary (probabilities 0 to 1); the
    correct token's bar in the output colour, the others grey, on a thin baseline."""
    n = len(probs)
    bar = width / n
    left = cx - width / 2
    for i, p in enumerate(probs):
        color = STYLE.outputs if i == correct else STYLE.muted
        ax.add_patch(Rectangle((left + i * bar + 0.01, bottom), bar - 0.02,
                               height * p,
                               facecolor=STYLE.tint(color, 0.85 if i == correct else 0.6),
                               edgecolor=STYLE.line, linewidth=0.5, zorder=2))
    ax.plot([left - 0.03, left + width + 0.03], [bottom, bottom], color=STYLE.line,
            linewidth=0.8, zorder=3)


@figure("F19")
def f19_teacher_forcing(language: str = "en") -> Figure:
    """F19: teacher forcing, the ground truth as the decoder's input, cross-entropy as the loss.

    Used in chapter 12 by `draw` (``draw("F19")``). `language` ("en" or "zh_CN") is the
    language of its words.
    """
    t = words("F19", language)
    ex = teacher_forcing_example(305)
    number, targets = "305", ex["labels"]
    fig, ax = canvas(8.4, 3.7)
    y_vec, y_label = 0.42, 0.2
    dec_y, dec_h = 1.42, 0.42
    # Encoder on the left.
    x_enc = 0.95
    enc_xs = x_enc + 0.4 * np.arange(-1, 2)
    _, _, enc_right, _ = box(ax, x_enc, dec_y, 1.3, dec_h, t("encoder"), color=STYLE.inputs)
    for x, digit in zip(enc_xs, number, strict=True):
        _, top = vector(ax, x, y_vec, STYLE.inputs)
        text(ax, x, y_label, digit)
        arrow(ax, (x, top + 0.03), (x, dec_y - dec_h / 2))
    # Decoder in the middle, one column per position.
    xs = 2.55 + 0.98 * np.arange(len(targets))
    dec_left, dec_right = xs[0] - 0.5, xs[-1] + 0.5
    box(ax, (dec_left + dec_right) / 2, dec_y, dec_right - dec_left, dec_h, t("decoder"))
    arrow(ax, (enc_right, dec_y), (dec_left, dec_y), color=STYLE.key, linewidth=1.8)
    y_in = 0.58
    for x, token in zip(xs, ex["inputs"], strict=True):
        chip(ax, x, y_in, token, STYLE.outputs if token != "BEGIN" else STYLE.muted,
             fontsize=STYLE.small)
        arrow(ax, (x, y_in + 0.17), (x, dec_y - dec_h / 2))
    text(ax, (xs[1] + xs[-1]) / 2, y_label - 0.04,
         t("input: the ground truth, shifted right by one"), fontsize=STYLE.small,
         fontstyle="italic")
    # An output distribution above each position, its cross-entropy with the target token.
    y_dist, y_ce, y_target = 1.9, 2.75, 3.35
    for i, (x, target) in enumerate(zip(xs, targets, strict=True)):
        arrow(ax, (x, dec_y + dec_h / 2), (x, y_dist - 0.06))
        _distribution(ax, x, y_dist, ex["probs"][i], VOCABULARY.index(target))
        circle(ax, x, y_ce, 0.2, "CE", color=STYLE.score, fontsize=STYLE.small)
        text(ax, x + 0.23, y_ce + 0.17, f"{ex['cross_entropy'][i]:.3f}", ha="left",
             fontsize=STYLE.small)
        arrow(ax, (x, y_dist + 0.53), (x, y_ce - 0.2))
        chip(ax, x, y_target, target, STYLE.outputs, fontsize=STYLE.small)
        arrow(ax, (x, y_target - 0.15), (x, y_ce + 0.2))
    text(ax, xs[0] - 0.62, y_target, t("target"), ha="right", fontsize=STYLE.small,
         fontstyle="italic")
    text(ax, xs[0] - 0.62, y_dist + 0.25, t("output\ndistribution"), ha="right",
         fontsize=STYLE.small, fontstyle="italic", linespacing=1.2)
    # The loss: the sum of the cross-entropies.
    x_sum = xs[-1] + 0.82
    circle(ax, x_sum, y_ce, 0.2, r"$\Sigma$")
    arrow(ax, None, None, path=polyline([(xs[0] + 0.2, y_ce - 0.0), (x_sum - 0.2, y_ce)]),
          color=STYLE.line, linewidth=1.0, zorder=1)
    text(ax, x_sum, y_ce - 0.42, t("loss"), fontweight="bold")
    return fig
