"""MediaPipe's and TensorFlow Lite's routine native log lines, kept from the user.

A graph's construction and its first frames write lines such as "INFO: Created TensorFlow Lite XNNPACK delegate
for CPU" and "W0000 ... inference_feedback_manager.cc:114] ..." straight to the process's stderr (file
descriptor 2), below Python, where no logging setting reaches. `native_quiet()` holds what is written to fd 2
while it runs and then writes back every line that is not such routine chatter: errors, and anything another
thread wrote meanwhile, still reach the user, a moment later.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
import tempfile
import threading
from collections.abc import Iterator

# Routine lines: TensorFlow Lite's delegate notice, absl's note before its logging starts, and absl/glog
# INFO and WARNING lines ("W0000 00:00:1796624316.054669    1965 file.cc:114] ..."). Errors (E, F) pass.
NOISE = re.compile(
    rb"^(?:INFO: Created TensorFlow Lite \S+ delegate"
    rb"|WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR"
    rb"|[IW]\d{4} [\d:.]+\s+\d+ [\w./-]+:\d+\] )"
)
_lock = threading.RLock()


def _flush_python() -> None:
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError, AttributeError):
            stream.flush()


@contextlib.contextmanager
def native_quiet() -> Iterator[None]:
    """Hold fd 2 while inside; then write back its lines that are not native routine chatter (NOISE)."""
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
