"""Snapshots and clips kept under the data directory, reachable only through unguessable, expiring links.

What is stored: the media file itself and, in SQLite, its random token, file name, content type and expiry
time. Nothing else about the user (no address, no session id, no device). Expired files are deleted by
`purge()`, which the server runs periodically and on every lookup.
"""

from __future__ import annotations

import secrets
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tryon.errors import InputError

TOKEN_BYTES = 24  # 192 random bits: unguessable
CONTENT_TYPES = {".png": "image/png", ".mp4": "video/mp4", ".jpg": "image/jpeg", ".webp": "image/webp"}


@dataclass(frozen=True)
class StoredMedia:
    token: str
    path: Path
    content_type: str
    expires_at: float  # unix seconds

    @property
    def url(self) -> str:
        return f"/api/media/{self.token}{self.path.suffix}"


class MediaStore:
    """Thread-safe; `clock` is injectable so expiry can be tested without waiting."""

    def __init__(self, root: Path, ttl_s: float, clock: Callable[[], float] = time.time) -> None:
        self.root = Path(root) / "media"
        self.root.mkdir(parents=True, exist_ok=True)
        self.ttl_s = float(ttl_s)
        self._clock = clock
        self._lock = threading.Lock()
        self._db = sqlite3.connect(str(self.root / "links.sqlite3"), check_same_thread=False, isolation_level=None)
        self._db.execute("CREATE TABLE IF NOT EXISTS media (token TEXT PRIMARY KEY, file TEXT NOT NULL, "
                         "content_type TEXT NOT NULL, expires_at REAL NOT NULL)")

    def new_path(self, suffix: str) -> tuple[str, Path]:
        """A fresh token and the file path to write under it (then `commit` it)."""
        if suffix not in CONTENT_TYPES:
            raise InputError(f"cannot store '{suffix}' files")
        token = secrets.token_urlsafe(TOKEN_BYTES)
        return token, self.root / f"{token}{suffix}"

    def commit(self, token: str, path: Path) -> StoredMedia:
        """Make a fully written file reachable under its token until the TTL runs out."""
        item = StoredMedia(token, path, CONTENT_TYPES[path.suffix], self._clock() + self.ttl_s)
        with self._lock:
            self._db.execute("INSERT INTO media VALUES (?, ?, ?, ?)", (token, path.name, item.content_type, item.expires_at))
        return item

    def put(self, data: bytes, suffix: str) -> StoredMedia:
        token, path = self.new_path(suffix)
        tmp = path.with_suffix(path.suffix + ".part")
        tmp.write_bytes(data)
        tmp.replace(path)
        return self.commit(token, path)

    def get(self, name: str) -> StoredMedia | None:
        """The live media for a link's last path part ("TOKEN.png"), or None (unknown or expired)."""
        self.purge()
        token, _, suffix = name.partition(".")
        with self._lock:
            row = self._db.execute("SELECT file, content_type, expires_at FROM media WHERE token = ?",
                                   (token,)).fetchone()
        if row is None or not row[0].endswith("." + suffix):
            return None
        return StoredMedia(token, self.root / row[0], row[1], row[2])

    def purge(self) -> int:
        """Delete expired media and their links; returns how many went."""
        now = self._clock()
        with self._lock:
            rows = self._db.execute("SELECT token, file FROM media WHERE expires_at <= ?", (now,)).fetchall()
            for token, file in rows:
                (self.root / file).unlink(missing_ok=True)
                self._db.execute("DELETE FROM media WHERE token = ?", (token,))
        for stale in self.root.glob("*.part"):  # interrupted writes
            if now - stale.stat().st_mtime > 3600:
                stale.unlink(missing_ok=True)
        return len(rows)

    def close(self) -> None:
        with self._lock:
            self._db.close()
