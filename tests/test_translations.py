"""The Chinese edition's catalogues (locales/zh_CN/LC_MESSAGES/*.po): complete, and faithful to
the English source in everything that is not prose.

A translation may reword freely, but the MyST markup inside a message (roles and their
targets, math, inline code, links), its numbers and the glossary's terms must come through:
otherwise a reference breaks, a measured number changes between the editions, or one concept
gets two names. Whether each translated message reaches its page is checked on the built site
(tests/test_site_zh.py).
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

babel_pofile = pytest.importorskip("babel.messages.pofile")

ROOT = Path(__file__).resolve().parents[1]
CATALOGUES = ROOT / "locales" / "zh_CN" / "LC_MESSAGES"
CJK = re.compile(r"[\u3400-\u9fff]")
ROLE = re.compile(r"\{([a-z:]+)\}`([^`]*)`")
MATH = re.compile(r"\$\$.+?\$\$|\$[^$]+\$")
CODE = re.compile(r"(?<![}`])``?[^`]+``?")
LINK_TARGET = re.compile(r"\]\(([^)]+)\)")
# Roles whose content is a reference (kept verbatim) rather than text shown to the reader.
REFERENCE_ROLES = {"cite", "cite:p", "cite:t", "numref", "ref", "doc", "eq", "glue", "glue:text",
                   "glue:any", "glue:md", "download", "func", "class", "mod", "meth"}


def _catalogues() -> list[Path]:
    return sorted(CATALOGUES.rglob("*.po"))


def _messages(po: Path):
    with po.open("rb") as handle:
        catalog = babel_pofile.read_po(handle)
    return [m for m in catalog if m.id]


def _all_messages():
    return [(po, m) for po in _catalogues() for m in _messages(po)]


def _page_of(po: Path) -> Path | None:
    stem = po.relative_to(CATALOGUES).with_suffix("")
    for suffix in (".ipynb", ".md"):
        if (ROOT / stem).with_suffix(suffix).exists():
            return (ROOT / stem).with_suffix(suffix)
    return None


def _targets(text: str) -> Counter:
    """The roles of `text` with what they point at (a term's target, not its shown text)."""
    found = Counter()
    for role, content in ROLE.findall(text):
        if role == "term":
            match = re.search(r"<([^>]+)>\s*$", content)
            found[("term", (match.group(1) if match else content).strip().lower())] += 1
        elif role in REFERENCE_ROLES:
            found[(role, content.strip())] += 1
        else:
            found[(role, "")] += 1
    return found


def _without_markup(text: str) -> str:
    text = ROLE.sub(lambda m: " " if m.group(1) in REFERENCE_ROLES else f" {m.group(2)} ", text)
    text = MATH.sub(" ", text)
    text = CODE.sub(" ", text)
    return LINK_TARGET.sub("]", text)


def glossary_terms() -> dict[str, list[str]]:
    """English term -> its Chinese terms (the book's first, then those the entry also allows).

    From glossary.md: an entry whose definition starts with Chinese gives its term before the
    first full stop, parenthesis or comma; "(the notes write X)" and "(also X)" add X.
    """
    source = (ROOT / "glossary.md").read_text(encoding="utf-8")
    body = source.split("```{glossary}")[1].split("```")[0]
    terms = {}
    for english, definition in re.findall(r"^(\S[^\n]*)\n((?:  [^\n]*\n?)+)", body, re.M):
        definition = " ".join(definition.split())
        head = re.split(r"\. | \(|, ", definition, maxsplit=1)[0]
        if not CJK.search(head):
            continue
        allowed = [head.strip()]
        allowed += re.findall(r"\((?:the notes write|also) ([^)\s]+)\)", definition)
        terms[english.strip()] = allowed
    return terms


def test_there_is_a_catalogue_for_every_page():
    pages = [p for p in _catalogues() if _page_of(p) is None]
    assert not pages, f"catalogues without a page (run make translations): {pages}"
    chapters = sorted((ROOT / "chapters").glob("*.ipynb"))
    missing = [c.name for c in chapters
               if not (CATALOGUES / "chapters" / c.with_suffix(".po").name).exists()]
    assert not missing, f"chapters without a catalogue (run make translations): {missing}"


def test_every_message_is_translated_and_none_is_fuzzy():
    problems = [f"{po.relative_to(ROOT)}:{m.lineno}: "
                f"{'fuzzy' if m.fuzzy else 'empty'}: {str(m.id)[:60]}"
                for po, m in _all_messages() if m.fuzzy or not m.string]
    assert not problems, f"{len(problems)} to translate (make translations lists them):\n" + \
        "\n".join(problems[:40])


def test_catalogue_headers_are_not_fuzzy():
    for po in _catalogues():
        with po.open("rb") as handle:
            assert not babel_pofile.read_po(handle).fuzzy, po


def _words(text: str) -> list[str]:
    """The English words of a message, outside markup and LaTeX commands."""
    return re.findall(r"[A-Za-z]{3,}", re.sub(r"\\[A-Za-z]+", " ", _without_markup(text)))


def test_translations_are_chinese():
    """A message with English words to translate comes out with Chinese in it (a message of
    formulas alone, e.g. a display-math paragraph, may stay as it is)."""
    untranslated = [f"{po.relative_to(ROOT)}:{m.lineno}: {m.string[:60]}"
                    for po, m in _all_messages() if m.string and len(_words(m.id)) >= 3
                    and not CJK.search(m.string)]
    assert not untranslated, "\n".join(untranslated)


def test_roles_math_code_and_links_come_through():
    problems = []
    for po, m in _all_messages():
        if not m.string:
            continue
        where = f"{po.relative_to(ROOT)}:{m.lineno}"
        if _targets(m.id) != _targets(m.string):
            diff = (_targets(m.id) - _targets(m.string)) + (_targets(m.string) - _targets(m.id))
            problems.append(f"{where}: roles differ: {dict(diff)}")
        # (Roles are taken out first: their backticks are not inline code.)
        source, translation = ROLE.sub(" ", m.id), ROLE.sub(" ", m.string)
        for name, pattern in (("math", MATH), ("code", CODE), ("link", LINK_TARGET)):
            if Counter(pattern.findall(source)) != Counter(pattern.findall(translation)):
                problems.append(f"{where}: {name} differs")
    assert not problems, "\n".join(problems)


def test_numbers_come_through():
    """Every number of the English message is in its translation (digits, as written)."""
    problems = []
    for po, m in _all_messages():
        if not m.string:
            continue
        numbers = Counter(re.findall(r"\d+(?:[.,]\d+)*", _without_markup(m.id)))
        have = Counter(re.findall(r"\d+(?:[.,]\d+)*", _without_markup(m.string)))
        missing = numbers - have
        if missing:
            problems.append(f"{po.relative_to(ROOT)}:{m.lineno}: {sorted(missing)}")
    assert not problems, "numbers missing from translations:\n" + "\n".join(problems)


def test_no_translation_starts_a_list_or_heading_by_accident():
    """A translation that starts with "2. " is parsed as a list and silently dropped."""
    problems = [f"{po.relative_to(ROOT)}:{m.lineno}: {m.string[:40]}"
                for po, m in _all_messages() if m.string
                and re.match(r"(\d+[.)]|[-*+>#])\s", m.string)
                and not re.match(r"(\d+[.)]|[-*+>#])\s", m.id)]
    assert not problems, "escape the start (2\\. ...):\n" + "\n".join(problems)


def test_glossary_terms_are_translated_consistently():
    """Where a page uses a glossary term in English, its translation uses the term's Chinese."""
    terms = glossary_terms()
    assert len(terms) > 40  # the glossary's own format is still what this test reads
    problems = []
    for po, m in _all_messages():
        if not m.string or po.stem == "glossary":
            continue
        english = _without_markup(m.id).lower()
        for term, allowed in terms.items():
            pattern = r"\b" + re.escape(term.lower()).replace(r"\ ", r"[\s-]") + r"(?:s|es)?\b"
            if re.search(pattern, english) and not any(a in m.string for a in allowed):
                problems.append(f"{po.relative_to(ROOT)}:{m.lineno}: {term} -> {allowed[0]}")
    assert not problems, "glossary terms translated otherwise:\n" + "\n".join(problems)


def test_glossary_terms_are_read_from_the_glossary():
    terms = glossary_terms()
    assert terms["self-attention"] == ["自注意力"]
    assert terms["layer normalization"][0] == "层归一化"
    assert "矢量化" in terms["vectorization"]
