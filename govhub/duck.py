"""DuckDB helpers shared by the warehouse and the checks.

DuckDB 2.0 keeps a result open until it is drained: after `fetchone()` the connection refuses further work
("unfinished result"). `first_row` drains the result, so callers never leave one open.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Sequence
from typing import Any

import duckdb

# Files the analysts open (hub.duckdb, workspaces) are written in a storage format DuckDB 1.4 and later read: 2.0's
# default format is refused by 1.4/1.5 clients ("version number 69"). v1.4.0 rather than v1.0.0 because building a
# 10M-row workspace table took ≈3.5 s in it against 6.7–10 s in v1.0.0 (same size, ≈255 MB), measured here.
STORAGE_VERSION = "v1.4.0"


def first_row(
    con: duckdb.DuckDBPyConnection, sql: str, params: Sequence[Any] | None = None
) -> tuple[Any, ...]:
    """The first row of a query's result (the whole result is fetched, so the connection stays usable)."""
    rows = con.execute(sql, params).fetchall() if params is not None else con.execute(sql).fetchall()
    if not rows:
        raise LookupError(f"query returned no rows: {sql[:200]}")
    return rows[0]


# cursor → the in-memory database connection it was opened from; connection → what `once_per_database` set up there
_DATABASE_OF: weakref.WeakKeyDictionary[Any, duckdb.DuckDBPyConnection] = weakref.WeakKeyDictionary()
_SET_UP: weakref.WeakKeyDictionary[Any, set[str]] = weakref.WeakKeyDictionary()


def shared_cursor(database: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """A new cursor (own temporary objects, < 0.01 ms) on `database`, an in-memory database kept for many short
    jobs; what `once_per_database` puts into the database is then there for every later cursor."""
    cursor = database.cursor()
    _DATABASE_OF[cursor] = database
    return cursor


def once_per_database(
    con: duckdb.DuckDBPyConnection,
    key: str,
    *,
    shared: Callable[[duckdb.DuckDBPyConnection], None],
    local: Callable[[duckdb.DuckDBPyConnection], None],
) -> None:
    """Make `key`'s objects usable on `con`: for a `shared_cursor`, `shared(database)` once per database (tables and
    functions every cursor sees: a hub of many small loads pays it once, not ≈1 ms per load); for any other
    connection, `local(con)` each time (temporary objects only: nothing is left in a caller's database file)."""
    database = _DATABASE_OF.get(con)
    if database is None:
        local(con)
        return
    done = _SET_UP.setdefault(database, set())
    if key not in done:
        shared(database)
        done.add(key)
