"""The cluster fixtures: real PostgreSQL, Redis and `tryon worker`s, nginx in front of two `tryon serve`, coturn.

Built in parts so a test takes only what it needs:

- `postgres_url` (session): one PostgreSQL for the whole run; `database_url` (per test): a fresh, empty database
  on it, so nothing one test leaves is seen by another.
- `cluster` (session): two `tryon serve` (own data dirs; one shared TRYON_MEDIA_DIR and TRYON_DATABASE_URL) behind
  nginx with deploy/nginx.conf. Server 1 has 1 seat, server 2 has 2 (services.CLUSTER_SEATS): a full server passing offers
  on is then certain to happen. Redis is there (TRYON_BROKER_URL) and coturn (TRYON_ICE_SERVERS, `cluster.turn`)
  when tests/cluster/workers.py and tests/cluster/turn.py are.
- `cluster_workers` (session): two `tryon worker`s joining `cluster` (its broker, database and files).

A test that changes the cluster (kills a worker, fills the seats) leaves it as it found it, or starts its own with
services.start_cluster.

The helpers' modules are imported as plain names (`from services import start_postgres`): this folder is put on
sys.path here. It is a package (tests/cluster/__init__.py) so that this conftest is not the module `conftest`,
which the tests elsewhere import from tests/conftest.py.
"""

from __future__ import annotations

import importlib.util
import itertools
import json
import sys
from contextlib import ExitStack
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from services import (  # noqa: E402
    ADMIN_TOKEN,
    CLUSTER_SEATS,
    Cluster,
    new_database,
    start_cluster,
    start_postgres,
)

_names = itertools.count(1)


@pytest.fixture(scope="session")
def postgres_url(tmp_path_factory):
    """A PostgreSQL for the whole run; the url of its (empty) database `tryon`."""
    with start_postgres(tmp_path_factory.mktemp("postgres")) as url:
        yield url


@pytest.fixture
def database_url(postgres_url):
    """A fresh, empty database for this test."""
    return new_database(postgres_url, f"test_{next(_names)}")


def _has(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


@pytest.fixture(scope="session")
def cluster(tmp_path_factory, postgres_url) -> Cluster:
    tmp = tmp_path_factory.mktemp("cluster")
    env = {"TRYON_ADMIN_TOKEN": ADMIN_TOKEN, "TRYON_CONNECT_TIMEOUT_S": "5"}
    with ExitStack() as stack:
        if _has("workers"):  # Redis is cheap: always there, so `cluster_workers` can join later
            from workers import WORKER_VISIBILITY_S, start_redis

            env["TRYON_BROKER_URL"] = stack.enter_context(start_redis(tmp))
            env["TRYON_JOB_VISIBILITY_TIMEOUT_S"] = str(WORKER_VISIBILITY_S)
        turn = None
        if _has("turn"):
            from turn import coturn

            turn = stack.enter_context(coturn(tmp / "coturn"))
            env["TRYON_ICE_SERVERS"] = json.dumps(turn.ice_servers)
        database = new_database(postgres_url, "cluster")
        running = stack.enter_context(start_cluster(
            tmp, database, [{"TRYON_MAX_SESSIONS": str(n)} for n in CLUSTER_SEATS], env))
        running.turn = turn
        yield running


@pytest.fixture(scope="session")
def cluster_workers(cluster: Cluster, tmp_path_factory):
    """Two `tryon worker`s on the cluster's broker, database and files (started on first use: the servers do not
    need them to take sessions)."""
    if cluster.broker_url is None:
        pytest.skip("no tests/cluster/workers.py: the cluster has no job workers")
    from workers import start_workers

    with start_workers(cluster.env, tmp_path_factory.mktemp("cluster-workers"), 2) as workers:
        cluster.workers = workers
        yield workers
