"""Snapshots and clips kept in the shared files directory, reachable only through unguessable, expiring links.

What is stored: the media file itself and, in the database, its random token, file name, content type, size,
when it was made, when it expires, and whether a phone took it along (see below). Nothing else about the user (no
address, no session id, no device). The database is SQLite beside the files by default and PostgreSQL with
TRYON_DATABASE_URL; with TRYON_MEDIA_DIR too, any number of servers share one store, so a link made through one
server opens through every other.

The whole store is capped (`max_bytes`, all servers together): a new file makes room by deleting the oldest ones
no phone opened, and is refused with a clear error when that is not enough. Expired files are deleted by `purge()`,
which the server runs periodically and on every lookup; `revoke()` deletes chosen ones at once (a kiosk's reset).
Each file may have its own lifetime (a kiosk's links live minutes, a shopper's a day).

"Claimed" links were opened on a phone through a kiosk's hand-off page (which may have been served by another
server than the kiosk's): a kiosk's reset keeps those until they expire (the customer took them along) and revokes
the rest. This is a flag on the link's row, gone with it.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from tryon.errors import InputError
from tryon.server.db import Database, Executor, open_database

TOKEN_BYTES = 24  # 192 random bits: unguessable
DEFAULT_MAX_BYTES = 2 * 1024**3
CONTENT_TYPES = {".png": "image/png", ".mp4": "video/mp4", ".jpg": "image/jpeg", ".webp": "image/webp"}
LINKS_FILE = "links.sqlite3"  # the SQLite database beside the files, without TRYON_DATABASE_URL
ROOM_LOCK = "tryon media store room"  # making room is read-then-delete: one server at a time
SCHEMA = ("CREATE TABLE IF NOT EXISTS media (token TEXT PRIMARY KEY, file TEXT NOT NULL, content_type TEXT NOT NULL, "
          "expires_at DOUBLE PRECISION NOT NULL, size BIGINT NOT NULL DEFAULT 0, "
          "created_at DOUBLE PRECISION NOT NULL DEFAULT 0, claimed INTEGER NOT NULL DEFAULT 0)")
ADDED_COLUMNS = {  # columns a store from an earlier version lacks (its rows: made at time 0, none claimed)
    "size": "ALTER TABLE media ADD COLUMN size BIGINT NOT NULL DEFAULT 0",
    "created_at": "ALTER TABLE media ADD COLUMN created_at DOUBLE PRECISION NOT NULL DEFAULT 0",
    "claimed": "ALTER TABLE media ADD COLUMN claimed INTEGER NOT NULL DEFAULT 0",
}


@dataclass(frozen=True)
class StoredMedia:
    token: str
    path: Path
    content_type: str
    expires_at: float  # unix seconds
    size: int = 0  # bytes

    @property
    def url(self) -> str:
        return f"/api/media/{self.token}{self.path.suffix}"


class MediaStore:
    """Thread-safe, and safe for many servers on one database and one files directory. `root`: the files
    directory (the media go in root/media); `database_url`: PostgreSQL's, or None for SQLite in root/media.
    `clock` is injectable so expiry can be tested without waiting."""

    def __init__(self, root: Path, ttl_s: float, clock: Callable[[], float] = time.time,
                 max_bytes: int = DEFAULT_MAX_BYTES, database_url: str | None = None) -> None:
        self.root = Path(root) / "media"
        self.root.mkdir(parents=True, exist_ok=True)
        self.ttl_s = float(ttl_s)
        self.max_bytes = int(max_bytes)
        self._clock = clock
        self._lock = threading.Lock()
        self._last_made = 0.0
        self.db: Database = open_database(database_url, self.root / LINKS_FILE)
        columns = self.db.columns("media")
        self.db.setup(SCHEMA, *(sql for name, sql in ADDED_COLUMNS.items() if columns and name not in columns))

    def new_path(self, suffix: str) -> tuple[str, Path]:
        """A fresh token and the file path to write under it (then `commit` it)."""
        if suffix not in CONTENT_TYPES:
            raise InputError(f"cannot store '{suffix}' files")
        token = secrets.token_urlsafe(TOKEN_BYTES)
        return token, self.root / f"{token}{suffix}"

    def commit(self, token: str, path: Path, ttl_s: float | None = None) -> StoredMedia:
        """Make a fully written file reachable under its token for `ttl_s` seconds (default: the store's TTL)."""
        ttl_s = self.ttl_s if ttl_s is None else float(ttl_s)
        if ttl_s <= 0:
            raise InputError(f"a link's lifetime must be positive, not {ttl_s:g} s")
        size = path.stat().st_size
        now = self._clock()
        item = StoredMedia(token, path, CONTENT_TYPES[path.suffix], now + ttl_s, size)
        with self._lock:  # this server's files in the order they were made, even where the clock stands still
            made = self._last_made = max(now, self._last_made + 1e-6)
        try:
            with self.db.transaction(lock=ROOM_LOCK) as tx:
                self._make_room(tx, size)
                tx.execute("INSERT INTO media (token, file, content_type, expires_at, size, created_at) "
                           "VALUES (?, ?, ?, ?, ?, ?)", (token, path.name, item.content_type, item.expires_at, size,
                                                         made))
        except InputError:
            path.unlink(missing_ok=True)
            raise
        return item

    def used_bytes(self) -> int:
        return int(self.db.execute("SELECT COALESCE(SUM(size), 0) FROM media").scalar())

    def _make_room(self, tx: Executor, size: int) -> None:
        """Delete the oldest media no phone opened until `size` more bytes fit; InputError when they cannot.
        Runs in the committing transaction, which holds the room lock (no other server makes room meanwhile)."""
        if size > self.max_bytes:
            raise InputError(f"a file of {size / 1e6:.1f} MB is larger than the whole media store "
                             f"({self.max_bytes / 1e6:.0f} MB)")
        used = int(tx.execute("SELECT COALESCE(SUM(size), 0) FROM media").scalar())
        if used + size <= self.max_bytes:
            return
        oldest = tx.execute("SELECT token, file, size FROM media WHERE claimed = 0 ORDER BY created_at, token").rows
        for token, file, old in oldest:
            tx.execute("DELETE FROM media WHERE token = ?", (token,))
            (self.root / file).unlink(missing_ok=True)  # gone for good: the file without its row is useless
            used -= old
            if used + size <= self.max_bytes:
                return
        raise InputError(f"the snapshot and clip store is full ({self.max_bytes / 1e6:.0f} MB of links that phones "
                         "opened); try again when some expire")

    def put(self, data: bytes, suffix: str, ttl_s: float | None = None) -> StoredMedia:
        token, path = self.new_path(suffix)
        tmp = path.with_suffix(path.suffix + ".part")
        tmp.write_bytes(data)
        tmp.replace(path)
        return self.commit(token, path, ttl_s)

    def get(self, name: str) -> StoredMedia | None:
        """The live media for a link's last path part ("TOKEN.png"), or None (unknown or expired)."""
        self.purge()
        token, _, suffix = name.partition(".")
        row = self.db.execute("SELECT file, content_type, expires_at, size FROM media WHERE token = ?",
                              (token,)).one()
        if row is None or not row[0].endswith("." + suffix):
            return None
        return StoredMedia(token, self.root / row[0], row[1], float(row[2]), int(row[3]))

    def claim(self, token: str) -> None:
        """Note that a link was taken along (opened on a phone): `revoke(..., keep_claimed=True)` spares it."""
        self.db.execute("UPDATE media SET claimed = 1 WHERE token = ?", (token,))

    def revoke(self, tokens: Iterable[str], keep_claimed: bool = False) -> int:
        """Delete these media and their links now (unknown or expired tokens are skipped); returns how many
        went. With `keep_claimed`, links opened on a phone stay until they expire."""
        gone = 0
        for token in tokens:
            keep = " AND claimed = 0" if keep_claimed else ""
            rows = self.db.execute(f"DELETE FROM media WHERE token = ?{keep} RETURNING file", (token,)).rows
            for (file,) in rows:
                (self.root / file).unlink(missing_ok=True)
                gone += 1
        return gone

    def next_expiry(self) -> float | None:
        """When the next link expires (unix seconds), or None with no links."""
        first = self.db.execute("SELECT MIN(expires_at) FROM media").scalar()
        return None if first is None else float(first)

    def purge(self) -> int:
        """Delete expired media and their links; returns how many went (each once, however many servers purge)."""
        now = self._clock()
        rows = self.db.execute("DELETE FROM media WHERE expires_at <= ? RETURNING file", (now,)).rows
        for (file,) in rows:
            (self.root / file).unlink(missing_ok=True)
        for stale in self.root.glob("*.part"):  # interrupted writes
            try:
                if now - stale.stat().st_mtime > 3600:
                    stale.unlink(missing_ok=True)
            except FileNotFoundError:  # another server removed it first
                pass
        return len(rows)

    def close(self) -> None:
        self.db.close()
