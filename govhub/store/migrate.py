"""Bringing a store to the newest schema with the Alembic migrations in `migrations/versions/`.

A revision's id is its file name, `NNNN_what` (`0001_baseline`, `0002_…`), and the history is one line, so the head
is the last file name in sorting order: a process checks "already at head?" with a directory listing and one plain
SELECT of `alembic_version`, and imports Alembic (≈0.1–0.2 s) only when there is something to upgrade.

Upgrades are serialised across processes: SQLite by the lock file beside the database and BEGIN IMMEDIATE,
PostgreSQL by a transaction-scoped advisory lock; the revision is read again under the lock, so of several
processes starting at once one upgrades and the others find the store at head. Everything runs in one transaction
(SQLite and PostgreSQL both have transactional DDL): a failed upgrade leaves the store as it was.

A store made before migrations existed (tables from `create_all`, no `alembic_version`) is adopted: the baseline
revision creates only the tables it lacks and stamps it, and later revisions run as on any other store.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine, inspect, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import OperationalError

from govhub.problems import GovhubError, Problem
from govhub.store.connect import IMMEDIATE, advisory_key, open_engine, sqlite_file, sqlite_file_lock

if TYPE_CHECKING:
    from alembic.config import Config

    from govhub.config import Settings

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
VERSIONS_DIR = MIGRATIONS_DIR / "versions"
VERSION_TABLE = "alembic_version"
# Tables a store made before migrations (commit 0e11c27 and earlier) may hold: their presence without
# VERSION_TABLE marks such a store.
LEGACY_TABLES = frozenset({"events", "submissions", "alerts_sent", "people", "catalog_drift"})
_REVISION_FILE = re.compile(r"^(\d{4}_[a-z0-9_]+)\.py$")

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Upgrade:
    """What bringing a store to head did: `before` is None for a new or pre-migration (`adopted`) store."""

    url: str  # password hidden
    before: str | None
    after: str
    adopted: bool = False

    @property
    def changed(self) -> bool:
        return self.before != self.after


@dataclass(frozen=True)
class StoreRevision:
    """Where a store stands: its URL (password hidden), its revision and the program's head."""

    url: str
    current: str | None
    head: str
    exists: bool  # False: nothing there yet (it is created on first use)
    legacy: bool  # tables from before migrations, no revision recorded yet

    @property
    def pending(self) -> bool:
        """An upgrade is due (False when the store is ahead of this program: it cannot be upgraded by it)."""
        return self.current != self.head and not self.ahead

    @property
    def ahead(self) -> bool:
        """The store was upgraded by a newer govhub: its revision is unknown to this one."""
        return self.current is not None and self.current not in revisions()


def revisions() -> list[str]:
    """Every revision id, oldest first (ids are file names and sort in order)."""
    return sorted(m.group(1) for name in os.listdir(VERSIONS_DIR) if (m := _REVISION_FILE.match(name)))


def head_revision() -> str:
    return revisions()[-1]


def current_revision(conn: Connection) -> str | None:
    """The store's revision as recorded by Alembic (plain SQL: no Alembic import); None if none is recorded."""
    if not _has_version_table(conn):
        return None
    return conn.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalar_one_or_none()


# One plain query each: SQLAlchemy's inspector costs ≈3 ms on a fresh PostgreSQL connection, the query ≈0.3 ms.
# to_regclass looks along the search_path, as unqualified table names do.
_VERSION_TABLE_EXISTS = {
    "postgresql": f"SELECT to_regclass('{VERSION_TABLE}') IS NOT NULL",
    "sqlite": f"SELECT count(*) > 0 FROM sqlite_master WHERE type = 'table' AND name = '{VERSION_TABLE}'",
}


def _has_version_table(conn: Connection) -> bool:
    sql = _VERSION_TABLE_EXISTS.get(conn.dialect.name)
    return bool(conn.execute(text(sql)).scalar()) if sql else inspect(conn).has_table(VERSION_TABLE)


def bring_to_head(eng: Engine) -> Upgrade:
    """Upgrade the store behind `eng` to the head revision unless it is there already."""
    head = head_revision()
    with sqlite_file_lock(eng):  # SQLite: also orders first connections to a new file
        with _connect(eng) as conn:
            current = current_revision(conn)
        if current == head:
            return Upgrade(_safe_url(eng), head, head)
        _refuse_unknown(current, eng)
        return _upgrade(eng, head)


def _upgrade(eng: Engine, head: str) -> Upgrade:
    with _migration_transaction(eng) as conn:
        before = current_revision(conn)  # again, under the lock: another process may have upgraded meanwhile
        adopted = before is None and bool(LEGACY_TABLES & set(inspect(conn).get_table_names()))
        if before != head:
            _refuse_unknown(before, eng)
            from alembic import command

            command.upgrade(alembic_config(conn), "head")
    if before != head:
        log.info(
            "workflow store %s: %s → %s%s", _safe_url(eng), before, head, " (adopted)" if adopted else ""
        )
    return Upgrade(_safe_url(eng), before, head, adopted)


@contextmanager
def _migration_transaction(eng: Engine) -> Iterator[Connection]:
    """One transaction that only one process at a time holds for migrating (SQLite: the caller holds the file
    lock, and BEGIN IMMEDIATE keeps out writers of processes that are already running)."""
    with _connect(eng) as conn:
        if eng.dialect.name == "sqlite":
            conn.execution_options(**{IMMEDIATE: True})
        with conn.begin():
            if eng.dialect.name == "postgresql":
                # per schema: hubs sharing a database (one schema each) do not wait for each other
                schema = conn.execute(text("SELECT current_schema()")).scalar()
                key = advisory_key(f"govhub.store.migrate:{schema}")
                conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": key})
            yield conn


@contextmanager
def _connect(eng: Engine) -> Iterator[Connection]:
    try:
        conn = eng.connect()
    except OperationalError as exc:
        reason = (str(exc.orig).strip().splitlines() or ["?"])[0]
        raise GovhubError(
            Problem(
                code="store.unreachable",
                message_zh=f"无法连接工作流数据库 {_safe_url(eng)}（请检查 GOVHUB_STATE_URL 与数据库服务）：{reason}",
            )
        ) from None
    with conn:
        yield conn


def _refuse_unknown(revision: str | None, eng: Engine) -> None:
    if revision is not None and revision not in revisions():
        raise GovhubError(
            Problem(
                code="store.unknown_revision",
                message_zh=f"工作流数据库 {_safe_url(eng)} 的版本 {revision} 不在本程序的迁移脚本中"
                "（数据库已由更新版本的 govhub 升级）；请使用相同或更新版本的 govhub",
                value=revision,
                expected=head_revision(),
            )
        )


def alembic_config(conn: Connection | None = None) -> Config:
    """Alembic's configuration for the shipped migrations; `conn` is the connection env.py migrates."""
    from alembic.config import Config

    config = Config(str(MIGRATIONS_DIR / "alembic.ini"))
    if conn is not None:
        config.attributes["connection"] = conn
    return config


def _safe_url(eng: Engine) -> str:
    return eng.url.render_as_string(hide_password=True)


def upgrade(settings: Settings) -> Upgrade:
    """Bring the store of `settings` to head (what `govhub db upgrade` does, and the first `engine()` in a process)."""
    eng = open_engine(settings.state_url)
    try:
        return bring_to_head(eng)
    finally:
        eng.dispose()


def revision(settings: Settings) -> StoreRevision:
    """Where the store of `settings` stands, without changing it (not even creating a SQLite file)."""
    url = make_url(settings.state_url)
    safe, head = url.render_as_string(hide_password=True), head_revision()
    path = sqlite_file(url)
    if path is not None and not path.exists():
        return StoreRevision(safe, None, head, exists=False, legacy=False)
    eng = open_engine(settings.state_url)
    try:
        with _connect(eng) as conn:
            current = current_revision(conn)
            tables = set(inspect(conn).get_table_names())
    finally:
        eng.dispose()
    legacy = current is None and bool(LEGACY_TABLES & tables)
    return StoreRevision(safe, current, head, exists=bool(tables), legacy=legacy)
