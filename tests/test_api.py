"""The package's public API is documented: every public name says which chapter introduces it,
that chapter really uses it, and the API reference page (api.md) includes every module."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
from pathlib import Path

import nbformat
import pytest

import attnbook

ROOT = Path(__file__).resolve().parent.parent
MODULES = sorted(
    m.name for m in pkgutil.walk_packages(attnbook.__path__, "attnbook.")
    if not m.name.split(".")[-1].startswith("_") and m.name != "attnbook.__main__"
)
# "Introduced in chapter 4." / "Introduced in chapters 10 and 11.": the first chapter named
# uses the name itself. "Used in chapter 9 by `encoder_trace`.": machinery that no chapter
# calls by name, reached from a name that the chapter does use.
INTRODUCED = re.compile(r"Introduced in chapters? (\d+)")
USED_BY = re.compile(r"Used in chapters? (\d+)[^`]* by :?[\w:]*`~?([\w.]+)(?:\(\))?`")
# "Not used by a chapter: ...": tools for the book's maintainers (`make figures`, benchmarks).
NOT_USED = re.compile(r"Not used by a chapter")
CHAPTER = re.compile(f"{INTRODUCED.pattern}|{USED_BY.pattern}|{NOT_USED.pattern}")


def _chapter_text() -> dict[int, str]:
    """Each chapter's code: its code cells and the `code spans` of its prose."""
    text = {}
    for path in sorted((ROOT / "chapters").glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        code = [c.source for c in nb.cells if c.cell_type == "code"]
        spans = [m for c in nb.cells if c.cell_type == "markdown"
                 for m in re.findall(r"`([^`\n]+)`", c.source)]
        text[int(path.name[:2])] = "\n".join(code + spans)
    return text


CHAPTER_TEXT = _chapter_text()


def uses(chapter: int, name: str) -> bool:
    """Whether the chapter's code (cells or prose's code spans) names `name` as a whole word
    (a bare name, or a dotted one such as `figures.main`)."""
    word = re.compile(rf"(?<![\w.]){re.escape(name)}(?!\w)" if "." in name
                      else rf"(?<!\w){re.escape(name)}(?!\w)")
    return word.search(CHAPTER_TEXT.get(chapter, "")) is not None


def public_names(module) -> list[str]:
    names = getattr(module, "__all__", None)
    if names is None:
        names = [n for n, v in vars(module).items() if not n.startswith("_")
                 and (inspect.isfunction(v) or inspect.isclass(v))
                 and v.__module__ == module.__name__]
    return list(names)


@pytest.mark.parametrize("name", MODULES)
def test_every_public_name_names_its_chapter(name):
    module = importlib.import_module(name)
    missing = []
    for public in public_names(module):
        obj = getattr(module, public)
        if not (inspect.isfunction(obj) or inspect.isclass(obj)):
            continue  # constants are described where they are defined
        if obj.__module__ != module.__name__:
            continue  # re-exported: checked in the module that defines it
        if not CHAPTER.search(inspect.getdoc(obj) or ""):
            missing.append(public)
    assert not missing, (f"{name}: docstrings that say neither 'Introduced in chapter N', "
                         f"'Used in chapter N by `name`' nor 'Not used by a chapter': {missing}")


def defined_names(name: str):
    module = importlib.import_module(name)
    for public in public_names(module):
        obj = getattr(module, public)
        if (inspect.isfunction(obj) or inspect.isclass(obj)) and obj.__module__ == module.__name__:
            yield public, inspect.getdoc(obj) or ""


@pytest.mark.parametrize("name", MODULES)
def test_the_chapter_named_really_uses_the_name(name):
    """A reader who follows "Introduced in chapter N" finds the name in chapter N."""
    wrong = []
    for public, doc in defined_names(name):
        if m := INTRODUCED.search(doc):
            chapter = int(m.group(1))
            if not uses(chapter, public):
                found = [c for c in CHAPTER_TEXT if uses(c, public)]
                wrong.append(f"{public}: says chapter {chapter}, named in chapters {found}")
        elif m := USED_BY.search(doc):
            chapter, user = int(m.group(1)), m.group(2)
            if not uses(chapter, user.split(".")[-1]):
                wrong.append(f"{public}: says chapter {chapter} uses {user}, it does not")
        elif NOT_USED.search(doc) and (found := [c for c in CHAPTER_TEXT if any(
                uses(c, f"{part}.{public}") for part in name.split("."))]):
            wrong.append(f"{public}: says no chapter uses it, chapters {found} do")
    assert not wrong, f"{name}: " + "; ".join(wrong)


def test_the_api_page_documents_every_module():
    page = (ROOT / "api.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"```\{automodule\} (\S+)", page))
    modules = {m for m in MODULES if not m.startswith(
        ("attnbook.figures.", "attnbook.widgets.", "attnbook.check."))} | {"attnbook.figures.plots"}
    # (the figures' parts, the views and the checkers by part are documented through their
    # packages; the measurement plots have a section of their own)
    assert modules - documented == set(), "api.md lacks these modules"
