"""Debian's coturn on loopback, for tests: a TURN server a relay-only WebRTC session goes through.

start_coturn(tmp_path) starts one `turnserver` on free loopback ports with long-term credentials (one user in its
own realm) and relays on 127.0.0.1 (coturn refuses loopback peers unless told to allow them); TurnServer.stop()
ends it. start_coturn(tmp_path, secret=S) takes time-limited credentials made from a shared secret instead
(coturn's use-auth-secret, as TRYON_TURN_SECRET makes them). Missing package: pytest.skip with the reason.
"""

from __future__ import annotations

import contextlib
import secrets
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

TURNSERVER = shutil.which("turnserver") or "/usr/bin/turnserver"
START_TIMEOUT_S = 15.0
RELAY_PORTS = 40  # UDP ports for relay endpoints: two per allocation, a few allocations per session


@dataclass
class TurnServer:
    """A running coturn: TURN (and STUN) on 127.0.0.1:port, UDP and TCP, user:password in realm; or, with
    `secret`, credentials made from it (then user and password are empty)."""

    port: int
    realm: str
    user: str
    password: str
    log_path: Path
    process: subprocess.Popen[bytes]
    secret: str | None = None

    @property
    def ice_servers(self) -> list[dict[str, Any]]:
        """As TRYON_ICE_SERVERS and RTCPeerConnection take it (with `secret`: no credentials; the try-on server
        makes them from TRYON_TURN_SECRET)."""
        urls = [f"turn:127.0.0.1:{self.port}?transport=udp", f"turn:127.0.0.1:{self.port}?transport=tcp"]
        return [{"urls": urls}] if self.secret else [{"urls": urls, "username": self.user, "credential": self.password}]

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)


def _free_port(kind: int) -> int:
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _port_free(port: int) -> bool:
    for kind in (socket.SOCK_DGRAM, socket.SOCK_STREAM):
        with socket.socket(socket.AF_INET, kind) as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                return False
    return True


def _free_range(n: int) -> tuple[int, int]:
    """n consecutive loopback ports free now (UDP and TCP), above the ephemeral range's start."""
    for _ in range(200):
        low = 20000 + secrets.randbelow(20000)
        if all(_port_free(p) for p in range(low, low + n)):
            return low, low + n - 1
    raise RuntimeError(f"no {n} consecutive free ports on 127.0.0.1")


def start_coturn(tmp_path: Path, secret: str | None = None) -> TurnServer:
    """coturn on 127.0.0.1: a free port for TURN, a free range for relays; waits until it takes connections.
    `secret`: time-limited credentials made from it (use-auth-secret) instead of one user and password.
    Skips the test when coturn is not installed."""
    if not Path(TURNSERVER).exists():
        pytest.skip("Debian's coturn is not installed (apt-get install coturn)")
    tmp_path.mkdir(parents=True, exist_ok=True)
    port = _free_port(socket.SOCK_STREAM)
    low, high = _free_range(RELAY_PORTS)
    user, password, realm = ("", "", "tryon.test") if secret else ("tryon", secrets.token_hex(8), "tryon.test")
    credentials = ["--use-auth-secret", f"--static-auth-secret={secret}"] if secret else [
        "--lt-cred-mech", f"--user={user}:{password}"]
    log_path = tmp_path / "turnserver.log"  # --simple-log: this name, no date added
    command = [TURNSERVER, "-n", "--listening-ip=127.0.0.1", "--relay-ip=127.0.0.1", f"--listening-port={port}",
               f"--min-port={low}", f"--max-port={high}", "--allow-loopback-peers", "--no-tls", "--no-dtls",
               *credentials, f"--realm={realm}", "--no-cli", "--fingerprint", "--verbose",
               f"--log-file={log_path}", "--simple-log", f"--pidfile={tmp_path / 'turnserver.pid'}",
               f"--userdb={tmp_path / 'turndb.sqlite'}", "--no-software-attribute"]
    with open(tmp_path / "turnserver.out", "wb") as out:  # what it says before its log file is open
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    turn = TurnServer(port, realm, user, password, log_path, process, secret)
    deadline = time.monotonic() + START_TIMEOUT_S
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"turnserver exited with {process.returncode}:\n{turn.log()[-3000:]}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return turn
        if time.monotonic() > deadline:
            turn.stop()
            raise RuntimeError(f"turnserver did not listen on 127.0.0.1:{port} within {START_TIMEOUT_S:g} s:\n"
                               f"{turn.log()[-3000:]}")
        time.sleep(0.1)


@contextlib.contextmanager
def coturn(tmp_path: Path, secret: str | None = None) -> Iterator[TurnServer]:
    """start_coturn as a context manager: stopped on exit, whatever happened."""
    turn = start_coturn(tmp_path, secret)
    try:
        yield turn
    finally:
        turn.stop()
