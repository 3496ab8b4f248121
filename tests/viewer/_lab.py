"""Drive a real JupyterLab in headless Chromium: server start/stop by PID, browser launch, Run All.

Flags and browser arguments follow ``../shared/guides/notebooks-and-reports.md``.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def jupyter_lab(root: Path, log: Path, startup_timeout: float = 90.0) -> Iterator[str]:
    """Run ``jupyter lab`` on loopback serving `root`; yield its base URL; stop it by PID."""
    port = free_port()
    cmd = [sys.executable, "-m", "jupyter", "lab", "--allow-root", "--no-browser",
           "--ip=127.0.0.1", f"--port={port}", "--port-retries=0",
           f"--ServerApp.root_dir={root}", "--IdentityProvider.token=",
           "--ServerApp.password=", "--ServerApp.disable_check_xsrf=True"]
    env = {**os.environ, "TQDM_DISABLE": "1"}
    with log.open("wb") as out:
        server = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env,
                                  start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + startup_timeout
        while True:
            if server.poll() is not None:
                raise RuntimeError(f"jupyter lab exited with {server.returncode}; see {log}")
            try:
                with urllib.request.urlopen(f"{url}/api/status", timeout=2):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"no jupyter lab after {startup_timeout} s") from None
                time.sleep(0.5)
        yield url
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGTERM)  # the server and the kernels it started
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
                server.wait(timeout=10)


@contextlib.contextmanager
def notebook_in_lab(root: Path, notebook: str, *, viewers: int, timeout_ms: int,
                    failure_screenshot: Path) -> Iterator[tuple[Any, list[str]]]:
    """Serve `root` in JupyterLab, open `notebook` in Chromium, run all cells and wait for
    `viewers` drawn viewers; yield ``(page, errors raised in the page)``. A failing block
    leaves a screenshot at `failure_screenshot`."""
    from playwright.sync_api import sync_playwright

    errors: list[str] = []
    with jupyter_lab(root, root / "lab.log") as url, sync_playwright() as pw:
        browser = launch_chromium(pw)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1100})
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.goto(f"{url}/lab/tree/{notebook}")
            run_all_cells(page)
            try:
                wait_for_viewers(page, viewers, timeout_ms)
                yield page, errors
            except BaseException:
                page.screenshot(path=str(failure_screenshot))
                raise
        finally:
            browser.close()


def launch_chromium(playwright):
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


def run_all_cells(page) -> None:
    """Wait until the kernel is idle, then JupyterLab menu Run > Run All Cells."""
    page.wait_for_selector(".jp-NotebookPanel .jp-Cell", timeout=60_000)
    page.locator(".jp-StatusBar-Widget", has_text="Idle").first.wait_for(timeout=90_000)
    page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
    page.locator(".lm-Menu-itemLabel", has_text="Run All Cells").first.click()


ERROR_OUTPUT = '[data-mime-type="application/vnd.jupyter.error"]'


def wait_for_viewers(page, count: int, timeout_ms: int) -> None:
    """Wait until `count` viewers are drawn; fail with the traceback if a cell raised."""
    page.wait_for_function(
        "([n, err]) => document.querySelectorAll('.segpile-viewer .sv-canvas').length >= n"
        " || document.querySelector(err) !== null", arg=[count, ERROR_OUTPUT],
        timeout=timeout_ms)
    errors = page.locator(ERROR_OUTPUT)
    if errors.count():
        raise AssertionError("a cell failed: " + errors.first.inner_text()[-2000:])


def canvas_pixels(page, index: int = 0):
    """RGB pixels of the `index`-th viewer canvas, read with ``getImageData``: ``(h, w, 3)``."""
    import numpy as np

    width, height, data = page.evaluate(
        """(i) => {
            const c = document.querySelectorAll('.segpile-viewer .sv-canvas')[i];
            const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
            return [c.width, c.height, Array.from(d)];
        }""", index)
    return np.asarray(data, dtype=np.uint8).reshape(height, width, 4)[:, :, :3]


def write_notebook(path: Path, sources: list[str]) -> None:
    """A notebook of code cells with the python3 kernel."""
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(src) for src in sources]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nbformat.write(nb, path)
