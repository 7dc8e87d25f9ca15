"""One SQL database for what many servers share: SQLite under the data directory by default, PostgreSQL at scale.

Share links and job state are rows in one database. A single `tryon serve` keeps them in a SQLite file (no server
to run); many servers on many machines point `TRYON_DATABASE_URL` at one PostgreSQL. The callers write one SQL
for both, so this module is deliberately small:

- `?` placeholders (SQLite's); they are translated to psycopg's `%s` outside quoted literals.
- Portable SQL only: TEXT, INTEGER, BIGINT, DOUBLE PRECISION (not REAL: that is 4 bytes in PostgreSQL and a unix
  time loses its seconds), `INSERT ... ON CONFLICT (...) DO NOTHING/UPDATE`, `UPDATE ... WHERE` with `rowcount`
  for claims, `RETURNING`. No `rowid`, no `AUTOINCREMENT`, no `SERIAL`.
- `execute(sql, params)` runs one statement in its own transaction (autocommit) and returns a `Result` value;
  `transaction()` yields an object with the same `execute` for several statements that commit or roll back together
  (SQLite: `BEGIN IMMEDIATE`, so two processes on one file serialize instead of failing at commit).
  `transaction(lock="name")` also waits for every other transaction holding the same named lock, in any process
  on any machine (PostgreSQL: an advisory transaction lock; SQLite's writers are serialized anyway): for a
  read-then-write that must not interleave, such as making room in the shared media store.
- `setup(*statements)` runs schema statements (CREATE TABLE IF NOT EXISTS ...) once per process start, serialized
  across processes (two PostgreSQL clients creating the same table at once otherwise collide on its type name).
- Errors: `DatabaseError` with one clear line (which database, what failed); `IntegrityError` (a subclass) for a
  key that already exists, so callers can catch it the same way for both.

Thread-safe: SQLite has one connection behind a lock; PostgreSQL a small pool of connections (one per thread that
is using the database at that moment, the idle ones kept up to `POOL_IDLE`).
"""

from __future__ import annotations

import hashlib
import re
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol

from tryon.errors import TryOnError

POOL_IDLE = 4  # PostgreSQL connections kept open while unused
CONNECT_TIMEOUT_S = 10
SQLITE_BUSY_MS = 10_000  # another process holding the SQLite file's write lock: wait this long
SETUP_LOCK = "tryon schema setup"  # the named lock that serializes schema setup

Kind = Literal["sqlite", "postgresql"]
Params = Sequence[Any]


class DatabaseError(TryOnError):
    """The database could not be reached or refused a statement."""


class IntegrityError(DatabaseError):
    """A row broke a constraint (most often: its key exists already)."""


class ConnectionLostError(DatabaseError):
    """The connection to the database server broke (it restarted, or the network did)."""


@dataclass(frozen=True)
class Result:
    """What a statement gave: `rows` (empty for statements that return none) and `rowcount` (rows changed by
    INSERT/UPDATE/DELETE; -1 where the driver does not say)."""

    rows: list[tuple[Any, ...]]
    rowcount: int

    def one(self) -> tuple[Any, ...] | None:
        """The first row, or None."""
        return self.rows[0] if self.rows else None

    def scalar(self) -> Any:
        """The first column of the first row, or None."""
        return self.rows[0][0] if self.rows else None


class Executor(Protocol):
    def execute(self, sql: str, params: Params = ()) -> Result: ...


class Database:
    """Base of the two kinds; use `open_database`."""

    kind: Kind
    where: str  # for error messages: the file, or the server without its password

    def execute(self, sql: str, params: Params = ()) -> Result:
        raise NotImplementedError

    def transaction(self, lock: str | None = None) -> AbstractContextManager[Executor]:
        """`with db.transaction() as tx: tx.execute(...)`: committed together at the end, rolled back on an
        error. `lock`: a name; transactions with the same name, in any process, run one at a time."""
        raise NotImplementedError

    def setup(self, *statements: str) -> None:
        raise NotImplementedError

    def columns(self, table: str) -> list[str]:
        """The table's column names in order (empty when it does not exist): for adding a column to an old one."""
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError


def open_database(url: str | None, sqlite_path: Path) -> Database:
    """PostgreSQL at `url` (postgresql://user:password@host:port/name), or with no url the SQLite file at
    `sqlite_path` (its folder is made). DatabaseError when the url is not PostgreSQL's or the server cannot be
    reached."""
    if not url:
        return SqliteDatabase(sqlite_path)
    if not re.match(r"^postgres(ql)?://", url):
        raise DatabaseError(f"TRYON_DATABASE_URL must start with postgresql://, not {_redact(url)!r}")
    return PostgresDatabase(url)


def _redact(url: str) -> str:
    """The url without its password, for messages and logs."""
    return re.sub(r"://([^:/@]*):[^@]*@", r"://\1:***@", url)


class SqliteDatabase(Database):
    kind: Kind = "sqlite"

    def __init__(self, path: Path) -> None:
        self.where = str(path)
        try:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            # isolation_level=None: autocommit unless a transaction() says BEGIN
            self._conn = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None,
                                         timeout=SQLITE_BUSY_MS / 1000)
            self._conn.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_MS}")
        except (OSError, sqlite3.Error) as e:
            raise DatabaseError(f"cannot open the SQLite database {path}: {e}") from None
        self._lock = threading.RLock()
        self._closed = False

    def _run(self, sql: str, params: Params) -> Result:
        try:
            cur = self._conn.execute(sql, tuple(params))
            rows = cur.fetchall()
            return Result([tuple(r) for r in rows], cur.rowcount)
        except sqlite3.IntegrityError as e:
            raise IntegrityError(f"{e} (in {self.where})") from None
        except sqlite3.Error as e:
            raise DatabaseError(f"the SQLite database {self.where} refused {_head(sql)!r}: {e}") from None

    def execute(self, sql: str, params: Params = ()) -> Result:
        with self._lock:
            self._check_open()
            return self._run(sql, params)

    @contextmanager
    def transaction(self, lock: str | None = None) -> Iterator[Executor]:
        with self._lock:  # `lock`: BEGIN IMMEDIATE takes the file's one write lock, which serializes all writers
            self._check_open()
            self._run("BEGIN IMMEDIATE", ())
            try:
                yield _Bound(self._run)
            except BaseException:
                if self._conn.in_transaction:
                    self._conn.execute("ROLLBACK")
                raise
            self._run("COMMIT", ())

    def setup(self, *statements: str) -> None:
        with self.transaction() as tx:
            for sql in statements:
                tx.execute(sql)

    def columns(self, table: str) -> list[str]:
        if not re.fullmatch(r"\w+", table):
            raise DatabaseError(f"not a table name: {table!r}")
        return [r[1] for r in self.execute(f"PRAGMA table_info({table})").rows]

    def _check_open(self) -> None:
        if self._closed:
            raise DatabaseError(f"the database {self.where} is closed")

    def close(self) -> None:
        with self._lock:
            if not self._closed:
                self._closed = True
                self._conn.close()


class _Bound:
    """A transaction's `execute`."""

    def __init__(self, run: Any) -> None:
        self._run = run

    def execute(self, sql: str, params: Params = ()) -> Result:
        result: Result = self._run(sql, params)
        return result


def to_psycopg(sql: str) -> str:
    """`?` placeholders to `%s`, and a literal `%` to `%%`, outside single-quoted literals and double-quoted names."""
    out: list[str] = []
    quote = ""
    for ch in sql:
        if quote:
            out.append("%%" if ch == "%" else ch)
            if ch == quote:
                quote = ""
        elif ch in "'\"":
            quote = ch
            out.append(ch)
        elif ch == "?":
            out.append("%s")
        elif ch == "%":
            out.append("%%")
        else:
            out.append(ch)
    return "".join(out)


def lock_key(name: str) -> int:
    """A named lock's PostgreSQL advisory lock key: a signed 64-bit number, the same in every process."""
    return int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest(), "big", signed=True)


def _head(sql: str) -> str:
    """The statement's start, for an error message."""
    flat = " ".join(sql.split())
    return flat if len(flat) <= 60 else flat[:57] + "..."


class PostgresDatabase(Database):
    kind: Kind = "postgresql"

    def __init__(self, url: str) -> None:
        import psycopg  # only where PostgreSQL is configured

        self._psycopg = psycopg
        self._url = url
        self.where = _redact(url)
        self._lock = threading.Lock()
        self._idle: list[Any] = []
        self._closed = False
        self._release(self._connect())  # fail now, at start-up, with a clear line, not on the first request

    def _connect(self) -> Any:
        try:
            return self._psycopg.connect(self._url, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S)
        except self._psycopg.Error as e:
            raise DatabaseError(f"cannot reach the PostgreSQL database {self.where}: "
                                f"{str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__}") from None

    def _take(self) -> tuple[Any, bool]:
        """A connection, and whether it came from the pool (it may have died while it waited there)."""
        with self._lock:
            if self._closed:
                raise DatabaseError(f"the database {self.where} is closed")
            while self._idle:
                conn = self._idle.pop()
                if not conn.closed:
                    return conn, True
        return self._connect(), False

    def _release(self, conn: Any) -> None:
        with self._lock:
            if not self._closed and not conn.closed and not conn.broken and len(self._idle) < POOL_IDLE \
                    and conn.info.transaction_status == self._psycopg.pq.TransactionStatus.IDLE:
                self._idle.append(conn)
                return
        conn.close()

    def _drop_idle(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()

    @contextmanager
    def _connection(self) -> Iterator[tuple[Any, bool]]:
        conn, pooled = self._take()
        try:
            yield conn, pooled
        finally:
            self._release(conn)  # a broken one is closed, not pooled

    def _run(self, conn: Any, sql: str, params: Params) -> Result:
        psycopg = self._psycopg
        try:
            with conn.cursor() as cur:
                if params:
                    cur.execute(to_psycopg(sql), tuple(params))
                else:  # no parameters: psycopg takes the text as it is (a '%' stays a '%')
                    cur.execute(sql)
                rows = cur.fetchall() if cur.description is not None else []
                return Result([tuple(r) for r in rows], cur.rowcount)
        except psycopg.errors.IntegrityError as e:
            raise IntegrityError(f"{str(e).strip().splitlines()[0]} (in {self.where})") from None
        except psycopg.Error as e:
            first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            if conn.broken or conn.closed:  # the server went away (restarted, or the network), not the statement
                self._drop_idle()  # the pooled ones went with it: one failed statement, not one per connection
                raise ConnectionLostError(f"lost the PostgreSQL database {self.where}: {first}") from None
            raise DatabaseError(f"the PostgreSQL database {self.where} refused {_head(sql)!r}: {first}") from None

    def execute(self, sql: str, params: Params = ()) -> Result:
        """One statement. A pooled connection that died while idle (the server restarted) is replaced and the
        statement sent once more: it never reached a server that could run it."""
        with self._connection() as (conn, pooled):
            try:
                return self._run(conn, sql, params)
            except ConnectionLostError:
                if not pooled:
                    raise
        with self._connection() as (conn, _):
            return self._run(conn, sql, params)

    @contextmanager
    def transaction(self, lock: str | None = None) -> Iterator[Executor]:
        with self._connection() as (conn, _):
            try:
                with conn.transaction():
                    bound = _Bound(lambda sql, params=(): self._run(conn, sql, params))
                    if lock is not None:
                        bound.execute("SELECT pg_advisory_xact_lock(?)", (lock_key(lock),))
                    yield bound
            except self._psycopg.Error as e:  # BEGIN, COMMIT or ROLLBACK itself failed
                first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
                if conn.broken or conn.closed:
                    self._drop_idle()
                    raise ConnectionLostError(f"lost the PostgreSQL database {self.where}: {first}") from None
                raise DatabaseError(f"the PostgreSQL database {self.where} could not commit: {first}") from None

    def setup(self, *statements: str) -> None:
        with self.transaction(lock=SETUP_LOCK) as tx:
            for sql in statements:
                tx.execute(sql)

    def columns(self, table: str) -> list[str]:
        rows = self.execute("SELECT column_name FROM information_schema.columns WHERE table_schema = "
                            "current_schema() AND table_name = ? ORDER BY ordinal_position", (table.lower(),)).rows
        return [r[0] for r in rows]

    def close(self) -> None:
        with self._lock:
            self._closed = True
        self._drop_idle()
