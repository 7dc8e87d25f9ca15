"""The retouch studio over HTTP: product photos in, catalog-ready photos out, one at a time or as batch jobs.

Making results (the POSTs), cancelling and retrying a job need the admin token, like imports and designs: the
studio is a tool of the brand's staff, and each photo costs seconds of the CPU the shoppers' live sessions run on.
Reading a job (its progress, files and zip) needs only its id, 128 random bits handed to whoever made the job, like
a share link. The jobs are the job engine's (tryon.server.jobs), so the same API works with one server and with many
servers and `tryon worker`s.
"""

from __future__ import annotations

import asyncio
import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, HTTPException, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, Response
from pydantic import BaseModel

from tryon.config import REPO_ROOT
from tryon.errors import InputError
from tryon.retouch.types import BACKGROUNDS, FORMATS, FRAMES, METALS, SHADOWS, RetouchOptions
from tryon.server.models import Problem
from tryon.server.retouch_jobs import CONTENT_TYPES, Job, JobClosedError
from tryon.server.state import ServerState, server_state, staff

router = APIRouter(tags=["retouch"])
State = Annotated[ServerState, Depends(server_state)]
ONE_PATH = "/api/retouch"
JOBS_PATH = "/api/retouch/jobs"
# For the guard: the POSTs take uploads (TRYON_MAX_UPLOAD_MB a request) and the admin token.
UPLOAD_PATHS = frozenset({ONE_PATH, JOBS_PATH})
ADMIN_ROUTES = frozenset({("POST", ONE_PATH), ("POST", JOBS_PATH)})  # and cancel/retry: `staff`, per job path
CHECKS_HEADER = "X-Retouch-Checks"  # JSON: {name: {"ok", "value", "rule"}}
PASSED_HEADER = "X-Retouch-Passed"  # "true" when every check passed
METAL_HEADER = "X-Retouch-Metal"  # the alloy the tone was moved toward, or "none"
INPUT_TYPES = {".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png", ".webp": "image/webp"}

Background = Annotated[str, Form(description=f"{' | '.join(BACKGROUNDS)} | #RRGGBB")]
Shadow = Annotated[str, Form(description=" | ".join(SHADOWS))]
Metal = Annotated[str, Form(description=" | ".join(METALS))]
Frame = Annotated[str, Form(description="fill: centred on a square canvas, 85 % of its side; keep: the photo's "
                                        "own canvas and framing")]
Size = Annotated[str, Form(description="the canvas's longer side in pixels (empty: 2000 for fill, the photo's "
                                       "for keep)")]
Format = Annotated[str, Form(description=f"{' | '.join(FORMATS)} (transparent backgrounds: png)")]
RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"model": Problem, "description": "options or a photo that cannot be used, with the reason"},
    401: {"model": Problem, "description": "wrong token"}, 403: {"model": Problem, "description": "no admin token set"},
    413: {"model": Problem, "description": "the request is larger than TRYON_MAX_UPLOAD_MB"}}


class JobFileOut(BaseModel):
    """`status`: pending (also while a worker has it), done, failed or cancelled. `ok`: true once done, false when
    it failed (`error` says why), null otherwise. `url`: the result; `original`: the photo as uploaded. `attempts`:
    how many times a worker took it (more than one: a worker died while making it)."""

    index: int
    name: str
    status: str
    attempts: int
    ok: bool | None
    error: str | None
    output: str
    url: str | None
    original: str
    checks: dict[str, Any] | None
    passed: bool | None
    metal: str | None


class JobOut(BaseModel):
    """A job's progress: `finished` when no more uploads may follow (`open` false) and no file is pending.
    `current`: the index of the photo being retouched now, if any. `held`: the work waits while live try-on
    sessions are connected (they have the CPU first). `cancelled`: the job was cancelled (its photos not done
    then are `cancelled`; a retry takes them up again). `workers`: where the photos are retouched, "local" (this
    server's own worker process) or "cluster" (`tryon worker`s through TRYON_BROKER_URL)."""

    id: str
    created: float
    options: dict[str, Any]
    open: bool
    cancelled: bool
    workers: str
    total: int
    done: int
    failed: int
    finished: bool
    current: int | None
    held: bool
    files: list[JobFileOut]
    zip: str


class JobCreated(BaseModel):
    id: str
    url: str
    total: int


class RetouchInfo(BaseModel):
    """What the studio page needs before it sends: the choices and the limits."""

    backgrounds: list[str]
    shadows: list[str]
    metals: list[str]
    frames: list[str]
    formats: list[str]
    max_files: int
    max_upload_bytes: int
    admin_token_required: bool


def parse_options(background: str, shadow: str, metal: str, frame: str, size: str, format: str) -> RetouchOptions:
    """The form's fields as RetouchOptions; a 400 naming the bad one."""
    try:
        size_px = int(size) if size.strip() else None
    except ValueError:
        raise HTTPException(400, f"size '{size[:20]}': a whole number of pixels, or empty") from None
    try:
        return RetouchOptions(background=background.strip(), shadow=shadow, metal=metal, frame=frame,
                              size_px=size_px, format=format.lower().replace("jpeg", "jpg"))
    except InputError as e:
        raise HTTPException(400, str(e)) from None


def job_out(job: Job, held: bool, workers: str = "local") -> JobOut:
    base = f"{JOBS_PATH}/{job.id}"
    files = []
    for f in job.files:
        result = f.result or {}
        done = f.status == "done"
        files.append(JobFileOut(
            index=f.index, name=f.name, status=f.status, attempts=f.attempts,
            ok={"done": True, "failed": False}.get(f.status),
            error=f.error, output=f.output, url=f"{base}/files/{f.output}" if done else None,
            original=f"{base}/inputs/{f.index}",
            checks=result.get("checks"), passed=result.get("passed"), metal=result.get("metal")))
    return JobOut(id=job.id, created=job.created, options=job.options, open=job.open, cancelled=job.cancelled,
                  workers=workers, total=job.total, done=job.done,
                  failed=job.failed, finished=job.finished, current=job.current, held=held and not job.finished,
                  files=files, zip=f"{base}/result.zip")


@router.get(ONE_PATH, summary="The retouch studio's choices and limits")
def retouch_info(state: State) -> RetouchInfo:
    s = state.settings
    return RetouchInfo(backgrounds=[*BACKGROUNDS, "#RRGGBB"], shadows=list(SHADOWS), metals=list(METALS),
                       frames=list(FRAMES), formats=list(FORMATS), max_files=s.max_retouch_files,
                       max_upload_bytes=int(s.max_upload_mb * 1024 * 1024), admin_token_required=True)


@router.post(ONE_PATH, summary="One product photo in, the catalog photo out; admin token required",
             response_class=Response, responses={
                 200: {"content": {t: {} for t in CONTENT_TYPES.values()},
                       "description": f"the image; `{CHECKS_HEADER}`: the marketplace checks as JSON"}, **RESPONSES})
async def retouch_one(state: State, file: Annotated[UploadFile, File(description="jpg, png, webp, tiff...")],
                      background: Background = "white", shadow: Shadow = "contact", metal: Metal = "auto",
                      frame: Frame = "fill", size: Size = "", format: Format = "jpg") -> Response:
    """Send the token as `Authorization: Bearer TOKEN`. The photo runs in the retouch worker process (lowered
    priority, ahead of batch jobs). A photo that cannot be used (corrupt, not an image, over
    TRYON_MAX_IMAGE_MEGAPIXELS, no piece to cut out) is a 400 with the reason. The checks come back in
    `X-Retouch-Checks` (JSON), `X-Retouch-Passed` and `X-Retouch-Metal`. While live try-on sessions are connected
    the worker waits (they have the CPU first), and so does the answer."""
    options = parse_options(background, shadow, metal, frame, size, format)
    data = await file.read()  # the guard has held the body to TRYON_MAX_UPLOAD_MB
    try:
        encoded, meta = await asyncio.wrap_future(state.retouch.retouch_one(data, file.filename or "photo", options))
    except InputError as e:
        raise HTTPException(400, str(e)) from None
    return Response(encoded, media_type=CONTENT_TYPES[options.ext], headers={
        CHECKS_HEADER: json.dumps(meta["checks"], separators=(",", ":")),
        PASSED_HEADER: "true" if meta["passed"] else "false", METAL_HEADER: meta["metal"]})


@router.post(JOBS_PATH, summary="A batch of product photos as a job; admin token required", status_code=202,
             responses={404: {"model": Problem, "description": "`job`: no such job"},
                        409: {"model": Problem, "description": "`job`: it took its last upload"}, **RESPONSES})
async def create_job(state: State, request: Request,
                     files: Annotated[list[UploadFile], File(description="the photos")],
                     background: Background = "white", shadow: Shadow = "contact", metal: Metal = "auto",
                     frame: Frame = "fill", size: Size = "", format: Format = "jpg",
                     job: Annotated[str, Form(description="add these photos to this open job (its options hold)")] = "",
                     more: Annotated[bool, Form(description="more uploads for this job follow (a batch larger than "
                                                            "one request may be)")] = False,
                     same_look: Annotated[bool, Form(description="give every photo the batch's median exposure and "
                                                                 "white point (pieces from one shoot)")] = False,
                     ) -> JobCreated:
    """Send the token as `Authorization: Bearer TOKEN`. The photos are saved, then retouched one by one in this
    server's worker process, or by the cluster's `tryon worker`s when TRYON_BROKER_URL is set; follow the job at
    `url` (through any server sharing TRYON_DATABASE_URL). A batch larger than one request (TRYON_MAX_UPLOAD_MB)
    goes in several: the first with `more=true`, then each with `job=ID`, the last without `more`. At most
    TRYON_MAX_RETOUCH_FILES photos a job. A bad photo fails alone, with its reason; the rest go on."""
    uploads = [(f.filename, await f.read()) for f in files]
    jobs = state.retouch
    try:
        if job:
            try:
                await run_in_threadpool(jobs.append, job, uploads, more)
            except KeyError:
                raise HTTPException(404, "no such retouch job") from None
            job_id = job
        else:
            options = parse_options(background, shadow, metal, frame, size, format)
            job_id = await run_in_threadpool(jobs.create, uploads, options, more, same_look)
    except JobClosedError as e:
        raise HTTPException(409, str(e)) from None
    except InputError as e:
        raise HTTPException(400, str(e)) from None
    made = await run_in_threadpool(jobs.get, job_id)
    assert made is not None
    return JobCreated(id=job_id, url=f"{JOBS_PATH}/{job_id}", total=made.total)


async def _job(state: ServerState, job_id: str) -> Job:
    job = await run_in_threadpool(state.retouch.get, job_id)
    if job is None:
        raise HTTPException(404, "no such retouch job (finished jobs are kept for TRYON_RETOUCH_KEEP_S)")
    return job


@router.get(JOBS_PATH + "/{job_id}", summary="A retouch job's progress and results",
            responses={404: {"model": Problem}})
async def get_job(state: State, job_id: str) -> JobOut:
    return _out(state, await _job(state, job_id))


Staff = Depends(staff)


def _out(state: ServerState, job: Job) -> JobOut:
    remote = state.retouch.jobs.remote
    return job_out(job, state.retouch.held and not remote, "cluster" if remote else "local")


@router.post(JOBS_PATH + "/{job_id}/cancel", summary="Cancel a retouch job; admin token required",
             responses={404: {"model": Problem}, 401: {"model": Problem}}, dependencies=[Staff])
async def cancel_job(state: State, job_id: str) -> JobOut:
    """Its photos not done yet are `cancelled` (one a worker has now is dropped when it comes back); what is done
    stays. A retry takes the cancelled photos up again."""
    if not await run_in_threadpool(state.retouch.cancel, job_id):
        raise HTTPException(404, "no such retouch job")
    return _out(state, await _job(state, job_id))


@router.delete(JOBS_PATH + "/{job_id}", summary="Cancel a retouch job (as POST .../cancel); admin token required",
               responses={404: {"model": Problem}, 401: {"model": Problem}}, dependencies=[Staff])
async def delete_job(state: State, job_id: str) -> JobOut:
    return await cancel_job(state, job_id)


@router.post(JOBS_PATH + "/{job_id}/retry", summary="Retouch a job's failed (and cancelled) photos again; admin "
             "token required", responses={404: {"model": Problem}, 401: {"model": Problem}},
             dependencies=[Staff])
async def retry_job(state: State, job_id: str,
                    index: Annotated[list[int] | None, Form(description="only these photos (default: every failed "
                                                                          "or cancelled one)")] = None) -> JobOut:
    """A photo that failed (a bad file fails again with the same reason; one whose workers died, or whose input
    could not be read then, may come out now) goes back in the queue with its attempts counted afresh."""
    try:
        await run_in_threadpool(state.retouch.retry, job_id, index)
    except KeyError:
        raise HTTPException(404, "no such retouch job") from None
    return _out(state, await _job(state, job_id))


@router.get(JOBS_PATH + "/{job_id}/files/{name}", summary="One result of a retouch job", response_class=FileResponse,
            responses={200: {"content": {t: {} for t in CONTENT_TYPES.values()}}, 404: {"model": Problem}})
async def job_file(state: State, job_id: str, name: str) -> FileResponse:
    path = await run_in_threadpool(state.retouch.output_path, job_id, name)
    if path is None:
        raise HTTPException(404, "no such result (not done, failed, or no such job)")
    ext = path.suffix.lstrip(".")
    return FileResponse(path, media_type=CONTENT_TYPES.get(ext, "application/octet-stream"), filename=path.name,
                        content_disposition_type="inline")


@router.get(JOBS_PATH + "/{job_id}/inputs/{index}", summary="One photo of a retouch job, as uploaded",
            response_class=FileResponse, responses={404: {"model": Problem}})
async def job_input(state: State, job_id: str, index: int) -> FileResponse:
    """Served as the image type its name says (a browser shows jpg, png and webp; nosniff keeps it from guessing
    anything else), or as a download."""
    path = await run_in_threadpool(state.retouch.input_path, job_id, index)
    if path is None or not path.is_file():
        raise HTTPException(404, "no such photo in this job")
    kind = INPUT_TYPES.get(path.suffix.lower())
    return FileResponse(path, media_type=kind or "application/octet-stream", filename=path.name,
                        content_disposition_type="inline" if kind else "attachment")


@router.get(JOBS_PATH + "/{job_id}/result.zip", summary="Every result of a retouch job and manifest.json",
            response_class=FileResponse, responses={200: {"content": {"application/zip": {}}},
                                                    404: {"model": Problem}})
async def job_zip(state: State, job_id: str) -> FileResponse:
    """The results done so far and `manifest.json` (each photo: its output or its error, its checks). While the
    job runs, the zip holds what is done and the manifest says what is pending."""
    job = await _job(state, job_id)
    path = await run_in_threadpool(state.retouch.zip_path, job)
    background = None
    if not job.finished:
        from starlette.background import BackgroundTask

        background = BackgroundTask(path.unlink, missing_ok=True)
    return FileResponse(path, media_type="application/zip", filename=f"retouch-{job_id[:8]}.zip",
                        background=background)


@router.get("/studio", include_in_schema=False)
def studio_page() -> FileResponse:
    return FileResponse(REPO_ROOT / "web" / "studio.html", media_type="text/html", headers={"Cache-Control": "no-cache"})
