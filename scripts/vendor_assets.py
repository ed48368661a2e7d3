"""Copy the front-end files the website serves itself from node_modules/ into _assets/vendor/.

Sphinx copies _assets/ into the site's root (html_extra_path), so the pages load require.js,
the widget manager (with its fonts), anywidget's front end and MathJax from the site itself,
never from another host. Not _static/: Jupyter Book adds every .js file under _static/ to
every page. Run by `make book`; needs `npm ci` first.

Two changes to the widget manager's embed-amd.js, each checked (the script stops if the text
it replaces is gone): no fallback to a CDN, and the views drawn once the page is parsed rather
than once every image has loaded. With assets/mathjax-loader.js (MathJax after the views),
that brings a chapter's views up sooner (the browser tests report the times).

The Chinese characters of the pages and views: a web font subset at build time from the npm
package @expo-google-fonts/noto-sans-sc (Noto Sans SC, SIL Open Font License) to the CJK
characters the book uses (:func:`book_cjk_characters`: the chapters, the Markdown pages, the
package's docstrings and the views' strings), so a reader without a CJK font sees 汉字, not
empty boxes. `vendor/fonts/noto-sans-sc.css` declares it (@font-face with the unicode-range of
those characters) and adds it to the theme's fonts, for those characters only.
``--figure-fonts`` instead rewrites the small subsets the figures draw their 汉字 with
(committed in src/attnbook/data, so that the package draws them without node_modules, e.g. on
Colab): the characters of both languages' figures (:func:`figure_characters`).
"""

from __future__ import annotations

import argparse
import io
import json
import re
import shutil
import sys
from collections.abc import Iterable, Iterator
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


# The CJK font: Noto Sans SC from the npm package, one TTF per weight.
FONT_PACKAGE = Path("@expo-google-fonts") / "noto-sans-sc"
FONT_FILES = {
    "Regular": FONT_PACKAGE / "400Regular" / "NotoSansSC_400Regular.ttf",
    "Bold": FONT_PACKAGE / "700Bold" / "NotoSansSC_700Bold.ttf",
}
FONT_LICENSE = FONT_PACKAGE / "LICENSE_FONT"
# The family name of the subsets, in the pages' CSS and in matplotlib: its own name, so that a
# full Noto Sans SC installed on the reader's machine is never mistaken for it.
FONT_FAMILY = "attnbook Noto Sans SC"
WEB_FONT = Path("fonts") / "noto-sans-sc-book.woff2"  # under OUT
WEB_FONT_CHINESE = Path("fonts") / "noto-sans-sc-zh.woff2"  # the Chinese edition's others
WEB_FONT_CSS = Path("fonts") / "noto-sans-sc.css"  # under OUT; _config.yml's html_css_files
# The figures' subsets (committed; read by attnbook.figures.style) and the font's license.
FIGURE_FONT_DIR = ROOT / "src" / "attnbook" / "data"
FIGURE_FONTS = {"Regular": "noto_sans_sc_figures_regular.ttf",
                "Bold": "noto_sans_sc_figures_bold.ttf"}
FIGURE_FONT_LICENSE = "noto_sans_sc_OFL.txt"
# What the English figures write in Chinese: the characters of the numerals (attnbook.numerals).
FIGURE_CHARACTERS = "零一二三四五六七八九十百千万"
# The words of the figures in the other languages (attnbook.figures.language): the Chinese
# figures write their characters, and the numerals'.
FIGURE_WORDS = ROOT / "src" / "attnbook" / "figures" / "words.toml"
# CJK characters, radicals, punctuation, kana and full-width forms: what the theme's fonts may
# lack. (Latin letters, digits and symbols such as → are left to the theme's fonts.)
CJK = re.compile("[\u2e80-\u2fdf\u3000-\u30ff\u3100-\u312f\u31c0-\u31ef\u3200-\u4dbf"
                 "\u4e00-\u9fff\uf900-\ufaff\ufe30-\ufe4f\uff00-\uffef]")
# Where the book's text is: every page, and the package whose docstrings (api.md) and strings
# (the views, the printed outputs) the pages show.
BOOK_TEXT = ("*.md", "*.yml", "*.bib", "chapters/*.ipynb", "chapters/*.md", "assets/*",
             "locales/**/*.po", "src/attnbook/**/*.py", "src/attnbook/**/*.js",
             "src/attnbook/**/*.css", "src/attnbook/**/*.toml", "src/attnbook/**/*.json")
# The text only the Chinese edition shows: its catalogues. Its characters go to a font file of
# their own, which the English pages (whose characters are all in the first) never load.
CHINESE_EDITION_TEXT = ("locales/**/*.po",)


def _strings(value) -> Iterator[str]:
    """Every string inside a JSON value (a notebook: sources, outputs, widget state)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def book_text_files(root: Path = ROOT) -> list[Path]:
    """The files whose text the website shows (:data:`BOOK_TEXT`), sorted."""
    found = {path for pattern in BOOK_TEXT for path in root.glob(pattern) if path.is_file()}
    return sorted(p for p in found if "__pycache__" not in p.parts)


def cjk_characters(texts: Iterable[str]) -> str:
    """The CJK characters (:data:`CJK`) in `texts`, each once, sorted by code point."""
    return "".join(sorted({c for text in texts for c in CJK.findall(text)}))


def book_cjk_characters(root: Path = ROOT, *, chinese_edition: bool = True) -> str:
    """Every CJK character the book's pages and views can show, sorted (the web font's set).

    Notebooks are read as JSON (their sources, outputs and widget state); JSON files too, so
    that characters written as \\u escapes count; the numerals' characters always count
    (the translator view writes any numeral)."""
    texts = [FIGURE_CHARACTERS]
    skipped = set() if chinese_edition else {
        path for pattern in CHINESE_EDITION_TEXT for path in root.glob(pattern)}
    for path in book_text_files(root):
        if path in skipped:
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        if path.suffix in (".ipynb", ".json"):
            texts.extend(_strings(json.loads(text)))
        else:
            texts.append(text)
    return cjk_characters(texts)


def font_source(weight: str = "Regular", node: Path = NODE) -> Path:
    """The full Noto Sans SC TTF of `weight` in node_modules; a clear error when missing."""
    path = node / FONT_FILES[weight]
    if not path.is_file():
        sys.exit(f"missing {path}: run `make install` (npm ci installs "
                 f"{FONT_PACKAGE.as_posix()}, see package.json)")
    return path


def subset_font(source: Path, characters: str, flavor: str | None = None,
                family: str = FONT_FAMILY) -> bytes:
    """The font `source` cut down to `characters`, renamed `family`: the same bytes every run.

    `flavor` "woff2" compresses it for the web (needs the brotli package). Hinting is dropped
    (matplotlib draws unhinted outlines; browsers hint CJK themselves); the outlines are the
    original ones."""
    from fontTools import subset
    from fontTools.ttLib import TTFont

    font = TTFont(source, recalcTimestamp=False)
    options = subset.Options()
    options.hinting = False
    options.flavor = flavor
    subsetter = subset.Subsetter(options)
    subsetter.populate(text=characters)
    subsetter.subset(font)
    style = font["name"].getDebugName(2) or "Regular"
    for record in list(font["name"].names):
        if record.nameID in (16, 17, 21, 22):  # typographic names: the family is RIBBI
            font["name"].removeNames(nameID=record.nameID)
    names = {1: family, 2: style, 3: f"{family} {style}; subset by attnbook",
             4: f"{family} {style}", 6: f"{family}-{style}".replace(" ", "")}
    for name_id, value in names.items():
        font["name"].setName(value, name_id, 3, 1, 0x409)  # Windows, Unicode BMP, English
        font["name"].setName(value, name_id, 1, 0, 0)  # Macintosh, Roman, English
    buffer = io.BytesIO()
    font.save(buffer)
    return buffer.getvalue()


def unicode_range(characters: str) -> str:
    """The CSS unicode-range of `characters`: runs of consecutive code points as ranges.

    >>> unicode_range("一丁七")
    'U+4E00-4E01, U+4E03'
    """
    points = sorted({ord(c) for c in characters})
    runs: list[list[int]] = []
    for point in points:
        if runs and point == runs[-1][1] + 1:
            runs[-1][1] = point
        else:
            runs.append([point, point])
    return ", ".join(f"U+{a:04X}" if a == b else f"U+{a:04X}-{b:04X}" for a, b in runs)


def _font_face(characters: str, font_url: str) -> str:
    return f"""@font-face {{
  font-family: "{FONT_FAMILY}";
  font-style: normal;
  font-weight: 400;
  font-display: swap;
  src: url("{font_url}") format("woff2");
  unicode-range: {unicode_range(characters)};
}}"""


def web_font_css(characters: str, font_url: str, chinese: str = "",
                 chinese_url: str = "") -> str:
    """The CSS of the web font: its @font-face rules, and the theme's font lists with it.

    `characters` are those of every page (the English edition's, in `font_url`); `chinese`
    those that only the Chinese edition shows, in a second file a page loads only when it
    shows one of them."""
    faces = _font_face(characters, font_url)
    if chinese:
        faces += "\n" + _font_face(chinese, chinese_url)
    total, english, more = len(characters) + len(chinese), len(characters), len(chinese)
    return f"""/* Noto Sans SC (SIL Open Font License 1.1, OFL.txt), cut down by
   scripts/vendor_assets.py to the {total} CJK characters the book uses, in two files:
   the {english} of the English edition, and the {more} more of the Chinese one.
   Only they are drawn with it, and a page loads a file only when it shows one of its
   characters. Written by `make install`; do not edit. */
{faces}
/* Added to the theme's font lists (pydata-sphinx-theme's variables), which the views
   (attnbook-view) use too. It comes first, yet it draws only the CJK characters (its
   unicode-range): every other character falls through to the theme's fonts. (Listed after
   them, Chromium drew the characters of a text laid out before the font had loaded as empty
   boxes for good.) */
html {{
  --pst-font-family-base: "{FONT_FAMILY}", var(--pst-font-family-base-system);
  --pst-font-family-heading: "{FONT_FAMILY}", var(--pst-font-family-base-system);
  --pst-font-family-monospace: "{FONT_FAMILY}", var(--pst-font-family-monospace-system);
}}
"""


def vendor_web_font(out: Path = OUT, root: Path = ROOT) -> int:
    """Write the web font (two files) and its CSS under `out`; return the fonts' bytes."""
    characters = book_cjk_characters(root, chinese_edition=False)
    chinese = "".join(sorted(set(book_cjk_characters(root)) - set(characters)))
    (out / WEB_FONT).parent.mkdir(parents=True, exist_ok=True)
    size = 0
    for chars, path in ((characters, WEB_FONT), (chinese, WEB_FONT_CHINESE)):
        data = subset_font(font_source("Regular"), chars, flavor="woff2") if chars else b""
        (out / path).write_bytes(data)
        size += len(data)
        print(f"web font: {len(chars)} CJK characters, {len(data)} bytes in {out / path}")
    (out / WEB_FONT_CSS).write_text(web_font_css(characters, WEB_FONT.name, chinese,
                                                 WEB_FONT_CHINESE.name), encoding="utf-8")
    _copy(NODE / FONT_LICENSE, out / WEB_FONT.parent / "OFL.txt")
    return size


def figure_characters(words: Path = FIGURE_WORDS) -> str:
    """Every CJK character the figures draw, in English and in Chinese, sorted: the numerals'
    (:data:`FIGURE_CHARACTERS`) and those of the figures' words in the other languages (the
    values of `words`, ``src/attnbook/figures/words.toml``; its comments do not count)."""
    import tomllib

    table = tomllib.loads(words.read_text(encoding="utf-8"))
    return cjk_characters([FIGURE_CHARACTERS, *_strings(table)])


def figure_font_bytes(weight: str) -> bytes:
    """The figures' subset of `weight` ("Regular", "Bold"): :func:`figure_characters` only.

    The numerals' glyphs come first, with the glyph ids they have in a subset of the numerals
    alone: an SVG names each glyph by its id, so the English figures (which draw only
    numerals) stay the same bytes whatever characters the Chinese figures add."""
    from fontTools.ttLib import TTFont
    from fontTools.ttLib.reorderGlyphs import reorderGlyphs

    source = font_source(weight)
    numerals = TTFont(io.BytesIO(subset_font(source, FIGURE_CHARACTERS))).getGlyphOrder()
    font = TTFont(io.BytesIO(subset_font(source, figure_characters())), recalcTimestamp=False)
    order = font.getGlyphOrder()
    if not set(numerals) <= set(order):  # the glyphs are named after their characters
        sys.exit(f"the figures' subset lacks {sorted(set(numerals) - set(order))}")
    reorderGlyphs(font, numerals + [name for name in order if name not in set(numerals)])
    buffer = io.BytesIO()
    font.save(buffer)
    return buffer.getvalue()


def write_figure_fonts() -> None:
    """Rewrite the figures' committed subsets and the font's license in src/attnbook/data."""
    characters = figure_characters()
    for weight, name in FIGURE_FONTS.items():
        path = FIGURE_FONT_DIR / name
        path.write_bytes(figure_font_bytes(weight))
        print(f"{path.relative_to(ROOT)}: {len(characters)} CJK characters, "
              f"{path.stat().st_size} bytes")
    _copy(NODE / FONT_LICENSE, FIGURE_FONT_DIR / FIGURE_FONT_LICENSE)


def _copy(src: Path, dst: Path) -> None:
    if not src.exists():
        sys.exit(f"missing {src.relative_to(ROOT)}: run `npm ci` first (make book does)")
    dst.parent.mkdir(parents=True, exist_ok=True)
    if src.is_dir():
        shutil.copytree(src, dst, dirs_exist_ok=True)
    else:
        shutil.copy2(src, dst)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--figure-fonts", action="store_true",
                        help="rewrite the figures' font subsets in src/attnbook/data instead")
    if parser.parse_args(argv).figure_fonts:
        write_figure_fonts()
        return
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
    vendor_web_font()
    size = sum(f.stat().st_size for f in OUT.rglob("*") if f.is_file())
    print(f"vendored front-end assets: {size / 2**20:.1f} MiB in {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
