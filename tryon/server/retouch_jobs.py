"""Retouch jobs: many product photos in, catalog-ready photos out, kept on disk and run in a worker process.

What is kept, under `root` (the server's data_dir/retouch):
    jobs.sqlite3          the jobs (options, whether more uploads may follow) and each file's state
                          (pending, done with its checks, failed with its one-line reason)
    JOB/in/NNNNN.EXT      the uploads, written to disk before the job is recorded
    JOB/out/NAME.EXT      the results, written whole (a .part file renamed) before the file is marked done

So a job survives a restart: the store is the queue. On start-up the runner takes the pending files again in
order; done files are never redone. A job asked for one look (same_look) gets the median of its photos' exposure
and white point, as `tryon retouch --same-look` gives a batch), measured once its uploads are all in and kept with the job,
so the photos done after a restart match those done before. A job is finished when no more uploads may follow
and none of its files is pending. Finished jobs go after `keep_s`.

Off the event loop and off the live sessions' CPU: one dispatcher thread hands one photo at a time to one worker
process (tryon.server.retouch_worker: spawned, so no forked EGL, MediaPipe or torch state; one OpenCV and torch
thread; nice 19 and Linux's SCHED_IDLE, so it runs only on CPU time nothing else wants). Even so, on a 2-core
machine a batch cost the live page about a fifth of its frame rate (shared cores, caches and memory), so while a
live session is connected the worker is also stopped (SIGSTOP) on a batch's file where it stands and continued
when none is. A single photo, which someone is waiting for, is not held: a batch file held when one comes is
given up (the worker with it) and done again later. A
photo that fails, spends more than `photo_timeout_s` of CPU time (waiting, held or not, does not count) or kills
the worker fails alone; the worker is started again for the next one. Single photos (POST /api/retouch) go to
the same worker ahead of the batches' files.
"""

from __future__ import annotations

import json
import logging
import queue
import re
import secrets
import shutil
import sqlite3
import threading
import time
import zipfile
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import asdict, dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from tryon.errors import InputError, TryOnError
from tryon.retouch.types import RetouchOptions
from tryon.server.retouch_worker import HOLDABLE, PreemptedError, Worker, options_from

log = logging.getLogger(__name__)

JOB_ID_BYTES = 16  # 128 random bits: the id is the only key to a job's results (reading them needs no token)
OPEN_GRACE_S = 600.0  # a job left open for more uploads closes after this long without one
LOOK_S_PER_PHOTO = 10.0  # measuring a job's look: a decode and a small matte per photo
WORKER_IDLE_S = 60.0  # a worker with nothing to do this long is stopped (its memory given back)
MAX_NAME_CHARS = 120
CONTENT_TYPES = {"jpg": "image/jpeg", "png": "image/png", "webp": "image/webp"}
_SAFE = re.compile(r"[^A-Za-z0-9._-]+")

SCHEMA = (
    "CREATE TABLE IF NOT EXISTS jobs (id TEXT PRIMARY KEY, created REAL NOT NULL, updated REAL NOT NULL, "
    "options TEXT NOT NULL, open INTEGER NOT NULL, look TEXT)",
    "CREATE TABLE IF NOT EXISTS files (job TEXT NOT NULL, idx INTEGER NOT NULL, name TEXT NOT NULL, "
    "input TEXT NOT NULL, output TEXT NOT NULL, status TEXT NOT NULL, error TEXT, result TEXT, "
    "PRIMARY KEY (job, idx))",
    "CREATE INDEX IF NOT EXISTS files_pending ON files (status, job, idx)",
)


class JobClosedError(InputError):
    """More photos for a job that took its last upload already."""


@dataclass(frozen=True)
class JobFile:
    """One photo of a job. `status`: pending | done | failed. `output`: the result's file name in the job (also
    the name the file gets in result.zip). `result`: on done, {"checks", "passed", "metal", "steps"}."""

    index: int
    name: str
    output: str
    status: str
    error: str | None = None
    result: dict[str, Any] | None = None
    input: str = ""  # the upload's file name in the job's in/ folder


@dataclass(frozen=True)
class Job:
    id: str
    created: float  # unix seconds
    options: dict[str, Any]  # RetouchOptions' fields
    open: bool  # more uploads may follow
    files: tuple[JobFile, ...]
    current: int | None = None  # the index of the photo in the worker now
    look: dict[str, Any] | None = None  # the look its photos share (Look's fields), once measured; None: their own

    @property
    def total(self) -> int:
        return len(self.files)

    @property
    def done(self) -> int:
        return sum(f.status == "done" for f in self.files)

    @property
    def failed(self) -> int:
        return sum(f.status == "failed" for f in self.files)

    @property
    def finished(self) -> bool:
        return not self.open and self.done + self.failed == self.total


def display_name(name: str | None, index: int) -> str:
    """The upload's own file name without any folder part, or photo-N when it has none."""
    base = PurePosixPath((name or "").replace("\\", "/")).name.strip()
    return base[-MAX_NAME_CHARS:] or f"photo-{index + 1}"


# ------------------------------------------------------------------ the store and its runner

class RetouchJobs:
    """The jobs' store (thread-safe) and the runner that works through it. `start()` begins (and resumes) the
    work; `close()` stops it, leaving unfinished files pending for the next start. `hold()`: while it is true
    (the server has live sessions) the worker is stopped where it stands, so their frames have the CPU, its
    caches and memory bandwidth to themselves; it goes on when they end."""

    def __init__(self, root: Path, *, max_files: int = 200, photo_timeout_s: float = 120.0, keep_s: float = 7 * 86400,
                 nice: int = 19, idle: bool = True, hold: Callable[[], bool] | None = None) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.max_files = int(max_files)
        self.photo_timeout_s = float(photo_timeout_s)
        self.keep_s = float(keep_s)
        self.nice = int(nice)
        self.idle = bool(idle)
        self.hold: Callable[[], bool] = hold or (lambda: False)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(str(self.root / "jobs.sqlite3"), check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        for statement in SCHEMA:
            self._db.execute(statement)
        self._singles: queue.Queue[tuple[bytes, str, dict[str, Any], Future[tuple[bytes, dict[str, Any]]]]] = \
            queue.Queue()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._worker: Worker | None = None
        self._worker_lock = threading.Lock()
        self._current: tuple[str, int] | None = None  # (job, index) in the worker now

    # ---- jobs

    def create(self, files: list[tuple[str | None, bytes]], options: RetouchOptions, more: bool = False,
               same_look: bool = False) -> str:
        """A new job of these (name, bytes) uploads; returns its id. With `more`, further uploads may follow
        (`append`) and the job is not finished until one comes without it. same_look: its photos take their
        median look (pieces from one shoot; as `tryon retouch --same-look`); else each keeps its own. InputError
        past `max_files`."""
        self._check_count(0, len(files))
        job_id = secrets.token_urlsafe(JOB_ID_BYTES)
        now = time.time()
        (self.root / job_id / "out").mkdir(parents=True)
        rows = self._save_inputs(job_id, 0, files, options, set())
        with self._lock:
            self._db.execute("BEGIN")
            self._db.execute("INSERT INTO jobs (id, created, updated, options, open, look) VALUES (?, ?, ?, ?, ?, ?)",
                             (job_id, now, now, json.dumps(asdict(options)), int(more),
                              None if same_look else json.dumps(None)))
            self._db.executemany("INSERT INTO files (job, idx, name, input, output, status) VALUES (?, ?, ?, ?, ?, ?)",
                                 rows)
            self._db.execute("COMMIT")
        self._wake.set()
        self.purge()
        return job_id

    def append(self, job_id: str, files: list[tuple[str | None, bytes]], more: bool = False) -> None:
        """More uploads for an open job. KeyError: no such job; InputError: the job took its last upload, or
        past `max_files`; JobClosedError: the job took its last upload."""
        job = self.get(job_id)
        if job is None:
            raise KeyError(job_id)
        if not job.open:
            raise JobClosedError("this job took its last upload already; start a new job")
        self._check_count(job.total, len(files))
        rows = self._save_inputs(job_id, job.total, files, options_from(job.options), {f.output for f in job.files})
        with self._lock:
            self._db.execute("BEGIN")
            self._db.executemany("INSERT INTO files (job, idx, name, input, output, status) VALUES (?, ?, ?, ?, ?, ?)",
                                 rows)
            self._db.execute("UPDATE jobs SET open = ?, updated = ? WHERE id = ?", (int(more), time.time(), job_id))
            self._db.execute("COMMIT")
        self._wake.set()

    def _check_count(self, have: int, adding: int) -> None:
        if adding == 0:
            raise InputError("no photos were sent: add them as 'files' fields")
        if have + adding > self.max_files:
            raise InputError(f"a job takes at most {self.max_files} photos ({have + adding} sent); split the batch "
                             "into several jobs")

    def _save_inputs(self, job_id: str, start: int, files: list[tuple[str | None, bytes]], options: RetouchOptions,
                     taken: set[str]) -> list[tuple[Any, ...]]:
        """The uploads written to disk (before any row points at them); the rows to insert."""
        folder = self.root / job_id / "in"
        folder.mkdir(parents=True, exist_ok=True)
        rows = []
        for i, (raw_name, data) in enumerate(files, start):
            name = display_name(raw_name, i)
            suffix = _SAFE.sub("", PurePosixPath(name).suffix.lower())[:8]
            stored = folder / f"{i:05d}{suffix}"
            stored.write_bytes(data)
            rows.append((job_id, i, name, stored.name, _output_name(name, options.ext, taken), "pending"))
        return rows

    def get(self, job_id: str) -> Job | None:
        with self._lock:
            row = self._db.execute("SELECT created, updated, options, open, look FROM jobs WHERE id = ?",
                                   (job_id,)).fetchone()
            if row is None:
                return None
            if row[3] and time.time() - row[1] > OPEN_GRACE_S:  # the uploader went away
                self._db.execute("UPDATE jobs SET open = 0 WHERE id = ?", (job_id,))
                row = (*row[:3], 0, row[4])
            files = self._db.execute("SELECT idx, name, output, status, error, result, input FROM files WHERE job = ? "
                                     "ORDER BY idx", (job_id,)).fetchall()
        current = self._current
        working = current[1] if current and current[0] == job_id else None
        return Job(job_id, row[0], json.loads(row[2]), bool(row[3]), tuple(
            JobFile(i, name, out, status, error, None if result is None else json.loads(result), stored)
            for i, name, out, status, error, result, stored in files), working, json.loads(row[4] or "null"))

    def output_path(self, job_id: str, output: str) -> Path | None:
        """A done file's result on disk, by its output name; None when there is none (yet)."""
        job = self.get(job_id)
        if job is None:
            return None
        for f in job.files:
            if f.output == output and f.status == "done":
                return self.root / job_id / "out" / f.output
        return None

    def input_path(self, job_id: str, index: int) -> Path | None:
        """A photo as uploaded, by its index in the job; None when there is no such photo."""
        job = self.get(job_id)
        if job is None or not 0 <= index < job.total:
            return None
        return self.root / job_id / "in" / job.files[index].input

    def manifest(self, job: Job) -> dict[str, Any]:
        return {"job": job.id, "options": job.options, "look": job.look, "total": job.total, "done": job.done,
                "failed": job.failed, "finished": job.finished,
                "files": [{"name": f.name, "output": f.output if f.status == "done" else None, "status": f.status,
                           "ok": {"done": True, "failed": False}.get(f.status), "error": f.error,
                           **(f.result or {})} for f in job.files]}

    def zip_path(self, job: Job) -> Path:
        """result.zip: every done output and manifest.json. Made once a job is finished (and kept); made afresh
        for each request while it runs."""
        folder = self.root / job.id
        path = folder / ("result.zip" if job.finished else f"partial-{secrets.token_hex(6)}.zip")
        if job.finished and path.exists():
            return path
        tmp = path.with_name(path.name + ".part")
        with zipfile.ZipFile(tmp, "w") as z:
            for f in job.files:
                if f.status == "done":
                    z.write(folder / "out" / f.output, f.output, compress_type=zipfile.ZIP_STORED)  # already packed
            z.writestr("manifest.json", json.dumps(self.manifest(job), indent=2), compress_type=zipfile.ZIP_DEFLATED)
        tmp.replace(path)
        return path

    def purge(self) -> int:
        """Finished jobs older than keep_s deleted, with their files; folders no job owns (an upload cut off
        before its job was recorded) too. Returns how many jobs went."""
        cutoff = time.time() - self.keep_s
        with self._lock:
            old = [r[0] for r in self._db.execute(
                "SELECT id FROM jobs WHERE updated < ? AND open = 0 AND NOT EXISTS "
                "(SELECT 1 FROM files WHERE files.job = jobs.id AND status = 'pending')", (cutoff,))]
            for job_id in old:
                self._db.execute("DELETE FROM files WHERE job = ?", (job_id,))
                self._db.execute("DELETE FROM jobs WHERE id = ?", (job_id,))
            known = {r[0] for r in self._db.execute("SELECT id FROM jobs")}
        for folder in self.root.iterdir():
            if folder.is_dir() and (folder.name in old or (
                    folder.name not in known and time.time() - folder.stat().st_mtime > 3600)):
                shutil.rmtree(folder, ignore_errors=True)
        return len(old)

    # ---- single photos

    def retouch_one(self, data: bytes, name: str, options: RetouchOptions) -> Future[tuple[bytes, dict[str, Any]]]:
        """One photo, ahead of the batches; the future gives (encoded, meta) or raises InputError."""
        future: Future[tuple[bytes, dict[str, Any]]] = Future()
        self._singles.put((data, name, asdict(options), future))
        self._wake.set()
        return future

    # ---- the runner

    @property
    def held(self) -> bool:
        """Whether the work waits now (`hold()`: live sessions are connected)."""
        return HOLDABLE and bool(self.hold())

    @property
    def worker_pid(self) -> int | None:
        """The worker process's id while one runs (it stays a while after its last photo)."""
        with self._worker_lock:
            return None if self._worker is None else self._worker.process.pid

    def start(self) -> None:
        """Begin working (again): pending files of earlier runs first, oldest job first."""
        if self._thread is None:
            self.purge()
            self._thread = threading.Thread(target=self._loop, name="tryon-retouch-jobs", daemon=True)
            self._thread.start()

    def close(self) -> None:
        """Stop: the photo in the worker is abandoned (still pending: done again on the next start)."""
        self._stop.set()
        self._wake.set()
        self._stop_worker()
        if self._thread is not None:
            self._thread.join(15)
            self._thread = None
        while not self._singles.empty():
            self._singles.get_nowait()[3].set_exception(TryOnError("the server is shutting down; send it again"))
        with self._lock:
            self._db.close()

    def _next_file(self) -> tuple[str, int, str, str, str, dict[str, Any], str | None] | None:
        """The oldest job's next pending photo, of jobs whose uploads are all in (the look needs them all)."""
        with self._lock:
            self._db.execute("UPDATE jobs SET open = 0 WHERE open = 1 AND updated < ?", (time.time() - OPEN_GRACE_S,))
            row = self._db.execute(
                "SELECT f.job, f.idx, f.name, f.input, f.output, j.options, j.look FROM files f "
                "JOIN jobs j ON j.id = f.job WHERE f.status = 'pending' AND j.open = 0 ORDER BY j.created, f.idx "
                "LIMIT 1").fetchone()
        return None if row is None else (row[0], row[1], row[2], row[3], row[4], json.loads(row[5]), row[6])

    def _job_look(self, job_id: str) -> str:
        """The job's shared look as stored JSON ("null": none), measured in the worker the first time."""
        with self._lock:
            photos = [(str(self.root / job_id / "in" / src), name) for src, name in self._db.execute(
                "SELECT input, name FROM files WHERE job = ? ORDER BY idx", (job_id,))]
        look = None
        if len(photos) > 1:
            ok, value = self._call(("look", photos), self.photo_timeout_s + LOOK_S_PER_PHOTO * len(photos))
            look = value if ok else None
        stored = json.dumps(look)
        if not self._stop.is_set():
            with self._lock:
                self._db.execute("UPDATE jobs SET look = ? WHERE id = ?", (stored, job_id))
        return stored

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                single = self._singles.get_nowait()
            except queue.Empty:
                single = None
            if single is not None:
                data, name, fields, future = single
                if future.set_running_or_notify_cancel():
                    ok, value = self._call(("bytes", data, name, fields), self.photo_timeout_s, holdable=False)
                    if ok:
                        future.set_result(value)
                    else:
                        future.set_exception(InputError(value))
                continue
            pending = self._next_file()
            if pending is None:
                self._wake.wait(5.0)
                self._wake.clear()
                self._stop_idle_worker()
                continue
            job_id, idx, name, src, out, fields, look = pending
            if look is None:
                look = self._job_look(job_id)
                if self._stop.is_set():
                    return
            folder = self.root / job_id
            self._current = (job_id, idx)
            try:
                ok, value = self._call(("file", str(folder / "in" / src), name, fields, json.loads(look),
                                        str(folder / "out" / out)), self.photo_timeout_s)
            except PreemptedError:  # a single photo came while this file was held: the file stays pending
                self._stop_worker()
                self._current = None
                continue
            if self._stop.is_set():
                return  # cut off by close(): the file stays pending
            with self._lock:
                if ok:
                    self._db.execute("UPDATE files SET status = 'done', result = ?, error = NULL WHERE job = ? AND "
                                     "idx = ?", (json.dumps(value), job_id, idx))
                else:
                    self._db.execute("UPDATE files SET status = 'failed', error = ? WHERE job = ? AND idx = ?",
                                     (value, job_id, idx))
                self._db.execute("UPDATE jobs SET updated = ? WHERE id = ?", (time.time(), job_id))
            self._current = None
            if not ok:
                log.info("retouch job %s: %s failed: %s", job_id, name, value)

    def _call(self, task: tuple[Any, ...], timeout_s: float, holdable: bool = True) -> tuple[bool, Any]:
        """The task in the worker (started when needed); a worker that hangs or dies is replaced. holdable: whether
        live sessions hold it (batch files), or not (single photos)."""
        try:
            with self._worker_lock:
                if self._worker is None:
                    self._worker = Worker(self.nice, self.idle, self.hold, lambda: not self._singles.empty())
                worker = self._worker
            return worker.call(task, timeout_s, holdable)
        except InputError as e:  # past its time
            self._stop_worker()
            return False, str(e)
        except (EOFError, OSError, TryOnError) as e:
            self._stop_worker()
            if self._stop.is_set():
                return False, "the server stopped"
            log.warning("the retouch worker stopped: %s", e)
            return False, "the retouch worker stopped while working on this photo (out of memory?); send it again"

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


def _output_name(name: str, ext: str, taken: set[str]) -> str:
    """NAME's stem, made safe for a URL and a zip, with the result's extension; unique within the job."""
    stem = _SAFE.sub("_", PurePosixPath(name).stem).strip("._") or "photo"
    candidate, n = f"{stem}.{ext}", 2
    while candidate in taken:
        candidate, n = f"{stem}-{n}.{ext}", n + 1
    taken.add(candidate)
    return candidate
