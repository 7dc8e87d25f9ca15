"""The in-store kiosk mirror, server side: its settings, its page, QR codes and the phones' hand-off pages.

A customer takes a snapshot or a clip at the kiosk; the screen shows a QR code of a short-lived page on this
server (`/m/TOKEN.png|mp4`), which their phone opens over the store's network to download or share it. The
page's address uses this machine's address on the local network (or `public_url`), since the kiosk's own page
is loaded from 127.0.0.1, which means nothing to a phone.
"""

from __future__ import annotations

import base64
import hashlib
import html
import io
import ipaddress
import socket
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse, Response
from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from tryon.server.guard import is_loopback
from tryon.server.store import MediaStore

QR_SCALE = 10  # pixels per module of the SVG's own size (it scales without loss)
QR_BORDER = 4  # modules of quiet zone around the code, as the standard asks
# A documentation address (TEST-NET-1): "connecting" a UDP socket to it sends nothing, it only makes the kernel
# choose the interface (and so the source address) of the default route.
ROUTE_PROBE = ("192.0.2.1", 9)


class KioskSettings(BaseSettings):
    """Every field can be set from the environment with the prefix TRYON_KIOSK_ (`tryon kiosk` flags win)."""

    model_config = SettingsConfigDict(env_prefix="TRYON_KIOSK_", frozen=True)

    attract_after_s: float = Field(8.0, ge=1.0, le=3600.0,
                                   description="no face (and no touch) for this long: the attract loop plays")
    reset_after_s: float = Field(60.0, ge=2.0, le=24 * 3600.0,
                                 description="no face and no touch for this long: the next customer's turn "
                                             "(items back to the default, the screen's snapshots and clips gone)")
    link_ttl_s: int = Field(15 * 60, gt=0, le=7 * 24 * 3600, description="how long a kiosk's hand-off links live")
    public_url: str | None = Field(None, description="base URL of this server as phones reach it, e.g. "
                                                     "http://192.168.1.20:8000 (default: this machine's LAN address "
                                                     "and the port the kiosk page came from)")
    lan_handoff_only: bool = Field(False, description="other machines reach only the hand-off pages and media "
                                                      "links, not the live API (`tryon kiosk` turns it on)")

    @field_validator("public_url")
    @classmethod
    def _check_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"a public URL is http(s)://HOST[:PORT], not {value!r}")
        return value.rstrip("/")

    @model_validator(mode="after")
    def _reset_after_attract(self) -> KioskSettings:
        if self.reset_after_s < self.attract_after_s:
            raise ValueError(f"reset_after_s ({self.reset_after_s:g}) must not be shorter than attract_after_s "
                             f"({self.attract_after_s:g}): the attract loop plays before the reset")
        return self


def pick_lan_address(candidates: Iterable[str]) -> str | None:
    """The first usable IPv4 address for other devices on the network, private ranges preferred; None if none
    (loopback, link-local, unspecified and malformed ones are skipped)."""
    usable = []
    for text in candidates:
        try:
            address = ipaddress.ip_address(text)
        except ValueError:
            continue
        if address.version == 4 and not (address.is_loopback or address.is_link_local or address.is_unspecified
                                         or address.is_multicast):
            usable.append(address)
    private = [a for a in usable if a.is_private]
    chosen = (private or usable)[:1]
    return str(chosen[0]) if chosen else None


def lan_address() -> str | None:
    """This machine's IPv4 address on its local network: the source address of its default route, else one its
    host name resolves to; None where it has none. Sends no packet."""
    candidates = []
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.connect(ROUTE_PROBE)
            candidates.append(s.getsockname()[0])
    except OSError:  # no route at all: an offline machine
        pass
    try:
        candidates += [str(info[4][0]) for info in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET)]
    except OSError:
        pass
    return pick_lan_address(candidates)


def phone_base_url(public_url: str | None, request_base: str,
                   lan: Callable[[], str | None] = lan_address) -> str:
    """Where phones reach this server: `public_url` if set, else the URL the kiosk page came from with a
    loopback host replaced by this machine's LAN address (kept when it has none)."""
    if public_url:
        return public_url.rstrip("/")
    parts = urlsplit(request_base)
    host = parts.hostname or "127.0.0.1"
    if is_loopback(host):
        host = lan() or host
    if ":" in host:
        host = f"[{host}]"
    return f"{parts.scheme}://{host}{f':{parts.port}' if parts.port else ''}"


def qr_svg(text: str) -> bytes:
    """A QR code of `text` as an SVG (black on white, with its quiet zone)."""
    import segno

    out = io.BytesIO()
    segno.make(text, error="m").save(out, kind="svg", scale=QR_SCALE, border=QR_BORDER, dark="#000", light="#fff",
                                     xmldecl=False)
    return out.getvalue()


def kiosk_router(kiosk: KioskSettings, store: MediaStore, web_dir: Path) -> APIRouter:
    router = APIRouter()

    @router.get("/kiosk", include_in_schema=False)
    def kiosk_page() -> FileResponse:
        return FileResponse(web_dir / "kiosk.html", media_type="text/html", headers={"Cache-Control": "no-cache"})

    @router.get("/api/kiosk", summary="The kiosk mirror's settings, as its page uses them")
    def kiosk_settings(request: Request) -> dict[str, Any]:
        """`handoff_base`: where phones reach this server (the QR codes' links start with it)."""
        return {"attract_after_s": kiosk.attract_after_s, "reset_after_s": kiosk.reset_after_s,
                "link_ttl_s": kiosk.link_ttl_s, "handoff_base": phone_base_url(kiosk.public_url, str(request.base_url))}

    @router.get("/api/media/{name}/qr.svg", summary="A QR code of the phone page for a snapshot or clip",
                response_class=Response, responses={200: {"content": {"image/svg+xml": {}}}})
    def qr(name: str, request: Request) -> Response:
        """The code holds `{handoff_base}/m/{name}`: a page to download or share it, until the link expires."""
        if store.get(name) is None:
            raise HTTPException(404, "this link is unknown or has expired")
        link = f"{phone_base_url(kiosk.public_url, str(request.base_url))}/m/{name}"
        return Response(qr_svg(link), media_type="image/svg+xml", headers={"Cache-Control": "no-store"})

    @router.get("/m/{name}", response_class=HTMLResponse, summary="The phone's page for a snapshot or clip")
    def handoff(name: str) -> HTMLResponse:
        """Download or share it; says when the link expires. Opening it here claims the link: a kiosk's reset
        for the next customer keeps it (until it expires) since this customer took it along."""
        found = store.get(name)
        if found is None or not found.path.is_file():
            return HTMLResponse(_expired_page(kiosk.link_ttl_s), status_code=404, headers=NO_STORE)
        store.claim(found.token)
        return HTMLResponse(_handoff_page(name, found.content_type, found.expires_at),
                            headers={**NO_STORE, "Content-Security-Policy": HANDOFF_CSP})

    return router


NO_STORE = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer", "X-Robots-Tag": "noindex"}

_STYLE = """
  :root { color-scheme: dark; font-family: system-ui, sans-serif; background: #111; color: #f4efe6; }
  body { margin: 0; }
  main { max-width: 40rem; margin: 0 auto; padding: 1.25rem; display: grid; gap: 1rem; }
  h1 { font-size: 1.5rem; font-weight: 600; margin: 0; }
  .media { width: 100%; border-radius: 12px; background: #000; }
  .actions { display: flex; gap: .75rem; flex-wrap: wrap; }
  .button { flex: 1; min-height: 56px; border-radius: 28px; border: 2px solid #d9b56c; background: transparent;
            color: #f4efe6; font: inherit; font-size: 1.15rem; display: inline-flex; align-items: center;
            justify-content: center; text-decoration: none; padding: 0 1.5rem; }
  .button.primary { background: #d9b56c; color: #111; font-weight: 600; }
  p { margin: 0; line-height: 1.45; color: #cfc7b8; }
"""

_SCRIPT = """
  const expiry = document.getElementById('expiry');
  const at = new Date(Number(expiry.dataset.expires));
  const clock = at.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  expiry.textContent = `This link works until ${clock}; then the ${expiry.dataset.what} is deleted from the kiosk.`;
  const share = document.getElementById('share');
  const src = share.dataset.src;
  if (typeof navigator.canShare === 'function') {
    fetch(src).then((res) => res.blob()).then((blob) => {
      const file = new File([blob], share.dataset.name, { type: blob.type });
      if (!navigator.canShare({ files: [file] })) return;
      share.hidden = false;
      share.addEventListener('click', () => navigator.share({ files: [file], title: 'My jewelry try-on' }).catch(() => {}));
    }).catch(() => {});
  }
"""

# The hand-off page carries its own little script and style: allow that script by its hash, nothing else inline.
HANDOFF_CSP = ("default-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; style-src 'unsafe-inline'; "
               f"script-src 'sha256-{base64.b64encode(hashlib.sha256(_SCRIPT.encode()).digest()).decode()}'; "
               "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'")


def span(seconds: float) -> str:
    """A lifetime in words: "15 minutes", "1 minute", "24 hours", "30 seconds"."""
    value, unit = ((seconds / 3600, "hour") if seconds >= 7200 else (seconds / 60, "minute") if seconds >= 60
                   else (seconds, "second"))
    n = max(1, round(value))
    return f"{n} {unit}{'' if n == 1 else 's'}"


def _handoff_page(name: str, content_type: str, expires_at: float) -> str:
    src = html.escape(f"/api/media/{name}")
    clip = content_type.startswith("video/")
    what = "clip" if clip else "snapshot"
    filename = html.escape(f"tryon-{name[:8]}{Path(name).suffix}")
    media = (f'<video class="media" src="{src}" controls playsinline autoplay muted loop></video>' if clip else
             f'<img class="media" src="{src}" alt="Your try-on snapshot">')
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex"><link rel="icon" href="data:,"><title>Your try-on {what}</title>
<style>{_STYLE}</style></head>
<body><main>
<h1>Your try-on {what}</h1>
{media}
<div class="actions">
  <a class="button primary" id="download" href="{src}" download="{filename}">Download</a>
  <button class="button" id="share" type="button" data-src="{src}" data-name="{filename}" hidden>Share</button>
</div>
<p id="expiry" data-expires="{int(expires_at * 1000)}" data-what="{what}">This link works for
{span(expires_at - time.time())} more; then the {what} is deleted from the kiosk.</p>
<p>Nothing else is kept: no name, no account, no record of your phone.</p>
</main><script>{_SCRIPT}</script></body></html>
"""


def _expired_page(ttl_s: int) -> str:
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,"><title>Link expired</title><style>{_STYLE}</style></head>
<body><main><h1>This link has expired</h1>
<p>Snapshots and clips from the try-on mirror are kept for {span(ttl_s)} only, then deleted.
Take a new one at the mirror.</p></main></body></html>
"""
