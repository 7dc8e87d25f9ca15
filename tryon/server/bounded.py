"""Running a risky job (a customer's model import) in its own process, stopped when it passes its time.

A thread cannot be stopped; a process can. The job runs in a freshly spawned process (no forked EGL or
MediaPipe state), its result or error comes back through a pipe, and a job past its deadline is killed, so
one pathological file can neither starve the server nor keep it from shutting down (`kill_all`).
"""

from __future__ import annotations

import multiprocessing
import threading
from collections.abc import Callable
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any, TypeVar

from tryon.errors import InputError, TryOnError

T = TypeVar("T")
_running: set[BaseProcess] = set()
_lock = threading.Lock()


def _child(conn: Connection, fn: Callable[..., Any], args: tuple[Any, ...]) -> None:
    try:
        result: tuple[bool, Any] = (True, fn(*args))
    except TryOnError as e:
        result = (False, e)
    except Exception as e:  # a bug, or a library choking on the file: one clear line, never a traceback
        result = (False, TryOnError(f"{type(e).__name__}: {e}"))
    conn.send(result)
    conn.close()


def run_bounded(fn: Callable[..., T], args: tuple[Any, ...], timeout_s: float, what: str) -> T:
    """`fn(*args)` in a new process; its TryOnError is raised here. Past `timeout_s` the process is killed and
    InputError says that `what` took too long. Blocks the calling thread (run it off the event loop)."""
    ctx = multiprocessing.get_context("spawn")
    receiver, sender = ctx.Pipe(duplex=False)
    process = ctx.Process(target=_child, args=(sender, fn, args), daemon=True, name="tryon-bounded")
    with _lock:
        _running.add(process)
    try:
        process.start()
        sender.close()
        if not receiver.poll(timeout_s):
            raise InputError(f"{what} took longer than {timeout_s:g} s and was stopped")
        try:
            ok, value = receiver.recv()
        except EOFError:
            raise TryOnError(f"{what} stopped: its process ended without an answer") from None
    finally:
        if process.is_alive():
            process.kill()
        process.join(10)
        receiver.close()
        with _lock:
            _running.discard(process)
    if not ok:
        raise value
    return value  # type: ignore[no-any-return]


def kill_all() -> None:
    """Stop every bounded job now (the server is shutting down)."""
    with _lock:
        for process in list(_running):
            if process.is_alive():
                process.kill()
