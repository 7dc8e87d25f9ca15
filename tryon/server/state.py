"""What the server holds while it runs, in one value the routes get through a dependency (`server_state`)."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from fastapi import HTTPException, Request

from tryon.config import Settings
from tryon.errors import InputError, TryOnError
from tryon.jewelry.catalog import CATALOG_FILE, Catalog
from tryon.pipeline import Pipeline
from tryon.server import bounded
from tryon.server.guard import admin_refusal
from tryon.server.jobs import Jobs
from tryon.server.kiosk import KioskSettings
from tryon.server.lookbook_jobs import LookbookJobs
from tryon.server.metrics import Metrics
from tryon.server.retouch_jobs import RetouchJobs
from tryon.server.seats import SeatBook
from tryon.server.session import Session
from tryon.server.store import MediaStore

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass
class ServerState:
    """`catalog` is replaced, never changed, when a piece is added (a session keeps the one it started with); it
    follows the user catalog on disk (`catalog` looks at its file's stamp), so a piece added by another server or by
    `tryon design` is wearable here at once, without a restart.
    `photo_pool` owns the photo pipeline (`photo`, made there on first use); `import_pool` waits on import
    processes. `retouch`: the retouch studio's jobs and their worker process; `lookbook`: on-model picture jobs and
    theirs."""

    settings: Settings
    kiosk: KioskSettings
    store: MediaStore
    seats: SeatBook
    _catalog: Catalog
    retouch: RetouchJobs
    lookbook: LookbookJobs
    jobs: Jobs  # every catalog job's state and work (tryon.server.jobs); `retouch` is a view of its retouch jobs
    sessions: dict[str, Session] = field(default_factory=dict)
    metrics: Metrics = field(default_factory=Metrics)  # for GET /metrics (tryon.server.metrics)
    draining: bool = False  # shutting down: no new sessions, the running ones finish (tryon.server.drain)
    photo_pool: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(1, thread_name_prefix="tryon-photo"))
    import_pool: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(1, thread_name_prefix="tryon-import"))
    photo: Pipeline | None = None
    _facts: dict[str, dict[str, Any]] = field(default_factory=dict)
    _catalog_stamp: tuple[int, int, int] | None = None  # the user catalog file's, when `_catalog` was read
    _catalog_lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def open(cls, settings: Settings, kiosk: KioskSettings) -> ServerState:
        store = MediaStore(settings.files_dir, settings.link_ttl_s, max_bytes=int(settings.max_media_mb * 1024**2),
                           database_url=settings.database_url)
        seats = SeatBook(settings.max_sessions, settings.max_seats_per_client, settings.max_pending_offers,
                         settings.max_pending_per_client)
        jobs = Jobs.open(settings, hold=(lambda: _any_live(seats)) if settings.retouch_hold_while_live else None)
        retouch = RetouchJobs(settings.files_dir / "retouch", max_files=settings.max_retouch_files,
                              photo_timeout_s=settings.max_retouch_s, jobs=jobs)
        lookbook = LookbookJobs(jobs, max_files=settings.max_retouch_files)
        stamp = _stamp(settings.user_catalog_dir)
        return cls(settings, kiosk, store, seats, Catalog.load_with_user(settings.assets_dir, settings.user_catalog_dir),
                   retouch, lookbook, jobs=jobs, _catalog_stamp=stamp)

    @property
    def catalog(self) -> Catalog:
        """The catalog as it is on disk now: the built-in one plus the user catalog in the shared files directory,
        read again when that file changed (one stat per look; writers replace it whole, so its inode changes)."""
        if _stamp(self.settings.user_catalog_dir) != self._catalog_stamp:
            self.reload_catalog()
        return self._catalog

    def reload_catalog(self) -> None:
        """The catalog again from disk (a piece was added), and the facts worked out for the old one dropped.
        A user catalog that cannot be read keeps the one read before (logged; writers replace it whole, so this
        is a damaged file, not a half-written one)."""
        with self._catalog_lock:
            stamp = _stamp(self.settings.user_catalog_dir)
            if stamp == self._catalog_stamp and stamp is not None:
                return  # another thread read it meanwhile
            try:
                self._catalog = Catalog.load_with_user(self.settings.assets_dir, self.settings.user_catalog_dir)
            except TryOnError as e:
                log.warning("kept the catalog read before: %s", e)
            self._catalog_stamp = stamp
            self._facts.clear()

    async def add_to_catalog(self, fn: Callable[..., T], job: tuple[Any, ...], what: str, failed: str) -> T:
        """`fn(*job)` in its own process (bounded by TRYON_MAX_IMPORT_S; the event loop waits on the import pool),
        then the catalog again: a bad request is a 400, work that fails a 422 saying `failed` and why."""
        try:
            out = await asyncio.get_running_loop().run_in_executor(
                self.import_pool, bounded.run_bounded, fn, job, self.settings.max_import_s, what)
        except InputError as e:
            raise HTTPException(400, str(e)) from None
        except TryOnError as e:
            log.warning("%s failed: %s", what, e)
            raise HTTPException(422, f"{failed}: {e}") from None
        self.reload_catalog()
        return out

    def facts(self, item_id: str) -> dict[str, Any]:
        """An item's manufacturing facts (metal weight, stones, thinnest wall), worked out once per catalog."""
        if item_id not in self._facts:
            from tryon.jewelry.facts import item_facts

            self._facts[item_id] = item_facts(self.catalog, item_id).to_json()
        return self._facts[item_id]


def _stamp(user_dir: Path) -> tuple[int, int, int] | None:
    """The user catalog file's (inode, modification time, size), or None where there is none."""
    try:
        st = (user_dir / CATALOG_FILE).stat()
    except OSError:
        return None
    return (st.st_ino, st.st_mtime_ns, st.st_size)


def _any_live(seats: SeatBook) -> bool:
    """Whether a live session is connected (asked from the retouch runner's thread: a change under the count
    reads as live, and the next look, a fifth of a second later, reads again)."""
    try:
        return seats.count(True) > 0
    except RuntimeError:
        return True


def staff(request: Request) -> None:
    """The admin token, as a route's dependency where the guard cannot check it (a path that holds a job's id)."""
    refused = admin_refusal(request.headers.get("authorization", ""), server_state(request).settings.admin_token)
    if refused:
        raise HTTPException(*refused)


def server_state(request: Request) -> ServerState:
    """The dependency every route takes."""
    state: ServerState = request.app.state.tryon
    return state
