"""The retouch studio's page (/studio) in Debian's Chromium against the real server: two photos in (one dropped,
one chosen), the job followed to its end, each result over its original with its checks, the before/after divider
dragged, the zip downloaded, the job shown again after a reload; the same page at 1366x768 and 390x844 with
nothing running off the side.

The photos: a real product photo where the shared media is present, and gold rings drawn on a grey card. Waits
are for states, with timeouts; nothing is timed."""

from __future__ import annotations

import base64
import io
import json
import shutil
import zipfile
from pathlib import Path

import pytest
from conftest import MEDIA
from PIL import Image
from test_retouch_api import TOKEN, gold_ring

from tryon.config import Settings
from tryon.server.app import serve_in_background
from tryon.tools.bench_live import CHROMIUM_ARGS

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed (make deb)")
REAL = MEDIA / "products" / "ring_sapphire_solitaire_side_view_light_grey_bg.jpg"
JOB_TIMEOUT_MS = 900_000  # a generous bound on a busy 2-core machine
SIZES = {"laptop": (1366, 768), "phone": (390, 844)}

# A file dropped on the zone as a browser would deliver it: a DataTransfer with a File made from its bytes.
DROP_JS = """([name, type, b64]) => {
  const bytes = Uint8Array.from(atob(b64), c => c.charCodeAt(0));
  const dt = new DataTransfer();
  dt.items.add(new File([bytes], name, {type}));
  const zone = document.getElementById('drop');
  for (const t of ['dragenter', 'dragover', 'drop'])
    zone.dispatchEvent(new DragEvent(t, {dataTransfer: dt, bubbles: true, cancelable: true}));
}"""
# Whether anything sticks out past the viewport's right edge (a sideways scroll).
OVERFLOW_JS = "() => document.documentElement.scrollWidth - innerWidth"
SMALL_TEXT_JS = """min => [...document.querySelectorAll('body *')]
  .filter(e => e.checkVisibility() && [...e.childNodes].some(n => n.nodeType === 3 && n.textContent.trim()))
  .map(e => [e.className || e.tagName, e.textContent.trim().slice(0, 30), parseFloat(getComputedStyle(e).fontSize)])
  .filter(([, , px]) => px < min)"""


@pytest.fixture(scope="module")
def photos(tmp_path_factory) -> list[Path]:
    folder = tmp_path_factory.mktemp("photos")
    drawn = folder / "gold-ring.png"
    Image.fromarray(gold_ring(3)).save(drawn)
    if REAL.exists():
        return [drawn, REAL]
    other = folder / "gold-ring-2.jpg"
    Image.fromarray(gold_ring(4)).save(other, quality=92)
    return [drawn, other]


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    sync_api = pytest.importorskip("playwright.sync_api")
    settings = Settings(data_dir=tmp_path_factory.mktemp("data"), admin_token=TOKEN)
    with serve_in_background(settings) as base, sync_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium, base
        chromium.close()


def open_studio(browser, size: tuple[int, int]):
    chromium, base = browser
    context = chromium.new_context(bypass_csp=True, accept_downloads=True,  # the test evaluates strings
                                   viewport={"width": size[0], "height": size[1]})
    page = context.new_page()
    page.goto(f"{base}/studio")
    page.wait_for_function("window.studio && window.studio.ready", timeout=30_000)
    return page


def test_studio_retouches_dropped_and_chosen_photos(browser, photos, tmp_path):
    page = open_studio(browser, SIZES["laptop"])
    dropped, chosen = photos
    page.evaluate(DROP_JS, [dropped.name, "image/png", base64.b64encode(dropped.read_bytes()).decode()])
    page.set_input_files("#files", str(chosen))
    assert page.inner_text("#chosen").startswith("2 photos chosen")
    page.get_by_label("Size (px, optional)").fill("1000")
    page.get_by_label("Shadow", exact=True).select_option("drop")
    page.get_by_label("Admin token").fill(TOKEN)
    submit = page.get_by_role("button", name="Retouch 2 photos")
    submit.click()
    page.wait_for_function("window.studio.finished", timeout=JOB_TIMEOUT_MS)
    assert page.evaluate("[window.studio.done, window.studio.failed]") == [2, 0], page.inner_text("#result-list")
    assert "2 of 2 retouched. Finished." in page.inner_text("#status")

    cards = page.locator(".result")
    assert cards.count() == 2
    for i, name in enumerate([dropped.name, chosen.name]):
        card = cards.nth(i)
        assert card.get_attribute("data-state") == "done" and card.locator(".result-name").inner_text() == name
        card.locator("img.after").evaluate("img => img.decode()")  # the result loaded
        assert card.locator("img.after").evaluate("img => img.naturalWidth") == 1000
        assert card.locator("img.before").evaluate("img => img.naturalWidth") > 0  # the original beside it
        assert card.locator(".check.ok").count() >= 3 and card.get_by_text("✓ Background").count() == 1
        assert card.get_by_role("link", name=f"Download {Path(name).stem}.jpg").get_attribute("href")

    # The divider follows a drag across the first result, and the result is clipped to its right.
    first = cards.nth(0)
    slider = first.get_by_role("slider", name=f"Before/after divider for {dropped.name}")
    assert slider.input_value() == "50"
    box = first.locator(".compare").bounding_box()
    page.mouse.move(box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.5)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.35, box["y"] + box["height"] * 0.5, steps=5)
    page.mouse.move(box["x"] + box["width"] * 0.2, box["y"] + box["height"] * 0.5, steps=5)
    page.mouse.up()
    split = int(slider.input_value())
    clip = "img => getComputedStyle(img).clipPath"
    assert 15 <= split <= 25 and f" {split}%)" in first.locator("img.after").evaluate(clip)
    slider.focus()
    page.keyboard.press("ArrowRight")  # the range input is the keyboard's way
    assert int(slider.input_value()) == split + 1 and f" {split + 1}%)" in first.locator("img.after").evaluate(clip)

    page.screenshot(path=str(tmp_path / "studio-1366x768.png"))
    assert page.evaluate(OVERFLOW_JS) <= 0 and page.evaluate(SMALL_TEXT_JS, 12) == []

    # Download all: the zip of both results and the manifest.
    with page.expect_download() as wait:
        page.get_by_role("link", name="Download all (zip)").click()
    with zipfile.ZipFile(wait.value.path()) as z:
        names = set(z.namelist())
        manifest = json.loads(z.read("manifest.json"))
        assert Image.open(io.BytesIO(z.read(f"{chosen.stem}.jpg"))).size == (1000, 1000)
    assert names == {f"{dropped.stem}.jpg", f"{chosen.stem}.jpg", "manifest.json"}
    assert [f["ok"] for f in manifest["files"]] == [True, True] and manifest["options"]["shadow"] == "drop"

    # The job is in the address: a reload shows it again, the originals now from the server.
    assert page.url.endswith(f"?job={page.evaluate('window.studio.jobId')}")
    page.reload()
    page.wait_for_function("window.studio.ready && window.studio.finished", timeout=30_000)
    assert cards.count() == 2 and cards.nth(1).get_attribute("data-state") == "done"
    assert page.get_by_label("Shadow", exact=True).input_value() == "drop"  # the form says what the results were made with
    assert page.get_by_label("Size (px, optional)").input_value() == "1000"
    cards.nth(1).locator("img.before").evaluate("img => img.decode()")
    assert cards.nth(1).locator("img.before").evaluate("img => img.naturalWidth") > 0

    # The same results on a phone: one column, nothing past the right edge, the divider still there to drag.
    page.set_viewport_size({"width": SIZES["phone"][0], "height": SIZES["phone"][1]})
    page.wait_for_function("document.documentElement.scrollWidth <= innerWidth", timeout=10_000)
    boxes = [cards.nth(i).bounding_box() for i in range(2)]
    assert boxes[1]["y"] >= boxes[0]["y"] + boxes[0]["height"] and boxes[0]["width"] <= SIZES["phone"][0]
    first.scroll_into_view_if_needed()
    assert first.locator(".compare").bounding_box()["width"] > 250
    page.screenshot(path=str(tmp_path / "studio-390x844.png"), full_page=True)
    page.context.close()


def test_studio_on_a_phone_and_without_a_token(browser, photos):
    page = open_studio(browser, SIZES["phone"])
    assert page.evaluate(OVERFLOW_JS) <= 0 and page.evaluate(SMALL_TEXT_JS, 12) == []
    submit = page.get_by_role("button", name="Retouch")
    assert submit.is_disabled()  # nothing chosen yet
    page.set_input_files("#files", [str(p) for p in photos])
    page.get_by_label("Background", exact=True).select_option("colour")
    assert page.get_by_label("Background colour").is_visible()
    page.get_by_label("Admin token").fill("")
    page.get_by_role("button", name="Retouch 2 photos").click()
    assert "admin token" in page.get_by_role("alert").first.inner_text()
    page.get_by_label("Admin token").fill("not-the-right-token")
    page.get_by_role("button", name="Retouch 2 photos").click()
    page.wait_for_function("document.getElementById('form-error').textContent.includes('TRYON_ADMIN_TOKEN')",
                           timeout=30_000)
    assert page.locator(".result").count() == 0  # nothing was sent, so nothing waits
    assert page.evaluate(OVERFLOW_JS) <= 0
    page.context.close()
