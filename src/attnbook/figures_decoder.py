"""Figures F16–F18, chapters 10–11: registered in attnbook.figures.FIGURES on import.

The running example of chapters 8–12 translates numbers written in digits into Chinese
numerals (1005 → 一千零五). The figures have no CJK font, so they write each Chinese numeral
in pinyin (一 yī, 千 qiān, 零 líng, 五 wǔ); the chapters' text gives the characters.
Every number a figure shows is computed here from a seeded example.
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import FancyBboxPatch, Rectangle
from matplotlib.path import Path as MplPath

from attnbook.figures import (
    STYLE,
    _arrow,
    _box,
    _canvas,
    _circle,
    _fmt,
    _text,
    _title,
    _vector,
    figure,
)

__all__ = [
    "PINYIN_VOCAB",
    "cross_attention_example",
    "decoding_example",
    "f16_autoregressive_decoding",
    "f17_end_token",
    "f18_cross_attention",
]

PINYIN_VOCAB = ("END", "líng", "yī", "èr", "sān", "sì", "wǔ", "liù", "qī", "bā", "jiǔ",
                "shí", "bǎi", "qiān", "wàn")
"""The output vocabulary of the figures, in pinyin: END, 零 一 二 … 九, 十 百 千 万.

Introduced in chapter 10 (figures F16 and F17)."""


def decoding_example(chosen: list[str], seed: int = 10) -> np.ndarray:
    """Made-up output distributions for the figures: one row per step, peaked on `chosen`.

    Introduced in chapter 10 (figures F16 and F17). Row t is a softmax over `PINYIN_VOCAB`
    of seeded random scores, with the score of ``chosen[t]`` raised so that it is the largest;
    the rows are illustrations, not a trained model's outputs (the chapter shows those).
    """
    rng = np.random.default_rng(seed)
    scores = rng.normal(0.0, 0.8, size=(len(chosen), len(PINYIN_VOCAB)))  # (steps, vocab)
    for t, token in enumerate(chosen):
        scores[t, PINYIN_VOCAB.index(token)] = scores[t].max() + 2.0 + 0.5 * rng.random()
    e = np.exp(scores - scores.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


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


def _token(ax, x: float, y: float, label: str, color: str, fontsize: float | None = None):
    """A token in a rounded label box."""
    return _text(ax, x, y, label, fontsize=fontsize or STYLE.fontsize, zorder=4, bbox={
        "boxstyle": "round,pad=0.22",
        "facecolor": STYLE.tint(color, 0.4),
        "edgecolor": STYLE.line,
        "linewidth": STYLE.linewidth * 0.8,
    })


@figure(
    "F16",
    alt=(
        "The number 1005 enters an encoder on the left. To its right the same decoder is "
        "drawn four times, once per step. Its first input is BEGIN; at each step it outputs a "
        "distribution over the vocabulary, drawn as bars, the tallest bar is chosen (yi, qian, "
        "ling, wu), and an arrow feeds the choice back as the next step's input."
    ),
    caption=(
        "Autoregressive decoding of 1005 into 一千零五 (yī qiān líng wǔ). The decoder starts "
        "from BEGIN; at each step it outputs a probability distribution over the vocabulary "
        "(bars), the most probable token is chosen (orange), and the choice is fed back as the "
        "next input. All steps use the same decoder and see the same encoder output. The bars "
        "are illustrative; chapter 10 shows the trained model's."
    ),
)
def f16_autoregressive_decoding() -> Figure:
    """F16: autoregressive decoding, each step's choice fed back as the next input.

    Introduced in chapter 10.
    """
    chosen = ["yī", "qiān", "líng", "wǔ"]
    inputs = ["BEGIN", *chosen[:-1]]
    probs = decoding_example(chosen)
    fig, ax = _canvas(8.8, 3.9)
    # The encoder, on the left, reading the digits.
    enc_x = 0.8
    _box(ax, enc_x, 1.55, 1.05, 0.5, "Encoder", color=STYLE.green)
    for i, digit in enumerate("1005"):
        x = enc_x - 0.36 + 0.24 * i
        _text(ax, x, 0.55, digit, fontsize=STYLE.title)
        _arrow(ax, (x, 0.7), (x, 1.3))
    _text(ax, enc_x, 0.2, "input digits", fontsize=STYLE.small)
    # The decoder, unrolled: one copy per step.
    xs = 2.45 + 1.72 * np.arange(len(chosen))
    dec_y, dec_h, dec_w = 1.55, 0.5, 1.1
    y_in, y_bars, bars_h, y_out = 0.55, 2.1, 0.75, 3.2
    # The encoder's output reaches every step: a line along the bottom of the boxes.
    bus_y = dec_y - dec_h / 2 - 0.2
    _arrow(ax, (enc_x + 0.525, dec_y), (enc_x + 0.75, dec_y), head=False, color=STYLE.green)
    _arrow(ax, (enc_x + 0.75, dec_y), (enc_x + 0.75, bus_y), head=False, color=STYLE.green)
    _arrow(ax, (enc_x + 0.75, bus_y), (xs[-1] - 0.4, bus_y), head=False, color=STYLE.green)
    for t, x in enumerate(xs):
        _arrow(ax, (x - 0.4, bus_y), (x - 0.4, dec_y - dec_h / 2), color=STYLE.green)
        _box(ax, x, dec_y, dec_w, dec_h, "Decoder")
        _token(ax, x, y_in, inputs[t], STYLE.inputs if t == 0 else STYLE.outputs,
               fontsize=STYLE.small if t == 0 else STYLE.fontsize)
        _arrow(ax, (x, y_in + 0.2), (x, dec_y - dec_h / 2))
        _arrow(ax, (x, dec_y + dec_h / 2), (x, y_bars - 0.02))
        index = PINYIN_VOCAB.index(chosen[t])
        centres = _bars(ax, x - 0.55, y_bars, 1.1, bars_h, probs[t], index, vmax=1.0)
        _arrow(ax, (centres[index], y_bars + bars_h * 0.92 * probs[t, index] + 0.03),
               (centres[index], y_out - 0.2), color=STYLE.outputs)
        _token(ax, centres[index], y_out, chosen[t], STYLE.outputs)
        if t + 1 < len(xs):
            # The choice becomes the next step's input: down through the gap between boxes.
            x_gap = (x + xs[t + 1]) / 2
            path = MplPath(
                [(centres[index] + 0.3, y_out), (x_gap, y_out), (x_gap, y_out - 0.15),
                 (x_gap, y_in + 0.15), (x_gap, y_in), (xs[t + 1] - 0.42, y_in)],
                [MplPath.MOVETO, MplPath.LINETO, MplPath.LINETO, MplPath.LINETO,
                 MplPath.LINETO, MplPath.LINETO],
            )
            _arrow(ax, None, None, path=path, color=STYLE.outputs, linewidth=1.4)
    _text(ax, xs[-1] + 0.7, y_bars + bars_h / 2, "…", fontsize=STYLE.title)
    _text(ax, xs[0] - 0.62, y_bars + bars_h / 2, "distribution\nover the\nvocabulary",
          ha="right", fontsize=STYLE.small, linespacing=1.15)
    _text(ax, xs[0] - 0.62, y_out, "choice (max)", ha="right", fontsize=STYLE.small)
    _text(ax, xs[0] - 0.62, y_in, "input", ha="right", fontsize=STYLE.small)
    _title(ax, (xs[0] + xs[-1]) / 2, 3.72, "the same decoder, step by step")
    return fig


@figure(
    "F17",
    alt=(
        "Left: a bar chart of the decoder's output distribution at the fifth step of "
        "decoding 1005, after the inputs BEGIN yi qian ling wu; the vocabulary is END and the "
        "Chinese numerals in pinyin, and the bar of END is the tallest. Right: three decoded "
        "numbers, each a row of tokens that ends with END, of lengths 4, 2 and 3."
    ),
    caption=(
        "The END token (结束标签) lets the decoder decide when to stop. (a) After BEGIN 一千零五 "
        "the most probable next token is END, so decoding stops (illustrative numbers). "
        "(b) Each output ends where the decoder chose END, so its length is the decoder's "
        "decision: 1005 → 一千零五, 20 → 二十, 300000 → 三十万."
    ),
)
def f17_end_token() -> Figure:
    """F17: the END token in the vocabulary; decoding stops when the decoder chooses it.

    Introduced in chapter 10.
    """
    probs = decoding_example(["END"], seed=17)[0]
    fig, ax = _canvas(8.8, 3.5)
    # (a) the distribution at the last step, with every token of the vocabulary labelled.
    left, bottom, width, height = 0.55, 0.85, 4.6, 1.85
    _title(ax, left + width / 2, 3.3, "(a) step 5: after BEGIN yī qiān líng wǔ")
    centres = _bars(ax, left, bottom, width, height, probs, 0, vmax=1.0)
    for x, token in zip(centres, PINYIN_VOCAB, strict=True):
        _text(ax, x, bottom - 0.08, token, rotation=90, va="top", fontsize=STYLE.small,
              fontweight="bold" if token == "END" else "normal")
    _text(ax, centres[0] + 0.2, bottom + height * 0.92 * probs[0] - 0.1,
          f"p(END) = {_fmt(probs[0])}", ha="left", fontsize=STYLE.small)
    for value in (0.0, 0.5, 1.0):
        y = bottom + height * 0.92 * value
        _text(ax, left - 0.08, y, _fmt(value, 1), ha="right", fontsize=STYLE.small)
    _text(ax, left - 0.42, bottom + height / 2, "probability", rotation=90,
          fontsize=STYLE.small)
    # (b) three outputs, each ending where the decoder chose END.
    _title(ax, 6.95, 3.3, "(b) END decides the length")
    rows = [("1005", ["yī", "qiān", "líng", "wǔ"]), ("20", ["èr", "shí"]),
            ("300000", ["sān", "shí", "wàn"])]
    for r, (number, tokens) in enumerate(rows):
        y = 2.6 - 0.8 * r
        _text(ax, 5.45, y + 0.32, f"{number}  →  {len(tokens)} tokens, then END",
              fontsize=STYLE.small, ha="left")
        x = 5.45
        for token in [*tokens, "END"]:
            w = 0.1 * len(token) + 0.24
            ax.add_patch(FancyBboxPatch(
                (x, y - 0.15), w, 0.3, boxstyle="round,pad=0,rounding_size=0.05",
                facecolor=STYLE.tint(STYLE.vermillion if token == "END" else STYLE.outputs,
                                     0.45),
                edgecolor=STYLE.line, linewidth=STYLE.linewidth * 0.8, zorder=2))
            _text(ax, x + w / 2, y, token, fontsize=STYLE.small, zorder=3,
                  fontweight="bold" if token == "END" else "normal")
            x += w + 0.08
    return fig


def cross_attention_example(seed: int = 18, n: int = 4, d: int = 3) -> dict[str, np.ndarray]:
    """The seeded example of figure F18: one decoder query attending over `n` encoder outputs.

    Introduced in chapter 11. Returns NumPy arrays: ``a`` (n, d) the encoder's outputs,
    ``k`` and ``v`` (n, d) their keys and values (``k = a W_k``, ``v = a W_v``), ``q`` (d,)
    the decoder's query, ``alpha`` (n,) the scores ``q · k^i``, ``alpha_prime`` their softmax,
    and ``out`` (d,) the weighted sum ``Σ alpha_prime[i] v^i``.
    """
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(n, d))
    W_k, W_v = rng.normal(size=(2, d, d))
    q = rng.normal(size=d)
    k, v = a @ W_k, a @ W_v  # (n, d) each
    alpha = k @ q  # (n,)
    e = np.exp(alpha - alpha.max())
    alpha_prime = e / e.sum()
    return {"a": a, "k": k, "v": v, "q": q, "alpha": alpha, "alpha_prime": alpha_prime,
            "out": alpha_prime @ v}


@figure(
    "F18",
    alt=(
        "Left: the digits 1 0 0 5 go through the encoder, whose four output vectors each "
        "give a key k and a value v. Right: the decoder's input BEGIN goes through masked "
        "self-attention and becomes a query q. Lines from q reach every key, labelled with "
        "the softmax weights alpha-prime; the values, weighted by them, are summed into the "
        "vector that goes on to the decoder's fully connected layer."
    ),
    caption=(
        "Cross attention (交叉注意力): the query $q$ comes from the decoder, the keys $k^i$ and "
        "values $v^i$ from the encoder's output. The weights $\\alpha'_i$ = softmax of "
        "$q \\cdot k^i$ mix the values into one vector, which goes on to the decoder's fully "
        "connected layer. Numbers from a small seeded example (`cross_attention_example`); "
        "the thicker an arrow into the sum, the larger its weight."
    ),
)
def f18_cross_attention() -> Figure:
    """F18: cross attention, q from the decoder, k and v from the encoder's output.

    Introduced in chapter 11.
    """
    ex = cross_attention_example()
    alpha_prime = ex["alpha_prime"]
    fig, ax = _canvas(8.8, 3.9)
    cell, y_in, y_box, y_a, y_kv = 0.13, 0.22, 0.7, 1.08, 1.8
    top_kv = y_kv + 3 * cell
    # Encoder side.
    xs = 0.85 + 0.98 * np.arange(4)
    _box(ax, (xs[0] + xs[-1]) / 2, y_box, xs[-1] - xs[0] + 0.8, 0.36, "Encoder",
         color=STYLE.green)
    for i, (x, digit) in enumerate(zip(xs, "1005", strict=True), start=1):
        _text(ax, x, y_in, digit, fontsize=STYLE.title)
        _arrow(ax, (x, y_in + 0.15), (x, y_box - 0.18))
        _arrow(ax, (x, y_box + 0.18), (x, y_a))
        _, top_a = _vector(ax, x, y_a, STYLE.inputs, cell=cell, width=0.2)
        _text(ax, x + 0.14, y_a + 1.5 * cell, f"$a^{i}$", fontsize=STYLE.small, ha="left")
        for dx, color, name in ((-0.16, STYLE.key, "k"), (0.16, STYLE.value, "v")):
            _arrow(ax, (x, top_a + 0.02), (x + dx, y_kv - 0.02), linewidth=0.9)
            _vector(ax, x + dx, y_kv, color, cell=cell, width=0.2)
            side = -1 if name == "k" else 1
            _text(ax, x + dx + side * 0.14, y_kv + 1.5 * cell, f"${name}^{i}$",
                  fontsize=STYLE.small, ha="right" if name == "k" else "left")
    # Decoder side: BEGIN -> masked self-attention -> q.
    xq = 7.85
    _text(ax, xq, y_in, "BEGIN", fontsize=STYLE.small, bbox={
        "boxstyle": "round,pad=0.2", "facecolor": STYLE.tint(STYLE.inputs, 0.4),
        "edgecolor": STYLE.line, "linewidth": STYLE.linewidth * 0.8})
    _box(ax, xq, y_box, 1.55, 0.36, "masked self-attn.", fontsize=STYLE.small)
    _arrow(ax, (xq, y_in + 0.15), (xq, y_box - 0.18))
    _arrow(ax, (xq, y_box + 0.18), (xq, y_a))
    _vector(ax, xq, y_a, STYLE.layer, cell=cell, width=0.2)
    _arrow(ax, (xq, y_a + 3 * cell + 0.02), (xq, y_kv - 0.02))
    _vector(ax, xq, y_kv, STYLE.query, cell=cell, width=0.2)
    _text(ax, xq + 0.25, y_kv + 1.5 * cell, "$q$", fontsize=STYLE.title, ha="left")
    _text(ax, xq, 3.72, "decoder", fontsize=STYLE.fontsize, fontweight="bold")
    _text(ax, (xs[0] + xs[-1]) / 2, 3.72, "encoder output", fontsize=STYLE.fontsize,
          fontweight="bold")
    # q meets every key: a bracket over the top, one drop per key, labelled with the weight.
    h = 3.3
    ax.plot([xq, xq], [top_kv + 0.02, h], color=STYLE.query, linewidth=1.5, zorder=1.5)
    ax.plot([xs[0] - 0.16, xq], [h, h], color=STYLE.query, linewidth=1.5, zorder=1.5)
    for i, x in enumerate(xs):
        _arrow(ax, (x - 0.16, h), (x - 0.16, top_kv + 0.03), color=STYLE.query, linewidth=1.5)
        _text(ax, x - 0.1, h - 0.24, rf"$\alpha'_{i + 1} = {_fmt(alpha_prime[i])}$",
              ha="left", fontsize=STYLE.small, zorder=3,
              bbox={"boxstyle": "round,pad=0.1", "facecolor": STYLE.background,
                    "edgecolor": "none"})
    _text(ax, (xs[-1] + xq) / 2 + 0.1, h + 0.16, r"$\alpha' = \mathrm{softmax}(q \cdot k^i)$",
          fontsize=STYLE.small)
    # The values, weighted by alpha', rise into one sum (thicker = larger weight).
    bus, sx = 2.72, 5.3
    for i, x in enumerate(xs):
        _arrow(ax, (x + 0.16, top_kv + 0.02), (x + 0.16, bus), color=STYLE.value,
               linewidth=0.6 + 4.0 * alpha_prime[i], head=False, zorder=1.2)
    ax.plot([xs[0] + 0.16, sx - 0.2], [bus, bus], color=STYLE.value, linewidth=1.2, zorder=1.1)
    _circle(ax, sx, bus, 0.2, r"$\Sigma$")
    _arrow(ax, (sx + 0.2, bus), (6.2, bus))
    _vector(ax, 6.35, bus - 1.5 * cell, STYLE.outputs, cell=cell, width=0.2)
    _text(ax, sx + 0.5, bus - 0.38, r"$\Sigma_i\, \alpha'_i\, v^i$", fontsize=STYLE.small)
    _text(ax, 6.35, bus - 0.62, "to the decoder's\nfully connected\nlayer",
          fontsize=STYLE.small, va="top", linespacing=1.15)
    return fig
