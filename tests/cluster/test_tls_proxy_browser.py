"""deploy/nginx-tls.conf as shipped (only its names, ports and certificate paths changed): nginx terminating HTTPS
in front of `tryon serve`, with the settings docs/DEPLOY.md gives for it, and the live try-on working in Chromium
on the https:// page."""

from __future__ import annotations

import json
import re
import ssl
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from conftest import make_cert, write_y4m
from services import REPO, free_port, start_nginx

from tryon.config import Settings
from tryon.server.app import serve_in_background
from tryon.tools.bench import letterbox
from tryon.tools.bench_live import CHROMIUM, CHROMIUM_ARGS

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed (make deb)")
DEPLOY_TLS = REPO / "deploy" / "nginx-tls.conf"
ITEM = "hoop-round-40mm-yellow-gold"


def tls_site(server_port: int, http_port: int, cert: Path, key: Path) -> str:
    """deploy/nginx-tls.conf pointed at one server on loopback, HTTPS at `{port}` (start_nginx's), the redirect
    at `http_port`, with this test's certificate. Fails when the file no longer has the lines replaced here."""
    text = DEPLOY_TLS.read_text()
    replacements = [
        (r"\n\s*server 127\.0\.0\.1:8000 (max_fails=0);", f"\n    server 127.0.0.1:{server_port} \\1;"),
        (r"\n\s*listen \[::\]:80;", ""), (r"\n\s*listen \[::\]:443 ssl http2;", ""),
        (r"listen 80;", f"listen 127.0.0.1:{http_port};"),
        (r"listen 443 ssl http2;", "listen 127.0.0.1:{port} ssl http2;"),
        (r"ssl_certificate     \S+;", f"ssl_certificate {cert};"),
        (r"ssl_certificate_key \S+;", f"ssl_certificate_key {key};"),
    ]
    for pattern, new in replacements:
        text, n = re.subn(pattern, new, text)
        assert n == 1, f"{DEPLOY_TLS}: expected one {pattern!r}"
    return text.replace("shop.example.com", "localhost")


@pytest.fixture(scope="module")
def cert(tmp_path_factory) -> tuple[Path, Path]:
    """A self-signed certificate for localhost and 127.0.0.1, and its key (PEM)."""
    return make_cert(tmp_path_factory.mktemp("tls"))


@pytest.fixture(scope="module")
def proxied(cert, tmp_path_factory):
    """(https base, http redirect port): nginx with TLS first (it needs only the server's port), then the server
    with the settings the deploy file names (no allowed origins: the proxy's X-Forwarded-Proto makes the https page
    same-origin)."""
    server_port, http_port = free_port(), free_port()
    tmp = tmp_path_factory.mktemp("proxy")
    with start_nginx(tls_site(server_port, http_port, *cert), tmp) as port:
        base = f"https://localhost:{port}"
        settings = Settings(data_dir=tmp / "data", trusted_proxies=["127.0.0.1"], allowed_hosts=["localhost"],
                            max_seats_per_client=2)
        with serve_in_background(settings, port=server_port):
            yield base, http_port


def fetch(url: str, cert: Path, method: str = "GET", headers: dict[str, str] | None = None,
          body: bytes | None = None) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, method=method, headers=headers or {}, data=body)
    context = ssl.create_default_context(cafile=str(cert))

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: object, **kwargs: object) -> None:
            return None

    opener = urllib.request.build_opener(urllib.request.HTTPSHandler(context=context), NoRedirect)
    try:
        with opener.open(request, timeout=60) as reply:
            return reply.status, dict(reply.headers), reply.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def test_https_through_the_proxy_and_plain_http_sent_there(proxied, cert):
    base, http_port = proxied
    status, headers, body = fetch(f"{base}/api/ice", cert[0])
    assert status == 200 and json.loads(body) == {"iceServers": [], "iceTransportPolicy": "all"}
    assert headers.get("Strict-Transport-Security") == "max-age=31536000"
    status, headers, _ = fetch(f"http://127.0.0.1:{http_port}/?items={ITEM}", cert[0])
    assert status == 301 and headers["Location"] == f"https://127.0.0.1/?items={ITEM}"


def test_the_pages_origin_may_post_and_others_may_not(proxied, cert):
    base, _ = proxied
    offer = json.dumps({"sdp": "v=0", "type": "offer", "items": []}).encode()
    headers = {"Content-Type": "application/json"}
    # The server sees http:// behind the proxy; the https:// page's origin passes because the proxy says https.
    status, _, body = fetch(f"{base}/api/offer", cert[0], "POST", {**headers, "Origin": base}, offer)
    assert status == 400, body  # the guard let it through; the SDP itself is refused
    status, _, body = fetch(f"{base}/api/offer", cert[0], "POST", {**headers, "Origin": "https://evil.example"}, offer)
    assert status == 403 and b"cross-origin" in body


def test_live_try_on_on_the_https_page(proxied, astronaut, tmp_path):
    sync_api = pytest.importorskip("playwright.sync_api")
    base, _ = proxied
    y4m = write_y4m(tmp_path / "face.y4m", [letterbox(astronaut)] * 10)
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            *CHROMIUM_ARGS, "--use-fake-device-for-media-stream", f"--use-file-for-fake-video-capture={y4m}"])
        try:
            # The test's own CA is not the browser's: accept its certificate for this context only.
            context = browser.new_context(permissions=["camera"], bypass_csp=True, ignore_https_errors=True)
            page = context.new_page()
            page.goto(f"{base}/?nomirror=1&items={ITEM}")
            assert page.evaluate("location.protocol") == "https:" and page.evaluate("window.isSecureContext")
            page.wait_for_function("window.tryon !== undefined")
            page.evaluate("Promise.race([window.tryon.ready, new Promise((_, no) => setTimeout("
                          "() => no(new Error('not ready')), 60000))])")
            t0 = time.time()
            stats = None
            while time.time() - t0 < 15 and not (stats and stats.get("fps")):
                stats = page.evaluate("window.tryon.lastStats")
                time.sleep(0.2)
            assert stats and stats["face"] is True, stats
            assert page.evaluate("window.tryon.worn") == [ITEM]
            page.close(run_before_unload=True)
            context.close()
        finally:
            browser.close()
