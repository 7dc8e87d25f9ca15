"""Redis and `tryon worker`s for the cluster tests: each on loopback in its own temporary folder, each stopped when
its `with` block ends (also when the test fails).

    with start_redis(tmp_path) as broker_url:            # Debian's redis-server; skips when it is not installed
        with start_workers(env, tmp_path, 2) as workers:  # two `tryon worker` processes, ready to take units
            workers[0].kill()                             # SIGKILL to its process group: a worker's death

`env` is what the servers got (TRYON_DATABASE_URL, TRYON_MEDIA_DIR, TRYON_BROKER_URL): a worker finds the jobs
where the servers put them. Workers here run at normal priority (TRYON_RETOUCH_IDLE=false: on a loaded test
machine SCHED_IDLE could starve them) with a short TRYON_JOB_VISIBILITY_TIMEOUT_S (WORKER_VISIBILITY_S), so a
killed worker's unit comes back within the test.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from services import REPO, STARTUP_TIMEOUT_S, Process, find_program, free_port, spawn, wait_for_port

WORKER_VISIBILITY_S = 40  # longer than one test photo takes on a loaded machine, short enough to wait for
WORKER_START_S = 180.0  # a worker's imports (numpy, OpenCV, torch) on a loaded 2-core machine


@contextmanager
def start_redis(tmp_path: Path) -> Iterator[str]:
    """Debian's redis-server on a free loopback port, keeping nothing on disk; yields its url redis://127.0.0.1:PORT/0."""
    program = find_program("redis-server", "/usr/bin/redis-server")
    home = tmp_path / f"redis-{free_port()}"
    home.mkdir(parents=True)
    port = free_port()
    process = spawn("redis", [program, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                              "--dir", str(home), "--protected-mode", "no"], home / "redis.log")
    try:
        wait_for_port(port, process)
        import redis

        client = redis.Redis(host="127.0.0.1", port=port)
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while True:  # listening may come before answering (it loads its empty data set first)
            try:
                if client.ping():
                    break
            except redis.exceptions.ConnectionError:
                pass
            if time.monotonic() > deadline or not process.alive():
                raise RuntimeError(f"redis-server did not answer PING:\n{process.tail()}")
            time.sleep(0.1)
        client.close()
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.stop(signal.SIGTERM)


def worker_env(env: Mapping[str, str], data_dir: Path) -> dict[str, str]:
    """A worker's environment: the test's, `env` over it (the servers' shared settings), its own data dir."""
    return {**os.environ, "TRYON_DATA_DIR": str(data_dir), "TRYON_RETOUCH_IDLE": "false",
            "TRYON_JOB_VISIBILITY_TIMEOUT_S": str(WORKER_VISIBILITY_S), **env, "PYTHONUNBUFFERED": "1"}


def start_worker(env: Mapping[str, str], name: str, tmp_path: Path, concurrency: int = 1) -> Process:
    """One `tryon worker --name NAME` (it records `celery:HOST:PID:NAME@HOST` on the units it takes), started and
    waited for until Celery says it is ready; `kill()` it for a worker's death, `stop()` for a clean stop. The
    caller stops it (start_workers does)."""
    log = tmp_path / f"{name}.log"
    process = spawn(name, [sys.executable, "-m", "tryon.cli", "worker", "--name", name,
                           "--concurrency", str(concurrency)],
                    log, env=worker_env(env, tmp_path / f"{name}-data"), cwd=REPO)
    deadline = time.monotonic() + WORKER_START_S
    while True:
        text = log.read_text(errors="replace") if log.exists() else ""
        if " ready." in text:
            return process
        if not process.alive() or time.monotonic() > deadline:
            process.kill()
            raise RuntimeError(f"worker {name} did not become ready:\n{process.tail()}")
        time.sleep(0.2)


@contextmanager
def start_workers(env: Mapping[str, str], tmp_path: Path, count: int = 2, prefix: str = "worker"
                  ) -> Iterator[list[Process]]:
    """`count` workers (start_worker), named PREFIX1, PREFIX2...; every worker in the list at the end stopped
    (SIGTERM, then SIGKILL): a test that kills one may put a new one in its place (`workers[i] = start_worker(...)`)
    and leave the list as it found it."""
    workers: list[Process] = []
    try:
        for i in range(count):
            workers.append(start_worker(env, f"{prefix}{i + 1}", tmp_path))
        yield workers
    finally:
        for w in workers:
            w.stop()


__all__ = ["WORKER_VISIBILITY_S", "start_redis", "start_worker", "start_workers", "wait_for_port", "worker_env"]
