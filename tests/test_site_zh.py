"""The Chinese edition as built (``make book`` → ``_build/html/zh/``), read from its files.

Every translated message reaches its page (a translation that Markdown reads as something else,
such as "2. " starting a list, is dropped without a warning); every chapter's prose is
Chinese; the two editions link to each other page by page; the numbered figures are their
Chinese variants; the search index splits Chinese words. The pages in a browser (views,
offline, contrast) are checked by tests/test_browser.py, for both editions.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from test_translations import CATALOGUES, CJK, ROLE, _messages

bs4 = pytest.importorskip("bs4")

pytestmark = pytest.mark.browser  # needs the built site, like the browser tests

ROOT = Path(__file__).resolve().parents[1]
SITE = ROOT / "_build" / "html"
ZH = SITE / "zh"
CHAPTERS = sorted((ROOT / "chapters").glob("*.ipynb"))
CJK_RUN = re.compile(r"[\u3400-\u9fff\u3000-\u303f\uff00-\uffef]{2,}")


@pytest.fixture(scope="module", autouse=True)
def built() -> None:
    if not (ZH / "intro.html").exists():
        pytest.fail("no Chinese edition in _build/html/zh: run make book first")


def _soup(path: Path):
    return bs4.BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")


def _page_text(path: Path) -> str:
    soup = _soup(path)
    alts = " ".join(img.get("alt", "") for img in soup.find_all("img"))
    return re.sub(r"\s+", "", soup.get_text(" ") + alts)


def _shown(msgstr: str) -> str:
    """The text a reader sees of a message: roles by their shown text, no math or markup."""
    def role(match: re.Match) -> str:
        name, content = match.groups()
        if name == "term":
            return re.sub(r"\s*<[^>]+>\s*$", "", content)
        return " "
    text = ROLE.sub(role, msgstr)
    text = re.sub(r"\$[^$]+\$", " ", text)
    text = re.sub(r"\]\([^)]+\)", "]", text)
    return re.sub(r"[*_`\\\[\]]", "", text)


def _pages():
    for po in sorted(CATALOGUES.rglob("*.po")):
        yield po, ZH / po.relative_to(CATALOGUES).with_suffix(".html")


def test_every_translated_message_reaches_its_page():
    missing = []
    for po, page in _pages():
        assert page.exists(), f"{page} was not built"
        text = _page_text(page)
        for message in _messages(po):
            runs = CJK_RUN.findall(_shown(message.string or ""))
            if not runs:
                continue
            probe = max(runs, key=len)
            if probe not in text:
                missing.append(f"{po.relative_to(ROOT)}:{message.lineno}: {probe!r} is not on "
                               f"{page.relative_to(SITE)}")
    assert not missing, f"{len(missing)} translations never reach their page:\n" + \
        "\n".join(missing[:40])


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.stem)
def test_the_chapters_prose_is_chinese(chapter: Path):
    soup = _soup(ZH / "chapters" / f"{chapter.stem}.html")
    assert soup.html.get("lang") == "zh-CN"
    article = soup.select_one("article") or soup
    for skipped in article.select(".cell_output, pre, code, .math, .bibliography, "
                                  "script, style, .attnbook-language"):
        skipped.decompose()
    english = []
    for block in article.select("p, li, h1, h2, h3, h4, figcaption, dt, dd, th, td"):
        text = block.get_text(" ", strip=True)
        if len(re.findall(r"\b[A-Za-z]{3,}\b", text)) >= 4 and not CJK.search(text):
            english.append(text[:80])
    assert not english, f"English prose on the Chinese page of {chapter.stem}:\n" + \
        "\n".join(english)


@pytest.mark.parametrize("page", ["intro", "glossary", "bibliography", "api",
                                  *[f"chapters/{c.stem}" for c in CHAPTERS]])
def test_each_page_links_to_itself_in_the_other_edition(page: str):
    en, zh = SITE / f"{page}.html", ZH / f"{page}.html"
    for here, there, lang in ((en, zh, "zh-CN"), (zh, en, "en")):
        soup = _soup(here)
        link = soup.select_one('[data-testid="language-switch"]')
        assert link is not None, f"{here} has no language switch"
        assert link["hreflang"] == lang
        assert (here.parent / link["href"]).resolve() == there.resolve()
    assert _soup(zh).html.get("lang") == "zh-CN"
    assert _soup(en).html.get("lang") == "en"


def test_the_numbered_figures_are_drawn_in_chinese():
    shown = {}
    for chapter in CHAPTERS:
        page = ZH / "chapters" / f"{chapter.stem}.html"
        for figure in _soup(page).select("figure[id^=fig-f]"):
            match = re.fullmatch(r"fig-f(\d+)", figure["id"])
            if match:
                img = figure.find("img")
                shown[f"F{match.group(1)}"] = (page.parent / img["src"]).resolve()
                assert CJK.search(img.get("alt", "")), f"{figure['id']}: alt text not Chinese"
    assert sorted(shown, key=lambda f: int(f[1:])) == [f"F{i}" for i in range(1, 20)]
    for fig_id, path in shown.items():
        assert path.read_bytes() == (ROOT / "figures" / "zh_CN" / f"{fig_id}.svg").read_bytes()


def test_the_chinese_search_index_splits_words():
    text = (ZH / "searchindex.js").read_text(encoding="utf-8")
    index = json.loads(text[text.index("(") + 1:text.rindex(")")])
    terms = index["terms"]
    # jieba cuts a sentence into words; without it Chinese text is indexed in whole runs.
    for word in ("注意力", "解码器", "编码器"):
        assert word in terms, f"{word} is not a search term of the Chinese edition"
