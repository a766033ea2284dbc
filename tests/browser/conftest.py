"""Browser-test plumbing: collected only when asked for, skipped cleanly without Chromium.

`pytest tests` (and so `make unit`) never collects this folder, so the unit phase does not
start JupyterLab; `pytest tests/browser` (what `make test-browser` runs) does. The fixtures
start a throw-away JupyterLab on a free localhost port and a headless Debian Chromium driven
by Playwright, and stop both even when the test fails.
"""

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

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
CHROMIUM = Path(os.environ.get("LSTM_COURSE_CHROMIUM", "/usr/bin/chromium"))
# Without these Chromium keeps trying to reach the network (updates, sync, field trials).
CHROMIUM_ARGS = [
    "--no-sandbox",  # root in a container: the sandbox needs user namespaces we may not have
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",  # small /dev/shm in containers crashes tabs otherwise
]
ONE_THREAD = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
TOTAL_BUDGET_S = 170  # one test, JupyterLab start to screenshot: bounded below 3 minutes


def _asked_for(config):
    """True when the command line names this folder or a file in it."""
    for arg in config.invocation_params.args:
        path = Path(config.invocation_params.dir, str(arg).split("::")[0]).resolve()
        if path == HERE or HERE in path.parents:
            return True
    return False


def pytest_ignore_collect(collection_path, config):
    if not _asked_for(config):
        return True  # `pytest tests`: leave the browser out of the unit run
    return None


def pytest_configure(config):
    config.addinivalue_line("markers", "browser: drives JupyterLab in headless Chromium")


class Deadline:
    """One time budget shared by every wait of a test, so the whole test stays bounded."""

    def __init__(self, seconds):
        self.end = time.monotonic() + seconds

    def left_s(self, cap_s):
        """Seconds to wait for the next step: at most cap_s, never past the deadline."""
        left = self.end - time.monotonic()
        if left <= 0:
            pytest.fail("the browser test ran out of its time budget")
        return min(cap_s, left)

    def left_ms(self, cap_s):
        return 1000 * self.left_s(cap_s)


@pytest.fixture
def deadline():
    return Deadline(TOTAL_BUDGET_S)


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Lab:
    """A running JupyterLab: its base URL, token, root folder and log."""

    def __init__(self, url, token, root, log):
        self.url, self.token, self.root, self.log = url, token, root, log

    def api(self, path):
        """GET a REST endpoint of the server, parsed from JSON."""
        request = urllib.request.Request(
            f"{self.url}{path}", headers={"Authorization": f"token {self.token}"}
        )
        with urllib.request.urlopen(request, timeout=5) as response:
            return json.loads(response.read())

    def log_tail(self, lines=40):
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


@pytest.fixture
def lab(tmp_path, deadline):
    """JupyterLab serving an empty temporary root (the test copies its notebook there).

    Its own config, runtime, settings and workspaces folders live under tmp_path, so neither
    the developer's ~/.jupyter nor the repository is read or written. Kernels inherit one
    thread (the lecture's budget assumes it).
    """
    root, home = tmp_path / "root", tmp_path / "jupyter"
    root.mkdir()
    for sub in ("config", "runtime", "settings", "workspaces"):
        (home / sub).mkdir(parents=True)
    # Answer Lab's "notified about Jupyter news?" toast in advance: it would cover the plot.
    news = home / "settings" / "@jupyterlab" / "apputils-extension"
    news.mkdir(parents=True)
    (news / "notification.jupyterlab-settings").write_text(json.dumps({"fetchNews": "false"}))
    port, token = _free_port(), secrets.token_hex(16)
    env = {
        **os.environ,
        **ONE_THREAD,
        "JUPYTER_CONFIG_DIR": str(home / "config"),
        "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
    }
    args = [
        sys.executable,
        "-m",
        "jupyterlab",
        "--no-browser",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={root}",
        f"--LabApp.user_settings_dir={home / 'settings'}",
        f"--LabApp.workspaces_dir={home / 'workspaces'}",
    ]
    if os.getuid() == 0:
        args.append("--allow-root")  # containers and CI run as root
    log = tmp_path / "lab.log"
    with log.open("wb") as out:
        server = subprocess.Popen(
            args, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    instance = Lab(f"http://127.0.0.1:{port}", token, root, log)
    try:
        stop = time.monotonic() + deadline.left_s(60)
        while True:
            try:
                instance.api("/api/status")
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > stop:
                    pytest.fail(f"JupyterLab did not answer on port {port}:\n{instance.log_tail()}")
                time.sleep(0.25)
        yield instance
    finally:
        _stop(server)


def _stop(server):
    """SIGTERM lets the server shut its kernels down; SIGKILL the group if it hangs."""
    if server.poll() is None:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(timeout=10)


@pytest.fixture
def page(deadline):
    """A fresh headless Chromium page (1280x1000), closed with its browser afterwards."""
    sync_api = pytest.importorskip("playwright.sync_api", reason="run scripts/install-browser-deps")
    if not (CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK)):
        pytest.skip(f"{CHROMIUM} is missing: run scripts/install-browser-deps")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=CHROMIUM_ARGS,
            headless=True,
            timeout=deadline.left_ms(60),
        )
        try:
            context = browser.new_context(viewport={"width": 1280, "height": 1000})
            yield context.new_page()
        finally:
            browser.close()


@pytest.fixture
def screenshots():
    """build/browser/, where the screenshots go (build/ is gitignored)."""
    folder = ROOT / "build" / "browser"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return folder
