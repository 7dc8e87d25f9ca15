"""GET /metrics counts what happened: real WebRTC sessions (aiortc clients, tryon.tools.soak.LiveClient) against the
real server, then the Prometheus text read back with prometheus_client's own parser. Also /api/health/live and
/ready on a server that is not draining, and the Metrics' bookkeeping on its own."""

from __future__ import annotations

import asyncio
import http.client
import time
from urllib.parse import urlsplit

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tryon.config import Settings
from tryon.server.app import create_app, serve_in_background
from tryon.server.jobs import NewUnit
from tryon.server.metrics import END_REASONS, ERROR_KINDS, Metrics, Snapshot
from tryon.server.session import MAX_FAILED_FRAMES
from tryon.tools.bench import letterbox
from tryon.tools.soak import LiveClient

EARRING = "hoop-round-25mm-yellow-gold"


def fetch(base: str, path: str) -> tuple[int, str, str]:
    """(status, content type, body) of a GET."""
    parts = urlsplit(base)
    conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port or 80, timeout=30)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.getheader("content-type", ""), response.read().decode()
    finally:
        conn.close()


def samples(base: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of /metrics: (name, sorted labels) -> value, parsed by prometheus_client."""
    status, content_type, text = fetch(base, "/metrics")
    assert status == 200 and content_type.startswith("text/plain"), (status, content_type)
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def value(found: dict, name: str, **labels: str) -> float:
    key = (name, tuple(sorted(labels.items())))
    assert key in found, f"{name}{labels} is not in /metrics; it has {sorted({k[0] for k in found})}"
    return found[key]


def wait_for(predicate, timeout_s: float, what: str) -> None:
    t0 = time.monotonic()
    while not predicate():
        if time.monotonic() - t0 > timeout_s:
            raise AssertionError(f"{what}: not within {timeout_s:g} s")
        time.sleep(0.1)


@pytest.fixture(scope="module")
def camera(astronaut):
    return letterbox(astronaut)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    settings = Settings(data_dir=tmp_path_factory.mktemp("data"), max_sessions=1, connect_timeout_s=3.0)
    with serve_in_background(settings) as base:
        yield base


def test_a_fresh_server_exposes_every_metric_at_zero(server):
    found = samples(server)
    assert value(found, "tryon_sessions_started_total") == 0
    assert value(found, "tryon_sessions_live") == 0
    assert value(found, "tryon_seats_max") == 1
    assert value(found, "tryon_draining") == 0
    assert value(found, "tryon_frames_processed_total") == 0
    assert value(found, "tryon_frame_processing_seconds_count") == 0
    assert value(found, "tryon_frames_dropped_total") == 0 and value(found, "tryon_frames_per_second") == 0
    for reason in END_REASONS:
        assert value(found, "tryon_sessions_ended_total", reason=reason) == 0
    for kind in ERROR_KINDS:
        assert value(found, "tryon_errors_total", kind=kind) == 0


def test_metrics_count_a_live_session_its_frames_a_refusal_and_its_end(server, camera):
    before = samples(server)
    started0 = value(before, "tryon_sessions_started_total")

    async def run() -> dict:
        shopper = LiveClient(camera, items=[EARRING], source="127.0.0.2")
        await shopper.connect(server)
        while shopper.received < 10:
            await asyncio.sleep(0.05)
        during = await asyncio.to_thread(samples, server)
        # The only seat is taken: the next shopper's offer is a 503, counted as refused.
        status, _ = await LiveClient(camera, items=[EARRING], source="127.0.0.3").offer(server)
        assert status == 503
        await shopper.close()
        return during

    during = asyncio.run(run())
    assert value(during, "tryon_sessions_started_total") == started0 + 1
    assert value(during, "tryon_sessions_live") == 1 and value(during, "tryon_seats_used") == 1
    frames = value(during, "tryon_frames_processed_total")
    assert frames >= 10
    # Every processed frame was timed once; the frames took time, and the recent percentiles are ordered.
    assert value(during, "tryon_frame_processing_seconds_count") == frames
    assert value(during, "tryon_frame_processing_seconds_sum") > 0
    p50 = value(during, "tryon_frame_processing_recent_seconds", quantile="0.5")
    p99 = value(during, "tryon_frame_processing_recent_seconds", quantile="0.99")
    assert 0 < p50 <= p99
    assert value(during, "tryon_frames_per_second") > 0

    # The peer closed: the session ends as "peer_left", the seat is free again, the refusal was counted.
    wait_for(lambda: value(samples(server), "tryon_sessions_live") == 0, 20, "the session ended")
    after = samples(server)
    assert value(after, "tryon_sessions_ended_total", reason="peer_left") == \
        value(before, "tryon_sessions_ended_total", reason="peer_left") + 1
    assert value(after, "tryon_offers_refused_total", status="503") == \
        value(before, "tryon_offers_refused_total", status="503") + 1
    assert value(after, "tryon_frames_processed_total") >= frames
    assert value(after, "tryon_errors_total", kind="frame") == 0


def test_an_offer_that_never_connects_ends_as_connect_timeout(server, camera):
    before = value(samples(server), "tryon_sessions_ended_total", reason="connect_timeout")

    async def run() -> None:
        ghost = LiveClient(camera, items=[EARRING], source="127.0.0.4")
        status, reply = await ghost.offer(server, strip=True)
        assert status == 200, reply
        await asyncio.to_thread(
            wait_for, lambda: value(samples(server), "tryon_sessions_ended_total", reason="connect_timeout") == before + 1,
            20, "the unconnected offer dropped")
        await ghost.close()

    asyncio.run(run())


def test_live_and_ready_answer_200_on_a_server_that_is_not_draining(server):
    status, _, body = fetch(server, "/api/health/live")
    assert status == 200 and '"ok":true' in body.replace(" ", "")
    status, _, body = fetch(server, "/api/health/ready")
    assert status == 200, body
    assert '"ready":true' in body.replace(" ", "") and '"database":"sqlite"' in body.replace(" ", "")
    status, _, body = fetch(server, "/api/health")  # the old one stays as it was
    assert status == 200 and '"max_sessions":1' in body.replace(" ", "")


def test_metrics_render_the_snapshot_jobs_and_unknown_reasons():
    m = Metrics()
    m.session_ended("no such reason")  # counted as "closed", never a new label
    m.frame_processed(0.010)
    m.frame_processed(0.030)
    m.error("frame")
    text = m.render(Snapshot(live=2, pending=1, max_seats=4, frames_per_second=41.0, draining=True,
                             jobs={"retouch": {"queued": 5, "running": 2}})).decode()
    found = {(s.name, tuple(sorted(s.labels.items()))): s.value
             for family in text_string_to_metric_families(text) for s in family.samples}
    assert value(found, "tryon_sessions_ended_total", reason="closed") == 1
    assert ("tryon_sessions_ended_total", (("reason", "no such reason"),)) not in found
    assert value(found, "tryon_sessions_live") == 2 and value(found, "tryon_sessions_pending") == 1
    assert value(found, "tryon_seats_max") == 4 and value(found, "tryon_draining") == 1
    assert value(found, "tryon_frames_per_second") == 41
    assert value(found, "tryon_jobs", kind="retouch", state="queued") == 5
    assert value(found, "tryon_jobs", kind="retouch", state="running") == 2
    assert value(found, "tryon_frame_processing_seconds_bucket", le="0.015") == 1
    assert value(found, "tryon_frame_processing_seconds_bucket", le="0.03") == 2
    assert value(found, "tryon_errors_total", kind="frame") == 1
    # Two apps' metrics are apart: a fresh one counts nothing of the first's.
    other = Metrics().render(Snapshot(0, 0, 1, 0.0, False)).decode()
    assert "tryon_errors_total{kind=\"frame\"} 0.0" in other


def test_jobs_queued_by_kind_come_from_the_job_store(tmp_path):
    """Units waiting in the real job store (SQLite here; the shared database in a cluster) show as queued by kind.
    The app runs without its lifespan (no job worker), so they stay queued while it is read."""
    from fastapi.testclient import TestClient

    app = create_app(Settings(data_dir=tmp_path / "data"))
    jobs = app.state.tryon.jobs
    units = [NewUnit(f"p{i}.png", {"input": f"in/{i:05d}.png", "name": f"p{i}.png", "output": f"out/p{i}.png"},
                     b"not read") for i in range(3)]
    jobs.create("retouch", {"retouch": {}, "same_look": False, "look": None}, units)
    jobs.create("product-video", {}, [NewUnit("ring", {"item": "ring-band-2mm-yellow-gold"})])
    response = TestClient(app, base_url="http://127.0.0.1").get("/metrics")
    assert response.status_code == 200
    found = {(s.name, tuple(sorted(s.labels.items()))): s.value
             for family in text_string_to_metric_families(response.text) for s in family.samples}
    assert value(found, "tryon_jobs", kind="retouch", state="queued") == 3
    assert value(found, "tryon_jobs", kind="retouch", state="running") == 0
    assert value(found, "tryon_jobs", kind="product-video", state="queued") == 1
    app.state.tryon.store.close()


def test_failing_frames_count_as_errors_and_a_session_they_end_as_failed(server, camera, monkeypatch):
    """Frames that raise (a bug injected into the pipeline, as tests/server/test_reliability.py does) count as
    frame errors; when every frame fails the session ends, counted as a session error and an end "failed"."""
    from tryon.pipeline import Pipeline

    real = Pipeline.process
    failing = {"on": False}

    def process(self, *args, **kwargs):
        if failing["on"]:
            raise ValueError("a bug in one frame")
        return real(self, *args, **kwargs)

    monkeypatch.setattr(Pipeline, "process", process)
    before = samples(server)

    async def run() -> None:
        shopper = LiveClient(camera, items=[EARRING], source="127.0.0.5")
        await shopper.connect(server)
        failing["on"] = True
        await asyncio.wait_for(shopper.ended.wait(), 60)
        await shopper.close()

    asyncio.run(run())
    wait_for(lambda: value(samples(server), "tryon_sessions_live") == 0, 20, "the failed session gone")
    after = samples(server)
    failed_frames = value(after, "tryon_errors_total", kind="frame") - value(before, "tryon_errors_total", kind="frame")
    assert failed_frames >= MAX_FAILED_FRAMES
    assert value(after, "tryon_errors_total", kind="session") == value(before, "tryon_errors_total", kind="session") + 1
    assert value(after, "tryon_sessions_ended_total", reason="failed") == \
        value(before, "tryon_sessions_ended_total", reason="failed") + 1


def test_frames_skipped_behind_a_slow_worker_count_as_dropped(server, camera, monkeypatch):
    """A worker slower than the camera (each frame held 0.2 s: at most 5 a second against the camera's 30) takes
    only the newest frame; the ones it skipped count as dropped."""
    from tryon.pipeline import Pipeline

    real = Pipeline.process

    def slow(self, *args, **kwargs):
        time.sleep(0.2)
        return real(self, *args, **kwargs)

    monkeypatch.setattr(Pipeline, "process", slow)
    before = samples(server)

    async def run() -> None:
        shopper = LiveClient(camera, items=[EARRING], source="127.0.0.6")
        await shopper.connect(server)
        while shopper.received < 10:
            await asyncio.sleep(0.05)
        await shopper.close()

    asyncio.run(run())
    wait_for(lambda: value(samples(server), "tryon_sessions_live") == 0, 20, "the session gone")
    after = samples(server)
    processed = value(after, "tryon_frames_processed_total") - value(before, "tryon_frames_processed_total")
    dropped = value(after, "tryon_frames_dropped_total") - value(before, "tryon_frames_dropped_total")
    assert processed >= 10 and dropped > 0, (processed, dropped)
