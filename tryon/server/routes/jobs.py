"""Catalog jobs over HTTP: product videos, turntables and catalog builds made from catalog items, as jobs on the
job engine (tryon.server.jobs: this server's own worker process, or `tryon worker`s on other machines); and every
job's progress, files and result.zip, whatever its kind (retouch and lookbook jobs too).

Making, cancelling and retrying a job needs the admin token (each unit costs the CPU the shoppers' live sessions
run on). Reading a job (progress, files, zip) needs only its id, 128 random bits, like a share link.
"""

from __future__ import annotations

import json
import mimetypes
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, HTTPException
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field

from tryon.errors import InputError
from tryon.server import job_kinds
from tryon.server.jobs import Job, NewUnit, Unit
from tryon.server.models import Problem
from tryon.server.state import ServerState, server_state, staff

router = APIRouter(tags=["jobs"])
State = Annotated[ServerState, Depends(server_state)]
PATH = "/api/jobs"
UPLOAD_PATHS: frozenset[str] = frozenset()
ADMIN_ROUTES = frozenset({("POST", PATH)})  # the guard checks these; the per-job POSTs check it here
RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"model": Problem, "description": "an unknown kind, item or option, with the reason"},
    401: {"model": Problem, "description": "wrong token"}, 403: {"model": Problem, "description": "no admin token set"}}


class JobIn(BaseModel):
    """`kind`: product-video, turntable or catalog-build (retouch and lookbook jobs take uploads: POST
    /api/retouch/jobs, /api/lookbook). `items`: catalog item ids, one unit each (catalog-build: none = every
    built-in item). `options`: product-video seconds (3-10), size (even px), style (turn, sweep, push), fps,
    metal; turntable what (turn | stills), seconds (2-6), size, fps, metals ("all" or a list), views (stills)."""

    kind: str = Field(max_length=40)
    items: list[Annotated[str, Field(max_length=200)]] = Field(default_factory=list, max_length=job_kinds.MAX_ITEMS)
    options: dict[str, Any] = Field(default_factory=dict)


class JobCreated(BaseModel):
    id: str
    url: str
    total: int


class UnitOut(BaseModel):
    """One unit: `status` pending, running, done, failed (`error` says why) or cancelled; `files`: its results'
    URLs once done; `result`: what the unit returned (a video's size and frames, a built item's entry...);
    `worker`: the worker that has or had it (local:HOST:PID:... for a server's own, celery:... for a `tryon
    worker`)."""

    index: int
    name: str
    status: str
    attempts: int
    worker: str | None
    error: str | None
    files: list[str]
    result: dict[str, Any] | None


class JobOut(BaseModel):
    """`state`: open (more uploads may follow), queued, running, finished or cancelled. `zip`: every done unit's
    files and manifest.json (while it runs: what is done so far). `extra`: files a finished job has besides its
    units' (a lookbook's contact sheet and manifest, a catalog build's catalog.json). `held`: the work waits while
    live try-on sessions are connected (this server's own worker)."""

    id: str
    kind: str
    state: str
    created: float
    updated: float
    options: dict[str, Any]
    total: int
    done: int
    failed: int
    pending: int
    running: int
    finished: bool
    held: bool
    units: list[UnitOut]
    extra: list[str]
    zip: str


def finished_files(state: ServerState, job: Job) -> list[str]:
    """A finished job's extra files (job_kinds.finish_job), made on first asking and again after a retry (written
    whole; relative to the job's folder). Blocking: call it off the event loop."""
    if job.kind not in job_kinds.FINISH_FILES or not job.finished:
        return []
    return job_kinds.finished_files(job.kind, job.unit_options or job.options, list(job.results),
                                    state.jobs.job_dir(job))


def job_out(job: Job, extra: list[str], held: bool) -> JobOut:
    base = f"{PATH}/{job.id}"
    units = [UnitOut(index=u.index, name=u.name, status=u.status, attempts=u.attempts, worker=u.worker,
                     error=u.error,
                     files=[f"{base}/files/{f}" for f in job_kinds.unit_files(u.result)] if u.status == "done" else [],
                     result=u.result if u.status == "done" else None) for u in job.units]
    return JobOut(id=job.id, kind=job.kind, state=job.state, created=job.created, updated=job.updated,
                  options=job.options, total=job.total, done=job.done, failed=job.failed, pending=job.count("pending"),
                  running=job.count("running"), finished=job.finished, held=held and not job.finished, units=units,
                  extra=[f"{base}/files/{f}" for f in extra], zip=f"{base}/result.zip")


@router.post(PATH, summary="Product videos, turntables or a catalog build as a job; admin token required",
             status_code=202, responses=RESPONSES)
async def create_job(state: State, job: Annotated[JobIn, Body()]) -> JobCreated:
    """Send the token as `Authorization: Bearer TOKEN`. Every item is one unit, made by this server's worker or
    by a `tryon worker` (TRYON_BROKER_URL); follow the job at `url`."""
    try:
        options, specs = job_kinds.check_job(job.kind, job.options, job.items, state.catalog)
        units = [NewUnit(name=s["item"], spec=s) for s in specs]
        job_id = await run_in_threadpool(state.jobs.create, job.kind, options, units)
    except InputError as e:
        raise HTTPException(400, str(e)) from None
    return JobCreated(id=job_id, url=f"{PATH}/{job_id}", total=len(units))


async def _job(state: ServerState, job_id: str) -> Job:
    job = await run_in_threadpool(state.jobs.get, job_id)
    if job is None:
        raise HTTPException(404, "no such job (finished jobs are kept for TRYON_RETOUCH_KEEP_S)")
    return job


@router.get(PATH + "/{job_id}", summary="A job's progress and results", responses={404: {"model": Problem}})
async def get_job(state: State, job_id: str) -> JobOut:
    job = await _job(state, job_id)
    try:
        extra = await run_in_threadpool(finished_files, state, job)
    except InputError as e:  # pragma: no cover - finish_job checks what its own units made
        raise HTTPException(500, f"the job's files could not be made: {e}") from None
    return job_out(job, extra, state.jobs.held)


@router.post(PATH + "/{job_id}/cancel", summary="Cancel a job's units not done yet; admin token required",
             responses={**RESPONSES, 404: {"model": Problem}}, dependencies=[Depends(staff)])
async def cancel_job(state: State, job_id: str) -> JobOut:
    if not await run_in_threadpool(state.jobs.cancel, job_id):
        raise HTTPException(404, "no such job")
    return job_out(await _job(state, job_id), [], state.jobs.held)


@router.delete(PATH + "/{job_id}", summary="Cancel a job (as POST .../cancel); admin token required",
               responses={**RESPONSES, 404: {"model": Problem}}, dependencies=[Depends(staff)])
async def delete_job(state: State, job_id: str) -> JobOut:
    return await cancel_job(state, job_id)


@router.post(PATH + "/{job_id}/retry", summary="Run a job's failed and cancelled units again; admin token required",
             responses={**RESPONSES, 404: {"model": Problem}}, dependencies=[Depends(staff)])
async def retry_job(state: State, job_id: str,
                    index: Annotated[list[int] | None, Body(embed=True)] = None) -> JobOut:
    """`index`: only these units (default: every failed or cancelled one)."""
    try:
        await run_in_threadpool(state.jobs.retry, job_id, index)
    except KeyError:
        raise HTTPException(404, "no such job") from None
    return job_out(await _job(state, job_id), [], state.jobs.held)


@router.get(PATH + "/{job_id}/files/{rel:path}", summary="One file a job made", response_class=FileResponse,
            responses={404: {"model": Problem}})
async def job_file(state: State, job_id: str, rel: str) -> FileResponse:
    """A done unit's file, or a finished job's extra file; nothing else in the job's folder (not its uploads)."""
    job = await _job(state, job_id)
    allowed = {f for u in job.units if u.status == "done" for f in job_kinds.unit_files(u.result)}
    allowed |= set(await run_in_threadpool(finished_files, state, job))
    path = state.jobs.file_path(job, rel) if rel in allowed else None
    if path is None:
        raise HTTPException(404, "no such file (not made yet, not made, or no such job)")
    kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return FileResponse(path, media_type=kind, filename=path.name, content_disposition_type="inline")


def _zip(state: ServerState, job: Job) -> Path:
    extra = finished_files(state, job)
    folder = state.jobs.job_dir(job)
    own = {f: json.loads((folder / f).read_text()) for f in extra if f.endswith("/manifest.json")}
    extra = [f for f in extra if f not in own]  # a lookbook's manifest goes into the zip's, not beside it
    manifest: dict[str, Any] = {"id": job.id, "kind": job.kind, "state": job.state, "options": job.options,
                "units": [{"index": u.index, "name": u.name, "status": u.status, "error": u.error,
                           "result": u.result, "files": job_kinds.unit_files(u.result) if u.status == "done" else []}
                          for u in job.units], "extra": extra}
    if own:
        manifest[job.kind] = next(iter(own.values()))

    def names(unit: Unit) -> list[str]:
        return job_kinds.unit_files(unit.result) + extra  # the zip holds each file once

    return state.jobs.zip_path(job, manifest, names)


@router.get(PATH + "/{job_id}/result.zip", summary="Every file a job made and manifest.json",
            response_class=FileResponse, responses={200: {"content": {"application/zip": {}}},
                                                    404: {"model": Problem}})
async def job_zip(state: State, job_id: str) -> FileResponse:
    """The done units' files (under their paths in out/) and `manifest.json` (each unit: its status, its result
    or its error). While the job runs, the zip holds what is done so far."""
    job = await _job(state, job_id)
    path = await run_in_threadpool(_zip, state, job)
    background = None
    if not job.finished:
        from starlette.background import BackgroundTask

        background = BackgroundTask(path.unlink, missing_ok=True)
    return FileResponse(path, media_type="application/zip", filename=f"{job.kind}-{job_id[:8]}.zip",
                        background=background)
