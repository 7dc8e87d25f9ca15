"""The HTTP side under abuse, against the real server (uvicorn on loopback, raw sockets where a client library
would tidy the request up): bodies refused before they are read, the admin token before the body, paths with
dot segments, forwarded addresses, host and origin checks, security headers, /docs offline, and a corpus of bad
input for every endpoint that must get a clear 4xx and never a 5xx."""

from __future__ import annotations

import io
import socket
import tempfile
import threading
import zlib
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np
import pytest
from conftest import BASE
from fastapi.testclient import TestClient
from PIL import Image

from tryon.config import Settings
from tryon.server.app import create_app, serve_in_background
from tryon.server.guard import client_address, host_allowed, request_scheme
from tryon.server.kiosk import KioskSettings

TOKEN = "a-long-enough-admin-token"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    settings = Settings(data_dir=tmp_path_factory.mktemp("data"), max_upload_mb=2.0, admin_token=TOKEN,
                        max_image_megapixels=20)
    with serve_in_background(settings) as base:
        yield base


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    settings = Settings(data_dir=tmp_path_factory.mktemp("data"), max_upload_mb=2.0, admin_token=TOKEN,
                        max_image_megapixels=20)
    with TestClient(create_app(settings), base_url=BASE) as c:
        yield c


def raw(base: str, request: bytes, body_chunks=(), read_timeout_s: float = 30.0) -> tuple[int, bytes, int]:
    """Send a raw HTTP request, then body chunks until the server answers or closes; (status, body, bytes sent)."""
    parts = urlsplit(base)
    sent = 0
    with socket.create_connection((parts.hostname, parts.port), timeout=read_timeout_s) as s:
        s.sendall(request)
        s.setblocking(False)
        reply = b""
        for chunk in body_chunks:
            try:
                reply += s.recv(65536)
            except BlockingIOError:
                pass
            if reply:
                break
            try:
                s.sendall(chunk)
                sent += len(chunk)
            except (BrokenPipeError, ConnectionResetError, BlockingIOError):
                break
        s.setblocking(True)
        try:
            while b"\r\n\r\n" not in reply or len(reply) < reply.index(b"\r\n\r\n") + 4 + _length(reply):
                data = s.recv(65536)
                if not data:
                    break
                reply += data
        except (ConnectionResetError, TimeoutError):
            pass
    head, _, body = reply.partition(b"\r\n\r\n")
    return int(head.split()[1]), body, sent


def _length(reply: bytes) -> int:
    for line in reply.split(b"\r\n\r\n")[0].split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value)
    return 0


def _head(method: str, path: str, host: str, extra: str = "") -> bytes:
    return f"{method} {path} HTTP/1.1\r\nHost: {host}\r\n{extra}\r\n".encode()


def test_a_huge_body_is_refused_by_its_length_before_it_is_read(server):
    host = urlsplit(server).netloc
    boundary = "b0undary"
    for path, auth in (("/api/tryon", ""), ("/api/items", f"Authorization: Bearer {TOKEN}\r\n")):
        head = _head("POST", path, host, f"{auth}Content-Type: multipart/form-data; boundary={boundary}\r\n"
                                         f"Content-Length: {200 * 1024 * 1024}\r\n")
        status, body, sent = raw(server, head, [b"x" * 65536] * 3200)
        assert status == 413 and b"larger than 2 MB" in body and sent < 20 * 1024 * 1024, (path, status, sent)


def test_a_chunked_body_is_cut_off_at_the_limit(server):
    host = urlsplit(server).netloc
    boundary = "b0undary"
    head = _head("POST", "/api/tryon", host, f"Content-Type: multipart/form-data; boundary={boundary}\r\n"
                                             "Transfer-Encoding: chunked\r\n")
    part = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"image\"; filename=\"a.png\"\r\n"
            "Content-Type: image/png\r\n\r\n").encode()
    chunk = b"x" * 65536
    chunks = [f"{len(part):x}\r\n".encode() + part + b"\r\n"] + [f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"] * 3200
    before = _tmp_bytes()
    status, body, sent = raw(server, head, chunks)
    assert status == 413 and sent < 30 * 1024 * 1024, (status, sent)
    assert _tmp_bytes() - before < 8 * 1024 * 1024  # nothing like 200 MB spooled to /tmp


def _tmp_bytes() -> int:
    return sum(p.stat().st_size for p in Path(tempfile.gettempdir()).iterdir() if p.is_file())


def test_imports_check_the_token_before_reading_the_body(tmp_path, server):
    host = urlsplit(server).netloc
    big = f"Content-Type: multipart/form-data; boundary=x\r\nContent-Length: {100 * 1024 * 1024}\r\n"
    for auth, expected in (("", 401), (f"Authorization: {TOKEN}\r\n", 401),  # a bare token is no Bearer token
                           ("Authorization: Bearer wrong-token-wrong-token\r\n", 401)):
        status, body, sent = raw(server, _head("POST", "/api/items", host, auth + big), [b"x" * 65536] * 1600)
        assert status == expected and b"Bearer" in body and sent < 20 * 1024 * 1024, (auth, status, sent)
    with TestClient(create_app(Settings(data_dir=tmp_path)), base_url=BASE) as no_imports:
        r = no_imports.post("/api/items", headers={"Content-Length": str(100 * 1024 * 1024)}, content=b"")
        assert r.status_code == 403
        assert "staff actions (imports, designs, retouching, catalog jobs) are off" in r.json()["detail"]


def test_paths_with_dot_segments_never_reach_a_file(server):
    host = urlsplit(server).netloc
    for path in ("/api/media/../../kiosk.html", "/m/%2e%2e/app.js", "/m/..%2fapp.js", "/%2e%2e/%2e%2e/etc/passwd",
                 "/api/media/..%5c..%5ckiosk.html"):
        status, body, _ = raw(server, _head("GET", path, host))
        assert status in (400, 404) and b"<html" not in body.lower() and b"import" not in body, (path, status)


def test_a_kiosk_believes_forwarded_addresses_only_from_its_proxy(tmp_path):
    kiosk = KioskSettings(lan_handoff_only=True, public_url="http://10.0.0.2:8000")
    with serve_in_background(Settings(data_dir=tmp_path, trusted_proxies=["127.0.0.1"]), kiosk) as base:
        host = urlsplit(base).netloc
        # Behind the proxy: a phone's request carries its address; one without it is not taken for local.
        phone = "X-Forwarded-For: 192.168.1.33\r\n"
        assert raw(base, _head("GET", "/api/items", host, phone))[0] == 403
        assert raw(base, _head("GET", "/api/items", host))[0] == 403
        assert raw(base, _head("GET", "/api/media/../../kiosk.html", host, phone))[0] == 400
        assert raw(base, _head("GET", "/m/%2e%2e/app.js", host, phone))[0] == 400
        assert raw(base, _head("GET", "/m/unknowntoken.png", host, phone))[0] == 404  # the hand-off shape: let in
        assert raw(base, _head("GET", "/api/items", host, "X-Forwarded-For: 127.0.0.1\r\n"))[0] == 200
    assert client_address("127.0.0.1", "6.6.6.6, 192.168.1.33", ("127.0.0.1",)) == "192.168.1.33"
    assert client_address("192.168.1.33", "127.0.0.1", ("127.0.0.1",)) == "192.168.1.33"  # not a proxy: ignored
    assert client_address("127.0.0.1", None, ("127.0.0.1",)) == ""


def test_the_scheme_a_trusted_proxy_forwards_is_believed_and_no_one_elses():
    """Behind TLS termination the server sees http://; the page's https:// origin is same-origin only because its
    trusted proxy says so."""
    trusted = ("127.0.0.1",)
    assert request_scheme("http", "127.0.0.1", "https", trusted) == "https"
    assert request_scheme("http", "127.0.0.1", "HTTPS, http", trusted) == "https"
    assert request_scheme("http", "127.0.0.1", "gopher", trusted) == "http"
    assert request_scheme("http", "127.0.0.1", None, trusted) == "http"
    assert request_scheme("http", "10.1.1.1", "https", trusted) == "http"  # not a proxy: ignored
    app = create_app(Settings(data_dir=Path(tempfile.mkdtemp()), trusted_proxies=["testclient"]))
    with TestClient(app, base_url="http://shop.example.test") as proxied:
        offer = {"sdp": "v=0", "type": "offer", "items": []}
        headers = {"Host": "127.0.0.1:8443", "Origin": "https://127.0.0.1:8443"}
        r = proxied.post("/api/offer", json=offer, headers={**headers, "X-Forwarded-Proto": "https"})
        assert r.status_code == 400, r.text  # through the guard; the SDP itself is refused
        r = proxied.post("/api/offer", json=offer, headers=headers)
        assert r.status_code == 403 and "cross-origin" in r.json()["detail"]


def test_only_known_hosts_and_same_origin_writes_are_served(client, astronaut):
    assert host_allowed("127.0.0.1:8000", ()) and host_allowed("[::1]:8000", ()) and host_allowed("localhost", ())
    assert host_allowed("192.168.1.5", ()) and not host_allowed("evil.example:8000", ())
    assert host_allowed("shop.example", ("shop.example",)) and host_allowed("evil.example", ("*",))
    r = client.get("/api/items", headers={"Host": "rebound.evil.example"})
    assert r.status_code == 400 and "unknown host" in r.json()["detail"]
    png = _png(astronaut)
    form = {"files": {"image": ("a.png", png, "image/png")}, "data": {"items": "hoop-round-25mm-yellow-gold"}}
    r = client.post("/api/tryon", headers={"Origin": "http://evil.example"}, **form)
    assert r.status_code == 403 and "cross-origin" in r.json()["detail"]
    assert client.post("/api/tryon", headers={"Origin": "null"}, **form).status_code == 403
    assert client.post("/api/tryon", headers={"Origin": BASE}, **form).status_code == 200


def test_every_response_carries_the_security_headers(client):
    for path in ("/", "/api/items", "/api/health", "/nope", "/docs"):
        h = client.get(path).headers
        assert h["x-content-type-options"] == "nosniff" and h["x-frame-options"] == "DENY", path
        assert "frame-ancestors 'none'" in h["content-security-policy"], path
    assert "script-src 'self';" in client.get("/").headers["content-security-policy"]


def test_docs_work_offline_in_chromium(server):
    from test_browser import CHROMIUM

    sync_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (make deb)")
    netloc = urlsplit(server).netloc
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--disable-background-networking", "--disable-component-update", "--no-sandbox"])
        try:
            page = browser.new_page()
            outside: list[str] = []
            page.on("request", lambda r: outside.append(r.url) if urlsplit(r.url).netloc != netloc else None)
            page.goto(f"{server}/docs")
            page.wait_for_selector(".opblock-summary-path", timeout=30000)
            paths = page.eval_on_selector_all(".opblock-summary-path", "els => els.map(e => e.textContent)")
            assert any("/api/offer" in p for p in paths) and not [u for u in outside if u.startswith("http")]
        finally:
            browser.close()


def _png(rgb: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format="PNG")
    return buf.getvalue()


def _bomb_png(w: int, h: int) -> bytes:
    """A valid greyscale PNG of w x h pixels, all zero: a few hundred kB that decode to w*h bytes."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return len(data).to_bytes(4, "big") + kind + data + zlib.crc32(kind + data).to_bytes(4, "big")

    rows = zlib.compress(b"\x00" * ((w + 1) * h), 9)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", w.to_bytes(4, "big") + h.to_bytes(4, "big") + b"\x08\x00\x00\x00\x00")
            + chunk(b"IDAT", rows) + chunk(b"IEND", b""))


def test_photo_try_on_refuses_or_fixes_every_bad_image_with_a_clear_message(client, astronaut):
    item = {"items": "hoop-round-25mm-yellow-gold"}
    bomb = _bomb_png(12000, 12000)
    assert len(bomb) < 1024 * 1024
    cases = [(b"", 400, "empty"), (b"hello, I am text" * 10, 400, "not a readable image"),
             (_png(astronaut)[:4000], 400, "not a readable image"), (bomb, 400, "megapixels")]
    for data, status, message in cases:
        r = client.post("/api/tryon", files={"image": ("a.jpg", data, "image/jpeg")}, data=item)
        assert r.status_code == status and message in r.json()["detail"], (message, r.status_code, r.text[:200])
    # A 16-bit greyscale photo comes back as the photo, not white.
    grey16 = (astronaut.mean(axis=2) * 257).astype(np.uint16)
    buf = io.BytesIO()
    Image.fromarray(grey16).save(buf, format="PNG")
    r = client.post("/api/tryon", files={"image": ("g.png", buf.getvalue(), "image/png")}, data={**item, "format": "png"})
    out = np.asarray(Image.open(io.BytesIO(r.content)).convert("L")).astype(float)
    assert r.status_code == 200 and abs(out.mean() - astronaut.mean()) < 15 and out.std() > 30


def test_bad_requests_to_every_endpoint_get_a_4xx_with_a_short_message(client):
    huge_id = "x" * 1_000_000
    requests = [
        ("post", "/api/offer", {"json": {"sdp": "garbage", "type": "offer"}}),
        ("post", "/api/offer", {"json": {"sdp": "v=0\r\n", "type": "offer", "items": [huge_id[:300]]}}),
        ("post", "/api/offer", {"content": b"{not json", "headers": {"Content-Type": "application/json"}}),
        ("post", "/api/offer", {"json": [1, 2, 3]}),
        ("post", "/api/tryon", {"data": {"items": huge_id}, "files": {"image": ("a.png", b"x", "image/png")}}),
        ("post", "/api/tryon", {"content": b"--x\r\nbroken",
                                "headers": {"Content-Type": "multipart/form-data; boundary=x"}}),
        ("post", "/api/tryon", {"content": b"a=b", "headers": {"Content-Type": "multipart/form-data"}}),
        ("post", "/api/tryon", {"data": {"items": "hoop-round-25mm-yellow-gold"}}),
        ("post", "/api/items", {"headers": {"Authorization": f"Bearer {TOKEN}"},
                                "files": {"model": ("m.glb", b"glTF garbage", "model/gltf-binary")},
                                "data": {"type": "ring", "name": "x"}}),
        ("post", "/api/items", {"headers": {"Authorization": f"Bearer {TOKEN}"},
                                "files": {"model": ("m.exe", b"MZ", "application/octet-stream")},
                                "data": {"type": "ring", "name": "x"}}),
        ("post", "/api/items", {"headers": {"Authorization": f"Bearer {TOKEN}"},
                                "files": {"model": ("m.stl", b"", "model/stl")}, "data": {"type": "tiara", "name": "x"}}),
        ("get", f"/api/items/{huge_id[:5000]}", {}),
        ("get", f"/api/media/{huge_id[:5000]}.png", {}),
        ("get", "/api/items/%00", {}),
    ]
    for method, path, kwargs in requests:
        r = getattr(client, method)(path, **kwargs)
        assert 400 <= r.status_code < 500, (path, r.status_code, r.text[:300])
        assert len(r.content) < 4000 and " at 0x" not in r.text and "x" * 200 not in r.text, (path, r.text[:300])


def test_a_flood_of_uploads_is_refused_and_the_server_stays_up(server):
    host = urlsplit(server).netloc
    statuses: list[int] = []

    def upload() -> None:
        head = _head("POST", "/api/tryon", host, "Content-Type: multipart/form-data; boundary=x\r\n"
                                                 f"Content-Length: {50 * 1024 * 1024}\r\n")
        statuses.append(raw(server, head, [b"x" * 65536] * 800)[0])

    threads = [threading.Thread(target=upload) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert statuses == [413] * 20
    assert raw(server, _head("GET", "/api/health", host))[0] == 200
