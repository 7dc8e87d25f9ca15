"""The HTTP server: the app with its guard, its routers (one per resource, in tryon.server.routes), the kiosk's
pages and the web pages in web/. OpenAPI at /docs."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles

from tryon.config import REPO_ROOT, Settings
from tryon.errors import TryOnError
from tryon.server import bounded
from tryon.server.guard import Guard, Policy
from tryon.server.kiosk import KioskSettings, kiosk_router
from tryon.server.routes import advise, design, health, items, jobs, live, lookbook, media, photos, retouch, rtc
from tryon.server.state import ServerState

log = logging.getLogger(__name__)
WEB_DIR = REPO_ROOT / "web"
PURGE_PERIOD_S = 300.0  # at most; sooner when a link expires sooner
SERVER_START_TIMEOUT_S = 30.0
WILDCARD_HOSTS = ("0.0.0.0", "", "::")


def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    """422 with where and what, never the input itself (it may be a megabyte)."""
    errors = [{"loc": list(e.get("loc", ())), "msg": str(e.get("msg", "")), "type": str(e.get("type", ""))}
              for e in exc.errors()[:20]]
    return JSONResponse({"detail": errors}, status_code=422)


def create_app(settings: Settings | None = None, kiosk: KioskSettings | None = None) -> FastAPI:
    settings = settings or Settings()
    kiosk = kiosk or KioskSettings()
    rtc.IceConfig.from_settings(settings)  # a wrong TRYON_ICE_SERVERS stops here, naming the entry
    state = ServerState.open(settings, kiosk)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        tasks = [asyncio.create_task(_purge_loop(state)), asyncio.create_task(_connect_watch(state))]
        state.jobs.start()  # and resume the jobs a restart cut off (without a broker: this server's worker)
        yield
        state.jobs.close()
        for task in tasks:
            task.cancel()
        bounded.kill_all()
        await asyncio.gather(*(s.close("shutdown") for s in list(state.sessions.values())))
        if state.photo is not None:
            await asyncio.get_running_loop().run_in_executor(state.photo_pool, state.photo.close)
        state.photo_pool.shutdown()
        state.import_pool.shutdown()
        state.store.close()

    app = FastAPI(title="Jewelry try-on", version="1", lifespan=lifespan, docs_url=None, redoc_url=None,
                  description="Live AR jewelry try-on over WebRTC, photo try-on, and share links.")
    policy = Policy(upload_bytes=int(settings.max_upload_mb * 1024 * 1024), admin_token=settings.admin_token,
                    allowed_hosts=tuple(settings.allowed_hosts), allowed_origins=tuple(settings.allowed_origins),
                    trusted_proxies=tuple(settings.trusted_proxies), lan_handoff_only=kiosk.lan_handoff_only)
    policy = dataclasses.replace(
        policy, uploads=policy.uploads | retouch.UPLOAD_PATHS | advise.UPLOAD_PATHS | design.UPLOAD_PATHS
        | lookbook.UPLOAD_PATHS, admin=policy.admin | retouch.ADMIN_ROUTES | design.ADMIN_ROUTES | lookbook.ADMIN_ROUTES
        | jobs.ADMIN_ROUTES)
    app.add_middleware(Guard, policy=policy)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, _validation_error)  # type: ignore[arg-type]
    app.state.tryon = state
    for module in (items, live, photos, media, health, design, retouch, advise, lookbook, jobs):
        app.include_router(module.router)
    app.include_router(rtc.router)
    app.mount("/docs-assets", StaticFiles(directory=health.DOCS_ASSETS), name="docs-assets")
    app.include_router(kiosk_router(kiosk, state.store, WEB_DIR))
    if Path(WEB_DIR).is_dir():
        app.mount("/", StaticFiles(directory=WEB_DIR, html=True), name="web")
    return app


async def _purge_loop(state: ServerState) -> None:
    """Expired links go when they expire: wake then, but never sleep longer than the shortest lifetime a link
    can get, so one made meanwhile is not missed."""
    period_s = min(PURGE_PERIOD_S, state.settings.link_ttl_s, state.kiosk.link_ttl_s)
    while True:
        state.store.purge()
        next_s = state.store.next_expiry()
        wait_s = period_s if next_s is None else min(period_s, next_s - time.time())
        await asyncio.sleep(max(0.05, wait_s))


async def _connect_watch(state: ServerState) -> None:
    """Offers answered but never connected (ICE stripped, the peer gone) lose their place."""
    timeout_s = state.settings.connect_timeout_s
    while True:
        await asyncio.sleep(0.5)
        for key in state.seats.overdue(time.monotonic(), timeout_s):
            state.seats.release(key)
            if key in state.sessions:
                log.info("session %s: not connected within %g s, dropped", key, timeout_s)
                await state.sessions[key].close("connect_timeout")


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
                                          proxy_headers=False,  # the guard decides whom to believe
                                          timeout_graceful_shutdown=10))
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
