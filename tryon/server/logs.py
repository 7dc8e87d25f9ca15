"""Log lines for people (text, the default) or for a log collector (`TRYON_LOG_FORMAT=json`: one JSON object a
line, with the time, level, logger, message, and the live session's id when the line comes from inside one).

The session id travels in a context variable, `SESSION_ID`, so that no log call has to pass it: a session sets
it (`bind_session`) in its worker threads (once, when each starts: the thread serves that session only) and at
the top of each of its event-loop tasks and callbacks (a task's context is its own copy, so the id does not
leak into other sessions' tasks). Only the CLI configures logging (`configure`); library code just logs.
"""

from __future__ import annotations

import contextvars
import json
import logging
import time
from typing import Any, Literal

__all__ = ["SESSION_ID", "JsonFormatter", "LogFormat", "bind_session", "configure"]

LogFormat = Literal["text", "json"]
TEXT_FORMAT = "%(levelname)s %(name)s: %(message)s"
SESSION_ID: contextvars.ContextVar[str | None] = contextvars.ContextVar("tryon_session_id", default=None)
# LogRecord attributes that are not a caller's `extra=` fields.
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime", "taskName"}


def bind_session(session_id: str | None) -> None:
    """Log lines from here on (this thread, or this asyncio task) carry `session_id`."""
    SESSION_ID.set(session_id)


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time (UTC, ISO 8601 with milliseconds), level, logger, message, session (when
    bound), any `extra=` fields a caller gave, and the traceback as `exc` when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        session = getattr(record, "session", None) or SESSION_ID.get()
        if session:
            out["session"] = session
        for key, value in vars(record).items():
            if key not in _STANDARD and key not in out:
                out[key] = value if isinstance(value, (str, int, float, bool, type(None))) else repr(value)
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return json.dumps(out, ensure_ascii=False)


def configure(fmt: LogFormat = "text", level: int = logging.WARNING) -> None:
    """The root logger writes to stderr in `fmt` at `level` (replacing the handlers it had). Uvicorn's own
    loggers go through the root's handler too, so a JSON log has no line in another format."""
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter() if fmt == "json" else logging.Formatter(TEXT_FORMAT))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    if fmt == "json":
        for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
            logger = logging.getLogger(name)
            logger.handlers.clear()
            logger.propagate = True
