"""Update the Chinese edition's catalogues after an English edit (``make translations``).

1. ``sphinx-build -b gettext`` (scripts/build_book.py gettext) extracts every message of every
   page into ``_build/gettext/<page>.pot``, from the same notebooks and executions as the site.
2. The API reference's entries generated from the package's docstrings are dropped: the
   docstrings are code, and stay in English in both editions like the code and its printed
   output. The page's own text (api.md) is translated.
3. ``sphinx-intl update`` merges the templates into ``locales/zh_CN/LC_MESSAGES/<page>.po``:
   new messages arrive empty, changed ones arrive marked fuzzy with their old translation.
4. Every entry still to translate (empty or fuzzy) is listed, by file and line; the command
   fails while there is one, as does the test suite (tests/test_translations.py).

    python scripts/translations.py           # extract, merge, list
    python scripts/translations.py --check   # only list (no extraction)
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
POT = ROOT / "_build" / "gettext"
LOCALES = ROOT / "locales"
LANGUAGE = "zh_CN"
CATALOGUES = LOCALES / LANGUAGE / "LC_MESSAGES"


def _normalise(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def drop_docstrings(pot: Path, source: Path) -> int:
    """Keep in `pot` only the messages written in `source` (api.md); return how many went."""
    from babel.messages.pofile import read_po, write_po

    text = _normalise(source.read_text(encoding="utf-8"))
    with pot.open("rb") as handle:
        catalog = read_po(handle)
    dropped = [m.id for m in catalog if m.id and _normalise(str(m.id)) not in text]
    for message_id in dropped:
        del catalog[message_id]
    with pot.open("wb") as handle:
        write_po(handle, catalog, width=0)
    return len(dropped)


def tidy_headers() -> None:
    """Give every catalogue a real header: the project, the language, not fuzzy."""
    from babel.messages.pofile import read_po, write_po

    for po in sorted(CATALOGUES.rglob("*.po")):
        with po.open("rb") as handle:
            catalog = read_po(handle, locale=LANGUAGE)
        if not catalog.fuzzy and catalog.project == "attnbook":
            continue
        catalog.fuzzy = False
        catalog.project = "attnbook"
        catalog.version = ""
        catalog.language_team = "attnbook <https://github.com/attnbook/attention-book>"
        catalog.last_translator = "attnbook"
        with po.open("wb") as handle:
            write_po(handle, catalog, width=0)


def to_translate() -> list[str]:
    """Every entry of the catalogues that is empty or fuzzy, as ``file:line: msgid``."""
    from babel.messages.pofile import read_po

    problems = []
    for po in sorted(CATALOGUES.rglob("*.po")):
        with po.open("rb") as handle:
            catalog = read_po(handle)
        for message in catalog:
            if not message.id:
                continue
            state = "fuzzy" if message.fuzzy else "empty" if not message.string else None
            if state:
                line = message.lineno or 0
                problems.append(f"{po.relative_to(ROOT)}:{line}: {state}: "
                                f"{_normalise(str(message.id))[:70]}")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="only list what to translate")
    args = parser.parse_args(argv)
    if not args.check:
        subprocess.run([sys.executable, str(ROOT / "scripts" / "build_book.py"), "gettext"],
                       check=True)
        dropped = drop_docstrings(POT / "api.pot", ROOT / "api.md")
        print(f"api.pot: {dropped} messages from the docstrings left in English")
        subprocess.run([str(Path(sys.executable).with_name("sphinx-intl")), "update",
                        "-p", str(POT), "-d", str(LOCALES), "-l", LANGUAGE, "-w", "0"],
                       check=True)
        tidy_headers()
    problems = to_translate()
    for problem in problems:
        print(problem)
    print(f"{len(problems)} entries to translate in {CATALOGUES.relative_to(ROOT)}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
