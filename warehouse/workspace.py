"""Per-agency workspaces: a DuckDB file holding only what the agency's analysts may reach (Measures §14).

`workspaces/<agency>/workspace.duckdb` has a table `"<agency>"."<resource>"` per resource in its scope (the hub's
names, so the same SQL runs against hub.duckdb and a workspace), filled by INSERT … SELECT from the snapshot's Parquet
files — only the scoped fields and rows are ever written — and `_scope` (what each table holds and why). No views and
no macros: nothing in the file names a path, so a query can reach no data the file does not hold.

Each build writes a new file (dropped data lingers in a DuckDB file's bytes), checkpoints and fsyncs it, and
`os.replace`s it over the old one: a query already running keeps the old file open and finishes; the next query opens
the new one. Builds of one agency serialise on a file lock.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb

from govhub.config import Settings
from govhub.duck import STORAGE_VERSION
from govhub.locks import file_lock
from govhub.problems import GovhubError, Problem
from govhub.warehouse.diff import quote, sql_str
from govhub.warehouse.meta import fsync_dir, pause_point
from govhub.warehouse.scope import ScopedTable, WorkspaceScope, check_identifier
from govhub.warehouse.snapshots import copy_to_store

WORKSPACE_FILE = "workspace.duckdb"
SCOPE_TABLE = "_scope"
_DB = "ws"  # the building file's name inside the build's in-memory DuckDB


@dataclass(frozen=True)
class WorkspaceBuild:
    """A finished build: the file, rows per table (`agency.resource`), its size and how long it took."""

    agency: str
    path: Path
    tables: dict[str, int]
    bytes: int
    duration_s: float
    built_at: dt.datetime


def workspace_path(settings: Settings, agency: str) -> Path:
    return settings.workspaces_dir / check_identifier(agency, "部门") / WORKSPACE_FILE


def build_workspace(settings: Settings, scope: WorkspaceScope) -> WorkspaceBuild:
    """(Re)build an agency's workspace from its scope; the previous file stays in place if anything fails."""
    started = time.perf_counter()
    target = workspace_path(settings, scope.agency)
    folder = target.parent
    folder.mkdir(parents=True, exist_ok=True)
    with file_lock(folder / ".lock"):
        for leftover in folder.glob(".*.building*"):  # of a build killed midway (we hold the lock)
            leftover.unlink(missing_ok=True)
        for leftover in folder.glob(".spill-*"):
            shutil.rmtree(leftover, ignore_errors=True)
        building = folder / f".{WORKSPACE_FILE}.{os.getpid()}.building"
        spill = folder / f".spill-{os.getpid()}"
        built_at = dt.datetime.now(dt.UTC)
        try:
            tables = _write(building, scope, spill, built_at, settings.duckdb_memory_limit)
            with open(building, "rb") as f:
                os.fsync(f.fileno())
            pause_point("workspace_written")
            # a WAL beside the live file (someone opened it read-write) would be replayed onto the new one
            target.with_name(target.name + ".wal").unlink(missing_ok=True)
            os.replace(building, target)
            fsync_dir(folder)
            copy_to_store(
                settings,
                target,
                f"workspaces/{scope.agency}/{target.name}",
                "工作区已在本机重建，但未能写入对象存储",
            )
        except duckdb.Error as exc:
            raise GovhubError(
                Problem(
                    code="workspace.build_failed",
                    message_zh=f"重建部门“{scope.agency}”的工作区失败，原工作区未改动",
                    value=str(exc)[:300],
                )
            ) from exc
        finally:
            building.unlink(missing_ok=True)
            building.with_name(building.name + ".wal").unlink(missing_ok=True)
            shutil.rmtree(spill, ignore_errors=True)
    return WorkspaceBuild(
        agency=scope.agency,
        path=target,
        tables=tables,
        bytes=target.stat().st_size,
        duration_s=time.perf_counter() - started,
        built_at=built_at,
    )


def _write(
    path: Path, scope: WorkspaceScope, spill: Path, built_at: dt.datetime, memory_limit: str
) -> dict[str, int]:
    rows: dict[str, int] = {}
    with duckdb.connect() as con:
        con.execute(f"SET memory_limit = {sql_str(memory_limit)}")
        con.execute(f"SET temp_directory = {sql_str(spill)}")
        con.execute("SET preserve_insertion_order = false")  # a table's row order means nothing; less memory
        con.execute(f"ATTACH {sql_str(path)} AS {_DB} (STORAGE_VERSION {sql_str(STORAGE_VERSION)})")
        con.execute(
            f"CREATE TABLE {_DB}.main.{SCOPE_TABLE} (table_name VARCHAR, agency VARCHAR, resource VARCHAR, "
            "basis VARCHAR, columns VARCHAR[], row_filter VARCHAR, grant_ids VARCHAR[], purposes VARCHAR[], "
            "snapshot_id VARCHAR, rows BIGINT, built_at TIMESTAMPTZ)"
        )
        for (agency, resource), group in sorted(scope.by_resource().items()):
            con.execute(f"CREATE SCHEMA IF NOT EXISTS {_DB}.{quote(agency)}")
            name = f"{_DB}.{quote(agency)}.{quote(resource)}"
            select = table_select(con, group)
            con.execute(f"CREATE TABLE {name} ({column_definitions(con, select, group[0].source.files)})")
            con.execute(f"INSERT INTO {name} {select}")
            (count,) = con.execute(f"SELECT count(*) FROM {name}").fetchall()[0]
            rows[f"{agency}.{resource}"] = count
            con.executemany(
                f"INSERT INTO {_DB}.main.{SCOPE_TABLE} VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    [t.name, agency, resource, t.basis.value, list(t.columns), t.row_filter.sql(),
                     list(t.grant_ids), list(t.purposes), t.source.snapshot_id, admitted, built_at]
                    for t, admitted in zip(group, _admitted(con, group, count), strict=True)
                ],
            )  # fmt: skip
        con.execute(f"CHECKPOINT {_DB}")
        con.execute(f"DETACH {_DB}")
    return rows


def column_definitions(con: duckdb.DuckDBPyConnection, select: str, files: tuple[Path, ...]) -> str:
    """The table's columns as the SELECT types them; text the snapshot's Parquet stored without a dictionary (ID
    numbers, names, phones: nearly every value distinct) is kept uncompressed. DuckDB's string compression found
    little to gain there and cost half the build: 10M rows × 10 fields took 9.3 CPU-s (455 MB) with it, 5.0 CPU-s
    (864 MB) without it on those four fields, and group-bys on the rest stayed as fast (measured here)."""
    listed = ", ".join(sql_str(f) for f in files)
    plain = {
        row[0]
        for row in con.execute(
            f"SELECT path_in_schema FROM parquet_metadata([{listed}]) GROUP BY path_in_schema "
            "HAVING NOT bool_or(contains(encodings, 'DICTIONARY'))"
        ).fetchall()
    }
    columns = con.execute(f"DESCRIBE {select}").fetchall()
    return ", ".join(
        f"{quote(name)} {kind}"
        + (" USING COMPRESSION uncompressed" if kind == "VARCHAR" and name in plain else "")
        for name, kind, *_ in columns
    )


def hidden_key(i: int) -> str:
    return f"__k{i}"


def _problem(code: str, message_zh: str, table: ScopedTable) -> GovhubError:
    return GovhubError(Problem(code=code, message_zh=message_zh, value=table.name))


def parquet_files(files: Sequence[Path]) -> str:
    """A snapshot's files as a DuckDB table expression."""
    return f"read_parquet([{', '.join(sql_str(f) for f in files)}])"


def _admitted(con: duckdb.DuckDBPyConnection, group: list[ScopedTable], total: int) -> list[int]:
    """The rows each scoping table admits (`_scope.rows`): a grant of some rows' phone numbers says how many rows
    it gives, not how many the table holds through every grant together. One column-pruned pass over the snapshot
    when several tables scope the resource; a lone one admits the whole table."""
    if len(group) == 1:
        return [total]
    data = parquet_files(group[0].source.files)
    counts = ", ".join(f"count(*) FILTER (WHERE {t.row_filter.sql()})" for t in group)
    return list(con.execute(f"SELECT {counts} FROM {data}").fetchone() or [0] * len(group))


def table_select(con: duckdb.DuckDBPyConnection, group: list[ScopedTable], keys: Sequence[str] = ()) -> str:
    """The SELECT that materialises one resource from the tables scoping it: a value is kept when some table
    grants its field and its row (column masks for fields only some tables grant), a row when some table grants it.

    `keys` (the docking API's paging and change keys) come first as `"__k0"`, `"__k1"`…, whether granted or not: the
    caller orders and joins by them and never hands them out (a catalog name cannot start with `_`)."""
    first = group[0]
    for t in group:
        if t.source != first.source:
            raise _problem("scope.mixed_snapshots", f"资源 {t.name} 的各授权须读取同一快照", t)
    if not first.source.files:
        raise _problem("scope.no_files", f"资源 {first.name} 的快照没有数据文件", first)
    data = parquet_files(first.source.files)
    present = [r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {data}").fetchall()]
    for t in group:
        missing = [f for f in t.row_filter.fields if f not in present]
        if missing:
            raise _problem(
                "scope.filter_field_missing",
                f"资源 {t.name} 的快照 {t.source.snapshot_id} 中没有筛选所用的信息项：{'、'.join(missing)}",
                t,
            )
    unfiltered = any(t.row_filter.everything for t in group)
    select = [f"{quote(check_identifier(k, '信息项'))} AS {quote(hidden_key(i))}" for i, k in enumerate(keys)]
    # snapshot order = catalog order; a field the catalog added since the snapshot was taken is not there yet
    for column in present:
        carriers = [t for t in group if column in t.columns]
        if not carriers:
            continue
        check_identifier(column, "信息项")
        if len(carriers) == len(group) or any(t.row_filter.everything for t in carriers):
            select.append(quote(column))
        else:
            visible = " OR ".join(f"({t.row_filter.sql()})" for t in carriers)
            select.append(f"CASE WHEN {visible} THEN {quote(column)} END AS {quote(column)}")
    if len(select) == len(keys):
        raise _problem("scope.no_columns", f"资源 {first.name} 的快照中没有任何授予的信息项", first)
    where = "" if unfiltered else " WHERE " + " OR ".join(f"({t.row_filter.sql()})" for t in group)
    return f"SELECT {', '.join(select)} FROM {data}{where}"
