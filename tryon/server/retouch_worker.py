"""The local job worker: one spawned process that makes one job unit (tryon.server.job_kinds) or retouches one
photo at a time for the server's job runner (tryon.server.jobs), at the lowest priority, held (SIGSTOP) while live
sessions run, killed with the server.

The runner's side is `Worker`: it starts the process, sends it a task and waits for the answer, stopping and
continuing the process as its `hold()` says, and gives up on a task past its CPU time (time spent waiting for the
CPU, or held, does not count; WALL_FACTOR times as long on the clock does). The process's side is `_worker_main`
and the tasks it runs: a job's unit, a job's preparation, a photo's bytes to the result's bytes.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import time
from collections.abc import Callable
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

from tryon.errors import InputError, TryOnError

log = logging.getLogger(__name__)

WORKER_START_S = 180.0  # CPU seconds for the worker's imports (numpy, OpenCV, torch)
WALL_FACTOR = 20.0  # a task's time limit is CPU time; on the clock it may take this many times longer
POLL_S = 0.2  # how often the runner looks at the worker (its CPU time, whether to hold it)
HOLDABLE = hasattr(signal, "SIGSTOP")  # POSIX
PR_SET_PDEATHSIG = 1  # linux/prctl.h


def _run_task(task: tuple[Any, ...]) -> tuple[bool, Any]:
    """("unit", kind, options, spec, job folder, settings) -> (True, result), a job's unit made
    (tryon.server.job_kinds.run_unit); ("prepare", kind, options, specs, job folder, settings) -> (True, the
    options its units get); ("bytes", data, name, options) -> (True, (encoded, meta)), a single photo; (False, one
    line) when the photo or unit cannot be made."""
    if task[0] in ("unit", "prepare"):
        return _run_job_task(task)
    from tryon.server.job_kinds import retouch_bytes, retouch_options

    try:
        _, data, name, fields = task
        return True, retouch_bytes(data, name, retouch_options(fields))
    except TryOnError as e:
        return False, str(e)
    except MemoryError:
        return False, "the photo needs more memory than this server has; send a smaller one"
    except Exception as e:  # a library choking on the file: one clear line, never a traceback
        log.exception("retouch task %s failed", task[0])
        return False, f"this photo could not be retouched ({type(e).__name__}: {e})"


def _run_job_task(task: tuple[Any, ...]) -> tuple[bool, Any]:
    """A job engine's task (tryon.server.jobs): a unit, or the preparation of a job's shared options."""
    from tryon.server import job_kinds

    what, kind, options, spec, folder, settings = task
    try:
        if what == "prepare":
            return True, job_kinds.prepare_job(kind, options, spec, folder, settings)
        return True, job_kinds.run_unit(kind, options, spec, folder, settings)
    except TryOnError as e:
        return False, str(e)
    except MemoryError:
        return False, "this needs more memory than this server has; send a smaller file"
    except Exception as e:  # a library choking on the input: one clear line, never a traceback
        log.exception("%s %s failed", kind, what)
        return False, f"this {kind} unit could not be made ({type(e).__name__}: {e})"


def cpu_seconds(pid: int) -> float | None:
    """A process's CPU time so far (user + system, seconds) from /proc; None without /proc or the process."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2:].split()  # after the command name, which may hold spaces
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _die_with_parent() -> None:
    """Linux: SIGKILL this process when the server dies, even a hard death that never ran close() (a worker held
    with SIGSTOP would otherwise wait, stopped, for ever)."""
    try:
        import ctypes

        ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)  # type: ignore[attr-defined,unused-ignore]
    except (OSError, AttributeError):  # not Linux
        pass


def _worker_main(conn: Connection, nice: int, idle: bool) -> None:
    """The worker process: lower its priority (nice; SCHED_IDLE with `idle`), one thread, pay the imports once,
    then retouch what comes until told to stop."""
    _die_with_parent()
    try:
        os.nice(nice)  # the live sessions' frames first
    except (OSError, AttributeError):
        pass
    if idle and hasattr(os, "sched_setscheduler"):
        try:  # Linux: run only on CPU time nothing else wants (lowering a policy needs no privilege)
            os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
        except OSError:
            pass
    import cv2

    import tryon.retouch.pipeline
    import tryon.studio.retouch_batch  # noqa: F401

    tryon.retouch.pipeline.keep_freed_memory()  # photo after photo: large buffers reused, not remapped
    cv2.setNumThreads(1)  # one core at most: the others stay the live sessions'
    try:
        import torch

        torch.set_num_threads(1)
    except ImportError:  # pragma: no cover - torch is a dependency
        pass

    conn.send("ready")
    while True:
        try:
            task = conn.recv()
        except EOFError:
            return
        if task is None:
            return
        conn.send(_run_task(task))


class PreemptedError(Exception):
    """A held task was given up for a single photo someone is waiting for (the task is to be done again later)."""


class Worker:
    """One spawned worker process and its pipe. `call` blocks (the dispatcher thread's, never the event loop).
    While `hold()` is true the process is stopped (SIGSTOP) where it stands, and continued when it turns false;
    a held task is given up (PreemptedError) as soon as `preempt()` says a single photo waits."""

    def __init__(self, nice: int, idle: bool, hold: Callable[[], bool],
                 preempt: Callable[[], bool] = lambda: False) -> None:
        self.hold = hold
        self.preempt = preempt
        self.held = False
        ctx = multiprocessing.get_context("spawn")
        self.conn, child = ctx.Pipe()
        self.process: BaseProcess = ctx.Process(target=_worker_main, args=(child, nice, idle), daemon=True,
                                                name="tryon-retouch")
        self.process.start()
        child.close()
        self.ready = False
        self.last_used = time.monotonic()

    def call(self, task: tuple[Any, ...], timeout_s: float, holdable: bool = True) -> tuple[bool, Any]:
        """The task's answer; holdable: whether live sessions may hold it (a batch's file, not a single photo that
        a person is waiting for)."""
        if not self.ready:  # not held while it starts: its death-with-the-server is set up only once it runs
            if not self._wait(WORKER_START_S, holdable=False):
                raise TryOnError(f"the retouch worker did not start within {WORKER_START_S:g} s of CPU time")
            self.conn.recv()  # "ready"
            self.ready = True
        self.conn.send(task)
        if not self._wait(timeout_s, holdable):
            raise InputError(f"retouching this photo took more than {timeout_s:g} s of CPU time and was stopped")
        answer: tuple[bool, Any] = self.conn.recv()
        self.last_used = time.monotonic()
        return answer

    def _wait(self, timeout_s: float, holdable: bool = True) -> bool:
        """Whether an answer came before the worker spent `timeout_s` of CPU time on it (a photo waiting for the
        CPU while live sessions use it is not stuck), or WALL_FACTOR times that on the clock (a worker that
        waits on nothing). EOFError as soon as the process is gone (a child that dies before it took its end
        of the pipe leaves that end open, so the pipe alone would not say so)."""
        pid = self.process.pid or 0
        cpu_start = cpu_seconds(pid)
        wall_deadline = time.monotonic() + timeout_s * (1 if cpu_start is None else WALL_FACTOR)
        while not self.conn.poll(0 if holdable and self._hold(pid) else POLL_S):
            if self.held:  # time held does not count
                if self.preempt():
                    raise PreemptedError()
                wall_deadline += POLL_S
                time.sleep(POLL_S)
                continue
            if not self.process.is_alive():
                raise EOFError(f"the retouch worker ended (exit code {self.process.exitcode})")
            cpu = cpu_seconds(pid)
            if time.monotonic() >= wall_deadline or (cpu is not None and cpu_start is not None
                                                     and cpu - cpu_start > timeout_s):
                return False
        return True

    def _hold(self, pid: int) -> bool:
        """Stop or continue the process as `hold()` says now; whether it is held."""
        want = bool(self.hold()) and HOLDABLE
        if want != self.held and pid:
            try:
                os.kill(pid, signal.SIGSTOP if want else signal.SIGCONT)  # type: ignore[attr-defined,unused-ignore]
                self.held = want
            except ProcessLookupError:
                self.held = False
        return self.held

    def stop(self) -> None:
        try:
            if self.process.is_alive():
                self.process.kill()
            self.process.join(10)
        finally:
            self.conn.close()
