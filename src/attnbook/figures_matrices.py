"""Figures F6–F10, chapters 3–5: registered in attnbook.figures.FIGURES on import.

F6–F9 redraw the notes' vectorized self-attention, with tokens as the **columns** of the
matrices (the notes' notation): Q = Wq I, K = Wk I, V = Wv I (F6), the scores of one query
Kᵀq¹ (F7), the attention matrix A = KᵀQ and A′ = softmax of each column (F8), and the output
O = V A′ (F9). Their numbers are those of chapter 2's seeded example
(:func:`attnbook.figures.relevance_example`), so column 1 of F8 and F9 repeats F5. F10 is the
positional encoding eⁱ + aⁱ with the sinusoidal table as a picture.

The module also has the plots that chapters 3–5 draw from their own measurements
(:func:`saturation_plot`, :func:`heads_grid`, :func:`similarity_plot`,
:func:`accuracy_by_position_plot`), in the same style: dark text on a white card, so that they
read in the website's light and dark modes, and the Okabe-Ito colours.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.colors import LinearSegmentedColormap
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from attnbook.figures import (
    STYLE,
    _arrow,
    _canvas,
    _num,
    _plot_figure,
    _style_axes,
    _text,
    _title,
    figure,
    relevance_example,
    style_context,
)
from attnbook.numpy_ref import self_attention
from attnbook.positional import sinusoidal_encoding

__all__ = [
    "accuracy_by_position_plot",
    "column_example",
    "f6_qkv_matrices",
    "f7_scores_of_one_query",
    "f8_attention_matrix",
    "f9_output_matrix",
    "f10_positional_encoding",
    "heads_grid",
    "saturation_plot",
    "similarity_plot",
]

# The colour map of the sinusoidal table: Okabe-Ito blue (−1) to white (0) to orange (+1),
# readable by colour-blind readers.
ENCODING_CMAP = LinearSegmentedColormap.from_list(
    "attnbook_encoding", [STYLE.blue, STYLE.background, STYLE.orange])


# --------------------------------------------------------------------------------------------
# The example, in the notes' notation
# --------------------------------------------------------------------------------------------


def column_example(seed: int = 0) -> dict[str, np.ndarray]:
    """Chapter 2's seeded example with tokens as columns: the matrices of F6–F9.

    Introduced in chapter 3. Returns ``I`` (d, n) whose column j is aʲ, ``W_q``, ``W_k``,
    ``W_v``, ``Q``, ``K``, ``V`` (one column per token), ``A = KᵀQ`` (column j: the scores of
    query j), ``A_prime`` (softmax of each column) and ``O = V A′`` (column j is bʲ). As in the
    notes' figures, the scores are not divided by √d_k here; chapter 3 adds that afterwards.
    """
    ex = relevance_example(seed)
    I = ex["a"].T  # noqa: E741 - the notes' name. (d, n): one column per token
    W_q, W_k, W_v = ex["W_q"], ex["W_k"], ex["W_v"]
    Q, K, V = W_q @ I, W_k @ I, W_v @ I  # (d_k, n), (d_k, n), (d_v, n)
    O, A_prime = self_attention(I, W_q, W_k, W_v, scaled=False)  # noqa: E741
    return {"I": I, "W_q": W_q, "W_k": W_k, "W_v": W_v, "Q": Q, "K": K, "V": V,
            "A": K.T @ Q, "A_prime": A_prime, "O": O}


# --------------------------------------------------------------------------------------------
# Drawing a matrix
# --------------------------------------------------------------------------------------------


def _matrix(ax: Axes, left: float, top: float, shape: tuple[int, int], color: str, *,
            values: np.ndarray | None = None, cell: tuple[float, float] = (0.5, 0.3),
            strong: Sequence[int] = (), by: str = "col", col_labels: Sequence[str] = (),
            row_labels: Sequence[str] = (), fontsize: float | None = None
            ) -> tuple[float, float, float, float]:
    """A grid of cells with its top-left corner at (left, top); returns (left, bottom, right,
    top). The columns (``by="col"``) or rows (``by="row"``) in `strong` get a stronger tint;
    labels go above the columns and left of the rows."""
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
                _text(ax, left + (j + 0.5) * w, top - (i + 0.5) * h, _num(values[i, j]),
                      fontsize=fontsize or STYLE.small, zorder=3)
    ax.add_patch(Rectangle((left, top - rows * h), cols * w, rows * h, facecolor="none",
                           edgecolor=STYLE.line, linewidth=STYLE.linewidth * 1.4, zorder=3))
    for j, label in enumerate(col_labels):
        _text(ax, left + (j + 0.5) * w, top + 0.16, label, fontsize=STYLE.small)
    for i, label in enumerate(row_labels):
        _text(ax, left - 0.06, top - (i + 0.5) * h, label, ha="right", fontsize=STYLE.small)
    return left, top - rows * h, left + cols * w, top


def _sup(name: str, n: int) -> list[str]:
    return [f"${name}^{j}$" for j in range(1, n + 1)]


def _op(ax: Axes, x: float, y: float, s: str) -> None:
    _text(ax, x, y, s, fontsize=STYLE.title + 2)


# --------------------------------------------------------------------------------------------
# The figures
# --------------------------------------------------------------------------------------------


@figure(
    "F6",
    alt=(
        "Three matrix products side by side. The input matrix I has one column per token, "
        "a1 to a4. Multiplying it by Wq gives Q with columns q1 to q4, by Wk gives K with "
        "columns k1 to k4, and by Wv gives V with columns v1 to v4. Under each product are "
        "the shapes: (d_k by d) times (d by n) gives (d_k by n)."
    ),
    caption=(
        "Every query, key and value at once: with the tokens as the columns of "
        "$I = [a^1\\, a^2\\, a^3\\, a^4]$, one matrix product each gives "
        "$Q = W^q I$, $K = W^k I$ and $V = W^v I$, whose column $j$ is $q^j$, $k^j$ or "
        "$v^j$. Below each product: the shapes, for inputs of size $d$ and $n$ tokens."
    ),
)
def f6_qkv_matrices() -> Figure:
    """F6: Q = Wq I, K = Wk I, V = Wv I, with the tokens as the columns of I.

    Introduced in chapter 3.
    """
    fig, ax = _canvas(8.9, 2.9)
    n, cw, ch = 4, 0.18, 0.2
    top = 2.05
    panels = [("$Q = W^q I$", "$W^q$", "q", STYLE.query, "queries", "d_k"),
              ("$K = W^k I$", "$W^k$", "k", STYLE.key, "keys", "d_k"),
              ("$V = W^v I$", "$W^v$", "v", STYLE.value, "values", "d_v")]
    for p, (equation, w_name, vec, color, what, rows) in enumerate(panels):
        x0 = 0.15 + p * 2.92
        _title(ax, x0 + 1.36, 2.7, f"{what}: {equation}", fontsize=STYLE.fontsize)
        # W: a square block
        ax.add_patch(Rectangle((x0, top - n * ch), n * cw, n * ch,
                               facecolor=STYLE.tint(color, 0.45), edgecolor=STYLE.line,
                               linewidth=STYLE.linewidth * 1.4, zorder=2))
        _text(ax, x0 + n * cw / 2, top - n * ch / 2, w_name, zorder=3)
        _op(ax, x0 + n * cw + 0.14, top - n * ch / 2, r"$\times$")
        i_left = x0 + n * cw + 0.28
        _matrix(ax, i_left, top, (n, n), STYLE.inputs, cell=(cw, ch), strong=range(n),
                col_labels=_sup("a", n))
        _op(ax, i_left + n * cw + 0.14, top - n * ch / 2, "$=$")
        r_left = i_left + n * cw + 0.28
        _matrix(ax, r_left, top, (n, n), color, cell=(cw, ch), strong=range(n),
                col_labels=_sup(vec, n))
        _text(ax, x0 + 1.36, top - n * ch - 0.3, f"$({rows} \\times d)\\,(d \\times n)$",
              fontsize=STYLE.small)
        _text(ax, x0 + 1.36, top - n * ch - 0.62, f"$= ({rows} \\times n)$",
              fontsize=STYLE.small)
    _text(ax, 4.45, 0.22, "one column per token: column $j$ of $I$ is $a^j$, column $j$ of the "
          "result is that token's vector", fontsize=STYLE.small, color=STYLE.text)
    return fig


@figure(
    "F7",
    alt=(
        "The transpose of K, whose rows are the keys k1 to k4, times the query q1 gives a "
        "column of four scores alpha 1,1 to alpha 1,4: each score is the dot product of one "
        "row with q1. The numbers are those of the seeded example of chapter 2."
    ),
    caption=(
        "The scores of one query, all at once: the rows of $K^{\\mathsf T}$ are the keys, so "
        "$K^{\\mathsf T} q^1$ is the column of scores $\\alpha_{1,j} = k^j \\cdot q^1$. Same "
        "numbers as in chapter 2's example."
    ),
)
def f7_scores_of_one_query() -> Figure:
    """F7: the scores of one query stacked into a column, Kᵀ q¹.

    Introduced in chapter 3.
    """
    ex = column_example()
    KT, q1 = ex["K"].T, ex["Q"][:, :1]
    alpha = KT @ q1  # (n, 1)
    n = KT.shape[0]
    fig, ax = _canvas(7.4, 2.7)
    top, cw, ch = 1.95, 0.55, 0.32
    _title(ax, 3.7, 2.5, r"$K^{\mathsf{T}} q^1$: every score of query 1 in one product")
    left = 0.9
    _, bottom, right, _ = _matrix(ax, left, top, (n, n), STYLE.key, values=KT, cell=(cw, ch),
                                  by="row", strong=range(n), row_labels=_sup("k", n))
    _text(ax, (left + right) / 2, bottom - 0.22, r"$K^{\mathsf{T}}$: one key per row")
    mid = top - n * ch / 2
    _op(ax, right + 0.25, mid, r"$\times$")
    q_left = right + 0.5
    _, _, q_right, _ = _matrix(ax, q_left, top, (n, 1), STYLE.query, values=q1, cell=(cw, ch),
                               strong=[0])
    _text(ax, (q_left + q_right) / 2, bottom - 0.22, "$q^1$")
    _op(ax, q_right + 0.25, mid, "$=$")
    a_left = q_right + 0.5
    _, _, a_right, _ = _matrix(ax, a_left, top, (n, 1), STYLE.score, values=alpha,
                               cell=(cw, ch), strong=[0])
    for j in range(n):
        _text(ax, a_right + 0.08, top - (j + 0.5) * ch, rf"$\alpha_{{1,{j + 1}}} = k^{j + 1}"
              r" \cdot q^1$", ha="left", fontsize=STYLE.small)
    _text(ax, (a_left + a_right) / 2, bottom - 0.22, r"$\alpha_{1,j}$")
    return fig


@figure(
    "F8",
    alt=(
        "K transpose, with one key per row, times Q, with one query per column, gives the "
        "four by four attention matrix A of scores. A softmax over each column turns it into "
        "A-prime, whose columns each sum to 1. The first column of A-prime is the weights "
        "of query 1 from chapter 2."
    ),
    caption=(
        "The attention matrix: $A = K^{\\mathsf T} Q$ holds every score at once, column $j$ "
        "for query $j$ and row $i$ for key $i$, so $A_{i,j} = k^i \\cdot q^j = "
        "\\alpha_{j,i}$. A softmax over each column gives $A'$, whose columns sum to 1. "
        "Column 1 is chapter 2's $\\alpha'_{1,j}$."
    ),
)
def f8_attention_matrix() -> Figure:
    """F8: A = KᵀQ, then A′ = softmax of each column: the attention matrix.

    Introduced in chapter 3.
    """
    ex = column_example()
    A, A_prime = ex["A"], ex["A_prime"]
    n = A.shape[0]
    fig, ax = _canvas(8.9, 2.6)
    top, cw, ch, sw = 1.95, 0.5, 0.3, 0.22
    mid = top - n * ch / 2
    # K^T and Q, drawn without numbers
    kt_left = 0.55
    _, bottom, kt_right, _ = _matrix(ax, kt_left, top - (n * ch - n * sw) / 2, (n, n), STYLE.key,
                                     cell=(sw, sw), by="row", strong=range(n),
                                     row_labels=_sup("k", n))
    _text(ax, (kt_left + kt_right) / 2, top - n * ch - 0.22, r"$K^{\mathsf{T}}$")
    _op(ax, kt_right + 0.18, mid, r"$\times$")
    q_left = kt_right + 0.38
    _, _, q_right, _ = _matrix(ax, q_left, top - (n * ch - n * sw) / 2, (n, n), STYLE.query,
                               cell=(sw, sw), strong=range(n), col_labels=_sup("q", n))
    _text(ax, (q_left + q_right) / 2, top - n * ch - 0.22, "$Q$")
    _op(ax, q_right + 0.17, mid, "$=$")
    # A
    a_left = q_right + 0.8
    _, bottom, a_right, _ = _matrix(ax, a_left, top, (n, n), STYLE.score, values=A, cell=(cw, ch),
                                    strong=[0], col_labels=_sup("q", n), row_labels=_sup("k", n))
    _text(ax, (a_left + a_right) / 2, bottom - 0.22, "$A$: scores")
    # softmax arrow
    _arrow(ax, (a_right + 0.1, mid), (a_right + 1.0, mid), linewidth=1.6)
    _text(ax, a_right + 0.55, mid + 0.25, "softmax", fontsize=STYLE.small)
    _text(ax, a_right + 0.55, mid - 0.25, "each column", fontsize=STYLE.small)
    # A'
    p_left = a_right + 1.4
    _, bottom, p_right, _ = _matrix(ax, p_left, top, (n, n), STYLE.score, values=A_prime,
                                    cell=(cw, ch), strong=[0], col_labels=_sup("q", n),
                                    row_labels=_sup("k", n))
    for j in range(n):
        _text(ax, p_left + (j + 0.5) * cw, bottom - 0.2, _num(A_prime[:, j].sum()),
              fontsize=STYLE.small, color=STYLE.text)
    _text(ax, p_left - 0.06, bottom - 0.2, r"$\Sigma$", ha="right", fontsize=STYLE.small)
    _text(ax, (p_left + p_right) / 2, bottom - 0.55, "$A'$: weights")
    _title(ax, 4.45, 2.45, r"The attention matrix: $A = K^{\mathsf{T}} Q$, $A' = $ softmax of "
           "each column")
    return fig


@figure(
    "F9",
    alt=(
        "V, with one value vector per column, times the weights A-prime gives the output "
        "matrix O, whose columns are b1 to b4. Each column of O is a weighted sum of the "
        "columns of V, with the weights of the same column of A-prime. The first column is "
        "b1 from chapter 2."
    ),
    caption=(
        "The outputs: $O = V A'$. Column $j$ of $O$ is $b^j = \\sum_i \\alpha'_{j,i} v^i$, the "
        "columns of $V$ weighted by column $j$ of $A'$. Column 1 is chapter 2's $b^1$. The "
        "whole layer is three products for Q, K, V, one for A, a softmax and this product."
    ),
)
def f9_output_matrix() -> Figure:
    """F9: O = V A′; column j of O is the output bʲ.

    Introduced in chapter 3.
    """
    ex = column_example()
    V, A_prime, O = ex["V"], ex["A_prime"], ex["O"]  # noqa: E741 - the notes' names
    n = V.shape[1]
    fig, ax = _canvas(8.9, 2.6)
    top, cw, ch = 1.9, 0.55, 0.32
    mid = top - n * ch / 2
    left = 0.25
    _, bottom, right, _ = _matrix(ax, left, top, V.shape, STYLE.value, values=V, cell=(cw, ch),
                                  strong=range(n), col_labels=_sup("v", n))
    _text(ax, (left + right) / 2, bottom - 0.25, "$V$: one value per column")
    _op(ax, right + 0.27, mid, r"$\times$")
    p_left = right + 0.8
    _, _, p_right, _ = _matrix(ax, p_left, top, (n, n), STYLE.score, values=A_prime,
                               cell=(cw, ch), strong=[0], col_labels=_sup("q", n),
                               row_labels=_sup("k", n))
    _text(ax, (p_left + p_right) / 2, bottom - 0.25, "$A'$: weights")
    _op(ax, p_right + 0.27, mid, "$=$")
    o_left = p_right + 0.54
    _, _, o_right, _ = _matrix(ax, o_left, top, O.shape, STYLE.outputs, values=O, cell=(cw, ch),
                               strong=[0], col_labels=_sup("b", n))
    _text(ax, (o_left + o_right) / 2, bottom - 0.25, "$O$: one output per column")
    _title(ax, 4.45, 2.42, r"The outputs: $O = V A'$, and column $j$ is "
           r"$b^j = \Sigma_i\, \alpha'_{j,i}\, v^i$")
    return fig


@figure(
    "F10",
    alt=(
        "Left: a token vector a-i and a positional vector e-i are added, and the sum goes "
        "into self-attention. Right: the sinusoidal table as a picture, 50 positions down "
        "by 64 dimensions across, coloured from blue for -1 through white to orange for +1. "
        "The first columns alternate quickly down the positions; further right the stripes "
        "get wider and wider."
    ),
    caption=(
        "Positional encoding: each position $i$ has a vector $e^i$ that is added to the "
        "token's vector, $a^i + e^i$. Right: the sinusoidal encodings of Vaswani et al. as a "
        "picture, one row per position; row $i$ is $e^i$. Columns $2m$ and $2m+1$ hold "
        "$\\sin$ and $\\cos$ of $i / 10000^{2m/d}$, so every pair of columns is a wave of "
        "its own frequency, from fast (left) to slow (right)."
    ),
)
def f10_positional_encoding() -> Figure:
    """F10: eⁱ + aⁱ, and the sinusoidal table as a picture.

    Introduced in chapter 5.
    """
    max_len, d_model, shown = 50, 64, 12
    table = sinusoidal_encoding(max_len, d_model).numpy()
    fig, ax = _canvas(8.6, 3.6)
    # left: a^i + e^i -> self-attention
    cell, n_cells = 0.2, 6
    bottom = 0.75
    _title(ax, 1.55, 3.35, "$a^i + e^i$", fontsize=STYLE.title)
    for x, color, name in [(0.55, STYLE.inputs, "$a^i$"), (1.55, STYLE.purple, "$e^i$"),
                           (2.55, STYLE.outputs, "$a^i + e^i$")]:
        for c in range(n_cells):
            ax.add_patch(Rectangle((x - 0.14, bottom + c * cell), 0.28, cell,
                                   facecolor=STYLE.tint(color, 0.45), edgecolor=STYLE.line,
                                   linewidth=STYLE.linewidth * 0.8, zorder=2))
        _text(ax, x, bottom - 0.22, name)
    mid = bottom + n_cells * cell / 2
    _op(ax, 1.05, mid, "$+$")
    _op(ax, 2.05, mid, "$=$")
    _arrow(ax, (2.55, bottom + n_cells * cell + 0.05), (2.55, 2.45))
    ax.add_patch(Rectangle((1.85, 2.45), 1.4, 0.4, facecolor=STYLE.tint(STYLE.layer, 0.35),
                           edgecolor=STYLE.line, linewidth=STYLE.linewidth, zorder=2))
    _text(ax, 2.55, 2.65, "self-attention", fontsize=STYLE.small, zorder=3)
    _text(ax, 1.55, 0.2, f"$e^i$ = row $i$ of the table ({shown} of {d_model} shown)",
          fontsize=STYLE.small)
    # right: the table
    heat = fig.add_axes((0.47, 0.16, 0.42, 0.72))
    image = heat.imshow(table, cmap=ENCODING_CMAP, vmin=-1, vmax=1, aspect="auto",
                        interpolation="nearest")
    heat.set_xlabel("dimension (pairs: sin, cos)", fontsize=STYLE.small)
    heat.set_ylabel("position $i$", fontsize=STYLE.small)
    heat.tick_params(labelsize=STYLE.small)
    heat.set_title(f"sinusoidal table, {max_len} positions, $d = {d_model}$",
                   fontsize=STYLE.fontsize)
    row = 20
    heat.add_patch(Rectangle((-0.5, row - 0.5), shown, 1, facecolor="none",
                             edgecolor=STYLE.black, linewidth=1.5))
    heat.annotate(f"$e^{{{row}}}$", xy=(shown - 0.5, row), xytext=(shown + 6, row + 7),
                  fontsize=STYLE.small, color=STYLE.text,
                  arrowprops={"arrowstyle": "-|>", "color": STYLE.line, "linewidth": 1.0})
    bar = fig.colorbar(image, ax=heat, fraction=0.05, pad=0.03)
    bar.ax.tick_params(labelsize=STYLE.small)
    # the e^i column on the left shows the first values of row `row`
    for c in range(n_cells):
        value = table[row, c]
        ax.add_patch(Rectangle((1.55 - 0.14, bottom + (n_cells - 1 - c) * cell), 0.28, cell,
                               facecolor=ENCODING_CMAP((value + 1) / 2), edgecolor=STYLE.line,
                               linewidth=STYLE.linewidth * 0.8, zorder=2.5))
    return fig


# --------------------------------------------------------------------------------------------
# Plots of the chapters' measurements (not numbered figures)
# --------------------------------------------------------------------------------------------


def saturation_plot(d_k: Sequence[int], variance: Mapping[str, Sequence[float]],
                    entropy: Mapping[str, Sequence[float]], max_entropy: float) -> Figure:
    """Two panels against d_k: the variance of the scores, and the entropy of the weights.

    Introduced in chapter 3 (why divide by √d_k). `variance` and `entropy` map a curve's
    label (e.g. ``"q·k"`` and ``"q·k / √d_k"``) to one value per d_k; `max_entropy` is the
    entropy of uniform weights, drawn as a dashed line.
    """
    with style_context():
        fig, (left, right) = _plot_figure(8.4, 3.2, ncols=2)
        colors = [STYLE.vermillion, STYLE.blue, STYLE.green]
        markers = ["o", "s", "^"]
        for (label, values), color, marker in zip(variance.items(), colors, markers,
                                                   strict=False):
            left.plot(d_k, values, marker=marker, color=color, label=label, linewidth=1.6)
        left.set_xscale("log", base=2)
        left.set_yscale("log", base=2)
        left.set_xlabel("$d_k$")
        left.set_title("variance of the scores", fontsize=STYLE.fontsize)
        for (label, values), color, marker in zip(entropy.items(), colors, markers,
                                                  strict=False):
            right.plot(d_k, values, marker=marker, color=color, label=label, linewidth=1.6)
        right.axhline(max_entropy, color=STYLE.muted, linestyle="--", linewidth=1.2,
                      label="uniform weights")
        right.set_xscale("log", base=2)
        right.set_ylim(0, max_entropy * 1.1)
        right.set_xlabel("$d_k$")
        right.set_title("entropy of the weights (nats)", fontsize=STYLE.fontsize)
        for ax in (left, right):
            _style_axes(ax)
        right.legend(fontsize=STYLE.small, frameon=False, loc="lower left")
        fig.tight_layout()
    return fig


def heads_grid(weights: np.ndarray, tokens: Sequence[str], titles: Sequence[str]) -> Figure:
    """Every head of a layer side by side: one heatmap per head (rows: queries, columns: keys).

    Introduced in chapter 4. `weights` is ``(heads, L, L)``; one colour scale for all heads
    (viridis, as in the interactive view).
    """
    weights = np.asarray(weights, dtype=float)
    h = weights.shape[0]
    if len(titles) != h:
        raise ValueError(f"{len(titles)} titles for {h} heads")
    with style_context():
        fig, axes = _plot_figure(2.25 * h + 0.6, 3.0, ncols=h)
        vmax = float(weights.max())
        for ax, w, title in zip(axes, weights, titles, strict=True):
            image = ax.imshow(w, cmap="viridis", vmin=0, vmax=vmax, interpolation="nearest")
            ax.set_xticks(range(len(tokens)), tokens, rotation=90, fontsize=8)
            ax.set_yticks(range(len(tokens)), tokens, fontsize=8)
            ax.set_title(title, fontsize=STYLE.small)
            ax.tick_params(length=0)
        axes[0].set_ylabel("query", fontsize=STYLE.small)
        for ax in axes:
            ax.set_xlabel("key", fontsize=STYLE.small)
        fig.tight_layout()
        bar = fig.colorbar(image, ax=axes, fraction=0.02, pad=0.02)
        bar.ax.tick_params(labelsize=8)
    return fig


def similarity_plot(distance: np.ndarray, curves: Mapping[str, np.ndarray],
                    ylabel: str = "$e^i \\cdot e^j$ / $(d/2)$") -> Figure:
    """Dot product of two positions' encodings against their distance, one curve per label.

    Introduced in chapter 5.
    """
    with style_context():
        fig, (ax,) = _plot_figure(8.0, 3.0)
        colors = [STYLE.blue, STYLE.vermillion, STYLE.green, STYLE.purple]
        styles = ["-", "--", "-.", ":"]
        for (label, values), color, style in zip(curves.items(), colors, styles, strict=False):
            ax.plot(distance, values, style, color=color, label=label, linewidth=1.8)
        ax.axhline(0, color=STYLE.muted, linewidth=0.8)
        ax.set_xlabel("distance $|i - j|$ between the positions")
        ax.set_ylabel(ylabel)
        _style_axes(ax)
        ax.legend(fontsize=STYLE.small, frameon=False, loc="upper right")
        fig.tight_layout()
    return fig


def accuracy_by_position_plot(accuracy: Mapping[str, np.ndarray], train_length: int,
                              chance: float) -> Figure:
    """Accuracy at each position of long test sequences, one curve per positional encoding.

    Introduced in chapter 5. A vertical line marks the end of the training length.
    """
    with style_context():
        fig, (ax,) = _plot_figure(8.0, 3.2)
        colors = [STYLE.muted, STYLE.vermillion, STYLE.blue, STYLE.green]
        markers = ["x", "o", "s", "^"]
        for (label, values), color, marker in zip(accuracy.items(), colors, markers,
                                                  strict=False):
            positions = np.arange(len(values))
            ax.plot(positions, values, marker=marker, markersize=3.5, color=color, label=label,
                    linewidth=1.4)
        ax.axvline(train_length - 0.5, color=STYLE.text, linestyle="--", linewidth=1.0)
        ax.text(train_length - 0.8, 0.5, "positions seen\nin training", ha="right",
                fontsize=STYLE.small, color=STYLE.text, va="center")
        ax.axhline(chance, color=STYLE.muted, linestyle=":", linewidth=1.0)
        ax.set_ylim(-0.02, 1.05)
        ax.set_xlabel("position in the test sequence")
        ax.set_ylabel("accuracy")
        _style_axes(ax)
        ax.legend(fontsize=STYLE.small, frameon=False, loc="center left",
                  bbox_to_anchor=(1.01, 0.5))
        fig.tight_layout()
    return fig

