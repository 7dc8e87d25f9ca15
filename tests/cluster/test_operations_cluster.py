"""Operating a cluster, for real: two `tryon serve` on one PostgreSQL behind nginx (deploy/nginx.conf). A server
stopped with SIGTERM drains: nginx passes the next offer on to the other server (the drainer's 503), the drainer's
running session goes on, and it stops once that ends; each server's /metrics counts what happened on it.
Readiness follows the shared database: 503 while PostgreSQL is down, 200 again once it is back."""

from __future__ import annotations

import asyncio
import os
import signal
import time

import httpx
from prometheus_client.parser import text_string_to_metric_families
from services import start_cluster, start_postgres, start_tryon_serve

from tryon.tools.bench import letterbox
from tryon.tools.soak import LiveClient

EARRING = "hoop-round-25mm-yellow-gold"
WAIT_S = 60  # a bound on a hang, not a speed


def metric(url: str, name: str, **labels: str) -> float:
    text = httpx.get(f"{url}/metrics", timeout=10).text
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name == name and s.labels == labels:
                return float(s.value)
    raise AssertionError(f"{name}{labels} not in {url}/metrics")


async def until(predicate, what: str) -> None:
    t0 = time.monotonic()
    while not await asyncio.to_thread(predicate):
        assert time.monotonic() - t0 < WAIT_S, f"{what}: not within {WAIT_S} s"
        await asyncio.sleep(0.1)


def test_a_draining_server_passes_new_shoppers_on_and_finishes_its_own(tmp_path, database_url, astronaut):
    camera = letterbox(astronaut)
    with start_cluster(tmp_path, database_url, ({}, {}), {"TRYON_DRAIN_TIMEOUT_S": "120"}) as cluster:
        base = cluster.url

        def sessions(server) -> int:
            return int(httpx.get(f"{server.url}/api/health", timeout=10).json()["sessions"])

        async def run() -> None:
            first = LiveClient(camera, items=[EARRING], source="127.0.0.2")
            await first.connect(base)
            drainer = next(s for s in cluster.servers if sessions(s) == 1)
            other = next(s for s in cluster.servers if s is not drainer)
            os.kill(drainer.process.pid, signal.SIGTERM)
            await until(lambda: httpx.get(f"{drainer.url}/api/health/ready", timeout=10).status_code == 503,
                        "the drainer not ready")
            assert httpx.get(f"{other.url}/api/health/ready", timeout=10).status_code == 200
            # Two more shoppers through the balancer: whichever server nginx tries first, both land on the other.
            later = [LiveClient(camera, items=[EARRING], source=f"127.0.0.{i}") for i in (3, 4)]
            for shopper in later:
                await shopper.connect(base)
            assert sessions(other) == 2
            assert metric(other.url, "tryon_sessions_started_total") == 2
            assert metric(other.url, "tryon_sessions_live") == 2
            assert metric(drainer.url, "tryon_sessions_started_total") == 1
            assert metric(drainer.url, "tryon_draining") == 1
            assert metric(drainer.url, "tryon_offers_refused_total", status="503") >= 1
            # The first shopper's session is still served by the drainer.
            seen = first.received
            await until(lambda: first.received >= seen + 20, "frames for the draining server's session")
            assert drainer.process.alive() and not first.ended.is_set()
            await first.close()
            await until(lambda: not drainer.process.alive(), "the drainer stopped after its last session")
            for shopper in later:
                assert not shopper.ended.is_set()
                await shopper.close()
            await until(lambda: metric(other.url, "tryon_sessions_live") == 0, "the other server's sessions ended")
            assert metric(other.url, "tryon_sessions_ended_total", reason="peer_left") == 2

        asyncio.run(run())
        # nginx tried the drainer for at least one of the later offers and passed its 503 on.
        offers = [p for p in cluster.passed() if p.request.startswith("POST /api/offer")]
        assert any(p.upstream_statuses[:1] == (503,) and p.status == 200 for p in offers), offers


def test_ready_follows_the_shared_database(tmp_path):
    with start_postgres(tmp_path / "pg") as url:
        with start_tryon_serve("serve-db", {"TRYON_DATABASE_URL": url}, tmp_path) as server:
            ready = httpx.get(f"{server.url}/api/health/ready", timeout=10)
            assert ready.status_code == 200 and ready.json()["database"] == "ok", ready.text
            import psycopg

            # The database goes away under the running server (its connections ended, new ones refused).
            with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
                conn.execute("ALTER DATABASE tryon ALLOW_CONNECTIONS false")
                conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = 'tryon'")
            down = httpx.get(f"{server.url}/api/health/ready", timeout=30)
            assert down.status_code == 503, down.text
            assert down.json()["database"].startswith("unreachable") and not down.json()["draining"]
            assert httpx.get(f"{server.url}/api/health/live", timeout=10).status_code == 200
            with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
                conn.execute("ALTER DATABASE tryon ALLOW_CONNECTIONS true")
            t0 = time.monotonic()
            while httpx.get(f"{server.url}/api/health/ready", timeout=30).status_code != 200:
                assert time.monotonic() - t0 < WAIT_S, "ready did not come back with the database"
                time.sleep(0.2)
