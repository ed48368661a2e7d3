"""Browser tests: the built website in Chromium, with every request off 127.0.0.1 refused.

Each page must load with no page error, no console error, no failed local request, no
request to another host and no code block wider than the page at 1280 px; every embedded
widget view must render; every AttentionMap must react to the reader (hover readout,
selectors, the lines view). A standalone page tests the
widget's behaviour exactly against the numbers Python sent.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

import numpy as np
import pytest
from conftest import PAGE_TIMES, SITE, VENDOR, LocalServer

pytestmark = pytest.mark.browser

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
SKIPPED_FOLDERS = {"_static", "_sources", "_images", "vendor"}


def site_pages() -> list[str]:
    if not SITE.exists():
        return []
    pages = []
    for path in sorted(SITE.rglob("*.html")):
        relative = path.relative_to(SITE)
        if not SKIPPED_FOLDERS.intersection(relative.parts[:-1]):
            pages.append(relative.as_posix())
    return pages


def widget_pages() -> list[str]:
    return [p for p in site_pages() if WIDGET_VIEW in (SITE / p).read_text(encoding="utf-8")]


@dataclass
class PageReport:
    errors: list[str] = field(default_factory=list)
    external: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)

    def problems(self) -> list[str]:
        return (
            [f"error: {e}" for e in self.errors]
            + [f"request to another host: {u}" for u in self.external]
            + [f"dialog opened: {d}" for d in self.dialogs]
        )


# Page speed, measured in the page itself: the time from navigation start until every widget
# view has drawn something (its element has content), and the page's DOMContentLoaded and load
# events. Reported per chapter at the end of the run (conftest.py), never asserted.
VIEW_TIMES = r"""(() => {
    const times = (window.__attnbookTimes = {});
    const drawn = () => {
        const expected = document.querySelectorAll(
            'script[type="application/vnd.jupyter.widget-view+json"]').length;
        const views = [...document.querySelectorAll(".widget-subarea")];
        return expected > 0 && views.length >= expected
            && views.every((v) => v.firstElementChild && v.firstElementChild.firstElementChild);
    };
    const observer = new MutationObserver(() => {
        if (drawn()) { times.views = performance.now(); observer.disconnect(); }
    });
    observer.observe(document, { childList: true, subtree: true });
    document.addEventListener("DOMContentLoaded", () => { times.dcl = performance.now(); });
    window.addEventListener("load", () => { times.load = performance.now(); });
})();"""


def record_page_time(page, path: str) -> None:
    """Keep the page's times (see VIEW_TIMES) for the report at the end of the run."""
    page.wait_for_function("() => window.__attnbookTimes.views !== undefined", timeout=20_000)
    PAGE_TIMES[path] = page.evaluate("() => window.__attnbookTimes")


def open_page(browser, base_url: str, path: str, color_scheme: str = "light"):
    """Open `path` with the network cut off at 127.0.0.1, recording everything that fails."""
    report = PageReport()
    context = browser.new_context(
        color_scheme=color_scheme, viewport={"width": 1280, "height": 900}
    )

    def route(route):
        url = route.request.url
        if url.startswith((base_url, "data:", "blob:")):
            route.continue_()
        else:
            report.external.append(url)
            route.abort()

    context.route("**/*", route)
    context.add_init_script(VIEW_TIMES)
    page = context.new_page()
    page.on("console", lambda m: m.type == "error" and report.errors.append(f"console: {m.text}"))
    page.on("pageerror", lambda e: report.errors.append(f"page error: {e}"))
    page.on(
        "response",
        lambda r: r.status >= 400 and report.errors.append(f"HTTP {r.status} {r.url}"),
    )

    def on_dialog(dialog):
        report.dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    page.goto(base_url + path, wait_until="networkidle")
    return page, report


def wait_for_views(page, expected: int) -> None:
    """Wait until the widget manager has rendered `expected` views, each with content."""
    page.wait_for_function(
        """(n) => {
            const views = document.querySelectorAll('.widget-subarea');
            return views.length >= n && [...views].every((v) => v.childElementCount > 0);
        }""",
        arg=expected,
        timeout=20_000,
    )


def serve_widget_page(folder, views, title: str) -> LocalServer:
    """Serve a page in `folder` that embeds `views` with the site's own vendored scripts."""
    from ipywidgets.embed import embed_data

    if not (VENDOR / "widgets-setup.js").exists():
        pytest.fail("no vendored assets in _assets/vendor: run `make book` first")
    data = embed_data(views=views, drop_defaults=False)  # full state: no kernel to ask
    (folder / "vendor").symlink_to(VENDOR, target_is_directory=True)
    specs = "\n".join(
        f'<script type="{WIDGET_VIEW}">{json.dumps(spec)}</script>' for spec in data["view_specs"]
    )
    (folder / "index.html").write_text(
        f"""<!doctype html><html><head><meta charset="utf-8"><title>{title}</title>
<script src="vendor/require.js"></script>
<script src="vendor/widgets-setup.js"></script>
<script src="vendor/html-manager/embed-amd.js"></script>
<script type="application/vnd.jupyter.widget-state+json">{json.dumps(data["manager_state"])}
</script></head><body>{specs}</body></html>""",
        encoding="utf-8",
    )
    return LocalServer(folder)


def cell_signature(amap) -> list[str]:
    return amap.locator(".amap-cell").evaluate_all("cs => cs.map(c => c.getAttribute('data-w'))")


def test_the_site_was_built():
    assert (SITE / "index.html").exists(), "run `make book` first"
    assert widget_pages(), "no page of the built site embeds a widget view"


# Every code block and printed output fits the page at 1280 px (the viewport of open_page):
# hidden inputs and solutions are opened first, so that their blocks are laid out and measured.
PRE_TOO_WIDE = r"""() => {
    document.querySelectorAll("details").forEach((d) => { d.open = true; });
    document.querySelectorAll(".toggle-hidden, .toggle-details__summary")
        .forEach((t) => t.click());
    return [...document.querySelectorAll("main pre")]
        .filter((p) => p.offsetParent !== null && p.scrollWidth > p.clientWidth)
        .map((p) => `${p.scrollWidth} > ${p.clientWidth} px: `
            + p.textContent.split("\n").reduce((a, b) => (b.length > a.length ? b : a), ""));
}"""


def blocks_wider_than_the_page(page) -> list[str]:
    """The `pre` blocks of `page` that scroll sideways, each with its longest line."""
    return page.evaluate(PRE_TOO_WIDE)


@pytest.mark.parametrize("path", site_pages())
def test_page_loads_cleanly_offline(browser, site, path):
    page, report = open_page(browser, site.url, path)
    try:
        images = page.locator("main img").evaluate_all(
            "imgs => imgs.filter(i => !(i.getAttribute('alt') || '').trim()).map(i => i.src)"
        )
        assert not images, f"images without alt text on {path}: {images}"
        broken = page.locator("main img").evaluate_all(
            "imgs => imgs.filter(i => i.complete && i.naturalWidth === 0).map(i => i.src)"
        )
        assert not broken, f"images that did not load on {path}: {broken}"
        # The chapters' code and outputs; the API page's docstrings and the README-like
        # pages' shell lines are not chapter code (their long lines wrap in prose).
        too_wide = blocks_wider_than_the_page(page) if path.startswith("chapters/") else []
        assert not too_wide, f"{path}: code or output scrolls sideways at 1280 px:\n" + "\n".join(
            too_wide
        )
    finally:
        page.context.close()
    assert not report.problems(), f"{path}:\n" + "\n".join(report.problems())


@pytest.mark.parametrize("path", widget_pages())
def test_widget_views_render_and_react(browser, site, path):
    page, report = open_page(browser, site.url, path)
    try:
        expected = page.locator(f'script[type="{WIDGET_VIEW}"]').count()
        wait_for_views(page, expected)
        record_page_time(page, path)
        maps = page.locator(".attnbook-amap")
        assert maps.count() >= 1, f"{path} embeds widgets but no AttentionMap rendered"
        for i in range(maps.count()):
            amap = maps.nth(i)
            amap.scroll_into_view_if_needed()
            readout = amap.locator(".amap-readout")
            cells = amap.locator(".amap-cell")
            assert cells.count() > 0, f"AttentionMap {i} on {path} drew no cells"
            # Hovering a cell shows "query → key: weight".
            cells.nth(cells.count() // 2).hover()
            assert re.fullmatch(r".+ → .+: \d+(\.\d+)?", readout.inner_text()), (
                f"AttentionMap {i} on {path}: hover readout is {readout.inner_text()!r}"
            )
            # The selectors change the map the reader sees.
            before = cell_signature(amap)
            choices = amap.locator('.amap-axis button[aria-pressed="false"]')
            ranges = amap.locator(".amap-axis input[type=range]")
            # Some choices may rightly show the same map (e.g. scaled and raw scores at
            # d_k = 1): at least one button or slider must show another.
            changed = False
            for j in range(choices.count()):
                choices.nth(j).click()
                if cell_signature(amap) != before:
                    changed = True
                    break
            if not changed and ranges.count():
                ranges.first.fill(ranges.first.get_attribute("max"))
                changed = cell_signature(amap) != before
            if choices.count() or ranges.count():
                assert changed, f"AttentionMap {i} on {path}: no selector changed the map"
            # The lines view draws one line per (query, key) pair.
            amap.locator('.amap-view button[data-view="lines"]').click()
            assert amap.locator(".amap-line").count() == len(before)
            amap.locator(".amap-row-token").first.hover()
            strongest = "（最强）" if path.startswith("zh/") else "(strongest)"
            assert strongest in readout.inner_text()
            amap.locator('.amap-view button[data-view="heatmap"]').click()
            assert amap.locator(".amap-cell").count() == len(before)
    finally:
        page.context.close()
    assert not report.problems(), f"{path}:\n" + "\n".join(report.problems())


def relative_luminance(css_color: str) -> float:
    """WCAG relative luminance of an rgb()/rgba() colour."""
    r, g, b = (int(v) / 255 for v in re.findall(r"[\d.]+", css_color)[:3])
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in (r, g, b)]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(fg: str, bg: str) -> float:
    hi, lo = sorted((relative_luminance(fg), relative_luminance(bg)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


EFFECTIVE_BACKGROUND = r"""(node) => {
    for (let e = node; e; e = e.parentElement) {
        const bg = getComputedStyle(e).backgroundColor;
        if (bg && bg !== 'transparent' && !/rgba\(.*,\s*0\)$/.test(bg)) return bg;
    }
    return 'rgb(255, 255, 255)';
}"""


def assert_readable(view, checks, mode: str) -> None:
    """Each ``(selector, css property)`` of `view` has WCAG contrast >= 4.5 on its background."""
    for selector, prop in checks:
        target = view.locator(selector).first
        color = target.evaluate(f"t => getComputedStyle(t).{prop}")
        background = target.evaluate(EFFECTIVE_BACKGROUND)
        ratio = contrast(color, background)
        assert ratio >= 4.5, (
            f"{mode} theme: {selector} is {color} on {background}, contrast {ratio:.1f} < 4.5"
        )


@pytest.mark.parametrize("edition", ["", "zh/"], ids=["en", "zh"])
@pytest.mark.parametrize("mode", ["light", "dark"])
def test_attention_map_is_readable_in_both_themes(browser, site, mode, edition):
    """Token labels, buttons and readout contrast with the background they are drawn on."""
    path = next(p for p in widget_pages() if p.startswith(edition + "chapters/"))
    page, report = open_page(browser, site.url, path, color_scheme=mode)
    try:
        wait_for_views(page, 1)
        page.evaluate(f"document.documentElement.dataset.theme = '{mode}'")
        page.wait_for_timeout(200)
        amap = page.locator(".attnbook-amap").first
        assert_readable(
            amap,
            (
                (".amap-row-token", "fill"),
                (".amap-readout", "color"),
                ('.amap-choice[aria-pressed="false"]', "color"),
            ),
            mode,
        )
    finally:
        page.context.close()
    assert not report.problems(), "\n".join(report.problems())


# -- The widget on a page of its own, checked against the numbers Python sent -------------

EVIL = "<img src=x onerror=alert(1)>"


@pytest.fixture(scope="module")
def widget_page(tmp_path_factory):
    """A page embedding one AttentionMap with the site's own vendored scripts."""
    from attnbook.widgets import AttentionMap

    rng = np.random.default_rng(0)
    weights = rng.dirichlet(np.ones(4), size=(3, 4))  # (heads, Lq, Lk)
    rows = [EVIL, "cat", "sat", "down"]
    view = AttentionMap(weights, rows, title="three heads")
    # More than 16 settings get a slider instead of buttons.
    steps = rng.dirichlet(np.ones(3), size=(20, 2))  # (steps, Lq, Lk)
    slider = AttentionMap(
        steps,
        ["x", "y"],
        ["p", "q", "r"],
        axes=["step"],
        axis_labels=[[f"t{i}" for i in range(20)]],
        title="twenty steps",
    )
    server = serve_widget_page(tmp_path_factory.mktemp("widget"), [view, slider], "AttentionMap")
    yield server, view, slider
    server.close()


def test_attention_map_in_a_page(browser, widget_page):
    server, view, _ = widget_page
    weights = np.array(view.weights)  # (heads, Lq, Lk), as sent to the page
    page, report = open_page(browser, server.url, "index.html")
    try:
        wait_for_views(page, 2)
        amap = page.locator(".attnbook-amap").first
        assert amap.locator(".amap-title").inner_text() == "three heads"
        # The token is text: no element was made from it, no script ran.
        assert amap.locator("img").count() == 0
        first_row = amap.locator(".amap-row-token").first
        assert first_row.text_content().startswith("<img src=x")
        assert amap.locator(".amap-cell title").first.text_content().startswith(EVIL + " → ")
        # The hover readout gives the exact weight of the cell.
        cell = amap.locator('.amap-cell[data-q="2"][data-k="1"]')
        cell.hover()
        assert amap.locator(".amap-readout").inner_text() == f"sat → cat: {weights[0, 2, 1]:.3f}"
        # The keyboard reaches every cell: focus the heatmap, then arrow keys.
        page.mouse.move(0, 0)
        amap.locator("svg.amap-heatmap").focus()
        assert amap.locator(".amap-readout").inner_text() == (
            f"{EVIL} → {EVIL}: {weights[0, 0, 0]:.3f}"
        )
        for key in (
            "ArrowDown",
            "ArrowDown",
            "ArrowRight",
            "ArrowRight",
            "ArrowRight",
            "ArrowRight",
        ):  # the last move is clamped at the edge
            page.keyboard.press(key)
        assert amap.locator(".amap-readout").inner_text() == f"sat → down: {weights[0, 2, 3]:.3f}"
        # Each head button shows that head's map.
        for head in (2, 1, 0):
            amap.locator(".amap-axis button").nth(head).click()
            shown = np.array([float(w) for w in cell_signature(amap)]).reshape(4, 4)
            np.testing.assert_allclose(shown, weights[head])
            pressed = amap.locator('.amap-axis button[aria-pressed="true"]').inner_text()
            assert pressed == str(head)
        # The lines view: thicker lines for larger weights.
        amap.locator('.amap-view button[data-view="lines"]').click()
        lines = amap.locator(".amap-line")
        assert lines.count() == 16
        pairs = lines.evaluate_all(
            "ls => ls.map(l => [Number(l.dataset.w), Number(l.getAttribute('stroke-width'))])"
        )
        pairs.sort()
        widths = [w for _, w in pairs]
        assert widths == sorted(widths) and widths[-1] > widths[0]
        # Hovering a query dims every line but its own.
        amap.locator(".amap-row-token").nth(1).hover()
        dimmed = amap.locator(".amap-line.amap-dim").count()
        assert dimmed == 12
        assert amap.locator(".amap-readout").inner_text().startswith("cat → ")
    finally:
        page.context.close()
    assert not report.problems(), "\n".join(report.problems())


def test_attention_map_slider(browser, widget_page):
    server, _, slider = widget_page
    steps = np.array(slider.weights)  # (20, 2, 3)
    page, report = open_page(browser, server.url, "index.html")
    try:
        wait_for_views(page, 2)
        amap = page.locator(".attnbook-amap").nth(1)
        assert amap.locator(".amap-title").inner_text() == "twenty steps"
        assert amap.locator(".amap-axis button").count() == 0
        track = amap.locator("input.amap-range")
        assert track.get_attribute("max") == "19"
        for step in (7, 19, 0):
            track.fill(str(step))
            shown = np.array([float(w) for w in cell_signature(amap)]).reshape(2, 3)
            np.testing.assert_allclose(shown, steps[step])
            assert amap.locator(".amap-range-value").inner_text() == f"t{step}"
        # The slider is updated in place, never rebuilt, so a drag is not interrupted.
        handle = track.element_handle()
        track.focus()
        page.keyboard.press("ArrowRight")
        assert track.input_value() == "1"
        assert handle.evaluate("t => t.isConnected"), "the slider was replaced while in use"
        shown = np.array([float(w) for w in cell_signature(amap)]).reshape(2, 3)
        np.testing.assert_allclose(shown, steps[1])
    finally:
        page.context.close()
    assert not report.problems(), "\n".join(report.problems())


# -- The front end's redraws, counted with a stand-in for the widget model ----------------

# Loads a view's ES module in a blank page, renders it on a minimal model (get, set, on, off,
# save_changes, as anywidget gives a view), sets several traits at once as one Python update
# does, and counts the redraws: each redraw appends a new drawing to `figure`.
RENDER_AND_COUNT = r"""async ([code, state, figure, changes]) => {
    const url = URL.createObjectURL(new Blob([code], { type: "text/javascript" }));
    const view = (await import(url)).default;
    const handlers = {};
    const model = {
        get: (name) => state[name],
        set: (name, value) => {
            state[name] = value;
            for (const h of handlers[`change:${name}`] || []) h();
        },
        on: (event, h) => { (handlers[event] = handlers[event] || []).push(h); },
        off: (event, h) => { handlers[event] = (handlers[event] || []).filter((x) => x !== h); },
        save_changes: () => { throw new Error("no kernel"); },  // as on the static website
    };
    const host = document.createElement("div");
    document.body.appendChild(host);
    const cleanup = view.render({ model, el: host });
    let draws = 0;
    new MutationObserver((records) => {
        draws += records.filter((r) => r.addedNodes.length > 0).length;
    }).observe(host.querySelector(figure), { childList: true });
    const settle = () => new Promise((resolve) => setTimeout(resolve, 0));
    for (const [name, value] of changes) model.set(name, value);
    await settle();
    const batch = draws;
    cleanup();
    model.set(changes[0][0], changes[0][1]);
    await settle();
    return { batch, afterCleanup: draws - batch, text: host.textContent,
             roles: [...host.querySelectorAll("svg")].map((svg) => svg.getAttribute("role")) };
}"""


def render_and_count(browser, view, figure: str, changes: list) -> dict:
    context = browser.new_context()
    context.route("**/*", lambda route: route.abort())  # nothing to fetch: all is inline
    try:
        page = context.new_page()
        errors = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.set_content("<!doctype html><html><body></body></html>")
        state = {k: v for k, v in view.get_state().items() if not k.startswith("_")}
        result = page.evaluate(RENDER_AND_COUNT, [str(view._esm), state, figure, changes])
        assert not errors, errors
        return result
    finally:
        context.close()


def test_attention_map_redraws_once_per_batch_of_changes(browser):
    from attnbook.widgets import AttentionMap

    rng = np.random.default_rng(1)
    view = AttentionMap(rng.dirichlet(np.ones(3), size=(2, 3)), ["a", "b", "c"], title="t")
    # update() in Python sets seven traits in one message; then the reader picks a view.
    changes = [
        ["row_tokens", ["x", "y", "z"]],
        ["col_tokens", ["x", "y", "z"]],
        ["axes", ["head"]],
        ["axis_labels", [["0", "1"]]],
        ["selection", [1]],
        ["vmax", 0.9],
        ["weights", view.weights],
        ["view", "lines"],
    ]
    result = render_and_count(browser, view, ".amap-figure", changes)
    assert result["batch"] == 1, f"{result['batch']} redraws for one batch of changes"
    assert result["afterCleanup"] == 0, "the view still redraws after it was removed"
    # The interactive drawings are groups, not images, and the hint names the keys.
    assert result["roles"] == ["group"]
    assert "reach it with Tab" in result["text"]
    heatmap = render_and_count(browser, view, ".amap-figure", [["title", "new"]])
    assert heatmap["roles"] == ["group"] and "arrow keys" in heatmap["text"]


def test_decoding_view_redraws_once_per_batch_of_changes(browser):
    from attnbook.widgets import DecodingView

    vocab = ["PAD", "BEGIN", "END", "MASK", "x"]
    view = DecodingView(
        [("1", np.full((3, 5), 0.2), [4, 4, 2]), ("2", np.full((1, 5), 0.2), [2])], vocab
    )
    view.step = 2
    # Choosing the second example also moves the step back into its range: two traits.
    result = render_and_count(browser, view, ".dview-figure", [["example", 1], ["step", 0]])
    assert result["batch"] == 1 and result["afterCleanup"] == 0


def test_no_page_names_a_cdn():
    """Nothing in the built pages is loaded from another host (links to read are fine)."""
    loading = re.compile(
        r"""<(?:script|img|iframe|source|audio|video|embed)\b[^>]*\bsrc=["']((?:https?:)?//[^"']+)"""
        r"""|<link\b(?=[^>]*\brel=["'](?:stylesheet|preload|modulepreload|prefetch|preconnect|"""
        r"""dns-prefetch|icon|manifest)["'])[^>]*\bhref=["']((?:https?:)?//[^"']+)""",
        re.IGNORECASE,
    )
    css_url = re.compile(r"""url\(\s*["']?(?:https?:)?//""", re.IGNORECASE)
    offenders = []
    for path in sorted(SITE.rglob("*.html")):
        for match in loading.finditer(path.read_text(encoding="utf-8")):
            offenders.append(f"{path.relative_to(SITE)}: {match.group(1) or match.group(2)}")
    for path in sorted(SITE.rglob("*.css")):
        if css_url.search(path.read_text(encoding="utf-8", errors="replace")):
            offenders.append(f"{path.relative_to(SITE)}: url() to another host")
    assert site_pages(), "run `make book` first"
    assert not offenders, "\n".join(offenders)


def test_site_serves_its_own_front_end():
    for needed in (
        "widgets-static.js",
        "require.js",
        "widgets-setup.js",
        "html-manager/embed-amd.js",
        "anywidget/index.js",
        "mathjax/tex-chtml.js",
    ):
        assert (SITE / "vendor" / needed).is_file(), f"vendor/{needed} missing from the site"
    fonts = list((SITE / "vendor" / "html-manager").glob("*.woff2"))
    assert fonts, "the widget manager's icon fonts were not copied"


def test_sources_named_in_pages_exist():
    """Every local script and stylesheet a page names is in the site."""
    ref = re.compile(r"""<(?:script[^>]*\bsrc|link[^>]*\bhref)=["']([^"'#?]+)""")
    missing = []
    for path in (SITE / p for p in site_pages()):
        for url in ref.findall(path.read_text(encoding="utf-8")):
            if "//" in url or url.startswith(("data:", "mailto:")):
                continue
            target = (path.parent / url).resolve()
            if not target.exists() and not url.endswith("/"):
                missing.append(f"{path.relative_to(SITE)}: {url}")
    assert not missing, "\n".join(sorted(set(missing))[:20])


def translator_pages() -> list[str]:
    return [p for p in widget_pages() if "translator_view" in (SITE / p).read_text("utf-8")]


@pytest.mark.parametrize("path", translator_pages())
def test_the_live_translator_decodes_on_the_website(browser, site, path):
    """The contract of the live translator (issue 12), on the built page, with no kernel:
    type a number into input[name=number], press Enter, read [data-testid=translation]."""
    page, report = open_page(browser, site.url, path)
    try:
        number = page.locator('input[name="number"]').first
        translation = page.locator('[data-testid="translation"]').first
        number.wait_for(timeout=20_000)
        number.fill("101000")
        number.press("Enter")
        page.wait_for_function(
            "(el) => el.dataset.state === 'done'", arg=translation.element_handle(),
            timeout=20_000,
        )
        assert translation.text_content() == "十万一千", path
        number.fill("12a")
        number.press("Enter")
        page.wait_for_function(
            "(el) => el.dataset.state === 'error'", arg=translation.element_handle(),
            timeout=20_000,
        )
        message = page.locator('[data-testid="message"]').first.text_content()
        assert message.strip(), f"{path}: no message for bad input"
        chinese = re.search(r"[\u4e00-\u9fff]", message) is not None
        assert chinese == path.startswith("zh/"), f"{path}: message in the wrong language"
        assert translation.text_content() == "十万一千", "the last good result must stay"
    finally:
        page.context.close()
    assert not report.problems(), f"{path}:\n" + "\n".join(report.problems())


# -- The two editions ------------------------------------------------------------------------

@pytest.mark.parametrize(("path", "words"), [
    ("chapters/02_self_attention.html", ("Heatmap", "Lines", "Hover")),
    ("zh/chapters/02_self_attention.html", ("热力图", "连线", "把鼠标")),
], ids=["en", "zh"])
def test_views_speak_the_pages_language(browser, site, path, words):
    """The views' own words (buttons, hints, readouts) follow the page's language."""
    page, report = open_page(browser, site.url, path)
    try:
        wait_for_views(page, 1)
        amap = page.locator(".attnbook-amap").first
        assert amap.locator(".amap-view button").all_inner_texts() == list(words[:2])
        assert amap.locator(".amap-readout").inner_text().startswith(words[2])
    finally:
        page.context.close()
    assert not report.problems(), f"{path}:\n" + "\n".join(report.problems())


def test_the_language_switch_leads_to_the_same_page(browser, site):
    path = "chapters/05_positional_encoding.html"
    page, report = open_page(browser, site.url, "zh/" + path)
    try:
        assert page.locator("html").get_attribute("lang") == "zh-CN"
        page.locator('[data-testid="language-switch"]').click()
        page.wait_for_url(site.url + path)
        assert page.locator("html").get_attribute("lang") == "en"
        page.locator('[data-testid="language-switch"]').click()
        page.wait_for_url(site.url + "zh/" + path)
        assert page.locator("h1").first.inner_text().startswith("5. ")
        assert re.search(r"[\u4e00-\u9fff]", page.locator("h1").first.inner_text())
    finally:
        page.context.close()
    assert not report.problems(), "\n".join(report.problems())
