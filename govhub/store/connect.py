"""Opening the store's database: SQLite set up for several writing processes, PostgreSQL as configured.

Knows nothing of tables or migrations; `engines` caches what `open_engine` returns and `migrate` locks with
`sqlite_file_lock` and `advisory_key`.
"""

from __future__ import annotations

import hashlib
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.exc import ArgumentError

from govhub.problems import GovhubError, Problem

# Execution option a writer sets on its connection to have SQLite's transaction begin as BEGIN IMMEDIATE.
IMMEDIATE = "govhub_immediate"


def open_engine(url: str) -> Engine:
    """A new (uncached) engine for `url`; a SQLite file's folder is created, the file itself on first connect."""
    parsed = make_url(url)
    sqlite = parsed.get_backend_name() == "sqlite"
    if (path := sqlite_file(parsed)) is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
    try:
        eng = create_engine(url, pool_pre_ping=not sqlite)
    except (ArgumentError, ImportError) as exc:  # a misspelt URL, or a driver that is not installed
        safe = parsed.render_as_string(hide_password=True)
        raise GovhubError(
            Problem(
                code="store.bad_url",
                message_zh=f"工作流数据库地址 {safe} 无法使用（GOVHUB_STATE_URL）：{exc}",
            )
        ) from None
    if sqlite:
        _sqlite_setup(eng)
    return eng


def _sqlite_setup(engine: Engine) -> None:
    """WAL + busy timeout; let SQLAlchemy (not pysqlite) emit BEGIN, so a writer can ask for BEGIN IMMEDIATE."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
        dbapi_conn.isolation_level = None  # pysqlite must not issue its own (deferred) BEGIN
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA busy_timeout=30000")  # first: the WAL switch itself may have to wait
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        mode = "BEGIN IMMEDIATE" if conn.get_execution_options().get(IMMEDIATE) else "BEGIN"
        conn.exec_driver_sql(mode)


def sqlite_file(url: URL) -> Path | None:
    """The SQLite file `url` names, or None (another database, or SQLite in memory)."""
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    return Path(url.database)


def sqlite_file_lock(engine: Engine) -> AbstractContextManager[None]:
    """Processes opening one SQLite file at once take turns (a no-op for any other database).

    Several processes setting up a new file and its WAL at once (Dagster's multiprocess steps start together) fail
    with "database is locked" despite the busy timeout; a lock file beside the database orders them.
    """
    path = sqlite_file(engine.url)
    from govhub.locks import file_lock

    return nullcontext() if path is None else file_lock(Path(f"{path}.lock"))


def advisory_key(name: str) -> int:
    """A stable signed 64-bit key for PostgreSQL's advisory locks from a lock name."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)
