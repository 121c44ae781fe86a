"""Browser tests: the real `kindred serve` on 127.0.0.1, driven by the system Chromium.

Playwright drives Debian's /usr/bin/chromium (its own browser download cannot work here).
axe-core, from npm, is added to every page as an init script (not subject to the page's
CSP) so each test can scan what it visits.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.conftest import skip_or_fail
from tests.helpers import PASSPHRASE

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = ROOT / "docs" / "screenshots"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"

try:
    from playwright.sync_api import expect
except ImportError:  # the browser fixture says why (a skip locally, a failure in CI)
    pass
else:
    # CI runs the server, Chromium and pytest side by side on two shared cores, where an
    # answer (a message's echo under load) can take longer to show than Playwright's default
    # 5 s. Each wait still ends as soon as the page is right; only a failure waits longer.
    expect.set_options(timeout=15_000)
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

pytestmark = pytest.mark.e2e


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/e2e" in str(item.path):
            item.add_marker(pytest.mark.e2e)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    url: str
    data_dir: Path
    process: subprocess.Popen
    env: dict[str, str] = field(default_factory=dict)


def start_server(data_dir: Path, extra_env: dict[str, str] | None = None) -> Server:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "KINDRED_DATA_DIR": str(data_dir),
        "KINDRED_SITE_URL": url,
        # Members in these flows act as established members; the new-member hold and link
        # rule have their own tests.
        "KINDRED_NEW_MEMBER_POSTS": "0",
        "KINDRED_LINK_POSTS": "0",
        **(extra_env or {}),
    }
    env.pop("KINDRED_DATABASE_URL", None) if "KINDRED_DATABASE_URL" not in (
        extra_env or {}
    ) else None
    kindred = Path(sys.executable).parent / "kindred"
    log = open(data_dir / "server.log", "w")  # noqa: SIM115 - closed with the process
    process = subprocess.Popen(
        [str(kindred), "serve", "--host", "127.0.0.1", "--port", str(port), "--demo"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError((data_dir / "server.log").read_text())
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=1) as response:
                if response.status == 200:
                    return Server(url, data_dir, process, env)
        except OSError:
            time.sleep(0.1)
    stop_server(process)
    raise RuntimeError("server did not start:\n" + (data_dir / "server.log").read_text())


def stop_server(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(5)


def make_admin(server: Server, name: str, passphrase: str = PASSPHRASE) -> None:
    """An administrator, made the way an operator makes one: `kindred create-admin`."""
    subprocess.run(
        [str(Path(sys.executable).parent / "kindred"), "create-admin", name, "--passphrase-stdin"],
        input=passphrase + "\n",
        env=server.env,
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    )


def member_id(server: Server, pseudonym: str) -> int:
    """A member's id, read from the server's database (for pages addressed by id)."""
    with sqlite3.connect(server.data_dir / "kindred.db") as db:
        (found,) = db.execute(
            "SELECT id FROM member WHERE pseudonym_key = ?", (pseudonym.casefold(),)
        ).fetchone()
    return int(found)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    running = start_server(tmp_path_factory.mktemp("e2e-data"))
    try:
        yield running
    finally:
        stop_server(running.process)


# Module scope, not session: Playwright's sync API keeps an event loop running in this thread
# while it is open, and the async tests collected after tests/e2e need the thread's loop free.
@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        skip_or_fail("Chromium is not installed (apt-get install chromium)")
    if not AXE.exists():
        skip_or_fail("axe-core is not installed (npm ci)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        skip_or_fail("playwright is not installed (pip install -e '.[dev]')")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def new_context(browser, server: Server):
    """Make a fresh browser profile (its own cookies), with axe-core ready on every page."""
    contexts = []

    def make(**options: object):
        context = browser.new_context(base_url=server.url, **options)
        context.add_init_script(path=str(AXE))
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_context):
    return new_context().new_page()


def assert_accessible(page, label: str = "") -> None:
    """axe-core on the current page: no serious or critical WCAG 2.x A/AA violations."""
    result = page.evaluate(
        """async () => {
            const r = await axe.run(document, {runOnly: {type: 'tag', values:
              ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice']}});
            return r.violations.filter(v => ['serious', 'critical'].includes(v.impact))
              .map(v => ({id: v.id, impact: v.impact, help: v.help,
                          nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}));
        }"""
    )
    assert result == [], f"accessibility violations on {label or page.url}: {result}"


def screenshot(page, name: str) -> None:
    """Screenshots in docs/ are taken here, by the tests, never by hand."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
