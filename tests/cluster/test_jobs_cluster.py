"""Catalog jobs on a real cluster (tests/cluster/conftest.py's): PostgreSQL, Redis, two `tryon serve` behind
nginx and two `tryon worker`s (Celery), all on loopback. A retouch batch spreads over both workers; a worker's pool
process killed mid-photo, then a whole worker killed (SIGKILL) mid-photo, and the job still finishes, every photo
exactly once in its results; cancel and retry; a file that failed is retouched again on request; progress read
through either server.

The photos are tests/server/test_retouch_api.py's gold rings on a grey card (always there). Jobs are waited for by
their state, with generous bounds for a loaded 2-core machine, never timed.
"""

from __future__ import annotations

import io
import json
import os
import signal
import sys
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from services import ADMIN_TOKEN, Cluster, Process
from workers import start_worker

from tryon.server.db import open_database
from tryon.server.jobs import Job, JobStore

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "server"))
from test_retouch_api import corrupt_jpeg, encoded, gold_ring  # noqa: E402

AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
SMALL = {"size": "1000"}
WAIT_S = 900.0  # a generous bound on a busy machine, not a speed requirement
JOBS = "/api/retouch/jobs"


@dataclass
class JobsCluster:
    cluster: Cluster
    workers: list[Process]
    store: JobStore  # the test's own look at the jobs' rows (which worker has which unit)
    tmp: Path

    def server(self, i: int) -> str:
        return self.cluster.servers[i].url


@pytest.fixture(scope="module")
def jobs_cluster(cluster, cluster_workers, tmp_path_factory):
    """The session's cluster (tests/cluster/conftest.py) with its two workers, and a look at the jobs' rows."""
    db = open_database(cluster.database_url, tmp_path_factory.mktemp("unused") / "unused.sqlite3")
    try:
        yield JobsCluster(cluster, cluster_workers, JobStore(db, cluster.media_dir), tmp_path_factory.mktemp("jobs"))
    finally:
        db.close()


def rings(n: int, seed: int) -> list[tuple[str, tuple[str, bytes, str]]]:
    return [("files", (f"ring-{seed + i}.jpg", encoded(gold_ring(seed + i)), "image/jpeg")) for i in range(n)]


def submit(base: str, files: list, **data: str) -> str:
    r = httpx.post(base + JOBS, files=files, data={**SMALL, **data}, headers=AUTH, timeout=120)
    assert r.status_code == 202, r.text
    return str(r.json()["id"])


def read(base: str, job_id: str) -> dict:
    r = httpx.get(f"{base}{JOBS}/{job_id}", timeout=60)
    assert r.status_code == 200, r.text
    return dict(r.json())


def wait_until(what: str, check: Callable[[], object], timeout_s: float = WAIT_S) -> object:
    """check()'s first true value; fails saying `what` at the deadline."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"not within {timeout_s:g} s: {what}")
        time.sleep(0.3)


def finished(jc: JobsCluster, job_id: str) -> dict:
    """The job once finished, read through both servers in turn; both must say the same."""
    turn = [0]

    def check() -> dict | None:
        turn[0] += 1
        j = read(jc.server(turn[0] % 2), job_id)
        return j if j["finished"] else None

    job = wait_until(f"job {job_id} finished", check)
    assert isinstance(job, dict)
    other = read(jc.server((turn[0] + 1) % 2), job_id)
    assert {k: other[k] for k in ("done", "failed", "finished", "files")} == \
           {k: job[k] for k in ("done", "failed", "finished", "files")}
    return job


def engine_job(jc: JobsCluster, job_id: str) -> Job:
    job = jc.store.get(job_id)
    assert job is not None
    return job


def test_cancel_then_retry_takes_the_photos_up_again(jobs_cluster):
    jc = jobs_cluster
    job_id = submit(jc.server(0), rings(5, 100))
    r = httpx.post(f"{jc.server(1)}{JOBS}/{job_id}/cancel", timeout=60)
    assert r.status_code == 401  # staff only
    r = httpx.post(f"{jc.server(1)}{JOBS}/{job_id}/cancel", headers=AUTH, timeout=60)
    assert r.status_code == 200, r.text
    job = r.json()
    assert job["cancelled"] and job["workers"] == "cluster"
    assert job["finished"] and all(f["status"] in ("done", "cancelled") for f in job["files"])
    cancelled = [f["index"] for f in job["files"] if f["status"] == "cancelled"]
    assert cancelled, "every photo was done before the cancel came"
    # The workers drop what they had in hand: nothing cancelled becomes done, however long we look. A later job
    # finishing shows the workers went past this one's messages.
    probe = submit(jc.server(0), rings(2, 150))
    finished(jc, probe)
    after = read(jc.server(0), job_id)
    assert [f["index"] for f in after["files"] if f["status"] == "cancelled"] == cancelled
    with zipfile.ZipFile(io.BytesIO(httpx.get(f"{jc.server(0)}{JOBS}/{job_id}/result.zip", timeout=60).content)) as z:
        assert sorted(z.namelist()) == sorted(["manifest.json"] + [f["output"] for f in after["files"]
                                                                   if f["status"] == "done"])

    r = httpx.post(f"{jc.server(0)}{JOBS}/{job_id}/retry", headers=AUTH, timeout=60)
    assert r.status_code == 200, r.text
    assert not r.json()["cancelled"]
    job = finished(jc, job_id)
    assert (job["done"], job["failed"]) == (5, 0), job


def test_a_failed_file_is_retried_on_request(jobs_cluster):
    """A photo whose upload could not be read when its turn came fails once with the reason (no automatic retry:
    it is its input, not a worker's death); retried once the file is back, it is done. A corrupt photo fails again
    with the same reason."""
    jc = jobs_cluster
    job_id = submit(jc.server(0), rings(1, 200), more="true")  # open: nothing runs until the last upload
    upload = jc.cluster.media_dir / "retouch" / job_id / "in" / "00000.jpg"
    assert upload.is_file()
    aside = upload.with_name("aside.jpg")
    upload.rename(aside)
    r = httpx.post(jc.server(1) + JOBS, files=[("files", ("broken.jpg", corrupt_jpeg(), "image/jpeg"))],
                   data={"job": job_id}, headers=AUTH, timeout=60)
    assert r.status_code == 202, r.text
    job = finished(jc, job_id)
    first, broken = job["files"]
    assert first["status"] == "failed" and "cannot read the upload" in first["error"] and first["attempts"] == 1
    assert broken["status"] == "failed" and "broken.jpg" in broken["error"] and broken["attempts"] == 1

    aside.rename(upload)
    r = httpx.post(f"{jc.server(1)}{JOBS}/{job_id}/retry", headers=AUTH, timeout=60)
    assert r.status_code == 200, r.text
    job = finished(jc, job_id)
    first, again = job["files"]
    assert first["status"] == "done" and first["ok"] and first["attempts"] == 1, first
    assert httpx.get(jc.server(0) + first["url"], timeout=60).content[:2] == b"\xff\xd8"
    assert again["status"] == "failed" and again["error"] == broken["error"]


def test_a_photo_whose_pool_process_dies_is_done_again_at_once(jobs_cluster):
    """A worker's pool process killed mid-photo (what the out-of-memory killer does): Celery puts the message back
    at once (task_reject_on_worker_lost), the photo is done on a second attempt, and the worker goes on."""
    jc = jobs_cluster
    job_id = submit(jc.server(1), rings(2, 250))

    def one_running() -> tuple[int, int] | None:
        for u in engine_job(jc, job_id).units:
            if u.status == "running" and u.worker and u.worker.startswith("celery:"):
                return u.index, int(u.worker.split(":")[2])  # celery:HOST:PID:NAME@HOST
        return None

    index, pid = wait_until("a worker's pool process with a photo", one_running)  # type: ignore[misc]
    os.kill(pid, signal.SIGKILL)
    job = finished(jc, job_id)
    assert (job["done"], job["failed"]) == (2, 0), job
    assert job["files"][index]["attempts"] == 2
    assert all(w.alive() for w in jc.workers)


def test_a_batch_finishes_when_a_worker_is_killed_mid_photo(jobs_cluster):
    """Both workers take photos; one is killed (SIGKILL to its processes) while it has one. Its photo comes back
    (after the broker's visibility timeout) to the other worker; the job finishes with every photo done, each once
    in result.zip and its manifest, and nothing left behind in the job's folder."""
    jc = jobs_cluster
    n = 6
    job_id = submit(jc.server(0), rings(n, 300))
    victim = jc.workers[0]

    def victim_has_one() -> int | None:
        units = engine_job(jc, job_id).units
        return next((u.index + 1 for u in units if u.status == "running" and f":{victim.name}@" in (u.worker or "")),
                    None)

    index = int(wait_until("worker1 working on a photo of the job", victim_has_one)) - 1
    victim.kill()
    assert not victim.alive()

    job = finished(jc, job_id)
    assert (job["total"], job["done"], job["failed"]) == (n, n, 0), job
    units = engine_job(jc, job_id).units
    redone = units[index]
    assert redone.attempts == 2 and f":{jc.workers[1].name}@" in (redone.worker or ""), redone
    assert {u.index for u in units if u.attempts > 1} == {index}  # only the photo in hand was done again

    with zipfile.ZipFile(io.BytesIO(httpx.get(f"{jc.server(1)}{JOBS}/{job_id}/result.zip", timeout=60).content)) as z:
        names = z.namelist()
        manifest = json.loads(z.read("manifest.json"))
        assert all(z.read(f["output"])[:2] == b"\xff\xd8" for f in job["files"])
    assert len(names) == len(set(names)) == n + 1  # each photo once
    assert sorted(names) == sorted(["manifest.json"] + [f"ring-{300 + i}.jpg" for i in range(n)])
    assert [e["status"] for e in manifest["files"]] == ["done"] * n
    folder = jc.cluster.media_dir / "retouch" / job_id
    assert sorted(p.name for p in (folder / "out").iterdir()) == sorted(f"ring-{300 + i}.jpg" for i in range(n))
    assert not list((folder / ".attempt").iterdir())  # the dead worker's attempt went with the redone one

    # The cluster as it was: two workers, for whatever runs after (tests/cluster/workers.py stops this one too).
    jc.workers[0] = start_worker(jc.cluster.env, "worker3", jc.tmp)
