"""What the docking API reads (资源共享对接服务, §13): one scoped resource of one snapshot — a page in primary-key
order, the whole table as a stream of Arrow batches, or the changes between two snapshots — by SQL we write.

The projection and the row filter are the workspace's (`table_select`: granted fields, granted rows, cell masks where
several grants overlap), read from the snapshot's immutable Parquet files; a client's input reaches DuckDB only as
bound parameters (the key values of a cursor), never as SQL text. Keys are selected under hidden names (`__k0`…)
so pages can be ordered and changes joined by the primary key even when the key itself is not granted; they are
dropped before anything leaves.

Changes between snapshot A and B are the difference of the two scoped tables, restricted to the keys the hub's own
diffs (`_changes/changes.parquet` of every snapshot after A up to B) say changed: a row that left the scope is a
delete, one that entered it an insert, one whose granted values changed an update, and a row outside the scope on
both sides is not there at all — its change record cannot leak it.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from govhub.warehouse.diff import quote, sql_str
from govhub.warehouse.scope import ScopedTable
from govhub.warehouse.workspace import hidden_key, table_select

CHANGE = "_change"  # the column saying insert / update / delete (a catalog name cannot start with `_`)


@dataclass(frozen=True)
class Relation:
    """A SELECT with the hidden keys first, then the columns that may leave."""

    sql: str
    columns: tuple[str, ...]
    keys: tuple[str, ...]  # hidden key aliases, in primary-key order


class QueryTimeout(Exception):
    """The query ran past its time limit and was interrupted."""


@contextmanager
def reader(memory_limit: str, threads: int, spill: Path | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
    """An in-memory DuckDB for one API call, with its own memory and thread limits."""
    con = duckdb.connect()
    try:
        con.execute(f"SET memory_limit = {sql_str(memory_limit)}")
        con.execute(f"SET threads = {int(threads)}")
        if spill is not None:
            con.execute(f"SET temp_directory = {sql_str(spill)}")
        yield con
    finally:
        con.close()


@contextmanager
def time_limit(con: duckdb.DuckDBPyConnection, seconds: float) -> Iterator[None]:
    """Interrupt whatever `con` runs once `seconds` have passed (raises `QueryTimeout` in the caller)."""
    fired = threading.Event()

    def stop() -> None:
        fired.set()
        con.interrupt()

    timer = threading.Timer(seconds, stop)
    timer.daemon = True
    timer.start()
    try:
        yield
    except duckdb.InterruptException:
        if fired.is_set():
            raise QueryTimeout() from None
        raise
    finally:
        timer.cancel()


def relation(
    con: duckdb.DuckDBPyConnection, group: list[ScopedTable], primary_key: Sequence[str]
) -> Relation:
    """One resource as `group` scopes it (all tables reading one snapshot), keys hidden first."""
    sql = table_select(con, group, primary_key)
    keys = tuple(hidden_key(i) for i in range(len(primary_key)))
    described = [row[0] for row in con.execute(f"DESCRIBE {sql}").fetchall()]
    return Relation(sql, tuple(described[len(keys) :]), keys)


def _after(keys: Sequence[str], values: Sequence[Any]) -> tuple[str, list[Any]]:
    """Rows whose key comes after `values` in key order (k0 > v0 OR k0 = v0 AND k1 > v1 …), as bound parameters."""
    ors, params = [], []
    for i, key in enumerate(keys):
        ands = [f"{quote(k)} = ?" for k in keys[:i]] + [f"{quote(key)} > ?"]
        ors.append("(" + " AND ".join(ands) + ")")
        params += [*values[:i], values[i]]
    return " OR ".join(ors), params


def page(
    con: duckdb.DuckDBPyConnection, rel: Relation, after: Sequence[Any] | None, limit: int
) -> tuple[pa.Table, list[Any] | None]:
    """Up to `limit` rows after the key `after` in primary-key order, and the last row's key when more follow."""
    where, params = _after(rel.keys, after) if after is not None else ("true", [])
    order = ", ".join(quote(k) for k in rel.keys)
    table = con.sql(
        f"SELECT * FROM ({rel.sql}) WHERE {where} ORDER BY {order} LIMIT {int(limit) + 1}", params=params
    ).to_arrow_table()
    more = table.num_rows > limit
    table = table.slice(0, limit)
    last = [table.column(k)[-1].as_py() for k in rel.keys] if more and table.num_rows else None
    return table.drop_columns(list(rel.keys)), last


def stream(con: duckdb.DuckDBPyConnection, rel: Relation, batch_rows: int) -> pa.RecordBatchReader:
    """The whole relation as Arrow batches, in the snapshot's stored order (no sort: memory stays bounded)."""
    columns = ", ".join(quote(c) for c in rel.columns)
    return con.sql(f"SELECT {columns} FROM ({rel.sql})").to_arrow_reader(batch_rows)


def dictionary_columns(con: duckdb.DuckDBPyConnection, files: Sequence[Path]) -> set[str]:
    """Columns the snapshot stored with a Parquet dictionary (few distinct values: sex, town, dates): worth one in
    an answer too. The rest (ID numbers, names, amounts) are written plain — trying a dictionary on them cost pyarrow
    40% more time for a larger file (1M rows × 6 fields: 0.64 s / 22 MB with, 0.45 s / 18 MB without)."""
    listed = ", ".join(sql_str(f) for f in files)
    return {
        row[0]
        for row in con.execute(
            f"SELECT path_in_schema FROM parquet_metadata([{listed}]) GROUP BY path_in_schema "
            "HAVING bool_and(contains(encodings, 'DICTIONARY'))"
        ).fetchall()
    }


def changed_keys(files: Sequence[Path], primary_key: Sequence[str]) -> str:
    """The keys the hub's diffs recorded as changed in these `_changes` files (duplicates across snapshots kept)."""
    if not files:  # no snapshot in between: nothing changed
        return f"SELECT {', '.join(f'NULL AS {quote(k)}' for k in primary_key)} LIMIT 0"
    listed = ", ".join(sql_str(f) for f in files)
    return f"SELECT {', '.join(quote(k) for k in primary_key)} FROM read_parquet([{listed}])"


def changes(old: Relation, new: Relation, primary_key: Sequence[str], candidates: str | None) -> Relation:
    """The scoped difference between two snapshots as a relation (`_change` first, then the new side's columns):
    rows in scope only now are inserts, only before deletes (with their old values), in both with different
    granted values updates. `candidates`: a SELECT of the keys that may have changed (None: compare every key)."""
    keys = new.keys

    def side(rel: Relation, alias: str) -> str:
        if candidates is None:
            return f"({rel.sql}) {alias}"
        match = " AND ".join(f"c.{quote(p)} = s.{quote(k)}" for p, k in zip(primary_key, keys, strict=True))
        return f"(SELECT * FROM ({rel.sql}) s WHERE EXISTS (SELECT 1 FROM ({candidates}) c WHERE {match})) {alias}"

    def old_value(column: str) -> str:
        return f"o.{quote(column)}" if column in old.columns else "NULL"

    on = " AND ".join(f"n.{quote(k)} = o.{quote(k)}" for k in keys)
    gone, fresh = f"n.{quote(keys[0])} IS NULL", f"o.{quote(keys[0])} IS NULL"
    values = [
        f"CASE WHEN {gone} THEN {old_value(c)} ELSE n.{quote(c)} END AS {quote(c)}" for c in new.columns
    ]
    new_row = "row(" + ", ".join(f"n.{quote(c)}" for c in new.columns) + ")"
    old_row = "row(" + ", ".join(old_value(c) for c in new.columns) + ")"
    sql = (
        f"SELECT {', '.join(f'coalesce(n.{quote(k)}, o.{quote(k)}) AS {quote(k)}' for k in keys)}, "
        f"CASE WHEN {fresh} THEN 'insert' WHEN {gone} THEN 'delete' ELSE 'update' END AS {quote(CHANGE)}, "
        f"{', '.join(values)} "
        f"FROM {side(new, 'n')} FULL OUTER JOIN {side(old, 'o')} ON {on} "
        f"WHERE {gone} OR {fresh} OR {new_row} IS DISTINCT FROM {old_row}"
    )
    return Relation(sql, (CHANGE, *new.columns), keys)
