"""deploy/nginx-tls.conf as shipped (only its names, ports and certificate paths changed): nginx terminating HTTPS
in front of `tryon serve`, with the settings docs/DEPLOY.md gives for it, and the live try-on working in Chromium
on the https:// page."""

from __future__ import annotations

import http.client
import json
import re
import ssl
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from conftest import decode_qr, make_cert, svg_to_png, write_y4m
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


def kiosk_tls_site(server_port: int, http_port: int, cert: Path, key: Path) -> str:
    """`tls_site` as docs/DEPLOY.md gives it for a kiosk with nginx on the kiosk's own machine: HTTPS on every
    address (phones on the store's network reach it), and nginx's connections to the kiosk made from 127.0.0.2,
    the address the kiosk trusts as its proxy, so that its own screen (127.0.0.1) stays the kiosk's own."""
    text, n = re.subn(r"listen 127\.0\.0\.1:\{port\} ssl http2;", "listen {port} ssl http2;\n    proxy_bind 127.0.0.2;",
                      tls_site(server_port, http_port, cert, key))
    assert n == 1
    return text


def phone_get(address: str, port: int, path: str, cert: Path) -> tuple[int, bytes]:
    """GET `path` from nginx at `address` (this machine's LAN address: the phone's side of the proxy), named
    localhost (the certificate's name) in the Host header."""
    context = ssl.create_default_context(cafile=str(cert))
    context.check_hostname = False  # reached by its LAN address; the chain is still checked
    connection = http.client.HTTPSConnection(address, port, context=context, timeout=60)
    try:
        connection.request("GET", path, headers={"Host": f"localhost:{port}"})
        reply = connection.getresponse()
        return reply.status, reply.read()
    finally:
        connection.close()


def test_a_kiosk_behind_the_tls_proxy_hands_phones_https_links_and_nothing_else(cert, tmp_path):
    """docs/DEPLOY.md's kiosk with TLS: nginx (deploy/nginx-tls.conf) on the kiosk's machine in front of a kiosk
    that serves only its hand-off links to other devices, `public_url` the https name. The QR code on the kiosk's
    own screen names the https link; a phone on the store's network opens it through nginx (a secure page: its
    Share button works) and is refused everything else; the kiosk's own screen keeps the whole app."""
    from tryon.server.kiosk import KioskSettings, lan_address
    from tryon.server.store import MediaStore

    phone_side = lan_address()
    if phone_side is None:
        pytest.skip("this machine has no network address besides loopback: no phone's side to test from")
    server_port, http_port = free_port(), free_port()
    with start_nginx(kiosk_tls_site(server_port, http_port, *cert), tmp_path) as port:
        public = f"https://localhost:{port}"
        settings = Settings(data_dir=tmp_path / "data", trusted_proxies=["127.0.0.2"], allowed_hosts=["localhost"])
        kiosk = KioskSettings(lan_handoff_only=True, public_url=public)
        with serve_in_background(settings, kiosk, port=server_port) as local:
            # A snapshot in the kiosk's store (one store for all servers on these files: tryon.server.store).
            media = MediaStore(settings.files_dir, 60).put(b"\x89PNG a snapshot", ".png", 60)
            name = media.url.rsplit("/", 1)[1]
            with urllib.request.urlopen(f"{local}{media.url}/qr.svg", timeout=60) as reply:  # the kiosk's screen
                assert decode_qr(svg_to_png(reply.read())) == f"{public}/m/{name}"
            with urllib.request.urlopen(f"{local}/api/items", timeout=60) as reply:
                assert reply.status == 200
            status, page = phone_get(phone_side, port, f"/m/{name}", cert[0])
            assert status == 200 and b"<html" in page.lower(), page[:200]
            assert phone_get(phone_side, port, media.url, cert[0]) == (200, b"\x89PNG a snapshot")
            for path in ("/", "/kiosk", "/api/items", "/docs"):
                assert phone_get(phone_side, port, path, cert[0])[0] == 403, path
