"""The job engine's rules on its own (tryon.server.jobs.JobStore on SQLite; tests/cluster runs them on PostgreSQL
with real workers): a unit's result is written once and its files never replace a result's; a unit whose workers
keep dying fails saying so; cancel, retry, open jobs; each attempt reads the job's inputs and writes only its own
folder."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import zipfile

import pytest

from tryon.config import Settings
from tryon.errors import InputError
from tryon.server.db import open_database
from tryon.server.jobs import ATTEMPTS_DIR, SCHEMA, Jobs, JobStore, NewUnit, Outcome


@pytest.fixture
def store(tmp_path):
    db = open_database(None, tmp_path / "jobs.sqlite3")
    db.setup(*SCHEMA)
    yield JobStore(db, tmp_path / "files", max_attempts=2)
    db.close()


def photo_job(store: JobStore, n: int = 1, **kw) -> str:
    units = [NewUnit(f"p{i}.jpg", {"input": f"in/{i:05d}.jpg", "name": f"p{i}.jpg", "output": f"out/p{i}.jpg"},
                     f"photo {i}".encode()) for i in range(n)]
    return store.create("retouch", {"same_look": False}, units, **kw)


def make(attempt, text: str) -> None:
    (attempt / "out" / "p0.jpg").write_text(text)


def test_a_job_id_can_be_typed_on_a_command_line(store):
    """`tryon jobs status ID` read an id starting with '-' (one in 64 of url-safe ids) as an option and refused it."""
    ids = [photo_job(store) for _ in range(64)]
    assert all(re.fullmatch(r"[0-9a-f]{32}", job_id) for job_id in ids), ids
    assert len(set(ids)) == len(ids)


def test_a_unit_done_twice_keeps_its_first_result_and_file(store):
    """Two workers with the same unit (its message came again while the first still ran): the first to finish is
    recorded and its file kept; the other's result and file go nowhere."""
    job_id = photo_job(store)
    first = store.claim(job_id, 0, "w1")
    second = store.claim(job_id, 0, "w2")  # redelivered: the unit is running, taken again
    assert first is not None and second is not None and (first.attempt, second.attempt) == (1, 2)
    a, b = store.attempt_dir(first), store.attempt_dir(second)
    assert (a / "in" / "00000.jpg").read_bytes() == b"photo 0"  # inputs are read where they are
    make(a, "made by w1")
    make(b, "made by w2")
    assert store.finish(second, b, Outcome("done", {"output": "out/p0.jpg", "by": "w2"}))
    assert not store.finish(first, a, Outcome("done", {"output": "out/p0.jpg", "by": "w1"}))
    job = store.get(job_id)
    assert job is not None and job.finished and job.units[0].result == {"output": "out/p0.jpg", "by": "w2"}
    folder = store.job_dir(job)
    assert (folder / "out" / "p0.jpg").read_text() == "made by w2"
    assert not list((folder / ATTEMPTS_DIR).iterdir())
    assert store.claim(job_id, 0, "w3") is None  # done: never taken again
    assert not store.finish(first, None, Outcome("failed", "late"))  # nor failed afterwards


def test_a_file_already_in_the_job_is_never_replaced(store):
    """An attempt whose worker died after its file was linked in: the next attempt's file does not replace it
    (the result recorded is the later attempt's; the file is the same unit's)."""
    job_id = photo_job(store)
    claim = store.claim(job_id, 0, "w1")
    assert claim is not None
    folder = store.job_dir(store.get(job_id))  # type: ignore[arg-type]
    (folder / "out" / "p0.jpg").write_text("linked in before its worker died")
    attempt = store.attempt_dir(claim)
    make(attempt, "second try")
    assert store.finish(claim, attempt, Outcome("done", {"output": "out/p0.jpg"}))
    assert (folder / "out" / "p0.jpg").read_text() == "linked in before its worker died"


def test_a_unit_whose_workers_keep_dying_fails_saying_so(store):
    job_id = photo_job(store, 2)
    claim = store.claim(job_id, 0, "w1")
    assert claim is not None
    assert store.finish(claim, store.attempt_dir(claim), Outcome("lost", "the worker stopped"))
    unit = store.get(job_id).units[0]  # type: ignore[union-attr]
    assert (unit.status, unit.attempts) == ("pending", 1)  # taken again
    claim = store.claim(job_id, 0, "w2")
    assert claim is not None and claim.attempt == 2
    assert store.finish(claim, None, Outcome("lost", "the worker stopped"))
    unit = store.get(job_id).units[0]  # type: ignore[union-attr]
    assert unit.status == "failed" and "worker stopped" in (unit.error or "") and "2 times" in (unit.error or "")
    # A broker's worker that died leaves its unit running; the message that comes back finds it used up.
    assert store.claim(job_id, 1, "w1") is not None and store.claim(job_id, 1, "w2") is not None
    assert store.claim(job_id, 1, "w3") is None
    unit = store.get(job_id).units[1]  # type: ignore[union-attr]
    assert unit.status == "failed" and "2 times" in (unit.error or "")


def test_a_bad_input_fails_once_with_its_reason_and_retry_takes_it_again(store):
    job_id = photo_job(store)
    claim = store.claim(job_id, 0, "w1")
    assert claim is not None
    assert store.finish(claim, store.attempt_dir(claim), Outcome("failed", "p0.jpg: not a readable image"))
    unit = store.get(job_id).units[0]  # type: ignore[union-attr]
    assert (unit.status, unit.error, unit.attempts) == ("failed", "p0.jpg: not a readable image", 1)
    assert store.claim(job_id, 0, "w2") is None  # no automatic retry
    assert store.retry(job_id) == [0]
    unit = store.get(job_id).units[0]  # type: ignore[union-attr]
    assert (unit.status, unit.error, unit.attempts) == ("pending", None, 0)
    with pytest.raises(KeyError):
        store.retry("no-such-job")


def test_cancel_drops_what_is_in_hand_and_retry_goes_on(store):
    job_id = photo_job(store, 3)
    running = store.claim(job_id, 0, "w1")
    assert running is not None
    assert store.cancel(job_id) and not store.cancel("no-such-job")
    job = store.get(job_id)
    assert job is not None and job.cancelled and job.finished and job.state == "cancelled"
    assert [u.status for u in job.units] == ["cancelled"] * 3
    attempt = store.attempt_dir(running)
    make(attempt, "too late")
    assert not store.finish(running, attempt, Outcome("done", {"output": "out/p0.jpg"}))
    assert not (store.job_dir(job) / "out" / "p0.jpg").exists()  # a cancelled unit's file is not linked in
    assert store.claim(job_id, 1, "w1") is None
    assert store.retry(job_id) == [0, 1, 2]
    job = store.get(job_id)
    assert job is not None and not job.cancelled and job.state == "queued"
    assert store.claim(job_id, 1, "w1") is not None


def test_an_open_job_waits_for_its_last_upload(store):
    job_id = photo_job(store, 1, open=True)
    assert store.claim(job_id, 0, "w1") is None and store.get(job_id).state == "open"  # type: ignore[union-attr]
    added = store.append(job_id, [NewUnit("p1.jpg", {"input": "in/00001.jpg"}, b"photo 1")])
    assert added == [1] and store.get(job_id).state == "queued"  # type: ignore[union-attr]
    assert store.claim(job_id, 1, "w1") is not None


def test_bad_requests_are_refused_by_name(store):
    with pytest.raises(InputError, match="unknown job kind 'painting'"):
        store.create("painting", {}, [NewUnit("a", {})])
    with pytest.raises(InputError, match="at least one unit"):
        store.create("retouch", {}, [])
    with pytest.raises(InputError, match="spec\\['input'\\]"):
        store.create("retouch", {}, [NewUnit("a", {"input": "../../etc/passwd"}, b"x")])
    job = store.get(photo_job(store))
    assert job is not None
    assert store.file_path(job, "in/00000.jpg") is not None
    assert store.file_path(job, "../jobs.sqlite3") is None and store.file_path(job, "/etc/passwd") is None
    counts = store.counts()
    assert counts[("retouch", "pending")] == 1


@pytest.mark.skipif(not hasattr(__import__("signal"), "SIGXCPU"), reason="RLIMIT_CPU and SIGXCPU (POSIX)")
def test_a_cluster_worker_stops_a_unit_past_its_cpu_time():
    """What a `tryon worker` does to a unit that computes for ever: SIGXCPU past the limit, raised in the unit, and
    the limit lifted again afterwards (the worker goes on)."""
    import resource

    from tryon.server.job_cluster import CpuTimeError, cpu_limit

    before = resource.getrlimit(resource.RLIMIT_CPU)
    spins = 0
    with pytest.raises(CpuTimeError), cpu_limit(1.0):
        while True:
            spins += 1
    assert spins > 0 and resource.getrlimit(resource.RLIMIT_CPU) == before


def test_a_broker_that_cannot_be_reached_fails_the_units_saying_so(tmp_path):
    """TRYON_BROKER_URL pointing at nothing: the job is kept and its units fail with the reason (a retry sends them
    again), rather than waiting for ever for a message that was never sent."""
    import socket

    from tryon.config import Settings
    from tryon.server.jobs import Jobs, open_job_database

    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    settings = Settings(data_dir=tmp_path, media_dir=None, database_url=None, broker_url=f"redis://127.0.0.1:{port}/0")
    jobs = Jobs(open_job_database(settings), settings)
    try:
        assert jobs.remote
        job_id = jobs.create("retouch", {}, [NewUnit("a.jpg", {"input": "in/00000.jpg"}, b"photo")])
        job = jobs.get(job_id)
        assert job is not None and job.units[0].status == "failed"
        assert "job broker could not be reached" in (job.units[0].error or "")
    finally:
        jobs.close()


def test_tryon_worker_says_what_it_needs(monkeypatch, capsys, tmp_path):
    """`tryon worker` without a broker, or with a kind that does not exist: one error line naming it, exit 2."""
    from tryon.cli import main

    monkeypatch.delenv("TRYON_BROKER_URL", raising=False)
    monkeypatch.setenv("TRYON_DATA_DIR", str(tmp_path))
    assert main(["worker"]) == 2
    assert "TRYON_BROKER_URL is not set" in capsys.readouterr().err
    monkeypatch.setenv("TRYON_BROKER_URL", "redis://127.0.0.1:1/0")
    assert main(["worker", "--queues", "retouch,painting"]) == 2
    assert "unknown job kind 'painting'" in capsys.readouterr().err
    assert main(["worker", "--concurrency", "0"]) == 2
    assert "--concurrency 0" in capsys.readouterr().err


def test_a_retried_job_zips_what_it_made_after_the_retry(store):
    """result.zip is made once a job has finished; a retry that finishes more must not leave the old one served."""
    job_id = photo_job(store, 2)
    for index, outcome in ((0, Outcome("done", {"output": "out/p0.jpg"})), (1, Outcome("failed", "bad photo"))):
        claim = store.claim(job_id, index, "w1")
        assert claim is not None
        attempt = store.attempt_dir(claim)
        make(attempt, "first")
        assert store.finish(claim, attempt, outcome)
    job = store.get(job_id)
    assert job is not None and job.finished
    assert sorted(zipfile.ZipFile(store.zip_path(job, {})).namelist()) == ["manifest.json", "p0.jpg"]
    assert store.retry(job_id) == [1]
    claim = store.claim(job_id, 1, "w2")
    assert claim is not None
    attempt = store.attempt_dir(claim)
    (attempt / "out" / "p1.jpg").write_text("second")
    assert store.finish(claim, attempt, Outcome("done", {"output": "out/p1.jpg"}))
    job = store.get(job_id)
    assert job is not None and job.finished
    assert sorted(zipfile.ZipFile(store.zip_path(job, {})).namelist()) == ["manifest.json", "p0.jpg", "p1.jpg"]


def test_a_local_runner_leaves_the_units_of_a_live_process_alone(tmp_path):
    """A second process on the same files (`tryon jobs submit` beside `tryon serve`) starting its runner puts back
    only the units of local runners whose process has ended."""
    settings = Settings(data_dir=tmp_path)
    first = Jobs.open(settings)
    try:
        job_id = first.create("retouch", {"same_look": False}, [
            NewUnit(f"p{i}.jpg", {"input": f"in/{i:05d}.jpg", "name": f"p{i}.jpg", "output": f"out/p{i}.jpg"},
                    b"x") for i in range(2)])
        host = socket.gethostname()
        gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                              text=True, check=True)
        live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
        try:
            assert first.claim(job_id, 0, f"local:{host}:{live.pid}:aaaaaa") is not None
            assert first.claim(job_id, 1, f"local:{host}:{gone.stdout.strip()}:bbbbbb") is not None
            second = Jobs.open(settings)
            second.start()
            try:
                units = second.get(job_id).units  # type: ignore[union-attr]
                assert units[0].status == "running" and units[0].worker.endswith(":aaaaaa")  # type: ignore[union-attr]
                assert units[1].status != "running" or units[1].worker != f"local:{host}:{gone.stdout.strip()}:bbbbbb"
            finally:
                second.close()
        finally:
            live.kill()
            live.wait()
    finally:
        first.close()
