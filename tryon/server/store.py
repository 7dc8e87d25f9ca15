"""Snapshots and clips kept under the data directory, reachable only through unguessable, expiring links.

What is stored: the media file itself and, in SQLite, its random token, file name, content type, size and
expiry time. Nothing else about the user (no address, no session id, no device). The whole store is capped
(`max_bytes`): a new file makes room by deleting the oldest ones no phone opened, and is refused with a clear
error when that is not enough. Expired files are deleted by
`purge()`, which the server runs periodically and on every lookup; `revoke()` deletes chosen ones at once (a
kiosk's reset). Each file may have its own lifetime (a kiosk's links live minutes, a shopper's a day).

Kept in memory only, never on disk: which links were claimed, i.e. opened on a phone through a kiosk's hand-off
page; a kiosk's reset keeps those until they expire (the customer took them along) and revokes the rest.
"""

from __future__ import annotations

import secrets
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from tryon.errors import InputError

TOKEN_BYTES = 24  # 192 random bits: unguessable
DEFAULT_MAX_BYTES = 2 * 1024**3
CONTENT_TYPES = {".png": "image/png", ".mp4": "video/mp4", ".jpg": "image/jpeg", ".webp": "image/webp"}


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
    """Thread-safe; `clock` is injectable so expiry can be tested without waiting."""

    def __init__(self, root: Path, ttl_s: float, clock: Callable[[], float] = time.time,
                 max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.root = Path(root) / "media"
        self.root.mkdir(parents=True, exist_ok=True)
        self.ttl_s = float(ttl_s)
        self.max_bytes = int(max_bytes)
        self._clock = clock
        self._lock = threading.Lock()
        self._claimed: set[str] = set()
        self._db = sqlite3.connect(str(self.root / "links.sqlite3"), check_same_thread=False, isolation_level=None)
        self._db.execute("CREATE TABLE IF NOT EXISTS media (token TEXT PRIMARY KEY, file TEXT NOT NULL, "
                         "content_type TEXT NOT NULL, expires_at REAL NOT NULL, size INTEGER NOT NULL DEFAULT 0)")
        if "size" not in [r[1] for r in self._db.execute("PRAGMA table_info(media)")]:  # a store from before sizes
            self._db.execute("ALTER TABLE media ADD COLUMN size INTEGER NOT NULL DEFAULT 0")

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
        item = StoredMedia(token, path, CONTENT_TYPES[path.suffix], self._clock() + ttl_s, size)
        with self._lock:
            try:
                self._make_room(size)
            except InputError:
                path.unlink(missing_ok=True)
                raise
            self._db.execute("INSERT INTO media (token, file, content_type, expires_at, size) VALUES (?, ?, ?, ?, ?)",
                             (token, path.name, item.content_type, item.expires_at, size))
        return item

    def used_bytes(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT COALESCE(SUM(size), 0) FROM media").fetchone()[0])

    def _make_room(self, size: int) -> None:
        """Delete the oldest media no phone opened until `size` more bytes fit; InputError when they cannot.
        Called with the lock held."""
        if size > self.max_bytes:
            raise InputError(f"a file of {size / 1e6:.1f} MB is larger than the whole media store "
                             f"({self.max_bytes / 1e6:.0f} MB)")
        used = int(self._db.execute("SELECT COALESCE(SUM(size), 0) FROM media").fetchone()[0])
        if used + size <= self.max_bytes:
            return
        for token, file, old in self._db.execute("SELECT token, file, size FROM media ORDER BY rowid").fetchall():
            if token in self._claimed:
                continue
            (self.root / file).unlink(missing_ok=True)
            self._db.execute("DELETE FROM media WHERE token = ?", (token,))
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
        with self._lock:
            row = self._db.execute("SELECT file, content_type, expires_at, size FROM media WHERE token = ?",
                                   (token,)).fetchone()
        if row is None or not row[0].endswith("." + suffix):
            return None
        return StoredMedia(token, self.root / row[0], row[1], row[2], row[3])

    def claim(self, token: str) -> None:
        """Note that a link was taken along (opened on a phone): `revoke(..., keep_claimed=True)` spares it."""
        with self._lock:
            self._claimed.add(token)

    def revoke(self, tokens: Iterable[str], keep_claimed: bool = False) -> int:
        """Delete these media and their links now (unknown or expired tokens are skipped); returns how many
        went. With `keep_claimed`, links opened on a phone stay until they expire."""
        gone = 0
        with self._lock:
            for token in tokens:
                if keep_claimed and token in self._claimed:
                    continue
                row = self._db.execute("SELECT file FROM media WHERE token = ?", (token,)).fetchone()
                if row is not None:
                    (self.root / row[0]).unlink(missing_ok=True)
                    self._db.execute("DELETE FROM media WHERE token = ?", (token,))
                    gone += 1
                self._claimed.discard(token)
        return gone

    def next_expiry(self) -> float | None:
        """When the next link expires (unix seconds), or None with no links."""
        with self._lock:
            row = self._db.execute("SELECT MIN(expires_at) FROM media").fetchone()
        return None if row[0] is None else float(row[0])

    def purge(self) -> int:
        """Delete expired media and their links; returns how many went."""
        now = self._clock()
        with self._lock:
            rows = self._db.execute("SELECT token, file FROM media WHERE expires_at <= ?", (now,)).fetchall()
            for token, file in rows:
                (self.root / file).unlink(missing_ok=True)
                self._db.execute("DELETE FROM media WHERE token = ?", (token,))
                self._claimed.discard(token)
        for stale in self.root.glob("*.part"):  # interrupted writes
            if now - stale.stat().st_mtime > 3600:
                stale.unlink(missing_ok=True)
        return len(rows)

    def close(self) -> None:
        with self._lock:
            self._db.close()
