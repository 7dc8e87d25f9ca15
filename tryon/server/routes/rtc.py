"""ICE servers (STUN and TURN) for real networks: one setting, TRYON_ICE_SERVERS, given to both ends.

A shopper on a phone behind a carrier's NAT reaches the server only through a TURN relay. The same list, in the
browser's `RTCPeerConnection` shape, goes to the pages through `GET /api/ice` (they fetch it before making their
peer connection) and to aiortc as its `RTCConfiguration`, so both ends gather candidates from the same servers.
TRYON_ICE_TRANSPORT_POLICY=relay makes both ends use relayed candidates only (to check a TURN server, or to keep
the two ends' addresses from each other).

A TURN password in the setting reaches every page that loads. With TRYON_TURN_SECRET (coturn's
static-auth-secret, `use-auth-secret`), TURN entries without a username get time-limited credentials instead,
made for each page and each session as coturn's REST API scheme has them: username "EXPIRY:tryon",
credential base64(HMAC-SHA1(secret, username)); one copied from a page stops working when it expires.

The list is checked once, when the app is made: a wrong entry stops the server with a message naming it, instead
of failing in every shopper's browser later.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import time
from dataclasses import dataclass, replace
from typing import Annotated, Any

from aiortc import RTCConfiguration, RTCIceServer
from aiortc.rtcconfiguration import RTCIceTransportPolicy
from aiortc.rtcicetransport import parse_stun_turn_uri
from fastapi import APIRouter, Depends, Response
from pydantic import BaseModel, Field

from tryon.config import Settings
from tryon.errors import InputError
from tryon.server.state import ServerState, server_state

router = APIRouter(tags=["live"])
State = Annotated[ServerState, Depends(server_state)]

# As RFC 7064 / 7065 write them: scheme:host[:port][?transport=udp|tcp]. (An [IPv6] host is valid there, but
# aiortc cannot read it: a name or an IPv4 address.)
_URL = re.compile(r"(?P<scheme>stuns?|turns?):(?P<host>[A-Za-z0-9._-]+)(?::(?P<port>\d{1,5}))?"
                  r"(?:\?transport=(?P<transport>udp|tcp))?")
_KEYS = frozenset({"urls", "username", "credential", "credentialType"})
POLICIES = ("all", "relay")
TURN_USER = "tryon"  # the name part of a time-limited TURN username (coturn logs it)


@dataclass(frozen=True)
class IceServer:
    """One entry of TRYON_ICE_SERVERS, checked. `urls`: stun:, stuns:, turn: or turns: URLs; a TURN server has a
    username and a credential (browsers refuse one without), or gets time-limited ones (`minted`)."""

    urls: tuple[str, ...]
    username: str | None = None
    credential: str | None = None
    minted: bool = False  # credentials made from TRYON_TURN_SECRET for each page and session

    @property
    def turn(self) -> bool:
        return any(u.startswith("turn") for u in self.urls)

    def to_json(self) -> dict[str, Any]:
        """As the browser's RTCIceServer dictionary."""
        out: dict[str, Any] = {"urls": list(self.urls)}
        if self.username is not None:
            out["username"] = self.username
        if self.credential is not None:
            out["credential"] = self.credential
        return out


def parse_ice_servers(raw: list[dict[str, Any]], name: str = "TRYON_ICE_SERVERS",
                      turn_secret: bool = False) -> tuple[IceServer, ...]:
    """The setting's entries, checked; InputError naming the entry and what is wrong with it. `turn_secret`: a
    TURN server without username and credential gets time-limited ones (TRYON_TURN_SECRET)."""
    servers = []
    for i, entry in enumerate(raw):
        where = f"{name}[{i}]"
        if not isinstance(entry, dict):
            raise InputError(f"{where}: an ICE server is a JSON object like {{\"urls\": \"stun:host:3478\"}}, "
                             f"not {type(entry).__name__}")
        unknown = sorted(set(entry) - _KEYS)
        if unknown:
            raise InputError(f"{where}: unknown key(s) {', '.join(map(repr, unknown))} (an ICE server has "
                             f"{', '.join(sorted(_KEYS))})")
        urls = entry.get("urls")
        urls = [urls] if isinstance(urls, str) else urls
        if not isinstance(urls, list) or not urls or not all(isinstance(u, str) for u in urls):
            raise InputError(f"{where}: \"urls\" is a URL or a non-empty list of URLs (stun:, turn:, turns:), "
                             f"not {entry.get('urls')!r}")
        for url in urls:
            match = _URL.fullmatch(url)
            if match is None and "[" in url:
                raise InputError(f"{where}: {url!r}: the server's WebRTC (aiortc) cannot use an IPv6 address in an "
                                 f"ICE URL; give the STUN or TURN server's host name")
            if match is None:
                raise InputError(f"{where}: {url!r} is not a STUN or TURN URL (e.g. stun:stun.example.com:3478, "
                                 f"turn:turn.example.com:3478?transport=udp, turns:turn.example.com:5349)")
            if match["port"] is not None and not 1 <= int(match["port"]) <= 65535:
                raise InputError(f"{where}: port {match['port']} in {url!r} is not 1 to 65535")
            if match["scheme"].startswith("stun") and match["transport"]:
                raise InputError(f"{where}: a STUN URL takes no ?transport ({url!r})")
            try:  # what aiortc will do with it, at every offer: better fail now
                parse_stun_turn_uri(url)
            except ValueError as e:
                raise InputError(f"{where}: the server's WebRTC (aiortc) cannot read {url!r}: {e}") from None
        username, credential = entry.get("username"), entry.get("credential")
        for key, value in (("username", username), ("credential", credential)):
            if value is not None and not isinstance(value, str):
                raise InputError(f"{where}: \"{key}\" is a string, not {type(value).__name__}")
        if entry.get("credentialType", "password") != "password":
            raise InputError(f"{where}: only credentialType \"password\" is supported, not "
                             f"{entry['credentialType']!r}")
        turn = any(u.startswith("turn") for u in urls)
        minted = turn and turn_secret and username is None and credential is None
        if turn and not minted and (not username or not credential):
            raise InputError(f"{where}: a TURN server needs a \"username\" and a \"credential\"" + (
                "" if turn_secret else " (or neither, with TRYON_TURN_SECRET for time-limited ones)"))
        servers.append(IceServer(tuple(urls), username, credential, minted=bool(minted)))
    return tuple(servers)


def turn_credentials(secret: str, expires_s: float, user: str = TURN_USER) -> tuple[str, str]:
    """(username, credential) valid until `expires_s` (Unix time) for a TURN server sharing `secret`
    (coturn's use-auth-secret / static-auth-secret)."""
    username = f"{int(expires_s)}:{user}"
    digest = hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()
    return username, base64.b64encode(digest).decode("ascii")


def check_policy(policy: str) -> str:
    if policy not in POLICIES:
        raise InputError(f"TRYON_ICE_TRANSPORT_POLICY is 'all' or 'relay', not {policy!r}")
    return policy


@dataclass(frozen=True)
class IceConfig:
    """What both ends of a live session are configured with."""

    servers: tuple[IceServer, ...] = ()
    policy: str = "all"  # "all" | "relay"
    turn_secret: str | None = None
    credential_ttl_s: float = 12 * 3600.0

    @classmethod
    def from_settings(cls, settings: Settings) -> IceConfig:
        """InputError when TRYON_ICE_SERVERS or TRYON_ICE_TRANSPORT_POLICY is wrong."""
        policy = check_policy(settings.ice_transport_policy)
        servers = parse_ice_servers(settings.ice_servers, turn_secret=settings.turn_secret is not None)
        if policy == "relay" and not any(s.turn for s in servers):
            raise InputError("TRYON_ICE_TRANSPORT_POLICY=relay needs a TURN server in TRYON_ICE_SERVERS "
                             "(without one no connection can come up)")
        return cls(servers, policy, settings.turn_secret, float(settings.turn_credential_ttl_s))

    def now(self, now_s: float | None = None) -> tuple[IceServer, ...]:
        """The servers with their credentials as of `now_s` (Unix time; default now): time-limited ones made
        afresh."""
        if self.turn_secret is None or not any(s.minted for s in self.servers):
            return self.servers
        expires_s = (time.time() if now_s is None else now_s) + self.credential_ttl_s
        username, credential = turn_credentials(self.turn_secret, expires_s)
        return tuple(replace(s, username=username, credential=credential) if s.minted else s for s in self.servers)

    def to_json(self, now_s: float | None = None) -> dict[str, Any]:
        """The page's RTCConfiguration."""
        return {"iceServers": [s.to_json() for s in self.now(now_s)], "iceTransportPolicy": self.policy}

    def aiortc(self, now_s: float | None = None) -> RTCConfiguration | None:
        """aiortc's configuration; None when nothing is set, so aiortc keeps its own default (as before the
        setting existed). aiortc uses the first STUN and the first TURN URL it can (turn: over UDP or TCP,
        turns: over TCP)."""
        if not self.servers and self.policy == "all":
            return None
        return RTCConfiguration(
            iceServers=[RTCIceServer(urls=list(s.urls), username=s.username, credential=s.credential)
                        for s in self.now(now_s)],
            iceTransportPolicy=RTCIceTransportPolicy(self.policy))


class IceAnswer(BaseModel):
    iceServers: list[dict[str, Any]] = Field(description="as RTCPeerConnection's iceServers takes it")
    iceTransportPolicy: str = Field(description="'all', or 'relay': relayed (TURN) candidates only")


@router.get("/api/ice", summary="The ICE (STUN and TURN) servers for a live session's peer connection",
            response_model=IceAnswer)
def ice(state: State, response: Response) -> dict[str, Any]:
    """The pages fetch this before making their RTCPeerConnection (TRYON_ICE_SERVERS; the server's own
    aiortc end uses the same servers). Never cached: it may carry credentials, time-limited ones made now."""
    response.headers["Cache-Control"] = "no-store"
    return IceConfig.from_settings(state.settings).to_json()
