"""The HTTP guard: checks every request needs before any route reads it (an outermost ASGI middleware).

In order: the path (no dot segments, decoded or not); who the client is (a trusted reverse proxy's
X-Forwarded-For, else the socket's address); the Host header (IP addresses and localhost, plus configured names:
a guard against DNS rebinding); a kiosk's LAN rule (other machines reach only the hand-off links); cross-origin
writes refused; the admin token checked before an import's body is read; and the body's size, refused by
Content-Length before reading and cut off when a chunked body passes the limit. Every response gets the usual
security headers (nosniff, no framing, a content security policy unless the route set its own).
"""

from __future__ import annotations

import hmac
import ipaddress
import json
import re
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from typing import Any

from starlette.exceptions import HTTPException

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

BODY_LIMIT = 1024 * 1024  # any request but the uploads: an offer's SDP is at most 200 kB
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# What other machines may fetch from a kiosk that serves the phones (lan_handoff_only): the hand-off page and
# the file, by their exact shape.
HANDOFF_PATH = re.compile(r"/(m|api/media)/[A-Za-z0-9_-]{1,64}\.(png|mp4)")
CSP = ("default-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; style-src 'self' 'unsafe-inline'; "
       "script-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
       "frame-ancestors 'none'")
SECURITY_HEADERS = [(b"x-content-type-options", b"nosniff"), (b"x-frame-options", b"DENY"),
                    (b"referrer-policy", b"same-origin")]


@dataclass(frozen=True)
class Policy:
    """What the guard enforces. `uploads`: paths whose bodies may be `upload_bytes` long (others: BODY_LIMIT).
    `admin`: (method, path) pairs that need `Authorization: Bearer <admin_token>` (403 when no token is set)."""

    upload_bytes: int
    uploads: frozenset[str] = frozenset({"/api/tryon", "/api/items"})
    admin: frozenset[tuple[str, str]] = frozenset({("POST", "/api/items"), ("POST", "/api/design")})
    admin_token: str | None = None
    allowed_hosts: tuple[str, ...] = ()
    allowed_origins: tuple[str, ...] = ()
    trusted_proxies: tuple[str, ...] = ()
    lan_handoff_only: bool = False


def _ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text.strip().strip("[]"))
    except ValueError:
        return None


def is_loopback(host: str) -> bool:
    """This machine: "localhost" or a loopback address (brackets allowed); "" (unknown) is not."""
    if host == "localhost":
        return True
    address = _ip(host)
    return address is not None and address.is_loopback


def client_address(peer: str, forwarded_for: str | None, trusted: tuple[str, ...]) -> str:
    """The client's address: the socket's peer, or, when the peer is a trusted proxy, the last address in
    X-Forwarded-For that is not itself a trusted proxy (the first, when all are). A trusted proxy that sends
    no such header: "" (unknown, so never local)."""
    if peer not in trusted:
        return peer
    hops = [h.strip() for h in (forwarded_for or "").split(",") if h.strip()]
    chosen = next((hop for hop in reversed(hops) if hop not in trusted), hops[0] if hops else "")
    return chosen if _ip(chosen) is not None else ""


def host_allowed(host_header: str, allowed: tuple[str, ...]) -> bool:
    """IP literals and localhost always; other names only when listed (or with "*")."""
    host = host_header.strip().lower()
    host = host[1:host.index("]")] if host.startswith("[") and "]" in host else host.rsplit(":", 1)[0]
    if not host:
        return False
    return "*" in allowed or host == "localhost" or _ip(host) is not None or host in {a.lower() for a in allowed}


def bad_path(path: str) -> bool:
    """Dot segments ("/m/../app.js", decoded from %2e%2e too), backslashes and NULs: no client of ours sends them."""
    return "\\" in path or "\x00" in path or any(part in (".", "..") for part in path.split("/"))


def same_origin(origin: str, scheme: str, host_header: str) -> bool:
    return origin.rstrip("/").lower() == f"{scheme}://{host_header}".lower()


def admin_refusal(authorization: str, admin_token: str | None) -> tuple[int, str] | None:
    """(status, message) when a staff action (imports, designs, catalog jobs) may not run: 403 when this server has
    no admin token, 401 unless `authorization` is "Bearer TOKEN" with it; None when it may."""
    if not admin_token:
        return 403, ("staff actions (imports, designs, retouching, catalog jobs) are off on this server: "
                     "set TRYON_ADMIN_TOKEN to allow them")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(token.strip().encode(), admin_token.encode()):
        return 401, "a valid admin token is needed: send 'Authorization: Bearer TOKEN'"
    return None


def request_scheme(scheme: str, peer: str, forwarded_proto: str | None, trusted: tuple[str, ...]) -> str:
    """The scheme the client used: the connection's, or, from a trusted proxy (TLS ended there), the first
    X-Forwarded-Proto it sends when that is http or https."""
    if peer in trusted:
        forwarded = (forwarded_proto or "").split(",")[0].strip().lower()
        if forwarded in ("http", "https"):
            return forwarded
    return scheme


class Guard:
    def __init__(self, app: ASGIApp, policy: Policy) -> None:
        self.app = app
        self.policy = policy

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        refusal = self._check(scope, headers)
        if refusal is not None:
            await _reply(send, *refusal)
            return
        limit = self.policy.upload_bytes if scope["path"] in self.policy.uploads else BODY_LIMIT
        received = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    # Raised inside the route's body parsing; FastAPI re-raises HTTPException as it is.
                    raise HTTPException(413, _too_large(limit))
            return message

        async def secured_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                present = {k.lower() for k, _ in message.get("headers", [])}
                extra = [(k, v) for k, v in SECURITY_HEADERS if k not in present]
                if b"content-security-policy" not in present:
                    extra.append((b"content-security-policy", CSP.encode()))
                message["headers"] = list(message.get("headers", [])) + extra
            await send(message)

        try:
            await self.app(scope, limited_receive, secured_send)
        except HTTPException as e:  # the limit passed outside a route's own handling
            if started:
                raise
            await _reply(secured_send, e.status_code, str(e.detail))

    def _check(self, scope: Scope, headers: dict[str, str]) -> tuple[int, str] | None:
        """(status, message) when the request is refused before it reaches a route, else None."""
        policy = self.policy
        path, method = scope["path"], scope["method"]
        if bad_path(path):
            return 400, "bad path"
        peer = scope["client"][0] if scope.get("client") else ""
        client = client_address(peer, headers.get("x-forwarded-for"), policy.trusted_proxies)
        scope.setdefault("state", {})["client"] = client
        if not host_allowed(headers.get("host", ""), policy.allowed_hosts):
            return 400, "unknown host: add it to TRYON_ALLOWED_HOSTS to serve it"
        if policy.lan_handoff_only and not is_loopback(client) and not (
                method in ("GET", "HEAD") and HANDOFF_PATH.fullmatch(path)):
            return 403, "This kiosk only serves its download links to other devices."
        origin = headers.get("origin")
        if method in UNSAFE_METHODS and origin is not None and (origin == "null" or not (
                same_origin(origin, request_scheme(scope.get("scheme", "http"), peer, headers.get("x-forwarded-proto"),
                                                   policy.trusted_proxies), headers.get("host", ""))
                or origin.rstrip("/") in policy.allowed_origins)):
            return 403, "cross-origin requests are refused"
        if (method, path) in policy.admin and (refused := admin_refusal(headers.get("authorization", ""),
                                                                         policy.admin_token)):
            return refused
        limit = policy.upload_bytes if path in policy.uploads else BODY_LIMIT
        length = headers.get("content-length")
        if length is not None:
            if not length.strip().isdigit():
                return 400, "bad Content-Length"
            if int(length) > limit:
                return 413, _too_large(limit)
        return None


def _too_large(limit: int) -> str:
    return f"request body larger than {limit / 1024 / 1024:g} MB"


async def _reply(send: Send, status: int, message: str) -> None:
    body = json.dumps({"detail": message}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close"), *SECURITY_HEADERS,
                            (b"content-security-policy", CSP.encode())]})
    await send({"type": "http.response.body", "body": body})
