"""Draining for shutdown, on a real `tryon serve` process with real WebRTC sessions (aiortc clients): SIGTERM makes
the server not ready (503) and refuse new offers (503, which a load balancer passes on), while the running session
goes on receiving processed frames; the server stops once it ends, or when TRYON_DRAIN_TIMEOUT_S has passed. A
server with no session stops at once."""

from __future__ import annotations

import asyncio
import http.client
import signal
import subprocess
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tryon.server.app import free_port
from tryon.tools.bench import letterbox
from tryon.tools.soak import LiveClient, server_process

EARRING = "hoop-round-25mm-yellow-gold"
STOP_WAIT_S = 60  # generous: a bound on a hang, not a speed


def fetch(base: str, path: str) -> tuple[int, str]:
    parts = urlsplit(base)
    conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port or 80, timeout=10)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read().decode()
    finally:
        conn.close()


async def until(predicate, timeout_s: float, what: str) -> None:
    t0 = time.monotonic()
    while not await asyncio.to_thread(predicate):
        if time.monotonic() - t0 > timeout_s:
            raise AssertionError(f"{what}: not within {timeout_s:g} s")
        await asyncio.sleep(0.1)


def stopped(proc: subprocess.Popen) -> bool:
    return proc.poll() is not None


@pytest.fixture(scope="module")
def camera(astronaut):
    return letterbox(astronaut)


def env_for(tmp_path: Path, drain_s: float) -> dict[str, str]:
    return {"TRYON_DATA_DIR": str(tmp_path / "data"), "TRYON_DRAIN_TIMEOUT_S": str(drain_s),
            "TRYON_MAX_SESSIONS": "2", "TRYON_FRAME_TIMEOUT_S": "4"}


def test_sigterm_drains_refuses_new_sessions_and_stops_when_the_last_one_ends(tmp_path, camera):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = tmp_path / "serve.log"
    with server_process(env_for(tmp_path, 120), port, log) as proc:

        async def run() -> None:
            shopper = LiveClient(camera, items=[EARRING], source="127.0.0.2")
            await shopper.connect(base)
            assert fetch(base, "/api/health/ready")[0] == 200
            proc.send_signal(signal.SIGTERM)
            await until(lambda: fetch(base, "/api/health/ready")[0] == 503, 20, "ready turned 503")
            status, body = fetch(base, "/api/health/ready")
            assert '"draining":true' in body.replace(" ", ""), body
            assert fetch(base, "/api/health/live")[0] == 200  # alive, only not taking sessions
            assert "tryon_draining 1.0" in fetch(base, "/metrics")[1]
            # A new shopper is turned away with a 503 (a load balancer tries the next server) ...
            status, reply = await LiveClient(camera, items=[EARRING], source="127.0.0.3").offer(base)
            assert status == 503 and "shutting down" in reply["detail"], (status, reply)
            # ... while the running session goes on: processed frames keep coming and the server keeps running.
            seen = shopper.received
            t0 = time.monotonic()
            while shopper.received < seen + 30:
                assert not stopped(proc), "the server stopped while a session was running"
                assert time.monotonic() - t0 < STOP_WAIT_S, "no processed frame came while draining"
                await asyncio.sleep(0.05)
            assert not shopper.ended.is_set()
            await shopper.close()  # the last session ends: the server stops by itself
            await until(lambda: stopped(proc), STOP_WAIT_S, "the server stopped after its last session")

        asyncio.run(run())
    text = log.read_text()
    assert "draining; 1 session(s) running" in text and "drained after" in text, text[-2000:]
    assert "drain timeout" not in text


def test_the_drain_timeout_ends_sessions_that_outlast_it(tmp_path, camera):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = tmp_path / "serve.log"
    with server_process(env_for(tmp_path, 2), port, log) as proc:

        async def run() -> None:
            shopper = LiveClient(camera, items=[EARRING], source="127.0.0.2")
            await shopper.connect(base)
            proc.send_signal(signal.SIGTERM)
            await until(lambda: stopped(proc), STOP_WAIT_S, "the server stopped at the drain timeout")
            # The shopper's session was ended by the server (its peer connection closed).
            t0 = time.monotonic()
            while not shopper.ended.is_set():
                assert time.monotonic() - t0 < STOP_WAIT_S, "the session outlived the server"
                await asyncio.sleep(0.1)
            await shopper.close()

        asyncio.run(run())
    assert "drain timeout (2 s): stopping with 1 session(s) still running" in log.read_text()


def test_a_server_without_sessions_stops_at_once_on_sigterm(tmp_path):
    port = free_port()
    log = tmp_path / "serve.log"
    with server_process(env_for(tmp_path, 120), port, log) as proc:
        proc.send_signal(signal.SIGTERM)
        proc.wait(STOP_WAIT_S)  # not the 120 s drain: nothing to wait for
        assert proc.returncode is not None
    assert "draining; 0 session(s) running" in log.read_text()


@pytest.mark.parametrize("unit", ["tryon.service", "tryon-worker.service"])
def test_the_systemd_units_verify_and_stop_gently(tmp_path, unit):
    """deploy/'s units: systemd's own checker accepts them (with ExecStart pointed at this checkout's tryon), they
    stop with SIGTERM, and the server's unit waits longer than its drain plus the shutdown's grace."""
    import re
    import shutil
    import sys

    from tryon.cli import GRACEFUL_STOP_S

    text = (Path(__file__).resolve().parents[2] / "deploy" / unit).read_text()
    fields = dict(re.findall(r"^(\w+)=(.*)$", text, re.M))
    assert fields["KillSignal"] == "SIGTERM" and fields["KillMode"] == "mixed"
    if unit == "tryon.service":
        drain_s = float(re.search(r"^Environment=TRYON_DRAIN_TIMEOUT_S=(\S+)$", text, re.M).group(1))
        assert float(fields["TimeoutStopSec"]) > drain_s + GRACEFUL_STOP_S
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed (Debian's systemd package); the units' syntax is unchecked")
    tryon = Path(sys.executable).with_name("tryon")
    local = tmp_path / unit
    local.write_text(text.replace("/opt/tryon/.venv/bin/tryon", str(tryon)))
    run = subprocess.run([analyze, "verify", str(local)], capture_output=True, text=True, timeout=60)
    problems = [line for line in (run.stdout + run.stderr).splitlines() if line.strip()]
    assert run.returncode == 0 and not problems, problems
