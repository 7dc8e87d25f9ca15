"""Photo try-on: a photo in, the photo with the jewelry out."""

from __future__ import annotations

import asyncio
import json
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, File, Form, HTTPException, UploadFile
from fastapi.responses import Response

from tryon.errors import InputError, UnknownItemError
from tryon.media import decode_image, encode_image
from tryon.pipeline import Pipeline, PipelineOptions
from tryon.server.models import MAX_ITEMS, MAX_SPEC_CHARS, Problem
from tryon.server.state import ServerState, server_state
from tryon.types import Frame

router = APIRouter(tags=["photos"])
State = Annotated[ServerState, Depends(server_state)]
NOT_PLACED_HEADER = "X-Tryon-Not-Placed"  # JSON: [{"item", "where", "reason"}] of the pieces not drawn


@router.post("/api/tryon", summary="Photo in, photo with the jewelry out", response_class=Response,
             responses={200: {"content": {"image/png": {}, "image/jpeg": {}},
                              "description": "the photo; `X-Tryon-Not-Placed` lists the pieces not drawn"},
                        400: {"model": Problem}, 404: {"model": Problem}, 413: {"model": Problem}})
async def tryon_photo(state: State, image: Annotated[UploadFile, File(description="jpg, png or webp")],
                      items: Annotated[str, Form(description="item ids, comma separated")],
                      format: Annotated[Literal["png", "jpg"], Form()] = "jpg") -> Response:
    """Photos over TRYON_MAX_IMAGE_MEGAPIXELS are refused before they are decoded. The pieces that could not be
    placed (no face, no hand, hidden) come back in the `X-Tryon-Not-Placed` header, as JSON, with the reason."""
    settings = state.settings
    data = await image.read()  # the guard has held the body to TRYON_MAX_UPLOAD_MB
    ids = [i.strip() for i in items.split(",") if i.strip()]
    if len(ids) > MAX_ITEMS or any(len(i) > MAX_SPEC_CHARS for i in ids):
        raise HTTPException(400, f"at most {MAX_ITEMS} item ids, each at most {MAX_SPEC_CHARS} characters")

    def run() -> tuple[bytes, str]:
        rgb = decode_image(data, max_pixels=int(settings.max_image_megapixels * 1e6))
        if state.photo is None or state.photo.catalog is not state.catalog:
            if state.photo is not None:
                state.photo.close()
            options = PipelineOptions(mode="image", hfov_deg=settings.hfov_deg, use_compositor=settings.use_compositor)
            state.photo = Pipeline(state.catalog, [], options)
        state.photo.set_items(ids)
        result = state.photo.process(Frame(rgb))
        missing = [{"item": n.item_id, "where": n.where, "reason": n.reason} for n in result.not_placed]
        return encode_image(result.image, f".{format}"), json.dumps(missing)

    try:
        out, missing = await asyncio.get_running_loop().run_in_executor(state.photo_pool, run)
    except UnknownItemError as e:
        raise HTTPException(404, str(e)) from None
    except InputError as e:
        raise HTTPException(400, str(e)) from None
    return Response(out, media_type="image/png" if format == "png" else "image/jpeg",
                    headers={NOT_PLACED_HEADER: missing})
