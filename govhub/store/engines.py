"""One engine per store URL, brought to the head revision by its first use in a process; transactions for
serialised writers and plain connections for readers."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import OperationalError

from govhub.config import Settings
from govhub.problems import GovhubError, Problem
from govhub.store import migrate
from govhub.store.connect import IMMEDIATE, advisory_key, open_engine

_engines: dict[str, Engine] = {}
_lock = threading.Lock()


def engine(settings: Settings) -> Engine:
    """The store's engine for `settings.state_url`, cached per URL; the first call in a process migrates the
    store to head (a new store is created by the migrations)."""
    url = settings.state_url
    with _lock:
        eng = _engines.get(url)
        if eng is None:
            eng = open_engine(url)
            try:
                migrate.bring_to_head(eng)
            except BaseException:
                eng.dispose()  # not cached: the next call tries again
                raise
            _engines[url] = eng
    return eng


@contextmanager
def write_transaction(settings: Settings, lock: str = "govhub") -> Iterator[Connection]:
    """A transaction in which writers holding the same `lock` run one at a time, across processes.

    SQLite has one writer anyway: BEGIN IMMEDIATE takes the write lock before the first read, so read-then-write
    (next id, previous hash) cannot interleave. PostgreSQL: a transaction-scoped advisory lock named by `lock`.
    """
    eng = engine(settings)
    with _reachable(eng), eng.connect() as conn:
        if eng.dialect.name == "sqlite":
            conn.execution_options(**{IMMEDIATE: True})
        with conn.begin():
            also_lock(conn, lock)
            yield conn


def also_lock(conn: Connection, lock: str) -> None:
    """Inside a `write_transaction`, hold another writers' lock too, until it ends (PostgreSQL: its advisory lock;
    SQLite's one writer holds them all already). Take locks in one order everywhere (the event log's first)."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": advisory_key(lock)})


@contextmanager
def read_connection(settings: Settings) -> Iterator[Connection]:
    """A plain connection for reads (never takes the write lock)."""
    eng = engine(settings)
    with _reachable(eng), eng.connect() as conn:
        yield conn


@contextmanager
def _reachable(eng: Engine) -> Iterator[None]:
    """A store server that cannot be reached, or that went away mid-transaction (the transaction is then rolled
    back), is the `store.unreachable` problem in Chinese, not a driver's traceback; other database errors pass."""
    try:
        yield
    except OperationalError as exc:
        if not (exc.connection_invalidated or _refused(exc)):
            raise
        reason = (str(exc.orig).strip().splitlines() or ["?"])[0]
        raise GovhubError(
            Problem(
                code="store.unreachable",
                message_zh=f"无法连接工作流数据库 {eng.url.render_as_string(hide_password=True)}"
                f"（请检查 GOVHUB_STATE_URL 与数据库服务）：{reason}",
            )
        ) from None


def _refused(exc: OperationalError) -> bool:
    text_ = str(exc.orig)
    return any(s in text_ for s in ("Connection refused", "could not connect", "server closed the connection",
                                    "connection failed", "Connection reset", "timeout expired"))  # fmt: skip


def dispose_engines() -> None:
    """Close pooled connections (tests, and before forking worker processes)."""
    with _lock:
        for eng in _engines.values():
            eng.dispose()
        _engines.clear()
