"""Copy the front-end files the website serves itself from node_modules/ into _assets/vendor/.

Sphinx copies _assets/ into the site's root (html_extra_path), so the pages load require.js,
the widget manager (with its fonts), anywidget's front end and MathJax from the site itself,
never from another host. Not _static/: Jupyter Book adds every .js file under _static/ to
every page. Run by `make book`; needs `npm ci` first.

Two changes to the widget manager's embed-amd.js, each checked (the script stops if the text
it replaces is gone): no fallback to a CDN, and the views drawn once the page is parsed rather
than once every image has loaded. With assets/mathjax-loader.js (MathJax after the views),
that brings a chapter's views up sooner (the browser tests report the times).
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NODE = ROOT / "node_modules"
OUT = ROOT / "_assets" / "vendor"

FONT_SUFFIXES = {".woff", ".woff2", ".ttf", ".eot", ".svg"}
# MathJax's single-file bundles other than the one the site loads are not needed.
# (latest.js would load MathJax from a CDN.)
MATHJAX_BUNDLES_SKIPPED = ("tex-", "mml-", "tex.js", "latest.js")
# The widget manager falls back to jsDelivr when require.js cannot find a module locally; the
# site must never do that, so the fallback address is emptied: a missing module then fails
# with a 404 from this site, which the browser tests report, instead of a silent download.
CDN_FALLBACK = "https://cdn.jsdelivr.net/npm/"
# The widget manager draws the views on the window's `load` event, i.e. only after every image
# and font of the page has arrived; the views need only the parsed page, so they are drawn on
# DOMContentLoaded instead (or at once, if the page is already parsed).
RENDER_ON_LOAD = (
    '"complete"===document.readyState?e.renderWidgets():'
    'window.addEventListener("load",(function(){e.renderWidgets()}))'
)
RENDER_ON_PARSED = (
    '"loading"!==document.readyState?e.renderWidgets():'
    'document.addEventListener("DOMContentLoaded",(function(){e.renderWidgets()}))'
)


def _copy(src: Path, dst: Path) -> None:
    if not src.exists():
        sys.exit(f"missing {src.relative_to(ROOT)}: run `npm ci` first (make book does)")
    dst.parent.mkdir(parents=True, exist_ok=True)
    if src.is_dir():
        shutil.copytree(src, dst, dirs_exist_ok=True)
    else:
        shutil.copy2(src, dst)


def main() -> None:
    if OUT.exists():
        shutil.rmtree(OUT)
    _copy(NODE / "requirejs" / "require.js", OUT / "require.js")
    _copy(ROOT / "assets" / "widgets-setup.js", OUT / "widgets-setup.js")
    # What a page with widget views loads (myst-nb's nb_ipywidgets_js): it draws anywidget
    # views itself and loads the widget manager only for any other widget.
    _copy(ROOT / "assets" / "widgets-static.js", OUT / "widgets-static.js")
    # Sphinx's mathjax_path: loads mathjax/tex-chtml.js once the page's views are drawn.
    _copy(ROOT / "assets" / "mathjax-loader.js", OUT / "mathjax-loader.js")
    manager = NODE / "@jupyter-widgets" / "html-manager" / "dist"
    embed = OUT / "html-manager" / "embed-amd.js"
    _copy(manager / "embed-amd.js", embed)
    code = embed.read_text(encoding="utf-8")
    if CDN_FALLBACK not in code:
        sys.exit(f"{embed.name} no longer names {CDN_FALLBACK}: update vendor_assets.py")
    if RENDER_ON_LOAD not in code:
        sys.exit(f"{embed.name} no longer draws the views on `load`: update vendor_assets.py")
    code = code.replace(CDN_FALLBACK, "missing-module/").replace(RENDER_ON_LOAD, RENDER_ON_PARSED)
    embed.write_text(code, encoding="utf-8")
    for font in manager.iterdir():
        if font.suffix in FONT_SUFFIXES:
            _copy(font, OUT / "html-manager" / font.name)
    _copy(NODE / "anywidget" / "dist" / "index.js", OUT / "anywidget" / "index.js")
    mathjax = NODE / "mathjax" / "es5"
    for item in mathjax.iterdir():
        skipped = item.is_file() and item.name.startswith(MATHJAX_BUNDLES_SKIPPED)
        if item.name == "tex-chtml.js" or not skipped:
            _copy(item, OUT / "mathjax" / item.name)
    size = sum(f.stat().st_size for f in OUT.rglob("*") if f.is_file())
    print(f"vendored front-end assets: {size / 2**20:.1f} MiB in {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
