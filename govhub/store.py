"""The workflow store: event log, submission ledger, alerts sent; later people, roles, sharing requests and grants.

One SQLAlchemy engine per URL (`settings.state_url`): a SQLite file under `settings.state_dir` by default, in WAL mode
with a busy timeout so several processes (CLI, Dagster sensor, portal) can write; PostgreSQL when
`GOVHUB_STATE_URL` says so. Tables are SQLAlchemy Core tables on the one `metadata` below; a module adding tables
defines them on `metadata` and they are created the next time `engine()` is called (`create_all` is idempotent).

Writers that must be serialised (the hash chain, "at most one row per period" rules) use `write_transaction`:
SQLite `BEGIN IMMEDIATE` (takes the database write lock at once), PostgreSQL a transaction-scoped advisory lock.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import (
    Column,
    Engine,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    create_engine,
    event,
    text,
)
from sqlalchemy.engine import Connection, make_url

from govhub.config import Settings

metadata = MetaData()

# §16–§17: every action tied to a person and an agency; hash-chained so silent edits are detected.
events = Table(
    "events",
    metadata,
    Column(
        "id", Integer, primary_key=True, autoincrement=False
    ),  # assigned under the write lock: part of the hash
    Column(
        "at", String(32), nullable=False
    ),  # UTC, ISO 8601 with microseconds and Z: stable text for hashing
    Column("kind", String(100), nullable=False),
    Column("actor", String(200), nullable=False),
    Column("agency", String(100)),
    Column("subject", String(300), nullable=False),
    Column("payload", Text, nullable=False),  # canonical JSON exactly as hashed
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
)
Index("ix_events_kind", events.c.kind)
Index("ix_events_subject", events.c.subject)

# §11: one row per agency × resource × period: what the agency delivered (or declared) for that period.
submissions = Table(
    "submissions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("agency", String(100), nullable=False),
    Column("resource", String(100), nullable=False),
    Column("period", String(16), nullable=False),
    Column("state", String(32), nullable=False),
    Column("snapshot_id", String(100)),
    Column("load_id", String(100)),
    Column("attested_by", String(200)),
    Column("at", String(32), nullable=False),
    Column("note", Text),
    UniqueConstraint("agency", "resource", "period", name="uq_submission_period"),
)

# Alerts already raised, so each (resource, period, kind) is sent once.
alerts_sent = Table(
    "alerts_sent",
    metadata,
    Column("agency", String(100), primary_key=True),
    Column("resource", String(100), primary_key=True),
    Column("period", String(16), primary_key=True),
    Column("kind", String(50), primary_key=True),
    Column("at", String(32), nullable=False),
    Column("message_zh", Text),
)

# §16–§17: the people who act (data stewards, reviewers, the office, analysts, engineers), each of one agency.
people = Table(
    "people",
    metadata,
    Column("id", String(100), primary_key=True),  # login name, e.g. "zhangmin"
    Column("name", String(200), nullable=False),  # 姓名, as recorded with every action
    Column("agency", String(100), nullable=False),
    Column(
        "roles", String(200), nullable=False
    ),  # comma-separated: steward, reviewer, office, analyst, engineer
    Column("active", Integer, nullable=False, default=1),
    Column("updated_at", String(32), nullable=False),
)

_engines: dict[str, Engine] = {}
_created: dict[str, frozenset[str]] = {}
_lock = threading.Lock()


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
        mode = "BEGIN IMMEDIATE" if conn.get_execution_options().get("govhub_immediate") else "BEGIN"
        conn.exec_driver_sql(mode)


def engine(settings: Settings) -> Engine:
    """The store's engine for `settings.state_url`, cached per URL, with every table on `metadata` created."""
    url = settings.state_url
    with _lock:
        eng = _engines.get(url)
        if eng is None:
            parsed = make_url(url)
            if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
                Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
            eng = create_engine(url, pool_pre_ping=parsed.get_backend_name() != "sqlite")
            if eng.dialect.name == "sqlite":
                _sqlite_setup(eng)
            _engines[url] = eng
        names = frozenset(metadata.tables)
        if _created.get(url) != names:
            _create_tables(eng)
            _created[url] = names
    return eng


def _create_tables(eng: Engine) -> None:
    """Create missing tables. Processes starting at once on a new SQLite file (Dagster's multiprocess steps) would
    fail with "database is locked" while the file and its WAL are set up, so they take turns on a file lock and
    create inside BEGIN IMMEDIATE."""
    if eng.dialect.name != "sqlite" or not eng.url.database or eng.url.database == ":memory:":
        metadata.create_all(eng)
        return
    import fcntl

    with open(f"{eng.url.database}.lock", "a") as lock_file:
        fcntl.flock(lock_file, fcntl.LOCK_EX)
        try:
            with eng.connect() as conn:
                conn.execution_options(govhub_immediate=True)
                with conn.begin():
                    metadata.create_all(conn)
        finally:
            fcntl.flock(lock_file, fcntl.LOCK_UN)


def _advisory_key(name: str) -> int:
    """A stable signed 64-bit key for pg_advisory_xact_lock from a lock name."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


@contextmanager
def write_transaction(settings: Settings, lock: str = "govhub") -> Iterator[Connection]:
    """A transaction in which writers holding the same `lock` run one at a time, across processes.

    SQLite has one writer anyway: BEGIN IMMEDIATE takes the write lock before the first read, so read-then-write
    (next id, previous hash) cannot interleave. PostgreSQL: a transaction-scoped advisory lock named by `lock`.
    """
    eng = engine(settings)
    with eng.connect() as conn:
        if eng.dialect.name == "sqlite":
            conn.execution_options(govhub_immediate=True)
        with conn.begin():
            if eng.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _advisory_key(lock)})
            yield conn


@contextmanager
def read_connection(settings: Settings) -> Iterator[Connection]:
    """A plain connection for reads (never takes the write lock)."""
    with engine(settings).connect() as conn:
        yield conn


def dispose_engines() -> None:
    """Close pooled connections (tests, and before forking worker processes)."""
    with _lock:
        for eng in _engines.values():
            eng.dispose()
        _engines.clear()
        _created.clear()
