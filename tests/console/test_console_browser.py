"""End to end in a real headless Chromium (Debian's, driven by Playwright): a reviewer opens
the console, approves a plan, starts its run, watches the steps turn green, opens the audit;
a page on another site cannot make the console act. Screenshots are kept in tmp_path."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from consoletools import TOKEN, save, settings, write_steps
from PIL import Image
from playwright.sync_api import BrowserContext, Page, sync_playwright

from planactor._home import home
from planactor.console import Server, create_app
from planactor.policy import KeyStore

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
GREEN = "rgb(198, 246, 213)"  # a succeeded step's box (console.css)


@pytest.fixture
def server(plans: Path, home: Path, keys: KeyStore) -> Iterator[Server]:
    app = create_app(settings(plans, home))
    running = Server(app, port=0)
    running.start()
    yield running
    running.stop()
    app.state.console.launcher.close()


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[BrowserContext]:
    assert os.access(CHROMIUM, os.X_OK), f"{CHROMIUM} is missing: apt-get install chromium"
    with sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"),  # a fresh user-data-dir
            executable_path=CHROMIUM,
            headless=True,
            args=ARGS,
            viewport={"width": 1280, "height": 900},
        )
        yield context
        context.close()


def _shot(page: Page, path: Path) -> Path:
    page.screenshot(path=str(path), full_page=True)
    with Image.open(path) as image:
        colours = image.convert("RGB").getcolors(maxcolors=1 << 20)
    assert colours is not None
    assert len(colours) > 20, f"{path} looks blank ({len(colours)} colours)"
    return path


def test_review_approve_run_and_audit_in_chromium(
    server: Server, browser: BrowserContext, plans: Path, tmp_path: Path
) -> None:
    """The reviewer's whole path, in a real browser, with screenshots that are not blank."""
    slow = json.loads((plans / "write.json").read_text())
    slow["steps"] = write_steps(tmp_path / "ledger.jsonl", pause_s=1.0)
    save(plans / "write.json", slow)
    page = browser.new_page()
    page.goto(server.url(TOKEN))
    assert page.locator("#plans tr[data-plan='write.json']").inner_text().count("alice") == 1
    _shot(page, tmp_path / "1-plans.png")

    page.click("text=write.json")
    assert page.inner_text("#intent") == "write the ledger"
    page.select_option("#approve-form select[name=identity]", "bob")
    page.click("#approve")
    page.wait_for_selector("#notice")
    assert page.inner_text("#notice") == "approved as bob"
    assert "may run now" in page.inner_text("#verdict")
    _shot(page, tmp_path / "2-plan-approved.png")

    page.click("#start-run")
    page.wait_for_url("**/runs/*")
    page.wait_for_selector('tr[data-step="check"][data-state="succeeded"]', timeout=30_000)
    # Watched as it happens: the first step is green while the last has not run yet.
    assert page.get_attribute('tr[data-step="done"]', "data-state") != "succeeded"
    _shot(page, tmp_path / "3-run-in-progress.png")
    page.wait_for_selector('#run[data-done="yes"]', timeout=60_000)
    assert page.inner_text("#run-status") == "succeeded"
    for row in page.locator("#steps tr[data-step]").all():
        assert row.get_attribute("data-state") == "succeeded"
    fill = page.eval_on_selector(
        'svg.dag g[data-step="write"] rect', "el => getComputedStyle(el).fill"
    )
    assert fill == GREEN
    _shot(page, tmp_path / "4-run-succeeded.png")

    page.click("#audit-link")
    page.wait_for_selector("#verification")
    assert "the record holds" in page.inner_text("#verification")
    run_id = page.url.split("/")[-2]
    assert page.inner_text("#anchor").startswith(f"{run_id}@")
    report = page.frame_locator("iframe.audit")
    assert run_id in report.locator("body").inner_text()
    _shot(page, tmp_path / "5-audit.png")


def test_a_page_on_another_site_cannot_make_the_console_act(
    server: Server, browser: BrowserContext
) -> None:
    """After the reviewer opened the console (cookie set), a forged cross-site form that
    rejects the plan in their name is refused and nothing is recorded; a browser without
    the token gets 401."""
    page = browser.new_page()
    page.goto(server.url(TOKEN))
    attack = browser.new_page()
    action = f"http://127.0.0.1:{server.port}/plans/write.json/reject"
    attack.set_content(
        f'<form method="post" action="{action}"><input name="identity" value="bob">'
        '<input name="reason" value="forged"><input name="plan_hash" value="x">'
        '<button id="go">go</button></form>'
    )
    with attack.expect_navigation() as navigation:
        attack.click("#go")
    response = navigation.value
    assert response is not None
    assert response.status in (401, 403)
    assert not (home() / "console" / "rejections.jsonl").exists()
    browser.clear_cookies()  # a browser that never had the token
    refused = browser.new_page().goto(f"http://127.0.0.1:{server.port}/plans")
    assert refused is not None
    assert refused.status == 401
