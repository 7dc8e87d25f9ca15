"""Lookbook jobs: pieces and uploaded model photos in, on-model pictures, a contact sheet and a manifest out, made
by `tryon lookbook`'s own batch (tryon.studio.lookbook_batch) in the retouch studio's kind of worker process.

What is kept, under `root` (the server's data_dir/lookbook):
    JOB/job.json          the job: pieces, picture size, model photo names, state (queued | running | finished |
                          failed, with the reason), times; written whole (a temporary file renamed)
    JOB/models/NAME       the uploaded model photos, written before job.json names them
    JOB/out/...           what `tryon lookbook` writes: ITEM/MODEL.jpg, contact.png, manifest.json

The batch's manifest is the progress (rewritten whole after each model photo), and the batch resumes by itself, so a
job survives a restart: on start-up the runner takes the jobs that are not finished again, oldest first, and the
pairs already made are not made again. One dispatcher thread hands one job at a time to one worker process
(tryon.server.retouch_worker.Worker: spawned, lowest priority, held while live sessions are connected, given up
past its CPU time); the worker keeps its pipeline from job to job. Finished jobs go after `keep_s`.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
import shutil
import threading
import time
from dataclasses import asdict
from pathlib import Path, PurePosixPath
from typing import Any

from tryon import media
from tryon.errors import InputError, TryOnError
from tryon.server.retouch_worker import HOLDABLE, Worker
from tryon.studio.lookbook_batch import CONTACT, MANIFEST, SIZE_RANGE, Setup

log = logging.getLogger(__name__)

JOB_ID_BYTES = 16  # 128 random bits: the id is the only key to a job's results (reading them needs no token)
JOB_FILE = "job.json"
START_S = 120.0  # CPU seconds a job's batch may spend beyond its photos' (the survey, the contact sheet)
WORKER_IDLE_S = 60.0  # a worker with no job this long is stopped
MAX_NAME_CHARS = 120
_SAFE = re.compile(r"[^A-Za-z0-9._-]+")
_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")


def model_name(raw: str | None, index: int, taken: set[str]) -> str:
    """An upload's file name, safe on disk and in a URL, unique within the job (photo-N.jpg when it has none)."""
    base = PurePosixPath((raw or "").replace("\\", "/")).name.strip()[-MAX_NAME_CHARS:]
    stem, suffix = PurePosixPath(base).stem, PurePosixPath(base).suffix.lower()
    stem = _SAFE.sub("_", stem).strip("._") or f"photo-{index + 1}"
    suffix = suffix if suffix in media.IMAGE_EXTS else ".jpg"
    name, n = f"{stem}{suffix}", 2
    while name.lower() in taken:
        name, n = f"{stem}-{n}{suffix}", n + 1
    taken.add(name.lower())
    return name


class LookbookJobs:
    """The jobs on disk and the runner that works through them. `start()` begins (and resumes) the work; `close()`
    stops it, leaving the job in hand to be resumed on the next start. `hold()`: while true (live sessions are
    connected) the worker is stopped where it stands."""

    def __init__(self, root: Path, setup: Setup, *, max_files: int = 200, photo_timeout_s: float = 120.0,
                 keep_s: float = 7 * 86400, nice: int = 19, idle: bool = True, hold: Any = None) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.setup = setup
        self.max_files = int(max_files)
        self.photo_timeout_s = float(photo_timeout_s)
        self.keep_s = float(keep_s)
        self.nice, self.idle = int(nice), bool(idle)
        self.hold = hold or (lambda: False)
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._worker: Worker | None = None
        self.current: str | None = None

    # ---- jobs

    def create(self, specs: list[str], files: list[tuple[str | None, bytes]], size_px: int) -> str:
        """A new job of these pieces (checked by the caller) on these (name, bytes) model photos; its id.
        InputError for no photos, too many, or a size out of range."""
        if not files:
            raise InputError("no model photos were sent: add them as 'files' fields")
        if len(files) > self.max_files:
            raise InputError(f"a lookbook job takes at most {self.max_files} model photos ({len(files)} sent)")
        if not SIZE_RANGE[0] <= size_px <= SIZE_RANGE[1]:
            raise InputError(f"size {size_px}: pictures are {SIZE_RANGE[0]} to {SIZE_RANGE[1]} px")
        job_id = secrets.token_urlsafe(JOB_ID_BYTES)
        folder = self.root / job_id
        (folder / "models").mkdir(parents=True)
        taken: set[str] = set()
        names = []
        for i, (raw, data) in enumerate(files):
            name = model_name(raw, i, taken)
            (folder / "models" / name).write_bytes(data)
            names.append(name)
        now = time.time()
        self._save(job_id, {"id": job_id, "created": now, "updated": now, "items": specs, "size": size_px,
                            "models": names, "state": "queued", "error": None})
        self._wake.set()
        self.purge()
        return job_id

    def _read(self, job_id: str) -> dict[str, Any] | None:
        """job.json's fields; None for no such job."""
        if not _ID.match(job_id):
            return None
        try:
            job: dict[str, Any] = json.loads((self.root / job_id / JOB_FILE).read_text())
        except (OSError, ValueError):
            return None
        return job

    def get(self, job_id: str) -> dict[str, Any] | None:
        """The job (job.json's fields) with `pairs`: its manifest's pairs so far (empty before it starts)."""
        job = self._read(job_id)
        if job is None:
            return None
        try:
            manifest = json.loads((self.root / job_id / "out" / MANIFEST).read_text())
            job["pairs"] = manifest.get("pairs", [])
        except (OSError, ValueError):
            job["pairs"] = []
        return job

    def file_path(self, job_id: str, name: str) -> Path | None:
        """A result on disk: a done pair's picture (ITEM/MODEL.jpg), or the contact sheet and the manifest once the
        job is finished; None otherwise."""
        job = self.get(job_id)
        if job is None:
            return None
        out = self.root / job_id / "out"
        if name in (CONTACT, MANIFEST):
            return out / name if job["state"] == "finished" and (out / name).is_file() else None
        for pair in job["pairs"]:
            if pair.get("status") == "done" and pair.get("output") == name and (out / name).is_file():
                return out / name
        return None

    def _save(self, job_id: str, job: dict[str, Any]) -> None:
        media.write_bytes(self.root / job_id / JOB_FILE, json.dumps(job, indent=1).encode())

    def _update(self, job_id: str, **fields: Any) -> None:
        with self._lock:
            job = json.loads((self.root / job_id / JOB_FILE).read_text())
            job.update(fields, updated=time.time())
            self._save(job_id, job)

    def purge(self) -> int:
        """Finished (or failed) jobs older than keep_s deleted with their files; folders without a job.json older
        than an hour (an upload cut off) too. How many jobs went."""
        gone = 0
        for folder in self.root.iterdir():
            if not folder.is_dir():
                continue
            try:
                job = json.loads((folder / JOB_FILE).read_text())
                old = job["state"] in ("finished", "failed") and job["updated"] < time.time() - self.keep_s
            except (OSError, ValueError, KeyError):
                old = time.time() - folder.stat().st_mtime > 3600
            if old:
                shutil.rmtree(folder, ignore_errors=True)
                gone += 1
        return gone

    # ---- the runner

    @property
    def held(self) -> bool:
        return HOLDABLE and bool(self.hold())

    def start(self) -> None:
        if self._thread is None:
            self.purge()
            self._thread = threading.Thread(target=self._loop, name="tryon-lookbook-jobs", daemon=True)
            self._thread.start()

    def close(self) -> None:
        """Stop: the job in hand stays unfinished and is resumed on the next start."""
        self._stop.set()
        self._wake.set()
        self._stop_worker()
        if self._thread is not None:
            self._thread.join(15)
            self._thread = None

    def _next(self) -> dict[str, Any] | None:
        waiting = []
        for folder in self.root.iterdir():
            job = self._read(folder.name) if folder.is_dir() else None
            if job is not None and job.get("state") in ("queued", "running"):
                waiting.append(job)
        return min(waiting, key=lambda j: j["created"]) if waiting else None

    def _loop(self) -> None:
        while not self._stop.is_set():
            job = self._next()
            if job is None:
                self._wake.wait(5.0)
                self._wake.clear()
                if self._worker is not None and time.monotonic() - self._worker.last_used > WORKER_IDLE_S:
                    self._stop_worker()  # its memory (a pipeline, MediaPipe's graphs) given back
                continue
            job_id = job["id"]
            self.current = job_id
            self._update(job_id, state="running")
            folder = self.root / job_id
            task = ("lookbook", asdict(self.setup), job["items"], str(folder / "models"), str(folder / "out"),
                    int(job["size"]))
            ok, value = self._call(task, START_S + self.photo_timeout_s * len(job["models"]))
            self.current = None
            if self._stop.is_set():
                return  # cut off by close(): resumed on the next start
            if ok:
                self._update(job_id, state="finished", error=None, summary=value)
            else:
                log.info("lookbook job %s failed: %s", job_id, value)
                self._update(job_id, state="failed", error=value)

    def _call(self, task: tuple[Any, ...], timeout_s: float) -> tuple[bool, Any]:
        try:
            if self._worker is None:
                self._worker = Worker(self.nice, self.idle, self.hold)
            return self._worker.call(task, timeout_s)
        except InputError:  # past its CPU time
            self._stop_worker()
            return False, f"the job took more than {timeout_s:g} s of CPU time and was stopped"
        except (EOFError, OSError, TryOnError) as e:
            self._stop_worker()
            if self._stop.is_set():
                return False, "the server stopped"
            log.warning("the lookbook worker stopped: %s", e)
            return False, "the worker stopped while making this job (out of memory?); send it again"

    def _stop_worker(self) -> None:
        worker, self._worker = self._worker, None
        if worker is not None:
            worker.stop()
