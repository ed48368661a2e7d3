"""Figures F6–F9, chapter 3: self-attention as matrix products, tokens as columns.

F6–F9 redraw the notes' vectorized self-attention, with tokens as the **columns** of the
matrices (the notes' notation): Q = Wq I, K = Wk I, V = Wv I (F6), the scores of one query
Kᵀq¹ (F7), the attention matrix A = KᵀQ and A′ = softmax of each column (F8), and the output
O = V A′ (F9). Their numbers are those of chapter 2's seeded example
(:func:`attnbook.figures.examples.column_example`), so column 1 of F8 and F9 repeats F5.
Each takes ``language`` ("en" or "zh_CN"), the language of its words
(:mod:`attnbook.figures.language`).
"""

from __future__ import annotations

from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from attnbook.figures.examples import column_example
from attnbook.figures.language import words
from attnbook.figures.primitives import arrow, canvas, heading, matrix, num, operator_sign, text
from attnbook.figures.registry import figure
from attnbook.figures.style import STYLE

__all__ = [
    "f6_qkv_matrices",
    "f7_scores_of_one_query",
    "f8_attention_matrix",
    "f9_output_matrix",
]


def _sup(name: str, n: int) -> list[str]:
    return [f"${name}^{j}$" for j in range(1, n + 1)]



# --------------------------------------------------------------------------------------------
# The figures
# --------------------------------------------------------------------------------------------


@figure("F6")
def f6_qkv_matrices(language: str = "en") -> Figure:
    """F6: Q = Wq I, K = Wk I, V = Wv I, tokens as I's columns. Used in chapter 3 by `draw`.

    `language` ("en" or "zh_CN") is the language of its words."""
    t = words("F6", language)
    fig, ax = canvas(8.9, 2.9)
    n, cw, ch = 4, 0.18, 0.2
    top = 2.05
    panels = [("$Q = W^q I$", "$W^q$", "q", STYLE.query, t("queries"), "d_k"),
              ("$K = W^k I$", "$W^k$", "k", STYLE.key, t("keys"), "d_k"),
              ("$V = W^v I$", "$W^v$", "v", STYLE.value, t("values"), "d_v")]
    for p, (equation, w_name, vec, color, what, rows) in enumerate(panels):
        x0 = 0.15 + p * 2.92
        heading(ax, x0 + 1.36, 2.7, t("{what}: {equation}", what=what, equation=equation),
                fontsize=STYLE.fontsize)
        # W: a square block
        ax.add_patch(Rectangle((x0, top - n * ch), n * cw, n * ch,
                               facecolor=STYLE.tint(color, 0.45), edgecolor=STYLE.line,
                               linewidth=STYLE.linewidth * 1.4, zorder=2))
        text(ax, x0 + n * cw / 2, top - n * ch / 2, w_name, zorder=3)
        operator_sign(ax, x0 + n * cw + 0.14, top - n * ch / 2, r"$\times$")
        i_left = x0 + n * cw + 0.28
        matrix(ax, i_left, top, (n, n), STYLE.inputs, cell=(cw, ch), strong=range(n),
               col_labels=_sup("a", n))
        operator_sign(ax, i_left + n * cw + 0.14, top - n * ch / 2, "$=$")
        r_left = i_left + n * cw + 0.28
        matrix(ax, r_left, top, (n, n), color, cell=(cw, ch), strong=range(n),
               col_labels=_sup(vec, n))
        text(ax, x0 + 1.36, top - n * ch - 0.3, f"$({rows} \\times d)\\,(d \\times n)$",
             fontsize=STYLE.small)
        text(ax, x0 + 1.36, top - n * ch - 0.62, f"$= ({rows} \\times n)$",
             fontsize=STYLE.small)
    text(ax, 4.45, 0.22, t("one column per token: column $j$ of $I$ is $a^j$, column $j$ of "
                           "the result is that token's vector"),
         fontsize=STYLE.small, color=STYLE.text)
    return fig


@figure("F7")
def f7_scores_of_one_query(language: str = "en") -> Figure:
    """F7: the scores of one query stacked into a column, Kᵀ q¹.

    Used in chapter 3 by `draw` (``draw("F7")``). `language` ("en" or "zh_CN") is the
    language of its words.
    """
    t = words("F7", language)
    ex = column_example()
    KT, q1 = ex["K"].T, ex["Q"][:, :1]
    alpha = KT @ q1  # (n, 1)
    n = KT.shape[0]
    fig, ax = canvas(7.4, 2.7)
    top, cw, ch = 1.95, 0.55, 0.32
    heading(ax, 3.7, 2.5, t(r"$K^{\mathsf{T}} q^1$: every score of query 1 in one product"))
    left = 0.9
    _, bottom, right, _ = matrix(ax, left, top, (n, n), STYLE.key, values=KT, cell=(cw, ch),
                                 by="row", strong=range(n), row_labels=_sup("k", n))
    text(ax, (left + right) / 2, bottom - 0.22, t(r"$K^{\mathsf{T}}$: one key per row"))
    mid = top - n * ch / 2
    operator_sign(ax, right + 0.25, mid, r"$\times$")
    q_left = right + 0.5
    _, _, q_right, _ = matrix(ax, q_left, top, (n, 1), STYLE.query, values=q1, cell=(cw, ch),
                              strong=[0])
    text(ax, (q_left + q_right) / 2, bottom - 0.22, "$q^1$")
    operator_sign(ax, q_right + 0.25, mid, "$=$")
    a_left = q_right + 0.5
    _, _, a_right, _ = matrix(ax, a_left, top, (n, 1), STYLE.score, values=alpha,
                              cell=(cw, ch), strong=[0])
    for j in range(n):
        text(ax, a_right + 0.08, top - (j + 0.5) * ch, rf"$\alpha_{{1,{j + 1}}} = k^{j + 1}"
             r" \cdot q^1$", ha="left", fontsize=STYLE.small)
    text(ax, (a_left + a_right) / 2, bottom - 0.22, r"$\alpha_{1,j}$")
    return fig


@figure("F8")
def f8_attention_matrix(language: str = "en") -> Figure:
    """F8: A = KᵀQ, then A′ = softmax of each column: the attention matrix.

    Used in chapter 3 by `draw` (``draw("F8")``). `language` ("en" or "zh_CN") is the
    language of its words.
    """
    t = words("F8", language)
    ex = column_example()
    A, A_prime = ex["A"], ex["A_prime"]
    n = A.shape[0]
    fig, ax = canvas(8.9, 2.6)
    top, cw, ch, sw = 1.95, 0.5, 0.3, 0.22
    mid = top - n * ch / 2
    # K^T and Q, drawn without numbers
    kt_left = 0.55
    _, bottom, kt_right, _ = matrix(ax, kt_left, top - (n * ch - n * sw) / 2, (n, n), STYLE.key,
                                    cell=(sw, sw), by="row", strong=range(n),
                                    row_labels=_sup("k", n))
    text(ax, (kt_left + kt_right) / 2, top - n * ch - 0.22, r"$K^{\mathsf{T}}$")
    operator_sign(ax, kt_right + 0.18, mid, r"$\times$")
    q_left = kt_right + 0.38
    _, _, q_right, _ = matrix(ax, q_left, top - (n * ch - n * sw) / 2, (n, n), STYLE.query,
                              cell=(sw, sw), strong=range(n), col_labels=_sup("q", n))
    text(ax, (q_left + q_right) / 2, top - n * ch - 0.22, "$Q$")
    operator_sign(ax, q_right + 0.17, mid, "$=$")
    # A
    a_left = q_right + 0.8
    _, bottom, a_right, _ = matrix(ax, a_left, top, (n, n), STYLE.score, values=A, cell=(cw, ch),
                                   strong=[0], col_labels=_sup("q", n), row_labels=_sup("k", n))
    text(ax, (a_left + a_right) / 2, bottom - 0.22, t("$A$: scores"))
    # softmax arrow
    arrow(ax, (a_right + 0.1, mid), (a_right + 1.0, mid), linewidth=1.6)
    text(ax, a_right + 0.55, mid + 0.25, "softmax", fontsize=STYLE.small)
    text(ax, a_right + 0.55, mid - 0.25, t("each column"), fontsize=STYLE.small)
    # A'
    p_left = a_right + 1.4
    _, bottom, p_right, _ = matrix(ax, p_left, top, (n, n), STYLE.score, values=A_prime,
                                   cell=(cw, ch), strong=[0], col_labels=_sup("q", n),
                                   row_labels=_sup("k", n))
    for j in range(n):
        text(ax, p_left + (j + 0.5) * cw, bottom - 0.2, num(A_prime[:, j].sum()),
             fontsize=STYLE.small, color=STYLE.text)
    text(ax, p_left - 0.06, bottom - 0.2, r"$\Sigma$", ha="right", fontsize=STYLE.small)
    text(ax, (p_left + p_right) / 2, bottom - 0.55, t("$A'$: weights"))
    heading(ax, 4.45, 2.45, t(r"The attention matrix: $A = K^{\mathsf{T}} Q$, $A' = $ softmax "
                              "of each column"))
    return fig


@figure("F9")
def f9_output_matrix(language: str = "en") -> Figure:
    """F9: O = V A′; column j of O is the output bʲ.

    Used in chapter 3 by `draw` (``draw("F9")``). `language` ("en" or "zh_CN") is the
    language of its words.
    """
    t = words("F9", language)
    ex = column_example()
    V, A_prime, O = ex["V"], ex["A_prime"], ex["O"]  # noqa: E741 - the notes' names
    n = V.shape[1]
    fig, ax = canvas(8.9, 2.6)
    top, cw, ch = 1.9, 0.55, 0.32
    mid = top - n * ch / 2
    left = 0.25
    _, bottom, right, _ = matrix(ax, left, top, V.shape, STYLE.value, values=V, cell=(cw, ch),
                                 strong=range(n), col_labels=_sup("v", n))
    text(ax, (left + right) / 2, bottom - 0.25, t("$V$: one value per column"))
    operator_sign(ax, right + 0.27, mid, r"$\times$")
    p_left = right + 0.8
    _, _, p_right, _ = matrix(ax, p_left, top, (n, n), STYLE.score, values=A_prime,
                              cell=(cw, ch), strong=[0], col_labels=_sup("q", n),
                              row_labels=_sup("k", n))
    text(ax, (p_left + p_right) / 2, bottom - 0.25, t("$A'$: weights"))
    operator_sign(ax, p_right + 0.27, mid, "$=$")
    o_left = p_right + 0.54
    _, _, o_right, _ = matrix(ax, o_left, top, O.shape, STYLE.outputs, values=O, cell=(cw, ch),
                              strong=[0], col_labels=_sup("b", n))
    text(ax, (o_left + o_right) / 2, bottom - 0.25, t("$O$: one output per column"))
    heading(ax, 4.45, 2.42, t(r"The outputs: $O = V A'$, and column $j$ is "
                              r"$b^j = \Sigma_i\, \alpha'_{j,i}\, v^i$"))
    return fig


