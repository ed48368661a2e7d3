"""Browser tests of the MemoryView widget (chapter 7): on a page of its own, checked against the
numbers Python sent, and on the built site's chapter 7 page in both themes."""

from __future__ import annotations

import pytest
from conftest import SITE
from test_browser import (
    EVIL,
    WIDGET_VIEW,
    assert_readable,
    open_page,
    serve_widget_page,
    wait_for_views,
)

pytestmark = pytest.mark.browser

CHAPTER = "chapters/07_cost.html"


def bar_widths(view) -> list[float]:
    return view.locator(".mv-bar").evaluate_all(
        "bars => bars.map(b => Number(b.getAttribute('width')))")


@pytest.fixture(scope="module")
def memory_page(tmp_path_factory):
    """A page embedding one MemoryView with the site's own vendored scripts."""
    from attnbook.efficient import METHODS
    from attnbook.labs.cost import memory_model
    from attnbook.widgets.memory_view import MemoryView

    sizes = [2 ** p for p in range(8, 18)]  # 256 ... 131072
    values = [[memory_model(m, n) for m in METHODS] for n in sizes]
    measured = [[values[i][0] * 1.01 if i < 3 else None, None, None, None]
                for i in range(len(sizes))]
    view = MemoryView(sizes, [EVIL, *METHODS[1:]], values, measured=measured,
                      budget=2 ** 30, budget_label="1 GiB budget", title="memory per method")
    server = serve_widget_page(tmp_path_factory.mktemp("memory"), [view], "MemoryView")
    yield server, view
    server.close()


def test_memory_view_in_a_page(browser, memory_page):
    from attnbook.widgets.memory_view import format_bytes

    server, view = memory_page
    page, report = open_page(browser, server.url, "index.html")
    try:
        wait_for_views(page, 1)
        mv = page.locator(".attnbook-memview")
        assert mv.locator(".mv-title").inner_text() == "memory per method"
        # The method name is text: no element was made from it, no script ran.
        assert mv.locator("img").count() == 0
        assert mv.locator(".mv-method").first.text_content() == EVIL
        track = mv.locator("input.mv-range")
        assert track.get_attribute("max") == str(len(view.sizes) - 1)
        for index in (0, 2, 5, len(view.sizes) - 1):
            track.fill(str(index))
            n = view.sizes[index]
            assert mv.locator(".mv-n").inner_text() == f"n = {n:,}"
            texts = mv.locator(".mv-value").all_text_contents()
            for m, text in enumerate(texts):
                assert text.startswith(format_bytes(view.values[index][m])), (index, m, text)
                measured = view.measured[index][m]
                assert ("measured" in text) == (measured is not None)
                if measured is not None:
                    assert f"(measured {format_bytes(measured)})" in text
                over = view.values[index][m] > view.budget
                assert text.endswith("does not fit") == over
            # Longer bars for more bytes, on one scale for every n.
            widths = bar_widths(mv)
            order = sorted(range(len(widths)), key=lambda m: view.values[index][m])
            assert [widths[m] for m in order] == sorted(widths)
            readout = mv.locator(".mv-readout").inner_text()
            assert readout.startswith(f"n = {n:,}: ")
            assert f"tiled {format_bytes(view.values[index][3])}" in readout
        # Full attention's bar grows as n grows; the scale is shared, so widths compare.
        track.fill("0")
        small = bar_widths(mv)[0]
        track.fill(str(len(view.sizes) - 1))
        assert bar_widths(mv)[0] > small
        assert mv.locator(".mv-over").count() >= 1
        assert mv.locator(".mv-budget-label").text_content() == "1 GiB budget"  # SVG text
        # The slider is updated in place, never rebuilt, so a drag is not interrupted.
        track.fill("3")
        handle = track.element_handle()
        track.focus()
        page.keyboard.press("ArrowRight")
        assert track.input_value() == "4"
        assert handle.evaluate("t => t.isConnected"), "the slider was replaced while in use"
        assert mv.locator(".mv-n").inner_text() == f"n = {view.sizes[4]:,}"
    finally:
        page.context.close()
    assert not report.problems(), "\n".join(report.problems())


def test_memory_view_on_the_chapter_page(browser, site):
    if not (SITE / CHAPTER).exists():
        pytest.fail(f"{CHAPTER} is not in the built site (add it to _toc.yml, run `make book`)")
    page, report = open_page(browser, site.url, CHAPTER)
    try:
        expected = page.locator(f'script[type="{WIDGET_VIEW}"]').count()
        wait_for_views(page, expected)
        mv = page.locator(".attnbook-memview")
        assert mv.count() == 1
        mv.scroll_into_view_if_needed()
        track = mv.locator("input.mv-range")
        track.fill("0")
        before = bar_widths(mv)
        track.fill(track.get_attribute("max"))
        after = bar_widths(mv)
        assert after[0] > before[0], "moving the slider did not grow full attention's bar"
        assert mv.locator(".mv-over").count() >= 1  # a million tokens do not fit in 16 GiB
    finally:
        page.context.close()
    assert not report.problems(), f"{CHAPTER}:\n" + "\n".join(report.problems())


@pytest.mark.parametrize("mode", ["light", "dark"])
def test_memory_view_is_readable_in_both_themes(browser, site, mode):
    page, report = open_page(browser, site.url, CHAPTER, color_scheme=mode)
    try:
        wait_for_views(page, 1)
        page.evaluate(f"document.documentElement.dataset.theme = '{mode}'")
        page.wait_for_timeout(200)
        mv = page.locator(".attnbook-memview").first
        assert_readable(mv, ((".mv-method", "fill"), (".mv-value", "fill"),
                             (".mv-readout", "color"), (".mv-n", "color")), mode)
    finally:
        page.context.close()
    assert not report.problems(), "\n".join(report.problems())
