"""What the docking API reads (资源共享对接服务, §13): one scoped resource of one snapshot — pages in primary-key
order, the whole table as a stream of Arrow batches, or the changes between two snapshots — by SQL we write.

The projection and the row filter are the workspace's (`table_select`: granted fields, granted rows, cell masks where
several grants overlap), read from the snapshot's immutable Parquet files; no client input ever reaches DuckDB — a
cursor is a position in a sorted copy, read with pyarrow. Keys are selected under hidden names (`__k0`…) so pages can be
ordered and changes joined by the primary key even when the key itself is not granted; they are dropped before
anything leaves.

Pages come from a sorted copy of the scoped table (`sorted_copy`: one sort per snapshot and scope, not one per page),
read by position: the snapshot is immutable and the key unique, so a position names the same row on every page.

Changes between snapshot A and B are the difference of the two scoped tables, restricted to the keys the hub's own
diffs (`_changes/changes.parquet` of every snapshot after A up to B) say changed: a row that left the scope is a
delete, one that entered it an insert, one whose granted values changed an update, and a row outside the scope on
both sides is not there at all — its change record cannot leak it.
"""

from __future__ import annotations

import os
import secrets
import shutil
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from govhub.warehouse.diff import quote, sql_str
from govhub.warehouse.scope import ScopedTable
from govhub.warehouse.snapshots import PARQUET_OPTIONS
from govhub.warehouse.workspace import hidden_key, parquet_files, table_select

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
def reader(
    memory_limit: str, threads: int, spill_root: Path | None = None
) -> Iterator[duckdb.DuckDBPyConnection]:
    """An in-memory DuckDB for one API call, with its own memory and thread limits, spilling (if it must) into a
    folder of its own under `spill_root`, named `<pid>-api-…` so the loads' sweeper keeps it while this process
    lives; removed when the call ends."""
    spill = spill_root / f"{os.getpid()}-api-{secrets.token_hex(6)}" if spill_root is not None else None
    if spill_root is not None:
        spill_root.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    try:
        con.execute(f"SET memory_limit = {sql_str(memory_limit)}")
        con.execute(f"SET threads = {int(threads)}")
        if spill is not None:
            con.execute(f"SET temp_directory = {sql_str(spill)}")
        yield con
    finally:
        con.close()
        if spill is not None:
            shutil.rmtree(spill, ignore_errors=True)


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


ROW_ID = "_row"  # a pseudonymous row key (a catalog name cannot start with "_")
# `_row` is the first 128 bits of SHA-256(salt ‖ key), in hex: no collision in any table this hub will hold (2^-64 at
# 2^32 rows), and with a 128-bit salt an ID number's key fits one SHA-256 block (W10R: the hash is most of its cost)
ROW_ID_HEX = 32
ROW_ID_VERSION = "row:v2"  # v1 was the whole digest under a 256-bit salt: a v1 `since` token is refused (409)


def known_by_row_id(group: Sequence[ScopedTable], primary_key: Sequence[str]) -> bool:
    """Whether the scope leaves out part of the primary key, so its rows are known to the consumer by `_row`."""
    return bool(primary_key) and not set(primary_key) <= {c for t in group for c in t.columns}


def relation(
    con: duckdb.DuckDBPyConnection,
    group: list[ScopedTable],
    primary_key: Sequence[str],
    row_salt: str | None = None,
) -> Relation:
    """One resource as `group` scopes it (all tables reading one snapshot), keys hidden first.

    When the scope does not grant the whole primary key, `row_salt` (the consumer's own secret, hex) adds `_row`
    first: a keyed hash of the key, the same for a row in every page, download and change feed of that consumer — so
    a change can be applied to the copy it updates — and nothing the key could be recovered from."""
    sql = table_select(con, group, primary_key)
    keys = tuple(hidden_key(i) for i in range(len(primary_key)))
    if row_salt is not None and known_by_row_id(group, primary_key):
        parts = ", ".join(f"CAST({quote(k)} AS VARCHAR)" for k in keys)
        digest = f"left(sha256({sql_str(row_salt)} || concat_ws(chr(31), {parts})), {ROW_ID_HEX})"
        sql = f"SELECT {', '.join(quote(k) for k in keys)}, {digest} AS {quote(ROW_ID)}, * EXCLUDE ({', '.join(quote(k) for k in keys)}) FROM ({sql})"
    described = [row[0] for row in con.execute(f"DESCRIBE {sql}").fetchall()]
    return Relation(sql, tuple(described[len(keys) :]), keys)


def sorted_copy(
    con: duckdb.DuckDBPyConnection, rel: Relation, dest: Path, row_group_rows: int = 10_000
) -> Path:
    """The relation's columns in key order, written once to `dest` (under a temporary name, then renamed: two
    writers racing write the same bytes). Sorting a 1M-row resource for every page cost 150–250 ms a page; sorted
    once, in row groups of `row_group_rows`, a page reads the one or two row groups it needs."""
    tmp = dest.with_name(f".{dest.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    order = ", ".join(quote(k) for k in rel.keys)
    columns = ", ".join(quote(c) for c in rel.columns)
    try:
        con.execute(
            f"COPY (SELECT {columns} FROM ({rel.sql}) ORDER BY {order}) TO {sql_str(tmp)} "
            f"({PARQUET_OPTIONS}, ROW_GROUP_SIZE {int(row_group_rows)})"
        )
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)
    return dest


def page_at(path: Path, offset: int, limit: int) -> tuple[pa.Table, int | None]:
    """Rows `offset` to `offset + limit` of a sorted copy (only the row groups holding them are read), and the
    next page's offset when rows follow."""
    parquet = pq.ParquetFile(path)
    meta, start, wanted = parquet.metadata, 0, []
    for i in range(meta.num_row_groups):
        n = meta.row_group(i).num_rows
        if start + n > offset and start < offset + limit:
            wanted.append((i, start))
        start += n
    if not wanted:
        return parquet.schema_arrow.empty_table(), None
    table = parquet.read_row_groups([i for i, _ in wanted])
    table = table.slice(offset - wanted[0][1], limit)
    end = offset + table.num_rows
    return table, (end if end < meta.num_rows else None)


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
    return f"SELECT {', '.join(quote(k) for k in primary_key)} FROM {parquet_files(files)}"


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
