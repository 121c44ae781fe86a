"""A newcomer's first minutes, as the README invites: `make run` on a port other than 8000,
with no KINDRED_SITE_URL. The demo's threads are there to read, and the live parts (chat,
the preview) work, because the site URL follows the port; desktop and phone."""

from __future__ import annotations

import os
import signal
import subprocess
import time
import urllib.request
from collections.abc import Iterator

import pytest
from playwright.sync_api import expect

from tests.conftest import skip_or_fail
from tests.e2e.conftest import AXE, ROOT, assert_accessible, free_port, screenshot
from tests.helpers import PASSPHRASE

DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def make_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`PORT=<n> make run`, exactly as typed, with its data in a directory of its own."""
    if subprocess.run(["make", "-q", "install"], cwd=ROOT).returncode != 0:
        skip_or_fail("the virtualenv is older than pyproject.toml: run `make install` first")
    port = free_port()
    assert port != 8000
    data = tmp_path_factory.mktemp("make-run")
    environ = {k: v for k, v in os.environ.items() if not k.startswith("KINDRED_")}
    environ |= {"HOST": "127.0.0.1", "PORT": str(port), "KINDRED_DATA_DIR": str(data)}
    log = data / "make-run.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            ["make", "-s", "run"],
            cwd=ROOT,
            env=environ,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, log.read_text()
            try:
                with urllib.request.urlopen(f"{url}/healthz", timeout=1) as response:
                    if response.status == 200:
                        break
            except OSError:
                time.sleep(0.1)
            assert time.monotonic() < deadline, "make run did not start:\n" + log.read_text()
        assert f"open Kindred at {url}\n" in log.read_text()
        yield url
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(20)


def _newcomer(browser, url: str, viewport: dict[str, int], name: str):  # type: ignore[no-untyped-def]
    context = browser.new_context(base_url=url, viewport=viewport)
    context.add_init_script(path=str(AXE))
    context.set_default_timeout(10_000)
    joined = context.request.post(
        "/api/v1/signup", data={"pseudonym": name, "passphrase": PASSPHRASE}
    )
    assert joined.status == 201, joined.text()
    return context


@pytest.mark.parametrize(("size", "viewport"), [("desktop", DESKTOP), ("phone", PHONE)])
def test_make_run_on_another_port_shows_the_demo_and_its_live_parts_work(
    browser, make_run: str, size: str, viewport: dict[str, int]
) -> None:
    context = _newcomer(browser, make_run, viewport, f"Newcomer-{size}")
    try:
        page = context.new_page()
        page.goto("/")
        page.get_by_role("link", name="Recovery").first.click()
        threads = page.get_by_role("link", name="Ninety days today: what got you through")
        expect(threads).to_be_visible()
        expect(page.get_by_text("No threads here yet.")).to_have_count(0)
        expect(page.get_by_text("Demo-Robin").first).to_be_visible()
        assert_accessible(page, f"a demo community ({size})")
        screenshot(page, f"demo-community-{size}")
        threads.click()
        expect(page.get_by_text("A demo post, written to show how Kindred works")).to_be_visible()

        # The live preview (a same-origin fetch) is answered, not refused.
        page.goto("/c/recovery/new")
        page.get_by_label("Your post").fill("Glad to be *here*.")
        expect(page.locator("#preview-area em")).to_have_text("here")

        # Chat connects (before, its WebSocket was refused and it showed "Connection lost").
        page.goto("/chat/recovery")
        expect(page.locator("#chat-state")).to_have_text("Live")
        page.get_by_label("Your message").fill(f"Hello from a {size}")
        page.get_by_label("Your message").press("Enter")
        expect(page.locator("#chat-messages")).to_contain_text(f"Hello from a {size}")
    finally:
        context.close()
