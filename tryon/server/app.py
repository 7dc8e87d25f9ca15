"""HTTP: the catalog, WebRTC offers, photo try-on, share links, the kiosk mirror, and the pages in web/.
OpenAPI at /docs."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import importlib.util
import logging
import re
import socket
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import FastAPI, File, Form, HTTPException, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, Field

from tryon.config import REPO_ROOT, Settings
from tryon.errors import InputError, TryOnError, UnknownItemError
from tryon.jewelry.catalog import Item
from tryon.media import decode_image, encode_image
from tryon.pipeline import MAX_PER_SITE, PLACES, Pipeline, PipelineOptions, resolve_specs
from tryon.server import bounded
from tryon.server.guard import Guard, Policy
from tryon.server.kiosk import KioskSettings, kiosk_router
from tryon.server.seats import RefusedError, SeatBook
from tryon.server.session import Session, check_offer_sdp, shorten
from tryon.server.store import MediaStore

log = logging.getLogger(__name__)
WEB_DIR = REPO_ROOT / "web"
DEFAULT_ITEMS = ["hoop-round-25mm-yellow-gold"]
PURGE_PERIOD_S = 300.0  # at most; sooner when a link expires sooner
SERVER_START_TIMEOUT_S = 30.0
WILDCARD_HOSTS = ("0.0.0.0", "", "::")
# Swagger UI's files, as the fastapi-offline package ships them (a version that reads OpenAPI 3.1).
DOCS_ASSETS = Path(importlib.util.find_spec("fastapi_offline").origin or "").parent / "static"  # type: ignore[union-attr]
DOCS_CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
            "script-src 'self' 'unsafe-inline'; frame-ancestors 'none'")


def plain(text: str) -> str:
    """A library's error message fit for a client: no object addresses, at most 200 characters."""
    return shorten(re.sub(r"<[^<>]* at 0x[0-9a-fA-F]+>", "<object>", text), 200)


def client_of(request: Request) -> str:
    """The client's address as the guard found it (through a trusted proxy's X-Forwarded-For); "" if unknown."""
    return str(request.scope.get("state", {}).get("client", request.client.host if request.client else ""))


def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    """422 with where and what, never the input itself (it may be a megabyte)."""
    errors = [{"loc": list(e.get("loc", ())), "msg": str(e.get("msg", "")), "type": str(e.get("type", ""))}
              for e in exc.errors()[:20]]
    return JSONResponse({"detail": errors}, status_code=422)


def import_into_user_catalog(filename: str, kind: str, name: str, metal: str | None, stone: str | None,
                             units: str, z_up: bool, data: bytes, max_bytes: int, user_catalog_dir: Path,
                             builtin_catalog: Path) -> Item:
    """Import a model's bytes and add it to the user catalog (run in its own process by the server)."""
    from tryon.catalog_build import add_user_items
    from tryon.jewelry.catalog import Catalog
    from tryon.jewelry.importer import import_model

    item, scene = import_model(Path(filename), kind, name, metal=metal, stone=stone, units=units, z_up=z_up,
                               data=data, max_bytes=max_bytes)
    (added,) = add_user_items([(item, lambda: scene)], user_catalog_dir, Catalog.load(builtin_catalog))
    return added


ItemSpec = Annotated[str, Field(max_length=200)]


class Offer(BaseModel):
    sdp: str = Field(max_length=200_000, description="the browser's offer SDP")
    type: Literal["offer"]
    items: list[ItemSpec] = Field(default_factory=list, max_length=16,
                             description="what to wear at first: item ids, each optionally with a place, "
                                         "'id@where' (rings: 'ring', 'index', 'left_ring', ...; wrist pieces: "
                                         "'wrist', 'left_wrist', 'right_wrist'; necklaces and pendants: 'neck', "
                                         "two of them layered)")
    utc_offset_min: int | None = Field(None, ge=-16 * 60, le=16 * 60,
                                       description="the shopper's UTC offset in minutes, so watches show their "
                                                   "time (default: the server's)")
    kiosk: bool = Field(False, description="an in-store kiosk mirror: its snapshot and clip links live the kiosk's "
                                           "link TTL, the face tracker always runs (is anyone there?), and links "
                                           "no phone opened are deleted when the session ends")


class Answer(BaseModel):
    sdp: str
    type: Literal["answer"] = "answer"
    session: str


def create_app(settings: Settings | None = None, kiosk: KioskSettings | None = None) -> FastAPI:
    settings = settings or Settings()
    kiosk = kiosk or KioskSettings()
    catalog = settings.catalog()
    store = MediaStore(settings.data_dir, settings.link_ttl_s, max_bytes=int(settings.max_media_mb * 1024**2))
    sessions: dict[str, Session] = {}
    seats = SeatBook(settings.max_sessions, settings.max_seats_per_client, settings.max_pending_offers,
                     settings.max_pending_per_client)
    photo_pool = ThreadPoolExecutor(1, thread_name_prefix="tryon-photo")  # owns the photo pipeline
    import_pool = ThreadPoolExecutor(1, thread_name_prefix="tryon-import")  # waits on import processes
    photo: dict[str, Pipeline] = {}

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async def purge_loop() -> None:
            # Wake when the next link expires, so its file goes then; never sleep longer than the shortest
            # lifetime a link can get, so one made meanwhile is not missed.
            period_s = min(PURGE_PERIOD_S, settings.link_ttl_s, kiosk.link_ttl_s)
            while True:
                store.purge()
                next_s = store.next_expiry()
                wait_s = period_s if next_s is None else min(period_s, next_s - time.time())
                await asyncio.sleep(max(0.05, wait_s))

        async def connect_watch() -> None:
            # Offers answered but never connected (ICE stripped, the peer gone) lose their place.
            while True:
                await asyncio.sleep(0.5)
                for key in seats.overdue(time.monotonic(), settings.connect_timeout_s):
                    seats.release(key)
                    if key in sessions:
                        log.info("session %s: not connected within %g s, dropped", key, settings.connect_timeout_s)
                        await sessions[key].close()

        purger = asyncio.create_task(purge_loop())
        watcher = asyncio.create_task(connect_watch())
        yield
        purger.cancel()
        watcher.cancel()
        bounded.kill_all()
        await asyncio.gather(*(s.close() for s in list(sessions.values())))
        if "p" in photo:
            await asyncio.get_running_loop().run_in_executor(photo_pool, photo["p"].close)
        photo_pool.shutdown()
        import_pool.shutdown()
        store.close()

    app = FastAPI(title="Jewelry try-on", version="1", lifespan=lifespan, docs_url=None, redoc_url=None,
                  description="Live AR jewelry try-on over WebRTC, photo try-on, and share links.")
    app.add_middleware(Guard, policy=Policy(  # type: ignore[arg-type]
        upload_bytes=int(settings.max_upload_mb * 1024 * 1024), admin_token=settings.admin_token,
        allowed_hosts=tuple(settings.allowed_hosts), allowed_origins=tuple(settings.allowed_origins),
        trusted_proxies=tuple(settings.trusted_proxies), lan_handoff_only=kiosk.lan_handoff_only))
    app.add_exception_handler(RequestValidationError, _validation_error)  # type: ignore[arg-type]
    app.state.sessions = sessions
    app.state.seats = seats
    app.state.store = store
    app.state.catalog = catalog
    app.state.kiosk = kiosk

    @app.get("/api/items", summary="The catalog: every item with its family, variants, places and thumbnail")
    def items(kind: str | None = None, site: str | None = None) -> dict[str, Any]:
        """`places`: where an item can be asked for ("id@where"; the first, its site, is the default).
        `sites`: per site, the anchor points each place covers and how many items one of them holds."""
        catalog = app.state.catalog
        chosen = [i for i in catalog if (kind is None or i.kind == kind) and (site is None or i.site == site)]
        return {
            "items": [{"id": i.id, "name": i.name, "kind": i.kind, "site": i.site, "family": i.family,
                       "family_name": i.family_name, "metal": i.metal, "stone": i.stone, "size_mm": i.size_mm,
                       "dimensions_mm": i.dimensions_mm, "places": list(PLACES.get(i.site, {})),
                       "price": i.to_json().get("price"), "thumbnail": f"/api/items/{i.id}/thumbnail.png"}
                      for i in chosen],
            "default": [i for i in DEFAULT_ITEMS if i in catalog],
            "sites": {s: {"places": {w: list(anchors) for w, anchors in places.items()},
                          "max_per_anchor": MAX_PER_SITE.get(s, 1)} for s, places in PLACES.items()},
        }

    @app.get("/api/items/{item_id}", summary="One item: its entry, price, manufacturing facts, thumbnail and model")
    def item(item_id: str) -> dict[str, Any]:
        """The catalog entry plus `facts` (metal volume and weight in grams for its alloy, stones with their
        carat weight, the thinnest metal against the minimum wall), and links to the thumbnail and the GLB."""
        try:
            found = app.state.catalog.get(item_id)
        except UnknownItemError as e:
            raise HTTPException(404, str(e)) from None
        return {**found.to_json(), "family_name": found.family_name, "places": list(PLACES.get(found.site, {})),
                "facts": _facts(found.id), "thumbnail": f"/api/items/{found.id}/thumbnail.png",
                "model": f"/api/items/{found.id}/model.glb"}

    @functools.lru_cache(maxsize=256)
    def _facts(item_id: str) -> dict[str, Any]:
        from tryon.jewelry.facts import item_facts

        return item_facts(app.state.catalog, item_id).to_json()

    def item_file(item_id: str, what: str, locate: Callable[[str], Path], **response: Any) -> FileResponse:
        """An item's file (its model or thumbnail), or 404 for an unknown item or a catalog not yet built."""
        try:
            path = locate(item_id)
        except UnknownItemError as e:
            raise HTTPException(404, str(e)) from None
        if not path.is_file():
            raise HTTPException(404, f"no {what} for {item_id}; run `tryon catalog build`")
        return FileResponse(path, **response)

    @app.get("/api/items/{item_id}/model.glb", summary="The item's 3D model (glTF binary, metres)",
             response_class=FileResponse)
    def model(item_id: str) -> FileResponse:
        return item_file(item_id, "model file", app.state.catalog.path_of, media_type="model/gltf-binary",
                         filename=f"{item_id}.glb")

    @app.get("/api/items/{item_id}/thumbnail.png", summary="The item's thumbnail, rendered by the engine",
             response_class=FileResponse)
    def thumbnail(item_id: str) -> FileResponse:
        return item_file(item_id, "thumbnail", app.state.catalog.thumbnail_of, media_type="image/png")

    @app.post("/api/offer", response_model=Answer, summary="Start a live session from a WebRTC offer",
              responses={400: {"description": "malformed offer or unknown item"}, 503: {"description": "full"}})
    async def offer(body: Offer, request: Request) -> Answer:
        """The offer gets a pending place (at most a few per client address); it takes a live seat only once its
        connection is up, and loses its place unless that happens within the connect timeout."""
        try:
            # Cheap checks first: a bad offer costs nothing and holds nothing.
            resolve_specs(app.state.catalog, body.items)
            check_offer_sdp(body.sdp)
        except TryOnError as e:
            raise HTTPException(400, str(e)) from None
        session = Session(app.state.catalog, store, body.items, settings.hfov_deg, body.utc_offset_min,
                          media_ttl_s=kiosk.link_ttl_s if body.kiosk else None,
                          track=frozenset({"face"}) if body.kiosk else frozenset(),
                          use_compositor=settings.use_compositor, frame_timeout_s=settings.frame_timeout_s,
                          max_media_bytes=int(settings.max_session_media_mb * 1024**2))
        try:
            seats.reserve(session.id, client_of(request))
        except RefusedError as e:
            await session.close()
            raise HTTPException(e.status, str(e)) from None
        sessions[session.id] = session

        def closed(s: Session) -> None:
            sessions.pop(s.id, None)
            seats.release(s.id)
            if body.kiosk:  # the screen was the only way to those no phone opened
                s.revoke_media()

        session.on_close = closed
        session.on_connected = lambda s: seats.seat(s.id)
        try:
            sdp = await session.start(body.sdp)
        except TryOnError as e:
            await session.close()
            raise HTTPException(400, str(e)) from None
        except Exception as e:  # aiortc raises ValueError and friends for SDP it cannot read
            await session.close()
            raise HTTPException(400, f"malformed offer: {type(e).__name__}: {plain(str(e))}") from None
        seats.answered(session.id, time.monotonic())
        log.info("session %s started (%d live)", session.id, len(sessions))
        return Answer(sdp=sdp, session=session.id)

    @app.post("/api/items", summary="Import a model (glb, gltf, obj, stl) as a new item; admin token required",
              status_code=201, responses={401: {"description": "wrong token"}, 403: {"description": "imports off"},
                                          400: {"description": "a bad model"}, 413: {"description": "too big"}})
    async def import_item(request: Request, model: Annotated[UploadFile, File(description="glb, gltf, obj or stl")],
                          type: Annotated[Literal["ring", "earring", "pendant"], Form()],
                          name: Annotated[str, Form(max_length=120)],
                          metal: Annotated[str | None, Form()] = None, stone: Annotated[str | None, Form()] = None,
                          units: Annotated[Literal["auto", "mm", "m"], Form()] = "auto",
                          z_up: Annotated[bool, Form()] = False) -> dict[str, Any]:
        """Send the token as `Authorization: Bearer TOKEN` (TRYON_ADMIN_TOKEN); it is checked before the body is
        read. The piece goes into the user catalog with its thumbnail, bounds and price, and is at once in
        /api/items and wearable. The import runs in its own process and is stopped after TRYON_MAX_IMPORT_S."""
        limit = int(settings.max_upload_mb * 1024 * 1024)
        data = await model.read(limit + 1)
        if len(data) > limit:
            raise HTTPException(413, f"upload larger than {settings.max_upload_mb:g} MB")
        job = (model.filename or "upload.glb", type, name, metal, stone, units, z_up, data, limit,
               settings.user_catalog_dir, settings.assets_dir / "catalog.json")
        try:
            added = await asyncio.get_running_loop().run_in_executor(
                import_pool, bounded.run_bounded, import_into_user_catalog, job, settings.max_import_s, "the import")
        except InputError as e:
            raise HTTPException(400, str(e)) from None
        except TryOnError as e:
            log.warning("import of %s failed: %s", shorten(model.filename or "?"), e)
            raise HTTPException(422, f"this model could not be imported: {e}") from None
        app.state.catalog = settings.catalog()
        _facts.cache_clear()
        return {**added.to_json(), "thumbnail": f"/api/items/{added.id}/thumbnail.png",
                "model": f"/api/items/{added.id}/model.glb"}

    @app.post("/api/tryon", summary="Photo in, photo with the jewelry out",
              response_class=Response, responses={200: {"content": {"image/png": {}, "image/jpeg": {}}}})
    async def tryon_photo(request: Request, image: Annotated[UploadFile, File(description="jpg, png or webp")],
                          items: Annotated[str, Form(description="item ids, comma separated")],
                          format: Annotated[Literal["png", "jpg"], Form()] = "jpg") -> Response:
        """Photos over TRYON_MAX_IMAGE_MEGAPIXELS are refused before they are decoded."""
        limit = int(settings.max_upload_mb * 1024 * 1024)
        data = await image.read(limit + 1)
        if len(data) > limit:
            raise HTTPException(413, f"upload larger than {settings.max_upload_mb:g} MB")
        ids = [i.strip() for i in items.split(",") if i.strip()]
        if len(ids) > 16 or any(len(i) > 200 for i in ids):
            raise HTTPException(400, "at most 16 item ids, each at most 200 characters")

        def run() -> bytes:
            rgb = decode_image(data, max_pixels=int(settings.max_image_megapixels * 1e6))
            if "p" not in photo or photo["p"].catalog is not app.state.catalog:
                options = PipelineOptions(mode="image", hfov_deg=settings.hfov_deg, use_compositor=settings.use_compositor)
                photo["p"] = Pipeline(app.state.catalog, [], options)
            photo["p"].set_items(ids)
            return encode_image(photo["p"].process(rgb), f".{format}")

        try:
            out = await asyncio.get_running_loop().run_in_executor(photo_pool, run)
        except UnknownItemError as e:
            raise HTTPException(404, str(e)) from None
        except InputError as e:
            raise HTTPException(400, str(e)) from None
        return Response(out, media_type="image/png" if format == "png" else "image/jpeg")

    @app.get("/api/media/{name}", summary="A snapshot or clip, through its share link (until it expires)",
             response_class=FileResponse)
    def media(name: str) -> FileResponse:
        found = store.get(name)
        if found is None or not found.path.is_file():
            raise HTTPException(404, "this link is unknown or has expired")
        return FileResponse(found.path, media_type=found.content_type, filename=f"tryon-{name[:8]}{found.path.suffix}",
                            content_disposition_type="inline", headers={"Cache-Control": "private, max-age=60"})

    @app.get("/api/health", summary="Liveness and how many sessions are live")
    def health() -> dict[str, Any]:
        """`sessions`: every session, connected or still connecting; `seats`: those holding a live seat;
        `pending`: offers answered but not yet connected."""
        return {"ok": True, "sessions": len(sessions), "seats": seats.count(True), "pending": seats.count(False),
                "max_sessions": settings.max_sessions}

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        """Swagger UI from the installed package, never a CDN (it works offline)."""
        page = get_swagger_ui_html(openapi_url="/openapi.json", title=f"{app.title} - API",
                                   swagger_js_url="/docs-assets/swagger-ui-bundle.js",
                                   swagger_css_url="/docs-assets/swagger-ui.css",
                                   swagger_favicon_url="/docs-assets/favicon.png")
        page.headers["Content-Security-Policy"] = DOCS_CSP
        return page

    app.mount("/docs-assets", StaticFiles(directory=DOCS_ASSETS), name="docs-assets")

    app.include_router(kiosk_router(kiosk, store, WEB_DIR))
    if Path(WEB_DIR).is_dir():
        app.mount("/", StaticFiles(directory=WEB_DIR, html=True), name="web")
    return app


def free_port() -> int:
    """A TCP port nobody listens on now (on the loopback interface)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def serve_in_background(settings: Settings, kiosk: KioskSettings | None = None, host: str = "127.0.0.1",
                        port: int | None = None) -> Iterator[str]:
    """The app served by uvicorn in a background thread (for the kiosk, the live bench and the browser tests),
    on `host` and `port` (default: a free local port); yields its base URL on this machine
    (http://127.0.0.1:PORT) and stops the server on exit."""
    import uvicorn

    port = free_port() if port is None else port
    server = uvicorn.Server(uvicorn.Config(create_app(settings, kiosk), host=host, port=port, log_level="warning",
                                          proxy_headers=False))  # the guard decides whom to believe
    thread = threading.Thread(target=server.run, name="tryon-server", daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + SERVER_START_TIMEOUT_S
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise TryOnError(f"the try-on server did not start on {host}:{port} (is the port taken?)")
            time.sleep(0.05)
        # A wildcard address listens on loopback too; a single address is reached only at that address.
        yield f"http://{'127.0.0.1' if host in WILDCARD_HOSTS else host}:{port}"
    finally:
        server.should_exit = True
        thread.join(30)
