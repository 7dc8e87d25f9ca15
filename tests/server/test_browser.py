"""The live try-on in a real browser: Debian's Chromium driven by Playwright, a fake camera fed from a clip
made of a real photo (y4m), real WebRTC to the real server running in this process."""

import io
import json
import re
import shutil
import time
import urllib.request
from pathlib import Path

import av
import cv2
import numpy as np
import pytest
from conftest import write_y4m
from PIL import Image

from tryon.config import Settings
from tryon.server.app import serve_in_background
from tryon.tools.bench import letterbox

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed (make deb)")
ITEM = "hoop-round-40mm-yellow-gold"
HAND_PHOTO = "hands/back_of_hand_outdoor.jpg"  # a right hand, back up, fingers to the right (1280x960)
# The base of that hand's ring finger in the letterboxed 640x480 camera frame (where MediaPipe hands puts the
# ring anchor; the middle and little fingers' are 55-60 px away).
RING_FINGER_XY = (357, 309)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    # Every page here comes from 127.0.0.1: let that one client hold both seats.
    settings = Settings(data_dir=tmp_path_factory.mktemp("data"), max_sessions=2, max_seats_per_client=2)
    with serve_in_background(settings) as base:
        yield base


def health(base: str) -> dict:
    return json.load(urllib.request.urlopen(f"{base}/api/health"))


def _browser(playwright, y4m: Path):
    return playwright.chromium.launch(executable_path=CHROMIUM, args=[
        "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
        f"--use-file-for-fake-video-capture={y4m}", "--disable-background-networking",
        "--disable-component-update", "--no-sandbox", "--autoplay-policy=no-user-gesture-required"])


@pytest.fixture(scope="module")
def playwright():
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        yield p


@pytest.fixture(scope="module")
def browser(playwright, astronaut, tmp_path_factory):
    # A still camera: what differs between two snapshots is what the server drew.
    b = _browser(playwright, write_y4m(tmp_path_factory.mktemp("cam") / "face.y4m", [letterbox(astronaut)] * 10))
    yield b
    b.close()


@pytest.fixture
def pages(server):
    """Open pages; whatever happens in the test, they close and the server lets their sessions go."""
    opened = []
    yield opened
    for page in opened:
        close(page)
    t0 = time.time()
    while health(server)["sessions"] and time.time() - t0 < 15:
        time.sleep(0.1)


def close(page) -> None:
    """As a person closing the tab: the page's unload handlers run, then its context goes."""
    if not page.is_closed():
        page.close(run_before_unload=True)
    page.context.close()


def open_page(browser, base: str, pages: list, query: str = f"?nomirror=1&items={ITEM}", ready: bool = True):
    context = browser.new_context(permissions=["camera"], accept_downloads=True,
                                  bypass_csp=True)  # wait_for_function evaluates strings; the page never does
    page = context.new_page()
    pages.append(page)
    page.goto(f"{base}/{query}")
    if ready:
        page.evaluate("window.tryon.ready")
    return page


def wait_stats(page, timeout_s: float = 10.0) -> dict:
    t0 = time.time()
    while time.time() - t0 < timeout_s:
        stats = page.evaluate("window.tryon.lastStats")
        if stats and stats.get("fps"):
            return stats
        time.sleep(0.2)
    raise AssertionError("no stats from the server")


def catalog_items(base: str) -> list[dict]:
    return json.load(urllib.request.urlopen(f"{base}/api/items"))["items"]


def snapshot(page, base: str) -> np.ndarray:
    reply = page.evaluate("window.tryon.send({cmd: 'snapshot', mirror: false})")
    data = urllib.request.urlopen(base + reply["url"]).read()
    # WebRTC may send a smaller picture while its bandwidth estimate ramps up: compare at the camera's size.
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB").resize((640, 480))).astype(np.int16)


def test_jewelry_comes_back_near_the_ear_and_switching_items_changes_it(browser, server, pages):
    page = open_page(browser, server, pages)
    stats = wait_stats(page)
    assert stats["face"] is True
    time.sleep(1.0)
    hoop = snapshot(page, server)
    page.evaluate("window.tryon.send({cmd: 'set_items', items: []})")
    time.sleep(0.5)
    bare = snapshot(page, server)
    page.evaluate("window.tryon.send({cmd: 'set_items', items: ['stud-diamond-6mm-yellow-gold']})")
    time.sleep(0.5)
    stud = snapshot(page, server)
    hoop_px, stud_px = drawn(hoop, bare), drawn(stud, bare)
    ys, xs = np.nonzero(hoop_px)
    assert hoop_px.sum() > 60, "no hoop drawn"
    # The astronaut's ears in the letterboxed frame: about x 80 + (175 and 272) * 480 / 512, y 125 * 480 / 512;
    # her short hair leaves both in view, so both wear a hoop.
    for ear_x in (244, 335):
        near = np.abs(xs - ear_x) < 40
        assert near.sum() > 30 and 100 < np.median(ys[near]) < 200, ear_x
    assert 5 < stud_px.sum() < hoop_px.sum() / 2  # a stud is much smaller than a 40 mm hoop


def drawn(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """What a piece adds to the same still frame, above the video codec's noise."""
    d = cv2.GaussianBlur(np.abs(a - b).sum(axis=2).astype(np.float32), (0, 0), 1.0)
    return d > 60


def test_commands_are_acknowledged_and_bad_ones_get_clear_errors(browser, server, pages):
    page = open_page(browser, server, pages)
    ok = page.evaluate("window.tryon.send({cmd: 'set_variant', site: 'ears', metal: 'rose_gold'})")
    # No 40 mm round hoop comes in rose gold: the nearest sibling that does (25 mm) is worn instead.
    assert ok["ok"] and ok["item"] == "hoop-round-25mm-rose-gold"
    errors = page.evaluate("""async () => {
        const tries = [{cmd: 'set_items', items: ['nope']}, {cmd: 'fly'}, {cmd: 'compare', on: true, split: 7},
                       {cmd: 'set_variant', site: 'ears', metal: 'copper'}, {cmd: 'record', action: 'stop'}];
        const out = [];
        for (const t of tries) out.push(await window.tryon.send(t).then(() => 'accepted', e => String(e)));
        return out;
    }""")
    assert "Unknown item 'nope'" in errors[0] and "unknown command 'fly'" in errors[1]
    assert "0 to 1" in errors[2] and "no round hoop with metal copper" in errors[3] and "not recording" in errors[4]
    raw = page.evaluate("""() => new Promise(resolve => {
        const ch = window.tryon.channel;
        const seen = ev => {
            const m = JSON.parse(ev.data);
            if (m.id === null) { ch.removeEventListener('message', seen); resolve(m); }
        };
        ch.addEventListener('message', seen);
        ch.send('{not json');
    })""")
    assert raw["ok"] is False and "not JSON" in raw["error"]
    before = page.evaluate("window.tryon.lastStats")
    time.sleep(1.5)
    assert page.evaluate("window.tryon.lastStats") != before  # still running


def test_snapshot_and_clip_download_as_valid_files(browser, server, pages, tmp_path):
    page = open_page(browser, server, pages)
    wait_stats(page)
    with page.expect_download() as shot:
        page.click("#snapshot")
    png = tmp_path / "shot.png"
    shot.value.save_as(png)
    w, h = Image.open(png).size
    assert w * 3 == h * 4 and w >= 320  # the camera's 4:3 (WebRTC may still be ramping up to 640x480)
    page.click("#record")
    time.sleep(2.5)
    assert re.fullmatch(r"00:0[1-4] / 00:30", page.inner_text("#timer").strip())
    page.click("#record")
    link = page.wait_for_selector("#downloads a[download][href$='.mp4']", timeout=15000)
    with page.expect_download() as clip:
        link.click()
    mp4 = tmp_path / "clip.mp4"
    clip.value.save_as(mp4)
    with av.open(str(mp4)) as c:
        assert c.streams.video[0].codec_context.name == "h264"
        frames = list(c.decode(video=0))
    assert len(frames) >= 20 and 1.5 < float(frames[-1].time) < 4.0
    links = page.eval_on_selector_all("#downloads a[download]", "els => els.map(e => e.href)")
    assert any(h.endswith(".png") for h in links) and any(h.endswith(".mp4") for h in links)


def test_the_page_runs_under_its_content_security_policy(browser, server):
    """No test shortcut here: the page as a shopper gets it, with the server's CSP enforced."""
    context = browser.new_context(permissions=["camera"])
    page = context.new_page()
    violations: list[str] = []
    page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
    try:
        page.goto(f"{server}/?nomirror=1&items={ITEM}")
        page.evaluate("window.tryon.ready")
        wait_stats(page)
        assert "script-src 'self'" in urllib.request.urlopen(f"{server}/").headers["content-security-policy"]
        assert not violations, violations
    finally:
        close(page)


def test_two_sessions_run_at_once_a_third_is_refused_and_closing_frees_everything(browser, server, pages):
    both = [open_page(browser, server, pages) for _ in range(2)]
    for p in both:
        wait_stats(p)  # frames come back (how fast is `tryon bench --live`'s business, not a test's)
    assert health(server)["sessions"] == 2
    third = open_page(browser, server, pages, ready=False)
    third.wait_for_function("document.querySelector('#status').textContent.includes('error')", timeout=15000)
    assert "busy" in third.inner_text("body").lower()
    for p in both:  # the running sessions keep going: their frame counts still grow
        before = wait_stats(p)["frames"]
        p.wait_for_function(f"window.tryon.lastStats.frames > {before}", timeout=10000)
    for p in pages:
        close(p)
    pages.clear()
    t0 = time.time()
    while health(server)["sessions"] and time.time() - t0 < 15:
        time.sleep(0.2)
    assert health(server)["sessions"] == 0


def test_no_face_or_hand_shows_the_hint_and_the_video_keeps_running(playwright, server, pages, tmp_path):
    wall = np.full((480, 640, 3), 90, np.uint8)
    wall[::40] = 200
    b = _browser(playwright, write_y4m(tmp_path / "wall.y4m", [wall] * 10))
    try:
        page = open_page(b, server, pages)
        stats = wait_stats(page)
        assert stats["face"] is False and stats["fps"] >= 5
        page.wait_for_function("!document.querySelector('#hint').hidden", timeout=5000)
        assert "face" in page.inner_text("#hint")
        # Wearing a ring instead: the hint asks for a hand.
        page.evaluate("id => window.tryon.send({cmd: 'set_items', items: [id]})", ring_ids(server)[0])
        page.wait_for_function("document.querySelector('#hint').textContent.includes('hand')", timeout=5000)
        assert not page.is_hidden("#hint") and wait_stats(page)["tracking"] == ["hands"]
        # A necklace: the hint asks for the shoulders (the face tracker runs for it too, but is not enough).
        page.evaluate("id => window.tryon.send({cmd: 'set_items', items: [id]})", neck_ids(server)[0])
        page.wait_for_function("document.querySelector('#hint').textContent.includes('shoulders')", timeout=5000)
        stats = wait_stats(page)
        assert stats["tracking"] == ["face", "neck"] and stats["neck"] is False and not page.is_hidden("#hint")
    finally:
        b.close()


def neck_ids(base: str) -> list[str]:
    neck = [i["id"] for i in catalog_items(base) if i["site"] == "neck"]
    if not neck:
        pytest.skip("the catalog has no necklaces yet (items with site 'neck')")
    return neck


def test_necklaces_are_picked_in_their_tab_layered_swapped_and_taken_off(browser, server, pages):
    items = {i["id"]: i for i in catalog_items(server)}
    families = {i["family"]: i["family_name"] for i in items.values() if i["site"] == "neck"}
    if len(families) < 3:
        pytest.skip("the catalog has fewer than three necklace families")
    pendant, choker, pearls = "pendant-solitaire", "necklace-choker", "necklace-strand"
    page = open_page(browser, server, pages, query="?nomirror=1&items=")  # the astronaut: head and shoulders
    wait_stats(page)
    time.sleep(0.5)
    bare = snapshot(page, server)

    tab = ".section-tab[data-section='neck']"
    assert page.inner_text(tab).strip() == "Necklaces" and page.is_hidden(f".card[data-family='{pendant}']")
    page.click(tab)
    page.wait_for_function("[...document.querySelectorAll('.card:not([hidden]) img')]"
                           ".every(i => i.complete && i.naturalWidth > 0)", timeout=10000)
    shown = page.eval_on_selector_all(".card:not([hidden])", "cs => cs.map(c => [c.dataset.family, c.innerText])")
    assert {f: n.strip() for f, n in shown} == families  # chains, the pearl strand, the choker and the pendants

    def wears(*expected: str) -> None:
        """Waits until the server confirmed these families, in this order, each at the neck (no "@where")."""
        page.wait_for_function("""fams => {
            const family = new Map(window.tryon.items.map(i => [i.id, i.family]));
            const specs = window.tryon.confirmed;
            return specs.length === fams.length && specs.every((s, i) => family.get(s) === fams[i]);
        }""", arg=list(expected), timeout=15000)
        assert page.evaluate("window.tryon.worn") == page.evaluate("window.tryon.confirmed")

    page.click(f".card[data-family='{pendant}']")
    wears(pendant)
    facts = page.inner_text("#variants .item-facts")
    assert re.fullmatch(r"45\scm long, sits on the collarbone · pendant 6\.5\s×\s11\smm", facts), facts
    assert "Pendant" in page.inner_text("#variants [aria-label='Pendant']")
    page.click(f".card[data-family='{choker}']")  # layered with the pendant
    wears(pendant, choker)
    assert page.inner_text(f"{tab} .section-count") == "2" and "Two necklaces" in page.inner_text("#variants")

    t0 = time.time()  # the pose (shoulders) starts with the first necklace
    while not (stats := wait_stats(page))["neck"] and time.time() - t0 < 10:
        time.sleep(0.3)
    assert stats["tracking"] == ["face", "neck"] and stats["neck"] is True and page.is_hidden("#hint")
    time.sleep(1.0)
    px = drawn(snapshot(page, server), bare)
    ys, xs = np.nonzero(px)
    # Under her chin: her sternal notch in the letterboxed frame is near (80 + 210 * 480 / 512, 205 * 480 / 512).
    assert px.sum() > 100 and abs(np.median(xs) - 277) < 45 and 180 < np.median(ys) < 280

    page.click(f".card[data-family='{pearls}']")  # a third: it takes the place of the selected one (the choker)
    wears(pendant, pearls)
    page.click(f".card[data-family='{pearls}']")  # tapped again: taken off
    wears(pendant)


def ring_ids(base: str) -> list[str]:
    rings = [i["id"] for i in catalog_items(base) if i["site"] == "finger"]
    if not rings:
        pytest.skip("the catalog has no rings yet (items with site 'finger')")
    return rings


@pytest.fixture(scope="module")
def hand_browser(playwright, tmp_path_factory):
    from conftest import load_rgb  # skips, saying why, where ../shared/media is absent

    hand = letterbox(load_rgb(HAND_PHOTO))
    b = _browser(playwright, write_y4m(tmp_path_factory.mktemp("cam") / "hand.y4m", [hand] * 10))
    yield b
    b.close()


def test_a_ring_picked_in_the_page_is_worn_on_the_ring_finger_and_measured(hand_browser, server, pages):
    items = {i["id"]: i for i in catalog_items(server)}
    rings = [i for i in items.values() if i["site"] == "finger"]
    if not rings:
        pytest.skip("the catalog has no rings yet (items with site 'finger')")
    assert {"ring", "index", "left_ring", "right_little"} <= set(rings[0]["places"])
    family = "ring-band" if any(r["family"] == "ring-band" for r in rings) else rings[0]["family"]
    sizes = sorted({r["size_mm"] for r in rings if r["family"] == family})
    page = open_page(hand_browser, server, pages, query="?nomirror=1&items=")  # nothing worn at first
    stats = wait_stats(page)
    assert stats["tracking"] == [] and page.is_hidden("#hint") and page.is_hidden("#sizes")
    time.sleep(0.5)
    bare = snapshot(page, server)

    # Through the page: the rings, the ring's card, then the right hand (the photo's), the ring finger, the
    # widest band.
    assert page.is_hidden(f".card[data-family='{family}']")  # the catalog opens on the earrings
    page.click(".section-tab[data-section='finger']")
    page.click(f".card[data-family='{family}']")
    page.wait_for_selector("#variants [data-hand='both'][aria-pressed='true']")
    page.click("#variants [data-hand='right']")
    page.click("#variants [data-finger='index']")
    page.click("#variants [data-finger='ring']")
    page.click(f"#variants [data-size='{sizes[-1]:g}']")
    page.wait_for_function("window.tryon.confirmed.length === 1 && window.tryon.confirmed[0].endsWith('@right_ring')"
                           f" && window.tryon.confirmed[0].includes('{sizes[-1]:g}mm')", timeout=15000)
    spec = page.evaluate("window.tryon.confirmed[0]")
    assert items[spec.split("@")[0]]["family"] == family and page.evaluate("window.tryon.worn") == [spec]

    t0 = time.time()  # the hand tracker starts with the first ring
    while (stats := wait_stats(page))["hand_count"] < 1 and time.time() - t0 < 10:
        time.sleep(0.3)
    assert stats["tracking"] == ["hands"] and stats["face"] is False and stats["hand_count"] == 1
    hand = stats["hands"][0]
    assert hand["side"] == "right" and set(hand["ring_size"]) == {"thumb", "index", "middle", "ring", "little"}
    assert page.is_hidden("#hint")  # no "we can't see your face" while trying a ring with the hand in view
    time.sleep(1.0)
    ringed = snapshot(page, server)
    px = drawn(ringed, bare)
    ys, xs = np.nonzero(px)
    assert px.sum() > 80, "no ring drawn"
    assert np.hypot(np.median(xs) - RING_FINGER_XY[0], np.median(ys) - RING_FINGER_XY[1]) < 25
    assert np.ptp(xs) < 80 and np.ptp(ys) < 80  # one ring on one finger, not all over the hand

    # The measured ring size of that finger, labelled as an estimate.
    page.wait_for_function("document.querySelector('#sizes .size-value:not(.missing)')", timeout=5000)
    assert "estimate" in page.inner_text("#sizes .sizes-title").lower()
    row = page.inner_text("#sizes .size-row[data-side='right']")
    m = re.search(r"Right ring finger\s*⌀ (\d+\.\d) ± (\d+\.\d) mm · US (\d+)[¼½¾]? · EU (\d+)", row)
    assert m, row
    assert 13.0 < float(m[1]) < 25.0 and 0.0 < float(m[2]) < 5.0 and 2 <= int(m[3]) <= 16 and 40 <= int(m[4]) <= 80

    # A place a ring cannot take: a clear error over the control channel; the ring and the session stay.
    error = page.evaluate("s => window.tryon.send({cmd: 'set_items', items: [s]}).then(() => 'accepted', String)",
                          spec.split("@")[0] + "@left_ear")
    assert "cannot be worn at 'left_ear'" in error and "left_ring" in error and "right_index" in error
    assert page.evaluate("window.tryon.confirmed") == [spec] and page.evaluate("window.tryon.worn") == [spec]
    before = page.evaluate("window.tryon.lastStats")
    time.sleep(1.5)
    after = wait_stats(page)
    assert after != before and after["fps"] >= 5 and after["hand_count"] == 1
    assert drawn(snapshot(page, server), bare).sum() > 80  # still wearing it

    # Another ring stacks on the same finger (two at most); moving it sends it to its own finger.
    other = next(r["family"] for r in rings if r["family"] != family)
    page.click(f".card[data-family='{other}']")
    page.wait_for_function("window.tryon.confirmed.length === 2"
                           " && window.tryon.confirmed.every(s => s.endsWith('@right_ring'))", timeout=15000)
    page.click("#variants [data-finger='middle']")
    page.wait_for_function("window.tryon.confirmed[1].endsWith('@right_middle')", timeout=15000)
    assert page.evaluate("window.tryon.confirmed")[0] == spec
