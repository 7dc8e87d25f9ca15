"""A real WebRTC client of the live server (aiortc, no browser), and the soak and load run built on it.

`LiveClient` offers a camera track made from a still photo with a frame counter painted into its top-left
corner, receives the processed video back, reads the counter out of each returned frame (so it knows the
latency of each one), and sends commands on the "control" data channel. The reliability tests use it to
flood, hold and kill sessions against the real server; `soak()` runs N of them against a `tryon serve`
process for minutes and samples frames per second, latency percentiles and the server's memory, threads and
file descriptors every report period (`tryon bench --soak MINUTES --sessions N`).
"""

from __future__ import annotations

import asyncio
import contextlib
import http.client
import itertools
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any, cast
from urllib.parse import urlsplit

import av
import numpy as np
from aiortc import RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from tryon.errors import InputError, TryOnError
from tryon.tools.bench_live import percentile

COUNTER_BITS = 12  # frame numbers modulo 4096: two minutes at 30 fps, far beyond any latency
CELL_PX = 16  # each bit a 16x16 black or white square: survives VP8 at low bitrates
CAMERA_FPS = 30
CLOCK_RATE = 90_000
REPORT_PERIOD_S = 30.0
MAX_SOAK_MINUTES = 24 * 60


def paint_counter(rgb: np.ndarray, n: int) -> np.ndarray:
    """A copy of (H, W, 3) uint8 `rgb` with `n` (mod 2**COUNTER_BITS) painted as squares along its top-left edge."""
    out = rgb.copy()
    for bit in range(COUNTER_BITS):
        x = bit * CELL_PX
        out[:CELL_PX, x:x + CELL_PX] = 255 if (n >> bit) & 1 else 0
    return out


def read_counter(rgb: np.ndarray) -> int:
    """The number `paint_counter` painted, read from the centres of the squares."""
    c = CELL_PX // 2
    cells = rgb[c - 2:c + 2, :COUNTER_BITS * CELL_PX].reshape(4, COUNTER_BITS, CELL_PX, 3)[:, :, c - 2:c + 2]
    bits = cells.mean(axis=(0, 2, 3)) > 127
    return int(sum(1 << i for i, b in enumerate(bits) if b))


class CounterCamera(MediaStreamTrack):
    """A 30 fps camera showing `rgb` with the frame number painted in; remembers when each number was sent."""

    kind = "video"

    def __init__(self, rgb: np.ndarray) -> None:
        super().__init__()
        self._rgb = np.ascontiguousarray(rgb)
        self._n = 0
        self._start: float | None = None
        self.sent_at: dict[int, float] = {}

    async def recv(self) -> av.VideoFrame:
        if self.readyState != "live":
            raise MediaStreamError
        now = time.monotonic()
        if self._start is None:
            self._start = now
        due = self._start + self._n / CAMERA_FPS
        if due > now:
            await asyncio.sleep(due - now)
        n = self._n % (1 << COUNTER_BITS)
        frame = av.VideoFrame.from_ndarray(paint_counter(self._rgb, n), format="rgb24")
        frame.pts, frame.time_base = self._n * (CLOCK_RATE // CAMERA_FPS), Fraction(1, CLOCK_RATE)
        self.sent_at[n] = time.monotonic()
        if len(self.sent_at) > 1 << (COUNTER_BITS - 1):
            self.sent_at.pop(next(iter(self.sent_at)))
        self._n += 1
        return frame


def post_json(base: str, path: str, body: dict[str, Any], source: str | None = None,
              timeout_s: float = 30.0) -> tuple[int, dict[str, Any]]:
    """POST JSON to the server from the local address `source` (default: any); (status, decoded body)."""
    parts = urlsplit(base)
    conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port or 80, timeout=timeout_s,
                                      source_address=(source, 0) if source else None)
    try:
        conn.request("POST", path, json.dumps(body), {"Content-Type": "application/json"})
        response = conn.getresponse()
        data = response.read()
    finally:
        conn.close()
    try:
        decoded = json.loads(data) if data else {}
    except json.JSONDecodeError:
        decoded = {"detail": data.decode("utf-8", "replace")}
    return response.status, decoded


def strip_candidates(sdp: str) -> str:
    """The SDP without its ICE candidates: an offer that can never connect."""
    return "".join(line for line in sdp.splitlines(keepends=True) if not line.startswith("a=candidate"))


@dataclass
class LiveClient:
    """One shopper: `await connect(base)`, then frames flow; `command()` sends on the control channel."""

    rgb: np.ndarray
    items: list[str] = field(default_factory=lambda: ["hoop-round-25mm-yellow-gold"])
    source: str | None = None  # the local address to connect from (127.0.0.x: another client)
    received: int = 0
    latencies_ms: list[float] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    session: str = ""

    def __post_init__(self) -> None:
        self.pc = RTCPeerConnection()
        self.camera = CounterCamera(self.rgb)
        self._replies: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._ids = itertools.count(1)
        self._tasks: list[asyncio.Task[None]] = []
        self.ended = asyncio.Event()

    async def offer(self, base: str, strip: bool = False) -> tuple[int, dict[str, Any]]:
        """Send the offer; (status, body). With `strip`, the offer carries no ICE candidates (never connects)."""
        self.pc.addTrack(self.camera)
        self.channel = self.pc.createDataChannel("control")
        self.channel.on("message", self._on_message)
        self.pc.on("track", self._on_track)
        self.pc.on("connectionstatechange", self._on_state)
        await self.pc.setLocalDescription(await self.pc.createOffer())
        sdp = self.pc.localDescription.sdp
        body = {"sdp": strip_candidates(sdp) if strip else sdp, "type": "offer", "items": self.items}
        status, reply = await asyncio.to_thread(post_json, base, "/api/offer", body, self.source)
        if status == 200:
            self.session = reply["session"]
            await self.pc.setRemoteDescription(RTCSessionDescription(reply["sdp"], "answer"))
        return status, reply

    async def connect(self, base: str, timeout_s: float = 30.0) -> None:
        """Offer, then wait until processed frames come back."""
        status, reply = await self.offer(base)
        if status != 200:
            raise TryOnError(f"offer refused: {status} {reply.get('detail')}")
        t0 = time.monotonic()
        while self.received == 0:
            if time.monotonic() - t0 > timeout_s or self.ended.is_set():
                raise TryOnError("no processed frame came back")
            await asyncio.sleep(0.05)

    def _on_track(self, track: MediaStreamTrack) -> None:
        if track.kind == "video":
            self._tasks.append(asyncio.ensure_future(self._read(track)))

    async def _read(self, track: MediaStreamTrack) -> None:
        with contextlib.suppress(MediaStreamError):
            while True:
                frame = cast(av.VideoFrame, await track.recv())
                now = time.monotonic()
                self.received += 1
                sent = self.camera.sent_at.get(read_counter(frame.to_ndarray(format="rgb24")))
                if sent is not None and now - sent < 10.0:
                    self.latencies_ms.append((now - sent) * 1e3)
        self.ended.set()

    def _on_message(self, message: str | bytes) -> None:
        msg = json.loads(message)
        if "event" in msg:
            self.events.append(msg)
            if msg["event"] == "closed":
                self.ended.set()
        elif (future := self._replies.pop(msg.get("id"), None)) is not None and not future.done():
            future.set_result(msg)

    async def _on_state(self) -> None:
        if self.pc.connectionState in ("failed", "closed"):
            self.ended.set()

    async def wait_channel(self, timeout_s: float = 20.0) -> None:
        t0 = time.monotonic()
        while self.channel.readyState != "open":
            if time.monotonic() - t0 > timeout_s:
                raise TryOnError("the control channel did not open")
            await asyncio.sleep(0.05)

    def send(self, command: dict[str, Any]) -> asyncio.Future[dict[str, Any]]:
        """Send one command now; the future resolves with its reply."""
        msg_id = next(self._ids)
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._replies[msg_id] = future
        self.channel.send(json.dumps({**command, "id": msg_id}))
        return future

    async def command(self, command: dict[str, Any], timeout_s: float = 30.0) -> dict[str, Any]:
        return await asyncio.wait_for(self.send(command), timeout_s)

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        self.camera.stop()
        await self.pc.close()


# --- the server's process, seen from outside -------------------------------------------------------------


def proc_stats(pid: int) -> dict[str, float]:
    """A process's resident memory (MB), threads and open file descriptors, from /proc."""
    status = Path(f"/proc/{pid}/status").read_text().splitlines()
    values = {line.split(":")[0]: line.split()[1] for line in status if ":" in line and len(line.split()) > 1}
    return {"rss_mb": round(int(values["VmRSS"]) / 1024, 1), "threads": int(values["Threads"]),
            "fds": len(os.listdir(f"/proc/{pid}/fd"))}


def get_json(base: str, path: str, timeout_s: float = 10.0) -> dict[str, Any]:
    parts = urlsplit(base)
    conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port or 80, timeout=timeout_s)
    try:
        conn.request("GET", path)
        return dict(json.loads(conn.getresponse().read()))
    finally:
        conn.close()


@contextlib.contextmanager
def server_process(env: dict[str, str], port: int, log: Path,
                   host: str = "127.0.0.1") -> Iterator[subprocess.Popen[bytes]]:
    """`tryon serve` in its own process, with settings from `env` (TRYON_...) and its output in `log`, until
    the block ends."""
    with open(log, "wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "tryon.cli", "serve", "--host", host, "--port", str(port)],
                                env={**os.environ, **env}, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                raise TryOnError(f"the server did not start: {log.read_text(errors='replace')[-2000:]}")
            try:
                get_json(f"http://{host}:{port}", "/api/health", timeout_s=2)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise TryOnError("the server did not start within 60 s") from None
                time.sleep(0.2)
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# --- soak ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SoakSample:
    """One report period: `fps` received per session (mean over sessions), latency percentiles (ms) of the
    frames received in it, and the server process's memory, threads and file descriptors at its end."""

    t_s: float
    fps: float
    latency_ms: dict[str, float]
    rss_mb: float
    threads: int
    fds: int
    sessions_alive: int

    def to_json(self) -> dict[str, Any]:
        return {"t_s": self.t_s, "fps": self.fps, "latency_ms": self.latency_ms, "rss_mb": self.rss_mb,
                "threads": self.threads, "fds": self.fds, "sessions_alive": self.sessions_alive}


def percentiles(values: list[float]) -> dict[str, float]:
    """p50, p90 and p99 (nearest rank, as the live bench reports them), rounded to 0.1; NaN with no values."""
    if not values:
        return {"p50": float("nan"), "p90": float("nan"), "p99": float("nan")}
    return {f"p{q}": round(percentile(values, q / 100), 1) for q in (50, 90, 99)}


def soak(minutes: float, sessions: int, items: list[str], rgb: np.ndarray, period_s: float = REPORT_PERIOD_S,
         say: Callable[[SoakSample], None] = lambda s: None) -> list[SoakSample]:
    """N live clients against a fresh `tryon serve` process for `minutes`; one sample per period."""
    if not 0 < minutes <= MAX_SOAK_MINUTES:
        raise InputError(f"--soak takes 0 to {MAX_SOAK_MINUTES} minutes")
    if sessions < 1:
        raise InputError("--sessions must be at least 1")
    from tryon.server.app import free_port

    port = free_port()
    with tempfile.TemporaryDirectory(prefix="tryon-soak-") as data_dir:
        env = {"TRYON_DATA_DIR": data_dir, "TRYON_MAX_SESSIONS": str(sessions),
               "TRYON_MAX_SEATS_PER_CLIENT": str(sessions), "TRYON_MAX_PENDING_PER_CLIENT": str(sessions)}
        with server_process(env, port, Path(data_dir) / "server.log") as proc:
            return asyncio.run(_soak(f"http://127.0.0.1:{port}", proc.pid, minutes * 60, sessions, items, rgb,
                                     period_s, say))


async def _soak(base: str, pid: int, seconds: float, sessions: int, items: list[str], rgb: np.ndarray,
                period_s: float, say: Callable[[SoakSample], None]) -> list[SoakSample]:
    clients = [LiveClient(rgb, items) for _ in range(sessions)]
    await asyncio.gather(*(c.connect(base, timeout_s=120) for c in clients))
    samples: list[SoakSample] = []
    t0 = time.monotonic()
    counts = [c.received for c in clients]
    seen = [len(c.latencies_ms) for c in clients]
    try:
        while time.monotonic() - t0 < seconds:
            start = time.monotonic()
            await asyncio.sleep(min(period_s, seconds - (start - t0)))
            elapsed = time.monotonic() - start
            fps = [(c.received - n) / elapsed for c, n in zip(clients, counts, strict=True)]
            window = [x for c, k in zip(clients, seen, strict=True) for x in c.latencies_ms[k:]]
            counts = [c.received for c in clients]
            seen = [len(c.latencies_ms) for c in clients]
            stats = proc_stats(pid)
            sample = SoakSample(round(time.monotonic() - t0, 1), round(statistics.fmean(fps), 1),
                                percentiles(window), stats["rss_mb"], int(stats["threads"]), int(stats["fds"]),
                                sum(not c.ended.is_set() for c in clients))
            samples.append(sample)
            say(sample)
    finally:
        await asyncio.gather(*(c.close() for c in clients))
    return samples


def format_sample(s: SoakSample) -> str:
    lat = s.latency_ms
    return (f"{s.t_s:7.1f} s  {s.fps:5.1f} fps/session  latency p50 {lat['p50']:.0f} p90 {lat['p90']:.0f} "
            f"p99 {lat['p99']:.0f} ms  server {s.rss_mb:.0f} MB, {s.threads} threads, {s.fds} fds  "
            f"({s.sessions_alive} sessions alive)")
