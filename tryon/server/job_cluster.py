"""Catalog jobs on a cluster: Celery over Redis (TRYON_BROKER_URL). The server sends one message per unit; `tryon
worker`s on any machine take them, run the unit (tryon.server.job_kinds.run_unit) and record it in the jobs'
database (tryon.server.jobs.JobStore: PostgreSQL with TRYON_DATABASE_URL), its files in the shared files directory.

Why Celery with Redis: both small and well kept, no cluster manager to run, and what a catalog job needs is in
them: a unit is acknowledged only once it is recorded (acks_late), so a worker that dies mid-unit (killed, out of
memory, its machine gone) leaves its message to be delivered again: at once to another worker when only its pool
process died (task_reject_on_worker_lost), after TRYON_JOB_VISIBILITY_TIMEOUT_S when the whole worker went (Redis
gives an unacknowledged message back after that long). Each worker takes one message at a time
(worker_prefetch_multiplier=1), so a death loses nothing but the unit in hand. A message carries only (job, unit);
the state is in the database, so a message delivered twice is harmless: the unit is claimed with a conditional
UPDATE and its result written once (see tryon.server.jobs).

A worker runs every kind of unit by default; `--queues retouch,lookbook` limits it (one queue per kind, named
tryon.KIND). It lowers its priority as the server's own worker does (TRYON_RETOUCH_NICE, TRYON_RETOUCH_IDLE) and
stops a unit past its CPU time (TRYON_MAX_RETOUCH_S for a photo, TRYON_JOB_UNIT_MAX_S for the other kinds): the
unit fails with that reason, the worker goes on.
"""

from __future__ import annotations

import contextlib
import logging
import os
import resource
import signal
import socket
import threading
from collections.abc import Iterator, Sequence
from types import FrameType
from typing import TYPE_CHECKING, Any

from tryon.errors import InputError, TryOnError
from tryon.server.db import DatabaseError
from tryon.server.job_broker import TASK, broker_app, queue_of
from tryon.server.jobs import (
    KINDS,
    PREPARE_S_PER_UNIT,
    JobStore,
    Outcome,
    job_folder,
    open_job_database,
    unit_timeout_s,
    with_options,
)

if TYPE_CHECKING:
    from celery import Celery

    from tryon.config import Settings

log = logging.getLogger(__name__)

DB_RETRY_S = 5  # the database unreachable: the message is sent again this much later
DB_RETRIES = 120


def celery_app(settings: Settings) -> Celery:
    """The workers' Celery app: the broker's (tryon.server.job_broker) with the unit task."""
    app = broker_app(settings)
    app.tryon_settings = settings  # type: ignore[attr-defined]
    app.task(name=TASK, bind=True, acks_late=True, reject_on_worker_lost=True)(_unit_task)
    return app


# ------------------------------------------------------------------ the worker's side


class _Runtime:
    """What a worker process keeps: its settings, its connection to the jobs' database, its name. One per process
    (a prefork pool's processes each open their own, after the fork)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.pid = os.getpid()
        self.store = JobStore(open_job_database(settings), settings.files_dir, max_attempts=settings.job_max_attempts,
                              keep_s=settings.retouch_keep_s)
        self.name = f"celery:{socket.gethostname()}:{self.pid}"


_runtime: _Runtime | None = None
_runtime_lock = threading.Lock()


def _runtime_of(settings: Settings) -> _Runtime:
    global _runtime
    with _runtime_lock:
        if _runtime is None or _runtime.pid != os.getpid():
            _runtime = _Runtime(settings)
        return _runtime


def _unit_task(task: Any, job_id: str, index: int) -> str:
    """Celery's task: claim the unit, prepare its job if nobody has, run it, record it. What became of it."""
    settings: Settings = task.app.tryon_settings
    try:
        rt = _runtime_of(settings)
        claim = rt.store.claim(job_id, int(index), f"{rt.name}:{task.request.hostname or ''}")
        if claim is None:
            return "skipped"
        folder = job_folder(rt.store.root, claim.kind, claim.job)
        limit_s = unit_timeout_s(settings, claim.kind)
        if claim.options is None:
            from tryon.server import job_kinds

            specs = rt.store.specs(claim.job)
            try:
                with cpu_limit(limit_s + PREPARE_S_PER_UNIT * len(specs)):
                    options = job_kinds.prepare_job(claim.kind, claim.job_options, specs, folder, settings)
            except Exception as e:  # the units do without what they would share (a retouch job: each its own look)
                log.warning("preparing job %s failed: %s", claim.job, e)
                options = claim.job_options
            claim = with_options(claim, rt.store.prepared(claim.job, options))
        try:
            attempt = rt.store.attempt_dir(claim)
        except OSError as e:  # the shared files directory is not there on this machine (not mounted?)
            rt.store.finish(claim, None, Outcome("failed", f"the worker {rt.name} cannot write the job's folder "
                                                           f"{folder}: {e.strerror or e}"))
            return "failed"
        outcome = run_unit_here(claim.kind, claim.options or {}, claim.spec, attempt, settings, limit_s)
        rt.store.finish(claim, attempt, outcome)
        return outcome.status
    except DatabaseError as e:  # the message comes again later; the claim (if any) is taken up again then
        log.warning("job %s unit %s: %s; trying again in %d s", job_id, index, e, DB_RETRY_S)
        raise task.retry(countdown=DB_RETRY_S, max_retries=DB_RETRIES) from None


def run_unit_here(kind: str, options: dict[str, Any], spec: dict[str, Any], folder: Any, settings: Settings,
                  limit_s: float) -> Outcome:
    """One unit in this process, past `limit_s` of CPU time stopped: done with its result, or failed with one line."""
    from tryon.server import job_kinds

    try:
        with cpu_limit(limit_s):
            return Outcome("done", job_kinds.run_unit(kind, options, spec, folder, settings))
    except CpuTimeError:
        return Outcome("failed", f"this took more than {limit_s:g} s of CPU time and was stopped")
    except TryOnError as e:
        return Outcome("failed", str(e))
    except MemoryError:
        return Outcome("failed", "this needs more memory than the worker has; send a smaller file")
    except Exception as e:  # a library choking on the input: one clear line
        log.exception("%s unit failed", kind)
        return Outcome("failed", f"this {kind} unit could not be made ({type(e).__name__}: {e})")


class CpuTimeError(Exception):
    """The unit used up its CPU time (SIGXCPU)."""


def _on_xcpu(signum: int, frame: FrameType | None) -> None:
    raise CpuTimeError()


@contextlib.contextmanager
def cpu_limit(seconds: float) -> Iterator[None]:
    """SIGXCPU, raised here as CpuTimeError, once this process has spent `seconds` more CPU time (RLIMIT_CPU's
    soft limit; the hard one is left alone, so it can be lifted again). Only in the main thread (where signals are
    handled); elsewhere no limit."""
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "SIGXCPU"):
        yield
        return
    usage = resource.getrusage(resource.RUSAGE_SELF)
    soft, hard = resource.getrlimit(resource.RLIMIT_CPU)
    want = int(usage.ru_utime + usage.ru_stime + max(1.0, seconds)) + 1
    if hard != resource.RLIM_INFINITY:
        want = min(want, hard)
    previous = signal.signal(signal.SIGXCPU, _on_xcpu)
    resource.setrlimit(resource.RLIMIT_CPU, (want, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_CPU, (soft, hard))
        signal.signal(signal.SIGXCPU, previous)


def lower_priority(settings: Settings) -> None:
    """This process (and the pool processes it forks) at the server's worker's priority: nice, SCHED_IDLE."""
    try:
        os.nice(settings.retouch_nice)
    except (OSError, AttributeError):
        pass
    if settings.retouch_idle and hasattr(os, "sched_setscheduler"):
        try:
            os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
        except OSError:
            pass


def run_worker(settings: Settings, concurrency: int = 1, queues: Sequence[str] = (), name: str = "") -> int:
    """`tryon worker`: one Celery worker taking units of `queues`' kinds (all kinds by default) from
    TRYON_BROKER_URL, `concurrency` at a time (one pool process each). Returns when it is stopped (SIGTERM:
    it finishes the units in hand first; a second one, or SIGKILL, leaves them to be delivered again)."""
    unknown = sorted(set(queues) - set(KINDS))
    if unknown:
        raise InputError(f"unknown job kind {', '.join(map(repr, unknown))} in --queues: use {', '.join(KINDS)}")
    if concurrency < 1:
        raise InputError(f"--concurrency {concurrency}: at least 1")
    app = celery_app(settings)
    if getattr(settings, "log_format", "text") == "json":  # one JSON object a line, as the servers log
        from tryon.server.logs import configure

        configure("json", logging.INFO)
        app.conf.worker_hijack_root_logger = False  # Celery's loggers then go through that handler
    open_job_database(settings).close()  # the database answers (a clear error now, not on the first unit)
    lower_priority(settings)
    argv = ["worker", f"--concurrency={concurrency}", f"--queues={','.join(queue_of(k) for k in (queues or KINDS))}",
            "--pool=prefork", "--without-gossip", "--without-mingle", "--without-heartbeat", "--loglevel=INFO"]
    if name:
        argv.append(f"--hostname={name}@%h")
    app.worker_main(argv)
    return 0
