"""DuckDB helpers shared by the warehouse and the checks.

DuckDB 2.0 keeps a result open until it is drained: after `fetchone()` the connection refuses further work
("unfinished result"). `first_row` drains the result, so callers never leave one open.
"""

from __future__ import annotations

from collections.abc import Sequence
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
