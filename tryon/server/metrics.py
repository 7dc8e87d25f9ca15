"""What a running server counts, for `GET /metrics` (Prometheus' text format).

One `Metrics` per app, with its own registry (prometheus_client's global one would mix the apps of one process,
as the tests make many). Two kinds of figures:

- counted as things happen, through a few calls the live sessions make (`session_started`, `session_ended`,
  `frame_processed`, `frame_dropped`, `error`) and the offer route makes (`offer_refused`): monotonic counters
  and the processing-time histogram. A frame's call costs a lock and a few additions, in the session's worker
  thread; nothing is formatted on the per-frame path.
- read when scraped (`Snapshot`): sessions live and pending, seats, frames per second, draining, jobs queued and
  running by kind. These are what the server holds now, so they are read then, not kept in step.

Processing-time percentiles: the histogram `tryon_frame_processing_seconds` is what Prometheus aggregates over
servers (`histogram_quantile`); `tryon_frame_processing_recent_seconds{quantile=...}` gives this server's
median, 90th and 99th percentile over its last RECENT_FRAMES frames, readable without a Prometheus server.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

__all__ = ["CONTENT_TYPE", "ERROR_KINDS", "END_REASONS", "Metrics", "Snapshot", "UNCOUNTED"]

CONTENT_TYPE = CONTENT_TYPE_LATEST
RECENT_FRAMES = 2000  # about a minute of two sessions at 15 fps
QUANTILES = (0.5, 0.9, 0.99)
# Seconds; the budget for earrings is 15 ms, a necklace or a ring on a loaded machine takes 30 to 60 ms.
PROCESSING_BUCKETS_S = (0.005, 0.01, 0.015, 0.02, 0.03, 0.04, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 1.0)
# Why a session ended: the peer closed or vanished, no camera frame for the frame timeout, never connected
# within the connect timeout, connected when every seat was taken, its frames kept failing, the server stopped.
END_REASONS = ("peer_left", "frame_timeout", "connect_timeout", "no_seat", "failed", "shutdown", "closed")
# Errors by where they happened: a frame that failed (it went out unprocessed), a command that failed inside
# (a bug: the page got "internal error"), a session ended because its frames kept failing, an offer aiortc
# could not read.
ERROR_KINDS = ("frame", "command", "session", "offer")


@dataclass(frozen=True)
class Snapshot:
    """What the server holds at the moment of a scrape. `jobs`: {kind: {"queued": n, "running": n}}."""

    live: int
    pending: int
    max_seats: int
    frames_per_second: float
    draining: bool
    jobs: Mapping[str, Mapping[str, int]] = field(default_factory=dict)


class Metrics:
    """The counters one app keeps, and its registry. Thread-safe (prometheus_client's metrics lock)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.sessions_started = Counter("tryon_sessions_started", "Live sessions whose offer was answered",
                                        registry=r)
        self.sessions_ended = Counter("tryon_sessions_ended", "Live sessions ended, by why", ["reason"], registry=r)
        self.frames = Counter("tryon_frames_processed", "Camera frames sent back with the jewelry on", registry=r)
        self.dropped = Counter("tryon_frames_dropped", "Camera frames skipped because a newer one came before "
                               "the worker was free (latency kept, frame rate lowered)", registry=r)
        self.processing = Histogram("tryon_frame_processing_seconds", "Time to process one frame in a session's "
                                    "worker (tracking, render, composite, conversion)",
                                    buckets=PROCESSING_BUCKETS_S, registry=r)
        self.errors = Counter("tryon_errors", "Errors, by kind", ["kind"], registry=r)
        self.refused = Counter("tryon_offers_refused", "Offers turned away: 503 every seat taken or the server "
                               "draining, 429 this client's share", ["status"], registry=r)
        for reason in END_REASONS:  # every series exists from the start: a rate over a missing one is no data
            self.sessions_ended.labels(reason)
        for kind in ERROR_KINDS:
            self.errors.labels(kind)
        for status in ("429", "503"):
            self.refused.labels(status)
        self._recent: deque[float] = deque(maxlen=RECENT_FRAMES)
        self._snapshot = Snapshot(0, 0, 0, 0.0, False)
        self._scrape_lock = threading.Lock()
        r.register(_NowCollector(self))

    # -- counted as it happens -------------------------------------------------------------------------------
    def session_started(self) -> None:
        self.sessions_started.inc()

    def session_ended(self, reason: str) -> None:
        self.sessions_ended.labels(reason if reason in END_REASONS else "closed").inc()

    def frame_processed(self, seconds: float) -> None:
        self.frames.inc()
        self.processing.observe(seconds)
        self._recent.append(seconds)  # deque.append is atomic

    def frame_dropped(self) -> None:
        self.dropped.inc()

    def error(self, kind: str) -> None:
        self.errors.labels(kind).inc()

    def offer_refused(self, status: int) -> None:
        self.refused.labels(str(status)).inc()

    # -- read when scraped -----------------------------------------------------------------------------------
    def render(self, now: Snapshot) -> bytes:
        """The text exposition of every metric, with the figures read now from `now`."""
        with self._scrape_lock:
            self._snapshot = now
            return generate_latest(self.registry)

    def recent_quantiles(self) -> dict[float, float]:
        """Seconds per frame at QUANTILES over the last RECENT_FRAMES frames ({} before any frame)."""
        values = sorted(list(self._recent))
        if not values:
            return {}
        return {q: values[min(len(values) - 1, int(q * len(values)))] for q in QUANTILES}


class _NowCollector(Collector):
    """The figures read at scrape time, from the Metrics' latest Snapshot."""

    def __init__(self, metrics: Metrics) -> None:
        self._metrics = metrics

    def describe(self) -> list[Metric]:
        return []  # collected only when scraped (no snapshot exists at registration)

    def collect(self) -> Iterator[Metric]:
        now = self._metrics._snapshot
        yield GaugeMetricFamily("tryon_sessions_live", "Sessions connected and holding a seat", value=now.live)
        yield GaugeMetricFamily("tryon_sessions_pending", "Offers answered, not yet connected", value=now.pending)
        yield GaugeMetricFamily("tryon_seats_used", "Live seats taken", value=now.live)
        yield GaugeMetricFamily("tryon_seats_max", "Live seats this server has (TRYON_MAX_SESSIONS)",
                                value=now.max_seats)
        yield GaugeMetricFamily("tryon_frames_per_second", "Frames sent back in the last second, all sessions",
                                value=now.frames_per_second)
        yield GaugeMetricFamily("tryon_draining", "1 while the server drains for shutdown (no new sessions)",
                                value=1.0 if now.draining else 0.0)
        recent = GaugeMetricFamily("tryon_frame_processing_recent_seconds",
                                   f"Per-frame processing time over the last {RECENT_FRAMES} frames, by quantile",
                                   labels=["quantile"])
        for q, seconds in self._metrics.recent_quantiles().items():
            recent.add_metric([f"{q:g}"], seconds)
        yield recent
        jobs = GaugeMetricFamily("tryon_jobs", "Catalog jobs by kind and state (queued: waiting, running: being "
                                 "worked on)", labels=["kind", "state"])
        for kind, states in sorted(now.jobs.items()):
            for state in ("queued", "running"):
                jobs.add_metric([kind, state], states.get(state, 0))
        yield jobs


UNCOUNTED = Metrics()  # for sessions made outside a server (tests, tools): counted where nobody reads
