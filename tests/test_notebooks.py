"""Structure of the chapters: what every chapter promises a reader, checked on the .ipynb files.

(Whether their outputs are what the code produces now is strict nbval's job: `make test`.)
"""

from __future__ import annotations

import importlib.util
import json
import re
import unicodedata
from pathlib import Path

import nbformat
import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
CHAPTERS = sorted((ROOT / "chapters").glob("*.ipynb"))
CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
TOC = (ROOT / "_toc.yml").read_text(encoding="utf-8")


def chapter_id(path: Path) -> str:
    return path.stem


def markdown(nb) -> str:
    return "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")


def _execute_module():
    spec = importlib.util.spec_from_file_location(
        "execute_notebooks", ROOT / "scripts" / "execute_notebooks.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(params=CHAPTERS, ids=chapter_id)
def chapter(request):
    return request.param, nbformat.read(request.param, as_version=4)


def test_there_are_chapters():
    assert CHAPTERS, "no notebooks in chapters/"


def test_every_chapter_is_in_the_table_of_contents():
    for path in CHAPTERS:
        assert f"chapters/{path.stem}" in TOC, f"{path.name} is not in _toc.yml"


def test_first_cell_installs_attnbook_on_colab(chapter):
    """The install cell is hidden on the website and names the repository of _config.yml."""
    path, nb = chapter
    first = nb.cells[0]
    assert first.cell_type == "code", f"{path.name}: the first cell must be the install cell"
    assert "remove-cell" in first.metadata.get("tags", []), (
        f"{path.name}: the install cell must be tagged remove-cell (hidden on the website)"
    )
    expected = _execute_module().install_cell_source(CONFIG["repository"]["url"])
    assert first.source == expected, (
        f"{path.name}: the install cell differs from the one made from _config.yml's "
        "repository URL (run `make execute`)"
    )


def test_chapter_has_goals_summary_and_exercises(chapter):
    path, nb = chapter
    text = markdown(nb)
    assert re.search(r"^#\s+\d+\.\s+\S", text, re.M), f"{path.name}: title '# N. Title' missing"
    assert re.search(r"^#+\s*(Learning goals|What you will learn)", text, re.M | re.I), (
        f"{path.name}: learning goals missing"
    )
    assert re.search(r"^#+\s*Summary", text, re.M | re.I), f"{path.name}: summary missing"
    exercises = re.findall(r"```\{exercise\}", text)
    assert len(exercises) >= 2, f"{path.name}: needs at least two exercises, has {len(exercises)}"
    solutions = re.findall(r"```\{solution(?:-start)?\}[^\n]*\n(?::[^\n]*\n)*", text)
    assert len(solutions) >= len(exercises), f"{path.name}: an exercise has no solution"
    assert all(":class: dropdown" in s for s in solutions), (
        f"{path.name}: solutions must be hidden (:class: dropdown)"
    )
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    assert "attnbook.check" in code or "from attnbook import check" in code, (
        f"{path.name}: exercises must be checkable with attnbook.check"
    )


def test_chapter_cites_and_links_the_glossary(chapter):
    path, nb = chapter
    text = markdown(nb)
    assert "{cite" in text, f"{path.name}: cites nothing from the bibliography"
    assert "{term}" in text, f"{path.name}: links no glossary term"
    assert re.search(r"[\u4e00-\u9fff]", text), (
        f"{path.name}: gives no term of the notes in Chinese"
    )


def test_chapter_embeds_an_attention_map_with_state(chapter):
    path, nb = chapter
    state = nb.metadata.get("widgets", {}).get("application/vnd.jupyter.widget-state+json", {})
    models = state.get("state", {}).values()
    assert any(m["state"].get("_anywidget_id", "").endswith("AttentionMap") for m in models), (
        f"{path.name}: no AttentionMap in the stored widget state (run `make execute`)"
    )


def test_outputs_are_committed_and_free_of_errors(chapter):
    path, nb = chapter
    code = [c for c in nb.cells if c.cell_type == "code"]
    unrun = [
        i
        for i, c in enumerate(code)
        if c.execution_count is None
        and c.source.strip()
        and "remove-cell" not in c.metadata.get("tags", [])
    ]
    assert not unrun, f"{path.name}: code cells {unrun} were not executed (run `make execute`)"
    for cell in code:
        for out in cell.outputs:
            assert out.output_type != "error", f"{path.name}: an error output is committed"
            assert out.get("name") != "stderr" or not out.text.strip(), (
                f"{path.name}: stderr output committed: {out.text[:200]}"
            )


def test_figure_cells_have_alt_text(chapter):
    path, nb = chapter
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        has_image = any(
            "image/png" in o.get("data", {}) or "image/svg+xml" in o.get("data", {})
            for o in cell.outputs
        )
        if has_image:
            alt = cell.metadata.get("mystnb", {}).get("image", {}).get("alt", "")
            assert alt.strip(), f"{path.name}: an image output without alt text:\n{cell.source}"


def test_widget_ids_are_stable(chapter):
    """`make execute` renames random widget ids, so re-running leaves the file unchanged."""
    path, nb = chapter
    before = json.dumps(nb, sort_keys=True)
    after = json.dumps(_execute_module().stable_widget_ids(nb, path.stem), sort_keys=True)
    assert before == after, f"{path.name}: widget ids are not the stable ones (run `make execute`)"


def test_stored_widget_front_end_is_current(chapter):
    """The page runs the widget code stored in the notebook, so it must be today's code."""
    from attnbook import widgets

    path, nb = chapter
    state = nb.metadata.get("widgets", {}).get("application/vnd.jupyter.widget-state+json", {})
    for name in widgets.__all__:
        view = getattr(widgets, name)
        esm, css = str(view._esm), str(view._css)  # the files' current contents
        for model in state.get("state", {}).values():
            if model["state"].get("_anywidget_id", "").endswith(f".{name}"):
                assert model["state"]["_esm"] == esm and model["state"]["_css"] == css, (
                    f"{path.name}: the stored {name} front end is stale (run `make execute`)"
                )


# At 1280 px a chapter's code block holds 77 characters of the theme's monospace font
# (tests/test_browser.py measures every `pre` on the built pages); one to spare.
PAGE_WIDTH = 76


def _columns(line: str) -> int:
    """Width in monospace columns: a Chinese character takes two (wide or fullwidth)."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in line)


def _text_lines(output) -> list[str]:
    if output.output_type == "stream":
        return output.text.splitlines()
    return output.get("data", {}).get("text/plain", "").splitlines()


def test_code_and_printed_output_fit_the_page(chapter):
    """No line of code (hidden cells too: Jupyter shows them) or printed text is too wide."""
    path, nb = chapter
    too_wide = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        lines = [("code", line) for line in cell.source.splitlines()]
        for out in cell.outputs:
            data = out.get("data", {})
            if "image/svg+xml" in data or "application/vnd.jupyter.widget-view+json" in data:
                continue  # the text/plain of a plot or a widget view is never shown
            lines += [("output", line) for line in _text_lines(out)]
        too_wide += [
            f"cell {index} {kind} ({_columns(line)} columns): {line}"
            for kind, line in lines
            if _columns(line) > PAGE_WIDTH
        ]
    assert not too_wide, f"{path.name}: lines over {PAGE_WIDTH} characters:\n" + "\n".join(too_wide)


def _solution_code_cells(nb) -> list:
    cells, inside = [], False
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for directive in re.findall(r"```\{(solution-start|solution-end)\}", cell.source):
                inside = directive == "solution-start"
        elif inside:
            cells.append(cell)
    return cells


def test_solutions_are_hidden_in_jupyter_too(chapter):
    """Jupyter and Colab collapse a solution's code and output as the website's dropdown does."""
    path, nb = chapter
    solutions = _solution_code_cells(nb)
    assert solutions, f"{path.name}: no solution code cell between solution-start and -end"
    for cell in solutions:
        hidden = cell.metadata.get("jupyter", {})
        assert hidden.get("source_hidden") and hidden.get("outputs_hidden"), (
            f"{path.name}: a solution cell is visible in Jupyter (set metadata "
            f"jupyter.source_hidden and outputs_hidden):\n{cell.source[:200]}"
        )


def test_plots_are_svg_which_nbval_compares(chapter):
    """Strict nbval skips PNG; every plot is SVG (figures.use_svg_output) so it is compared."""
    path, nb = chapter
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert "figures.use_svg_output()" in code[1].source, (
        f"{path.name}: the imports cell must call figures.use_svg_output()"
    )
    png = [i for i, c in enumerate(code) for o in c.outputs if "image/png" in o.get("data", {})]
    assert not png, f"{path.name}: code cells {png} show PNG plots, which nbval cannot compare"
