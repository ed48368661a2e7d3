"""Build the book's editions with Jupyter Book's own Sphinx entry point (``make book``).

The English edition (the source) goes to ``_build/html/``, the Chinese one to
``_build/html/zh/`` (built in ``_build/zh/``). Both read the same notebooks and share one
jupyter-cache (``_build/.jupyter_cache``), so the chapters are executed once, by the first
build; the Chinese edition differs only by ``language = "zh_CN"``, which makes Sphinx take
every message of the page from the catalogues in ``locales/zh_CN/LC_MESSAGES/`` (reviewed in
git, updated by ``make translations``).

    python scripts/build_book.py             # both editions
    python scripts/build_book.py en          # one of them
    python scripts/build_book.py gettext     # the message templates, _build/gettext/*.pot

Before building, each chapter executed with today's code (``make execute`` records which) is put
into the cache with its committed outputs, so a build from nothing executes only the chapters
whose code changed since (see :func:`seed_cache`).

The Chinese pages load the same vendored scripts, styles and fonts as the English ones, from
the English site's ``vendor/`` (one copy on the website, not two).
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

from notebook_inputs import inputs_hash

ROOT = Path(__file__).resolve().parents[1]
BUILD = ROOT / "_build"
CACHE = BUILD / ".jupyter_cache"

# Every edition: the same configuration as `jupyter-book build`, one jupyter-cache.
COMMON = {
    "external_toc_path": (ROOT / "_toc.yml").as_posix(),
    "latex_individualpages": False,
    "nb_execution_cache_path": str(CACHE),
}

# The Chinese edition lives in html/zh/, one level below the English site, whose vendor/ it
# uses (attnbook.editions points its pages there and copies no assets of its own).
CHINESE = {
    "language": "zh_CN",
    # Sphinx's Chinese search splits words with jieba (installed from requirements.txt).
    "html_search_language": "zh",
    # Words that come from the configuration, not from a page (so not from the catalogues).
    "html_title": "用代码理解自注意力与 Transformer",
    "nb_code_prompt_show": "显示代码单元",
    "nb_code_prompt_hide": "隐藏代码单元",
}

EDITIONS = {
    # name: (builder, output folder, doctrees folder, overrides)
    "en": ("html", BUILD / "html", BUILD / ".doctrees", {}),
    "zh": ("html", BUILD / "zh" / "html", BUILD / "zh" / ".doctrees", CHINESE),
    "gettext": ("gettext", BUILD / "gettext", BUILD / ".doctrees-gettext", {}),
}
# Where an edition is published, when not where Sphinx builds it. The Chinese edition is built
# in a folder of its own (myst-nb writes its executed notebooks beside the output folder, which
# would put them into the English site) and copied into the English site's zh/.
PUBLISHED = {"zh": BUILD / "html" / "zh"}


def seed_cache() -> None:
    """Put into jupyter-cache each chapter as committed, if it was executed with today's code.

    ``make execute`` records in each notebook the hash of the code its outputs come from
    (scripts/notebook_inputs.py). A notebook whose hash is today's is cached with its committed
    outputs, which strict nbval checks are what the code produces; any other notebook (edited
    cells, or executed with other code) finds no match in the cache and the build executes it.
    """
    import nbformat
    from jupyter_cache import get_cache
    from jupyter_cache.base import CacheBundleIn

    cache = get_cache(CACHE)
    today = inputs_hash()
    for path in sorted((ROOT / "chapters").glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        if nb.metadata.get("attnbook", {}).get("inputs") != today:
            print(f"attnbook: {path.name} was executed with other code; the build runs it")
            continue
        try:
            cache.match_cache_notebook(nb)
        except KeyError:
            cache.cache_notebook_bundle(CacheBundleIn(nb, str(path)), check_validity=False)


def build(edition: str, *, strict: bool = True) -> int:
    """Build one edition (``en``, ``zh``) or the message templates (``gettext``)."""
    from jupyter_book.sphinx import build_sphinx

    builder, outdir, doctrees, overrides = EDITIONS[edition]
    print(f"attnbook: building {edition} into {outdir.relative_to(ROOT)}", flush=True)
    result = build_sphinx(
        ROOT,
        outdir,
        noconfig=True,
        path_config=str(ROOT / "_config.yml"),
        confoverrides={**COMMON, **overrides},
        doctreedir=doctrees,
        builder=builder,
        warningiserror=strict,
        keep_going=strict,
        quiet=True,
    )
    if result:
        print(f"attnbook: the {edition} build failed ({result})", file=sys.stderr)
        return 1
    if edition in PUBLISHED:
        shutil.rmtree(PUBLISHED[edition], ignore_errors=True)
        shutil.copytree(outdir, PUBLISHED[edition])
        print(f"attnbook: {edition} published in {PUBLISHED[edition].relative_to(ROOT)}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("editions", nargs="*", help=f"of {', '.join(EDITIONS)} (default: en zh)")
    args = parser.parse_args(argv)
    unknown = sorted(set(args.editions) - set(EDITIONS))
    if unknown:
        parser.error(f"no edition {', '.join(unknown)}: the editions are {', '.join(EDITIONS)}")
    editions = args.editions or ["en", "zh"]
    if set(editions) & {"en", "zh"}:
        seed_cache()
    for edition in editions:
        if build(edition):
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
