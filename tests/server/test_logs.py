"""Structured logs: TRYON_LOG_FORMAT=json gives one JSON object a line with the live session's id on the lines
logged inside a session. The formatter on its own (threads and asyncio tasks each carry their own session), then a
real `tryon serve` process with a real WebRTC session (an aiortc client)."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import threading

import pytest

from tryon.server.app import free_port
from tryon.server.logs import JsonFormatter, bind_session
from tryon.tools.bench import letterbox
from tryon.tools.soak import LiveClient, server_process

EARRING = "hoop-round-25mm-yellow-gold"
TEXT_LINE = re.compile(r"^(DEBUG|INFO|WARNING|ERROR|CRITICAL) [\w.]+: ")


class Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.setFormatter(JsonFormatter())
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture
def collected():
    handler = Collect()
    logger = logging.getLogger("tryon.test_logs")
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    yield logger, handler.lines
    logger.removeHandler(handler)


def test_json_lines_carry_time_level_logger_message_and_extras(collected):
    logger, lines = collected
    logger.warning("seat %d of %d", 2, 2, extra={"client": "10.0.0.7", "shape": (3, 4)})
    try:
        raise ValueError("bad frame")
    except ValueError:
        logger.exception("frame failed")
    first, second = (json.loads(line) for line in lines)
    assert first["level"] == "WARNING" and first["logger"] == "tryon.test_logs"
    assert first["message"] == "seat 2 of 2" and first["client"] == "10.0.0.7" and first["shape"] == "(3, 4)"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", first["time"]), first["time"]
    assert "session" not in first  # logged outside any session
    assert second["level"] == "ERROR" and "ValueError: bad frame" in second["exc"]


def test_each_thread_and_task_logs_its_own_session(collected):
    logger, lines = collected

    def worker(session: str) -> None:
        bind_session(session)
        logger.info("frame from %s", session)

    threads = [threading.Thread(target=worker, args=(f"s{i}",)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    async def task(session: str) -> None:
        bind_session(session)
        await asyncio.sleep(0.01)  # the other tasks run meanwhile; each keeps its own id
        logger.info("command from %s", session)

    async def main() -> None:
        await asyncio.gather(task("a"), task("b"))
        logger.info("after")  # the tasks' ids stayed in the tasks

    asyncio.run(main())
    records = [json.loads(line) for line in lines]
    assert records, "nothing was logged"
    for r in records[:-1]:
        assert r["session"] == r["message"].rsplit(" ", 1)[1], r
    assert records[-1]["message"] == "after" and "session" not in records[-1]


def test_tryon_serve_logs_json_with_the_session_id(tmp_path, astronaut):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = tmp_path / "serve.log"
    env = {"TRYON_DATA_DIR": str(tmp_path / "data"), "TRYON_LOG_FORMAT": "json", "TRYON_DRAIN_TIMEOUT_S": "30"}
    with server_process(env, port, log):

        async def run() -> str:
            shopper = LiveClient(letterbox(astronaut), items=[EARRING], source="127.0.0.2")
            await shopper.connect(base)
            await shopper.close()
            return shopper.session

        session = asyncio.run(run())
    lines = log.read_text().splitlines()
    # No line of Python's logging in the text format: every one is JSON (the native libraries' own stderr lines
    # and the CLI's "serving at" line are not logging's).
    assert not [line for line in lines if TEXT_LINE.match(line)], lines
    records = [json.loads(line) for line in lines if line.startswith("{")]
    started = [r for r in records if r["message"].startswith(f"session {session} started")]
    assert started and started[0]["session"] == session and started[0]["logger"] == "tryon.server.routes.live"
    closed = [r for r in records if r["message"] == f"session {session} closed"]
    assert closed and closed[0]["session"] == session, records
    assert all(set(r) >= {"time", "level", "logger", "message"} for r in records)
