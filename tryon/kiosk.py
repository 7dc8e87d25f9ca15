"""`tryon kiosk`: the in-store mirror on a store PC. One command serves the try-on on this machine and opens
Chromium full-screen on the kiosk page, with the local camera and no internet.

The page loads from http://127.0.0.1 (a secure context, so the camera works without HTTPS); the server also
listens on the store's network (by default) so that customers' phones can open the hand-off links that the
QR codes carry, and only those (`KioskSettings.lan_handoff_only`).
"""

from __future__ import annotations

import logging
import os
import shlex
import shutil
import signal
import subprocess
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from urllib.parse import urlencode, urlsplit

from tryon.config import Settings
from tryon.errors import InputError
from tryon.server.guard import is_loopback
from tryon.server.kiosk import KioskSettings, lan_address

log = logging.getLogger(__name__)
CHROMIUM = "/usr/bin/chromium"  # Debian's; `tryon kiosk` falls back to `chromium` on the PATH
Layout = Literal["auto", "portrait", "landscape"]
# Chromium as an appliance: no first-run or crash bubbles, no translate bar, no swipe back or pinch zoom on a
# touch screen, no update checks, sync or other background traffic (the store PC may be offline), no keyring
# prompt, the camera allowed without asking (nobody is there to click "Allow"), video that plays by itself.
CHROMIUM_FLAGS = (
    "--no-first-run", "--no-default-browser-check", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--disable-features=Translate,TranslateUI",
    "--disable-session-crashed-bubble", "--noerrdialogs", "--disable-infobars", "--disable-pinch",
    "--overscroll-history-navigation=0", "--password-store=basic", "--use-fake-ui-for-media-stream",
    "--autoplay-policy=no-user-gesture-required", "--check-for-update-interval=31536000",
)


@dataclass(frozen=True)
class KioskOptions:
    host: str = "0.0.0.0"  # the phones must reach the hand-off links
    port: int = 8000
    layout: Layout = "auto"
    browser: bool = True
    chromium: str = CHROMIUM


def page_url(port: int, layout: Layout = "auto", host: str = "127.0.0.1") -> str:
    """The kiosk page as the kiosk's own browser opens it."""
    query = "" if layout == "auto" else "?" + urlencode({"layout": layout})
    return f"http://{host}:{port}/kiosk{query}"


def page_host(host: str) -> str:
    """Where this machine's browser reaches a server listening on `host`: loopback for a wildcard address,
    else that very address (a server on 127.0.0.2 is not reached at 127.0.0.1)."""
    if host in ("0.0.0.0", "", "::"):
        return "127.0.0.1"
    return f"[{host}]" if ":" in host else host


def public_url(host: str, port: int, given: str | None = None,
               lan: Callable[[], str | None] = lan_address) -> tuple[str, str | None]:
    """The base URL phones use for the hand-off links, and a warning when phones will not reach it."""
    if given:
        return given.rstrip("/"), None
    if host in ("0.0.0.0", "", "::"):
        address = lan()
        if address is None:
            return f"http://127.0.0.1:{port}", ("this machine has no address on a local network: phones cannot "
                                                "open the QR codes' links (connect it, or give --public-url)")
        return f"http://{address}:{port}", None
    if is_loopback(host):
        return f"http://{page_host(host)}:{port}", (f"listening on {host} only: phones cannot open the QR codes' "
                                                    "links (use --host 0.0.0.0, or give --public-url)")
    return f"http://{page_host(host)}:{port}", None


def chromium_command(url: str, profile_dir: Path, chromium: str = CHROMIUM) -> list[str]:
    """Chromium in kiosk mode (full screen, no browser UI, no way out but the keyboard) on `url`, with its own
    profile. A page not on loopback is declared secure so that it may use the camera over plain HTTP."""
    command = [chromium, "--kiosk", f"--app={url}", f"--user-data-dir={profile_dir}", *CHROMIUM_FLAGS]
    parts = urlsplit(url)
    if parts.scheme == "http" and not is_loopback(parts.hostname or ""):
        command.append(f"--unsafely-treat-insecure-origin-as-secure={parts.scheme}://{parts.netloc}")
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--no-sandbox")  # Chromium refuses to start as root with its sandbox
    return command


def find_chromium(preferred: str = CHROMIUM) -> str:
    found = preferred if Path(preferred).exists() else shutil.which("chromium") or shutil.which("chromium-browser")
    if not found:
        raise InputError(f"Chromium was not found ({preferred}): install Debian's `chromium` (make deb), or run "
                         "with --no-browser and open the kiosk page yourself")
    return found


@contextmanager
def _stop_on_sigterm() -> Iterator[None]:
    """SIGTERM (systemd stopping the kiosk) ends it as Ctrl-C does: the browser and the server close."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def run_kiosk(options: KioskOptions, settings: Settings, kiosk: KioskSettings,
              say: Callable[[str], None] = print) -> int:
    """Serve, then open the kiosk page in Chromium (or only print how to, without a browser) until the browser
    is closed or the process is interrupted."""
    from tryon.server.app import serve_in_background

    chromium = find_chromium(options.chromium) if options.browser else options.chromium
    phones, warning = public_url(options.host, options.port, kiosk.public_url)
    kiosk = kiosk.model_copy(update={"public_url": phones, "lan_handoff_only": True})
    name = urlsplit(phones).hostname or ""
    if name and name not in settings.allowed_hosts:  # the phones reach it by that name: answer to it
        settings = settings.model_copy(update={"allowed_hosts": [*settings.allowed_hosts, name]})
    url = page_url(options.port, options.layout, page_host(options.host))
    command = chromium_command(url, settings.data_dir / "kiosk-chromium", chromium)
    with _stop_on_sigterm(), serve_in_background(settings, kiosk, options.host, options.port):
        say(f"tryon: kiosk mirror at {url}; phones open its links at {phones}/m/...")
        if warning:
            say(f"tryon: warning: {warning}")
        try:
            if not options.browser:
                say(f"tryon: no browser started; the kiosk browser would be:\n  {shlex.join(command)}")
                threading.Event().wait()  # until Ctrl-C or SIGTERM
            browser = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            try:
                code = browser.wait()
            finally:
                if browser.poll() is None:
                    browser.terminate()
                    try:
                        browser.wait(10)
                    except subprocess.TimeoutExpired:
                        browser.kill()
            say(f"tryon: the kiosk browser closed (exit code {code}); stopping")
        except KeyboardInterrupt:
            say("tryon: kiosk stopped")
    return 0
