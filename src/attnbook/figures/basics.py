"""Figures F1–F5, chapters 1–2: sequences in and out, and self-attention for one query.

F1 is the three kinds of output for a sequence of vectors; F2 a self-attention layer and
its stacking with fully connected layers; F3–F5 the relevance scores, dot-product and additive
attention, and the weighted sum, with the numbers of the seeded :func:`relevance_example`.
Each takes ``language`` ("en" or "zh_CN"), the language of its words
(:mod:`attnbook.figures.language`).
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Circle
from matplotlib.path import Path as MplPath

from attnbook.figures.examples import relevance_example
from attnbook.figures.language import words
from attnbook.figures.primitives import (
    arrow,
    band,
    box,
    bracket,
    canvas,
    circle,
    fmt,
    heading,
    inputs_and_outputs,
    row_vector,
    text,
    vector,
)
from attnbook.figures.registry import figure
from attnbook.figures.style import STYLE

__all__ = [
    "f1_output_types",
    "f2_self_attention_layer",
    "f3_relevance",
    "f4_dot_product_and_additive",
    "f5_weighted_sum",
]


@figure("F1")
def f1_output_types(language: str = "en") -> Figure:
    """F1: the three kinds of output for a sequence of input vectors.

    Introduced in chapter 1. `language` ("en" or "zh_CN") is the language of its words; in
    Chinese the examples are Chinese sentences (POS tagging of 他在画画, translation of
    我是学生 into English).
    """
    t = words("F1", language)
    width, height = 8.4, 3.1
    fig, ax = canvas(width, height)
    panel = width / 3
    y_word, y_vec = 0.18, 0.4
    box_y, box_h = 1.38, 0.42
    y_out = 2.12
    panels = [
        (
            t("(a) one label per vector"),
            t("part-of-speech tagging"),
            t.tokens("I saw a saw"),
            t.tokens("N V DET N"),
            t("model"),
        ),
        (
            t("(b) one label per sequence"),
            t("sentiment analysis"),
            t.tokens("this is good"),
            t.tokens("positive"),
            t("model"),
        ),
        (
            t("(c) the model decides the length"),
            t("translation (seq2seq)"),
            t.tokens("how are you"),
            t.tokens("wie geht es dir"),
            t("seq2seq model"),
        ),
    ]
    spacing = 0.58
    for p, (title, task, tokens, labels, model) in enumerate(panels):
        cx = panel * (p + 0.5)
        heading(ax, cx, 2.92, title, fontsize=STYLE.fontsize)
        text(ax, cx, 2.64, task, fontsize=STYLE.small)
        xs = cx + spacing * (np.arange(len(tokens)) - (len(tokens) - 1) / 2)
        _, box_bottom, _, box_top = box(ax, cx, box_y, 2.3, box_h, model)
        for x, word in zip(xs, tokens, strict=True):
            _, top = vector(ax, x, y_vec, STYLE.inputs)
            text(ax, x, y_word, word, fontstyle="italic")
            arrow(ax, (x, top + 0.04), (x, box_bottom))
        out_xs = cx + spacing * (np.arange(len(labels)) - (len(labels) - 1) / 2)
        for x, label in zip(out_xs, labels, strict=True):
            arrow(ax, (x, box_top), (x, y_out - 0.17))
            text(
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


@figure("F2")
def f2_self_attention_layer(language: str = "en") -> Figure:
    """F2: a self-attention layer, and self-attention stacked with fully connected layers.

    Introduced in chapter 2. `language` ("en" or "zh_CN") is the language of its words.
    """
    t = words("F2", language)
    fig, ax = canvas(8.4, 3.5)
    # (a) one layer: every b^i is connected to every a^j.
    heading(ax, 2.15, 3.3, t("(a) a self-attention layer"))
    xs = np.array([1.55, 2.3, 3.05, 3.8])
    y_a, y_b = 0.42, 2.25
    band_bottom, band_top = 1.08, 1.92
    band(ax, 0.1, band_bottom, 4.1, band_top - band_bottom)
    text(ax, 0.68, (band_bottom + band_top) / 2, t("self-\nattention"), linespacing=1.3)
    tops = inputs_and_outputs(ax, xs, y_a, y_b)
    for i, xb in enumerate(xs):
        for xa, top in zip(xs, tops, strict=True):
            highlight = i == 0
            arrow(
                ax,
                (xa, top),
                (xb, y_b),
                color=STYLE.outputs if highlight else STYLE.muted,
                linewidth=2.2 if highlight else 0.9,
                zorder=1.5 if highlight else 1,
                head=False,
            )

    # (b) the stack: self-attention, FC per vector, self-attention, FC per vector.
    heading(ax, 6.3, 3.3, t("(b) stacking layers"))
    xs = np.array([5.25, 5.85, 6.45, 7.05])
    cx = xs.mean()
    gap = 0.2
    y = 0.3
    for x in xs:
        vector(ax, x, y, STYLE.inputs, cell=0.1, width=0.18)
    text(ax, xs[0] - 0.4, y + 0.15, "$a$")
    y += 0.3
    for k, kind in enumerate(["self-attention", "FC", "self-attention", "FC"]):
        for x in xs:
            arrow(ax, (x, y + 0.03), (x, y + gap))
        y += gap
        if kind == "FC":
            for x in xs:
                box(ax, x, y + 0.15, 0.42, 0.3, "FC", color=STYLE.green, fontsize=STYLE.small)
            if k == 1:
                text(
                    ax,
                    xs[-1] + 0.32,
                    y + 0.15,
                    t("the same FC\non each vector"),
                    ha="left",
                    fontsize=STYLE.small,
                    linespacing=1.2,
                )
        else:
            box(ax, cx, y + 0.15, xs[-1] - xs[0] + 0.42, 0.3, t(kind))
        y += 0.3
    for x in xs:
        arrow(ax, (x, y + 0.03), (x, y + gap))
        vector(ax, x, y + gap + 0.03, STYLE.outputs, cell=0.1, width=0.18)
    text(ax, xs[0] - 0.4, y + gap + 0.18, "$b$")
    return fig


@figure("F3")
def f3_relevance(language: str = "en") -> Figure:
    """F3: the relevance score of every a^j to a^1, with the numbers of a seeded example.

    Introduced in chapter 2. `language` ("en" or "zh_CN") is the language of its words.
    """
    t = words("F3", language)
    ex = relevance_example()
    alpha = ex["alpha"]
    fig, ax = canvas(8.6, 2.9)
    xs = 1.45 + 1.38 * np.arange(4)
    y_vec = 0.42
    top = y_vec + 0.48
    heights = [None, top + 0.5, top + 1.0, top + 1.5]
    for j, x in enumerate(xs, start=1):
        vector(ax, x, y_vec, STYLE.inputs)
        text(ax, x, y_vec - 0.2, f"$a^{j}$")
    start_offsets = [None, 0.07, 0.0, -0.07]  # the inner bracket starts on the right
    for j in range(1, 4):
        x0 = xs[0] + start_offsets[j]
        h = heights[j]
        path = bracket(x0, xs[j], top + 0.04, top + 0.06, h)
        arrow(ax, None, None, color=STYLE.score, linewidth=1.6, path=path)
        text(
            ax,
            (xs[0] + xs[j]) / 2 + (0.1 if j == 1 else 0.0),
            h,
            rf"$\alpha_{{1,{j + 1}}} = {fmt(alpha[j])}$",
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
    arrow(ax, None, None, color=STYLE.score, linewidth=1.6, path=loop)
    text(ax, left - 0.5, y_vec + 0.24, rf"$\alpha_{{1,1}} = {fmt(alpha[0])}$", ha="right")

    # The formula and where the numbers come from.
    x_note = 6.25
    lines = [
        (r"$\alpha_{1,j} = q^1 \cdot k^j$", STYLE.fontsize + 1),
        (r"$q^1 = W^q a^1, \quad k^j = W^k a^j$", STYLE.fontsize),
        (t(r"random $a^j \in \mathbb{R}^4$, $W^q$, $W^k$"), STYLE.small),
    ]
    for i, (line, size) in enumerate(lines):
        text(ax, x_note, 1.75 - 0.42 * i, line, ha="left", fontsize=size)
    return fig


@figure("F4")
def f4_dot_product_and_additive(language: str = "en") -> Figure:
    """F4: the dot-product and the additive way to compute a relevance score.

    Introduced in chapter 2. `language` ("en" or "zh_CN") is the language of its words.
    """
    t = words("F4", language)
    fig, ax = canvas(8.4, 3.6)
    y_vec, y_w, y_join = 0.4, 1.15, 1.72
    y_title = 3.45

    def front(cx: float) -> None:
        """a^1 and a^j, W^q and W^k, and the arrows q and k into the joint at (cx, y_join)."""
        for x, name, w_name, vec, col, side in [
            (cx - 0.75, "$a^1$", "$W^q$", "$q$", STYLE.query, -1),
            (cx + 0.75, "$a^j$", "$W^k$", "$k$", STYLE.key, 1),
        ]:
            _, top = vector(ax, x, y_vec, STYLE.inputs)
            text(ax, x, y_vec - 0.2, name)
            _, _, _, box_top = box(ax, x, y_w, 0.6, 0.34, w_name, color=col)
            arrow(ax, (x, top + 0.03), (x, y_w - 0.17))
            end_x = cx + side * 0.14
            arrow(ax, (x, box_top), (end_x, y_join - 0.12), color=col, linewidth=1.8)
            text(
                ax,
                (x + end_x) / 2 + side * 0.2,
                (box_top + y_join) / 2 + 0.02,
                vec,
                fontsize=STYLE.title,
            )

    # (a) dot product
    cx = 2.1
    heading(ax, cx, y_title, t("(a) dot product"))
    front(cx)
    circle(ax, cx, y_join, 0.17, "")
    ax.add_patch(Circle((cx, y_join), 0.035, facecolor=STYLE.text, edgecolor="none", zorder=3))
    arrow(ax, (cx, y_join + 0.17), (cx, 2.25))
    text(ax, cx, 2.42, r"$\alpha = q \cdot k$", fontsize=STYLE.title)

    # (b) additive
    cx = 6.3
    heading(ax, cx, y_title, t("(b) additive"))
    front(cx)
    circle(ax, cx, y_join, 0.17, "$+$")
    arrow(ax, (cx, y_join + 0.17), (cx, 2.0))
    box(ax, cx, 2.15, 0.7, 0.3, r"$\tanh$", color=STYLE.green)
    arrow(ax, (cx, 2.3), (cx, 2.48))
    box(ax, cx, 2.63, 0.7, 0.3, r"$w^{\mathsf{T}}$", color=STYLE.green)
    arrow(ax, (cx, 2.78), (cx, 2.96))
    text(ax, cx, 3.12, r"$\alpha = w^{\mathsf{T}} \tanh(q + k)$", fontsize=STYLE.title)
    return fig


@figure("F5")
def f5_weighted_sum(language: str = "en") -> Figure:
    """F5: softmax of the scores, values, and b^1 as the weighted sum of the values.

    Introduced in chapter 2. `language` ("en" or "zh_CN") is the language of its words; the
    figure has none but notation (softmax, α, v, b), so both languages draw the same image.
    """
    words("F5", language)  # checks the language
    ex = relevance_example()
    alpha, alpha_prime, v, b = ex["alpha"], ex["alpha_prime"], ex["v"], ex["b"]
    n = len(alpha)
    fig, ax = canvas(8.6, 3.3)
    row_ys = 2.3 - 0.52 * np.arange(n)
    mid = row_ys.mean()
    y_head = 2.85
    # scores
    text(ax, 0.75, y_head, r"$\alpha_{1,j} = q^1 \cdot k^j$")
    for j, y in enumerate(row_ys):
        text(ax, 1.3, y, rf"$\alpha_{{1,{j + 1}}} = {fmt(alpha[j])}$", ha="right")
        arrow(ax, (1.38, y), (1.68, y))
    # softmax
    sm_left, sm_right = 1.68, 2.58
    box(
        ax,
        (sm_left + sm_right) / 2,
        mid,
        sm_right - sm_left,
        row_ys[0] - row_ys[-1] + 0.4,
        "softmax",
        color=STYLE.score,
    )
    text(ax, 3.45, y_head, r"$\alpha'_{1,j}$")
    # weights times values
    text(ax, 5.35, y_head, r"$v^j = W^v a^j$")
    v_left = 4.35
    ends = []
    for j, y in enumerate(row_ys):
        arrow(ax, (sm_right, y), (2.86, y))
        text(ax, 2.9, y, rf"$\alpha'_{{1,{j + 1}}} = {fmt(alpha_prime[j])}$", ha="left")
        text(ax, 4.1, y, rf"$\times\, v^{j + 1}$", ha="center")
        _, right = row_vector(ax, v_left, y, v[j], STYLE.value, cell=0.5, height=0.3)
        ends.append((right, y))
    text(
        ax,
        3.45,
        row_ys[-1] - 0.45,
        rf"$\Sigma_j\, \alpha'_{{1,j}} = {fmt(alpha_prime.sum())}$",
        fontsize=STYLE.small,
    )
    # weighted sum
    sx = 6.95
    circle(ax, sx, mid, 0.2, r"$\Sigma$")
    for (right, y), w in zip(ends, alpha_prime, strict=True):
        arrow(
            ax,
            (right + 0.05, y),
            (sx - 0.2, mid + (y - mid) * 0.25),
            color=STYLE.score,
            linewidth=0.6 + 3.0 * w,
        )
    # b^1
    bx = 7.9
    arrow(ax, (sx + 0.2, mid), (bx - 0.3, mid))
    cell = 0.3
    vector(ax, bx, mid - 2 * cell, STYLE.outputs, cell=cell, width=0.56, values=b)
    text(ax, bx, mid + 2 * cell + 0.2, "$b^1$")
    text(ax, 7.55, y_head, r"$b^1 = \Sigma_j\, \alpha'_{1,j}\, v^j$")
    return fig


