"""Figures F12–F15, chapters 8–9: sequence to sequence, the Transformer and its encoder block.

F12 and F13 are the sequence-to-sequence tasks of chapter 8; F14 (the whole Transformer) and
F15 (one encoder block, post-LN and pre-LN) belong to chapter 9. The running example of
chapters 8–12 is a number written in digits turned into its Chinese numeral, 305 → 三百零五
(:func:`attnbook.numerals.to_chinese`), drawn in the style's CJK font. Each figure takes
``language`` ("en" or "zh_CN"), the language of its words (:mod:`attnbook.figures.language`).
"""

from __future__ import annotations

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from attnbook.figures.language import words
from attnbook.figures.primitives import (
    arrow,
    box,
    canvas,
    chip,
    circle,
    frame,
    heading,
    polyline,
    text,
    vector,
)
from attnbook.figures.registry import figure
from attnbook.figures.style import STYLE
from attnbook.numerals import to_chinese

__all__ = [
    "f12_qa_as_seq2seq",
    "f13_seq2seq_applications",
    "f14_transformer",
    "f15_encoder_block",
]


@figure("F12")
def f12_qa_as_seq2seq(language: str = "en") -> Figure:
    """F12: translation, summarization and sentiment analysis as question answering.

    Used in chapter 8 by `draw` (``draw("F12")``). `language` ("en" or "zh_CN") is the
    language of its words; in Chinese the examples are Chinese (我是学生 to translate into
    English, as in F1).
    """
    t = words("F12", language)
    fig, ax = canvas(8.4, 3.1)
    rows = [
        (t("translate into German"), t("how are you"), t("wie geht es dir")),
        (t("summarize"), t("a long news article ..."), t("a short summary")),
        (t("is it positive?"), t("this is good"), t("positive")),
    ]
    ys = [2.2, 1.35, 0.5]
    x_q, x_plus, x_c, x_model, x_a = 1.2, 2.5, 3.7, 5.75, 7.35
    model_w = 1.1
    heading(ax, x_q, 2.85, t("question"), fontsize=STYLE.fontsize)
    heading(ax, x_c, 2.85, t("context"), fontsize=STYLE.fontsize)
    heading(ax, x_a, 2.85, t("answer"), fontsize=STYLE.fontsize)
    box(ax, x_model, (ys[0] + ys[-1]) / 2, model_w, ys[0] - ys[-1] + 0.6, t("seq2seq\nmodel"))
    for y, (question, context, answer) in zip(ys, rows, strict=True):
        chip(ax, x_q, y, question, STYLE.query)
        text(ax, x_plus, y, "+", fontsize=STYLE.title)
        chip(ax, x_c, y, context, STYLE.inputs)
        arrow(ax, (4.78, y), (x_model - model_w / 2, y))
        arrow(ax, (x_model + model_w / 2, y), (6.55, y))
        chip(ax, x_a, y, answer, STYLE.outputs)
    return fig


def _waveform(ax: Axes, left: float, right: float, y: float, height: float) -> None:
    """A made-up sound wave (a few summed sines under an envelope), drawn as a line."""
    t = np.linspace(0.0, 1.0, 200)
    wave = np.sin(2 * np.pi * 9 * t) + 0.5 * np.sin(2 * np.pi * 23 * t + 1.0)
    envelope = np.sin(np.pi * t) ** 0.5 * (0.6 + 0.4 * np.sin(2 * np.pi * 2 * t))
    ax.plot(left + (right - left) * t, y + height / 2 * wave * envelope / 1.5,
            color=STYLE.line, linewidth=0.9)


@figure("F13")
def f13_seq2seq_applications(language: str = "en") -> Figure:
    """F13: four applications of sequence to sequence.

    Used in chapter 8 by `draw` (``draw("F13")``). `language` ("en" or "zh_CN") is the
    language of its words; in Chinese the headline, the words heard and the genres are
    Chinese.
    """
    t = words("F13", language)
    width = 8.4
    fig, ax = canvas(width, 3.2)
    panel = width / 4
    y_vec, y_label = 0.45, 0.2
    box_y, box_h = 1.5, 0.4
    y_out = 2.3
    panels = [
        (t("translation"), t("digits to a Chinese numeral"), list("305"),
         list(to_chinese(305))),
        (t("summarization"), t("article to headline"), 8, t.tokens("cat wins prize")),
        (t("speech recognition"), t("sound to text"), 9, t.tokens("how are you")),
        (t("multi-label classification"), t("plot to genres"), 5, t.tokens("comedy romance")),
    ]
    under = {1: t("a long article"), 3: t("a film's plot")}
    for p, (title, task, inputs, outputs) in enumerate(panels):
        cx = panel * (p + 0.5)
        heading(ax, cx, 3.05, title, fontsize=STYLE.small if len(title) > 20 else STYLE.fontsize)
        text(ax, cx, 2.78, task, fontsize=STYLE.small, color=STYLE.line)
        n = len(inputs) if isinstance(inputs, list) else inputs
        spacing = 0.45 if n <= 3 else (0.21 if n > 6 else 0.3)
        cell, vec_w = (0.16, 0.22) if n <= 6 else (0.12, 0.14)
        xs = cx + spacing * (np.arange(n) - (n - 1) / 2)
        _, box_bottom, _, box_top = box(ax, cx, box_y, panel - 0.35, box_h, t("seq2seq"))
        for i, x in enumerate(xs):
            _, top = vector(ax, x, y_vec, STYLE.inputs, cell=cell, width=vec_w)
            arrow(ax, (x, top + 0.03), (x, box_bottom), linewidth=0.9 if n > 6 else None)
            if isinstance(inputs, list):
                text(ax, x, y_label, inputs[i])
        if p == 2:
            _waveform(ax, xs[0] - 0.08, xs[-1] + 0.08, y_label - 0.02, 0.3)
        elif p in under:
            text(ax, cx, y_label, under[p], fontstyle="italic")
        gap = 0.5 if len(outputs) > 3 else (0.58 if len(outputs) == 3 else 0.95)
        out_xs = cx + gap * (np.arange(len(outputs)) - (len(outputs) - 1) / 2)
        for x, word in zip(out_xs, outputs, strict=True):
            arrow(ax, (x, box_top), (x, y_out - 0.17))
            chip(ax, x, y_out, word, STYLE.outputs, fontsize=STYLE.small)
    return fig


def _stack(ax: Axes, cx: float, bottom: float, parts: list[tuple[str, str, float]],
           width: float, gap: float) -> list[tuple[float, float]]:
    """Boxes stacked upwards from `bottom`, joined by arrows; returns each box's (bottom, top).

    `parts` are (label, colour, height).
    """
    spans = []
    y = bottom
    for i, (label, color, h) in enumerate(parts):
        if i:
            arrow(ax, (cx, y - gap), (cx, y))
        box(ax, cx, y + h / 2, width, h, label, color=color, fontsize=STYLE.small)
        spans.append((y, y + h))
        y += h + gap
    return spans


def _framed_block(ax: Axes, x: float, feed: float, bottom: float,
                  rows: list[tuple[str, str, float]], box_w: float, gap: float,
                  pad: tuple[float, float], color: str):
    """A stack of sublayers fed from below (the arrow starts at ``feed``), in a dashed frame
    ``pad`` wider on the left and right; returns the stack and the frame's left, right, top."""
    stack = _stack(ax, x, bottom, rows, box_w, gap)
    arrow(ax, (x, feed), (x, bottom))
    left, right = x - box_w / 2 - pad[0], x + box_w / 2 + pad[1]
    top = stack[-1][1] + 0.1
    frame(ax, left, bottom - 0.1, right, top, color)
    return stack, left, right, top


def _residual(ax: Axes, x_from: float, y_from: float, x_side: float, x_to: float,
              y_to: float) -> None:
    """A residual connection: from the main path at y_from, out to x_side, up, into a box."""
    ax.plot([x_from], [y_from], marker="o", markersize=3.5, color=STYLE.line, zorder=3)
    arrow(ax, None, None, path=polyline([(x_from, y_from), (x_side, y_from),
                                         (x_side, y_to), (x_to, y_to)]),
          color=STYLE.line, linewidth=1.0)


@figure("F14")
def f14_transformer(language: str = "en") -> Figure:
    """F14: the Transformer's encoder and decoder stacks, joined. Used in chapter 9 by `draw`.

    `language` ("en" or "zh_CN") is the language of its words."""
    t = words("F14", language)
    fig, ax = canvas(8.4, 3.95)
    gap, main_h, norm_h = 0.12, 0.29, 0.2
    box_w = 1.9
    sa, ff, norm = STYLE.layer, STYLE.green, STYLE.score
    # Encoder, centred at x_e.
    x_e = 2.55
    y_tok, emb_bottom = 0.17, 0.4
    for i, tok in enumerate(["3", "0", "5"]):
        chip(ax, x_e + 0.45 * (i - 1), y_tok, tok, STYLE.inputs, fontsize=STYLE.small)
    arrow(ax, (x_e, y_tok + 0.16), (x_e, emb_bottom))
    box(ax, x_e, emb_bottom + main_h / 2, box_w, main_h, t("embedding + position"),
        color=STYLE.inputs, fontsize=STYLE.small)
    block_bottom = emb_bottom + main_h + 0.22
    enc_rows = [
        (t("self-attention"), sa, main_h), (t("add & norm"), norm, norm_h),
        (t("feed forward"), ff, main_h), (t("add & norm"), norm, norm_h),
    ]
    enc, e_left, e_right, e_top = _framed_block(ax, x_e, emb_bottom + main_h, block_bottom,
                                                enc_rows, box_w, gap, (0.4, 0.12), STYLE.inputs)
    side = x_e - box_w / 2 - 0.22
    for sub, add in ((0, 1), (2, 3)):
        y_from = enc[sub][0] - gap / 2 - (0.06 if sub == 0 else 0)
        _residual(ax, x_e, y_from, side, x_e - box_w / 2, sum(enc[add]) / 2)
    text(ax, e_left - 0.15, (block_bottom + e_top) / 2, "N ×", ha="right", fontweight="bold")
    heading(ax, x_e, e_top + 0.62, t("encoder"))

    # Decoder, centred at x_d.
    x_d = 6.1
    answer = list(to_chinese(305))  # 三 百 零 五
    for i, tok in enumerate(["BEGIN", *answer[:-1]]):
        chip(ax, x_d + 0.62 * (i - 1.5), y_tok, tok, STYLE.outputs, fontsize=STYLE.small)
    arrow(ax, (x_d, y_tok + 0.16), (x_d, emb_bottom))
    box(ax, x_d, emb_bottom + main_h / 2, box_w, main_h, t("embedding + position"),
        color=STYLE.outputs, fontsize=STYLE.small)
    dec_rows = [
        (t("masked self-attention"), sa, main_h), (t("add & norm"), norm, norm_h),
        (t("cross attention"), STYLE.sky, main_h), (t("add & norm"), norm, norm_h),
        (t("feed forward"), ff, main_h), (t("add & norm"), norm, norm_h),
    ]
    dec, d_left, d_right, d_top = _framed_block(ax, x_d, emb_bottom + main_h, block_bottom,
                                                dec_rows, box_w, gap, (0.12, 0.4), STYLE.outputs)
    side = x_d + box_w / 2 + 0.22
    for sub, add in ((0, 1), (2, 3), (4, 5)):
        y_from = dec[sub][0] - gap / 2 - (0.06 if sub == 0 else 0)
        _residual(ax, x_d, y_from, side, x_d + box_w / 2, sum(dec[add]) / 2)
    text(ax, d_right + 0.15, (block_bottom + d_top) / 2, "× N", ha="left", fontweight="bold")
    out_bottom = d_top + 0.14
    arrow(ax, (x_d, d_top - 0.1), (x_d, out_bottom))
    box(ax, x_d, out_bottom + main_h / 2, box_w, main_h, t("linear + softmax"),
        color=STYLE.score, fontsize=STYLE.small)
    y_out = out_bottom + main_h + 0.3
    for i, tok in enumerate([*answer, "END"]):
        chip(ax, x_d + 0.6 * (i - 2), y_out, tok, STYLE.outputs, fontsize=STYLE.small)
    arrow(ax, (x_d, out_bottom + main_h), (x_d, y_out - 0.15))
    heading(ax, x_d + box_w / 2 + 0.62, out_bottom + main_h / 2, t("decoder"))

    # The encoder's output feeds every decoder block's cross attention (keys and values).
    cross_y = sum(dec[2]) / 2
    up = e_top + 0.22
    mid_x = (e_right + d_left) / 2 + 0.1
    arrow(ax, None, None, color=STYLE.key, linewidth=1.8, path=polyline([
        (x_e, enc[-1][1]), (x_e, up), (mid_x, up), (mid_x, cross_y), (x_d - box_w / 2, cross_y),
    ]))
    text(ax, mid_x + 0.08, (up + cross_y) / 2 + 0.05, "k, v", ha="left", color=STYLE.key,
         fontsize=STYLE.small)
    return fig


@figure("F15")
def f15_encoder_block(language: str = "en") -> Figure:
    """F15: an encoder block, post-LN (the notes) and pre-LN.

    Used in chapter 9 by `draw` (``draw("F15")``). `language` ("en" or "zh_CN") is the
    language of its words.
    """
    t = words("F15", language)
    fig, ax = canvas(8.6, 3.4)
    box_w, box_h, r = 0.8, 0.56, 0.17
    xs = 1.15 + 1.02 * np.arange(7)
    sa = (t("self-\nattention"), STYLE.layer)
    ln = (t("layer\nnorm"), STYLE.score)
    fc = (t("fully\nconnected"), STYLE.green)
    # "|" marks where a residual connection leaves the main path: at the input of its branch.
    rows = [
        (2.3, t("(a) post-LN: the notes, Vaswani et al. 2017"),
         ["|", sa, "+", ln, "|", fc, "+", ln]),
        (0.72, t("(b) pre-LN"), ["|", ln, sa, "+", "|", ln, fc, "+"]),
    ]
    for y, title, items in rows:
        text(ax, 0.15, y + 0.85, title, ha="left", fontweight="bold")
        vector(ax, 0.45, y - 0.24, STYLE.inputs)
        text(ax, 0.45, y - 0.42, "$x$")
        x_prev = 0.45 + 0.11
        positions = iter(xs)
        branch = None
        for i, item in enumerate(items):
            if item == "|":  # halfway to the next item's left edge
                next_left = xs[i - items[:i].count("|")] - (r if items[i + 1] == "+" else box_w / 2)
                branch = (x_prev + next_left) / 2
                ax.plot([branch], [y], marker="o", markersize=3.5, color=STYLE.line, zorder=3)
                continue
            x = next(positions)
            if item == "+":
                arrow(ax, (x_prev, y), (x - r, y))
                circle(ax, x, y, r, "$+$", color=STYLE.background)
                # The residual: from the branch point, over the sublayer, into this sum.
                top = y + 0.55
                arrow(ax, None, None, path=polyline([
                    (branch, y), (branch, top), (x, top), (x, y + r)]))
                x_prev = x + r
            else:
                label, color = item
                arrow(ax, (x_prev, y), (x - box_w / 2, y))
                box(ax, x, y, box_w, box_h, label, color=color, fontsize=STYLE.small)
                x_prev = x + box_w / 2
        x_out = x + 1.05
        arrow(ax, (x_prev, y), (x_out - 0.14, y))
        vector(ax, x_out, y - 0.24, STYLE.outputs)
        text(ax, x_out, y - 0.42, t("output"))
    formula = t(r"layer norm of a vector: $x'_i = \gamma\,(x_i - m)/\sigma + \beta$")
    text(ax, 8.45, 0.72 + 0.85, formula, ha="right", fontsize=STYLE.small)
    return fig
