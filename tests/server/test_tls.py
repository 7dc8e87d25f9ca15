"""`tryon serve --tls-cert F --tls-key F`: HTTPS from the server itself (a phone's browser opens the camera only on
a secure page), with a self-signed certificate made here; wrong files are one clear line and exit 2, before
anything listens."""

from __future__ import annotations

import json
import os
import select
import signal
import socket
import ssl
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from conftest import make_cert
from cryptography.hazmat.primitives import serialization

TRYON = [sys.executable, "-m", "tryon.cli"]


def run(*args: object, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*TRYON, *map(str, args)], capture_output=True, text=True, timeout=120,
                          env=env or {**os.environ})


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_serve_with_tls_answers_https_only(tmp_path):
    cert, key = make_cert(tmp_path)
    port = free_port()
    env = {**os.environ, "TRYON_DATA_DIR": str(tmp_path / "data")}
    proc = subprocess.Popen([*TRYON, "serve", "--port", str(port), "--tls-cert", str(cert), "--tls-key", str(key)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        ready, _, _ = select.select([proc.stdout], [], [], 120)
        line = proc.stdout.readline() if ready else ""
        assert line.strip() == f"tryon: serving the live try-on at https://127.0.0.1:{port} (API docs at /docs)", (
            line, proc.poll())
        trusting = ssl.create_default_context(cafile=str(cert))
        with urllib.request.urlopen(f"https://127.0.0.1:{port}/api/ice", context=trusting, timeout=60) as reply:
            assert reply.status == 200
            assert json.loads(reply.read()) == {"iceServers": [], "iceTransportPolicy": "all"}
        with urllib.request.urlopen(f"https://localhost:{port}/", context=trusting, timeout=60) as reply:
            assert reply.status == 200 and b"<html" in reply.read().lower()
        # The certificate is the one given: a client that does not trust it refuses the connection.
        with pytest.raises(urllib.error.URLError, match="CERTIFICATE_VERIFY_FAILED"):
            urllib.request.urlopen(f"https://127.0.0.1:{port}/api/health", timeout=60)
        # Plain HTTP to the TLS port gets no page.
        with pytest.raises((urllib.error.URLError, ConnectionError, OSError)):
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/health", timeout=60)
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _encrypted_key(directory: Path, key: Path) -> Path:
    loaded = serialization.load_pem_private_key(key.read_bytes(), password=None)
    out = directory / "encrypted.key"
    out.write_bytes(loaded.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                         serialization.BestAvailableEncryption(b"secret")))
    return out


@pytest.mark.parametrize("case", ["only-cert", "missing-cert", "directory-key", "key-as-cert", "cert-as-key",
                                  "mismatched", "encrypted"])
def test_wrong_tls_files_are_one_clear_line_and_exit_2(tmp_path, case):
    cert, key = make_cert(tmp_path)
    _, other_key = make_cert(tmp_path, "other")
    args, message = {
        "only-cert": (["--tls-cert", cert], "--tls-cert and --tls-key go together"),
        "missing-cert": (["--tls-cert", tmp_path / "nope.crt", "--tls-key", key],
                         f"--tls-cert {tmp_path / 'nope.crt'}: no such file"),
        "directory-key": (["--tls-cert", cert, "--tls-key", tmp_path], f"--tls-key {tmp_path}: not a file"),
        "key-as-cert": (["--tls-cert", key, "--tls-key", key], f"--tls-cert {key}: not a PEM certificate"),
        "cert-as-key": (["--tls-cert", cert, "--tls-key", cert], f"--tls-key {cert}: not a PEM private key"),
        "mismatched": (["--tls-cert", cert, "--tls-key", other_key],
                       f"--tls-key {other_key} is not the private key of --tls-cert {cert}"),
        "encrypted": (["--tls-cert", cert, "--tls-key", _encrypted_key(tmp_path, key)], "is encrypted"),
    }[case]
    port = free_port()
    r = run("serve", "--port", port, *args)
    assert r.returncode == 2, r
    assert len(r.stderr.strip().splitlines()) == 1 and message in r.stderr and "Traceback" not in r.stderr, r.stderr
    assert r.stdout == ""
    with socket.socket() as probe:  # nothing was left listening
        probe.bind(("127.0.0.1", port))
