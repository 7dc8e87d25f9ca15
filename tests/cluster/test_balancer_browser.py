"""The shop's page through the balancer, in Chromium: deploy/nginx.conf in front of the cluster's two servers. The
page, its scripts and the catalog come through nginx, the offer is POSTed through it (the server compares the
page's Origin with the Host nginx passes on), and the try-on runs on whichever server took the offer, its video
straight from that server. A snapshot taken on the page opens through the other server."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest
from conftest import write_y4m
from services import Cluster

from tryon.tools.bench import letterbox
from tryon.tools.bench_live import CHROMIUM, CHROMIUM_ARGS

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed (make deb)")
ITEM = "hoop-round-40mm-yellow-gold"
READY_TIMEOUT_MS = 60_000


@pytest.fixture(scope="module")
def browser(astronaut, tmp_path_factory):
    sync_api = pytest.importorskip("playwright.sync_api")
    y4m = write_y4m(tmp_path_factory.mktemp("cam") / "face.y4m", [letterbox(astronaut)] * 10)
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=[
            *CHROMIUM_ARGS, "--use-fake-device-for-media-stream", f"--use-file-for-fake-video-capture={y4m}"])
        yield b
        b.close()


def seats(cluster: Cluster) -> list[int]:
    return [httpx.get(f"{s.url}/api/health", timeout=10).json()["seats"] for s in cluster.servers]


def test_the_live_page_works_through_the_balancer(browser, cluster):
    t0 = time.monotonic()
    while any(seats(cluster)) and time.monotonic() - t0 < 30:  # seats a test before left to time out
        time.sleep(0.2)
    context = browser.new_context(permissions=["camera"], bypass_csp=True)
    page = context.new_page()
    try:
        page.goto(f"{cluster.url}/?nomirror=1&items={ITEM}")
        page.wait_for_function("window.tryon !== undefined")
        page.evaluate(f"Promise.race([window.tryon.ready, new Promise((_, no) => setTimeout(() => no(new Error("
                      f"'not ready through the balancer')), {READY_TIMEOUT_MS}))])")
        assert sum(seats(cluster)) == 1  # one server took the offer and holds the seat
        link = page.evaluate("window.tryon.send({cmd: 'snapshot'})")
        assert "url" in link, link
        for server in cluster.servers:
            r = httpx.get(server.url + link["url"], timeout=30)
            assert r.status_code == 200 and r.content[:4] == b"\x89PNG", server.name
    finally:
        page.close(run_before_unload=True)
        context.close()
    passed = [p for p in cluster.passed() if p.request.startswith("POST /api/offer")]
    assert passed and passed[-1].status == 200
