"""The registry of the numbered figures F1–F19, and how they are drawn, saved and written out.

A figure function takes one argument, ``language`` ("en", the default, or "zh_CN": see
:mod:`attnbook.figures.language`), and returns a `matplotlib.figure.Figure`; the
:func:`figure` decorator registers it in :data:`FIGURES` under its id, with its alt text and
caption from ``captions.toml`` (prose, kept beside the code as data). The part modules
(``basics``, ``matrices``, ...) register their figures when ``attnbook/figures/__init__.py``
imports them; :data:`FIGURES` stays in the book's order (F1, F2, ..., F19) whatever the order
of the imports. The English figures are written to ``figures/<id>.svg``, those of another
language to ``figures/<language>/<id>.svg`` (what the Chinese edition shows).
"""

from __future__ import annotations

import argparse
import io
import re
import tomllib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

from matplotlib.figure import Figure

from attnbook.figures.language import LANGUAGES, check_language
from attnbook.figures.style import style_context

__all__ = ["FIGURES", "FigureSpec", "draw", "figure", "main", "save_all", "svg_bytes", "svg_path"]


@dataclass(frozen=True)
class FigureSpec:
    """One registered figure: its id, alt text, caption and the function that draws it.

    Used in chapter 3 by `draw` (every figure of the book is one).
    """

    id: str
    alt: str
    caption: str
    function: Callable[[str], Figure]

    @property
    def chapter(self) -> int | None:
        """The chapter that shows the figure first, read from the function's docstring
        ("Introduced in chapter N" or "Used in chapter N by `draw`")."""
        found = re.search(r"(?:Introduced|Used) in chapter (\d+)", self.function.__doc__ or "")
        return int(found.group(1)) if found else None

    def draw(self, language: str = "en") -> Figure:
        """A new Figure, drawn in the book's style, its words in `language`."""
        check_language(language)
        with style_context():
            return self.function(language)


FIGURES: dict[str, FigureSpec] = {}
"""Every figure of the book by id, in the order the book introduces them."""

_ID = re.compile(r"F[1-9][0-9]*")


CAPTIONS: dict[str, dict[str, str]] = tomllib.loads(
    files("attnbook.figures").joinpath("captions.toml").read_text(encoding="utf-8"))
"""The alt text and caption of every figure, by id (``captions.toml``)."""


def figure(fig_id: str) -> Callable:
    """Register the decorated function in `FIGURES` as figure `fig_id`.

    Used in chapter 1 by `f1_output_types` (the first figure it registers). The alt text (what
    a screen reader says: what the figure shows, in one to three sentences) and the caption
    (printed under the figure) come from ``captions.toml``.
    """
    if not _ID.fullmatch(fig_id):
        raise ValueError(f"figure id must look like 'F7', not {fig_id!r}")
    text = CAPTIONS.get(fig_id, {})
    alt, caption = text.get("alt", ""), text.get("caption", "")
    if not alt.strip() or not caption.strip():
        raise ValueError(f"figure {fig_id} needs a non-empty alt text and caption in "
                         "attnbook/figures/captions.toml")

    def register(function: Callable[[str], Figure]) -> Callable[[str], Figure]:
        if fig_id in FIGURES:
            raise ValueError(f"figure {fig_id} is registered twice")
        FIGURES[fig_id] = FigureSpec(fig_id, alt.strip(), caption.strip(), function)
        # Keep the book's order (F1, F2, ..., F10) whichever part module is imported first.
        ordered = sorted(FIGURES.items(), key=lambda item: int(item[0][1:]))
        FIGURES.clear()
        FIGURES.update(ordered)
        return function

    return register


def _spec(fig_id: str) -> FigureSpec:
    try:
        return FIGURES[fig_id]
    except KeyError:
        raise KeyError(f"no figure {fig_id!r}; the figures are {', '.join(FIGURES)}") from None


def draw(fig_id: str, language: str = "en") -> Figure:
    """Figure `fig_id` (e.g. "F6"), drawn anew. As a cell's last line it shows one image.

    Introduced in chapter 3. `language` is the language of every word the figure draws: "en"
    (the default, the chapters' figures) or "zh_CN" (Simplified Chinese, the Chinese
    edition's); notation and numbers are the same in both.
    """
    return _spec(fig_id).draw(language)


def svg_bytes(fig_id: str, language: str = "en") -> bytes:
    """Figure `fig_id` as SVG, its words in `language` ("en" or "zh_CN", as :func:`draw`): the
    same bytes on every run (no date, fixed ids), text as glyph outlines (no font needed).

    Not used by a chapter: ``make figures`` writes these bytes (:func:`save_all`), and the tests
    compare them with the committed ``figures/<id>.svg`` and ``figures/zh_CN/<id>.svg``.
    """
    spec = _spec(fig_id)
    check_language(language)
    buffer = io.BytesIO()
    with style_context():
        fig = spec.function(language)
        fig.savefig(
            buffer,
            format="svg",
            metadata={"Date": None, "Creator": None},
            bbox_inches="tight",
            pad_inches=0.1,
        )
    return buffer.getvalue()


def svg_path(directory: str | Path, fig_id: str, language: str = "en") -> Path:
    """Where figure `fig_id` in `language` is written below `directory` (the ``figures``
    folder): ``<directory>/<id>.svg`` in English, ``<directory>/<language>/<id>.svg`` else.

    Not used by a chapter: ``make figures`` writes there (:func:`save_all`).

    >>> svg_path("figures", "F3").as_posix(), svg_path("figures", "F3", "zh_CN").as_posix()
    ('figures/F3.svg', 'figures/zh_CN/F3.svg')
    """
    directory = Path(directory)
    if check_language(language) != "en":
        directory = directory / language
    return directory / f"{fig_id}.svg"


def save_all(directory: str | Path = "figures", ids: Iterable[str] | None = None,
             language: str = "en") -> list[Path]:
    """Write every figure (or those in `ids`), its words in `language`, to
    :func:`svg_path` below `directory`: ``<directory>/<id>.svg`` for "en" (the default),
    ``<directory>/zh_CN/<id>.svg`` for "zh_CN"; return the paths.

    Not used by a chapter: ``make figures`` runs it (through :func:`main`). Two runs write
    identical files.
    """
    paths = []
    for fig_id in FIGURES if ids is None else ids:
        path = svg_path(directory, fig_id, language)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(svg_bytes(fig_id, language))
        paths.append(path)
    return paths


def main(argv: list[str] | None = None) -> None:
    """``python -m attnbook.figures [--out DIR] [--language LANG] [IDS]``: write the figures
    as SVG, in every language (``DIR/<id>.svg``, ``DIR/zh_CN/<id>.svg``) or in LANG only;
    print the paths.

    Not used by a chapter: ``make figures`` runs it.
    """
    parser = argparse.ArgumentParser(prog="python -m attnbook.figures",
                                     description="Write the book's figures as SVG files.")
    parser.add_argument("--out", default="figures",
                        help="directory for <id>.svg and <language>/<id>.svg (figures)")
    parser.add_argument("--language", choices=LANGUAGES, action="append",
                        help="only this language (repeatable; default: every language, "
                             f"{', '.join(LANGUAGES)})")
    parser.add_argument("ids", nargs="*", help="only these figures (default: all)")
    args = parser.parse_args(argv)
    for language in args.language or LANGUAGES:
        for path in save_all(args.out, args.ids or None, language):
            print(path)
