"""Liveness, seats, and the API's own docs (Swagger UI from the installed package, never a CDN)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse

from tryon.server.models import Health
from tryon.server.state import ServerState, server_state

router = APIRouter(tags=["health"])
State = Annotated[ServerState, Depends(server_state)]
# Swagger UI's files, as the fastapi-offline package ships them (a version that reads OpenAPI 3.1).
DOCS_ASSETS = Path(importlib.util.find_spec("fastapi_offline").origin or "").parent / "static"  # type: ignore[union-attr]
DOCS_CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
            "script-src 'self' 'unsafe-inline'; frame-ancestors 'none'")


@router.get("/api/health", summary="Liveness and how many sessions are live")
def health(state: State) -> Health:
    return Health(ok=True, sessions=len(state.sessions), seats=state.seats.count(True),
                  pending=state.seats.count(False), max_sessions=state.settings.max_sessions)


@router.get("/docs", include_in_schema=False)
def docs(request: Request) -> HTMLResponse:
    page = get_swagger_ui_html(openapi_url="/openapi.json", title=f"{request.app.title} - API",
                               swagger_js_url="/docs-assets/swagger-ui-bundle.js",
                               swagger_css_url="/docs-assets/swagger-ui.css",
                               swagger_favicon_url="/docs-assets/favicon.png")
    page.headers["Content-Security-Policy"] = DOCS_CSP
    return page
