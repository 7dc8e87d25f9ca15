"""Lookbook jobs: pieces and uploaded model photos in, on-model pictures, a contact sheet and a manifest out, as
`tryon lookbook` makes them; jobs of the job engine (tryon.server.jobs), one unit per model photo (every piece on
it, the photo tracked once: tryon.server.job_kinds), so a job's photos spread over every worker of a cluster.

What is kept: the job and its units in the jobs' database; its files in files_dir/lookbook/JOB/:
    models/NAME           the uploaded model photos (written before the job is recorded)
    look.json             the looks (each photo's, and the set's median that every picture is brought to),
                          measured once before the first picture (job_kinds.prepare_job)
    out/ITEM/MODEL.jpg    the pictures, each written whole by its unit
    out/contact.png, out/manifest.json   made once every unit is settled (job_kinds.finish_job), on first asking

This is the lookbook view of those jobs for POST/GET /api/lookbook: the job as `tryon lookbook`'s manifest shows
it (pairs of piece and model photo: done, skipped with the reason, failed with the reason, pending). The work,
its retries and its survival of a restart or a worker's death are the engine's.
"""

from __future__ import annotations

import re
from pathlib import Path, PurePosixPath
from typing import Any

from tryon import media
from tryon.errors import InputError
from tryon.server import job_kinds
from tryon.server.jobs import Jobs, NewUnit
from tryon.studio.lookbook_batch import CONTACT, MANIFEST, SIZE_RANGE

KIND = "lookbook"
MAX_NAME_CHARS = 120
_SAFE = re.compile(r"[^A-Za-z0-9._-]+")
# The engine's job states as a lookbook shows them.
STATES = {"open": "queued", "queued": "queued", "running": "running", "finished": "finished",
          "cancelled": "cancelled"}


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
    """Lookbook jobs on `jobs` (the server's job engine). Thread-safe as the engine is; blocking (call it off the
    event loop)."""

    def __init__(self, jobs: Jobs, *, max_files: int = 200) -> None:
        self.jobs = jobs
        self.max_files = int(max_files)

    @property
    def held(self) -> bool:
        """Whether the work waits now for live sessions (this server's own worker)."""
        return self.jobs.held

    def create(self, specs: list[str], files: list[tuple[str | None, bytes]], size_px: int) -> str:
        """A new job of these pieces (checked by the caller) on these (name, bytes) model photos; its id.
        InputError for no photos, too many, or a size out of range."""
        if not files:
            raise InputError("no model photos were sent: add them as 'files' fields")
        if len(files) > self.max_files:
            raise InputError(f"a lookbook job takes at most {self.max_files} model photos ({len(files)} sent)")
        if not SIZE_RANGE[0] <= size_px <= SIZE_RANGE[1]:
            raise InputError(f"size {size_px}: pictures are {SIZE_RANGE[0]} to {SIZE_RANGE[1]} px")
        taken: set[str] = set()
        names = [model_name(raw, i, taken) for i, (raw, _) in enumerate(files)]
        units = [NewUnit(name=n, spec={"model": n, "input": f"models/{n}"}, data=data)
                 for n, (_, data) in zip(names, files, strict=True)]
        options = {"items": list(specs), "size": int(size_px), "models": names}
        return self.jobs.create(KIND, options, units, prepare=True)

    def _job(self, job_id: str) -> Any:
        job = self.jobs.get(job_id)
        return job if job is not None and job.kind == KIND else None

    def get(self, job_id: str) -> dict[str, Any] | None:
        """The job as the lookbook API shows it: id, state (queued | running | finished | cancelled), error, items,
        models, size, and `pairs`: the settled pairs so far (a unit that failed as a whole fails its photo's pairs
        with its reason). None for no such lookbook job."""
        job = self._job(job_id)
        if job is None:
            return None
        if job.finished:
            self._finish(job)
        opts = job.options
        pairs: list[dict[str, Any]] = []
        for unit in job.units:
            if unit.status == "done":
                pairs += (unit.result or {}).get("pairs", [])
            elif unit.status in ("failed", "cancelled"):
                pairs += [{"model": unit.name, "item": s, "output": None, "status": "failed",
                           "reason": unit.error or unit.status} for s in opts["items"]]
        return {"id": job.id, "state": STATES.get(job.state, job.state), "error": None, "items": opts["items"],
                "models": opts["models"], "size": opts["size"], "pairs": pairs, "created": job.created,
                "updated": job.updated}

    def file_path(self, job_id: str, name: str) -> Path | None:
        """A result on disk: a done pair's picture (ITEM/MODEL.jpg), or the contact sheet and the manifest once the
        job is finished (made on first asking); None otherwise."""
        job = self._job(job_id)
        if job is None:
            return None
        if name in (CONTACT, MANIFEST):
            if not job.finished:
                return None
            self._finish(job)
            return self.jobs.file_path(job, f"{job_kinds.OUT}/{name}")
        done = {e.get("output") for u in job.units if u.status == "done" for e in (u.result or {}).get("pairs", [])
                if e.get("status") == "done"}
        return self.jobs.file_path(job, f"{job_kinds.OUT}/{name}") if name in done else None

    def _finish(self, job: Any) -> None:
        """A finished job's contact sheet and manifest, made once (again after a retry; written whole)."""
        job_kinds.finished_files(KIND, job.unit_options or job.options, list(job.results), self.jobs.job_dir(job))
