""""Suggest for me" in real Chromium, on the live page and the kiosk: a still of the (fake) camera goes to
POST /api/advise, the suggestions show with their reasons, and one tap on "Try on" puts the piece on (the
server confirms it over the data channel)."""

from __future__ import annotations

import json
import os
import shutil
import time
import urllib.request
from pathlib import Path

import pytest
from conftest import write_y4m

from tryon.config import Settings
from tryon.server.app import serve_in_background
from tryon.tools.bench import letterbox

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed (make deb)")
START_ITEM = "stud-diamond-4mm-white-gold"
SHOT = os.environ.get("TRYON_SUGGEST_SHOT")  # where to keep a screenshot of the panel (for a person to look at)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    settings = Settings(data_dir=tmp_path_factory.mktemp("data"), max_sessions=2, max_seats_per_client=2)
    with serve_in_background(settings) as base:
        yield base


@pytest.fixture(scope="module")
def browser(astronaut, tmp_path_factory):
    sync_api = pytest.importorskip("playwright.sync_api")
    cam = write_y4m(tmp_path_factory.mktemp("cam") / "face.y4m", [letterbox(astronaut)] * 10)
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
            f"--use-file-for-fake-video-capture={cam}", "--disable-background-networking",
            "--disable-component-update", "--no-sandbox", "--autoplay-policy=no-user-gesture-required"])
        yield b
        b.close()


@pytest.fixture
def pages(server):
    opened = []
    yield opened
    for page in opened:
        page.close(run_before_unload=True)
        page.context.close()
    t0 = time.time()
    while json.load(urllib.request.urlopen(f"{server}/api/health"))["sessions"] and time.time() - t0 < 15:
        time.sleep(0.1)


def _open(browser, url: str, pages: list, ready: str, viewport: dict | None = None):
    context = browser.new_context(permissions=["camera"], bypass_csp=True, viewport=viewport)
    page = context.new_page()
    pages.append(page)
    page.goto(url)
    page.evaluate(ready)
    return page


def _ask_and_check(page) -> list[dict]:
    """Click "Suggest for me", wait for the panel; the suggestions shown, each with its reason and buttons."""
    page.click("#suggest")
    page.wait_for_selector("#advice:not([hidden]) .advice-try", timeout=60_000)
    reasons = page.locator(".advice-reason").all_inner_texts()
    assert reasons and all(len(r) > 20 for r in reasons)
    assert any("cm chain sits" in r for r in reasons)
    assert page.locator(".advice-read").inner_text().endswith("face")
    assert page.locator("#suggest").inner_text() == "Suggest for me"  # ready for another go
    return [{"topic": li.get_attribute("data-topic"), "items": li.locator(".advice-try").evaluate_all(
        "bs => bs.map(b => b.dataset.item)")} for li in page.locator(".advice-item").all()]


def test_suggest_for_me_on_the_live_page_puts_a_piece_on(browser, server, pages):
    page = _open(browser, f"{server}/?nomirror=1&items={START_ITEM}", pages, "window.tryon.ready",
                 {"width": 1280, "height": 900})
    shown = _ask_and_check(page)
    advice = page.evaluate("window.tryon.advice")
    assert {s["topic"] for s in advice["suggestions"]} >= {"metal", "earrings", "necklace"}
    necklace = next(s for s in shown if s["topic"] == "necklace")["items"][0]
    page.locator(f".advice-item[data-topic=necklace] .advice-try[data-item='{necklace}']").first.click()
    page.wait_for_function(f"window.tryon.confirmed.includes({json.dumps(necklace)})", timeout=30_000)
    assert START_ITEM in page.evaluate("window.tryon.confirmed")  # a necklace joins the earrings
    earring = next(s for s in shown if s["topic"] == "earrings")["items"][0]
    page.locator(f".advice-item[data-topic=earrings] .advice-try[data-item='{earring}']").first.click()
    page.wait_for_function(f"window.tryon.confirmed.includes({json.dumps(earring)})", timeout=30_000)
    assert START_ITEM not in page.evaluate("window.tryon.confirmed") or earring == START_ITEM  # in its place
    if SHOT:
        page.screenshot(path=SHOT)
    page.click(".advice-close")
    assert page.locator("#advice").is_hidden()


def test_suggest_for_me_on_the_kiosk_puts_a_piece_on(browser, server, pages):
    page = _open(browser, f"{server}/kiosk", pages, "window.kiosk.ready", {"width": 1600, "height": 900})
    shown = _ask_and_check(page)
    necklace = next(s for s in shown if s["topic"] == "necklace")["items"][0]
    page.locator(f".advice-item[data-topic=necklace] .advice-try[data-item='{necklace}']").first.click()
    page.wait_for_function(f"window.kiosk.worn.includes({json.dumps(necklace)})", timeout=30_000)
    if SHOT:
        page.screenshot(path=SHOT.replace(".png", "-kiosk.png"))
