"""The live server under abuse, with real aiortc clients (tryon.tools.soak.LiveClient) against the real server:
offers that never connect, garbage offers, one client taking every seat, command floods, frames that throw,
clients that die, and sessions that come and go. Each bound here is the product's own (a timeout, a limit),
never the machine's speed."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
import textwrap
import threading
import time

import pytest

from tryon.config import Settings
from tryon.server.app import free_port, serve_in_background
from tryon.tools.bench import letterbox
from tryon.tools.soak import LiveClient, get_json, post_json, proc_stats, server_process

CONNECT_TIMEOUT_S = 3.0
FLOOD = 300  # snapshot commands sent at once
FRAME_TIMEOUT_S = 4.0


@pytest.fixture(scope="module")
def camera(astronaut):
    return letterbox(astronaut)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    settings = Settings(data_dir=tmp_path_factory.mktemp("data"), max_sessions=2, connect_timeout_s=CONNECT_TIMEOUT_S,
                        frame_timeout_s=FRAME_TIMEOUT_S, max_session_media_mb=1.0)
    with serve_in_background(settings) as base:
        yield base, settings


def health(base: str) -> dict:
    return get_json(base, "/api/health")


def wait_for(predicate, timeout_s: float, what: str) -> float:
    """Seconds until `predicate()` holds; fails after `timeout_s`."""
    t0 = time.monotonic()
    while not predicate():
        if time.monotonic() - t0 > timeout_s:
            raise AssertionError(f"{what}: not within {timeout_s:g} s")
        time.sleep(0.05)
    return time.monotonic() - t0


def idle(base: str) -> None:
    wait_for(lambda: health(base)["sessions"] == 0, 15, "every session gone")


def test_offers_that_never_connect_hold_no_seat_and_lose_their_place(server, camera):
    base, _ = server

    async def run() -> None:
        # Two offers with their ICE candidates removed: answered, but they never connect.
        ghosts = [LiveClient(camera, source=f"127.0.0.{i}") for i in (2, 3)]
        for g in ghosts:
            status, reply = await g.offer(base, strip=True)
            assert status == 200, reply
        assert health(base)["seats"] == 0 and health(base)["pending"] == 2
        # Both seats still go to real shoppers.
        shoppers = [LiveClient(camera, source=f"127.0.0.{i}") for i in (4, 5)]
        await asyncio.gather(*(s.connect(base) for s in shoppers))
        assert health(base)["seats"] == 2
        # A third real offer is told the seats are busy; the ghosts lose their place after the connect timeout.
        status, reply = await LiveClient(camera, source="127.0.0.6").offer(base)
        assert status == 503 and "busy" in reply["detail"]
        await asyncio.to_thread(wait_for, lambda: health(base)["pending"] == 0, CONNECT_TIMEOUT_S + 3, "ghosts dropped")
        assert all(s.received > 0 and not s.ended.is_set() for s in shoppers)
        await asyncio.gather(*(c.close() for c in ghosts + shoppers))

    asyncio.run(run())
    idle(base)


def test_one_client_holds_at_most_its_share_of_seats_and_pending_offers(server, camera):
    base, settings = server

    async def run() -> None:
        first = LiveClient(camera, source="127.0.0.7")
        await first.connect(base)
        status, reply = await LiveClient(camera, source="127.0.0.7").offer(base)
        assert status == 429 and "already has 1 live" in reply["detail"]
        await first.close()
        await asyncio.to_thread(idle, base)
        ghosts = [LiveClient(camera, source="127.0.0.8") for _ in range(settings.max_pending_per_client + 1)]
        statuses = [(await g.offer(base, strip=True))[0] for g in ghosts]
        assert statuses == [200] * settings.max_pending_per_client + [429]
        await asyncio.gather(*(g.close() for g in ghosts))

    asyncio.run(run())
    wait_for(lambda: health(base)["pending"] == 0, CONNECT_TIMEOUT_S + 3, "ghosts dropped")
    idle(base)


def test_garbage_offers_are_refused_at_once_and_a_real_one_still_gets_in(server, camera):
    base, _ = server
    garbage = [{"sdp": "v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\n"
                       "a=rtpmap:96 VP8/90000\r\n", "type": "offer"},  # no ICE, no DTLS: aiortc refuses it
               {"sdp": "garbage", "type": "offer"}, {"sdp": "v=0\r\n", "type": "offer"}] * 4
    replies: list[tuple[int, dict]] = []
    threads = [threading.Thread(target=lambda b=b: replies.append(post_json(base, "/api/offer", b))) for b in garbage]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(replies) == len(garbage) and all(status == 400 for status, _ in replies), replies
    assert any("not an SDP offer" in r["detail"] for _, r in replies)
    assert sum("ice-ufrag" in r["detail"] for _, r in replies) == 4  # refused before taking a pending place
    assert health(base)["sessions"] == 0

    async def run() -> None:
        shopper = LiveClient(camera, source="127.0.0.9")
        await shopper.connect(base)
        await shopper.close()

    asyncio.run(run())
    idle(base)


def test_a_snapshot_flood_is_rate_limited_capped_and_never_stalls_the_frames(server, camera):
    base, settings = server
    media_dir = settings.data_dir / "media"

    async def run() -> None:
        shopper = LiveClient(camera, source="127.0.0.10")
        await shopper.connect(base)
        await shopper.wait_channel()
        before = shopper.received
        t0 = time.monotonic()
        # 300 at once, 60 times the burst allowed. (A thousand once left a later reply undelivered for 30 s in a
        # full suite run, most likely lost datagrams: a thousand replies at once fill much of the loopback socket's
        # 208 KB buffer while both peers' loops are busy, and SCTP's retransmission timer backs off after each
        # loss. 300 test the same limits.)
        replies = await asyncio.gather(*(shopper.send({"cmd": "snapshot"}) for _ in range(FLOOD)))
        flood_s = time.monotonic() - t0
        await asyncio.sleep(1.0)
        ok = [r for r in replies if r["ok"]]
        assert 1 <= len(ok) <= 6, len(ok)  # a burst of five (and one more if a second passed), no more
        errors = {r["error"] for r in replies if not r["ok"]}
        assert all("too many" in e or "keeps at most 1 MB" in e for e in errors), errors
        # The video went on meanwhile: frames kept coming during and right after the flood.
        assert shopper.received - before >= 10, (shopper.received - before, flood_s)
        assert len(list(media_dir.glob("*.png"))) <= 6
        # Past the session's own cap (1 MB here) a snapshot is refused with the reason.
        refusals = []
        for _ in range(6):
            await asyncio.sleep(1.05)
            reply = await shopper.command({"cmd": "snapshot"})
            if not reply["ok"]:
                refusals.append(reply["error"])
        assert refusals and "keeps at most 1 MB" in refusals[-1]
        assert sum(p.stat().st_size for p in media_dir.glob("*.png")) <= 1.0 * 1024**2 + 600_000
        assert not shopper.ended.is_set()
        await shopper.close()

    asyncio.run(run())
    idle(base)


BAD_COMMANDS = [
    "not json", "[1, 2]", "42", "null", json.dumps({"cmd": "x" * 5000}), json.dumps({"cmd": {"nested": 1}}),
    json.dumps({"cmd": "set_items"}), json.dumps({"cmd": "set_items", "items": [{}]}),
    json.dumps({"cmd": "set_items", "items": ["x" * 9000]}), json.dumps({"cmd": "set_items", "items": ["nope"]}),
    json.dumps({"cmd": "set_variant", "site": "ears", "metal": {"a": 1}}),
    json.dumps({"cmd": "set_variant", "site": "nowhere", "metal": "silver"}),
    json.dumps({"cmd": "set_variant", "site": "ears", "size_mm": "big"}),
    json.dumps({"cmd": "compare", "on": "yes"}), json.dumps({"cmd": "compare", "on": True, "split": 7}),
    json.dumps({"cmd": "record", "action": "explode"}), json.dumps({"cmd": "record", "action": "stop"}),
    json.dumps({"cmd": "ping", "id": ["not", "an", "id"]}), "{" * 20_000,
]


def test_every_bad_command_gets_a_clear_error_and_the_session_goes_on(server, camera):
    base, _ = server

    async def run() -> None:
        shopper = LiveClient(camera, source="127.0.0.13")
        await shopper.connect(base)
        await shopper.wait_channel()
        replies: list[dict] = []
        before = len(shopper.events)
        for text in BAD_COMMANDS:
            shopper.channel.send(text)
        shopper.channel.send(b"\x00binary")
        await asyncio.sleep(2.0)
        replies = [e for e in shopper.events[before:] if "event" not in e]
        assert not replies  # replies to commands without our ids are not events
        ok = await shopper.command({"cmd": "ping", "t": 5})
        assert ok == {"id": ok["id"], "ok": True, "t": 5} and not shopper.ended.is_set()
        got = shopper.received
        await asyncio.sleep(0.5)
        assert shopper.received > got
        await shopper.close()

    asyncio.run(run())
    idle(base)


def test_a_frame_that_throws_passes_through_and_a_session_that_keeps_failing_ends(server, camera, monkeypatch):
    from tryon.pipeline import Pipeline

    base, _ = server
    real = Pipeline.process
    failing = {"on": False, "count": 0}

    def process(self, *args, **kwargs):
        if failing["on"]:
            failing["count"] += 1
            raise ValueError("a bug in one frame")
        return real(self, *args, **kwargs)

    monkeypatch.setattr(Pipeline, "process", process)

    async def run() -> None:
        shopper = LiveClient(camera, source="127.0.0.11")
        await shopper.connect(base)
        await shopper.wait_channel()
        failing["on"] = True
        await asyncio.sleep(0.5)
        failing["on"] = False
        got = shopper.received
        await asyncio.sleep(1.0)
        assert failing["count"] > 0 and shopper.received > got  # the video went on through the failures
        assert (await shopper.command({"cmd": "ping", "t": 1}))["ok"]
        failing["on"] = True  # now every frame fails: the session ends and says why
        await asyncio.wait_for(shopper.ended.wait(), 30)
        assert any(e.get("event") == "closed" and "failed" in e["reason"] for e in shopper.events)
        await shopper.close()

    asyncio.run(run())
    wait_for(lambda: health(base)["seats"] == 0, 10, "the failing session's seat freed")
    idle(base)


CLIENT = textwrap.dedent("""
    import asyncio, sys
    from skimage import data
    from tryon.tools.bench import letterbox
    from tryon.tools.soak import LiveClient

    async def main():
        client = LiveClient(letterbox(data.astronaut()), source="127.0.0.12")
        await client.connect(sys.argv[1])
        print("connected", flush=True)
        await asyncio.sleep(3600)

    asyncio.run(main())
""")


def test_a_client_that_dies_mid_session_frees_its_seat_within_5_s(server):
    base, _ = server
    proc = subprocess.Popen([sys.executable, "-c", CLIENT, base], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == b"connected"
        assert health(base)["seats"] == 1
        proc.send_signal(signal.SIGKILL)  # no goodbye: its packets just stop
        proc.wait(10)
        freed_s = wait_for(lambda: health(base)["seats"] == 0, 15, "the dead client's seat freed")
        print(f"seat freed {freed_s:.2f} s after the client died")
        assert freed_s <= 5.0, freed_s
    finally:
        proc.kill()
        proc.wait()
    idle(base)


CYCLES = 20
RSS_GROWTH_MB = 150  # the stated bound for 20 sessions come and gone, after the first has loaded the models


def test_twenty_sessions_come_and_go_and_the_server_returns_to_its_level(tmp_path, camera):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with server_process({"TRYON_DATA_DIR": str(tmp_path)}, port, tmp_path / "server.log") as proc:

        async def cycle(i: int) -> None:
            client = LiveClient(camera, source=f"127.0.1.{i + 1}")
            await client.connect(base, timeout_s=60)
            await client.wait_channel()
            assert (await client.command({"cmd": "set_items", "items": ["stud-diamond-6mm-platinum"]}))["ok"]
            await client.close()
            await asyncio.to_thread(wait_for, lambda: get_json(base, "/api/health")["sessions"] == 0, 15, "closed")

        asyncio.run(cycle(0))  # the first session loads the models, the renderer and the compositor
        time.sleep(1.0)
        level = proc_stats(proc.pid)
        for i in range(1, CYCLES + 1):
            asyncio.run(cycle(i))
        time.sleep(1.0)
        after = proc_stats(proc.pid)
    print(json.dumps({"level": level, "after": after}))
    assert after["threads"] <= level["threads"] + 2, (level, after)
    assert after["fds"] <= level["fds"] + 5, (level, after)
    assert after["rss_mb"] - level["rss_mb"] <= RSS_GROWTH_MB, (level, after)


def test_soak_reports_fps_latency_and_memory(camera):
    from tryon.tools.soak import soak

    samples = soak(0.25, 1, ["hoop-round-25mm-yellow-gold"], camera, period_s=5.0)
    assert len(samples) == 3
    for s in samples:
        assert s.fps > 0 and s.latency_ms["p50"] > 0 and s.rss_mb > 100 and s.threads > 1 and s.sessions_alive == 1

