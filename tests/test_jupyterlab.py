"""The views in JupyterLab with a live kernel: what `make lab` gives a teacher.

A JupyterLab server runs on 127.0.0.1 over a copy of a chapter; Chromium opens it, runs every
cell, and checks that the AttentionMap views render and react as they do on the website.

Every cell is run by JupyterLab's own command (`notebook:run-all-cells`, what the Run menu's
"Run All Cells" calls), through the application object that JupyterLab exposes for tests
(`--LabApp.expose_app_in_browser`), once the command is enabled. Nothing depends on a key
press reaching the page at the right moment: the command palette, opened with Ctrl+Shift+C,
sometimes did not open on a busy machine (its input "not visible"), one run in three.
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
         "--LabApp.news_url=", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
         "--LabApp.expose_app_in_browser=True"],
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
        # Run every cell with the Run menu's command, once JupyterLab has the notebook open,
        # its kernel idle and the command enabled (each step waits for a state, never a time).
        page.wait_for_function(
            """() => {
                const app = window.jupyterapp;
                const panel = app && app.shell.currentWidget;
                const session = panel && panel.sessionContext;
                return Boolean(session && session.isReady
                    && session.session?.kernel?.status === "idle"
                    && app.commands.isEnabled("notebook:run-all-cells"));
            }""",
            timeout=90_000,
        )
        page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
        # JupyterLab only lays out the cells near the viewport: wait for the view to exist,
        # then scroll to it.
        amap = page.locator(".jp-OutputArea .attnbook-amap").first
        amap.wait_for(state="attached", timeout=120_000)
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
