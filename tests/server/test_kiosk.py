"""The in-store kiosk mirror: the real server, real WebRTC and MediaPipe, and Debian's Chromium driven by Playwright.

The kiosk's camera is a canvas (`canvas.captureStream()`) that shows either a real face photo (skimage's
astronaut) or an empty scene (a plain wall), switched mid-test, so that someone can step up and walk away.
Phone links point at 127.0.0.1 here (`public_url`): tests never reach for this machine's LAN address.
"""

from __future__ import annotations

import base64
import io
import json
import os
import queue
import shlex
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import av
import cv2
import numpy as np
import pytest
from conftest import BASE, decode_qr, svg_to_png
from fastapi.testclient import TestClient
from PIL import Image

from tryon.config import Settings
from tryon.kiosk import CHROMIUM_FLAGS, chromium_command, page_host, page_url, public_url
from tryon.server.app import create_app, free_port, serve_in_background
from tryon.server.kiosk import KioskSettings, phone_base_url, pick_lan_address
from tryon.tools.bench import letterbox
from tryon.tools.bench_live import CHROMIUM_ARGS

CHROMIUM = "/usr/bin/chromium"
needs_chromium = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed (make deb)")
ATTRACT_AFTER_S = 2.0
RESET_AFTER_S = 6.0
LINK_TTL_S = 25  # long enough to take a photo and a clip and fetch them, short enough to wait for
LANDSCAPE = {"width": 1280, "height": 720}
PORTRAIT = {"width": 720, "height": 1280}
MIN_TOUCH_PX = 64

# Runs before the page's own script: the camera is a canvas showing the face photo or an empty wall.
CAMERA_JS = """
(() => {
  const W = 640, H = 480;
  const canvas = document.createElement('canvas');
  canvas.width = W;
  canvas.height = H;
  const ctx = canvas.getContext('2d');
  const photo = new Image();
  photo.src = '__PHOTO__';
  let scene = '__SCENE__';
  let tick = 0;
  const draw = () => {
    if (scene === 'face' && photo.complete && photo.naturalWidth) {
      ctx.drawImage(photo, 0, 0, W, H);
    } else {
      ctx.fillStyle = 'rgb(110, 104, 96)';  // a plain wall with a few lines on it
      ctx.fillRect(0, 0, W, H);
      ctx.fillStyle = 'rgb(150, 144, 136)';
      for (let y = 0; y < H; y += 60) ctx.fillRect(0, y, W, 3);
    }
    tick ^= 1;  // one pixel changes, so every frame is a new one for the encoder
    ctx.fillStyle = tick ? '#000' : '#fff';
    ctx.fillRect(W - 1, H - 1, 1, 1);
  };
  let stream = null;
  navigator.mediaDevices.getUserMedia = async () => {
    await photo.decode().catch(() => {});
    if (!stream) {
      draw();
      stream = canvas.captureStream(30);
      setInterval(draw, 1000 / 30);
    }
    return stream;
  };
  window.__camera = { show: (what) => { scene = what; } };
})();
"""


# ---------------------------------------------------------------- no browser: settings, addresses, the command


def test_the_phone_link_uses_the_lan_address_unless_a_public_url_is_given():
    assert pick_lan_address(["127.0.1.1", "169.254.3.4", "fe80::1", "bad", "192.168.1.20"]) == "192.168.1.20"
    assert pick_lan_address(["93.184.216.34", "10.0.0.7"]) == "10.0.0.7"  # a private address first
    assert pick_lan_address(["127.0.0.1", "::1"]) is None
    lan = lambda: "192.168.1.20"  # noqa: E731
    assert phone_base_url(None, "http://127.0.0.1:8000/", lan) == "http://192.168.1.20:8000"
    assert phone_base_url(None, "http://localhost:8000/", lan) == "http://192.168.1.20:8000"
    assert phone_base_url(None, "http://10.1.2.3:9000/", lan) == "http://10.1.2.3:9000"  # already reachable
    assert phone_base_url(None, "http://127.0.0.1:8000/", lambda: None) == "http://127.0.0.1:8000"
    assert phone_base_url("https://mirror.example:8443/", "http://127.0.0.1:8000/", lan) == "https://mirror.example:8443"
    # The launcher: a wildcard address uses the LAN address; loopback only is refused with a warning.
    assert public_url("0.0.0.0", 8000, None, lan) == ("http://192.168.1.20:8000", None)
    assert public_url("192.168.1.5", 8001, None, lan) == ("http://192.168.1.5:8001", None)
    url, warning = public_url("127.0.0.1", 8000, None, lan)
    assert url == "http://127.0.0.1:8000" and "phones cannot" in warning
    assert "no address" in public_url("0.0.0.0", 8000, None, lambda: None)[1]
    assert public_url("0.0.0.0", 8000, "http://shop-mirror.lan:8000", lan) == ("http://shop-mirror.lan:8000", None)
    # A server on another loopback address is reached (and advertised) at that address, not at 127.0.0.1.
    assert public_url("127.0.0.2", 8000, None, lan)[0] == "http://127.0.0.2:8000"
    assert page_url(8000, host=page_host("127.0.0.2")) == "http://127.0.0.2:8000/kiosk"
    assert page_host("0.0.0.0") == "127.0.0.1" and page_host("::1") == "[::1]"


def test_kiosk_settings_are_checked():
    assert KioskSettings().link_ttl_s == 15 * 60  # the kiosk's default, not the 24 h of ordinary links
    with pytest.raises(ValueError, match="must not be shorter than attract_after_s"):
        KioskSettings(attract_after_s=10, reset_after_s=5)
    with pytest.raises(ValueError, match="http"):
        KioskSettings(public_url="192.168.1.20:8000")


def test_the_chromium_command_is_an_offline_full_screen_kiosk_on_the_local_page(tmp_path):
    url = page_url(8123, "portrait")
    assert url == "http://127.0.0.1:8123/kiosk?layout=portrait"
    command = chromium_command(url, tmp_path / "profile", "/usr/bin/chromium")
    assert command[0] == "/usr/bin/chromium"
    for flag in ("--kiosk", f"--app={url}", f"--user-data-dir={tmp_path / 'profile'}", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--use-fake-ui-for-media-stream"):
        assert flag in command
    assert not any(f.startswith("--unsafely-treat-insecure-origin-as-secure") for f in command)  # loopback is secure
    # A page served from a LAN address is not a secure context: Chromium is told to treat it as one (camera).
    lan = chromium_command("http://192.168.1.5:8000/kiosk", tmp_path, "chromium")
    assert "--unsafely-treat-insecure-origin-as-secure=http://192.168.1.5:8000" in lan


def _lines(stream) -> queue.Queue:
    out: queue.Queue = queue.Queue()
    threading.Thread(target=lambda: [out.put(line) for line in stream], daemon=True).start()
    return out


def _read_until(lines: queue.Queue, pattern: str, timeout_s: float) -> list[str]:
    seen = []
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=0.5)
        except queue.Empty:
            continue
        seen.append(line.rstrip("\n"))
        if pattern in line:
            return seen
    raise AssertionError(f"no {pattern!r} in the output: {seen}")


def test_tryon_kiosk_no_browser_serves_the_kiosk_and_prints_the_chromium_command(tmp_path):
    port = free_port()
    env = {**os.environ, "TRYON_DATA_DIR": str(tmp_path)}
    cli = [sys.executable, "-m", "tryon.cli", "kiosk", "--no-browser", "--host", "127.0.0.1", "--port", str(port),
           "--portrait", "--attract-after", "3", "--reset-after", "30", "--link-ttl", "120"]
    proc = subprocess.Popen(cli, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        lines = _lines(proc.stdout)
        seen = _read_until(lines, "--kiosk", timeout_s=90)
        command = shlex.split(seen[-1])
        url = f"http://127.0.0.1:{port}/kiosk?layout=portrait"
        assert command[0].endswith("chromium") and command[1:3] == ["--kiosk", f"--app={url}"]
        assert f"--user-data-dir={tmp_path / 'kiosk-chromium'}" in command and set(CHROMIUM_FLAGS) <= set(command)
        assert any("phones cannot" in line for line in seen)  # it listens on loopback only
        config = json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/api/kiosk"))
        assert config == {"attract_after_s": 3.0, "reset_after_s": 30.0, "link_ttl_s": 120,
                          "handoff_base": f"http://127.0.0.1:{port}"}
        page = urllib.request.urlopen(url).read().decode()
        assert 'src="kiosk.js"' in page and "kiosk.css" in page
        proc.send_signal(signal.SIGTERM)  # as systemd stops it
        assert proc.wait(30) == 0
        _read_until(lines, "kiosk stopped", timeout_s=5)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    bad = subprocess.run([sys.executable, "-m", "tryon.cli", "kiosk", "--no-browser", "--attract-after", "9",
                          "--reset-after", "3"], env=env, capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "must not be shorter" in bad.stderr


def test_other_machines_reach_only_the_hand_off_links(tmp_path):
    app = create_app(Settings(data_dir=tmp_path), KioskSettings(lan_handoff_only=True, public_url="http://10.0.0.2:8000"))
    with (TestClient(app, base_url=BASE, client=("192.168.1.33", 50000)) as phone,
          TestClient(app, base_url=BASE, client=("127.0.0.1", 50001)) as local):
        media = app.state.tryon.store.put(b"\x89PNG not really", ".png", 60)
        name = media.url.rsplit("/", 1)[1]
        assert phone.get(f"/m/{name}").status_code == 200 and phone.get(media.url).content == b"\x89PNG not really"
        for path in ("/api/items", "/kiosk", "/", "/docs", "/api/health"):
            assert phone.get(path).status_code == 403, path
        assert phone.post("/api/offer", json={}).status_code == 403
        assert local.get("/api/items").status_code == 200 and local.get("/kiosk").status_code == 200
        qr = local.get(f"{media.url}/qr.svg")
        assert qr.status_code == 200 and qr.headers["content-type"] == "image/svg+xml"
        assert decode_qr(svg_to_png(qr.content)) == f"http://10.0.0.2:8000/m/{name}"
        assert local.get("/api/media/nothing.png/qr.svg").status_code == 404
        assert phone.get("/m/nothing.png").status_code == 404 and "expired" in phone.get("/m/nothing.png").text


# ---------------------------------------------------------------- in Chromium


@pytest.fixture(scope="module")
def kiosk_server(tmp_path_factory):
    data = tmp_path_factory.mktemp("kiosk-data")
    port = free_port()
    kiosk = KioskSettings(attract_after_s=ATTRACT_AFTER_S, reset_after_s=RESET_AFTER_S, link_ttl_s=LINK_TTL_S,
                          public_url=f"http://127.0.0.1:{port}")
    with serve_in_background(Settings(data_dir=data, max_sessions=2), kiosk, port=port) as base:
        yield base, data


@pytest.fixture(scope="module")
def chromium():
    sync_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (make deb)")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def face_photo(astronaut) -> str:
    ok, jpg = cv2.imencode(".jpg", cv2.cvtColor(letterbox(astronaut), cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 92])
    assert ok
    return "data:image/jpeg;base64," + base64.b64encode(jpg.tobytes()).decode()


@pytest.fixture
def kiosk_pages(kiosk_server):
    opened = []
    yield opened
    for page in opened:
        page.close(run_before_unload=True)
        page.context.close()
    t0 = time.time()
    while json.load(urllib.request.urlopen(f"{kiosk_server[0]}/api/health"))["sessions"] and time.time() - t0 < 15:
        time.sleep(0.1)


def open_kiosk(chromium, base: str, pages: list, photo: str, scene: str, viewport: dict):
    context = chromium.new_context(viewport=viewport, bypass_csp=True)  # the test evaluates strings
    context.add_init_script(CAMERA_JS.replace("__PHOTO__", photo).replace("__SCENE__", scene))
    page = context.new_page()
    pages.append(page)
    page.goto(f"{base}/kiosk")
    page.evaluate("window.kiosk.ready")
    return page


def wait_stats(page, face: bool, timeout_s: float = 15.0) -> dict:
    t0 = time.time()
    while time.time() - t0 < timeout_s:
        stats = page.evaluate("window.kiosk.lastStats")
        if stats and stats["fps"] and stats["face"] is face:
            return stats
        time.sleep(0.2)
    raise AssertionError(f"the server never reported face={face}: {page.evaluate('window.kiosk.lastStats')}")


def fetch(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url) as res:
            return res.status, res.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def small_targets(page) -> list[str]:
    """Visible buttons smaller than a fingertip target."""
    return page.evaluate("""min => [...document.querySelectorAll('button')]
        .filter(b => b.offsetParent !== null)
        .map(b => [b.textContent.trim() || b.getAttribute('aria-label'), b.getBoundingClientRect()])
        .filter(([, r]) => r.width > 0 && (r.width < min || r.height < min))
        .map(([name, r]) => `${name}: ${Math.round(r.width)}x${Math.round(r.height)}`)""", MIN_TOUCH_PX)


def box(page, selector: str) -> dict:
    return page.locator(selector).first.bounding_box()


@needs_chromium
def test_the_attract_loop_plays_for_an_empty_scene_and_gives_way_when_a_face_appears(
        chromium, kiosk_server, kiosk_pages, face_photo):
    base, _ = kiosk_server
    page = open_kiosk(chromium, base, kiosk_pages, face_photo, "wall", LANDSCAPE)
    assert wait_stats(page, face=False)["tracking"] == ["face"]  # the kiosk always looks for someone
    page.wait_for_selector("#attract:not([hidden])", timeout=(ATTRACT_AFTER_S + 8) * 1000)
    name = page.inner_text("#attract-name")
    assert name and page.inner_text("#attract-price").startswith("from $")
    assert "Step in front of the mirror" in page.inner_text("#attract")
    assert f"{LINK_TTL_S} seconds, then deleted" in page.inner_text("#attract-privacy")
    page.wait_for_function("n => document.querySelector('#attract-name').textContent !== n", arg=name, timeout=8000)

    page.evaluate("window.__camera.show('face')")  # someone steps up
    t0 = time.time()
    page.wait_for_selector("#attract", state="hidden", timeout=15000)
    assert time.time() - t0 < 10 and page.evaluate("window.kiosk.lastStats.face") is True
    # The mirror: big touch targets, the catalog beside the mirror with prices, the worn piece's facts.
    assert small_targets(page) == []
    mirror, panel = box(page, "#stage"), box(page, ".panel")
    assert mirror["x"] + mirror["width"] <= panel["x"] + 1 and mirror["height"] == LANDSCAPE["height"]
    assert page.locator(".card:not([hidden]) .card-price").first.inner_text().startswith("$")
    page.wait_for_function("document.querySelectorAll('#piece-facts dt').length >= 2", timeout=15000)
    facts = page.inner_text("#piece-facts")
    assert "Metal" in facts and "gold" in facts and "Weight" in facts and " g" in facts
    assert float(page.evaluate("getComputedStyle(document.querySelector('#piece-price')).fontSize")[:-2]) >= 24

    page.evaluate("window.__camera.show('wall')")  # and walks away
    page.wait_for_selector("#attract:not([hidden])", timeout=(ATTRACT_AFTER_S + 10) * 1000)


@needs_chromium
def test_a_photo_and_a_clip_go_to_the_phone_by_qr_code_until_the_link_expires(
        chromium, kiosk_server, kiosk_pages, face_photo, tmp_path):
    base, data = kiosk_server
    page = open_kiosk(chromium, base, kiosk_pages, face_photo, "face", LANDSCAPE)
    wait_stats(page, face=True)
    page.click("#snapshot")
    page.wait_for_selector("#handoff:not([hidden])", timeout=15000)
    assert "photo" in page.inner_text("#handoff-title")
    page.click("#record")
    time.sleep(2.5)
    assert "Stop 00:0" in page.inner_text("#record")
    page.click("#record")
    page.wait_for_function("window.kiosk.takes.length === 2", timeout=20000)
    page.wait_for_function("document.querySelector('#qr').complete && document.querySelector('#qr').naturalWidth > 0"
                           " && document.querySelector('#handoff').dataset.url.endsWith('.mp4')", timeout=10000)
    assert "video" in page.inner_text("#handoff-title") and "then it is deleted" in page.inner_text("#handoff")
    takes = {t["kind"]: t for t in page.evaluate("window.kiosk.takes")}

    # The clip's QR code, read off the screen, opens a phone page whose video is a real H.264 MP4.
    clip_link = decode_qr(screenshot(page, "#qr"))
    clip_name = takes["clip"]["url"].rsplit("/", 1)[1]
    assert clip_link == f"{base}/m/{clip_name}"
    status, body = fetch(clip_link)
    html = body.decode()
    assert status == 200 and f'<video class="media" src="/api/media/{clip_name}"' in html and "Download" in html
    status, mp4 = fetch(f"{base}/api/media/{clip_name}")
    assert status == 200
    (tmp_path / "clip.mp4").write_bytes(mp4)
    with av.open(str(tmp_path / "clip.mp4")) as c:
        assert c.streams.video[0].codec_context.name == "h264"
        frames = list(c.decode(video=0))
    assert len(frames) >= 20 and 1.5 < float(frames[-1].time) < 5.0

    # The photo's code again, from its thumbnail: a page with the picture, which is the mirror as shown.
    page.click(f".take[data-url='{takes['snapshot']['url']}']")
    page.wait_for_function("document.querySelector('#handoff').dataset.url.endsWith('.png')"
                           " && document.querySelector('#qr').complete && document.querySelector('#qr').naturalWidth > 0")
    photo_link = decode_qr(screenshot(page, "#qr"))
    photo_name = takes["snapshot"]["url"].rsplit("/", 1)[1]
    assert photo_link == f"{base}/m/{photo_name}"
    status, body = fetch(photo_link)
    assert status == 200 and f'<img class="media" src="/api/media/{photo_name}"' in body.decode()
    w, h = Image.open(io.BytesIO(fetch(f"{base}/api/media/{photo_name}")[1])).size
    assert w * 3 == h * 4

    # Expiry: the files are deleted by the server on time (no request needed), the links answer 404, and the
    # kiosk's screen drops them.
    files = [data / "media" / clip_name, data / "media" / photo_name]
    assert all(f.is_file() for f in files)
    expires = max(page.evaluate("ts => ts.map(t => Date.parse(t.expiresAt))", list(takes.values()))) / 1000
    time.sleep(max(0.0, expires - time.time()) + 1.5)
    assert not any(f.exists() for f in files)
    for link in (clip_link, photo_link, f"{base}/api/media/{clip_name}", f"{base}/api/media/{photo_name}"):
        assert fetch(link)[0] == 404, link
    assert "expired" in fetch(clip_link)[1].decode()
    page.wait_for_function("window.kiosk.takes.length === 0", timeout=5000)
    assert page.is_hidden("#handoff") and page.is_hidden("#takes")


def screenshot(page, selector: str) -> np.ndarray:
    png = page.locator(selector).screenshot()
    return cv2.cvtColor(np.asarray(Image.open(io.BytesIO(png)).convert("RGB")), cv2.COLOR_RGB2GRAY)


@needs_chromium
def test_after_the_customer_leaves_the_kiosk_resets_and_revokes_the_links_no_phone_opened(
        chromium, kiosk_server, kiosk_pages, face_photo):
    base, data = kiosk_server
    page = open_kiosk(chromium, base, kiosk_pages, face_photo, "face", PORTRAIT)
    wait_stats(page, face=True)
    defaults = page.evaluate("window.kiosk.defaults")
    assert page.evaluate("window.kiosk.worn") == defaults
    # Portrait: the mirror above the catalog, big touch targets.
    mirror, panel = box(page, "#stage"), box(page, ".panel")
    assert mirror["y"] + mirror["height"] <= panel["y"] + 1 and mirror["width"] == PORTRAIT["width"]
    assert small_targets(page) == []

    # The customer tries a ring and takes two photos; one of them they open on their phone.
    page.click(".section-tab[data-section='finger']")
    page.locator(".card[data-site='finger']").first.click()
    page.wait_for_function("ds => window.kiosk.worn.some(id => !ds.includes(id))", arg=defaults, timeout=15000)
    ring = page.evaluate("window.kiosk.worn").copy()
    for _ in range(2):
        page.click("#snapshot")
        page.wait_for_function("n => window.kiosk.takes.length === n", arg=_ + 1, timeout=15000)
    taken, kept = [t["url"] for t in page.evaluate("window.kiosk.takes")]
    assert fetch(f"{base}/m/{kept.rsplit('/', 1)[1]}")[0] == 200  # opened on the phone

    page.evaluate("window.__camera.show('wall')")  # they leave, and nobody touches the screen
    page.wait_for_selector("#attract:not([hidden])", timeout=(ATTRACT_AFTER_S + 10) * 1000)
    page.wait_for_function("window.kiosk.resets === 1", timeout=(RESET_AFTER_S + 15) * 1000)
    assert page.evaluate("window.kiosk.worn") == defaults != ring
    assert page.evaluate("window.kiosk.takes") == [] and page.is_hidden("#takes") and page.is_hidden("#handoff")
    assert page.locator("#takes .take").count() == 0 and page.get_attribute("#qr", "src") is None
    # Server side: the photo no phone opened is gone, file and link; the one taken along lives until it expires.
    assert fetch(base + taken)[0] == 404 and not (data / "media" / taken.rsplit("/", 1)[1]).exists()
    assert fetch(base + kept)[0] == 200
    time.sleep(RESET_AFTER_S + 1)
    assert page.evaluate("window.kiosk.resets") == 1  # nothing more to reset: no loop

    page.evaluate("window.__camera.show('face')")  # the next customer
    page.wait_for_selector("#attract", state="hidden", timeout=15000)
    assert page.get_attribute("#piece", "data-item") == defaults[0]
    assert page.evaluate("window.kiosk.send({cmd: 'ping'})")["ok"]  # the same live session goes on


def test_lifetimes_read_as_words():
    from tryon.server.kiosk import span

    assert [span(s) for s in (900, 60, 89, 25, 0.2, 24 * 3600)] == [
        "15 minutes", "1 minute", "1 minute", "25 seconds", "1 second", "24 hours"]
