"""The views in JupyterLab with a live kernel: what `make lab` gives a teacher.

A JupyterLab server runs on 127.0.0.1 over a copy of a chapter; Chromium opens it, runs every
cell, and checks that the AttentionMap views render and react as they do on the website.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from test_browser import open_page

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parent.parent
CHAPTER = ROOT / "chapters" / "02_self_attention.ipynb"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    folder = tmp_path_factory.mktemp("lab")
    shutil.copy(CHAPTER, folder / CHAPTER.name)
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", f"--port={port}",
         "--ip=127.0.0.1", "--allow-root", "--ServerApp.token=", "--ServerApp.password=",
         "--ServerApp.disable_check_xsrf=True", f"--ServerApp.root_dir={folder}",
         "--LabApp.news_url=", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=folder,
    )
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(url + "api/status", timeout=2)
            break
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                server.kill()
                pytest.fail("JupyterLab did not start:\n" + server.stderr.read().decode()[-2000:])
            time.sleep(0.5)
    yield url
    server.terminate()
    try:
        server.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.kill()


def test_attention_map_runs_live_in_jupyterlab(browser, lab):
    page, report = open_page(browser, lab, f"lab/tree/{CHAPTER.name}")
    try:
        page.wait_for_selector(".jp-Notebook", timeout=60_000)
        page.wait_for_function(
            "() => document.querySelector('.jp-Notebook-ExecutionIndicator')"
            " && !document.querySelector('.jp-Notebook-ExecutionIndicator')"
            ".getAttribute('data-status')?.includes('busy')",
            timeout=60_000,
        )
        # Run every cell through the command palette, as a reader would from the menu.
        amap = page.locator(".jp-OutputArea .attnbook-amap").first
        # On a busy machine a keystroke can reach the palette before it is open, so each step
        # waits for the previous one, and the whole command is given a second chance.
        for attempt in range(2):
            page.locator(".jp-Notebook").first.click()
            page.keyboard.press("Control+Shift+C")
            palette = page.locator(".lm-CommandPalette-input")
            palette.wait_for(state="visible", timeout=30_000)
            palette.fill("Run All Cells")
            page.locator(".lm-CommandPalette-item.lm-mod-active").wait_for(timeout=30_000)
            page.keyboard.press("Enter")
            # JupyterLab only lays out the cells near the viewport: wait for the view to
            # exist, then scroll to it.
            try:
                amap.wait_for(state="attached", timeout=90_000)
                break
            except Exception:
                if attempt:
                    raise
        amap.scroll_into_view_if_needed()
        cells = amap.locator(".amap-cell")
        before = cells.evaluate_all("cs => cs.map(c => c.getAttribute('data-w'))")
        assert before, "the AttentionMap drew no cells in JupyterLab"
        amap.locator('.amap-axis button[aria-pressed="false"]').first.click()
        after = cells.evaluate_all("cs => cs.map(c => c.getAttribute('data-w'))")
        assert after != before, "choosing another map changed nothing in JupyterLab"
        cells.first.hover()
        assert " → " in amap.locator(".amap-readout").inner_text()
    finally:
        page.context.close()
    errors = [e for e in report.problems() if "AttentionMap" in e or "anywidget" in e]
    assert not errors, "\n".join(errors)
