"""The views' own words in both editions: every text a view passes to ``localize()``
(src/attnbook/widgets/shared.js) has its Chinese in the table ``WORDS.zh``, with the same
named values, and the table holds no word that no view uses. The pages' language itself is
checked in the browser (tests/test_browser.py)."""

from __future__ import annotations

import re
from pathlib import Path

WIDGETS = Path(__file__).resolve().parents[1] / "src" / "attnbook" / "widgets"
STRING = r'"((?:[^"\\]|\\.)*)"'  # a JS string literal; its text is the group
LITERAL = r'"(?:[^"\\]|\\.)*"'  # the same, with no group


def localized_texts() -> dict[str, str]:
    """Every literal text passed to localize() in the views' front ends -> its file."""
    found = {}
    for path in sorted(WIDGETS.glob("*.js")):
        source = path.read_text(encoding="utf-8")
        for call in re.finditer(r"localize\(((?:\s*" + LITERAL + r"\s*\+?)+)", source):
            found["".join(re.findall(STRING, call.group(1)))] = path.name
    return found


def chinese_words() -> dict[str, str]:
    source = (WIDGETS / "shared.js").read_text(encoding="utf-8")
    table = source.split("  zh: {", 1)[1].split("\n  },\n};", 1)[0]
    words = {}
    for english, chinese in re.findall(r"^    ((?:" + LITERAL + r"\s*)+):\s*((?:" + LITERAL
                                       + r"\s*)+),$", table, re.M | re.S):
        words["".join(re.findall(STRING, english))] = "".join(re.findall(STRING, chinese))
    return words


def test_every_localized_text_has_its_chinese():
    texts, words = localized_texts(), chinese_words()
    assert len(texts) > 50  # the views' texts are still found
    missing = sorted(f"{where}: {text!r}" for text, where in texts.items() if text not in words)
    assert not missing, "add to WORDS.zh in shared.js:\n" + "\n".join(missing)
    unused = sorted(set(words) - set(texts))
    assert not unused, f"words no view uses: {unused}"


def test_translations_keep_the_named_values():
    for english, chinese in chinese_words().items():
        assert sorted(re.findall(r"\{\w+\}", english)) == \
            sorted(re.findall(r"\{\w+\}", chinese)), english
        assert re.search(r"[\u4e00-\u9fff]", chinese) or not re.search(r"[a-z]{3}", english), \
            f"not Chinese: {chinese!r}"


def test_no_view_builds_english_text_outside_localize():
    """Sentences for the reader go through localize(): no English template text is left."""
    for path in sorted(WIDGETS.glob("*.js")):
        source = path.read_text(encoding="utf-8")
        for line in source.splitlines():
            code = line.split("//", 1)[0]
            if re.search(r"class|style|font|rgb|translate\(|new Error\(", code):
                continue  # CSS and SVG attributes; internal errors (for a bug report)
            for template in re.findall(r"`([^`]*)`", code):
                text = re.sub(r"\$\{[^}]*\}", " ", template)
                assert not re.search(r"[A-Za-z]{3,} [a-z]{2,}", text), \
                    f"{path.name}: {line.strip()}"
