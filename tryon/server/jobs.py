"""Catalog jobs on one model: a job is many units (a photo to retouch, a model photo for a lookbook, an item's clip),
its state rows in the database, its files under the shared files directory, its units run by a worker.

Where things are:
    the database (tryon.server.db: SQLite in files_dir/jobs.sqlite3 by default, PostgreSQL with
    TRYON_DATABASE_URL), tables `job` (kind, options, whether more units may follow, cancelled, the options its
    units get once prepared) and `job_unit` (each unit's spec, status, attempts, the worker that has it, its
    result or its one-line error);
    files_dir/KIND/JOB/   the job's files: uploads under in/ (written before a row points at them), results
    under out/ (files_dir: TRYON_MEDIA_DIR, else the data directory; so retouch jobs stay in data_dir/retouch).

A unit's life: pending -> running (claimed by one worker with a conditional UPDATE: attempts + 1) -> done (its
result) or failed (its reason) or cancelled. Its result is written once: the commit is an UPDATE ... WHERE status
IN ('pending', 'running'), so a second worker that made the same unit (after a redelivery) changes nothing, and its
files never replace any: each attempt runs in a folder of its own (JOB/.attempt/IDX-N, the job's other folders
linked in), and what it made is hard-linked into the job's folder (os.link never replaces a file) before the unit
is marked done. A bad input fails once with its reason; a worker that dies mid-unit leaves it `running`, and the
unit is taken again (up to TRYON_JOB_MAX_ATTEMPTS attempts, then it fails saying so). Options the units of a job
share (a retouch job's one look) are made once, by whichever worker takes the job's first unit (`prepare_job`).

Who runs the units (tryon.server.job_kinds.run_unit does the work in both):
- by default (no TRYON_BROKER_URL) this server's own worker process, as before: one dispatcher thread hands one
  unit at a time to one spawned process (tryon.server.retouch_worker.Worker: nice 19, SCHED_IDLE, stopped while a
  live session is connected, a CPU-time limit per unit), single photos (POST /api/retouch) ahead of the batches;
- with TRYON_BROKER_URL, `tryon worker`s anywhere (Celery over Redis): the server sends one message per unit
  (tryon.server.job_broker), a worker claims, runs and records it (tryon.server.job_cluster); single photos stay in
  this server's own worker process (someone is waiting for them). With a broker the local runner also closes jobs
  whose uploader went away and sends their units.
"""

from __future__ import annotations

import json
import logging
import os
import queue
import secrets
import shutil
import socket
import threading
import time
import zipfile
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from tryon.errors import InputError, TryOnError
from tryon.server.db import Database, open_database

if TYPE_CHECKING:
    from tryon.config import Settings
    from tryon.server.retouch_worker import Worker

log = logging.getLogger(__name__)

KINDS = ("retouch", "lookbook", "product-video", "turntable", "catalog-build")
STATUSES = ("pending", "running", "done", "failed", "cancelled")
JOB_ID_BYTES = 16  # 128 random bits: the id is the only key to a job's results (reading them needs no token)
OPEN_GRACE_S = 600.0  # a job left open for more uploads closes after this long without one
WORKER_IDLE_S = 60.0  # a local worker with nothing to do this long is stopped (its memory given back)
PREPARE_S_PER_UNIT = 10.0  # CPU seconds preparing a job may take per unit (retouch's look: a decode and a matte)
ATTEMPTS_DIR = ".attempt"
SWEEP_S = 30.0  # how often the runner closes jobs whose uploader went away
PURGE_S = 3600.0  # how often it deletes finished jobs past keep_s (and at start)
DB_FILE = "jobs.sqlite3"

SCHEMA = (
    "CREATE TABLE IF NOT EXISTS job (id TEXT PRIMARY KEY, kind TEXT NOT NULL, created DOUBLE PRECISION NOT NULL, "
    "updated DOUBLE PRECISION NOT NULL, options TEXT NOT NULL, unit_options TEXT, open INTEGER NOT NULL, "
    "cancelled INTEGER NOT NULL)",
    "CREATE TABLE IF NOT EXISTS job_unit (job TEXT NOT NULL, idx INTEGER NOT NULL, name TEXT NOT NULL, "
    "spec TEXT NOT NULL, status TEXT NOT NULL, attempts INTEGER NOT NULL, worker TEXT, "
    "claimed DOUBLE PRECISION, error TEXT, result TEXT, PRIMARY KEY (job, idx))",
    "CREATE INDEX IF NOT EXISTS job_unit_status ON job_unit (status, job, idx)",
)


class JobClosedError(InputError):
    """More units for a job that took its last upload already."""


@dataclass(frozen=True)
class NewUnit:
    """A unit to add. `data`: an upload, written to the job's folder at spec["input"] before the job is recorded."""

    name: str  # what people see: the upload's file name, an item id
    spec: dict[str, Any]  # JSON: what run_unit gets
    data: bytes | None = None


@dataclass(frozen=True)
class Unit:
    """One unit of a job. `status`: pending | running | done | failed | cancelled. `attempts`: how many times a
    worker took it. `result` once done (run_unit's dict), `error` once failed (one line)."""

    index: int
    name: str
    spec: dict[str, Any]
    status: str
    attempts: int
    error: str | None
    result: dict[str, Any] | None
    worker: str | None


@dataclass(frozen=True)
class Job:
    """A job as the database has it now. `options`: as created; `unit_options`: what its units get (after
    prepare_job), None until its first unit was taken; `open`: more units may follow."""

    id: str
    kind: str
    created: float  # unix seconds
    updated: float
    options: dict[str, Any]
    unit_options: dict[str, Any] | None
    open: bool
    cancelled: bool
    units: tuple[Unit, ...]

    def count(self, status: str) -> int:
        return sum(u.status == status for u in self.units)

    @property
    def total(self) -> int:
        return len(self.units)

    @property
    def done(self) -> int:
        return self.count("done")

    @property
    def failed(self) -> int:
        return self.count("failed")

    @property
    def finished(self) -> bool:
        """No more units may follow and none is pending or running."""
        return not self.open and not any(u.status in ("pending", "running") for u in self.units)

    @property
    def state(self) -> str:
        """open (uploads may follow) | queued | running | finished | cancelled."""
        if self.cancelled:
            return "cancelled"
        if self.open:
            return "open"
        if self.finished:
            return "finished"
        return "running" if any(u.status in ("running", "done", "failed") for u in self.units) else "queued"

    @property
    def current(self) -> int | None:
        """The index of a unit a worker has now, if any."""
        return next((u.index for u in self.units if u.status == "running"), None)

    @property
    def results(self) -> list[tuple[dict[str, Any], dict[str, Any] | None]]:
        """(spec, result or None) of every unit in order (for job_kinds.finish_job)."""
        return [(u.spec, u.result if u.status == "done" else None) for u in self.units]


@dataclass(frozen=True)
class Claim:
    """A unit a worker took: run it in `attempt`'s folder with `options` (None: the job is not prepared yet)."""

    job: str
    kind: str
    index: int
    attempt: int
    spec: dict[str, Any]
    options: dict[str, Any] | None
    job_options: dict[str, Any]
    worker: str


@dataclass(frozen=True)
class Outcome:
    """What became of an attempt: done (value: the result), failed (value: the reason), lost (the worker died:
    taken again up to max_attempts; value: what happened) or again (not really tried: pending as it was)."""

    status: str
    value: Any = None


def files_root(settings: Settings) -> Path:
    return Path(settings.files_dir)


def open_job_database(settings: Settings) -> Database:
    """The jobs' database: TRYON_DATABASE_URL's PostgreSQL, else SQLite in the shared files directory (so servers
    and workers on one machine that share TRYON_MEDIA_DIR share their jobs)."""
    db = open_database(settings.database_url, files_root(settings) / DB_FILE)
    db.setup(*SCHEMA)
    return db


def job_folder(root: Path, kind: str, job_id: str) -> Path:
    return Path(root) / kind / job_id


def safe_rel(rel: str) -> PurePosixPath | None:
    """A relative '/'-separated path with no '..' or absolute part; None otherwise."""
    p = PurePosixPath(rel)
    if p.is_absolute() or not p.parts or any(part in ("..", "") for part in p.parts):
        return None
    return p


class JobStore:
    """The jobs' rows and files (no threads): the server's Jobs and the cluster's workers share it. Thread-safe."""

    def __init__(self, db: Database, root: Path, *, max_attempts: int = 3, keep_s: float = 7 * 86400) -> None:
        self.db = db
        self.root = Path(root)
        self.max_attempts = int(max_attempts)
        self.keep_s = float(keep_s)

    # ---- jobs

    def create(self, kind: str, options: dict[str, Any], units: Sequence[NewUnit], *, open: bool = False,
               prepare: bool = False) -> str:
        """A new job of `kind` with these units; its id. `open`: more units may follow (`append`), and none runs
        until one comes without it. `prepare`: its units wait for job_kinds.prepare_job (run once by the worker
        that takes the first unit); else they get `options` as they are. InputError: unknown kind, no units."""
        if kind not in KINDS:
            raise InputError(f"unknown job kind {kind!r}: use one of {', '.join(KINDS)}")
        if not units and not open:
            raise InputError("a job needs at least one unit")
        job_id = secrets.token_hex(JOB_ID_BYTES)  # hex: never '-' first, which a command line reads as an option
        folder = job_folder(self.root, kind, job_id)
        (folder / "out").mkdir(parents=True)
        self._save_inputs(folder, units)
        now = time.time()
        with self.db.transaction() as tx:
            tx.execute("INSERT INTO job (id, kind, created, updated, options, unit_options, open, cancelled) "
                       "VALUES (?, ?, ?, ?, ?, ?, ?, 0)",
                       (job_id, kind, now, now, json.dumps(options), None if prepare else json.dumps(options),
                        int(open)))
            for i, unit in enumerate(units):
                self._insert_unit(tx, job_id, i, unit)
        return job_id

    def append(self, job_id: str, units: Sequence[NewUnit], *, open: bool = False) -> list[int]:
        """More units for an open job (open: still more may follow); their indexes. KeyError: no such job;
        JobClosedError: it took its last upload (or was cancelled)."""
        job = self.get(job_id)
        if job is None:
            raise KeyError(job_id)
        if not job.open or job.cancelled:
            raise JobClosedError("this job took its last upload already; start a new job")
        self._save_inputs(job_folder(self.root, job.kind, job_id), units)
        start = job.total
        with self.db.transaction() as tx:
            for i, unit in enumerate(units, start):
                self._insert_unit(tx, job_id, i, unit)
            tx.execute("UPDATE job SET open = ?, updated = ? WHERE id = ?", (int(open), time.time(), job_id))
        return list(range(start, start + len(units)))

    @staticmethod
    def _insert_unit(tx: Any, job_id: str, index: int, unit: NewUnit) -> None:
        tx.execute("INSERT INTO job_unit (job, idx, name, spec, status, attempts) VALUES (?, ?, ?, ?, 'pending', 0)",
                   (job_id, index, unit.name, json.dumps(unit.spec)))

    @staticmethod
    def _save_inputs(folder: Path, units: Sequence[NewUnit]) -> None:
        for unit in units:
            if unit.data is None:
                continue
            rel = safe_rel(str(unit.spec.get("input", "")))
            if rel is None:
                raise InputError(f"unit {unit.name!r}: an upload needs spec['input'], a path inside the job")
            path = folder.joinpath(*rel.parts)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(unit.data)

    def get(self, job_id: str) -> Job | None:
        """The job now; None for no such job. A job left open past OPEN_GRACE_S (its uploader went away) reads as
        closed (the runner's sweep closes it and sends its units on)."""
        row = self.db.execute("SELECT kind, created, updated, options, unit_options, open, cancelled FROM job "
                              "WHERE id = ?", (job_id,)).one()
        if row is None:
            return None
        if row[5] and time.time() - row[2] > OPEN_GRACE_S:
            row = (*row[:5], 0, row[6])
        units = self.db.execute("SELECT idx, name, spec, status, attempts, error, result, worker FROM job_unit "
                                "WHERE job = ? ORDER BY idx", (job_id,)).rows
        return Job(job_id, row[0], row[1], row[2], json.loads(row[3]), _json_or_none(row[4]), bool(row[5]),
                   bool(row[6]), tuple(Unit(int(i), name, json.loads(spec), status, int(attempts), error,
                                            _json_or_none(result), worker)
                                       for i, name, spec, status, attempts, error, result, worker in units))

    def job_dir(self, job: Job) -> Path:
        return job_folder(self.root, job.kind, job.id)

    def file_path(self, job: Job, rel: str) -> Path | None:
        """A file in the job's folder by its relative path (no '..'); None when it is not there."""
        p = safe_rel(rel)
        if p is None or ATTEMPTS_DIR in p.parts:
            return None
        path = self.job_dir(job).joinpath(*p.parts)
        return path if path.is_file() else None

    def cancel(self, job_id: str) -> bool:
        """The job's pending and running units cancelled (a running one's result, if it comes, is dropped) and no
        more uploads taken. False: no such job."""
        with self.db.transaction() as tx:
            changed = tx.execute("UPDATE job SET cancelled = 1, open = 0, updated = ? WHERE id = ?",
                                 (time.time(), job_id)).rowcount
            tx.execute("UPDATE job_unit SET status = 'cancelled', error = 'cancelled' WHERE job = ? AND status IN "
                       "('pending', 'running')", (job_id,))
        return changed > 0

    def retry(self, job_id: str, indexes: Sequence[int] | None = None) -> list[int]:
        """Failed and cancelled units (all, or these indexes) pending again with their attempts counted afresh
        (a cancelled job goes on); the indexes made pending. KeyError: no such job."""
        job = self.get(job_id)
        if job is None:
            raise KeyError(job_id)
        wanted = {u.index for u in job.units if u.status in ("failed", "cancelled")}
        if indexes is not None:
            wanted &= set(indexes)
        again = []
        with self.db.transaction() as tx:
            for i in sorted(wanted):
                if tx.execute("UPDATE job_unit SET status = 'pending', attempts = 0, error = NULL, worker = NULL "
                              "WHERE job = ? AND idx = ? AND status IN ('failed', 'cancelled')",
                              (job_id, i)).rowcount:
                    again.append(i)
            tx.execute("UPDATE job SET cancelled = 0, updated = ? WHERE id = ?", (time.time(), job_id))
        if again:  # the job's result.zip, made when it finished, lacks what is done now
            (self.job_dir(job) / "result.zip").unlink(missing_ok=True)
        return again

    def counts(self) -> dict[tuple[str, str], int]:
        """(kind, unit status) -> how many units, over every job kept (for /metrics)."""
        rows = self.db.execute("SELECT j.kind, u.status, COUNT(*) FROM job_unit u JOIN job j ON j.id = u.job "
                               "GROUP BY j.kind, u.status").rows
        return {(kind, status): int(n) for kind, status, n in rows}

    def purge(self) -> int:
        """Finished jobs not changed for keep_s deleted with their files, and job folders no job owns (an upload
        cut off before its job was recorded) after an hour. How many jobs went."""
        cutoff = time.time() - self.keep_s
        old = self.db.execute("SELECT id, kind FROM job WHERE updated < ? AND open = 0 AND NOT EXISTS (SELECT 1 FROM "
                              "job_unit u WHERE u.job = job.id AND u.status IN ('pending', 'running'))",
                              (cutoff,)).rows
        for job_id, kind in old:
            with self.db.transaction() as tx:
                tx.execute("DELETE FROM job_unit WHERE job = ?", (job_id,))
                tx.execute("DELETE FROM job WHERE id = ?", (job_id,))
            shutil.rmtree(job_folder(self.root, kind, job_id), ignore_errors=True)
        known = {r[0] for r in self.db.execute("SELECT id FROM job").rows}
        for kind in KINDS:
            folder = self.root / kind
            if not folder.is_dir():
                continue
            for sub in folder.iterdir():
                try:
                    stale = sub.is_dir() and sub.name not in known and time.time() - sub.stat().st_mtime > 3600
                except OSError:
                    continue
                if stale:
                    shutil.rmtree(sub, ignore_errors=True)
        return len(old)

    def zip_path(self, job: Job, manifest: dict[str, Any], names: Callable[[Unit], list[str]] | None = None) -> Path:
        """result.zip: every done unit's files (`names(unit)`, relative to the job's folder; default: what
        job_kinds.unit_files says), each under its path below out/, and manifest.json. Made once when the job is
        finished (and kept); a new temporary file for each call while it runs (the caller deletes it)."""
        from tryon.server.job_kinds import unit_files

        folder = self.job_dir(job)
        path = folder / ("result.zip" if job.finished else f"partial-{secrets.token_hex(6)}.zip")
        if job.finished and path.exists():
            return path
        tmp = path.with_name(path.name + f".{secrets.token_hex(4)}.part")
        written: set[str] = set()
        with zipfile.ZipFile(tmp, "w") as z:
            for unit in job.units:
                if unit.status != "done":
                    continue
                for rel in (names or (lambda u: unit_files(u.result)))(unit):
                    src = self.file_path(job, rel)
                    p = PurePosixPath(rel)
                    arc = str(p.relative_to("out")) if p.parts[:1] == ("out",) else str(p)
                    if src is not None and arc not in written:  # a file in the zip once
                        written.add(arc)
                        z.write(src, arc, compress_type=zipfile.ZIP_STORED)  # images and videos: packed already
            z.writestr("manifest.json", json.dumps(manifest, indent=2), compress_type=zipfile.ZIP_DEFLATED)
        tmp.replace(path)
        return path

    # ---- the workers' side

    def claim(self, job_id: str, index: int, worker: str) -> Claim | None:
        """Take a unit to run it: pending, or running (its worker died: the unit came back); None when it is not
        to be run (done, failed, cancelled, its job open or cancelled, or another worker took it just now). A unit
        that has used up its attempts fails here, saying its workers died."""
        row = self.db.execute(
            "SELECT u.status, u.attempts, u.spec, j.kind, j.options, j.unit_options, j.open, j.cancelled, u.error "
            "FROM job_unit u JOIN job j ON j.id = u.job WHERE u.job = ? AND u.idx = ?", (job_id, index)).one()
        if row is None:
            return None
        status, attempts, spec, kind, options, unit_options, is_open, cancelled, _ = row
        if status not in ("pending", "running") or is_open or cancelled:
            return None
        if attempts >= self.max_attempts:
            self.db.execute("UPDATE job_unit SET status = 'failed', error = ? WHERE job = ? AND idx = ? AND status = ? "
                            "AND attempts = ?", (f"the worker stopped while making this, {attempts} times (out of "
                                                 "memory? or it takes longer than TRYON_JOB_VISIBILITY_TIMEOUT_S); "
                                                 "retry it, or send a smaller file", job_id, index, status, attempts))
            self._touch(job_id)
            return None
        if self.db.execute("UPDATE job_unit SET status = 'running', attempts = ?, worker = ?, claimed = ? "
                           "WHERE job = ? AND idx = ? AND status = ? AND attempts = ?",
                           (attempts + 1, worker, time.time(), job_id, index, status, attempts)).rowcount != 1:
            return None  # another worker was quicker
        return Claim(job_id, kind, index, attempts + 1, json.loads(spec), _json_or_none(unit_options),
                     json.loads(options), worker)

    def specs(self, job_id: str) -> list[dict[str, Any]]:
        return [json.loads(r[0]) for r in self.db.execute("SELECT spec FROM job_unit WHERE job = ? ORDER BY idx",
                                                           (job_id,)).rows]

    def prepared(self, job_id: str, unit_options: dict[str, Any]) -> dict[str, Any]:
        """Record the options a job's units get (the first worker to prepare it wins); the recorded ones."""
        self.db.execute("UPDATE job SET unit_options = ? WHERE id = ? AND unit_options IS NULL",
                        (json.dumps(unit_options), job_id))
        stored = self.db.execute("SELECT unit_options FROM job WHERE id = ?", (job_id,)).scalar()
        return json.loads(stored) if stored else unit_options

    def attempt_dir(self, claim: Claim) -> Path:
        """A fresh folder for one attempt at a unit: the job's folders and files linked in (inputs are read where
        they are), out/ its own and empty."""
        folder = job_folder(self.root, claim.kind, claim.job)
        attempt = folder / ATTEMPTS_DIR / f"{claim.index:05d}-{claim.attempt}-{secrets.token_hex(4)}"
        (attempt / "out").mkdir(parents=True)
        for entry in folder.iterdir():
            if entry.name not in ("out", ATTEMPTS_DIR) and not entry.name.endswith((".zip", ".part")):
                (attempt / entry.name).symlink_to(Path("..", "..", entry.name))
        return attempt

    def finish(self, claim: Claim, attempt: Path | None, outcome: Outcome) -> bool:
        """Record an attempt's outcome; whether it counted. done: its files hard-linked into the job's folder
        (never replacing one there), then the unit marked done unless another attempt was first. The attempt's
        folder goes either way."""
        try:
            if outcome.status == "done":
                status = self.db.execute("SELECT status FROM job_unit WHERE job = ? AND idx = ?",
                                         (claim.job, claim.index)).scalar()
                folder = job_folder(self.root, claim.kind, claim.job)
                if attempt is not None and status in ("pending", "running"):  # not for one done or cancelled
                    _publish(attempt, folder)
                changed = self.db.execute(
                    "UPDATE job_unit SET status = 'done', result = ?, error = NULL WHERE job = ? AND idx = ? AND "
                    "status IN ('pending', 'running')", (json.dumps(outcome.value), claim.job, claim.index)).rowcount
                if changed:  # what dead workers' attempts at this unit left goes too
                    for old in (folder / ATTEMPTS_DIR).glob(f"{claim.index:05d}-*"):
                        shutil.rmtree(old, ignore_errors=True)
            elif outcome.status == "failed":
                changed = self.db.execute(
                    "UPDATE job_unit SET status = 'failed', error = ? WHERE job = ? AND idx = ? AND status = "
                    "'running' AND attempts = ?", (str(outcome.value), claim.job, claim.index, claim.attempt)).rowcount
            elif outcome.status == "lost":
                if claim.attempt >= self.max_attempts:
                    changed = self.db.execute(
                        "UPDATE job_unit SET status = 'failed', error = ? WHERE job = ? AND idx = ? AND status = "
                        "'running' AND attempts = ?", (f"{outcome.value} ({claim.attempt} times); retry it, or send "
                                                       "a smaller file", claim.job, claim.index,
                                                       claim.attempt)).rowcount
                else:
                    changed = self._release(claim, claim.attempt)
            else:  # again: as if never taken
                changed = self._release(claim, claim.attempt - 1)
        finally:
            if attempt is not None:
                shutil.rmtree(attempt, ignore_errors=True)
        self._touch(claim.job)
        return changed == 1

    def _release(self, claim: Claim, attempts: int) -> int:
        return self.db.execute("UPDATE job_unit SET status = 'pending', attempts = ?, worker = NULL WHERE job = ? AND "
                               "idx = ? AND status = 'running' AND attempts = ?",
                               (attempts, claim.job, claim.index, claim.attempt)).rowcount

    def _touch(self, job_id: str) -> None:
        self.db.execute("UPDATE job SET updated = ? WHERE id = ?", (time.time(), job_id))

    def close_stale(self) -> list[str]:
        """Jobs left open past OPEN_GRACE_S closed (their uploader went away); their ids."""
        stale = [r[0] for r in self.db.execute("SELECT id FROM job WHERE open = 1 AND updated < ?",
                                               (time.time() - OPEN_GRACE_S,)).rows]
        for job_id in stale:
            self.db.execute("UPDATE job SET open = 0 WHERE id = ? AND open = 1", (job_id,))
        return stale

    def pending_units(self, job_id: str) -> list[int]:
        return [int(r[0]) for r in self.db.execute("SELECT idx FROM job_unit WHERE job = ? AND status = 'pending' "
                                                   "ORDER BY idx", (job_id,)).rows]

    def next_pending(self) -> Iterator[tuple[str, int]]:
        """Pending units of closed, live jobs, oldest job first."""
        rows = self.db.execute("SELECT u.job, u.idx FROM job_unit u JOIN job j ON j.id = u.job WHERE u.status = "
                               "'pending' AND j.open = 0 AND j.cancelled = 0 ORDER BY j.created, u.idx LIMIT 20").rows
        for job_id, idx in rows:
            yield job_id, int(idx)


def _json_or_none(text: str | None) -> Any:
    return None if text is None else json.loads(text)


def _publish(attempt: Path, folder: Path) -> None:
    """Every file an attempt made, hard-linked to the same place in the job's folder; a file already there (a
    result recorded before) stays as it is."""
    for dirpath, dirnames, filenames in os.walk(attempt):
        here = Path(dirpath)
        dirnames[:] = [d for d in dirnames if not (here / d).is_symlink()]
        for name in filenames:
            src = here / name
            if src.is_symlink() or name.endswith(".part"):
                continue
            dst = folder / src.relative_to(attempt)
            dst.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.link(src, dst)
            except FileExistsError:
                pass


def unit_timeout_s(settings: Settings, kind: str) -> float:
    """CPU seconds one unit of `kind` may take."""
    return float(settings.max_retouch_s if kind == "retouch" else settings.job_unit_max_s)


# ------------------------------------------------------------------ the server's service


class Jobs(JobStore):
    """The server's jobs: the store, and the work. Without a broker, `start()` begins (and resumes) the local
    runner: a dispatcher thread and one spawned worker process (see the module docstring); `close()` stops it,
    leaving the unit in hand pending for the next start. With a broker, units go to `tryon worker`s as messages,
    and the local runner does only single photos. `hold()`: while true (live sessions are connected) the local
    worker is stopped where it stands."""

    def __init__(self, db: Database, settings: Settings, *, hold: Callable[[], bool] | None = None,
                 own_db: bool = True) -> None:
        super().__init__(db, files_root(settings), max_attempts=settings.job_max_attempts,
                         keep_s=settings.retouch_keep_s)
        self.settings = settings
        self.hold: Callable[[], bool] = hold or (lambda: False)
        self.remote = bool(settings.broker_url)
        self._own_db = own_db
        self._singles: queue.Queue[tuple[tuple[Any, ...], float, Future[Any]]] = queue.Queue()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._worker: Worker | None = None
        self._worker_lock = threading.Lock()
        self._name = f"local:{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"
        self._sender: Any = None  # the Celery app that sends units (with a broker)

    @classmethod
    def open(cls, settings: Settings, hold: Callable[[], bool] | None = None) -> Jobs:
        """The jobs of these settings: their database (TRYON_DATABASE_URL or SQLite in the files directory)."""
        return cls(open_job_database(settings), settings, hold=hold)

    # ---- jobs (the store's, then the work told)

    def create(self, kind: str, options: dict[str, Any], units: Sequence[NewUnit], *, open: bool = False,
               prepare: bool = False) -> str:
        job_id = super().create(kind, options, units, open=open, prepare=prepare)
        if not open:
            self._dispatch(job_id, self.pending_units(job_id))
        return job_id

    def append(self, job_id: str, units: Sequence[NewUnit], *, open: bool = False) -> list[int]:
        added = super().append(job_id, units, open=open)
        if not open:
            self._dispatch(job_id, self.pending_units(job_id))
        return added

    def retry(self, job_id: str, indexes: Sequence[int] | None = None) -> list[int]:
        """As JobStore.retry; with a broker, the job's units still pending are sent again too (a broker that lost
        its messages leaves them waiting; one sent twice is claimed once, or made twice and recorded once)."""
        again = super().retry(job_id, indexes)
        job = self.get(job_id)
        if self.remote and job is not None and not job.open:
            wanted = None if indexes is None else set(indexes)
            self._dispatch(job_id, [i for i in self.pending_units(job_id) if wanted is None or i in wanted])
        else:
            self._dispatch(job_id, again)
        return again

    def _dispatch(self, job_id: str, indexes: Sequence[int]) -> None:
        """Tell the work: wake the local runner, or send one message per unit to the workers."""
        if not indexes:
            return
        if not self.remote:
            self._wake.set()
            return
        from tryon.server.job_broker import broker_app, send_units

        kind = self.db.execute("SELECT kind FROM job WHERE id = ?", (job_id,)).scalar()
        try:
            if self._sender is None:
                self._sender = broker_app(self.settings)
            send_units(self._sender, kind, job_id, indexes)
        except Exception as e:  # kombu's connection errors and the like: the units say so, and a retry sends them
            reason = f"the job broker could not be reached ({type(e).__name__}: {e}); retry the job"
            log.warning("jobs: %s: %s", job_id, reason)
            for i in indexes:
                self.db.execute("UPDATE job_unit SET status = 'failed', error = ? WHERE job = ? AND idx = ? AND "
                                "status = 'pending'", (reason, job_id, i))

    # ---- single photos

    def run_single(self, task: tuple[Any, ...], timeout_s: float) -> Future[Any]:
        """A task for the local worker process (tryon.server.retouch_worker's), ahead of every unit and never held:
        someone is waiting for it. The future gives the task's value or raises InputError with the reason."""
        future: Future[Any] = Future()
        self._singles.put((task, timeout_s, future))
        self._wake.set()
        return future

    # ---- the local runner

    @property
    def held(self) -> bool:
        """Whether the local work waits now (`hold()`: live sessions are connected)."""
        from tryon.server.retouch_worker import HOLDABLE

        return HOLDABLE and bool(self.hold())

    @property
    def worker_pid(self) -> int | None:
        """The local worker process's id while one runs (it stays a while after its last task)."""
        with self._worker_lock:
            return None if self._worker is None else self._worker.process.pid

    def start(self) -> None:
        """Begin working (again). Units that this machine's local runners had when their process ended are pending
        again; a unit of a local runner whose process still lives (another `tryon serve` or `tryon jobs submit` on
        the same files) is left to it."""
        if self._thread is None:
            if not self.remote:
                for job_id, index, worker in self.db.execute(
                        "SELECT job, idx, worker FROM job_unit WHERE status = 'running' AND worker LIKE ?",
                        (f"local:{socket.gethostname()}:%",)).rows:
                    if _process_alive(worker):
                        continue
                    self.db.execute("UPDATE job_unit SET status = 'pending', attempts = CASE WHEN attempts > 0 "
                                    "THEN attempts - 1 ELSE 0 END, worker = NULL WHERE job = ? AND idx = ? AND "
                                    "status = 'running' AND worker = ?", (job_id, index, worker))
            self.purge()
            self._thread = threading.Thread(target=self._loop, name="tryon-jobs", daemon=True)
            self._thread.start()

    def close(self) -> None:
        """Stop: the unit in the worker is abandoned (pending again: done on the next start)."""
        self._stop.set()
        self._wake.set()
        self._stop_worker()
        if self._thread is not None:
            self._thread.join(15)
            self._thread = None
        while not self._singles.empty():
            self._singles.get_nowait()[2].set_exception(TryOnError("the server is shutting down; send it again"))
        if self._sender is not None:
            self._sender.close()
        if self._own_db:
            self.db.close()

    def _loop(self) -> None:
        last_sweep = last_purge = time.monotonic()
        while not self._stop.is_set():
            try:
                single = self._singles.get_nowait()
            except queue.Empty:
                single = None
            if single is not None:
                task, timeout_s, future = single
                if future.set_running_or_notify_cancel():
                    ok, value = self._call(task, timeout_s, holdable=False)
                    if ok:
                        future.set_result(value)
                    else:
                        future.set_exception(InputError(value.value if isinstance(value, Outcome) else value))
                continue
            try:
                if time.monotonic() - last_sweep > SWEEP_S:
                    last_sweep = time.monotonic()
                    for job_id in self.close_stale():
                        self._dispatch(job_id, self.pending_units(job_id))
                    if time.monotonic() - last_purge > PURGE_S:
                        last_purge = time.monotonic()
                        self.purge()
                claim = None if self.remote else self._claim_next()
            except TryOnError as e:  # the database went away for a while
                log.warning("jobs: %s", e)
                claim = None
            if claim is None:
                self._wake.wait(5.0)
                self._wake.clear()
                self._stop_idle_worker()
                continue
            try:
                self._run_local(claim)
            except TryOnError as e:  # the database went away: the unit is taken again on the next start
                log.warning("jobs: unit %s/%d: %s", claim.job, claim.index, e)
            except OSError as e:  # its folder cannot be written: it fails, saying so
                log.warning("jobs: unit %s/%d: %s", claim.job, claim.index, e)
                self.finish(claim, None, Outcome("failed", f"the job's folder cannot be written: {e.strerror or e}"))

    def _claim_next(self) -> Claim | None:
        for job_id, idx in self.next_pending():
            claim = self.claim(job_id, idx, self._name)
            if claim is not None:
                return claim
        return None

    def _run_local(self, claim: Claim) -> None:
        folder = job_folder(self.root, claim.kind, claim.job)
        if claim.options is None:
            specs = self.specs(claim.job)
            ok, value = self._call(("prepare", claim.kind, claim.job_options, specs, str(folder), self.settings),
                                   unit_timeout_s(self.settings, claim.kind) + PREPARE_S_PER_UNIT * len(specs))
            if isinstance(value, Outcome):  # the worker died, or gave way: the unit (and so the job) later again
                self.finish(claim, None, value)
                return
            if not ok:  # the units do without what is shared (a retouch job: each photo its own look)
                log.info("jobs: preparing %s failed: %s", claim.job, value)
            claim = with_options(claim, self.prepared(claim.job, value if ok else claim.job_options))
        attempt = self.attempt_dir(claim)
        ok, value = self._call(("unit", claim.kind, claim.options, claim.spec, str(attempt), self.settings),
                               unit_timeout_s(self.settings, claim.kind))
        outcome = value if isinstance(value, Outcome) else Outcome("done" if ok else "failed", value)
        self.finish(claim, attempt, outcome)
        if outcome.status == "failed":
            log.info("jobs: %s unit %s/%d failed: %s", claim.kind, claim.job, claim.index, outcome.value)

    def _call(self, task: tuple[Any, ...], timeout_s: float, holdable: bool = True) -> tuple[bool, Any]:
        """The task in the local worker process (started when needed): (True, value) or (False, reason), or
        (False, Outcome) when the attempt did not come to an end of its own (lost: the worker died; again: given
        up for a single photo or the server's stop)."""
        from tryon.server.retouch_worker import PreemptedError, Worker

        try:
            with self._worker_lock:
                if self._worker is None:
                    self._worker = Worker(self.settings.retouch_nice, self.settings.retouch_idle, self.hold,
                                          lambda: not self._singles.empty())
                worker = self._worker
            answer: tuple[bool, Any] = worker.call(task, timeout_s, holdable)
            return answer
        except PreemptedError:  # a single photo came while this unit was held: it is done again later
            self._stop_worker()
            return False, Outcome("again")
        except InputError as e:  # past its CPU time
            self._stop_worker()
            return False, str(e)
        except (EOFError, OSError, TryOnError) as e:
            self._stop_worker()
            if self._stop.is_set():
                return False, Outcome("again", "the server stopped")
            log.warning("the job worker stopped: %s", e)
            return False, Outcome("lost", "the worker stopped while making this (out of memory?)")

    def _stop_worker(self) -> None:
        with self._worker_lock:
            worker, self._worker = self._worker, None
        if worker is not None:
            worker.stop()

    def _stop_idle_worker(self) -> None:
        with self._worker_lock:
            idle = self._worker is not None and time.monotonic() - self._worker.last_used > WORKER_IDLE_S
        if idle:
            self._stop_worker()


def _process_alive(local_worker: str) -> bool:
    """Whether the process named in a local runner's name ("local:HOST:PID:TAG", on this host) still runs; not
    this process (a runner of ours from before is gone)."""
    try:
        pid = int(local_worker.split(":")[2])
    except (IndexError, ValueError):
        return False
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def with_options(claim: Claim, options: dict[str, Any]) -> Claim:
    return Claim(claim.job, claim.kind, claim.index, claim.attempt, claim.spec, options, claim.job_options,
                 claim.worker)
