"""The notebooks as a student meets them: JupyterLab in a real browser.

JupyterLab is started headless on 127.0.0.1 (a free port, a token) over a
copy of the notebooks, and each notebook is opened in Debian's Chromium,
driven by Playwright for Python (``executable_path``: no browser is ever
downloaded). For every notebook the test checks that its committed outputs
render (every stored picture is on the page), runs its first code cells from
the page with Shift+Enter, and checks that they end without an error or
stderr output (no TensorFlow start-up lines: the kernelspec that
``make install`` writes keeps them out), that the browser console shows no
error, and that the file browser lists each notebook once (the ``.py`` twin is
hidden). A screenshot of each notebook is saved in the test's tmp dir.

Skipped, in one line, where Chromium or Playwright is missing.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
RUN_CELLS = 2            # the first code cells of each notebook: imports + Config, then the data
STARTUP_TIMEOUT = 60     # seconds for JupyterLab to answer
CELL_TIMEOUT = 90_000    # ms for the first cells of one notebook (a kernel start + importing TensorFlow)

if CHROMIUM is None:
    pytest.skip("JupyterLab browser test skipped: no Chromium (apt-get install chromium)", allow_module_level=True)
try:
    from playwright.sync_api import sync_playwright
except ImportError:
    pytest.skip("JupyterLab browser test skipped: Playwright missing (pip install -e '.[dev]')",
                allow_module_level=True)

pytestmark = pytest.mark.slow

# Console messages that are not errors of the notebooks or of the set-up under test.
CONSOLE_NOISE = ("favicon",)
PANEL = ".jp-NotebookPanel:not(.lm-mod-hidden)"   # the notebook on show


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _kernel_of(base: str, token: str, name: str, timeout: float = 60.0) -> str:
    """The id of the kernel JupyterLab started for the notebook ``name``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for session in _get(f"{base}/api/sessions?token={token}"):
            if session["path"].endswith(name) and session.get("kernel"):
                return session["kernel"]["id"]
        time.sleep(0.25)
    raise AssertionError(f"{name}: JupyterLab started no kernel for it within {timeout:.0f} s")


def _get(url: str) -> dict | list:
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.loads(response.read())


def _committed(nb_path: Path) -> dict:
    nb = json.loads(nb_path.read_text(encoding="utf-8"))
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    images = sum("image/png" in o.get("data", {}) for c in code for o in c.get("outputs", []))
    return {"cells": len(nb["cells"]), "images": images,
            "cells_with_outputs": sum(bool(c.get("outputs")) for c in code)}


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """A JupyterLab server over a copy of notebooks/ (running cells must never touch the committed files)."""
    if not NOTEBOOKS:
        pytest.skip("no notebook yet")
    work = tmp_path_factory.mktemp("lab")
    shutil.copytree(ROOT / "notebooks", work / "notebooks", ignore=shutil.ignore_patterns("solutions"))
    settings = work / "settings" / "@jupyterlab" / "notebook-extension"
    settings.mkdir(parents=True)
    # Render every cell (no windowing), so the committed outputs of the whole notebook are on the page.
    (settings / "tracker.jupyterlab-settings").write_text(json.dumps({"windowingMode": "none"}))
    news = work / "settings" / "@jupyterlab" / "apputils-extension"
    news.mkdir(parents=True)
    (news / "notification.jupyterlab-settings").write_text(json.dumps({"fetchNews": "false"}))
    port, token = _free_port(), secrets.token_hex(16)
    env = {k: v for k, v in os.environ.items() if k not in ("TF_CPP_MIN_LOG_LEVEL", "TF_ENABLE_ONEDNN_OPTS")}
    env.update(JUPYTERLAB_SETTINGS_DIR=str(work / "settings"), JUPYTERLAB_WORKSPACES_DIR=str(work / "workspaces"),
               JUPYTER_RUNTIME_DIR=str(work / "runtime"), PYTHONPATH=str(ROOT))
    env.setdefault("FASHIONSIM_DATA_DIR", str(ROOT / "data"))
    log = (work / "jupyterlab.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--ServerApp.ip=127.0.0.1",
         f"--ServerApp.port={port}", "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}",
         f"--ServerApp.root_dir={work}", "--LabApp.news_url=None",
         "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate", "--LabApp.extension_manager=readonly",
         *(["--allow-root"] if hasattr(os, "geteuid") and os.geteuid() == 0 else [])],
        cwd=work, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while True:
        try:
            _get(f"{base}/api/status?token={token}")
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise RuntimeError(f"JupyterLab did not start: see {work / 'jupyterlab.log'}") from None
            time.sleep(0.5)
    try:
        yield {"base": base, "token": token, "work": work}
    finally:
        proc.send_signal(signal.SIGTERM)   # the server shuts its kernels down, then exits
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        log.close()


def test_kernelspec_keeps_tensorflow_startup_lines_out():
    from jupyter_client.kernelspec import KernelSpecManager

    spec = KernelSpecManager().get_kernel_spec("python3")
    assert spec.env.get("TF_CPP_MIN_LOG_LEVEL") == "3" and "--IPKernelApp.capture_fd_output=False" in spec.argv, (
        f"{spec.resource_dir}/kernel.json is the default one: run `make install`")


def test_notebooks_render_and_run_in_jupyterlab(lab):
    base, token, work = lab["base"], lab["token"], lab["work"]
    listing = _get(f"{base}/api/contents/notebooks?token={token}")
    names = {item["name"] for item in listing["content"]}
    assert {p.name for p in NOTEBOOKS} <= names
    twins = sorted(n for n in names if n.endswith(".py") and n[:2].isdigit())
    assert not twins, f"the file browser lists the .py twins {twins}: run `make install` (hide_globs)"

    problems, timings = [], {}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True,
                                     args=["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"])
        try:
            for nb_path in NOTEBOOKS:
                start = time.monotonic()
                problems += _check_notebook(browser, base, token, nb_path, work)
                timings[nb_path.stem] = round(time.monotonic() - start, 1)
                for session in _get(f"{base}/api/sessions?token={token}"):   # one kernel at a time
                    request = urllib.request.Request(f"{base}/api/sessions/{session['id']}?token={token}",
                                                     method="DELETE")
                    urllib.request.urlopen(request, timeout=10).close()
        finally:
            browser.close()
    print("seconds per notebook:", timings, "| screenshots:", work)
    assert not problems, "\n".join(problems)


def _check_notebook(browser, base: str, token: str, nb_path: Path, work: Path) -> list[str]:
    name = nb_path.name
    expected = _committed(nb_path)
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    console: list[str] = []
    page.on("console", lambda m: console.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: console.append(f"page error: {e}"))
    problems = []
    try:
        # A workspace of its own, reset: only this notebook open (no tabs restored from the one before).
        page.goto(f"{base}/lab/workspaces/{nb_path.stem[:2]}/tree/notebooks/{name}?reset&token={token}",
                  wait_until="domcontentloaded")
        page.wait_for_function(f"n => document.querySelectorAll('{PANEL} .jp-Cell').length >= n",
                               arg=expected["cells"], timeout=60_000)
        page.wait_for_selector('.jp-Notebook-ExecutionIndicator[data-status="idle"]', timeout=CELL_TIMEOUT)
        images = page.locator(f"{PANEL} .jp-OutputArea-output img").count()
        if images < expected["images"]:
            problems.append(f"{name}: {images} of its {expected['images']} committed pictures rendered")
        with_outputs = page.locator(f"{PANEL} .jp-Cell-outputArea:has(.jp-OutputArea-output)").count()
        if with_outputs < expected["cells_with_outputs"]:
            problems.append(f"{name}: {with_outputs} of its {expected['cells_with_outputs']} cells with outputs rendered")

        code = page.locator(f"{PANEL} .jp-CodeCell")
        kernel = _kernel_of(base, token, name)
        before = _get(f"{base}/api/kernels/{kernel}?token={token}")["last_activity"]
        for k in range(RUN_CELLS):                                # each cell from its own editor, in order
            code.nth(k).locator(".jp-InputArea-editor").click()
            page.keyboard.press("Control+Enter")                  # run it, stay on it (the kernel queues them)
        # The committed prompts already read [1], [2]: that the cells ran is told by the kernel itself
        # (its last activity moves on), not by a [*] that a fast cell may show too briefly to be seen.
        deadline = time.monotonic() + CELL_TIMEOUT / 1000
        while time.monotonic() < deadline:
            state = _get(f"{base}/api/kernels/{kernel}?token={token}")
            if state["last_activity"] != before and state["execution_state"] == "idle":
                break
            time.sleep(0.25)
        else:
            problems.append(f"{name}: the kernel never ran the cells sent from the page")
        page.wait_for_function(
            f"""n => [...document.querySelectorAll('{PANEL} .jp-CodeCell')].slice(0, n)
                   .every(c => /\\[\\d+\\]/.test(c.querySelector('.jp-InputPrompt').innerText))""",
            arg=RUN_CELLS, timeout=CELL_TIMEOUT)
        for k in range(RUN_CELLS):
            bad = code.nth(k).locator('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]')
            if bad.count():
                problems.append(f"{name}: code cell {k + 1} wrote an error or stderr output: "
                                f"{bad.first.inner_text()[:300]!r}")
        page.screenshot(path=str(work / f"{nb_path.stem}.png"))
        errors = [m for m in console if not any(noise in m for noise in CONSOLE_NOISE)]
        if errors:
            problems.append(f"{name}: browser console errors: {errors[:5]}")
    except Exception:
        page.screenshot(path=str(work / f"{nb_path.stem}-failed.png"))
        raise
    finally:
        page.close()
    return problems
