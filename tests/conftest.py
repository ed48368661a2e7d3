"""Shared fixtures: a local HTTP server and Debian's Chromium driven by Playwright; and the
hypothesis profiles.

The browser tests (marked `browser`) need the built site (`make book`) and /usr/bin/chromium.
They never download a browser: Playwright drives the system's Chromium by its path.
"""

from __future__ import annotations

import functools
import http.server
import json
import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings

# Property tests: under CI (`CI` set, as .ci/run does) the examples are derandomised, drawn from
# a seed derived from each test, so a run is reproducible and a failure replays; on a
# developer's machine each run searches afresh (and replays its own failures from
# .hypothesis/). A failure prints the blob that `@reproduce_failure` takes. Chosen by name
# with HYPOTHESIS_PROFILE=ci|dev; the tests' own @settings (e.g. max_examples) apply on top.
settings.register_profile("ci", derandomize=True, database=None, deadline=None, print_blob=True)
settings.register_profile("dev", deadline=None, print_blob=True)
_PROFILE = os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "dev")
settings.load_profile(_PROFILE)

ROOT = Path(__file__).resolve().parent.parent
SITE = ROOT / "_build" / "html"
VENDOR = ROOT / "_assets" / "vendor"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_path() -> str | None:
    for candidate in (os.environ.get("CHROMIUM"), "/usr/bin/chromium", shutil.which("chromium")):
        if candidate and Path(candidate).exists():
            return candidate
    return None


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - the base class's name
        pass


class LocalServer:
    """Serves one folder on 127.0.0.1 on a free port, in a thread, until closed."""

    def __init__(self, directory: Path) -> None:
        handler = functools.partial(_QuietHandler, directory=str(directory))
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


# Page speed: for each page with widget views, the times (ms from navigation start) at which
# every view was drawn, DOMContentLoaded and load fired; filled by test_browser.py.
PAGE_TIMES: dict[str, dict[str, float]] = {}


def pytest_terminal_summary(terminalreporter):
    """Report the page times (reported, not asserted: they depend on the machine), and keep
    them in _build/page-times.json."""
    if not PAGE_TIMES:
        return
    terminalreporter.write_sep(
        "-", "widget views drawn, ms after navigation (loopback, cold cache; not asserted)"
    )
    for path, times in sorted(PAGE_TIMES.items()):
        terminalreporter.write_line(
            f"{times.get('views', float('nan')):6.0f}  {path}"
            f"  (DOMContentLoaded {times.get('dcl', float('nan')):.0f},"
            f" load {times.get('load', float('nan')):.0f})"
        )
    if SITE.parent.is_dir():
        (SITE.parent / "page-times.json").write_text(
            json.dumps(PAGE_TIMES, indent=1, sort_keys=True) + "\n", encoding="utf-8"
        )


@pytest.fixture(scope="session")
def browser():
    """Chromium, headless. Missing Chromium fails under CI and skips elsewhere."""
    path = chromium_path()
    if path is None:
        message = "Chromium not found: install Debian's chromium (apt-get install chromium)"
        if os.environ.get("CI"):
            pytest.fail(message + "; CI must run the browser tests")
        pytest.skip(message + " to run the browser tests")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=path, args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def site() -> Iterator[LocalServer]:
    """The built website (_build/html), served on 127.0.0.1."""
    if not (SITE / "index.html").exists():
        pytest.fail("no built site in _build/html: run `make book` first (make test does)")
    server = LocalServer(SITE)
    yield server
    server.close()


@pytest.fixture(scope="module")
def one_torch_thread():
    """PyTorch on one thread for a module's tests: the book's models are tiny, so one thread
    is as fast, and far faster on a busy machine. The previous setting is restored."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
