"""Figures F12–F15, chapters 8–9: registered in attnbook.figures.FIGURES on import.

F12 and F13 are the sequence-to-sequence tasks of chapter 8; F14 (the whole Transformer) and
F15 (one encoder block, post-LN and pre-LN) belong to chapter 9. The running example of
chapters 8–12 is a number written in digits turned into its Chinese numeral; the figures
cannot show Chinese characters (no font is bundled), so they spell the numerals in pinyin
(305 = "san bai ling wu", 三百零五).
"""

from __future__ import annotations

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import FancyBboxPatch
from matplotlib.path import Path as MplPath

from attnbook.figures import STYLE, _arrow, _box, _canvas, _circle, _text, _title, _vector, figure

__all__ = [
    "f12_qa_as_seq2seq",
    "f13_seq2seq_applications",
    "f14_transformer",
    "f15_encoder_block",
]


def _chip(ax: Axes, x: float, y: float, label: str, color: str, fontsize: float | None = None,
          ha: str = "center"):
    """A word in a rounded, tinted box: a token or a label."""
    return _text(
        ax, x, y, label, ha=ha, fontsize=fontsize or STYLE.fontsize,
        bbox={
            "boxstyle": "round,pad=0.25",
            "facecolor": STYLE.tint(color, 0.4),
            "edgecolor": STYLE.line,
            "linewidth": STYLE.linewidth * 0.8,
        },
        zorder=3,
    )


def _polyline(points: list[tuple[float, float]]) -> MplPath:
    return MplPath(points, [MplPath.MOVETO] + [MplPath.LINETO] * (len(points) - 1))


def _frame(ax: Axes, left: float, bottom: float, right: float, top: float, color: str) -> None:
    """A light rounded frame behind a group of boxes (a block that is repeated N times)."""
    ax.add_patch(
        FancyBboxPatch(
            (left, bottom), right - left, top - bottom,
            boxstyle="round,pad=0,rounding_size=0.1",
            facecolor=STYLE.tint(color, 0.12), edgecolor=STYLE.muted,
            linewidth=STYLE.linewidth, linestyle=(0, (4, 2)), zorder=0,
        )
    )


@figure(
    "F12",
    alt=(
        "Three rows share one sequence-to-sequence model. Each row joins a question and a "
        "context into one input sequence and the model writes the answer: 'translate into "
        "German' with 'how are you' gives 'wie geht es dir'; 'summarize' with a long news "
        "article gives a short summary; 'is it positive?' with 'this is good' gives 'positive'."
    ),
    caption=(
        "Many language tasks are question answering: the input is a question and a context, "
        "the output an answer of any length. One sequence-to-sequence model can be trained to "
        "answer them all."
    ),
)
def f12_qa_as_seq2seq() -> Figure:
    """F12: translation, summarization and sentiment analysis as question answering.

    Introduced in chapter 8.
    """
    fig, ax = _canvas(8.4, 3.1)
    rows = [
        ("translate into German", "how are you", "wie geht es dir"),
        ("summarize", "a long news article ...", "a short summary"),
        ("is it positive?", "this is good", "positive"),
    ]
    ys = [2.2, 1.35, 0.5]
    x_q, x_plus, x_c, x_model, x_a = 1.2, 2.5, 3.7, 5.75, 7.35
    model_w = 1.1
    _title(ax, x_q, 2.85, "question", fontsize=STYLE.fontsize)
    _title(ax, x_c, 2.85, "context", fontsize=STYLE.fontsize)
    _title(ax, x_a, 2.85, "answer", fontsize=STYLE.fontsize)
    _box(ax, x_model, (ys[0] + ys[-1]) / 2, model_w, ys[0] - ys[-1] + 0.6, "seq2seq\nmodel")
    for y, (question, context, answer) in zip(ys, rows, strict=True):
        _chip(ax, x_q, y, question, STYLE.query)
        _text(ax, x_plus, y, "+", fontsize=STYLE.title)
        _chip(ax, x_c, y, context, STYLE.inputs)
        _arrow(ax, (4.78, y), (x_model - model_w / 2, y))
        _arrow(ax, (x_model + model_w / 2, y), (6.55, y))
        _chip(ax, x_a, y, answer, STYLE.outputs)
    return fig


def _waveform(ax: Axes, left: float, right: float, y: float, height: float) -> None:
    """A made-up sound wave (a few summed sines under an envelope), drawn as a line."""
    t = np.linspace(0.0, 1.0, 200)
    wave = np.sin(2 * np.pi * 9 * t) + 0.5 * np.sin(2 * np.pi * 23 * t + 1.0)
    envelope = np.sin(np.pi * t) ** 0.5 * (0.6 + 0.4 * np.sin(2 * np.pi * 2 * t))
    ax.plot(left + (right - left) * t, y + height / 2 * wave * envelope / 1.5,
            color=STYLE.line, linewidth=0.9)


@figure(
    "F13",
    alt=(
        "Four panels, each a row of input vectors feeding a seq2seq model that writes its own "
        "number of outputs. Translation: the digits 3 0 5 give the Chinese numeral, in pinyin "
        "san bai ling wu. Summarization: a long article gives a three-word headline. Speech "
        "recognition: nine frames of a sound wave give 'how are you'. Multi-label "
        "classification: a film's plot gives the two labels comedy and romance."
    ),
    caption=(
        "Tasks that sequence-to-sequence models solve, each with an output length the model "
        "decides: translation (here the book's running example, 305 into the Chinese numeral "
        "三百零五, spelled in pinyin), summarization, speech recognition and multi-label "
        "classification, where the number of labels varies from input to input."
    ),
)
def f13_seq2seq_applications() -> Figure:
    """F13: four applications of sequence to sequence.

    Introduced in chapter 8.
    """
    width = 8.4
    fig, ax = _canvas(width, 3.2)
    panel = width / 4
    y_vec, y_label = 0.45, 0.2
    box_y, box_h = 1.5, 0.4
    y_out = 2.3
    panels = [
        ("translation", "digits to a Chinese numeral", ["3", "0", "5"],
         ["san", "bai", "ling", "wu"]),
        ("summarization", "article to headline", 8, ["cat", "wins", "prize"]),
        ("speech recognition", "sound to text", 9, ["how", "are", "you"]),
        ("multi-label classification", "plot to genres", 5, ["comedy", "romance"]),
    ]
    under = {1: "a long article", 3: "a film's plot"}
    for p, (title, task, inputs, outputs) in enumerate(panels):
        cx = panel * (p + 0.5)
        _title(ax, cx, 3.05, title, fontsize=STYLE.small if len(title) > 20 else STYLE.fontsize)
        _text(ax, cx, 2.78, task, fontsize=STYLE.small, color=STYLE.line)
        n = len(inputs) if isinstance(inputs, list) else inputs
        spacing = 0.45 if n <= 3 else (0.21 if n > 6 else 0.3)
        cell, vec_w = (0.16, 0.22) if n <= 6 else (0.12, 0.14)
        xs = cx + spacing * (np.arange(n) - (n - 1) / 2)
        _, box_bottom, _, box_top = _box(ax, cx, box_y, panel - 0.35, box_h, "seq2seq")
        for i, x in enumerate(xs):
            _, top = _vector(ax, x, y_vec, STYLE.inputs, cell=cell, width=vec_w)
            _arrow(ax, (x, top + 0.03), (x, box_bottom), linewidth=0.9 if n > 6 else None)
            if isinstance(inputs, list):
                _text(ax, x, y_label, inputs[i])
        if p == 2:
            _waveform(ax, xs[0] - 0.08, xs[-1] + 0.08, y_label - 0.02, 0.3)
        elif p in under:
            _text(ax, cx, y_label, under[p], fontstyle="italic")
        gap = 0.5 if len(outputs) > 3 else (0.58 if len(outputs) == 3 else 0.95)
        out_xs = cx + gap * (np.arange(len(outputs)) - (len(outputs) - 1) / 2)
        for x, word in zip(out_xs, outputs, strict=True):
            _arrow(ax, (x, box_top), (x, y_out - 0.17))
            _chip(ax, x, y_out, word, STYLE.outputs, fontsize=STYLE.small)
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
            _arrow(ax, (cx, y - gap), (cx, y))
        _box(ax, cx, y + h / 2, width, h, label, color=color, fontsize=STYLE.small)
        spans.append((y, y + h))
        y += h + gap
    return spans


def _residual(ax: Axes, x_from: float, y_from: float, x_side: float, x_to: float,
              y_to: float) -> None:
    """A residual connection: from the main path at y_from, out to x_side, up, into a box."""
    ax.plot([x_from], [y_from], marker="o", markersize=3.5, color=STYLE.line, zorder=3)
    _arrow(ax, None, None, path=_polyline([(x_from, y_from), (x_side, y_from),
                                           (x_side, y_to), (x_to, y_to)]),
           color=STYLE.line, linewidth=1.0)


@figure(
    "F14",
    alt=(
        "The Transformer as two stacks. On the left the encoder: the input digits 3 0 5 are "
        "embedded with their positions, then a block of self-attention, add and norm, feed "
        "forward, add and norm, repeated N times. On the right the decoder: BEGIN san bai "
        "ling is embedded, then a block of masked self-attention, cross attention and feed "
        "forward, each followed by add and norm, repeated N times, then a linear layer and a "
        "softmax give san bai ling wu END. The encoder's output goes into every cross attention."
    ),
    caption=(
        "The Transformer (Vaswani et al., 2017): an encoder (left) reads the whole input; "
        "a decoder (right) writes the output one token at a time, reading the tokens it has "
        "written so far and, through cross attention, the encoder's output. Each side repeats "
        "its block N times; the arrows that go around a sublayer are residual connections."
    ),
)
def f14_transformer() -> Figure:
    """F14: the Transformer, encoder and decoder stacks and the connection between them.

    Introduced in chapter 9.
    """
    fig, ax = _canvas(8.4, 3.95)
    gap, main_h, norm_h = 0.12, 0.29, 0.2
    box_w = 1.9
    sa, ff, norm = STYLE.layer, STYLE.green, STYLE.score
    # Encoder, centred at x_e.
    x_e = 2.55
    y_tok, emb_bottom = 0.17, 0.4
    for i, tok in enumerate(["3", "0", "5"]):
        _chip(ax, x_e + 0.45 * (i - 1), y_tok, tok, STYLE.inputs, fontsize=STYLE.small)
    _arrow(ax, (x_e, y_tok + 0.16), (x_e, emb_bottom))
    _box(ax, x_e, emb_bottom + main_h / 2, box_w, main_h, "embedding + position",
         color=STYLE.inputs, fontsize=STYLE.small)
    block_bottom = emb_bottom + main_h + 0.22
    enc = _stack(ax, x_e, block_bottom, [
        ("self-attention", sa, main_h), ("add & norm", norm, norm_h),
        ("feed forward", ff, main_h), ("add & norm", norm, norm_h),
    ], box_w, gap)
    _arrow(ax, (x_e, emb_bottom + main_h), (x_e, block_bottom))
    e_left, e_right = x_e - box_w / 2 - 0.4, x_e + box_w / 2 + 0.12
    e_top = enc[-1][1] + 0.1
    _frame(ax, e_left, block_bottom - 0.1, e_right, e_top, STYLE.inputs)
    side = x_e - box_w / 2 - 0.22
    for sub, add in ((0, 1), (2, 3)):
        y_from = enc[sub][0] - gap / 2 - (0.06 if sub == 0 else 0)
        _residual(ax, x_e, y_from, side, x_e - box_w / 2, sum(enc[add]) / 2)
    _text(ax, e_left - 0.15, (block_bottom + e_top) / 2, "N ×", ha="right", fontweight="bold")
    _title(ax, x_e, e_top + 0.62, "encoder")

    # Decoder, centred at x_d.
    x_d = 6.1
    for i, tok in enumerate(["BEGIN", "san", "bai", "ling"]):
        _chip(ax, x_d + 0.62 * (i - 1.5), y_tok, tok, STYLE.outputs, fontsize=STYLE.small)
    _arrow(ax, (x_d, y_tok + 0.16), (x_d, emb_bottom))
    _box(ax, x_d, emb_bottom + main_h / 2, box_w, main_h, "embedding + position",
         color=STYLE.outputs, fontsize=STYLE.small)
    dec = _stack(ax, x_d, block_bottom, [
        ("masked self-attention", sa, main_h), ("add & norm", norm, norm_h),
        ("cross attention", STYLE.sky, main_h), ("add & norm", norm, norm_h),
        ("feed forward", ff, main_h), ("add & norm", norm, norm_h),
    ], box_w, gap)
    _arrow(ax, (x_d, emb_bottom + main_h), (x_d, block_bottom))
    d_left, d_right = x_d - box_w / 2 - 0.12, x_d + box_w / 2 + 0.4
    d_top = dec[-1][1] + 0.1
    _frame(ax, d_left, block_bottom - 0.1, d_right, d_top, STYLE.outputs)
    side = x_d + box_w / 2 + 0.22
    for sub, add in ((0, 1), (2, 3), (4, 5)):
        y_from = dec[sub][0] - gap / 2 - (0.06 if sub == 0 else 0)
        _residual(ax, x_d, y_from, side, x_d + box_w / 2, sum(dec[add]) / 2)
    _text(ax, d_right + 0.15, (block_bottom + d_top) / 2, "× N", ha="left", fontweight="bold")
    out_bottom = d_top + 0.14
    _arrow(ax, (x_d, d_top - 0.1), (x_d, out_bottom))
    _box(ax, x_d, out_bottom + main_h / 2, box_w, main_h, "linear + softmax",
         color=STYLE.score, fontsize=STYLE.small)
    y_out = out_bottom + main_h + 0.3
    for i, tok in enumerate(["san", "bai", "ling", "wu", "END"]):
        _chip(ax, x_d + 0.6 * (i - 2), y_out, tok, STYLE.outputs, fontsize=STYLE.small)
    _arrow(ax, (x_d, out_bottom + main_h), (x_d, y_out - 0.15))
    _title(ax, x_d + box_w / 2 + 0.62, out_bottom + main_h / 2, "decoder")

    # The encoder's output feeds every decoder block's cross attention (keys and values).
    cross_y = sum(dec[2]) / 2
    up = e_top + 0.22
    mid_x = (e_right + d_left) / 2 + 0.1
    _arrow(ax, None, None, color=STYLE.key, linewidth=1.8, path=_polyline([
        (x_e, enc[-1][1]), (x_e, up), (mid_x, up), (mid_x, cross_y), (x_d - box_w / 2, cross_y),
    ]))
    _text(ax, mid_x + 0.08, (up + cross_y) / 2 + 0.05, "k, v", ha="left", color=STYLE.key,
          fontsize=STYLE.small)
    return fig


@figure(
    "F15",
    alt=(
        "Two rows of boxes, each one encoder block from input vector x to output vector. "
        "(a) post-LN, as in the notes: self-attention, add the input back (residual), layer "
        "norm, fully connected, add its input back, layer norm. (b) pre-LN: layer norm, "
        "self-attention, add the input back, layer norm, fully connected, add back; the "
        "residual path carries x untouched from input to output."
    ),
    caption=(
        "An encoder block. (a) Post-LN, as in the notes and the original Transformer: "
        "each sublayer's output is added to its input (the residual connection, 残差) and the "
        "sum is layer-normalized. (b) Pre-LN: the layer norm moves to the start of each "
        "branch, so the residual path from x to the output is a plain sum."
    ),
)
def f15_encoder_block() -> Figure:
    """F15: an encoder block, post-LN (the notes) and pre-LN.

    Introduced in chapter 9.
    """
    fig, ax = _canvas(8.6, 3.4)
    box_w, box_h, r = 0.8, 0.56, 0.17
    xs = 1.15 + 1.02 * np.arange(7)
    sa = ("self-\nattention", STYLE.layer)
    ln = ("layer\nnorm", STYLE.score)
    fc = ("fully\nconnected", STYLE.green)
    # "|" marks where a residual connection leaves the main path: at the input of its branch.
    rows = [
        (2.3, "(a) post-LN: the notes, Vaswani et al. 2017", ["|", sa, "+", ln, "|", fc, "+", ln]),
        (0.72, "(b) pre-LN", ["|", ln, sa, "+", "|", ln, fc, "+"]),
    ]
    for y, title, items in rows:
        _text(ax, 0.15, y + 0.85, title, ha="left", fontweight="bold")
        _vector(ax, 0.45, y - 0.24, STYLE.inputs)
        _text(ax, 0.45, y - 0.42, "$x$")
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
                _arrow(ax, (x_prev, y), (x - r, y))
                _circle(ax, x, y, r, "$+$", color=STYLE.background)
                # The residual: from the branch point, over the sublayer, into this sum.
                top = y + 0.55
                _arrow(ax, None, None, path=_polyline([
                    (branch, y), (branch, top), (x, top), (x, y + r)]))
                x_prev = x + r
            else:
                label, color = item
                _arrow(ax, (x_prev, y), (x - box_w / 2, y))
                _box(ax, x, y, box_w, box_h, label, color=color, fontsize=STYLE.small)
                x_prev = x + box_w / 2
        x_out = x + 1.05
        _arrow(ax, (x_prev, y), (x_out - 0.14, y))
        _vector(ax, x_out, y - 0.24, STYLE.outputs)
        _text(ax, x_out, y - 0.42, "output")
    formula = r"layer norm of a vector: $x'_i = \gamma\,(x_i - m)/\sigma + \beta$"
    _text(ax, 8.45, 0.72 + 0.85, formula, ha="right", fontsize=STYLE.small)
    return fig
