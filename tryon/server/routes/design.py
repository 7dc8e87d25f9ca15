"""Designing from words or from a sketch: a prompt in, the parameters understood and the new pieces (priced,
wearable) out; or a drawn outline in (a photographed page, or drawn on the studio page), a pendant or an earring
cut to it out, with what was done to the drawing."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, File, Form, HTTPException, UploadFile
from pydantic import BaseModel, Field

from tryon.errors import InputError
from tryon.jewelry.catalog import Catalog, Item
from tryon.jewelry.prompt import MAX_PROMPT_CHARS, parse
from tryon.server.models import ItemSummary, Problem, item_summary
from tryon.server.state import ServerState, server_state
from tryon.studio.catalog_build import add_designs

router = APIRouter(tags=["design"])
State = Annotated[ServerState, Depends(server_state)]
MAX_DESIGNS = 12
SKETCH_PATH = "/api/design/sketch"
UPLOAD_PATHS = frozenset({SKETCH_PATH})  # for the guard: a photographed page may be TRYON_MAX_UPLOAD_MB
ADMIN_ROUTES = frozenset({("POST", SKETCH_PATH)})


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


class PlateSize(BaseModel):
    """The plate cut to the drawing, millimetres: its height (as asked), its width, the holes drawn in it."""

    height: float
    width: float
    holes: int


class SketchDesignResponse(BaseModel):
    """`notes`: what was done to the drawing, in plain words (a gap closed, a neck thickened, a stray tail cut
    off, other shapes left out), then the piece's thinnest metal and weight; `items`: the new piece, in the
    catalog now."""

    kind: str
    notes: list[str]
    plate_mm: PlateSize
    items: list[ItemSummary]


@router.post(SKETCH_PATH, summary="Design a pendant or earring from a drawn outline; admin token required",
             status_code=201,
             responses={400: {"model": Problem, "description": "a drawing that cannot be made (blank page, open "
                                                               "outline, scribble, not a drawing), with the reason"},
                        401: {"model": Problem, "description": "wrong token"},
                        403: {"model": Problem, "description": "designing off (no admin token set)"},
                        413: {"model": Problem, "description": "over TRYON_MAX_UPLOAD_MB"}})
async def design_from_sketch(state: State,
                             file: Annotated[UploadFile, File(description="the drawing: png, jpg, webp...")],
                             type: Annotated[Literal["pendant", "earring"], Form()],
                             size_mm: Annotated[float | None, Form(description="the plate's height, mm (default: "
                                                                               "20 a pendant, 15 an earring)")] = None,
                             metal: Annotated[str, Form()] = "yellow_gold") -> SketchDesignResponse:
    """Send the token as `Authorization: Bearer TOKEN` (TRYON_ADMIN_TOKEN). The drawing's closed outline is
    filled, cleaned, bevelled and hung from a bail (a pendant, on a chain) or a hook (an earring), checked to be
    thick enough to cast, priced and thumbnailed into the user catalog as `tryon design --sketch` does, in its own
    process (stopped after TRYON_MAX_IMPORT_S); it is at once in /api/items and wearable."""
    settings = state.settings
    data = await file.read()  # the guard has held the body to TRYON_MAX_UPLOAD_MB
    name = Path(file.filename or "").name or "sketch.png"
    job = (name, type, size_mm, metal, data, settings.user_catalog_dir, settings.assets_dir / "catalog.json")
    added, notes, plate = await state.add_to_catalog(sketch_into_user_catalog, job, "the sketch design",
                                                     "this drawing could not be made into a piece")
    return SketchDesignResponse(kind=type, notes=list(notes), plate_mm=PlateSize(**plate),
                                items=[item_summary(added, state.catalog)])


def sketch_into_user_catalog(filename: str, kind: str, size_mm: float | None, metal: str, data: bytes,
                             user_catalog_dir: Path, builtin_catalog: Path) -> tuple[Item, tuple[str, ...],
                                                                                   dict[str, float]]:
    """The piece of the drawing in `data` added to the user catalog (run in its own process by the server):
    (the item as written, priced; the notes; the plate's height, width (mm) and number of holes)."""
    from tryon.jewelry.sketch import sketch_design
    from tryon.studio.catalog_build import add_user_items

    item, build, outline = sketch_design(Path(filename), kind, size_mm, metal, data=data)
    (added,) = add_user_items([(item, build)], user_catalog_dir, Catalog.load(builtin_catalog))
    plate = {"height": round(outline.height_mm, 3), "width": round(outline.width_mm, 3),
             "holes": len(outline.holes)}
    return added, outline.notes, plate
