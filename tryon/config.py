"""Settings, built once by the CLI or the server (never at import time).

Every field can be set from the environment with the prefix TRYON_, e.g. TRYON_HFOV_DEG=70.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

PACKAGE_ROOT = Path(__file__).resolve().parent
REPO_ROOT = PACKAGE_ROOT.parent


def shared_media_dir() -> Path:
    """The shared test media (photos and videos for measuring, never shipped): TRYON_MEDIA, else
    ../shared/media beside the repository."""
    return Path(os.environ.get("TRYON_MEDIA", REPO_ROOT.parent / "shared" / "media"))


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TRYON_", frozen=True)

    hfov_deg: float = Field(60.0, ge=1.0, le=170.0, description="assumed horizontal field of view")
    assets_dir: Path = Field(REPO_ROOT / "assets", description="catalog.json and the jewelry models")
    data_dir: Path = Field(Path.home() / ".local/share/tryon", description="snapshots and clips")
    max_sessions: int = Field(2, ge=1, description="live seats: sessions whose connection is up; the next offer "
                                                   "gets a 503")
    max_seats_per_client: int = Field(1, ge=1, description="live seats one client address may hold (429 past it)")
    max_pending_offers: int = Field(8, ge=1, description="answered offers not yet connected, all clients together")
    max_pending_per_client: int = Field(2, ge=1, description="answered offers not yet connected, per client address")
    connect_timeout_s: float = Field(10.0, gt=0, le=120, description="an answered offer that has not connected by "
                                                                     "then is dropped")
    frame_timeout_s: float = Field(4.0, gt=0, le=120, description="no camera frame for this long: the peer is gone "
                                                                  "and its seat is freed")
    max_upload_mb: float = Field(25.0, gt=0, description="photo and model uploads; refused before reading past it")
    max_image_megapixels: float = Field(50.0, gt=0, le=400, description="photos over this are refused unread")
    max_import_s: float = Field(60.0, gt=0, description="a model import that takes longer is stopped")
    link_ttl_s: int = Field(24 * 3600, gt=0, description="how long share links live")
    max_media_mb: float = Field(2048.0, gt=0, description="all snapshots and clips kept; past it the oldest no "
                                                          "phone opened go first")
    max_session_media_mb: float = Field(200.0, gt=0, description="snapshots and clips one live session may keep")
    max_retouch_files: int = Field(200, ge=1, le=10000, description="photos one retouch job takes (a request "
                                                                   "also stays under max_upload_mb)")
    max_retouch_s: float = Field(120.0, gt=0, description="a photo that takes the retouch worker more CPU time "
                                                           "fails (the worker is started again)")
    retouch_keep_s: int = Field(7 * 24 * 3600, gt=0, description="finished retouch jobs and their files are "
                                                                  "deleted after this long")
    retouch_nice: int = Field(19, ge=0, le=19, description="how much the retouch worker process lowers its CPU "
                                                           "priority below the live sessions'")
    retouch_idle: bool = Field(True, description="the retouch worker runs at SCHED_IDLE (Linux): only on CPU time "
                                                 "the live sessions leave")
    retouch_hold_while_live: bool = Field(True, description="the retouch worker is stopped while a live session is "
                                                            "connected (batches and single photos wait)")
    use_compositor: bool = True
    admin_token: str | None = Field(None, min_length=16,
                                    description="allows POST /api/items (imports), /api/design and "
                                                "/api/retouch(/jobs); unset: off")
    allowed_hosts: list[str] = Field(default_factory=list,
                                     description="host names this server answers to besides IP addresses and "
                                                 "localhost (DNS rebinding guard); ['*'] allows any")
    allowed_origins: list[str] = Field(default_factory=list,
                                       description="other web origins allowed to POST here (default: none)")
    trusted_proxies: list[str] = Field(default_factory=list,
                                       description="addresses of reverse proxies whose X-Forwarded-For is believed; "
                                                   "a request from one without it counts as remote")

    # Scale-out: all unset by default (one process: SQLite, files under data_dir, jobs in its own worker process).
    ice_servers: list[dict[str, Any]] = Field(default_factory=list,
                                              description="STUN and TURN servers, JSON as RTCPeerConnection's "
                                                          "iceServers takes it; given to aiortc and to the pages")
    database_url: str | None = Field(None, description="postgresql://...: share links and job state in PostgreSQL, "
                                                       "shared by many servers; unset: SQLite under data_dir")
    media_dir: Path | None = Field(None, description="snapshots, clips, the user catalog and job files, in a "
                                                     "directory every server shares; unset: data_dir")
    broker_url: str | None = Field(None, description="redis://...: catalog jobs go to `tryon worker`s through this "
                                                     "broker; unset: they run in this server's own worker process")
    ice_transport_policy: str = Field("all", pattern="^(all|relay)$",
                                      description="'relay': the pages and the server use TURN-relayed candidates "
                                                  "only (needs a TURN server in ice_servers)")
    turn_secret: str | None = Field(None, min_length=16,
                                    description="coturn's static-auth-secret (use-auth-secret): TURN servers in "
                                                "ice_servers without a username get time-limited credentials made "
                                                "from it, for each page and each session")
    turn_credential_ttl_s: int = Field(12 * 3600, ge=60, le=7 * 24 * 3600,
                                       description="how long a time-limited TURN credential stays valid (coturn "
                                                   "checks it again whenever an allocation is refreshed)")
    job_max_attempts: int = Field(3, ge=1, le=20, description="a job's unit whose worker died this many times while "
                                                             "making it fails (a bad input fails at once)")
    job_visibility_timeout_s: float = Field(3600.0, gt=0, description="with a broker: a unit a worker took and never "
                                                                      "acknowledged (it died) goes to another worker "
                                                                      "after this long; keep it above the longest "
                                                                      "unit")
    job_unit_max_s: float = Field(600.0, gt=0, description="CPU seconds one unit of a lookbook, product video, "
                                                           "turntable or catalog build may take (retouch: "
                                                           "max_retouch_s)")
    drain_timeout_s: float = Field(120.0, ge=0, le=3600,
                                   description="on SIGTERM `tryon serve` drains: it takes no new session (ready and "
                                               "offers answer 503) and waits this long at most for the running ones "
                                               "to end, then stops")
    log_format: Literal["text", "json"] = Field("text", description="server logs: text lines, or one JSON object a "
                                                                   "line (time, level, logger, message, session)")

    @property
    def files_dir(self) -> Path:
        """Where the files every server shares live: the user catalog, snapshots and clips, job files
        (TRYON_MEDIA_DIR, else the data directory)."""
        return self.media_dir if self.media_dir is not None else self.data_dir

    @property
    def user_catalog_dir(self) -> Path:
        """Pieces designed (`tryon design`) or imported here: a catalog.json with its models and thumbnails, in the
        shared files directory so every server offers them."""
        return self.files_dir / "catalog"
