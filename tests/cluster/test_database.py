"""tryon.server.db: one SQL for SQLite and PostgreSQL, run against both for real (Debian's PostgreSQL)."""

from __future__ import annotations

import threading

import pytest

from tryon.server.db import Database, DatabaseError, IntegrityError, open_database, to_psycopg


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request, tmp_path):
    url = request.getfixturevalue("postgres_url") if request.param == "postgresql" else None
    database = open_database(url, tmp_path / "test.sqlite3")
    table = f"t_{request.node.name.split('[')[0][-20:]}_{abs(hash(str(tmp_path))) % 10**6}"
    database.setup(f"CREATE TABLE IF NOT EXISTS {table} (k TEXT PRIMARY KEY, n BIGINT NOT NULL, "
                   "x DOUBLE PRECISION, note TEXT)")
    database.table = table  # type: ignore[attr-defined]
    yield database
    database.close()


def test_the_kind_follows_the_url(db: Database, tmp_path):
    assert db.kind in ("sqlite", "postgresql")
    assert open_database(None, tmp_path / "a.sqlite3").kind == "sqlite"


def test_rows_rowcount_and_placeholders_the_same_on_both(db: Database):
    t = db.table  # type: ignore[attr-defined]
    assert db.execute(f"INSERT INTO {t} (k, n, x, note) VALUES (?, ?, ?, ?)", ("a", 1, 1765000000.25, "50% off?")) \
        .rowcount == 1
    db.execute(f"INSERT INTO {t} (k, n, x, note) VALUES (?, ?, ?, '100% ? sure')", ("b", 2, 0.5))
    rows = db.execute(f"SELECT k, n, x, note FROM {t} ORDER BY k").rows
    # a unix time keeps its fraction (DOUBLE PRECISION), '?' and '%' in literals and values stay as they are
    assert rows == [("a", 1, 1765000000.25, "50% off?"), ("b", 2, 0.5, "100% ? sure")]
    assert db.execute(f"SELECT n FROM {t} WHERE note LIKE '%sure'").scalar() == 2
    assert db.execute(f"UPDATE {t} SET n = n + 1 WHERE k = ? AND n = ?", ("a", 1)).rowcount == 1
    assert db.execute(f"UPDATE {t} SET n = n + 1 WHERE k = ? AND n = ?", ("a", 1)).rowcount == 0  # claimed once
    assert db.execute(f"DELETE FROM {t} WHERE k = ? RETURNING n", ("b",)).rows == [(2,)]
    assert db.execute(f"SELECT k FROM {t} WHERE k = ?", ("b",)).one() is None
    assert db.columns(t) == ["k", "n", "x", "note"] and db.columns("no_such_table") == []


def test_conflicts_are_one_error_type_and_on_conflict_works(db: Database):
    t = db.table  # type: ignore[attr-defined]
    db.execute(f"INSERT INTO {t} (k, n) VALUES (?, ?)", ("a", 1))
    with pytest.raises(IntegrityError):
        db.execute(f"INSERT INTO {t} (k, n) VALUES (?, ?)", ("a", 2))
    assert db.execute(f"INSERT INTO {t} (k, n) VALUES (?, ?) ON CONFLICT (k) DO NOTHING", ("a", 3)).rowcount == 0
    db.execute(f"INSERT INTO {t} (k, n) VALUES (?, ?) ON CONFLICT (k) DO UPDATE SET n = excluded.n", ("a", 4))
    assert db.execute(f"SELECT n FROM {t} WHERE k = 'a'").scalar() == 4
    with pytest.raises(DatabaseError, match="no_such"):
        db.execute("SELECT * FROM no_such_table")


def test_a_transaction_commits_together_or_not_at_all(db: Database):
    t = db.table  # type: ignore[attr-defined]
    with db.transaction() as tx:
        tx.execute(f"INSERT INTO {t} (k, n) VALUES (?, ?)", ("a", 1))
        tx.execute(f"INSERT INTO {t} (k, n) VALUES (?, ?)", ("b", 2))
    with pytest.raises(IntegrityError):
        with db.transaction() as tx:
            tx.execute(f"INSERT INTO {t} (k, n) VALUES (?, ?)", ("c", 3))
            tx.execute(f"INSERT INTO {t} (k, n) VALUES (?, ?)", ("a", 9))  # fails: c goes too
    assert [r[0] for r in db.execute(f"SELECT k FROM {t} ORDER BY k").rows] == ["a", "b"]
    db.execute(f"INSERT INTO {t} (k, n) VALUES (?, ?)", ("d", 4))  # usable after the rollback


def test_many_threads_counting_lose_no_update(db: Database):
    t = db.table  # type: ignore[attr-defined]
    db.execute(f"INSERT INTO {t} (k, n) VALUES ('c', 0)")

    def bump() -> None:
        for _ in range(25):
            db.execute(f"UPDATE {t} SET n = n + 1 WHERE k = 'c'")
            with db.transaction() as tx:
                n = tx.execute(f"SELECT n FROM {t} WHERE k = 'c' FOR UPDATE" if db.kind == "postgresql"
                               else f"SELECT n FROM {t} WHERE k = 'c'").scalar()
                tx.execute(f"UPDATE {t} SET n = ? WHERE k = 'c'", (n + 1,))

    threads = [threading.Thread(target=bump) for _ in range(6)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert db.execute(f"SELECT n FROM {t} WHERE k = 'c'").scalar() == 6 * 25 * 2


def test_two_connections_see_each_others_rows(db: Database, tmp_path, request):
    """Two servers on one database: what one writes, the other reads."""
    t = db.table  # type: ignore[attr-defined]
    url = request.getfixturevalue("postgres_url") if db.kind == "postgresql" else None
    other = open_database(url, tmp_path / "test.sqlite3")
    try:
        other.setup(f"CREATE TABLE IF NOT EXISTS {t} (k TEXT PRIMARY KEY, n BIGINT NOT NULL, "
                    "x DOUBLE PRECISION, note TEXT)")
        db.execute(f"INSERT INTO {t} (k, n) VALUES ('shared', 7)")
        assert other.execute(f"SELECT n FROM {t} WHERE k = 'shared'").scalar() == 7
    finally:
        other.close()


def test_clear_errors_for_a_bad_url_or_an_unreachable_server(tmp_path):
    with pytest.raises(DatabaseError, match="must start with postgresql://"):
        open_database("mysql://x@localhost/db", tmp_path / "a.sqlite3")
    from services import free_port

    with pytest.raises(DatabaseError, match=r"cannot reach the PostgreSQL database postgresql://u:\*\*\*@127"):
        open_database(f"postgresql://u:secret@127.0.0.1:{free_port()}/db", tmp_path / "a.sqlite3")
    closed = open_database(None, tmp_path / "b.sqlite3")
    closed.close()
    with pytest.raises(DatabaseError, match="closed"):
        closed.execute("SELECT 1")


def test_placeholders_are_translated_outside_quotes_only():
    assert to_psycopg("SELECT '?', \"a?\", ? WHERE x LIKE '5%' AND y % 2 = ?") == \
        "SELECT '?', \"a?\", %s WHERE x LIKE '5%%' AND y %% 2 = %s"


def test_a_named_lock_serializes_read_then_write_across_two_servers(db: Database, tmp_path, request):
    """Two Database objects (two servers' connections) reading then writing one counter under one named lock."""
    t = db.table  # type: ignore[attr-defined]
    url = request.getfixturevalue("postgres_url") if db.kind == "postgresql" else None
    other = open_database(url, tmp_path / "test.sqlite3")
    db.execute(f"INSERT INTO {t} (k, n) VALUES ('c', 0)")

    def bump(database: Database) -> None:
        for _ in range(20):
            with database.transaction(lock="counter") as tx:
                n = tx.execute(f"SELECT n FROM {t} WHERE k = 'c'").scalar()
                tx.execute(f"UPDATE {t} SET n = ? WHERE k = 'c'", (n + 1,))

    try:
        threads = [threading.Thread(target=bump, args=(d,)) for d in (db, other, db, other)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
    finally:
        other.close()
    assert db.execute(f"SELECT n FROM {t} WHERE k = 'c'").scalar() == 4 * 20


def test_a_connection_the_server_dropped_is_replaced_and_a_bad_statement_is_only_refused(postgres_url, tmp_path):
    """The server ends the pooled connections (as a restart does): the next statement still runs, on a new one.
    A statement the server refuses (division by zero) is said to be refused, and its connection stays usable."""
    import psycopg

    db = open_database(postgres_url, tmp_path / "unused.sqlite3")
    try:
        mine = db.execute("SELECT pg_backend_pid()").scalar()
        with psycopg.connect(postgres_url, autocommit=True) as admin:
            assert admin.execute("SELECT pg_terminate_backend(?)".replace("?", "%s"), (mine,)).fetchone()[0]
        assert db.execute("SELECT 2").scalar() == 2
        assert db.execute("SELECT pg_backend_pid()").scalar() != mine
        with pytest.raises(DatabaseError, match="refused 'SELECT 1 / 0'") as refused:
            db.execute("SELECT 1 / 0")
        assert type(refused.value) is DatabaseError
        assert db.execute("SELECT 3").scalar() == 3
    finally:
        db.close()
