"""Browser test of the DecodingView (chapter 10) on a page of its own, in Chromium, offline.

The page embeds the widget state exactly as the website does (the site's vendored scripts,
no kernel); the test checks the view against the numbers Python sent: each step's input,
bars and choice, the slider and buttons, and that token text is never read as HTML.
"""

from __future__ import annotations

import numpy as np
import pytest
from test_browser import open_page, serve_widget_page, wait_for_views

pytestmark = pytest.mark.browser

EVIL = "<img src=x onerror=alert(1)>"
VOCAB = ["PAD", "BEGIN", "END", "MASK", EVIL, "一", "千", "零", "五"]


def distributions(choices: list[int], seed: int) -> np.ndarray:
    """One distribution per step over VOCAB, peaked on each step's choice."""
    rng = np.random.default_rng(seed)
    probs = 0.3 * rng.dirichlet(np.ones(len(VOCAB)), size=len(choices))  # (steps, vocab)
    for t, c in enumerate(choices):
        probs[t, c] += 0.7
    return probs


@pytest.fixture(scope="module")
def decoding_page(tmp_path_factory):
    """A page with one DecodingView of two examples, using the site's vendored scripts."""
    from attnbook.widgets.decoding_view import DecodingView

    ids = {t: i for i, t in enumerate(VOCAB)}
    first = [ids[t] for t in ("一", "千", "零", "五", "END")]
    second = [ids[EVIL], ids["END"]]
    view = DecodingView([("1005", distributions(first, 0), first),
                         ("<b>9</b>", distributions(second, 1), second)],
                        VOCAB, title="decoding, step by step")
    server = serve_widget_page(tmp_path_factory.mktemp("decoding"), [view], "DecodingView")
    yield server, view
    server.close()


def chips(view, kind: str) -> list[str]:
    return view.locator(f".dview-{kind} .dview-chip").all_text_contents()


def bars(view) -> list[tuple[int, float, bool]]:
    """(token row, probability, chosen) of every bar drawn."""
    return view.locator(".dview-bar").evaluate_all(
        "gs => gs.map(g => [Number(g.dataset.token), Number(g.dataset.p),"
        " g.classList.contains('dview-chosen')])"
    )


def test_decoding_view_in_a_page(browser, decoding_page):
    server, widget = decoding_page
    shown = [VOCAB[i] for i in widget.shown]
    assert shown == ["END", EVIL, "一", "千", "零", "五"]
    sent = np.array(widget.examples[0]["probs"])  # (steps, shown), as sent to the page
    page, report = open_page(browser, server.url, "index.html")
    try:
        wait_for_views(page, 1)
        view = page.locator(".attnbook-dview")
        assert view.locator(".dview-title").inner_text() == "decoding, step by step"
        readout = view.locator(".dview-readout")
        # Step 1: the decoder reads BEGIN only, and chooses 一.
        assert chips(view, "source") == ["1", "0", "0", "5"]
        assert chips(view, "input") == ["BEGIN"]
        assert chips(view, "output") == ["一"]
        drawn = bars(view)
        assert len(drawn) == len(shown)
        np.testing.assert_allclose([p for _, p, _ in drawn], sent[0])
        assert [shown[i] for i, _, chosen in drawn if chosen] == ["一"]
        assert readout.inner_text().startswith("Step 1: after BEGIN, the decoder chooses 一")
        # The slider goes to any step; the choice of step t is in the input of step t + 1.
        track = view.locator("input.dview-range")
        assert track.get_attribute("max") == "4"
        track.fill("3")
        assert chips(view, "input") == ["BEGIN", "一", "千", "零"]
        np.testing.assert_allclose([p for _, p, _ in bars(view)], sent[3])
        assert view.locator(".dview-step-value").inner_text() == "4 of 5"
        # The last step chooses END, and decoding stops.
        view.locator("button.dview-next").click()
        assert chips(view, "output") == ["一", "千", "零", "五", "END"]
        assert [shown[i] for i, _, chosen in bars(view) if chosen] == ["END"]
        assert "END: decoding stops." in readout.inner_text()
        view.locator("button.dview-next").click()  # clamped at the last step
        assert view.locator(".dview-step-value").inner_text() == "5 of 5"
        view.locator("button.dview-prev").click()
        assert view.locator(".dview-step-value").inner_text() == "4 of 5"
        # The slider is updated in place, never rebuilt, so a drag is not interrupted.
        handle = track.element_handle()
        track.focus()
        page.keyboard.press("ArrowLeft")
        assert track.input_value() == "2"
        assert handle.evaluate("t => t.isConnected"), "the slider was replaced while in use"
        # The second example has two steps; the step is clamped when switching.
        view.locator('button[data-example="1"]').click()
        assert view.locator('button[data-example="1"]').get_attribute("aria-pressed") == "true"
        assert view.locator(".dview-step-value").inner_text() == "2 of 2"
        # Tokens are text: no element was made from them, no script ran.
        assert view.locator("img").count() == 0 and view.locator("b").count() == 0
        assert "".join(chips(view, "source")) == "<b>9</b>"
        assert chips(view, "input") == ["BEGIN", EVIL]
        view.locator("input.dview-range").fill("0")
        assert chips(view, "output") == [EVIL]
        assert view.locator(".dview-bar.dview-chosen .dview-token").text_content() == EVIL
    finally:
        page.context.close()
    assert not report.problems(), "\n".join(report.problems())
