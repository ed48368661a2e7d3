"""The website's images load when the reader scrolls to them (a small Sphinx extension).

A chapter page holds up to twenty figures and plots (SVG files of 30–60 KB); requested with the
page, they compete with the page's own scripts and delayed the drawing of its views by a few
hundred milliseconds on loopback. docutils' HTML writer marks every image
``loading="lazy"`` when its setting ``image_loading`` says so; this sets it.

Not used by a chapter: Sphinx loads it (``_config.yml``).
"""

from __future__ import annotations

from typing import Any

from sphinx.application import Sphinx

__all__ = ["setup"]


def _lazy(app: Sphinx) -> None:
    app.env.settings["image_loading"] = "lazy"


def setup(app: Sphinx) -> dict[str, Any]:
    """Register the extension with Sphinx. Not used by a chapter: ``_config.yml`` names it."""
    app.connect("builder-inited", _lazy)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
