"""The live try-on through a TURN relay only: Debian's coturn on loopback, the server told (TRYON_ICE_SERVERS,
TRYON_ICE_TRANSPORT_POLICY=relay) to use it, Chromium's page taking the same servers from GET /api/ice.

As for a phone behind a carrier's NAT: no host or server-reflexive candidate may be used, so the session comes up
only if both ends allocate on the TURN server and the media and control channel go through it. The test checks
that aiortc's answer carries only relayed candidates (the server got the TURN server and the policy), that
Chromium's selected candidate pair is relay on both sides (getStats), that coturn granted allocations, and that
the video coming back through the relay shows the jewelry near the ears. Twice: with a TURN user and password in
the setting, and with time-limited credentials the server makes from coturn's shared secret (TRYON_TURN_SECRET).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import json
import re
import time
import urllib.request
from pathlib import Path

import cv2
import numpy as np
import pytest
from conftest import write_y4m
from PIL import Image
from turn import TurnServer, coturn

from tryon.config import Settings
from tryon.server.app import serve_in_background
from tryon.tools.bench import letterbox
from tryon.tools.bench_live import CHROMIUM, CHROMIUM_ARGS

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed (make deb)")
ITEM = "hoop-round-40mm-yellow-gold"
READY_TIMEOUT_MS = 60_000


SECRET = "a-shared-secret-of-this-test"


@pytest.fixture(scope="module", params=["password", "secret"])
def turn(request, tmp_path_factory):
    with coturn(tmp_path_factory.mktemp("coturn"), SECRET if request.param == "secret" else None) as server:
        yield server


@pytest.fixture(scope="module")
def relay_server(turn: TurnServer, tmp_path_factory):
    settings = Settings(data_dir=tmp_path_factory.mktemp("data"), max_sessions=2, max_seats_per_client=2,
                        ice_servers=turn.ice_servers, ice_transport_policy="relay", turn_secret=turn.secret)
    with serve_in_background(settings) as base:
        yield base


@pytest.fixture(scope="module")
def browser(astronaut, tmp_path_factory):
    sync_api = pytest.importorskip("playwright.sync_api")
    # A still camera: what differs between two received frames is what the server drew.
    y4m = write_y4m(tmp_path_factory.mktemp("cam") / "face.y4m", [letterbox(astronaut)] * 10)
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=[
            *CHROMIUM_ARGS, "--use-fake-device-for-media-stream", f"--use-file-for-fake-video-capture={y4m}"])
        yield b
        b.close()


@pytest.fixture
def page(browser, relay_server):
    context = browser.new_context(permissions=["camera"], bypass_csp=True)  # the test evaluates strings
    page = context.new_page()
    yield page
    page.close(run_before_unload=True)
    context.close()
    t0 = time.time()
    while json.load(urllib.request.urlopen(f"{relay_server}/api/health"))["sessions"] and time.time() - t0 < 15:
        time.sleep(0.1)


def candidate_types(sdp: str) -> set[str]:
    return {line.split(" typ ")[1].split()[0] for line in sdp.splitlines()
            if line.startswith("a=candidate:") and " typ " in line}


SELECTED_PAIR_JS = """async () => {
    const stats = await window.tryon.pc.getStats();
    let pair = null;
    stats.forEach((s) => {
        if (s.type === 'transport' && s.selectedCandidatePairId) pair = stats.get(s.selectedCandidatePairId);
    });
    if (!pair) return null;
    const local = stats.get(pair.localCandidateId), remote = stats.get(pair.remoteCandidateId);
    let framesDecoded = 0;
    stats.forEach((s) => { if (s.type === 'inbound-rtp' && s.kind === 'video') framesDecoded = s.framesDecoded; });
    return {local: local.candidateType, remote: remote.candidateType, localAddress: local.address,
            relayProtocol: local.relayProtocol ?? null, state: pair.state, bytesReceived: pair.bytesReceived,
            framesDecoded};
}"""

# The returned video as the page shows it (before any CSS mirroring), at the camera's size.
FRAME_JS = """() => {
    const video = document.getElementById('video');
    const canvas = document.createElement('canvas');
    canvas.width = 640; canvas.height = 480;
    canvas.getContext('2d').drawImage(video, 0, 0, 640, 480);
    return canvas.toDataURL('image/png');
}"""


def received_frame(page) -> np.ndarray:
    data = base64.b64decode(page.evaluate(FRAME_JS).split(",", 1)[1])
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB")).astype(np.int16)


def drawn(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """What a piece adds to the same still frame, above the video codec's noise."""
    d = cv2.GaussianBlur(np.abs(a - b).sum(axis=2).astype(np.float32), (0, 0), 1.0)
    return d > 60


def wait_stats(page, timeout_s: float = 15.0) -> dict:
    t0 = time.time()
    while time.time() - t0 < timeout_s:
        stats = page.evaluate("window.tryon.lastStats")
        if stats and stats.get("fps"):
            return stats
        time.sleep(0.2)
    raise AssertionError("no stats from the server over the relayed control channel")


def test_the_page_gets_the_turn_server_and_relay_policy_from_the_api(relay_server, turn):
    ice = json.load(urllib.request.urlopen(f"{relay_server}/api/ice"))
    if turn.secret is None:
        assert ice == {"iceServers": turn.ice_servers, "iceTransportPolicy": "relay"}
        return
    (server,) = ice["iceServers"]
    assert server["urls"] == turn.ice_servers[0]["urls"] and ice["iceTransportPolicy"] == "relay"
    expires, name = server["username"].split(":")
    assert name == "tryon" and 11 * 3600 < int(expires) - time.time() <= 12 * 3600
    digest = hmac.new(SECRET.encode(), server["username"].encode(), hashlib.sha1).digest()
    assert server["credential"] == base64.b64encode(digest).decode()


def test_try_on_works_through_the_turn_relay_only(page, relay_server, turn):
    page.goto(f"{relay_server}/?nomirror=1&items={ITEM}")
    page.wait_for_function("window.tryon !== undefined")
    page.evaluate(f"Promise.race([window.tryon.ready, new Promise((_, no) => setTimeout(() => no(new Error("
                  f"'not ready through the relay')), {READY_TIMEOUT_MS}))])")
    # The server's end: its answer offers relayed candidates only, so aiortc allocated on coturn.
    answer = page.evaluate("window.tryon.pc.remoteDescription.sdp")
    assert candidate_types(answer) == {"relay"}, answer
    # The browser's end: the connection's selected pair is relay to relay, through coturn's port.
    pair = page.evaluate(SELECTED_PAIR_JS)
    assert pair is not None and pair["state"] == "succeeded", pair
    assert (pair["local"], pair["remote"]) == ("relay", "relay"), pair
    assert pair["localAddress"] == "127.0.0.1" and pair["relayProtocol"] in ("udp", "tcp"), pair
    log = turn.log()
    user = re.escape(turn.user) if turn.secret is None else r"\d+:tryon"  # time-limited: EXPIRY:tryon
    assert re.search(f"user <{user}>: incoming packet ALLOCATE processed, success", log), log[-3000:]

    stats = wait_stats(page)
    assert stats["face"] is True  # the camera's frames reached the tracker through the relay
    time.sleep(1.0)
    hoop = received_frame(page)
    page.evaluate("window.tryon.send({cmd: 'set_items', items: []})")
    time.sleep(1.0)
    bare = received_frame(page)
    px = drawn(hoop, bare)
    ys, xs = np.nonzero(px)
    assert px.sum() > 60, "no hoop in the video that came back through the relay"
    # The astronaut's ears in the letterboxed frame are near x 244 and 335, y 100 to 200.
    assert 80 < np.median(ys) < 230 and 200 < np.median(xs) < 380, (np.median(xs), np.median(ys))
    after = page.evaluate(SELECTED_PAIR_JS)
    assert after["framesDecoded"] > pair["framesDecoded"] and after["bytesReceived"] > pair["bytesReceived"]
    assert (after["local"], after["remote"]) == ("relay", "relay")
