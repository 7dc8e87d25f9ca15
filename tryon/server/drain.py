"""Draining for shutdown: `tryon serve` stopped with SIGTERM (systemd, a container runtime, a deploy script)
finishes the live sessions it has instead of cutting them off.

On the first SIGTERM the server drains: `GET /api/health/ready` and new offers answer 503 (a load balancer
passes the offer on to the next server, tryon.server.routes.live), while the running sessions go on. When the
last one has ended, or TRYON_DRAIN_TIMEOUT_S has passed, uvicorn's usual stop follows: the listening socket
closes, running requests get their grace time, and the app's shutdown closes what is left (sessions still
running then end with reason "shutdown"). A second SIGTERM, or SIGINT (Ctrl-C), stops at once as before. A server
with no session stops at once.

uvicorn calls `handle_exit` from its signal handler, in the event loop's thread between two bytecodes: it only
sets fields here (no logging: a handler that logs could wait for a lock its own thread holds); `on_tick`, on the
loop every 0.1 s, does the rest.
"""

from __future__ import annotations

import logging
import signal
import time
from types import FrameType

import uvicorn

from tryon.server.state import ServerState

log = logging.getLogger(__name__)


class DrainingServer(uvicorn.Server):
    """uvicorn's server, draining on the first SIGTERM for at most `timeout_s` seconds."""

    def __init__(self, config: uvicorn.Config, state: ServerState, timeout_s: float) -> None:
        super().__init__(config)
        self._state = state
        self._timeout_s = float(timeout_s)
        self._since: float | None = None  # monotonic time of the SIGTERM that began the drain
        self._told = False

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        if sig == signal.SIGTERM and self._since is None and not self.should_exit:
            self._since = time.monotonic()
            self._state.draining = True
            # As uvicorn's own handler does: once stopped, the signal is raised again with its default action.
            self._captured_signals.append(sig)
            return
        super().handle_exit(sig, frame)

    async def on_tick(self, counter: int) -> bool:
        if self._since is not None and not self.should_exit:
            running = len(self._state.sessions)
            waited_s = time.monotonic() - self._since
            if not self._told:
                self._told = True
                log.info("SIGTERM: draining; %d session(s) running, new offers refused, waiting up to %g s",
                         running, self._timeout_s)
            if running == 0:
                log.info("drained after %.1f s; stopping", waited_s)
                self.should_exit = True
            elif waited_s >= self._timeout_s:
                log.warning("drain timeout (%g s): stopping with %d session(s) still running", self._timeout_s,
                            running)
                self.should_exit = True
        return await super().on_tick(counter)
