"""Live sessions: a WebRTC offer in, the answer out; the seat is taken when the connection comes up."""

from __future__ import annotations

import logging
import re
import time
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request

from tryon.errors import TryOnError
from tryon.jewelry.places import resolve_specs
from tryon.server.models import Answer, Offer, Problem
from tryon.server.routes.rtc import IceConfig
from tryon.server.seats import RefusedError
from tryon.server.session import Session, check_offer_sdp, shorten
from tryon.server.state import ServerState, server_state

log = logging.getLogger(__name__)
router = APIRouter(tags=["live"])
State = Annotated[ServerState, Depends(server_state)]


def plain(text: str) -> str:
    """A library's error message fit for a client: no object addresses, at most 200 characters."""
    return shorten(re.sub(r"<[^<>]* at 0x[0-9a-fA-F]+>", "<object>", text), 200)


def client_of(request: Request) -> str:
    """The client's address as the guard found it (through a trusted proxy's X-Forwarded-For); "" if unknown."""
    return str(request.scope.get("state", {}).get("client", request.client.host if request.client else ""))


@router.post("/api/offer", summary="Start a live session from a WebRTC offer",
             responses={400: {"model": Problem, "description": "malformed offer or unknown item"},
                        429: {"model": Problem, "description": "this device holds its share of seats or offers"},
                        503: {"model": Problem, "description": "every seat is taken"}})
async def offer(state: State, body: Offer, request: Request) -> Answer:
    """The offer gets a pending place (at most a few per client address); it takes a live seat only once its
    connection is up, and loses its place unless that happens within the connect timeout."""
    settings, kiosk, seats, sessions = state.settings, state.kiosk, state.seats, state.sessions
    if state.draining:  # a load balancer passes a 503 on to the next server
        state.metrics.offer_refused(503)
        raise HTTPException(503, "this server is shutting down; try again shortly")
    try:
        # Cheap checks first: a bad offer costs nothing and holds no place.
        resolve_specs(state.catalog, body.items)
        check_offer_sdp(body.sdp)
    except TryOnError as e:
        raise HTTPException(400, str(e)) from None
    session = Session(state.catalog, state.store, body.items, settings.hfov_deg, body.utc_offset_min,
                      media_ttl_s=kiosk.link_ttl_s if body.kiosk else None,
                      track=frozenset({"face"}) if body.kiosk else frozenset(),
                      use_compositor=settings.use_compositor, frame_timeout_s=settings.frame_timeout_s,
                      max_media_bytes=int(settings.max_session_media_mb * 1024**2),
                      rtc_config=IceConfig.from_settings(settings).aiortc())
    try:
        seats.reserve(session.id, client_of(request))
    except RefusedError as e:
        await session.close()
        state.metrics.offer_refused(e.status)
        raise HTTPException(e.status, str(e)) from None
    sessions[session.id] = session
    session.metrics = state.metrics

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
        state.metrics.error("offer")
        raise HTTPException(400, f"malformed offer: {type(e).__name__}: {plain(str(e))}") from None
    seats.answered(session.id, time.monotonic())
    log.info("session %s started (%d live)", session.id, len(sessions))
    return Answer(sdp=sdp, session=session.id)
