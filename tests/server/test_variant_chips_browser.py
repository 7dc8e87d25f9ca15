"""No silent surprises on the live page (issue 24), in Debian's Chromium against the real server: a variant chip
says what else it changes and does what it says; a size then a metal keeps the size; a share link that outlives
today shows its date; a measured ring size is a size sold."""

import json
import re
import shutil
import urllib.request
from pathlib import Path

import pytest

from tryon.config import Settings
from tryon.server.app import serve_in_background
from tryon.tools.bench import letterbox

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed (make deb)")
PEAR = "drop-diamond-pear-8mm-white-gold"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    # link_ttl_s: the default day, so every share link outlives today.
    settings = Settings(data_dir=tmp_path_factory.mktemp("data"), max_sessions=2, max_seats_per_client=2)
    with serve_in_background(settings) as base:
        yield base


@pytest.fixture(scope="module")
def page(server, astronaut, tmp_path_factory):
    import cv2

    sync_api = pytest.importorskip("playwright.sync_api")
    y4m = tmp_path_factory.mktemp("cam") / "face.y4m"
    rgb = letterbox(astronaut)
    with open(y4m, "wb") as f:
        f.write(f"YUV4MPEG2 W{rgb.shape[1]} H{rgb.shape[0]} F30:1 Ip A1:1 C420jpeg\n".encode())
        for _ in range(5):
            f.write(b"FRAME\n" + cv2.cvtColor(rgb, cv2.COLOR_RGB2YUV_I420).tobytes())
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
            f"--use-file-for-fake-video-capture={y4m}", "--disable-background-networking",
            "--disable-component-update", "--no-sandbox"])
        context = browser.new_context(permissions=["camera"], accept_downloads=True, bypass_csp=True,
                                      viewport={"width": 1280, "height": 900})
        page = context.new_page()
        page.goto(f"{server}/?nomirror=1&items={PEAR}")
        page.evaluate("window.tryon.ready")
        yield page
        page.close(run_before_unload=True)
        context.close()
        browser.close()


def wear(page, item_id: str) -> None:
    page.evaluate("id => window.tryon.send({cmd: 'set_items', items: [id]})", item_id)
    page.wait_for_function("id => window.tryon.confirmed.join() === id", arg=item_id, timeout=15000)


def chip_text(page, attr: str, value: str) -> str:
    return " ".join(page.inner_text(f"#variants [data-{attr}='{value}']").split())


def choose(page, attr: str, value: str, then: str) -> None:
    page.click(f"#variants [data-{attr}='{value}']")
    page.wait_for_function("id => window.tryon.confirmed.join() === id", arg=then, timeout=15000)


def test_a_chip_says_what_else_it_changes_and_does_what_it_says(page, server, tmp_path):
    wear(page, PEAR)
    # Before: "Silver" alone, and choosing it gave the 10 mm amethyst drop.
    assert chip_text(page, "metal", "silver") == "Silver · amethyst, 10 mm"
    assert chip_text(page, "stone", "amethyst") == "Amethyst · 10 mm, silver"
    assert chip_text(page, "size", "10") == "10 mm · amethyst, silver"
    assert chip_text(page, "metal", "white_gold") == "White gold"  # the piece's own: nothing else
    # No chip changes more than it says: each one against the server's choices for the piece.
    items = {i["id"]: i for i in json.load(urllib.request.urlopen(f"{server}/api/items"))["items"]}
    for attr, key in (("metal", "metal"), ("stone", "stone"), ("size_mm", "size")):
        for choice in items[PEAR]["variants"].get(attr, []):
            value = f"{choice['value']:g}" if attr == "size_mm" else choice["value"]
            text = chip_text(page, key, value).lower().replace("_", " ")
            for also in choice["also"].values():
                shown = f"{also:g} mm" if isinstance(also, float) else str(also).replace("_", " ")
                assert shown in text, (attr, value, text)
            assert ("·" in text) == bool(choice["also"])
    page.screenshot(path=str(tmp_path / "variant_chips.png"))  # to look at when it fails
    choose(page, "metal", "silver", then="drop-amethyst-pear-10mm-silver")


def test_40_mm_then_a_metal_stays_40_mm_and_a_metal_without_it_says_so(page):
    wear(page, "hoop-knife-25mm-yellow-gold")
    choose(page, "size", "40", then="hoop-knife-40mm-yellow-gold")
    assert chip_text(page, "metal", "white_gold") == "White gold"
    choose(page, "metal", "white_gold", then="hoop-knife-40mm-white-gold")
    # The round hoop comes in 40 mm in yellow gold only: rose gold says it goes back to 25 mm.
    wear(page, "hoop-round-25mm-rose-gold")
    choose(page, "size", "40", then="hoop-round-40mm-yellow-gold")
    assert chip_text(page, "size", "40") == "40 mm"
    assert chip_text(page, "metal", "rose_gold") == "Rose gold · 25 mm"  # before: "Rose gold", then 25 mm


def test_a_share_link_that_outlives_today_shows_its_date(page):
    wear(page, PEAR)
    with page.expect_download():
        page.click("#snapshot")
    text = page.inner_text("#downloads .expiry")
    # The link lives a day: before, "link valid until 14:05", as if it ended this afternoon.
    tomorrow = page.evaluate("new Date(Date.now() + 86400e3).toLocaleDateString(undefined, {month: 'short', "
                             "day: 'numeric'})")
    assert re.fullmatch(rf"link valid until {re.escape(tomorrow)}, \d\d:\d\d", text), text
    # Today's time alone; another year's with the year (the page's own formatter, in the browser's locale).
    shown = page.evaluate("""import('/format.js').then(({formatUntil}) => {
        const now = new Date(2031, 5, 3, 9, 30);
        return [formatUntil(new Date(2031, 5, 3, 23, 59), now), formatUntil(new Date(2032, 0, 2, 0, 5), now)];
    })""")
    assert shown[0] == "23:59" and re.fullmatch(r".*2032.*, 00:05", shown[1]), shown


def test_a_measured_little_finger_shows_a_ring_size_sold(page):
    # The page's formatter of the measured sizes (stats' ring_size: us, eu), as shipped.
    shown = page.evaluate("""import('/format.js').then(({formatRingSize}) =>
        [[0.25, 37.2], [4.25, 47.1], [6.75, 53.8], [15.5, 75.5]].map(([us, eu]) => formatRingSize(us, eu)))""")
    # Before: "US 0¼ · EU 37" for a little finger measured at 11.8 mm (the CLI: "US 0.25, EU 37.2").
    assert shown == ["below US 3 / EU 44", "US 4½ · EU 47", "US 7 · EU 54", "above US 13 / EU 70"]

