"""The book's two editions, English and Chinese, as a small Sphinx extension.

English is the source; the Chinese edition is the same build with ``language = "zh_CN"``
(``scripts/build_book.py`` builds both, the Chinese one into ``_build/html/zh/``), its text
taken from the gettext catalogues in ``locales/zh_CN/LC_MESSAGES/``. This extension adds what
the catalogues cannot:

- a link on every page to the same page in the other edition (and ``<link rel="alternate"
  hreflang>`` for search engines);
- the Chinese variants of the numbered figures: a chapter draws F1–F19 once, in English
  (``figures.draw("F3")``, whose output strict nbval checks); on a page of another language
  the figure's image is replaced by ``figures/<language>/<id>.svg``, drawn by
  ``attnbook.figures`` in that language (``make figures``);
- the captions of the table of contents' parts, which sphinx-external-toc adds after the
  page's text has been translated;
- glued numbers in translated sentences: Sphinx parses a translated message as a document of
  its own, which lacks the notebook whose outputs ``{glue:text}`` reads; the notebook is lent
  to it, so that a Chinese sentence glues the same measured number as the English one;
- a faster Chinese search index: Sphinx 7.4's Chinese indexer keeps every Latin word of the
  site in one list and searches that list for every word it stems, which made indexing the
  Chinese edition take minutes (its code and printed output are full of Latin words); the
  same indexer with a set takes seconds and gives the same index;
- the alt texts of the notebooks' images in the catalogues: the gettext builder picks the
  same output (the image, not its text/plain stand-in) as the HTML builder, so each alt text
  becomes a message and the Chinese page reads it in Chinese.

Not used by a chapter: Sphinx loads it (``_config.yml``).
"""

from __future__ import annotations

import re
from html import escape
from pathlib import Path
from typing import Any

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.transforms import SphinxTransform
from sphinx.util import logging

logger = logging.getLogger(__name__)

# The editions: the language Sphinx is given, the page's lang attribute, the folder of the
# edition below the site's root, and the switch's label (in the language it leads to).
EDITIONS = {
    "en": {"lang": "en", "folder": "", "label": "English"},
    "zh_CN": {"lang": "zh-CN", "folder": "zh/", "label": "中文"},
}
FIGURE_ID = re.compile(r"fig-f(\d+)$")

__all__ = ["EDITIONS", "FiguresInPageLanguage", "chinese_search_language", "edition_of",
           "other_edition_uri", "setup"]


def edition_of(language: str | None) -> str:
    """The edition a Sphinx `language` builds (``None`` and ``"en"`` are the English one).

    Not used by a chapter: the build's.

    >>> edition_of(None), edition_of("zh_CN")
    ('en', 'zh_CN')
    """
    if not language or language.startswith("en"):
        return "en"
    if language not in EDITIONS:
        raise ValueError(f"language={language!r} is not an edition of the book; "
                         f"the editions are {', '.join(EDITIONS)}")
    return language


def other_edition_uri(pagename: str, language: str | None) -> tuple[str, str]:
    """(edition, relative URL) of `pagename` in the other edition, from the page itself.

    Not used by a chapter: the language switch's link.

    >>> other_edition_uri("chapters/02_self_attention", "en")
    ('zh_CN', '../zh/chapters/02_self_attention.html')
    >>> other_edition_uri("chapters/02_self_attention", "zh_CN")
    ('en', '../../chapters/02_self_attention.html')
    >>> other_edition_uri("intro", "zh_CN")
    ('en', '../intro.html')
    """
    this = edition_of(language)
    other = "zh_CN" if this == "en" else "en"
    to_root = "../" * (pagename.count("/") + EDITIONS[this]["folder"].count("/"))
    return other, f"{to_root}{EDITIONS[other]['folder']}{pagename}.html"


def _add_language_switch(app: Sphinx, pagename: str, templatename: str,
                        context: dict[str, Any], doctree: nodes.document | None) -> None:
    """Put the link to the other edition at the top of every page with a body."""
    if "body" not in context:
        return
    other, uri = other_edition_uri(pagename, app.config.language)
    lang, label = EDITIONS[other]["lang"], EDITIONS[other]["label"]
    context["body"] = (
        f'<nav class="attnbook-language" aria-label="Language / 语言">'
        f'<a href="{escape(uri)}" hreflang="{lang}" lang="{lang}" '
        f'data-testid="language-switch">{label}</a></nav>\n' + context["body"])
    context["metatags"] = context.get("metatags", "") + (
        f'\n<link rel="alternate" hreflang="{lang}" href="{escape(uri)}" />')


class FiguresInPageLanguage(SphinxTransform):
    """On a page of another language, show each numbered figure's variant in that language.

    A chapter's figure ``fig-fN`` is the output of ``figures.draw("FN")``; its variant is
    ``figures/<language>/FN.svg``. Runs while the page is read, so that Sphinx copies the
    variant (and not the English image) into the site. Not used by a chapter.
    """

    default_priority = 900

    def apply(self, **kwargs: Any) -> None:
        edition = edition_of(self.config.language)
        if edition == "en":
            return
        for figure in self.document.findall(nodes.figure):
            match = next(filter(None, (FIGURE_ID.match(i) for i in figure["ids"])), None)
            if match is None:
                continue
            variant = Path("figures") / edition / f"F{match.group(1)}.svg"
            if not (Path(self.env.srcdir) / variant).is_file():
                # A warning, which the book's build (-W) turns into an error.
                logger.warning(f"{variant} is missing (make figures draws it); the page "
                               f"shows {figure['ids'][0]} in English", location=figure)
                continue
            for image in figure.findall(nodes.image):
                # What Sphinx's image collector would record for the file (it may have seen
                # the English image already): the path from the source folder, one candidate.
                image["uri"] = variant.as_posix()
                image["candidates"] = {"*": variant.as_posix()}
                self.env.images.add_file(self.env.docname, variant.as_posix())


def _glue_reads_the_page_notebook() -> None:
    """Let ``{glue:text}`` in a translated message read the page's glued values.

    myst-nb keeps a page's glue data on the page's document only while it parses the notebook;
    Sphinx's Locale transform parses each translation afterwards, as a document of its own.
    The values are also saved, by myst-nb, next to the executed notebook
    (``<docname>.glue.json``): a translation reads them from there.
    """
    from myst_nb.core.variables import VariableOutput
    from myst_nb.ext.glue import directives, roles, utils
    from myst_nb.ext.glue.crossref import read_glue_cache

    original = utils.retrieve_glue_data
    if getattr(original, "attnbook", False):
        return

    def retrieve_glue_data(document: nodes.document, key: str) -> VariableOutput:
        env = getattr(document.settings, "env", None)
        if "nb_renderer" in document or env is None:
            return original(document, key)
        saved = read_glue_cache(str(env.mystnb_config.output_folder), env.docname)
        if key not in saved:
            return original(document, key)  # its error names the key
        return VariableOutput(data=saved[key]["data"], metadata=saved[key].get("metadata", {}),
                              nb_renderer=None, vtype="glue")

    retrieve_glue_data.attnbook = True  # type: ignore[attr-defined]
    for module in (utils, roles, directives):
        if hasattr(module, "retrieve_glue_data"):
            module.retrieve_glue_data = retrieve_glue_data


def _gettext_reads_the_html_outputs(app: Sphinx) -> None:
    """Make the gettext builder select the same notebook outputs as the HTML builder."""
    if app.builder.name != "gettext":
        return
    from myst_nb.core.render import base_render_priority

    html = base_render_priority()["html"]
    app.config.nb_mime_priority_overrides = [
        *app.config.nb_mime_priority_overrides,
        *(("gettext", mime, priority) for mime, priority in html.items()),
    ]


def _use_the_english_sites_assets(app: Sphinx, config: Any) -> None:
    """Point an edition below the English site at the English site's ``vendor/`` folder.

    The pages name the vendored scripts, styles and fonts relative to ``_static/``
    (``../vendor/...``, see ``_config.yml``); an edition in ``zh/`` goes one folder further up,
    and copies no assets of its own (``html_extra_path``): the site holds one copy.
    """
    folder = EDITIONS[edition_of(config.language)]["folder"]
    if not folder:
        return
    up = "../" * folder.count("/")

    def moved(path: str) -> str:
        return path.replace("../vendor/", f"../{up}vendor/", 1) if path.startswith(
            "../vendor/") else path

    config.mathjax_path = moved(config.mathjax_path)
    config.html_css_files = [moved(f) if isinstance(f, str) else (moved(f[0]), *f[1:])
                             for f in config.html_css_files]
    config.nb_ipywidgets_js = {moved(k): v for k, v in config.nb_ipywidgets_js.items()}
    config.html_extra_path = []


def _translate_toctree_captions(app: Sphinx, doctree: nodes.document) -> None:
    """Translate the captions of the table of contents' parts (from ``_toc.yml``).

    sphinx-external-toc adds the toctrees after Sphinx has translated the page, so their
    captions, which the gettext builder does find, would stay in English.
    """
    if edition_of(app.config.language) == "en":
        return
    from sphinx import addnodes
    from sphinx.locale import init as init_locale
    from sphinx.util.i18n import docname_to_domain

    dirs = [str(Path(app.srcdir) / d) for d in app.config.locale_dirs]
    domain = docname_to_domain(app.env.docname, app.config.gettext_compact)
    catalog, found = init_locale(dirs, app.config.language, domain)
    if not found:
        return
    for toctree in doctree.findall(addnodes.toctree):
        if toctree.get("caption"):
            toctree["caption"] = catalog.gettext(toctree["caption"])


class _Terms(set):
    """A set with list's ``extend``, all that Sphinx's Chinese indexer asks of its terms."""

    def extend(self, items: Any) -> None:
        self.update(items)


def chinese_search_language() -> type:
    """Sphinx's Chinese search language (jieba splits the words), with its terms in a set.

    Not used by a chapter: the Chinese site's search index.
    """
    from sphinx.search.zh import SearchChinese

    class FastSearchChinese(SearchChinese):
        def init(self, options: dict[str, str]) -> None:
            super().init(options)
            self.latin_terms = _Terms()  # one per build, not one list shared by every build

    return FastSearchChinese


def setup(app: Sphinx) -> dict[str, Any]:
    """Register the extension with Sphinx. Not used by a chapter: ``_config.yml`` names it."""
    app.add_search_language(chinese_search_language())
    app.connect("config-inited", _use_the_english_sites_assets)
    app.connect("builder-inited", _gettext_reads_the_html_outputs)
    app.connect("html-page-context", _add_language_switch)
    app.connect("doctree-read", _translate_toctree_captions)
    app.add_transform(FiguresInPageLanguage)
    _glue_reads_the_page_notebook()
    return {"parallel_read_safe": True, "parallel_write_safe": True}
