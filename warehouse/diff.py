"""Change detection by primary key, in DuckDB over Parquet.

Every row gets a 64-bit hash of its catalog-normalised values (each column cast to its catalog type, so a type-only
difference is never a change). A snapshot stores (primary key, row_hash) beside its data; the next load diffs its
own hashes against those with one full outer join. The whole-table fingerprint is `rows:sum(row_hash)`:
order-independent and computed from the hashes alone, so an identical re-delivery is recognised without a join.

DuckDB's `hash()` is stable within a DuckDB version; snapshots record `HASH_VERSION` and the hashed columns, and
stored hashes from another version or column list are recomputed from the snapshot's data.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import duckdb

from govhub.catalog.model import Resource
from govhub.duck import first_row
from govhub.warehouse.normalize import DUCKDB_TYPES
from govhub.warehouse.snapshots import HASHES_FILE, PARQUET_OPTIONS, SnapshotInfo, data_glob

HASH_VERSION = f"duckdb-{duckdb.__version__}/1"
EMPTY_FINGERPRINT = "0:0"


@dataclass
class DiffCounts:
    rows: int
    previous_rows: int
    inserted: int
    updated: int
    deleted: int
    unchanged: int
    identical: bool
    changes_path: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def sql_str(value: str | Path) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def columns_of(con: duckdb.DuckDBPyConnection, relation: str) -> list[str]:
    return list(con.sql(f"SELECT * FROM {relation}").columns)  # bound, not run


def _typed(resource: Resource, name: str, available: list[str], alias: str = "") -> str:
    src = f"{alias}{quote(name)}" if name in available else "NULL"
    return f"CAST({src} AS {DUCKDB_TYPES[resource.field(name).type]})"


def row_hash_sql(resource: Resource, available: list[str], alias: str = "") -> str:
    """hash(...) over every catalog column cast to its catalog type (NULL for a column the data predates)."""
    return "hash(" + ", ".join(_typed(resource, f, available, alias) for f in resource.field_names) + ")"


def key_select_sql(resource: Resource, available: list[str], alias: str = "") -> str:
    return ", ".join(f"{_typed(resource, k, available, alias)} AS {quote(k)}" for k in resource.primary_key)


def write_row_hashes(
    con: duckdb.DuckDBPyConnection,
    resource: Resource,
    relation: str,
    dest: Path,
    *,
    where: str = "",
    available: list[str] | None = None,
) -> str:
    """Write (primary key, row_hash) of a relation to Parquet; return its fingerprint. `available`: the relation's
    columns when the caller knows them (saves a DESCRIBE)."""
    available = available if available is not None else columns_of(con, relation)
    con.execute(
        f"COPY (SELECT {key_select_sql(resource, available)}, {row_hash_sql(resource, available)} AS row_hash "
        f"FROM {relation} {where}) TO {sql_str(dest)} ({PARQUET_OPTIONS})"
    )
    return fingerprint_of(con, f"read_parquet({sql_str(dest)})")


def fingerprint_of(con: duckdb.DuckDBPyConnection, hashes_relation: str) -> str:
    """Order-independent whole-table fingerprint from a (key, row_hash) relation."""
    rows, total = first_row(
        con, f"SELECT count(*), coalesce(sum(row_hash::HUGEINT), 0) FROM {hashes_relation}"
    )
    return f"{rows}:{total}"


def table_fingerprint(con: duckdb.DuckDBPyConnection, resource: Resource, relation: str) -> str:
    """Fingerprint of any relation holding the catalog columns (hashing it on the fly)."""
    available = columns_of(con, relation)
    rows, total = first_row(
        con,
        f"SELECT count(*), coalesce(sum({row_hash_sql(resource, available)}::HUGEINT), 0) FROM {relation}",
    )
    return f"{rows}:{total}"


def stored_hashes_usable(resource: Resource, info: SnapshotInfo) -> bool:
    return info.hash_version == HASH_VERSION and info.hash_columns == resource.field_names


def snapshot_hashes(
    con: duckdb.DuckDBPyConnection, resource: Resource, folder: Path, info: SnapshotInfo
) -> str:
    """A relation of (key, row_hash) for a published snapshot: stored, or recomputed when stale."""
    stored = folder / HASHES_FILE
    if stored.exists() and stored_hashes_usable(resource, info):
        return f"read_parquet({sql_str(stored)})"
    data = f"read_parquet({sql_str(data_glob(folder))})"
    available = columns_of(con, data)
    return (
        f"(SELECT {key_select_sql(resource, available)}, {row_hash_sql(resource, available)} AS row_hash "
        f"FROM {data})"
    )


def snapshot_fingerprint(
    con: duckdb.DuckDBPyConnection, resource: Resource, folder: Path, info: SnapshotInfo
) -> str:
    if stored_hashes_usable(resource, info):
        return info.fingerprint
    return fingerprint_of(con, snapshot_hashes(con, resource, folder, info))


def diff_hashes(
    con: duckdb.DuckDBPyConnection,
    resource: Resource,
    new: str,
    old: str,
    changes_path: Path,
    *,
    rows: int | None = None,
    previous_rows: int | None = None,
) -> DiffCounts:
    """Join new and old (key, row_hash) by primary key; write changed keys with their kind; count each kind.

    `rows` / `previous_rows`: the sizes of `new` / `old` when the caller already knows them (saves two queries)."""
    keys = resource.primary_key
    on = " AND ".join(f"n.{quote(k)} = o.{quote(k)}" for k in keys)
    key_out = ", ".join(f"coalesce(n.{quote(k)}, o.{quote(k)}) AS {quote(k)}" for k in keys)
    con.execute(
        f"COPY (SELECT {key_out}, CASE WHEN o.row_hash IS NULL THEN 'insert' "
        f"WHEN n.row_hash IS NULL THEN 'delete' ELSE 'update' END AS change "
        f"FROM {new} n FULL OUTER JOIN {old} o ON {on} "
        f"WHERE n.row_hash IS DISTINCT FROM o.row_hash) TO {sql_str(changes_path)} ({PARQUET_OPTIONS})"
    )
    counts = dict(
        con.execute(
            f"SELECT change, count(*) FROM read_parquet({sql_str(changes_path)}) GROUP BY change"
        ).fetchall()
    )
    if rows is None:
        rows = first_row(con, f"SELECT count(*) FROM {new}")[0]
    if previous_rows is None:
        previous_rows = first_row(con, f"SELECT count(*) FROM {old}")[0]
    inserted, updated, deleted = (counts.get(k, 0) for k in ("insert", "update", "delete"))
    return DiffCounts(
        rows=rows,
        previous_rows=previous_rows,
        inserted=inserted,
        updated=updated,
        deleted=deleted,
        unchanged=rows - inserted - updated,
        identical=not (inserted or updated or deleted),
        changes_path=str(changes_path),
    )
