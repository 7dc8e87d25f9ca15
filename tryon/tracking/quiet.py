"""MediaPipe's and TensorFlow Lite's routine native log lines, kept from the user.

A graph's construction and its first frames write lines such as "INFO: Created TensorFlow Lite XNNPACK delegate
for CPU" and "W0000 ... inference_feedback_manager.cc:114] ..." straight to the process's stderr (file
descriptor 2), below Python, where no logging setting reaches; some come from the graphs' own threads at any
time. A `tryon` command or a `python -m` tool (`filter_stderr`, called once at its start) sends fd 2 through a filter process
for its whole life: every line that is not such routine chatter reaches the user's stderr as it comes (errors,
warnings, progress bars; through a terminal of its own when stderr is a terminal, so progress bars stay on).
Where the library runs inside another program, `native_quiet()` holds what is written to fd 2 while it runs
and then writes back every line that is not chatter (a graph's construction and first calls: QuietStart).
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import os
import re
import signal
import sys
import tempfile
import termios
import threading
import time
from collections.abc import Iterator

# Routine lines: TensorFlow Lite's delegate notice, absl's note before its logging starts, and absl/glog
# INFO and WARNING lines ("W0000 00:00:1796624316.054669    1965 file.cc:114] ..."). Errors (E, F) pass.
NOISE = re.compile(
    rb"^(?:INFO: Created TensorFlow Lite \S+ delegate"
    rb"|WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR"
    rb"|[IW]\d{4} [\d:.]+\s+\d+ [\w./-]+:\d+\] )"
)
_lock = threading.RLock()
_filtering = False  # fd 2 goes through the filter process (filter_stderr): the quiet windows stand aside


def _flush_python() -> None:
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError, AttributeError):
            stream.flush()


@contextlib.contextmanager
def native_quiet() -> Iterator[None]:
    """Hold fd 2 while inside; then write back its lines that are not native routine chatter (NOISE). Under
    `filter_stderr` it does nothing: the filter drops that chatter whenever it comes, and a window would cut
    the lines that other threads are writing at its edges (TensorFlow Lite writes "INFO: " and the rest of its
    line apart), passing their halves, which are no longer chatter, on to the user."""
    if _filtering:
        yield
        return
    with _lock:
        try:
            saved = os.dup(2)
        except OSError:  # no stderr at all: nothing to keep quiet
            yield
            return
        _flush_python()
        with tempfile.TemporaryFile() as held:
            os.dup2(held.fileno(), 2)
            try:
                yield
            finally:
                _flush_python()
                os.dup2(saved, 2)
                os.close(saved)
                held.seek(0)
                kept = b"".join(line for line in held if not NOISE.match(line))
                if kept:
                    with contextlib.suppress(OSError):
                        os.write(2, kept)


class QuietStart:
    """A graph's first calls inside native_quiet (its chatter comes on the first frames):
    `with start(): graph.process(image)`."""

    def __init__(self, calls: int = 2) -> None:
        self._left = calls

    def __call__(self) -> contextlib.AbstractContextManager[None]:
        if self._left <= 0:
            return contextlib.nullcontext()
        self._left -= 1
        return native_quiet()


# -- the whole process: a filter process between fd 2 and the user's stderr ---------------------------------

FINISH_WAIT_S = 2.0  # at exit, how long the filter may take to write out the last lines
_LINE_END = re.compile(rb"(?<=[\r\n])")  # splits after each newline or carriage return, keeping them


def _maybe_noise(partial: bytes) -> bool:
    """Whether an unfinished line could still become a NOISE line (then it waits for its end)."""
    return partial[:1] in (b"I", b"W")


def _filtered(pending: bytes) -> tuple[bytes, bytes]:
    """(what to write now, what to keep until more comes): complete lines (ended by a newline, or a carriage
    return as progress bars redraw) that are not NOISE, and an unfinished line unless it may become one."""
    *done, rest = _LINE_END.split(pending)
    out = [segment for segment in done if not NOISE.match(segment)]
    if rest and not _maybe_noise(rest):
        out.append(rest)
        rest = b""
    return b"".join(out), rest


def _pump(src: int, dst: int) -> None:
    """The filter process's loop: read what the command writes to its fd 2, write all but NOISE to `dst`."""
    pending = b""
    while True:
        try:
            chunk = os.read(src, 65536)
        except OSError:  # a terminal's other end closed (EIO): the command is gone
            chunk = b""
        if not chunk:
            break
        now, pending = _filtered(pending + chunk)
        if now:
            os.write(dst, now)
    if pending and not NOISE.match(pending):
        os.write(dst, pending)


def _terminal_pair(like: int) -> tuple[int, int]:
    """(read end, write end): a pseudo-terminal with `like`'s window size whose output is passed on unchanged
    (no newline translation), so the command still sees a terminal (progress bars, colours)."""
    master, slave = os.openpty()
    attrs = termios.tcgetattr(slave)
    attrs[1] &= ~termios.OPOST
    termios.tcsetattr(slave, termios.TCSANOW, attrs)
    with contextlib.suppress(OSError):
        fcntl.ioctl(slave, termios.TIOCSWINSZ, fcntl.ioctl(like, termios.TIOCGWINSZ, b"\0" * 8))
    return master, slave


def filter_stderr() -> None:
    """From now until this process ends, fd 2 goes through a filter process that drops NOISE lines and writes
    everything else to the stderr the process had. Call once, at a command's start, before any graph or thread
    exists. The filter ignores Ctrl-C and SIGTERM (the command decides when to stop) and ends when the last
    writer of fd 2 is gone; at exit the command waits up to FINISH_WAIT_S for it to write out the last lines."""
    try:
        original = os.dup(2)
    except OSError:  # no stderr at all: nothing to filter
        return
    try:
        src, sink = _terminal_pair(original) if os.isatty(original) else os.pipe()
    except OSError:
        os.close(original)
        return
    _flush_python()
    pid = os.fork()
    if pid == 0:  # the filter process
        code = 0
        try:
            os.close(sink)
            null = os.open(os.devnull, os.O_RDWR)  # the command's stdin and stdout are not the filter's to hold
            os.dup2(null, 0)
            os.dup2(null, 1)
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            _pump(src, original)
        except BaseException:  # the user's stderr itself is gone: nothing left to write to
            code = 1
        finally:
            os._exit(code)
    os.close(src)
    os.dup2(sink, 2)
    os.close(sink)
    global _filtering
    _filtering = True
    atexit.register(_finish_filter, pid, original, os.getpid())


def _finish_filter(pid: int, original: int, owner: int) -> None:
    """At exit: fd 2 back to the original stderr (the filter then reads the end of what was written), and a
    short wait for the filter to write it out. Only in the process that started it (a forked copy that runs
    its exit handlers has nothing to wait for)."""
    if os.getpid() != owner:
        return
    _flush_python()
    os.dup2(original, 2)
    os.close(original)
    deadline = time.monotonic() + FINISH_WAIT_S
    while time.monotonic() < deadline:
        try:
            if os.waitpid(pid, os.WNOHANG)[0]:
                return
        except ChildProcessError:  # already reaped (a SIGCHLD handler's wait): it is gone
            return
        time.sleep(0.005)
