"""Design from a sketch on the studio page (/studio) in Debian's Chromium against the real server: a heart drawn
on the canvas with the mouse becomes a pendant shown with its thumbnail, price, notes and a link that puts it on
in the live page; a photographed drawing uploaded instead becomes an earring; an open line is refused with the
server's reason; the missing token is said; on a phone nothing runs off the side. Screenshots go to
/tmp/sketchpage. Waits are for states, with timeouts; nothing is timed."""

from __future__ import annotations

import math
import re
import shutil
from pathlib import Path

import pytest
from PIL import Image
from test_sketch_api import heart_png

from tryon.config import Settings
from tryon.server.app import serve_in_background
from tryon.tools.bench_live import CHROMIUM_ARGS

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed (make deb)")
TOKEN = "a-long-enough-admin-token"
SHOTS = Path("/tmp/sketchpage")  # screenshots to look at
MAKE_TIMEOUT_MS = 300_000  # a generous bound on a busy 2-core machine
SIZES = {"laptop": (1366, 768), "phone": (390, 844)}
OVERFLOW_JS = "() => document.documentElement.scrollWidth - innerWidth"
SMALL_TEXT_JS = """min => [...document.querySelectorAll('#sketch *')]
  .filter(e => e.checkVisibility() && [...e.childNodes].some(n => n.nodeType === 3 && n.textContent.trim()))
  .map(e => [e.className || e.tagName, e.textContent.trim().slice(0, 30), parseFloat(getComputedStyle(e).fontSize)])
  .filter(([, , px]) => px < min)"""


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    sync_api = pytest.importorskip("playwright.sync_api")
    settings = Settings(data_dir=tmp_path_factory.mktemp("data"), admin_token=TOKEN)
    SHOTS.mkdir(parents=True, exist_ok=True)
    with serve_in_background(settings) as base, sync_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium, base
        chromium.close()


def open_studio(browser, size: tuple[int, int]):
    chromium, base = browser
    context = chromium.new_context(bypass_csp=True, viewport={"width": size[0], "height": size[1]})
    page = context.new_page()
    page.goto(f"{base}/studio")
    page.wait_for_function("window.studio && window.studio.ready && window.studio.sketch", timeout=30_000)
    page.locator("#sketch").scroll_into_view_if_needed()
    return page


def heart(t: float) -> tuple[float, float]:
    """A point of a heart's outline, in -1..1 (y down) of the canvas' half-size."""
    x = 16.0 * math.sin(t) ** 3
    y = -(13.0 * math.cos(t) - 5.0 * math.cos(2 * t) - 2.0 * math.cos(3 * t) - math.cos(4 * t))
    return x / 20.0, (y + 2.0) / 20.0


def draw(page, points: list[tuple[float, float]]) -> None:
    """One stroke with the mouse through `points` (-1..1 of the canvas, y down), pressed from first to last."""
    box = page.locator("#pad").bounding_box()
    cx, cy, r = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2, box["width"] / 2

    def to(p: tuple[float, float]) -> tuple[float, float]:
        return cx + r * p[0], cy + r * p[1]

    page.mouse.move(*to(points[0]))
    page.mouse.down()
    for p in points[1:]:
        page.mouse.move(*to(p), steps=2)
    page.mouse.up()


def outline(fraction: float = 1.0, n: int = 90) -> list[tuple[float, float]]:
    """A heart's outline, closed (back to its start) or, with `fraction` < 1, only that much of it."""
    ts = [2.0 * math.pi * fraction * i / n for i in range(n + 1)]
    return [heart(t) for t in ts]


def canvas_ink(page) -> float:
    """The fraction of the canvas' pixels that are dark (what is sent is black on white)."""
    return page.evaluate("""() => {
      const c = document.getElementById('pad');
      const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
      let dark = 0;
      for (let i = 0; i < d.length; i += 4) if (d[i] < 128) dark += 1;
      return dark / (c.width * c.height);
    }""")


def test_a_heart_drawn_on_the_canvas_becomes_a_pendant(browser):
    page = open_studio(browser, SIZES["laptop"])
    page.get_by_label("Admin token").fill(TOKEN)
    assert page.inner_text("#sketch-source") == "Nothing drawn yet."
    draw(page, outline())
    assert 0.005 < canvas_ink(page) < 0.1 and page.inner_text("#sketch-source") == "Your drawing will be sent."
    page.get_by_label("Pendant or earring").select_option("pendant")
    page.get_by_label("Height (mm)").fill("24")
    page.get_by_label("Metal of the piece").select_option("white_gold")
    page.get_by_role("button", name="Make it").click()
    card = page.locator("#design-card")
    card.wait_for(state="visible", timeout=MAKE_TIMEOUT_MS)
    assert page.locator("#sketch-error").is_hidden()
    thumb = card.locator("img.design-thumb")
    thumb.evaluate("img => img.decode()")  # the thumbnail loaded
    assert thumb.evaluate("img => img.naturalWidth") > 0
    name = card.locator(".design-name").inner_text()
    assert "pendant" in name and "24 mm" in name and "white gold" in name
    assert re.search(r"\d", card.locator(".design-price").inner_text())
    notes = card.locator(".design-notes li").all_inner_texts()
    assert any("thinnest metal" in n for n in notes), notes
    item_id = page.evaluate("window.studio.sketch.made")
    assert item_id.startswith("design-pendant-") and item_id in card.locator(".design-id").inner_text()
    assert card.get_by_role("link", name="Try it on").get_attribute("href") == f"/?items={item_id}"
    listed = {i["id"]: i for i in page.request.get(f"{browser[1]}/api/items").json()["items"]}
    assert listed[item_id]["metal"] == "white_gold" and listed[item_id]["price"]["amount"] > 0
    card.scroll_into_view_if_needed()
    page.screenshot(path=str(SHOTS / "sketch-1366x768.png"), full_page=True)
    assert page.evaluate(OVERFLOW_JS) <= 0 and page.evaluate(SMALL_TEXT_JS, 12) == []

    # Clear empties the canvas; Make it with nothing drawn says so, without asking the server.
    page.get_by_role("button", name="Clear the drawing").click()
    assert canvas_ink(page) == 0 and page.inner_text("#sketch-source") == "Nothing drawn yet."
    page.get_by_role("button", name="Make it").click()
    assert "Draw the outline first" in page.inner_text("#sketch-error")
    page.context.close()


def test_an_open_line_is_refused_with_the_reason(browser):
    page = open_studio(browser, SIZES["laptop"])
    page.get_by_label("Admin token").fill(TOKEN)
    draw(page, outline(0.6))  # the heart's line stops well short of its start
    page.get_by_role("button", name="Make it").click()
    page.wait_for_function("window.studio.sketch.error !== '' && !window.studio.sketch.busy", timeout=MAKE_TIMEOUT_MS)
    error = page.locator("#sketch-error")
    assert error.is_visible() and "the outline does not close" in error.inner_text()
    assert page.locator("#design-card").is_hidden() and page.inner_text("#sketch-status") == "Nothing was made."
    page.screenshot(path=str(SHOTS / "sketch-open-line.png"), full_page=True)
    page.context.close()


def test_an_uploaded_drawing_on_a_phone_and_the_missing_token(browser, tmp_path):
    page = open_studio(browser, SIZES["phone"])
    assert page.evaluate(OVERFLOW_JS) <= 0 and page.evaluate(SMALL_TEXT_JS, 12) == []
    photo = tmp_path / "paper-heart.png"
    photo.write_bytes(heart_png())
    page.set_input_files("#sketch-file", str(photo))
    page.wait_for_function("document.getElementById('sketch-source').textContent.includes('paper-heart.png')",
                           timeout=10_000)
    assert canvas_ink(page) > 0.001  # the chosen drawing is shown on the canvas
    page.get_by_label("Admin token").fill("")
    page.get_by_role("button", name="Make it").click()
    assert "admin token" in page.inner_text("#sketch-error")
    page.get_by_label("Admin token").fill(TOKEN)
    page.get_by_label("Pendant or earring").select_option("earring")
    page.get_by_role("button", name="Make it").click()
    card = page.locator("#design-card")
    card.wait_for(state="visible", timeout=MAKE_TIMEOUT_MS)
    assert "earring from the sketch paper-heart" in card.locator(".design-name").inner_text()
    card.locator("img.design-thumb").evaluate("img => img.decode()")
    card.scroll_into_view_if_needed()
    assert page.evaluate(OVERFLOW_JS) <= 0
    assert card.bounding_box()["width"] <= SIZES["phone"][0]
    page.screenshot(path=str(SHOTS / "sketch-390x844.png"), full_page=True)
    with Image.open(SHOTS / "sketch-390x844.png") as shot:
        assert shot.width == SIZES["phone"][0]
    page.context.close()
