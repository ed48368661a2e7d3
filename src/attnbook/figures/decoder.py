"""Figures F16–F18, chapters 10–11: autoregressive decoding, the END token, cross attention.

The running example of chapters 8–12 translates numbers written in digits into Chinese
numerals (1005 → 一千零五). Every distribution and weight these figures draw is the book's
trained translator's (``translate.load_book_model("at")``), computed by
:mod:`attnbook.figures.examples` as chapters 10 and 11 compute them. Each figure takes
``language`` ("en" or "zh_CN"), the language of its words (:mod:`attnbook.figures.language`);
the tokens BEGIN and END are the model's own names, the same in both.
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import FancyBboxPatch, Rectangle
from matplotlib.path import Path as MplPath

from attnbook.figures.examples import VOCABULARY, cross_attention_example, decoding_example
from attnbook.figures.language import words
from attnbook.figures.primitives import (
    arrow,
    box,
    canvas,
    chip,
    circle,
    fmt,
    heading,
    text,
    vector,
)
from attnbook.figures.registry import figure
from attnbook.figures.style import STYLE

__all__ = [
    "f16_autoregressive_decoding",
    "f17_end_token",
    "f18_cross_attention",
]


def _bars(ax, left: float, bottom: float, width: float, height: float, probs: np.ndarray,
          highlight: int, vmax: float | None = None) -> list[float]:
    """A small bar chart of a distribution; the bar `highlight` in the output colour.

    Returns the x centres of the bars."""
    n = len(probs)
    step = width / n
    vmax = vmax or float(probs.max())
    ax.add_patch(Rectangle((left, bottom), width, height, facecolor=STYLE.background,
                           edgecolor=STYLE.muted, linewidth=0.8, zorder=1))
    centres = []
    for i, p in enumerate(probs):
        x = left + i * step
        chosen = i == highlight
        ax.add_patch(Rectangle(
            (x + 0.12 * step, bottom), 0.76 * step, height * 0.92 * p / vmax,
            facecolor=STYLE.outputs if chosen else STYLE.tint(STYLE.blue, 0.55),
            edgecolor=STYLE.line if chosen else "none", linewidth=0.8, zorder=2,
        ))
        centres.append(x + step / 2)
    return centres


@figure("F16")
def f16_autoregressive_decoding(language: str = "en") -> Figure:
    """F16: autoregressive decoding, each step's choice fed back as the next input.

    Used in chapter 10 by `draw` (``draw("F16")``). `language` ("en" or "zh_CN") is the
    language of its words.
    """
    t = words("F16", language)
    ex = decoding_example(1005)
    chosen, inputs, probs = ex["outputs"][:4], ex["inputs"], ex["probs"]  # its first 4 steps
    fig, ax = canvas(8.8, 3.9)
    # The encoder, on the left, reading the digits.
    enc_x = 0.8
    box(ax, enc_x, 1.55, 1.05, 0.5, t("Encoder"), color=STYLE.green)
    for i, digit in enumerate("1005"):
        x = enc_x - 0.36 + 0.24 * i
        text(ax, x, 0.55, digit, fontsize=STYLE.title)
        arrow(ax, (x, 0.7), (x, 1.3))
    text(ax, enc_x, 0.2, t("input digits"), fontsize=STYLE.small)
    # The decoder, unrolled: one copy per step.
    xs = 2.45 + 1.72 * np.arange(len(chosen))
    dec_y, dec_h, dec_w = 1.55, 0.5, 1.1
    y_in, y_bars, bars_h, y_out = 0.55, 2.1, 0.75, 3.2
    # The encoder's output reaches every step: a line along the bottom of the boxes.
    bus_y = dec_y - dec_h / 2 - 0.2
    arrow(ax, (enc_x + 0.525, dec_y), (enc_x + 0.75, dec_y), head=False, color=STYLE.green)
    arrow(ax, (enc_x + 0.75, dec_y), (enc_x + 0.75, bus_y), head=False, color=STYLE.green)
    arrow(ax, (enc_x + 0.75, bus_y), (xs[-1] - 0.4, bus_y), head=False, color=STYLE.green)
    for step, x in enumerate(xs):
        arrow(ax, (x - 0.4, bus_y), (x - 0.4, dec_y - dec_h / 2), color=STYLE.green)
        box(ax, x, dec_y, dec_w, dec_h, t("Decoder"))
        chip(ax, x, y_in, inputs[step], STYLE.inputs if step == 0 else STYLE.outputs,
             fontsize=STYLE.small if step == 0 else STYLE.fontsize, pad=0.22, zorder=4)
        arrow(ax, (x, y_in + 0.2), (x, dec_y - dec_h / 2))
        arrow(ax, (x, dec_y + dec_h / 2), (x, y_bars - 0.02))
        index = VOCABULARY.index(chosen[step])
        centres = _bars(ax, x - 0.55, y_bars, 1.1, bars_h, probs[step], index, vmax=1.0)
        arrow(ax, (centres[index], y_bars + bars_h * 0.92 * probs[step, index] + 0.03),
              (centres[index], y_out - 0.2), color=STYLE.outputs)
        chip(ax, centres[index], y_out, chosen[step], STYLE.outputs, pad=0.22, zorder=4)
        # The probability of the choice, beside the arrow into the bars.
        text(ax, x + 0.08, (dec_y + dec_h / 2 + y_bars) / 2, f"p = {probs[step, index]:.3f}",
             ha="left", fontsize=STYLE.small)
        if step + 1 < len(xs):
            # The choice becomes the next step's input: down through the gap between boxes.
            x_gap = (x + xs[step + 1]) / 2
            path = MplPath(
                [(centres[index] + 0.3, y_out), (x_gap, y_out), (x_gap, y_out - 0.15),
                 (x_gap, y_in + 0.15), (x_gap, y_in), (xs[step + 1] - 0.42, y_in)],
                [MplPath.MOVETO, MplPath.LINETO, MplPath.LINETO, MplPath.LINETO,
                 MplPath.LINETO, MplPath.LINETO],
            )
            arrow(ax, None, None, path=path, color=STYLE.outputs, linewidth=1.4)
    text(ax, xs[-1] + 0.7, y_bars + bars_h / 2, "…", fontsize=STYLE.title)
    text(ax, xs[0] - 0.62, y_bars + bars_h / 2, t("distribution\nover the\nvocabulary"),
         ha="right", fontsize=STYLE.small, linespacing=1.15)
    text(ax, xs[0] - 0.62, y_out, t("choice (max)"), ha="right", fontsize=STYLE.small)
    text(ax, xs[0] - 0.62, y_in, t("input"), ha="right", fontsize=STYLE.small)
    heading(ax, (xs[0] + xs[-1]) / 2, 3.72, t("the same decoder, step by step"))
    return fig


@figure("F17")
def f17_end_token(language: str = "en") -> Figure:
    """F17: the END token in the vocabulary; decoding stops when the decoder chooses it.

    Used in chapter 10 by `draw` (``draw("F17")``). `language` ("en" or "zh_CN") is the
    language of its words.
    """
    t = words("F17", language)
    ex = decoding_example(1005)
    last = len(ex["outputs"]) - 1  # the step that chose END
    probs = ex["probs"][last]
    end = VOCABULARY.index("END")
    fig, ax = canvas(8.8, 3.5)
    # (a) the distribution at the last step, with every token of the vocabulary labelled.
    left, bottom, width, height = 0.55, 0.85, 4.6, 1.85
    heading(ax, left + width / 2, 3.3,
            t("(a) step {n}: after {inputs}", n=last + 1,
              inputs=f"{ex['inputs'][0]} {''.join(ex['inputs'][1:])}"))
    centres = _bars(ax, left, bottom, width, height, probs, end, vmax=1.0)
    for x, token in zip(centres, VOCABULARY, strict=True):
        if token == "END":
            text(ax, x, bottom - 0.08, token, rotation=90, va="top", fontsize=STYLE.small,
                 fontweight="bold")
        else:
            text(ax, x, bottom - 0.16, token, fontsize=STYLE.small)
    text(ax, centres[end] + 0.2, bottom + height * 0.92 * probs[end] - 0.1,
         f"p(END) = {probs[end]:.3f}", ha="left", fontsize=STYLE.small)
    for value in (0.0, 0.5, 1.0):
        y = bottom + height * 0.92 * value
        text(ax, left - 0.08, y, fmt(value, 1), ha="right", fontsize=STYLE.small)
    text(ax, left - 0.42, bottom + height / 2, t("probability"), rotation=90,
         fontsize=STYLE.small)
    # (b) three outputs, each ending where the decoder chose END.
    heading(ax, 6.95, 3.3, t("(b) END decides the length"))
    rows = [(str(n), decoding_example(n)["outputs"][:-1]) for n in (1005, 20, 300000)]
    for r, (number, tokens) in enumerate(rows):
        y = 2.6 - 0.8 * r
        text(ax, 5.45, y + 0.32, t("{number}  →  {count} tokens, then END", number=number,
                                   count=len(tokens)), fontsize=STYLE.small, ha="left")
        x = 5.45
        for token in [*tokens, "END"]:
            w = 0.1 * len(token) + 0.24
            ax.add_patch(FancyBboxPatch(
                (x, y - 0.15), w, 0.3, boxstyle="round,pad=0,rounding_size=0.05",
                facecolor=STYLE.tint(STYLE.vermillion if token == "END" else STYLE.outputs,
                                     0.45),
                edgecolor=STYLE.line, linewidth=STYLE.linewidth * 0.8, zorder=2))
            text(ax, x + w / 2, y, token, fontsize=STYLE.small, zorder=3,
                 fontweight="bold" if token == "END" else "normal")
            x += w + 0.08
    return fig


@figure("F18")
def f18_cross_attention(language: str = "en") -> Figure:
    """F18: cross attention, q from the decoder, k and v from the encoder's output.

    Used in chapter 11 by `draw` (``draw("F18")``). `language` ("en" or "zh_CN") is the
    language of its words.
    """
    t = words("F18", language)
    ex = cross_attention_example(1005)  # the first decoder block, head 1, first step
    alpha_prime, digits = ex["alpha_prime"], "".join(ex["source"])
    fig, ax = canvas(8.8, 3.9)
    cell, y_in, y_box, y_a, y_kv = 0.13, 0.22, 0.7, 1.08, 1.8
    top_kv = y_kv + 3 * cell
    # Encoder side.
    xs = 0.85 + 0.98 * np.arange(4)
    box(ax, (xs[0] + xs[-1]) / 2, y_box, xs[-1] - xs[0] + 0.8, 0.36, t("Encoder"),
        color=STYLE.green)
    for i, (x, digit) in enumerate(zip(xs, digits, strict=True), start=1):
        text(ax, x, y_in, digit, fontsize=STYLE.title)
        arrow(ax, (x, y_in + 0.15), (x, y_box - 0.18))
        arrow(ax, (x, y_box + 0.18), (x, y_a))
        _, top_a = vector(ax, x, y_a, STYLE.inputs, cell=cell, width=0.2)
        text(ax, x + 0.14, y_a + 1.5 * cell, f"$a^{i}$", fontsize=STYLE.small, ha="left")
        for dx, color, name in ((-0.16, STYLE.key, "k"), (0.16, STYLE.value, "v")):
            arrow(ax, (x, top_a + 0.02), (x + dx, y_kv - 0.02), linewidth=0.9)
            vector(ax, x + dx, y_kv, color, cell=cell, width=0.2)
            side = -1 if name == "k" else 1
            text(ax, x + dx + side * 0.14, y_kv + 1.5 * cell, f"${name}^{i}$",
                 fontsize=STYLE.small, ha="right" if name == "k" else "left")
    # Decoder side: BEGIN -> masked self-attention -> q.
    xq = 7.85
    text(ax, xq, y_in, ex["query_input"], fontsize=STYLE.small, bbox={
        "boxstyle": "round,pad=0.2", "facecolor": STYLE.tint(STYLE.inputs, 0.4),
        "edgecolor": STYLE.line, "linewidth": STYLE.linewidth * 0.8})
    box(ax, xq, y_box, 1.55, 0.36, t("masked self-attn."), fontsize=STYLE.small)
    arrow(ax, (xq, y_in + 0.15), (xq, y_box - 0.18))
    arrow(ax, (xq, y_box + 0.18), (xq, y_a))
    vector(ax, xq, y_a, STYLE.layer, cell=cell, width=0.2)
    arrow(ax, (xq, y_a + 3 * cell + 0.02), (xq, y_kv - 0.02))
    vector(ax, xq, y_kv, STYLE.query, cell=cell, width=0.2)
    text(ax, xq + 0.25, y_kv + 1.5 * cell, "$q$", fontsize=STYLE.title, ha="left")
    text(ax, xq, 3.72, t("decoder"), fontsize=STYLE.fontsize, fontweight="bold")
    text(ax, (xs[0] + xs[-1]) / 2, 3.72, t("encoder output"), fontsize=STYLE.fontsize,
         fontweight="bold")
    # q meets every key: a bracket over the top, one drop per key, labelled with the weight.
    h = 3.3
    ax.plot([xq, xq], [top_kv + 0.02, h], color=STYLE.query, linewidth=1.5, zorder=1.5)
    ax.plot([xs[0] - 0.16, xq], [h, h], color=STYLE.query, linewidth=1.5, zorder=1.5)
    for i, x in enumerate(xs):
        arrow(ax, (x - 0.16, h), (x - 0.16, top_kv + 0.03), color=STYLE.query, linewidth=1.5)
        text(ax, x - 0.1, h - 0.24, rf"$\alpha'_{i + 1} = {fmt(alpha_prime[i])}$",
             ha="left", fontsize=STYLE.small, zorder=3,
             bbox={"boxstyle": "round,pad=0.1", "facecolor": STYLE.background,
                    "edgecolor": "none"})
    text(ax, (xs[-1] + xq) / 2 + 0.1, h + 0.16,
         r"$\alpha' = \mathrm{softmax}(q \cdot k^i / \sqrt{d_k})$", fontsize=STYLE.small)
    # The values, weighted by alpha', rise into one sum (thicker = larger weight).
    bus, sx = 2.72, 5.3
    for i, x in enumerate(xs):
        arrow(ax, (x + 0.16, top_kv + 0.02), (x + 0.16, bus), color=STYLE.value,
              linewidth=0.6 + 4.0 * alpha_prime[i], head=False, zorder=1.2)
    ax.plot([xs[0] + 0.16, sx - 0.2], [bus, bus], color=STYLE.value, linewidth=1.2, zorder=1.1)
    circle(ax, sx, bus, 0.2, r"$\Sigma$")
    arrow(ax, (sx + 0.2, bus), (6.2, bus))
    vector(ax, 6.35, bus - 1.5 * cell, STYLE.outputs, cell=cell, width=0.2)
    text(ax, sx + 0.5, bus - 0.38, r"$\Sigma_i\, \alpha'_i\, v^i$", fontsize=STYLE.small)
    text(ax, 6.35, bus - 0.62, t("to the decoder's\nfully connected\nlayer"),
         fontsize=STYLE.small, va="top", linespacing=1.15)
    return fig
