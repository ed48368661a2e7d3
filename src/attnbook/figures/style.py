"""The one look of every figure and plot of the book: palette, colour roles, fonts, colormaps.

Okabe-Ito colours (colour-blind safe), dark text on an opaque white card (so that an image also
reads in the website's dark mode), fonts of 10 pt or more: DejaVu Sans, and for the Chinese
characters (汉字: the numerals, and every word of the Chinese figures, ``language="zh_CN"``)
Noto Sans SC, whose glyphs the package ships (:data:`CJK_FONT_FILES`: subsets of the npm
package @expo-google-fonts/noto-sans-sc, made by ``scripts/vendor_assets.py
--figure-fonts``). Text is saved as paths, so no reader of an SVG needs either font.
Heatmaps of values use one sequential colormap, viridis, the one of the interactive attention views
(:class:`attnbook.widgets.AttentionMap`); signed tables (the sinusoidal encodings) use
:attr:`Style.diverging_cmap`, Okabe-Ito blue through white to orange.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

import matplotlib
import numpy as np
from matplotlib import font_manager
from matplotlib.colors import Colormap, LinearSegmentedColormap

__all__ = ["CJK_FONT_FILES", "STYLE", "Style", "register_cjk_font", "style_context"]

CJK_FONT_FAMILY = "attnbook Noto Sans SC"
CJK_FONT_FILES = ("noto_sans_sc_figures_regular.ttf", "noto_sans_sc_figures_bold.ttf")
"""The figures' CJK fonts in ``attnbook/data``: Noto Sans SC (SIL Open Font License,
``noto_sans_sc_OFL.txt``), regular and bold, cut down to the characters the figures draw in
either language (the numerals' 零一二三四五六七八九十百千万 and those of the Chinese figures'
words, ``attnbook/figures/words.toml``) and renamed ``attnbook Noto Sans SC``."""


@functools.cache
def register_cjk_font() -> str:
    """Make matplotlib know the figures' CJK font (once); return its family name.

    Used in chapter 8 by `draw` (figure F13, the first with Chinese characters; the style's
    settings, :meth:`Style.rc`, call it). The font files ship with the package
    (:data:`CJK_FONT_FILES`); a missing one is an installation error, which says how to fix it.
    """
    for name in CJK_FONT_FILES:
        path = Path(str(files("attnbook") / "data" / name))
        if not path.is_file():
            raise FileNotFoundError(
                f"the figures' CJK font {path} is missing: reinstall attnbook, or in the book's "
                "repository run `make install` and `python scripts/vendor_assets.py "
                "--figure-fonts`, which makes it from node_modules")
        font_manager.fontManager.addfont(str(path))
    return CJK_FONT_FAMILY


@dataclass(frozen=True)
class Style:
    """The look shared by every figure: palette, roles of the colours, fonts, sizes.

    Used in chapter 9 by `STYLE`, its one instance, whose colours the chapters' own plots
    take (``figures.STYLE.blue``); every figure and plot is drawn with it.
    """

    # Okabe-Ito, a palette that colour-blind readers can tell apart.
    orange: str = "#E69F00"
    sky: str = "#56B4E9"
    green: str = "#009E73"
    yellow: str = "#F0E442"
    blue: str = "#0072B2"
    vermillion: str = "#D55E00"
    purple: str = "#CC79A7"
    black: str = "#000000"
    # Text and lines: dark on an opaque white card.
    text: str = "#1A1A1A"
    line: str = "#333333"
    muted: str = "#8C8C8C"
    grid: str = "#DDDDDD"
    background: str = "#FFFFFF"
    # Colormaps: every heatmap of values (attention weights, similarities, per-head
    # statistics) is viridis, as in the interactive views; a bool mask is black on white.
    sequential: str = "viridis"
    binary: str = "Greys"
    # Sizes, in points.
    fontsize: float = 11.0
    small: float = 10.0
    title: float = 12.0
    linewidth: float = 1.2
    dpi: int = 100
    svg_hashsalt: str = "attnbook"

    # What each colour stands for, the same in every figure.
    @property
    def inputs(self) -> str:
        """Input vectors a."""
        return self.sky

    @property
    def outputs(self) -> str:
        """Output vectors b and labels."""
        return self.orange

    @property
    def query(self) -> str:
        """Queries q."""
        return self.vermillion

    @property
    def key(self) -> str:
        """Keys k."""
        return self.blue

    @property
    def value(self) -> str:
        """Values v."""
        return self.green

    @property
    def score(self) -> str:
        """Attention scores alpha and weights alpha'."""
        return self.purple

    @property
    def layer(self) -> str:
        """Boxes that stand for a layer or a model."""
        return self.yellow

    @property
    def diverging_cmap(self) -> Colormap:
        """Signed values from -1 to +1: Okabe-Ito blue, white at 0, orange (figure F10)."""
        return LinearSegmentedColormap.from_list(
            "attnbook_encoding", [self.blue, self.background, self.orange])

    def tint(self, color: str, amount: float = 0.3) -> str:
        """`color` mixed with white: `amount` of the colour, opaque (no alpha in the SVG).

        >>> STYLE.tint("#000000", 0.5)
        '#808080'
        """
        rgb = np.array(matplotlib.colors.to_rgb(color))
        mixed = amount * rgb + (1.0 - amount) * np.ones(3)
        return matplotlib.colors.to_hex(mixed)

    def text_on(self, rgba) -> str:
        """Dark text on a light cell, white text on a dark one (by relative luminance).

        >>> STYLE.text_on((1.0, 1.0, 0.0)) == STYLE.text, STYLE.text_on((0.1, 0.0, 0.3))
        (True, '#FFFFFF')
        """
        luminance = 0.2126 * rgba[0] + 0.7152 * rgba[1] + 0.0722 * rgba[2]
        return self.text if luminance > 0.45 else self.background

    def rc(self) -> dict:
        """The matplotlib settings every figure is drawn and saved with.

        The font family is DejaVu Sans, then the CJK font (:func:`register_cjk_font`), which
        matplotlib uses for the characters DejaVu Sans lacks."""
        return {
            "font.family": ["DejaVu Sans", register_cjk_font()],
            "font.size": self.fontsize,
            "mathtext.fontset": "dejavusans",
            "text.color": self.text,
            "figure.dpi": self.dpi,
            "figure.facecolor": self.background,
            "savefig.facecolor": self.background,
            "savefig.transparent": False,
            "svg.fonttype": "path",  # glyphs as paths: the SVG looks the same without fonts
            "svg.hashsalt": self.svg_hashsalt,  # fixed ids: identical bytes on every run
        }


STYLE = Style()
"""The shared style. Introduced in chapter 1, with the first figure."""


@contextmanager
def style_context() -> Iterator[Style]:
    """Draw or save inside this context to get the book's figure style.

    Used in chapter 3 by `draw` (and by every plot of :mod:`attnbook.figures.plots`); a figure
    function called directly outside it still gets the colours, which every figure passes
    explicitly.
    """
    with matplotlib.rc_context(STYLE.rc()):
        yield STYLE
