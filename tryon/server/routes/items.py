"""The catalog: list, one item, its model and thumbnail files, and importing a customer's model."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, File, Form, HTTPException, UploadFile
from fastapi.responses import FileResponse

from tryon.errors import UnknownItemError
from tryon.jewelry.catalog import Catalog, Item
from tryon.server.models import ItemDetail, ItemList, ItemSummary, Problem, item_detail, item_summary, site_table
from tryon.server.session import shorten
from tryon.server.state import ServerState, server_state

router = APIRouter(tags=["items"])
State = Annotated[ServerState, Depends(server_state)]
DEFAULT_ITEMS = ["hoop-round-25mm-yellow-gold"]


@router.get("/api/items", summary="The catalog: every item with its family, variants, places and thumbnail")
def items(state: State, kind: str | None = None, site: str | None = None) -> ItemList:
    catalog = state.catalog
    chosen = [i for i in catalog if (kind is None or i.kind == kind) and (site is None or i.site == site)]
    return ItemList(items=[item_summary(i, catalog) for i in chosen], default=[i for i in DEFAULT_ITEMS if i in catalog],
                    sites=site_table())


@router.get("/api/items/{item_id}", summary="One item: its entry, price, manufacturing facts, thumbnail and model",
            responses={404: {"model": Problem}})
def item(state: State, item_id: str) -> ItemDetail:
    try:
        found = state.catalog.get(item_id)
    except UnknownItemError as e:
        raise HTTPException(404, str(e)) from None
    return item_detail(found, state.facts(found.id), state.catalog)


def _item_file(item_id: str, what: str, locate: Callable[[str], Path], **response: Any) -> FileResponse:
    """An item's file (its model or thumbnail), or 404 for an unknown item or a catalog not yet built."""
    try:
        path = locate(item_id)
    except UnknownItemError as e:
        raise HTTPException(404, str(e)) from None
    if not path.is_file():
        raise HTTPException(404, f"no {what} for {item_id}; run `tryon catalog build`")
    return FileResponse(path, **response)


@router.get("/api/items/{item_id}/model.glb", summary="The item's 3D model (glTF binary, metres)",
            response_class=FileResponse, responses={404: {"model": Problem}})
def model(state: State, item_id: str) -> FileResponse:
    return _item_file(item_id, "model file", state.catalog.path_of, media_type="model/gltf-binary",
                      filename=f"{item_id}.glb")


@router.get("/api/items/{item_id}/thumbnail.png", summary="The item's thumbnail, rendered by the engine",
            response_class=FileResponse, responses={404: {"model": Problem}})
def thumbnail(state: State, item_id: str) -> FileResponse:
    return _item_file(item_id, "thumbnail", state.catalog.thumbnail_of, media_type="image/png")


@router.post("/api/items", summary="Import a model (glb, gltf, obj, stl) or a product photo as a new item; admin "
                                   "token required",
             status_code=201, responses={401: {"model": Problem, "description": "wrong token"},
                                         403: {"model": Problem, "description": "imports off"},
                                         400: {"model": Problem, "description": "a bad model or photo"},
                                         413: {"model": Problem, "description": "too big"}})
async def import_item(state: State, type: Annotated[Literal["ring", "earring", "pendant", "charm"], Form()],
                      model: Annotated[UploadFile | None, File(description="glb, gltf, obj or stl")] = None,
                      photo: Annotated[UploadFile | None, File(description="instead of a model: a product photo "
                                                                           "(jpg, png, webp) of an earring, a "
                                                                           "pendant or a charm")] = None,
                      name: Annotated[str | None, Form(max_length=120)] = None,
                      metal: Annotated[str | None, Form()] = None, stone: Annotated[str | None, Form()] = None,
                      units: Annotated[Literal["auto", "mm", "m"], Form()] = "auto",
                      z_up: Annotated[bool, Form()] = False,
                      size_mm: Annotated[float | None, Form(description="photo: the piece's height, mm (else a "
                                                                        "bank card or a mm ruler in the photo)")] = None,
                      pair: Annotated[bool, Form(description="photo: it shows a pair of earrings")] = False,
                      anchor: Annotated[str | None, Form(description="photo: X,Y pixels of the hook, post or "
                                                                     "bail")] = None) -> ItemSummary:
    """Send the token as `Authorization: Bearer TOKEN` (TRYON_ADMIN_TOKEN); it is checked before the body is
    read. A model (with its name) or a photo (`tryon catalog import-photo`: cut out, made a relief, relit) goes
    into the user catalog with its thumbnail, bounds and price, and is at once in /api/items and wearable. The
    import runs in its own process and is stopped after TRYON_MAX_IMPORT_S."""
    settings = state.settings
    limit = int(settings.max_upload_mb * 1024 * 1024)
    if (model is None) == (photo is None):
        raise HTTPException(400, "send a model or a photo (one of them)")
    catalogs = (settings.user_catalog_dir, settings.assets_dir / "catalog.json")
    if photo is not None:
        data = await photo.read()  # the guard has held the body to this limit
        filename = Path(photo.filename or "").name or "photo.jpg"
        if type == "ring":
            raise HTTPException(400, "a photo becomes an earring, a pendant or a charm, not a ring")
        photo_job = (filename, type, size_mm, metal, name, pair, anchor, data, *catalogs)
        added = await state.add_to_catalog(photo_into_user_catalog, photo_job, f"the import of {shorten(filename)}",
                                           "this photo could not be made into a piece")
        return item_summary(added, state.catalog)
    assert model is not None
    if type == "charm" or not name:
        raise HTTPException(400, "a model import needs its name and a type of ring, earring or pendant")
    data = await model.read()  # the guard has held the body to this limit
    job = (model.filename or "upload.glb", type, name, metal, stone, units, z_up, data, limit, *catalogs)
    added = await state.add_to_catalog(import_into_user_catalog, job, f"the import of {shorten(model.filename or '?')}",
                                       "this model could not be imported")
    return item_summary(added, state.catalog)


def photo_into_user_catalog(filename: str, kind: str, size_mm: float | None, metal: str | None, name: str | None,
                            pair: bool, anchor: str | None, data: bytes, user_catalog_dir: Path,
                            builtin_catalog: Path) -> Item:
    """The piece in a product photo's bytes added to the user catalog (run in its own process by the server)."""
    from tryon.studio.catalog_build import add_user_items
    from tryon.studio.photo_piece import parse_anchor, photo_piece

    made = photo_piece(Path(filename), kind, size_mm=size_mm, metal=metal, name=name, pair=pair,
                       anchor_px=parse_anchor(anchor), data=data)
    (added,) = add_user_items([(made.item, made.build)], user_catalog_dir, Catalog.load(builtin_catalog))
    return added


def import_into_user_catalog(filename: str, kind: str, name: str, metal: str | None, stone: str | None,
                             units: str, z_up: bool, data: bytes, max_bytes: int, user_catalog_dir: Path,
                             builtin_catalog: Path) -> Item:
    """Import a model's bytes and add it to the user catalog (run in its own process by the server)."""
    from tryon.jewelry.importer import import_model
    from tryon.studio.catalog_build import add_user_items

    item, scene = import_model(Path(filename), kind, name, metal=metal, stone=stone, units=units, z_up=z_up,
                               data=data, max_bytes=max_bytes)
    (added,) = add_user_items([(item, lambda: scene)], user_catalog_dir, Catalog.load(builtin_catalog))
    return added
