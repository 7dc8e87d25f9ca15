"""On-model pictures over HTTP: catalog pieces and uploaded model photos in, a lookbook job out (its pictures, a
contact sheet, a manifest), made on the job engine as every catalog job is (this server's worker process, or
`tryon worker`s; its progress, cancel and retry also at /api/jobs/{id}).

Making a job (the POST) needs the admin token: each picture costs CPU the shoppers' live sessions run on. Reading
a job (progress, pictures, contact sheet, manifest) needs only its id, 128 random bits, like a share link.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, HTTPException, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse
from pydantic import BaseModel

from tryon import media
from tryon.errors import InputError
from tryon.server.models import Problem
from tryon.server.state import ServerState, server_state
from tryon.studio.lookbook_batch import CONTACT, MANIFEST, check_items

router = APIRouter(tags=["lookbook"])
State = Annotated[ServerState, Depends(server_state)]
PATH = "/api/lookbook"
UPLOAD_PATHS = frozenset({PATH})
ADMIN_ROUTES = frozenset({("POST", PATH)})
RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"model": Problem, "description": "an unknown piece, no photos, a photo that cannot be read, a bad size"},
    401: {"model": Problem, "description": "wrong token"}, 403: {"model": Problem, "description": "no admin token set"},
    413: {"model": Problem, "description": "the request is larger than TRYON_MAX_UPLOAD_MB"}}


class PairOut(BaseModel):
    """One piece on one model photo: `status` done (`url`: the picture), skipped (`reason`: its site is not seen)
    or failed (`reason`)."""

    item: str
    model: str
    status: str
    reason: str | None
    url: str | None


class LookbookJobOut(BaseModel):
    """`state`: queued, running, finished or cancelled (a pair that could not be made says why). `contact_sheet`
    and `manifest` are there once finished. `held`: the work waits while live try-on sessions are connected."""

    id: str
    state: str
    error: str | None
    items: list[str]
    models: list[str]
    size: int
    total: int
    done: int
    skipped: int
    failed: int
    finished: bool
    held: bool
    pairs: list[PairOut]
    contact_sheet: str | None
    manifest: str | None


class LookbookCreated(BaseModel):
    id: str
    url: str
    total: int


def _check_photo(name: str, data: bytes, max_pixels: int) -> None:
    """InputError naming the upload that is no photo this server takes (decoded once here; nothing is saved yet)."""
    media.decode_image(data, max_pixels, name=name)


def job_out(job: dict[str, Any], held: bool) -> LookbookJobOut:
    base = f"{PATH}/{job['id']}"
    by_pair = {(p["item"], p["model"]): p for p in job["pairs"]}
    pairs = []
    for model in job["models"]:
        for item in job["items"]:
            p = by_pair.get((item, model), {"status": "pending", "reason": None})
            done = p["status"] == "done"
            pairs.append(PairOut(item=item, model=model, status=p["status"], reason=p.get("reason"),
                                 url=f"{base}/files/{p['output']}" if done else None))
    count = {s: sum(p.status == s for p in pairs) for s in ("done", "skipped", "failed")}
    finished = job["state"] == "finished"
    return LookbookJobOut(
        id=job["id"], state=job["state"], error=job.get("error"), items=job["items"], models=job["models"],
        size=job["size"], total=len(pairs), **count, finished=finished, held=held and job["state"] != "finished",
        pairs=pairs, contact_sheet=f"{base}/{CONTACT}" if finished else None,
        manifest=f"{base}/{MANIFEST}" if finished else None)


@router.post(PATH, summary="On-model pictures of pieces on uploaded model photos, as a job; admin token required",
             status_code=202, responses=RESPONSES)
async def create_lookbook(state: State, files: Annotated[list[UploadFile], File(description="the model photos")],
                          items: Annotated[str, Form(description="catalog item ids, comma-separated")],
                          size: Annotated[int, Form(description="the pictures' side in pixels")] = 1024,
                          ) -> LookbookCreated:
    """Send the token as `Authorization: Bearer TOKEN`. Every piece goes on every model photo whose site is seen
    (the other pairs are listed with the reason), brought to the set's look and framed alike, as `tryon lookbook`
    makes them; follow the job at `url`. At most TRYON_MAX_RETOUCH_FILES model photos a job."""
    try:
        specs = check_items(state.catalog, [s for s in items.split(",") if s.strip()])
        uploads = []
        for i, f in enumerate(files):
            data = await f.read()
            await run_in_threadpool(_check_photo, f.filename or f"photo {i + 1}", data,
                                    int(state.settings.max_image_megapixels * 1e6))
            uploads.append((f.filename, data))
        job_id = await run_in_threadpool(state.lookbook.create, specs, uploads, size)
    except InputError as e:
        raise HTTPException(400, str(e)) from None
    return LookbookCreated(id=job_id, url=f"{PATH}/{job_id}", total=len(specs) * len(uploads))


async def _job(state: ServerState, job_id: str) -> dict[str, Any]:
    job = await run_in_threadpool(state.lookbook.get, job_id)
    if job is None:
        raise HTTPException(404, "no such lookbook job (finished jobs are kept for TRYON_RETOUCH_KEEP_S)")
    return job


@router.get(PATH + "/{job_id}", summary="A lookbook job's progress and results", responses={404: {"model": Problem}})
async def get_lookbook(state: State, job_id: str) -> LookbookJobOut:
    return job_out(await _job(state, job_id), state.lookbook.held)


async def _file(state: ServerState, job_id: str, name: str, media_type: str) -> FileResponse:
    path = await run_in_threadpool(state.lookbook.file_path, job_id, name)
    if path is None:
        raise HTTPException(404, "no such result (not made yet, not made, or no such job)")
    return FileResponse(path, media_type=media_type, filename=path.name, content_disposition_type="inline")


@router.get(PATH + "/{job_id}/files/{item}/{name}", summary="One picture of a lookbook job",
            response_class=FileResponse, responses={200: {"content": {"image/jpeg": {}}}, 404: {"model": Problem}})
async def lookbook_picture(state: State, job_id: str, item: str, name: str) -> FileResponse:
    return await _file(state, job_id, f"{item}/{name}", "image/jpeg")


@router.get(PATH + "/{job_id}/" + CONTACT, summary="A finished lookbook job's contact sheet",
            response_class=FileResponse, responses={200: {"content": {"image/png": {}}}, 404: {"model": Problem}})
async def lookbook_contact(state: State, job_id: str) -> FileResponse:
    return await _file(state, job_id, CONTACT, "image/png")


@router.get(PATH + "/{job_id}/" + MANIFEST, summary="A finished lookbook job's manifest",
            response_class=FileResponse, responses={200: {"content": {"application/json": {}}},
                                                    404: {"model": Problem}})
async def lookbook_manifest(state: State, job_id: str) -> FileResponse:
    return await _file(state, job_id, MANIFEST, "application/json")
