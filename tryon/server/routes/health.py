"""Liveness, readiness, seats, the Prometheus metrics, and the API's own docs (Swagger UI from the installed
package, never a CDN).

- `GET /api/health`: seats and sessions (as it always was).
- `GET /api/health/live`: 200 while the process answers at all (a supervisor restarts it otherwise).
- `GET /api/health/ready`: 200 when this server takes new sessions; 503 while it drains for shutdown, or when
  the shared database (TRYON_DATABASE_URL) does not answer. A load balancer sends offers only to ready servers.
- `GET /metrics`: Prometheus' text format (tryon.server.metrics).
"""

from __future__ import annotations

import asyncio
import importlib.util
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import BaseModel

from tryon.errors import TryOnError
from tryon.server.metrics import CONTENT_TYPE, Snapshot
from tryon.server.models import Health
from tryon.server.state import ServerState, server_state

router = APIRouter(tags=["health"])
State = Annotated[ServerState, Depends(server_state)]
# Swagger UI's files, as the fastapi-offline package ships them (a version that reads OpenAPI 3.1).
DOCS_ASSETS = Path(importlib.util.find_spec("fastapi_offline").origin or "").parent / "static"  # type: ignore[union-attr]
DATABASE_CHECK_S = 3.0  # a database slower than this to answer "SELECT 1" counts as unreachable
DOCS_CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
            "script-src 'self' 'unsafe-inline'; frame-ancestors 'none'")


@router.get("/api/health", summary="Liveness and how many sessions are live")
def health(state: State) -> Health:
    return Health(ok=True, sessions=len(state.sessions), seats=state.seats.count(True),
                  pending=state.seats.count(False), max_sessions=state.settings.max_sessions)


class Readiness(BaseModel):
    """`ready`: new sessions are taken here. `draining`: shutting down, finishing the running sessions.
    `database`: "sqlite" (the default, local), "ok" (the shared database answered) or why it did not."""

    ready: bool
    draining: bool
    database: str
    sessions: int


@router.get("/api/health/live", summary="Liveness: the process answers")
def live() -> dict[str, bool]:
    return {"ok": True}


@router.get("/api/health/ready", summary="Readiness: new sessions are taken here (503: draining or database down)",
            response_model=Readiness, responses={503: {"model": Readiness, "description": "not ready"}})
async def ready(state: State) -> JSONResponse:
    database = await _database_check(state)
    body = Readiness(ready=not state.draining and database in ("sqlite", "ok"), draining=state.draining,
                     database=database, sessions=len(state.sessions))
    return JSONResponse(body.model_dump(), status_code=200 if body.ready else 503)


async def _database_check(state: State) -> str:
    """"sqlite" when no shared database is configured; else "ok" or why it did not answer."""
    db = getattr(state.store, "db", None)
    if state.settings.database_url is None or db is None:
        return "sqlite"
    try:
        await asyncio.wait_for(asyncio.to_thread(db.execute, "SELECT 1"), DATABASE_CHECK_S)
    except TimeoutError:
        return f"unreachable: no answer within {DATABASE_CHECK_S:g} s"
    except (TryOnError, OSError) as e:
        return f"unreachable: {e}"
    return "ok"


@router.get("/metrics", summary="Metrics in Prometheus' text format", response_class=Response,
            responses={200: {"content": {CONTENT_TYPE: {}}, "description": "the text exposition"}})
async def metrics(state: State) -> Response:
    # An async route: it runs on the event loop, where the sessions and seats are changed, so it reads them whole.
    fps = sum(s.stats()["fps"] for s in list(state.sessions.values()))
    snapshot = Snapshot(live=state.seats.count(True), pending=state.seats.count(False),
                        max_seats=state.settings.max_sessions, frames_per_second=float(fps),
                        draining=state.draining, jobs=await asyncio.to_thread(_job_counts, state))
    return Response(state.metrics.render(snapshot), media_type=CONTENT_TYPE)


def _job_counts(state: ServerState) -> Mapping[str, Mapping[str, int]]:
    """{kind: {"queued": units waiting, "running": units being worked on}} from the job store (tryon.server.jobs;
    in the shared database, so every server reports the whole cluster's queue)."""
    out: dict[str, dict[str, int]] = {}
    for (kind, status), n in state.jobs.counts().items():
        name = {"pending": "queued", "running": "running"}.get(status)
        if name is not None:
            out.setdefault(kind, {"queued": 0, "running": 0})[name] += n
    return out


@router.get("/docs", include_in_schema=False)
def docs(request: Request) -> HTMLResponse:
    page = get_swagger_ui_html(openapi_url="/openapi.json", title=f"{request.app.title} - API",
                               swagger_js_url="/docs-assets/swagger-ui-bundle.js",
                               swagger_css_url="/docs-assets/swagger-ui.css",
                               swagger_favicon_url="/docs-assets/favicon.png")
    page.headers["Content-Security-Policy"] = DOCS_CSP
    return page
