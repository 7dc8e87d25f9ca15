"""One live try-on session: a peer connection, a control channel and a worker thread that owns the pipeline.

Frames: a pump task reads the camera track as fast as it arrives and keeps only the newest frame; the
outgoing track asks for the newest frame, has the worker thread process it, and sends the result. So the
vision work never runs on the event loop, and when processing is slower than the camera, frames are
dropped instead of queued: latency stays one frame of processing, whatever the load.

The worker is a single thread: MediaPipe graphs keep state and an EGL context belongs to its thread, so
the Pipeline is created, used and closed there, and item changes are serialised with frame processing.
"""

from __future__ import annotations

import asyncio
import json
import logging
import statistics
import time
import uuid
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any, TypeVar, cast

import av
import numpy as np
from aiortc import RTCConfiguration, RTCDataChannel, RTCPeerConnection
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from tryon.anchors.fingers import sizes_to_json
from tryon.anchors.neck import SITE as NECK
from tryon.errors import InputError, TryOnError
from tryon.jewelry.catalog import Catalog
from tryon.jewelry.places import Worn, place_keys
from tryon.media import encode_image
from tryon.pipeline import Pipeline, PipelineOptions
from tryon.server import logs
from tryon.server.clips import MAX_CLIP_S, ClipWriter
from tryon.server.metrics import UNCOUNTED, Metrics
from tryon.server.seats import Bucket
from tryon.server.store import MediaStore, StoredMedia
from tryon.types import Frame, HandSizes

log = logging.getLogger(__name__)
T = TypeVar("T")
STATS_PERIOD_S = 1.0
WATCH_PERIOD_S = 0.25  # how often the session checks that camera frames still come
FRAME_TIMEOUT_S = 4.0  # no camera frame for this long: the peer vanished without closing (crash, lost network)
MAX_FAILED_FRAMES = 90  # frames failing one after the other (3 s at 30 fps): the session ends
HALF_DAY_S = 12 * 3600
COMMAND_BURST, COMMANDS_PER_S = 40, 20.0  # any command
SNAPSHOT_BURST, SNAPSHOTS_PER_S = 5, 1.0  # snapshots write files: a few at once, then one a second
RECORD_BURST, RECORDS_PER_S = 2, 0.2  # clip starts: two at once, then one every 5 s
SESSION_MEDIA_BYTES = 200 * 1024**2


def dial_time_s(utc_offset_min: int | None = None, now: float | None = None) -> float:
    """Seconds past 12:00 on a wall clock: the shopper's (given their UTC offset in minutes) or the server's."""
    now = time.time() if now is None else now
    offset_s = time.localtime(now).tm_gmtoff if utc_offset_min is None else utc_offset_min * 60
    return (now + offset_s) % HALF_DAY_S


class Session:
    """`media_ttl_s`: how long this session's snapshot and clip links live (None: the store's default).
    `track`: trackers that run whatever is worn (a kiosk runs the face tracker to know someone is there).
    `rtc_config`: the peer connection's ICE servers and policy (routes.rtc.IceConfig; None: aiortc's default)."""

    def __init__(self, catalog: Catalog, store: MediaStore, items: list[str], hfov_deg: float,
                 utc_offset_min: int | None = None, media_ttl_s: float | None = None,
                 track: frozenset[str] = frozenset(), use_compositor: bool = True,
                 frame_timeout_s: float = FRAME_TIMEOUT_S, max_media_bytes: int = SESSION_MEDIA_BYTES,
                 rtc_config: RTCConfiguration | None = None) -> None:
        self.id = uuid.uuid4().hex
        self._frame_timeout_s = frame_timeout_s
        self._max_media_bytes = max_media_bytes
        self._media_bytes = 0
        self._commands = Bucket(COMMAND_BURST, COMMANDS_PER_S)
        self._snapshots = Bucket(SNAPSHOT_BURST, SNAPSHOTS_PER_S)
        self._records = Bucket(RECORD_BURST, RECORDS_PER_S)
        # Called when the connection comes up: True when the session got a seat (else it ends, saying so).
        self.on_connected: Callable[[Session], bool] = lambda s: True
        self.connected = False
        self.failed_frames = 0  # one after the other; a processed frame resets it
        self._use_compositor = use_compositor
        self.catalog = catalog
        self.store = store
        self.pc = RTCPeerConnection(rtc_config)  # ICE servers (TRYON_ICE_SERVERS); None: aiortc's default
        self.channel: RTCDataChannel | None = None
        # The server's counters (routes.live sets them; tryon.server.metrics), counted once the offer is answered.
        self.metrics: Metrics = UNCOUNTED
        self._counted = False
        # Each thread serves this session only: its log lines carry the session's id (tryon.server.logs).
        self._pool = ThreadPoolExecutor(1, thread_name_prefix=f"tryon-{self.id[:8]}", initializer=logs.bind_session,
                                        initargs=(self.id,))
        # Encoding snapshots runs beside the frames, never in their thread.
        self._io = ThreadPoolExecutor(1, thread_name_prefix=f"tryon-io-{self.id[:8]}", initializer=logs.bind_session,
                                      initargs=(self.id,))
        self._items = list(items)
        self._initial_items = list(items)  # what `reset` goes back to
        self._media_ttl_s = media_ttl_s
        self._track = track
        self._media: list[str] = []  # tokens of the snapshots and clips taken here, for `reset`
        self._hfov_deg = hfov_deg
        self._utc_offset_min = utc_offset_min  # the shopper's time zone, for the watches' dials
        self._pipeline: Pipeline | None = None
        self._latest: av.VideoFrame | None = None
        self._new_frame = asyncio.Event()
        # Commands that change what is worn run one after the other, in the order they came: set_variant
        # names a piece by its place, which an earlier set_items still in the worker may be changing.
        self._wear_lock = asyncio.Lock()
        self._ended = False
        self._tasks: list[asyncio.Task[None]] = []
        self._closed = asyncio.Event()
        self.on_close: Callable[[Session], None] | None = None
        # Per-frame state, touched by the worker thread (plain assignments from the loop are atomic).
        self.compare: float | None = None  # split as a fraction of the displayed (mirrored) width
        self._last_out: np.ndarray | None = None
        self._clip: ClipWriter | None = None
        self._clip_token = ""
        self.face = False
        self.neck = False  # the neck (the torso, from the shoulders) found in the newest frame
        self.hands: tuple[HandSizes, ...] = ()  # each hand tracked in the newest frame: its sizes
        self.tracking: tuple[str, ...] = ()  # what the worn items need: "face", "hands", "neck"
        self.frames_in = 0
        self.frames_out = 0
        self._out_times: deque[float] = deque(maxlen=120)
        self._process_ms: deque[float] = deque(maxlen=60)
        self._t0_ms = time.monotonic() * 1e3
        self._last_ts = -1
        self._last_frame_s = time.monotonic()

    # -- set-up and tear-down -------------------------------------------------------------------------
    async def start(self, offer_sdp: str) -> str:
        """Read the offer (its SDP already looked at by `check_offer_sdp`), then build the pipeline, and return
        the answer's SDP. An offer with no video is refused (InputError) before the costly pipeline is built."""
        from aiortc import RTCSessionDescription

        self._loop = asyncio.get_running_loop()
        logs.bind_session(self.id)
        self.pc.on("datachannel", self._on_datachannel)
        self.pc.on("track", self._on_track)
        self.pc.on("connectionstatechange", self._on_state)
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=offer_sdp, type="offer"))
        if not any(t.receiver.track and t.receiver.track.kind == "video" for t in self.pc.getTransceivers()):
            raise InputError("the offer carries no video track: send the camera")
        await self._run(self._open_pipeline)
        await self.pc.setLocalDescription(await self.pc.createAnswer())
        self._tasks.append(asyncio.create_task(self._watch_loop()))
        self._counted = True
        self.metrics.session_started()
        return self.pc.localDescription.sdp

    def _open_pipeline(self) -> None:
        # The camera's frames arrive unmirrored (mirrored=False); the page shows them mirrored, so watch dials
        # are drawn to read right in that mirror.
        options = PipelineOptions(mode="video", hfov_deg=self._hfov_deg, mirrored=False, mirror_display=True,
                                  track=self._track, use_compositor=self._use_compositor)
        self._pipeline = Pipeline(self.catalog, self._items, options)
        self._note_tracking()

    async def close(self, reason: str = "closed") -> None:
        """Everything this session holds goes: tasks, recording, peer connection, pipeline, worker thread.
        `reason`: why, as tryon.server.metrics.END_REASONS names it (the first close counts)."""
        if self._closed.is_set():
            return
        self._closed.set()
        if self._counted:
            self.metrics.session_ended(reason)
        self._ended = True
        self._new_frame.set()
        for task in self._tasks:
            task.cancel()
        await self.pc.close()
        await self._run(self._close_worker_state)
        self._pool.shutdown(wait=True)
        self._io.shutdown(wait=True)
        if self.on_close is not None:
            self.on_close(self)
        log.info("session %s closed", self.id)

    def _close_worker_state(self) -> None:
        self._discard_clip()
        if self._pipeline is not None:
            self._pipeline.close()
            self._pipeline = None

    async def _run(self, fn: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._pool, fn, *args)

    async def _on_state(self) -> None:
        logs.bind_session(self.id)
        state = self.pc.connectionState
        if state == "connected" and not self.connected:
            self.connected = True
            self._last_frame_s = time.monotonic()
            if not self.on_connected(self):
                log.info("session %s: connected, but every seat is taken", self.id)
                self._send({"event": "closed", "reason": "all live try-on seats are busy; try again shortly"})
                await self.close("no_seat")
        elif state in ("failed", "closed"):
            await self.close("peer_left")

    # -- frames -----------------------------------------------------------------------------------------
    def _on_track(self, track: MediaStreamTrack) -> None:
        if track.kind != "video":
            return
        self._tasks.append(asyncio.create_task(self._pump(track)))
        self.pc.addTrack(ProcessedTrack(self))

    async def _pump(self, track: MediaStreamTrack) -> None:
        logs.bind_session(self.id)
        try:
            while True:
                # A video track's recv() gives video frames; aiortc types it for every kind of track.
                frame = cast(av.VideoFrame, await track.recv())
                if self._latest is not None:  # the worker did not take the last one: it is skipped
                    self.metrics.frame_dropped()
                self._latest = frame
                self.frames_in += 1
                self._new_frame.set()
        except MediaStreamError:  # the browser stopped sending: the peer is gone
            self._ended = True
            self._new_frame.set()
            asyncio.get_running_loop().call_soon(lambda: asyncio.ensure_future(self.close("peer_left")))

    async def next_output(self) -> av.VideoFrame:
        """The newest camera frame, processed. Older frames that arrived meanwhile are skipped."""
        await self._new_frame.wait()
        self._new_frame.clear()
        frame, self._latest = self._latest, None
        if self._ended or frame is None:
            raise MediaStreamError
        try:
            return await self._run(self._process, frame)
        except RuntimeError:  # the worker was shut down: the session is closing
            raise MediaStreamError from None

    def _process(self, frame: av.VideoFrame) -> av.VideoFrame:
        """The frame with the jewelry on it; a frame that fails in any way goes out as it came (and is logged),
        and a session whose frames keep failing ends, freeing its seat."""
        try:
            return self._process_frame(frame)
        except Exception as e:
            self.failed_frames += 1
            self.metrics.error("frame")
            if isinstance(e, TryOnError):
                log.warning("session %s: frame failed: %s", self.id, e)
            else:
                log.exception("session %s: frame failed", self.id)
            if self.failed_frames == MAX_FAILED_FRAMES:
                log.error("session %s: %d frames failed in a row, ending it", self.id, MAX_FAILED_FRAMES)
                self.metrics.error("session")
                self._loop.call_soon_threadsafe(self._end, "the try-on failed on every frame; please reload the page")
            self.frames_out += 1
            return frame

    def _end(self, reason: str) -> None:
        """From the event loop: tell the page why, then close."""
        self._send({"event": "closed", "reason": reason})
        asyncio.ensure_future(self.close("failed"))

    def _process_frame(self, frame: av.VideoFrame) -> av.VideoFrame:
        t0 = time.perf_counter()
        rgb = frame.to_ndarray(format="rgb24")
        now_ms = time.monotonic() * 1e3
        ts = max(int(now_ms - self._t0_ms), self._last_ts + 1)  # MediaPipe wants strictly increasing times
        self._last_ts = ts
        if self._pipeline is None:
            raise TryOnError("the session is closing")
        # Watches show the shopper's time.
        result = self._pipeline.process(Frame(rgb, ts, dial_time_s(self._utc_offset_min)))
        out, anchors = result.image, result.anchors
        self.face = anchors.head is not None
        self.neck = anchors.get(NECK) is not None
        self.hands = tuple(anchors.hands)
        self.failed_frames = 0
        if self.compare is not None:
            w = out.shape[1]
            cut = w - int(round(self.compare * w))  # displayed mirrored: its left part is the frame's right
            out = out.copy()
            out[:, cut:] = rgb[:, cut:]
        self._last_out = out
        if self._clip is not None and not self._clip.add(out[:, ::-1], now_ms):
            try:
                self._finish_clip_in_worker(auto=True)
            except InputError as e:  # the clip could not be kept: the page hears why, the video goes on
                self._loop.call_soon_threadsafe(self._send, {"event": "clip", "error": str(e)})
        processed = av.VideoFrame.from_ndarray(out, format="rgb24")
        processed.pts, processed.time_base = frame.pts, frame.time_base
        took_s = time.perf_counter() - t0
        self._process_ms.append(took_s * 1e3)
        self.metrics.frame_processed(took_s)
        self.frames_out += 1
        self._out_times.append(time.monotonic())
        return processed

    # -- control channel ------------------------------------------------------------------------------------
    def _on_datachannel(self, channel: RTCDataChannel) -> None:
        if channel.label != "control":
            return
        self.channel = channel

        @channel.on("message")
        async def on_message(message: str | bytes) -> None:
            logs.bind_session(self.id)
            reply = await self.handle(message)
            self._send(reply)

    def _send(self, message: dict[str, Any]) -> None:
        if self.channel is not None and self.channel.readyState == "open":
            self.channel.send(json.dumps(message))

    async def handle(self, message: str | bytes) -> dict[str, Any]:
        """One command in, its acknowledgement or error out (never raises)."""
        msg_id = None
        try:
            if isinstance(message, bytes) or len(message) > 10_000:
                raise InputError("commands are JSON text, at most 10 kB")
            try:
                msg = json.loads(message)
            except json.JSONDecodeError as e:
                raise InputError(f"not JSON: {e.msg}") from None
            if not isinstance(msg, dict):
                raise InputError("a command is a JSON object")
            msg_id = msg.get("id")
            if not (msg_id is None or isinstance(msg_id, (int, float, str)) and len(str(msg_id)) <= 64):
                msg_id = None
                raise InputError("a command's 'id' is a number or a string of at most 64 characters")
            cmd = msg.get("cmd")
            handler = COMMANDS.get(cmd) if isinstance(cmd, str) else None
            if handler is None:
                raise InputError(f"unknown command {shorten(repr(cmd))}; commands: {', '.join(COMMANDS)}")
            if not self._commands.take():
                raise InputError(f"too many commands: at most {COMMANDS_PER_S:g} a second")
            return {"id": msg_id, "ok": True, **await handler(self, msg)}
        except TryOnError as e:
            return {"id": msg_id, "ok": False, "error": str(e)}
        except Exception as e:  # a bug must not take the session down
            log.exception("session %s: command failed", self.id)
            self.metrics.error("command")
            return {"id": msg_id, "ok": False, "error": f"internal error: {type(e).__name__}"}

    @property
    def placements(self) -> list[Worn]:
        return list(self._pipeline.placements) if self._pipeline else []

    @property
    def worn(self) -> dict[str, str]:
        """{place: item id}: "ears", "ring", "left_index", "wrist", "neck", ... ("/2": the second item there)."""
        placements = self.placements
        return {key: w.item.id for key, w in zip(place_keys(placements), placements, strict=True)}

    def _worn_reply(self) -> dict[str, Any]:
        """What is worn, by place, and as the specs ("id" or "id@where") that set_items takes back."""
        return {"worn": self.worn, "items": [w.spec for w in self.placements]}

    def _note_tracking(self) -> None:
        running = self._pipeline.trackers() if self._pipeline else set()
        # The neck: necklaces run the pose (the shoulders) and place the torso; the face also runs for them
        # (the head's depth), so "face" is listed, and the page asks for the neck, not the face, to wear them.
        if any(NECK in w.sites for w in self.placements):
            running.add("neck")
        self.tracking = tuple(t for t in ("face", "hands", "neck") if t in running)
        if "hands" not in self.tracking:
            self.hands = ()
        if "neck" not in self.tracking:
            self.neck = False

    async def _cmd_set_items(self, msg: dict[str, Any]) -> dict[str, Any]:
        items = msg.get("items")
        if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
            raise InputError("set_items needs 'items': a list of item ids, each optionally with a place "
                             "('ring-id@left_index')")
        async with self._wear_lock:
            return await self._set_items(items)

    async def _set_items(self, items: list[str]) -> dict[str, Any]:
        assert self._pipeline is not None

        def apply() -> None:
            assert self._pipeline is not None
            self._pipeline.set_items(items)
            self._note_tracking()

        await self._run(apply)
        return self._worn_reply()

    async def _cmd_set_variant(self, msg: dict[str, Any]) -> dict[str, Any]:
        async with self._wear_lock:
            return await self._set_variant(msg)

    async def _set_variant(self, msg: dict[str, Any]) -> dict[str, Any]:
        site = str(msg.get("site"))
        placements = self.placements
        keys = place_keys(placements)
        if site not in keys:
            raise InputError(f"nothing is worn at {msg.get('site')!r}; worn: {', '.join(keys) or 'nothing'}")
        index = keys.index(site)
        current = placements[index].item.id
        size = msg.get("size_mm")
        if size is not None and not isinstance(size, (int, float)):
            raise InputError("size_mm must be a number")
        metal, stone = msg.get("metal"), msg.get("stone")
        if metal is None and stone is None and size is None:
            raise InputError("set_variant needs metal, stone or size_mm")
        item = self.catalog.variant(current, metal=metal, stone=stone, size_mm=None if size is None else float(size))
        # The others stay where they are; the changed piece stays at its own place (and in its turn).
        changed = Worn(item, placements[index].where, placements[index].sites)
        specs = [changed.spec if i == index else w.spec for i, w in enumerate(placements)]
        return {"item": item.id, **await self._set_items(specs)}

    async def _cmd_compare(self, msg: dict[str, Any]) -> dict[str, Any]:
        on = msg.get("on")
        if not isinstance(on, bool):
            raise InputError("compare needs 'on': true or false")
        split = msg.get("split", 0.5)
        if not isinstance(split, (int, float)) or not 0.0 <= split <= 1.0:
            raise InputError("compare 'split' is a fraction of the width, 0 to 1")
        self.compare = float(split) if on else None
        return {"on": on, "split": float(split)}

    async def _cmd_snapshot(self, msg: dict[str, Any]) -> dict[str, Any]:
        mirror = msg.get("mirror", True)
        out = self._last_out
        if out is None:
            raise InputError("no frame yet: wait for the video to start")
        if not self._snapshots.take():
            raise InputError(f"too many snapshots: at most {SNAPSHOTS_PER_S:g} a second; wait a moment")
        png = await asyncio.get_running_loop().run_in_executor(
            self._io, encode_image, np.ascontiguousarray(out[:, ::-1] if mirror else out), ".png")
        self._check_media_room(len(png))
        return self._keep(self.store.put(png, ".png", self._media_ttl_s))

    def _check_media_room(self, size: int) -> None:
        if self._media_bytes + size > self._max_media_bytes:
            raise InputError(f"this session keeps at most {self._max_media_bytes / 1e6:.0f} MB of snapshots and "
                             "clips; download what you have, then reload the page")

    async def _cmd_record(self, msg: dict[str, Any]) -> dict[str, Any]:
        action = msg.get("action")
        if action == "start":
            if not self._records.take():
                raise InputError("too many recordings started: wait a few seconds")
            return await self._run(self._start_clip)
        if action == "stop":
            return await self._run(self._finish_clip_in_worker, False)
        raise InputError("record needs 'action': 'start' or 'stop'")

    def _discard_clip(self) -> None:
        """Stop a recording and delete it (never committed: nobody will ask for it)."""
        if self._clip is not None:
            self._clip.finish()
            self._clip.path.unlink(missing_ok=True)
            self._clip = None

    def _start_clip(self) -> dict[str, Any]:
        if self._clip is not None:
            raise InputError("already recording")
        self._clip_token, path = self.store.new_path(".mp4")
        self._clip = ClipWriter(path.with_suffix(".mp4.part"), MAX_CLIP_S)
        return {"recording": True, "max_s": MAX_CLIP_S}

    def _finish_clip_in_worker(self, auto: bool) -> dict[str, Any]:
        clip, self._clip = self._clip, None
        if clip is None:
            raise InputError("not recording")
        duration = clip.finish()
        if duration <= 0.0:
            clip.path.unlink(missing_ok=True)
            raise InputError("the clip is empty: no frame came while recording")
        final = clip.path.with_suffix("")  # drop ".part"
        try:
            self._check_media_room(clip.path.stat().st_size)
        except InputError:
            clip.path.unlink(missing_ok=True)
            raise
        clip.path.replace(final)
        reply = {**self._keep(self.store.commit(self._clip_token, final, self._media_ttl_s)),
                 "duration_s": round(duration, 2)}
        if auto:
            self._loop.call_soon_threadsafe(self._send, {"event": "clip", **reply})
        return reply

    def _keep(self, media: StoredMedia) -> dict[str, Any]:
        self._media.append(media.token)
        self._media_bytes += media.size
        return _link(media)

    async def _cmd_reset(self, msg: dict[str, Any]) -> dict[str, Any]:
        """The next customer: a recording is dropped, before/after goes off, the pieces go back to those the
        session started with, and the links to what was taken here are revoked, but for those already opened
        on a phone (the customer took them along; they still expire)."""
        async with self._wear_lock:
            await self._run(self._discard_clip)
            self.compare = None
            revoked = self.revoke_media()
            return {"revoked": revoked, **await self._set_items(self._initial_items)}

    def revoke_media(self) -> int:
        """Deletes the snapshots and clips taken in this session that no phone has opened; returns how many."""
        tokens, self._media = self._media, []
        return self.store.revoke(tokens, keep_claimed=True)

    async def _cmd_ping(self, msg: dict[str, Any]) -> dict[str, Any]:
        return {"t": msg.get("t")}

    # -- stats ------------------------------------------------------------------------------------------------
    def stats(self) -> dict[str, Any]:
        now = time.monotonic()
        fps = sum(1 for t in self._out_times if now - t <= 1.0)
        hands = self.hands
        return {"event": "stats", "fps": fps, "frames": self.frames_out,
                "process_ms": round(statistics.median(self._process_ms), 1) if self._process_ms else None,
                "face": self.face, "neck": self.neck,
                "hand_count": len(hands), "hands": [sizes_to_json(h) for h in hands],
                "tracking": list(self.tracking), "dropped": max(0, self.frames_in - self.frames_out)}

    async def _watch_loop(self) -> None:
        """Sends the stats every STATS_PERIOD_S; once connected, ends the session when camera frames stop for
        the frame timeout (a peer that died sends nothing, and tells nobody)."""
        logs.bind_session(self.id)
        last_in, last_stats = self.frames_in, time.monotonic()
        while True:
            await asyncio.sleep(WATCH_PERIOD_S)
            now = time.monotonic()
            if now - last_stats >= STATS_PERIOD_S:
                last_stats = now
                self._send(self.stats())
            if self.frames_in != last_in:
                last_in, self._last_frame_s = self.frames_in, now
            elif self.connected and now - self._last_frame_s > self._frame_timeout_s:
                log.info("session %s: no camera frame for %.1f s, closing", self.id, self._frame_timeout_s)
                asyncio.ensure_future(self.close("frame_timeout"))
                return


def check_offer_sdp(sdp: str) -> None:
    """A cheap look before aiortc parses it: an SDP offer starts with "v=0" and describes a video stream."""
    lines = sdp.lstrip().splitlines()
    if not lines or lines[0].strip() != "v=0":
        raise InputError("not an SDP offer: it must start with 'v=0'")
    if not any(line.startswith("m=video ") for line in lines):
        raise InputError("the offer carries no video track: send the camera")
    # Checked here, not left to aiortc: an offer it would refuse must not take a pending place first (with a
    # few at once from one address, the later ones were told 429 instead of why).
    missing = [a for a in ("a=ice-ufrag:", "a=ice-pwd:", "a=fingerprint:") if not any(x.startswith(a) for x in lines)]
    if missing:
        raise InputError(f"the offer carries no {', '.join(m[2:-1] for m in missing)}: send the browser's own offer")


def shorten(text: str, limit: int = 60) -> str:
    """`text` cut to `limit` characters, so a huge input is not echoed back whole."""
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _link(media: StoredMedia) -> dict[str, Any]:
    return {"url": media.url, "expires_at": datetime.fromtimestamp(media.expires_at, UTC).isoformat()}


COMMANDS = {
    "set_items": Session._cmd_set_items,
    "set_variant": Session._cmd_set_variant,
    "compare": Session._cmd_compare,
    "snapshot": Session._cmd_snapshot,
    "record": Session._cmd_record,
    "ping": Session._cmd_ping,
    "reset": Session._cmd_reset,
}


class ProcessedTrack(MediaStreamTrack):
    """The video sent back: each `recv` is the session's newest camera frame with the jewelry on it."""

    kind = "video"

    def __init__(self, session: Session) -> None:
        super().__init__()
        self._session = session

    async def recv(self) -> av.VideoFrame:
        try:
            return await self._session.next_output()
        except MediaStreamError:
            self.stop()
            raise
