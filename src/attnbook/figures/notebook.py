"""How a chapter's notebook shows its plots: as SVG that is byte for byte the same on each run.

Strict nbval compares every committed output with a fresh run, but it skips ``image/png``
(PNG bytes are not compared), so plots shown as PNG would never be checked. SVG is text and
nbval compares it: with fixed element ids (``svg.hashsalt``), glyphs drawn as paths (no font
needed to read it) and no date in its metadata, the same plot gives the same SVG every time.
"""

from __future__ import annotations

import matplotlib

from attnbook.figures.style import STYLE

__all__ = ["use_svg_output"]


def use_svg_output() -> None:
    """Show the notebook's matplotlib figures as reproducible SVG (see the module's docstring).

    Introduced in chapter 1, in its first code cell; every chapter calls it there. Outside
    IPython (a script, a test) it only sets matplotlib's SVG options.
    """
    matplotlib.rcParams["svg.hashsalt"] = STYLE.svg_hashsalt  # fixed ids
    matplotlib.rcParams["svg.fonttype"] = "path"  # text as paths, no font needed
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython comes with every notebook
        return
    if get_ipython() is None:
        return
    from matplotlib_inline.backend_inline import set_matplotlib_formats

    # "Date": None keeps the time of the run out of the SVG's metadata.
    set_matplotlib_formats("svg", bbox_inches="tight", metadata={"Date": None})
