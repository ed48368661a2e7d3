"""The package's public API is documented: every public name says which chapter introduces it,
and the API reference page (api.md) includes every module."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
from pathlib import Path

import pytest

import attnbook

ROOT = Path(__file__).resolve().parent.parent
MODULES = sorted(
    m.name for m in pkgutil.walk_packages(attnbook.__path__, "attnbook.")
    if not m.name.split(".")[-1].startswith("_") and m.name != "attnbook.__main__"
)
CHAPTER = re.compile(r"Introduced in chapters? \d+")


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
    assert not missing, f"{name}: docstrings that do not say 'Introduced in chapter N': {missing}"


def test_the_api_page_documents_every_module():
    page = (ROOT / "api.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"```\{automodule\} (\S+)", page))
    modules = {m for m in MODULES if not m.startswith(("attnbook.figures_", "attnbook.widgets."))}
    # (the figure modules and the views are documented through attnbook.figures and .widgets)
    assert modules - documented == set(), "api.md lacks these modules"
