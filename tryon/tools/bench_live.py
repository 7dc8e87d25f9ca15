"""`tryon bench --live`: the live page measured end to end, in a real browser against this server.

Chromium (driven by Playwright) opens the page; its camera is replaced by a canvas that draws a real face
photo 30 times a second and stamps each frame with a counter, drawn as big black/white blocks in the top-left
corner, away from the face (the server only draws near the ears). The page sends that over WebRTC, this
process (hosting the server) draws the jewelry and sends it back, and on every displayed frame of the
returned video the page reads the counter back: glass-to-glass latency is the display time minus the time
that counter was drawn, and the displayed frames per second are counted.

The pieces worn are the server's defaults, or those given (`--item`, as the page's `?items=`). The camera shows
skimage's astronaut (a face, ears and shoulders: earrings and necklaces), or for pieces worn on a finger or wrist
a real photo of a hand from the shared media (the tracker must find the hand, or a ring costs nothing to draw).
The server's CPU use is measured too (this process hosts it; Chromium runs in its own processes): cores busy over
the measuring window, the figure that seats per core rest on.

The counter is drawn as a 16-bit Gray code, so that consecutive frames differ in one bit: a block left
stale by the video encoder can only turn a counter into its neighbour, never into a far-off value. Each bit is
a pair of blocks (Manchester code: 1 = white then black, 0 = black then white). A block is read by
thresholding the mean of its middle; a frame whose blocks are not all clearly black or white, or where a
pair's two blocks agree, is counted as unreadable rather than misread.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import cv2

from tryon import media
from tryon.config import Settings, shared_media_dir
from tryon.errors import InputError, TryOnError
from tryon.server.app import serve_in_background
from tryon.tools.bench import SIZE, letterbox

if TYPE_CHECKING:
    from playwright.async_api import Browser, Page

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--use-fake-ui-for-media-stream", "--disable-background-networking", "--disable-component-update",
                 "--no-sandbox", "--autoplay-policy=no-user-gesture-required"]
CAMERA_FPS = 30
WARMUP_S = 2.0
MAX_SECONDS = 1800.0  # the 16-bit frame counter wraps after 36 minutes at 30 fps
READY_TIMEOUT_S = 60.0
SERVER_START_TIMEOUT_S = 30.0
RSS_PERIOD_S = 0.2
MIN_DECODED_FRACTION = 0.8  # below this the counter pattern or its decoding is broken, not the video
MAX_BACKWARDS_FRACTION = 0.01  # decoded counters that go back: misreads
HAND_PHOTO = "hands/back_of_hand_ring.jpg"  # one hand, fingers spread: found with the counter panel drawn on it
HAND_SITES = ("finger", "wrist")

# Counter pattern, in pixels of the 640x480 camera frame: a mid-grey panel at (0, 0) with a margin around
# 4 rows x 8 columns of blocks; bit i (most significant first) is blocks 2i and 2i+1 in row-major order.
PATTERN = {"bits": 16, "block": 20, "cols": 8, "margin": 8}

# Runs in the page before its own script. __CONFIG__ is replaced by a JSON object.
_INIT_JS = """
(() => {
  const CONFIG = __CONFIG__;
  const { width: W, height: H, fps: FPS, bits: BITS, block: B, cols: COLS, margin: M } = CONFIG;
  const ROWS = Math.ceil((2 * BITS) / COLS);
  const PANEL_W = 2 * M + COLS * B;
  const PANEL_H = 2 * M + ROWS * B;
  const MASK = (1 << BITS) - 1;
  const INSET = B / 4; // read only the middle of a block: its edges blur under compression and scaling
  const MIN_MARGIN = 48; // a block's mean must be this far (of 255) from mid-grey to count as black or white

  const sentAt = new Float64Array(1 << BITS).fill(NaN); // counter -> performance.now() when drawn
  const blockOrigin = (k) => [M + (k % COLS) * B, M + Math.floor(k / COLS) * B];

  function drawCounter(ctx, counter) {
    const gray = counter ^ (counter >> 1);
    ctx.fillStyle = 'rgb(128, 128, 128)';
    ctx.fillRect(0, 0, PANEL_W, PANEL_H);
    for (let i = 0; i < BITS; i++) {
      const bit = (gray >> (BITS - 1 - i)) & 1;
      for (let half = 0; half < 2; half++) {
        const [x, y] = blockOrigin(2 * i + half);
        ctx.fillStyle = bit ^ half ? '#fff' : '#000';
        ctx.fillRect(x, y, B, B);
      }
    }
  }

  function blockMean(image, k) {
    const [x0, y0] = blockOrigin(k);
    let sum = 0;
    let n = 0;
    for (let y = y0 + INSET; y < y0 + B - INSET; y++) {
      for (let x = x0 + INSET; x < x0 + B - INSET; x++) {
        const p = (y * image.width + x) * 4;
        sum += image.data[p] + image.data[p + 1] + image.data[p + 2];
        n += 3;
      }
    }
    return sum / n;
  }

  /** The counter in a panel-sized ImageData, or null where any block is unclear or a bit's blocks agree. */
  function decodeCounter(image) {
    let gray = 0;
    for (let i = 0; i < BITS; i++) {
      const first = blockMean(image, 2 * i) - 128;
      const second = blockMean(image, 2 * i + 1) - 128;
      if (Math.min(Math.abs(first), Math.abs(second)) < MIN_MARGIN || first > 0 === second > 0) return null;
      gray = (gray << 1) | (first > 0 ? 1 : 0);
    }
    let counter = gray;
    for (let shift = gray >> 1; shift; shift >>= 1) counter ^= shift;
    return counter;
  }

  const bench = { measuring: false, since: 0, sent: 0, displayed: 0, latencies: [], counters: [] };

  // The camera: the photo with the counter on top, redrawn by a timer (requestAnimationFrame may be
  // throttled in a headless browser).
  let camera = null;
  navigator.mediaDevices.getUserMedia = async () => {
    if (camera) return camera;
    const photo = new Image();
    photo.src = CONFIG.photo;
    await photo.decode();
    const canvas = document.createElement('canvas');
    canvas.width = W;
    canvas.height = H;
    const ctx = canvas.getContext('2d');
    let counter = 0;
    const draw = () => {
      ctx.drawImage(photo, 0, 0);
      drawCounter(ctx, counter);
      sentAt[counter] = performance.now();
      counter = (counter + 1) & MASK;
      if (bench.measuring) bench.sent += 1;
    };
    draw();
    camera = canvas.captureStream(FPS);
    setInterval(draw, 1000 / FPS);
    return camera;
  };

  /** Reads the counter of every frame the video element shows. */
  function watch(video) {
    const canvas = document.createElement('canvas');
    canvas.width = PANEL_W;
    canvas.height = PANEL_H;
    const ctx = canvas.getContext('2d', { willReadFrequently: true });
    const onFrame = (now, meta) => {
      video.requestVideoFrameCallback(onFrame);
      if (!bench.measuring) return;
      bench.displayed += 1;
      // WebRTC may send a smaller picture than the camera's: read the panel at the camera's scale.
      const sx = meta.width / W;
      const sy = meta.height / H;
      ctx.drawImage(video, 0, 0, PANEL_W * sx, PANEL_H * sy, 0, 0, PANEL_W, PANEL_H);
      const counter = decodeCounter(ctx.getImageData(0, 0, PANEL_W, PANEL_H));
      // expectedDisplayTime: when this frame reaches the screen, the far end of "glass to glass".
      const latency = counter === null ? NaN : meta.expectedDisplayTime - sentAt[counter];
      if (latency >= 0) {
        bench.latencies.push(latency);
        bench.counters.push(counter);
      }
    };
    video.requestVideoFrameCallback(onFrame);
  }

  window.__liveBench = {
    watch: () => watch(document.getElementById('video')),
    start() {
      Object.assign(bench, { measuring: true, since: performance.now(), sent: 0, displayed: 0,
                             latencies: [], counters: [] });
    },
    stop() {
      bench.measuring = false;
      const video = document.getElementById('video');
      return { elapsed_ms: performance.now() - bench.since, sent: bench.sent, displayed: bench.displayed,
               latencies: bench.latencies, counters: bench.counters,
               video_size: `${video.videoWidth}x${video.videoHeight}` };
    },
  };
})();
"""


def run_live_bench(sessions: int = 1, seconds: float = 10.0, items: list[str] | None = None) -> dict[str, Any]:
    """Serve the app here, open `sessions` pages at once in Chromium, each wearing `items` (default: the
    server's defaults), measure for `seconds` after a warm-up.

    Per session: displayed frames per second, glass-to-glass latency, how many frames carried a readable
    counter, the received picture size and the server's last stats. Also this process's memory (it hosts the
    server): mean VmRSS over the measuring window and the peak (VmHWM) of the whole run; and its CPU use over
    the window in cores (1.0: one core busy all the time).
    """
    if sessions < 1:
        raise InputError("--sessions must be at least 1")
    if not 0 < seconds <= MAX_SECONDS:
        raise InputError(f"--seconds must be positive and at most {MAX_SECONDS:g}")
    if not Path(CHROMIUM).exists():
        raise TryOnError(f"Chromium is not installed ({CHROMIUM}); the live bench needs it")
    settings = Settings(max_sessions=sessions, max_seats_per_client=sessions, max_pending_per_client=sessions)
    items = list(items or [])
    photo_name, photo = _camera_photo(settings, items)
    script = _INIT_JS.replace("__CONFIG__", json.dumps(
        {"width": SIZE[0], "height": SIZE[1], "fps": CAMERA_FPS, "photo": _photo_data_url(photo), **PATTERN}))
    query = "nomirror=1" + (f"&items={','.join(items)}" if items else "")
    with tempfile.TemporaryDirectory(prefix="tryon-bench-") as data_dir, \
            serve_in_background(settings.model_copy(update={"data_dir": Path(data_dir)})) as base:
        raw, rss, cpu_cores, served = asyncio.run(_measure(base, sessions, seconds, script, query))
    results = [_session_result(i, r, seconds) for i, r in enumerate(raw)]
    return {
        "sessions": sessions,
        "seconds": seconds,
        "size": f"{SIZE[0]}x{SIZE[1]}",
        "items": items or "defaults",
        "camera": photo_name,
        "server_cpu_cores": round(cpu_cores, 3),
        # From the server's own /metrics over the window: frames processed a second (all sessions), mean
        # processing time, and CPU time per processed frame (cores busy / frames a second).
        "server_fps": round(served["fps"], 2),
        "server_process_ms_mean": round(served["process_ms"], 1),
        "server_cpu_ms_per_frame": round(1e3 * cpu_cores / served["fps"], 1) if served["fps"] > 0 else None,
        "server_rss_mb": {"mean": round(statistics.fmean(rss), 1), "peak": round(_proc_status_mb("VmHWM"), 1)},
        "per_session": results,
    }


def _camera_photo(settings: Settings, items: list[str]) -> tuple[str, Any]:
    """What the fake camera shows: (its name, (h, w, 3) uint8 RGB). A hand photo when a piece is worn on a finger
    or a wrist, else the astronaut. Unknown item ids are an InputError naming them."""
    from skimage import data

    from tryon.jewelry.catalog import Catalog

    catalog = Catalog.load_with_user(settings.assets_dir, settings.user_catalog_dir)
    ids = [spec.split("@", 1)[0] for spec in items]
    unknown = [i for i in ids if i not in catalog]
    if unknown:
        raise InputError(f"not in the catalog: {', '.join(unknown)} (see `tryon catalog list`)")
    if any(catalog.get(i).site in HAND_SITES for i in ids):
        path = shared_media_dir() / HAND_PHOTO
        if not path.is_file():
            raise InputError(f"rings and wrist pieces are measured on a hand photo, {path}; it is missing "
                             "(set TRYON_MEDIA to the shared media)")
        return HAND_PHOTO, media.read_image(path)
    return "skimage astronaut", data.astronaut()


def format_live_result(result: dict[str, Any]) -> str:
    lines = [f"live bench: {result['sessions']} session(s), {result['seconds']:g} s measured after a "
             f"{WARMUP_S:g} s warm-up, camera {result['size']} at {CAMERA_FPS} fps",
             f"{'session':<8}{'sent fps':>9}{'recv fps':>9}{'lat med ms':>11}{'lat p90 ms':>11}"
             f"{'read/shown':>12}{'received':>10}{'server fps':>11}{'server ms':>10}"]
    for i, s in enumerate(result["per_session"]):
        stats = s["server_stats"] or {}
        lines.append(f"{i:<8}{s['sent_fps']:>9.1f}{s['received_fps']:>9.1f}{s['latency_ms']['median']:>11.1f}"
                     f"{s['latency_ms']['p90']:>11.1f}{s['decoded_frames']:>6}/{s['displayed_frames']:<5}"
                     f"{s['video_size']:>10}{stats.get('fps', float('nan')):>11.1f}"
                     f"{stats.get('process_ms', float('nan')):>10.1f}")
    rss = result["server_rss_mb"]
    lines.append(f"server memory (this process): {rss['mean']:.0f} MB mean, {rss['peak']:.0f} MB peak")
    lines.append(f"server (its /metrics): {result['server_fps']:.1f} frames a second processed, "
                 f"{result['server_process_ms_mean']:.1f} ms each on average; "
                 f"{result['server_cpu_ms_per_frame']} ms of CPU per frame")
    lines.append(f"server CPU (this process): {result['server_cpu_cores']:.2f} cores busy; items: "
                 f"{result['items'] if isinstance(result['items'], str) else ', '.join(result['items'])}; "
                 f"camera: {result['camera']}")
    return "\n".join(lines)


def _photo_data_url(rgb: Any) -> str:
    """A photo letterboxed to the camera's size, as a PNG data URL."""
    ok, png = cv2.imencode(".png", cv2.cvtColor(letterbox(rgb), cv2.COLOR_RGB2BGR))
    assert ok
    return "data:image/png;base64," + base64.b64encode(png.tobytes()).decode("ascii")


async def _measure(base: str, sessions: int, seconds: float, script: str,
                   query: str) -> tuple[list[dict[str, Any]], list[float], float, dict[str, float]]:
    """Each page's raw measurements, VmRSS samples (MB) over the measuring window, this process's CPU time
    over the window divided by its length (cores busy), and from the server's /metrics over the window: frames
    processed a second and their mean processing time in ms ({"fps", "process_ms"})."""
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            pages = await asyncio.gather(*(_open_page(browser, base, script, i, query) for i in range(sessions)))
            await asyncio.sleep(WARMUP_S)
            await asyncio.gather(*(p.evaluate("window.__liveBench.start()") for p in pages))
            rss: list[float] = []
            counted0 = await asyncio.to_thread(_frame_counters, base)
            cpu0, wall0 = _cpu_s(), time.monotonic()
            end = time.monotonic() + seconds
            while time.monotonic() < end:
                rss.append(_proc_status_mb("VmRSS"))
                await asyncio.sleep(min(RSS_PERIOD_S, max(0.0, end - time.monotonic())))
            raw = await asyncio.gather(*(p.evaluate("window.__liveBench.stop()") for p in pages))
            cpu_cores = (_cpu_s() - cpu0) / (time.monotonic() - wall0)
            window_s = time.monotonic() - wall0
            counted1 = await asyncio.to_thread(_frame_counters, base)
            frames = counted1[0] - counted0[0]
            served = {"fps": frames / window_s,
                      "process_ms": 1e3 * (counted1[1] - counted0[1]) / frames if frames else float("nan")}
            stats = await asyncio.gather(*(p.evaluate("window.tryon.lastStats") for p in pages))
            for r, s in zip(raw, stats, strict=True):
                r["server_stats"] = s
            return raw, rss, cpu_cores, served
        finally:
            await browser.close()  # its contexts and pages with it; the server then closes their sessions


def _frame_counters(base: str) -> tuple[float, float]:
    """(frames processed, seconds spent processing them) so far, from the server's GET /metrics."""
    from urllib.request import urlopen

    from prometheus_client.parser import text_string_to_metric_families

    with urlopen(f"{base}/metrics", timeout=30) as response:
        text = response.read().decode()
    found = {s.name: s.value for family in text_string_to_metric_families(text) for s in family.samples}
    return found["tryon_frames_processed_total"], found["tryon_frame_processing_seconds_sum"]


def _cpu_s() -> float:
    """CPU seconds this process has used, all its threads, user and system."""
    t = os.times()
    return t.user + t.system


async def _open_page(browser: Browser, base: str, script: str, index: int, query: str) -> Page:
    context = await browser.new_context(bypass_csp=True)  # the bench evaluates its probes as strings
    await context.add_init_script(script=script)
    page = await context.new_page()
    await page.goto(f"{base}/?{query}")
    try:
        await asyncio.wait_for(page.evaluate("window.tryon.ready.then(() => null)"), READY_TIMEOUT_S)
    except TimeoutError:
        raise TryOnError(f"session {index}: the processed video did not start within {READY_TIMEOUT_S:g} s") from None
    await page.evaluate("window.__liveBench.watch()")
    return page


def _session_result(index: int, raw: dict[str, Any], seconds: float) -> dict[str, Any]:
    """One page's numbers, after checking that its counters were really read (else they would mean nothing)."""
    displayed, counters, latencies = raw["displayed"], raw["counters"], raw["latencies"]
    if displayed == 0:
        raise TryOnError(f"session {index}: no frame of the processed video was displayed in {seconds:g} s")
    if len(counters) < MIN_DECODED_FRACTION * displayed:
        raise TryOnError(f"session {index}: the frame counter was readable in only {len(counters)} of {displayed} "
                         "displayed frames; the counter pattern or its decoding is broken, so latency is unknown")
    backwards = sum(b < a for a, b in itertools.pairwise(counters))
    if backwards > MAX_BACKWARDS_FRACTION * len(counters):
        raise TryOnError(f"session {index}: {backwards} of {len(counters)} decoded frame counters went back; "
                         "the counter is being misread")
    # The same counter twice in a row is no misread: the video element may already hold the next frame when
    # a frame's callback runs (under load), and the frame after reads it again. A counter's latency is taken
    # from its first sighting.
    first_seen = [lat for k, lat in enumerate(latencies) if k == 0 or counters[k] != counters[k - 1]]
    elapsed_s = raw["elapsed_ms"] / 1e3
    return {
        "received_fps": round(displayed / elapsed_s, 2),
        "sent_fps": round(raw["sent"] / elapsed_s, 2),
        "latency_ms": {"median": round(statistics.median(first_seen), 1),
                       "p90": round(percentile(first_seen, 0.9), 1)},
        "decoded_frames": len(counters),
        "displayed_frames": displayed,
        "video_size": raw["video_size"],
        "server_stats": raw["server_stats"],
    }


def percentile(values: list[float], q: float) -> float:
    """The nearest-rank q-quantile (q in 0..1) of values."""
    v = sorted(values)
    return v[min(len(v) - 1, int(q * len(v)))]


def _proc_status_mb(field: str) -> float:
    """A memory field of /proc/self/status (VmRSS: now, VmHWM: peak) in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise TryOnError(f"/proc/self/status has no {field}")
