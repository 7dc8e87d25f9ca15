"""Retouch jobs: many product photos in, catalog-ready photos out, as jobs of the job engine (tryon.server.jobs).

This is the retouch studio's view of the engine's `retouch` jobs: one unit per photo (its spec: the upload at
in/NNNNN.EXT, its name, its output out/NAME.EXT), the job's options {"retouch": RetouchOptions' fields,
"same_look": bool, "look": the shared look or None}, and the HTTP API's words for them (files, pending, done,
failed, cancelled). What is kept, under the shared files directory's retouch/ (data_dir/retouch by default):
    JOB/in/NNNNN.EXT      the uploads, written to disk before the job is recorded
    JOB/out/NAME.EXT      the results, linked in whole before the photo is marked done
and the job's rows in the jobs' database. So a job survives a restart, and a worker's death: done photos are never
redone. A job asked for one look (same_look) gets the median of its photos' exposure and white point (as `tryon
retouch --same-look` gives a batch), measured once its uploads are all in and kept with the job, so the photos done
after a restart match those done before. Finished jobs go after the engine's keep_s. Jobs a server kept before the
engine (their own data_dir/retouch/jobs.sqlite3) are taken into the engine's database on the first start
(`import_legacy`), their files where they are.

Where the photos are retouched is the engine's affair: by default this server's own worker process (lowest
priority, stopped while a live session is connected, a CPU-time limit per photo; single photos ahead of the
batches), with TRYON_BROKER_URL the cluster's `tryon worker`s. Single photos (POST /api/retouch) always go to this
server's own worker process, ahead of the batches' photos.
"""

from __future__ import annotations

import contextlib
import json
import re
import sqlite3
from concurrent.futures import Future
from dataclasses import asdict, dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from tryon.errors import InputError
from tryon.retouch.types import RetouchOptions
from tryon.server.db import IntegrityError
from tryon.server.job_kinds import retouch_options
from tryon.server.jobs import Job as EngineJob
from tryon.server.jobs import JobClosedError, Jobs, NewUnit, open_job_database

KIND = "retouch"
MAX_NAME_CHARS = 120
CONTENT_TYPES = {"jpg": "image/jpeg", "png": "image/png", "webp": "image/webp"}
_SAFE = re.compile(r"[^A-Za-z0-9._-]+")

__all__ = ["CONTENT_TYPES", "Job", "JobClosedError", "JobFile", "RetouchJobs", "display_name"]


@dataclass(frozen=True)
class JobFile:
    """One photo of a job. `status`: pending (also while a worker has it) | done | failed | cancelled. `output`:
    the result's file name in the job (also the name the file gets in result.zip). `result`: on done, {"checks",
    "passed", "metal", "steps"}."""

    index: int
    name: str
    output: str
    status: str
    error: str | None = None
    result: dict[str, Any] | None = None
    input: str = ""  # the upload's file name in the job's in/ folder
    attempts: int = 0


@dataclass(frozen=True)
class Job:
    id: str
    created: float  # unix seconds
    options: dict[str, Any]  # RetouchOptions' fields
    open: bool  # more uploads may follow
    files: tuple[JobFile, ...]
    current: int | None = None  # the index of the photo a worker has now
    look: dict[str, Any] | None = None  # the look its photos share (Look's fields), once measured; None: their own
    cancelled: bool = False

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
        return not self.open and all(f.status in ("done", "failed", "cancelled") for f in self.files)


def display_name(name: str | None, index: int) -> str:
    """The upload's own file name without any folder part, or photo-N when it has none."""
    base = PurePosixPath((name or "").replace("\\", "/")).name.strip()
    return base[-MAX_NAME_CHARS:] or f"photo-{index + 1}"


def _view(job: EngineJob) -> Job:
    files = []
    for u in job.units:
        result = dict(u.result or {})
        result.pop("output", None)
        files.append(JobFile(u.index, u.name, PurePosixPath(str(u.spec.get("output", ""))).name,
                             "pending" if u.status == "running" else u.status, u.error,
                             result if u.status == "done" else None, PurePosixPath(str(u.spec.get("input", ""))).name,
                             u.attempts))
    look = (job.unit_options or {}).get("look") if job.options.get("same_look") else None
    return Job(job.id, job.created, dict(job.options.get("retouch") or {}), job.open, tuple(files), job.current, look,
               job.cancelled)


class RetouchJobs:
    """The retouch studio's jobs on an engine (`jobs`, the server's; or, with none given, an engine of its own on
    SQLite and files under `root`, which `start()` and `close()` then run and stop). `hold()`: while it is true
    (the server has live sessions) the local worker is stopped where it stands."""

    def __init__(self, root: Path, *, max_files: int = 200, photo_timeout_s: float = 120.0, keep_s: float = 7 * 86400,
                 nice: int = 19, idle: bool = True, hold: Any = None, jobs: Jobs | None = None) -> None:
        self.max_files = int(max_files)
        self.photo_timeout_s = float(photo_timeout_s)
        if jobs is None:
            from tryon.config import Settings

            settings = Settings(data_dir=Path(root), media_dir=None, database_url=None, broker_url=None,
                                max_retouch_s=photo_timeout_s, retouch_keep_s=max(1, int(keep_s)), retouch_nice=nice,
                                retouch_idle=idle)
            jobs = Jobs(open_job_database(settings), settings, hold=hold)
            self._owns = True
        else:
            self._owns = False
        self.jobs = jobs
        if Path(root).resolve() == (jobs.root / KIND).resolve():
            import_legacy(Path(root), jobs)

    # ---- jobs

    def create(self, files: list[tuple[str | None, bytes]], options: RetouchOptions, more: bool = False,
               same_look: bool = False) -> str:
        """A new job of these (name, bytes) uploads; returns its id. With `more`, further uploads may follow
        (`append`) and the job is not finished until one comes without it. same_look: its photos take their
        median look (pieces from one shoot; as `tryon retouch --same-look`); else each keeps its own. InputError
        past `max_files`."""
        self._check_count(0, len(files))
        units = self._units(0, files, options, set())
        return self.jobs.create(KIND, {"retouch": asdict(options), "same_look": bool(same_look), "look": None},
                                units, open=more, prepare=same_look)

    def append(self, job_id: str, files: list[tuple[str | None, bytes]], more: bool = False) -> None:
        """More uploads for an open job. KeyError: no such job; InputError past `max_files`; JobClosedError: the
        job took its last upload."""
        job = self.get(job_id)
        if job is None:
            raise KeyError(job_id)
        if not job.open:
            raise JobClosedError("this job took its last upload already; start a new job")
        self._check_count(job.total, len(files))
        self.jobs.append(job_id, self._units(job.total, files, retouch_options(job.options), {f.output for f in job.files}),
                         open=more)

    def _check_count(self, have: int, adding: int) -> None:
        if adding == 0:
            raise InputError("no photos were sent: add them as 'files' fields")
        if have + adding > self.max_files:
            raise InputError(f"a job takes at most {self.max_files} photos ({have + adding} sent); split the batch "
                             "into several jobs")

    @staticmethod
    def _units(start: int, files: list[tuple[str | None, bytes]], options: RetouchOptions,
               taken: set[str]) -> list[NewUnit]:
        units = []
        for i, (raw_name, data) in enumerate(files, start):
            name = display_name(raw_name, i)
            suffix = _SAFE.sub("", PurePosixPath(name).suffix.lower())[:8]
            spec = {"input": f"in/{i:05d}{suffix}", "name": name,
                    "output": f"out/{_output_name(name, options.ext, taken)}"}
            units.append(NewUnit(name, spec, data))
        return units

    def get(self, job_id: str) -> Job | None:
        job = self.jobs.get(job_id)
        return None if job is None or job.kind != KIND else _view(job)

    def cancel(self, job_id: str) -> bool:
        """Its photos not done yet cancelled; False: no such job."""
        return self.get(job_id) is not None and self.jobs.cancel(job_id)

    def retry(self, job_id: str, indexes: list[int] | None = None) -> list[int]:
        """Its failed and cancelled photos (all, or these) retouched again; which. KeyError: no such job."""
        if self.get(job_id) is None:
            raise KeyError(job_id)
        return self.jobs.retry(job_id, indexes)

    def _engine_job(self, job_id: str) -> EngineJob | None:
        job = self.jobs.get(job_id)
        return job if job is not None and job.kind == KIND else None

    def output_path(self, job_id: str, output: str) -> Path | None:
        """A done file's result on disk, by its output name; None when there is none (yet)."""
        job = self._engine_job(job_id)
        if job is None:
            return None
        for u in job.units:
            if u.status == "done" and PurePosixPath(str(u.spec.get("output", ""))).name == output:
                return self.jobs.file_path(job, str(u.spec["output"]))
        return None

    def input_path(self, job_id: str, index: int) -> Path | None:
        """A photo as uploaded, by its index in the job; None when there is no such photo."""
        job = self._engine_job(job_id)
        if job is None or not 0 <= index < job.total:
            return None
        return self.jobs.file_path(job, str(job.units[index].spec.get("input", "")))

    def manifest(self, job: Job) -> dict[str, Any]:
        return {"job": job.id, "options": job.options, "look": job.look, "total": job.total, "done": job.done,
                "failed": job.failed, "finished": job.finished,
                "files": [{"name": f.name, "output": f.output if f.status == "done" else None, "status": f.status,
                           "ok": {"done": True, "failed": False}.get(f.status), "error": f.error,
                           **(f.result or {})} for f in job.files]}

    def zip_path(self, job: Job) -> Path:
        """result.zip: every done output and manifest.json. Made once a job is finished (and kept); made afresh
        for each request while it runs."""
        engine = self._engine_job(job.id)
        assert engine is not None
        return self.jobs.zip_path(engine, self.manifest(job), lambda u: [str(u.spec.get("output", ""))])

    def purge(self) -> int:
        return self.jobs.purge()

    # ---- single photos

    def retouch_one(self, data: bytes, name: str, options: RetouchOptions) -> Future[tuple[bytes, dict[str, Any]]]:
        """One photo, ahead of the batches, in this server's own worker process; the future gives (encoded, meta)
        or raises InputError."""
        future: Future[tuple[bytes, dict[str, Any]]] = self.jobs.run_single(("bytes", data, name, asdict(options)),
                                                                             self.photo_timeout_s)
        return future

    # ---- the engine

    @property
    def held(self) -> bool:
        """Whether the local work waits now (live sessions are connected)."""
        return self.jobs.held

    @property
    def worker_pid(self) -> int | None:
        """The local worker process's id while one runs (it stays a while after its last photo)."""
        return self.jobs.worker_pid

    def start(self) -> None:
        """Begin working (again), when the engine is this object's own (the server starts its own)."""
        if self._owns:
            self.jobs.start()

    def close(self) -> None:
        if self._owns:
            self.jobs.close()


LEGACY_DB = "jobs.sqlite3"  # the retouch jobs' own SQLite before the job engine, in data_dir/retouch


def import_legacy(root: Path, jobs: Jobs) -> int:
    """Retouch jobs kept by a server from before the job engine (root/jobs.sqlite3, their files in root/JOB/in and
    out, where the engine keeps them too) taken into the engine's database, once: the file is renamed
    jobs.sqlite3.imported afterwards. Done photos stay done, pending ones are done by the engine. How many jobs."""
    path = root / LEGACY_DB
    if not path.is_file():
        return 0
    old = sqlite3.connect(str(path))
    try:
        tables = {r[0] for r in old.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if not {"jobs", "files"} <= tables:
            return 0
        rows = old.execute("SELECT id, created, updated, options, open, look FROM jobs").fetchall()
        files = old.execute("SELECT job, idx, name, input, output, status, error, result FROM files "
                            "ORDER BY job, idx").fetchall()
    finally:
        old.close()
    known = {r[0] for r in jobs.db.execute("SELECT id FROM job WHERE kind = ?", (KIND,)).rows}
    count = 0
    for job_id, created, updated, options, is_open, look in rows:
        if job_id in known or not (root / job_id).is_dir():
            continue
        same_look = look is None or look != "null"  # NULL: to be measured; "null": each photo its own
        opts = {"retouch": json.loads(options), "same_look": same_look, "look": None}
        unit_options = None if look is None else {**opts, "look": json.loads(look)}
        try:
            _import_job(jobs, job_id, created, updated, opts, unit_options, is_open,
                        [f for f in files if f[0] == job_id])
        except IntegrityError:  # another server sharing the folder took it in just now
            continue
        count += 1
    with contextlib.suppress(OSError):  # another server sharing the folder renamed it just now
        path.rename(path.with_name(LEGACY_DB + ".imported"))
    return count


def _import_job(jobs: Jobs, job_id: str, created: float, updated: float, opts: dict[str, Any],
                unit_options: dict[str, Any] | None, is_open: int, files: list[tuple[Any, ...]]) -> None:
    """One legacy job and its photos as the engine's rows, in one transaction."""
    with jobs.db.transaction() as tx:
        tx.execute("INSERT INTO job (id, kind, created, updated, options, unit_options, open, cancelled) "
                   "VALUES (?, ?, ?, ?, ?, ?, ?, 0)",
                   (job_id, KIND, created, updated, json.dumps(opts),
                    None if unit_options is None else json.dumps(unit_options), int(is_open)))
        for _, idx, name, stored, output, status, error, result in files:
            done = dict(json.loads(result)) if result else None
            if done is not None:
                done["output"] = f"out/{output}"
            spec = {"input": f"in/{stored}", "name": name, "output": f"out/{output}"}
            tx.execute("INSERT INTO job_unit (job, idx, name, spec, status, attempts, error, result) VALUES "
                       "(?, ?, ?, ?, ?, ?, ?, ?)",
                       (job_id, idx, name, json.dumps(spec), status, 0 if status == "pending" else 1, error,
                        None if done is None else json.dumps(done)))


def _output_name(name: str, ext: str, taken: set[str]) -> str:
    """NAME's stem, made safe for a URL and a zip, with the result's extension; unique within the job."""
    stem = _SAFE.sub("_", PurePosixPath(name).stem).strip("._") or "photo"
    candidate, n = f"{stem}.{ext}", 2
    while candidate in taken:
        candidate, n = f"{stem}-{n}.{ext}", n + 1
    taken.add(candidate)
    return candidate
