"""Figure F10, chapter 5: positional encoding, eⁱ + aⁱ, and the sinusoidal table as a picture.

The table is :func:`attnbook.positional.sinusoidal_encoding`, drawn with the style's diverging
colormap (Okabe-Ito blue for -1, white for 0, orange for +1). The figure takes ``language``
("en" or "zh_CN"), the language of its words (:mod:`attnbook.figures.language`).
"""

from __future__ import annotations

from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from attnbook.figures.language import words
from attnbook.figures.primitives import (
    arrow,
    canvas,
    heading,
    mixed_text,
    operator_sign,
    text,
)
from attnbook.figures.registry import figure
from attnbook.figures.style import STYLE
from attnbook.positional import sinusoidal_encoding

__all__ = ["f10_positional_encoding"]


@figure("F10")
def f10_positional_encoding(language: str = "en") -> Figure:
    """F10: eⁱ + aⁱ, and the sinusoidal table as a picture.

    Used in chapter 5 by `draw` (``draw("F10")``). `language` ("en" or "zh_CN") is the
    language of its words.
    """
    t = words("F10", language)
    # The column e^i on the left shows the first `shown` numbers of row `row` of the table,
    # the ones the black box outlines there.
    max_len, d_model, shown, row = 50, 64, 6, 20
    table = sinusoidal_encoding(max_len, d_model).numpy()
    cmap = STYLE.diverging_cmap
    fig, ax = canvas(8.6, 3.6)
    # left: a^i + e^i -> self-attention
    cell, n_cells = 0.2, shown
    bottom = 0.75
    heading(ax, 1.55, 3.35, "$a^i + e^i$", fontsize=STYLE.title)
    for x, color, name in [(0.55, STYLE.inputs, "$a^i$"), (1.55, STYLE.purple, "$e^i$"),
                           (2.55, STYLE.outputs, "$a^i + e^i$")]:
        for c in range(n_cells):
            ax.add_patch(Rectangle((x - 0.14, bottom + c * cell), 0.28, cell,
                                   facecolor=STYLE.tint(color, 0.45), edgecolor=STYLE.line,
                                   linewidth=STYLE.linewidth * 0.8, zorder=2))
        text(ax, x, bottom - 0.22, name)
    mid = bottom + n_cells * cell / 2
    operator_sign(ax, 1.05, mid, "$+$")
    operator_sign(ax, 2.05, mid, "$=$")
    arrow(ax, (2.55, bottom + n_cells * cell + 0.05), (2.55, 2.45))
    ax.add_patch(Rectangle((1.85, 2.45), 1.4, 0.4, facecolor=STYLE.tint(STYLE.layer, 0.35),
                           edgecolor=STYLE.line, linewidth=STYLE.linewidth, zorder=2))
    text(ax, 2.55, 2.65, t("self-attention"), fontsize=STYLE.small, zorder=3)
    text(ax, 1.55, 0.2, t("$e^i$ = row $i$ of the table ({shown} of {total} shown)",
                          shown=shown, total=d_model), fontsize=STYLE.small)
    # right: the table
    heat = fig.add_axes((0.47, 0.16, 0.42, 0.72))
    image = heat.imshow(table, cmap=cmap, vmin=-1, vmax=1, aspect="auto",
                        interpolation="nearest")
    heat.set_xlabel(t("dimension (pairs: sin, cos)"), fontsize=STYLE.small)
    heat.tick_params(labelsize=STYLE.small)
    title = t("sinusoidal table, {n} positions, $d = {d}$", n=max_len, d=d_model)
    if language == "en":
        heat.set_ylabel("position $i$", fontsize=STYLE.small)
        heat.set_title(title, fontsize=STYLE.fontsize)
    else:  # mathtext draws no Chinese: the words and the math side by side
        label = heat.set_ylabel(t("position"), fontsize=STYLE.small)
        heat.annotate("$i$", xy=(0.5, 1.0), xycoords=label, xytext=(0, 2),
                      textcoords="offset points", rotation=90, ha="center", va="bottom",
                      fontsize=STYLE.small, color=label.get_color())
        mixed_text(heat, 0.5, 1.0, title, transform=heat.transAxes, va="bottom",
                   offset=(0, 4), fontsize=STYLE.fontsize, color=STYLE.text)
    heat.add_patch(Rectangle((-0.5, row - 0.5), shown, 1, facecolor="none",
                             edgecolor=STYLE.black, linewidth=1.5))
    heat.annotate(f"$e^{{{row}}}$", xy=(shown - 0.5, row), xytext=(18, row + 7),
                  fontsize=STYLE.small, color=STYLE.text,
                  arrowprops={"arrowstyle": "-|>", "color": STYLE.line, "linewidth": 1.0})
    bar = fig.colorbar(image, ax=heat, fraction=0.05, pad=0.03)
    bar.ax.tick_params(labelsize=STYLE.small)
    # the e^i column on the left shows the first values of row `row`
    for c in range(n_cells):
        value = table[row, c]
        ax.add_patch(Rectangle((1.55 - 0.14, bottom + (n_cells - 1 - c) * cell), 0.28, cell,
                               facecolor=cmap((value + 1) / 2), edgecolor=STYLE.line,
                               linewidth=STYLE.linewidth * 0.8, zorder=2.5))
    return fig


