"""Designing from words: a prompt in, the parameters understood and the new pieces (priced, wearable) out."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException
from pydantic import BaseModel, Field

from tryon.errors import InputError
from tryon.jewelry.prompt import MAX_PROMPT_CHARS, parse
from tryon.server.models import ItemSummary, Problem, item_summary
from tryon.server.state import ServerState, server_state
from tryon.studio.catalog_build import add_designs

router = APIRouter(tags=["design"])
State = Annotated[ServerState, Depends(server_state)]
MAX_DESIGNS = 12


class DesignRequest(BaseModel):
    """`prompt`: the piece in words. `kind`: the piece where the words do not say it. `parameters`: values that
    override the words (the names `tryon design` takes: style, metal, stone, chain, letter, band_width_mm,
    stone_mm, diameter_mm, wire_mm, length_mm, size_mm). `count` designs, the unsaid drawn with `seed`."""

    prompt: str = Field(min_length=1, max_length=MAX_PROMPT_CHARS)
    kind: Literal["ring", "earring", "pendant"] | None = None
    parameters: dict[str, str | float] = Field(default_factory=dict, max_length=12)
    count: int = Field(1, ge=1, le=MAX_DESIGNS)
    seed: int = Field(0, ge=0, le=2**31 - 1)


class DesignResponse(BaseModel):
    """`parameters`: what the piece was made with (the rest drawn); `said`: the words (or override) each came
    from; `notes`: words understood that are no design parameter; `items`: the new pieces, in the catalog now."""

    kind: str
    parameters: dict[str, str | float]
    said: dict[str, str]
    notes: list[str]
    items: list[ItemSummary]


@router.post("/api/design", summary="Design a piece from words; admin token required", status_code=201,
             responses={400: {"model": Problem, "description": "words that cannot be made, with the reason"},
                        401: {"model": Problem, "description": "wrong token"},
                        403: {"model": Problem, "description": "designing off (no admin token set)"}})
async def design_from_words(state: State, body: DesignRequest) -> DesignResponse:
    """Send the token as `Authorization: Bearer TOKEN` (TRYON_ADMIN_TOKEN). The words are read by a grammar of
    jewellery terms (tryon.jewelry.prompt); what they do not say is drawn as `tryon design` draws it. The pieces
    are built, priced and thumbnailed into the user catalog, the same way as `tryon design`, and are at once in
    /api/items and wearable."""
    settings = state.settings
    try:
        request = parse(body.prompt, body.kind)
    except InputError as e:
        raise HTTPException(400, str(e)) from None
    fixed: dict[str, Any] = {**request.fixed, **body.parameters}
    said = {**request.said, **{k: "parameters" for k in body.parameters}}
    job = (request.kind, fixed, body.count, body.seed, settings.user_catalog_dir, settings.assets_dir / "catalog.json")
    added = await state.add_to_catalog(add_designs, job, "the design", "this design could not be made")
    return DesignResponse(kind=request.kind, parameters=fixed, said=said, notes=list(request.notes),
                          items=[item_summary(i) for i in added])
