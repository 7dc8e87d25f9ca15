"""The stylist: a photo in, what suits the person out (undertone, face shape, sizes, suggestions with reasons
and the catalog pieces that fit). Nothing about the person is kept: the photo is decoded, read and dropped in
one call, on the photo worker thread (off the event loop); nothing is written."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, HTTPException, UploadFile
from pydantic import BaseModel

from tryon.errors import InputError
from tryon.media import decode_image
from tryon.server.models import Problem
from tryon.server.state import ServerState, server_state
from tryon.stylist.advise import Stylist

router = APIRouter(tags=["stylist"])
State = Annotated[ServerState, Depends(server_state)]
PATH = "/api/advise"
UPLOAD_PATHS = frozenset({PATH})  # for the guard: a photo may be TRYON_MAX_UPLOAD_MB


class SuggestionOut(BaseModel):
    """`reason`: plain words; `rule` and `source`: the stated rule it follows (assets/stylist_rules.json);
    `items`: catalog ids that fit, best first; `detail`: the numbers (metals, sizes, lengths and where they fall)."""

    topic: str
    reason: str
    rule: str
    source: str
    items: list[str]
    detail: dict[str, Any]


class AdviceOut(BaseModel):
    """`undertone`: label (warm, cool, neutral), confidence 0..1, CIELAB hue angle; `face_shape`: label,
    confidence, ratios; `sizes`: face width (mm), neck, per hand the ring size of each finger and the wrist;
    `notes`: what could not be read and why (no hand in view...)."""

    undertone: dict[str, Any] | None
    face_shape: dict[str, Any] | None
    sizes: dict[str, Any]
    suggestions: list[SuggestionOut]
    notes: list[str]


@router.post(PATH, summary="Photo in, what suits the person out", response_model=AdviceOut,
             responses={400: {"model": Problem}, 413: {"model": Problem}})
async def advise(state: State, image: Annotated[UploadFile, File(description="jpg, png or webp")]) -> dict[str, Any]:
    """Skin undertone under the photo's own white balance, face shape, sizes, and suggestions (metals, earrings,
    necklace lengths with where the chain falls, ring widths, wrist), each with its reason. Nothing is stored."""
    settings = state.settings
    data = await image.read()
    catalog = state.catalog

    def run() -> dict[str, Any]:
        rgb = decode_image(data, max_pixels=int(settings.max_image_megapixels * 1e6))
        with Stylist(catalog, hfov_deg=settings.hfov_deg) as stylist:
            return stylist.advise(rgb).to_json()

    try:
        return await asyncio.get_running_loop().run_in_executor(state.photo_pool, run)
    except InputError as e:
        raise HTTPException(400, str(e)) from None
