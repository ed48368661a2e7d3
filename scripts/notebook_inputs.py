"""What a chapter's outputs depend on besides its own cells: the package (its code and data:
the trained models, the saved measurements) and the pinned requirements.

``make execute`` (scripts/execute_notebooks.py) records their hash in each notebook it runs
(``metadata.attnbook.inputs``). ``make book`` (scripts/build_book.py) builds the site from a
notebook's committed outputs only while that hash is still today's; a notebook run with other
code is run again by the build (jupyter-cache). That the committed outputs are what the code
produces is what strict nbval checks in ``make test``.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FILES = ["requirements.txt", "requirements-weights.txt", "pyproject.toml"]
FOLDERS = ["src/attnbook"]
SKIPPED_PARTS = {"__pycache__", ".ipynb_checkpoints"}
# Sphinx's extensions: the build runs them, no chapter does.
SKIPPED_FILES = {"src/attnbook/editions.py", "src/attnbook/lazy_images.py"}


def input_files(root: Path = ROOT) -> list[Path]:
    """The files whose contents the hash covers, in a fixed order."""
    found = [root / name for name in FILES]
    for folder in FOLDERS:
        found += [p for p in (root / folder).rglob("*") if p.is_file()
                  and not SKIPPED_PARTS & set(p.parts) and p.suffix != ".pyc"
                  and p.relative_to(root).as_posix() not in SKIPPED_FILES]
    return sorted(found, key=lambda p: p.relative_to(root).as_posix())


def inputs_hash(root: Path = ROOT) -> str:
    """sha256 (first 16 hex digits) over the names and contents of :func:`input_files`."""
    digest = hashlib.sha256()
    for path in input_files(root):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()[:16]


if __name__ == "__main__":
    print(inputs_hash())
