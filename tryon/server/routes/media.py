"""Share links: a snapshot or clip, until its link expires."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException
from fastapi.responses import FileResponse

from tryon.server.models import Problem
from tryon.server.state import ServerState, server_state

router = APIRouter(tags=["media"])
State = Annotated[ServerState, Depends(server_state)]


@router.get("/api/media/{name}", summary="A snapshot or clip, through its share link (until it expires)",
            response_class=FileResponse, responses={404: {"model": Problem}})
def media(state: State, name: str) -> FileResponse:
    found = state.store.get(name)
    if found is None or not found.path.is_file():
        raise HTTPException(404, "this link is unknown or has expired")
    return FileResponse(found.path, media_type=found.content_type, filename=f"tryon-{name[:8]}{found.path.suffix}",
                        content_disposition_type="inline", headers={"Cache-Control": "private, max-age=60"})
