"""The website's front end: pinned, local, and matching the Python packages that make the
widget state."""

from __future__ import annotations

import json
from importlib.metadata import version
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = json.loads((ROOT / "package.json").read_text(encoding="utf-8"))
LOCK = json.loads((ROOT / "package-lock.json").read_text(encoding="utf-8"))
CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
SPHINX = CONFIG["sphinx"]["config"]


def test_front_end_packages_are_pinned_and_locked():
    for name, wanted in PACKAGE["dependencies"].items():
        assert wanted[0].isdigit(), f"{name}: pin an exact version, not {wanted!r}"
        locked = LOCK["packages"][f"node_modules/{name}"]["version"]
        assert locked == wanted, f"{name}: package.json wants {wanted}, the lock has {locked}"


def test_anywidget_front_end_matches_the_python_package():
    """The page runs anywidget's JavaScript from npm against state made by anywidget in Python."""
    assert PACKAGE["dependencies"]["anywidget"] == version("anywidget")


def test_widget_manager_fits_ipywidgets_8():
    assert version("ipywidgets").startswith("8.")
    assert PACKAGE["dependencies"]["@jupyter-widgets/html-manager"].startswith("1.")


def test_pages_load_scripts_from_the_site_not_static_or_a_cdn():
    scripts = list(SPHINX["nb_ipywidgets_js"]) + [SPHINX["mathjax_path"]]
    for src in scripts:
        assert "//" not in src, f"{src} is loaded from another host"
        assert src.startswith("../vendor/"), f"{src} must come from the site's vendor/ folder"
    assert SPHINX["html_extra_path"] == ["_assets"]
    assert "sphinx_thebe" not in SPHINX["extensions"]


def test_requirements_are_all_pinned():
    lines = [
        line.strip()
        for line in (ROOT / "requirements.txt").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    unpinned = [line for line in lines if "==" not in line]
    assert not unpinned, f"unpinned requirements: {unpinned}"
    assert "torch==2.13.0" in lines
    book = next(line for line in lines if line.startswith("jupyter-book=="))
    assert book.split("==")[1].startswith("1."), "the book is built with Jupyter Book 1.x"
