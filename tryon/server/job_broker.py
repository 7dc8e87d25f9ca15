"""The broker between the servers and the cluster's workers: a Celery app over Redis (TRYON_BROKER_URL) set up
for jobs that survive a worker's death, and the one message a server sends per unit. The workers' side (the task
that runs a unit, `tryon worker`) is tryon.server.job_cluster; its module docstring says why Celery and Redis, and
what each setting here guarantees.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from tryon.errors import InputError

if TYPE_CHECKING:
    from celery import Celery

    from tryon.config import Settings

TASK = "tryon.unit"  # its arguments: (job id, unit index); everything else is in the jobs' database
QUEUE_PREFIX = "tryon."


def queue_of(kind: str) -> str:
    """The queue a kind's units go to (a worker may take only some kinds: `tryon worker --queues`)."""
    return QUEUE_PREFIX + kind


def broker_app(settings: Settings) -> Celery:
    """A Celery app on TRYON_BROKER_URL: a unit acknowledged only once it is recorded (acks_late), put back at once
    when a worker's pool process dies (task_reject_on_worker_lost) and after TRYON_JOB_VISIBILITY_TIMEOUT_S when a
    whole worker went (Redis's visibility timeout), one message at a time per worker process (prefetch 1)."""
    from celery import Celery

    if not settings.broker_url:
        raise InputError("TRYON_BROKER_URL is not set: jobs run in the server's own worker process; a `tryon "
                         "worker` needs the broker the servers send to (redis://HOST:PORT/0)")
    visibility_s = float(settings.job_visibility_timeout_s)
    app = Celery("tryon", broker=settings.broker_url, set_as_current=False)
    app.conf.update(
        task_acks_late=True, task_reject_on_worker_lost=True, worker_prefetch_multiplier=1,
        task_ignore_result=True, task_serializer="json", accept_content=["json"], task_default_queue=queue_of("retouch"),
        broker_transport_options={
            "visibility_timeout": visibility_s,
            # how often a worker looks for messages whose worker died: a tenth of the timeout, 1 to 10 s
            "unacked_restore_interval": max(1, min(10, int(visibility_s / 10))), "unacked_restore_throttle": 1},
        broker_connection_retry_on_startup=True, worker_enable_remote_control=False, worker_send_task_events=False)
    return app


def send_units(app: Celery, kind: str, job_id: str, indexes: Sequence[int]) -> None:
    """One message per unit, on its kind's queue."""
    for i in indexes:
        app.send_task(TASK, args=[job_id, int(i)], queue=queue_of(kind))
