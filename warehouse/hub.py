"""hub.duckdb: the analysts' window on the hub — views only, never data.

One schema per agency with a view per resource over `…/current/*.parquet` (resolved at query time, so a published
load shows on the next query without touching this file), a `<resource>__history` view over every published
snapshot with its `snapshot_id` (time travel), and `meta.*` views over the JSON records in `hub/_meta/`.

Loads never open hub.duckdb. `sync_hub` (after a catalog change) builds a new file beside it and renames it into
place, so an analyst's open read-only connection never blocks it: that connection keeps the views it opened with
(which still read the current snapshots) and new connections get the new views.
"""

from __future__ import annotations

import os
from pathlib import Path

import duckdb

from govhub.catalog.model import Catalog, Resource
from govhub.config import Settings
from govhub.duck import STORAGE_VERSION
from govhub.locks import file_lock
from govhub.problems import GovhubError, Problem
from govhub.warehouse.diff import quote, sql_str
from govhub.warehouse.layout import write_manifest
from govhub.warehouse.meta import meta_dir
from govhub.warehouse.snapshots import META_FILE, ensure_initial, resource_paths

LAYOUT = "views-1"  # bump when the views' SQL changes, so existing hubs rebuild hub.duckdb once
META_COLUMNS: dict[str, dict[str, str]] = {
    "snapshots": {
        "id": "VARCHAR", "agency": "VARCHAR", "resource": "VARCHAR", "rows": "BIGINT", "initial": "BOOLEAN",
        "previous_id": "VARCHAR", "created_at": "TIMESTAMPTZ", "load_id": "VARCHAR", "inserted": "BIGINT",
        "updated": "BIGINT", "deleted": "BIGINT", "unchanged": "BIGINT", "fingerprint": "VARCHAR",
        "landing_sha256": "VARCHAR", "cursor": "JSON", "catalog_fingerprint": "VARCHAR", "hash_version": "VARCHAR",
    },
    "loads": {
        "load_id": "VARCHAR", "agency": "VARCHAR", "resource": "VARCHAR", "status": "VARCHAR", "rows": "BIGINT",
        "inserted": "BIGINT", "updated": "BIGINT", "deleted": "BIGINT", "unchanged": "BIGINT",
        "quarantined": "BIGINT", "snapshot_id": "VARCHAR", "previous_snapshot_id": "VARCHAR",
        "landing_sha256": "VARCHAR", "duration_s": "DOUBLE", "problem_count": "BIGINT", "report_path": "VARCHAR",
        "actor": "VARCHAR", "trigger": "VARCHAR", "mode": "VARCHAR", "source": "VARCHAR", "cursor": "JSON",
        "started_at": "TIMESTAMPTZ", "finished_at": "TIMESTAMPTZ", "problems": "JSON",
        "expectation_results": "JSON",
    },
    "diffs": {
        "load_id": "VARCHAR", "agency": "VARCHAR", "resource": "VARCHAR", "snapshot_id": "VARCHAR",
        "base_snapshot_id": "VARCHAR", "rows": "BIGINT", "previous_rows": "BIGINT", "inserted": "BIGINT",
        "updated": "BIGINT", "deleted": "BIGINT", "unchanged": "BIGINT", "identical": "BOOLEAN",
        "changes_path": "VARCHAR", "created_at": "TIMESTAMPTZ",
    },
    "zero_updates": {
        "load_id": "VARCHAR", "agency": "VARCHAR", "resource": "VARCHAR", "snapshot_id": "VARCHAR",
        "fingerprint": "VARCHAR", "landing_sha256": "VARCHAR", "reason": "VARCHAR", "actor": "VARCHAR",
        "trigger": "VARCHAR", "recorded_at": "TIMESTAMPTZ",
    },
}  # fmt: skip


def _struct(columns: dict[str, str]) -> str:
    return "{" + ", ".join(f"{sql_str(k)}: {sql_str(v)}" for k, v in columns.items()) + "}"


def resource_view_sql(settings: Settings, resource: Resource) -> list[str]:
    """The current-data view and the history view of one resource."""
    agency, rid = resource.key
    root = resource_paths(settings, resource).root
    current = sql_str(root / "current" / "*.parquet")
    history = sql_str(root / "snapshots" / "*" / "*.parquet")
    current_id = (
        f"(SELECT id FROM read_json({sql_str(root / 'current' / META_FILE)}, columns={{'id': 'VARCHAR'}}))"
    )
    snapshot_id = "regexp_extract(__file__, '/snapshots/([^/]+)/[^/]+$', 1)"
    return [
        f"CREATE OR REPLACE VIEW {quote(agency)}.{quote(rid)} AS SELECT * FROM read_parquet({current})",
        # folders newer than current are leftovers of a killed load (removed by the next load): never history
        f"CREATE OR REPLACE VIEW {quote(agency)}.{quote(rid + '__history')} AS "
        f"SELECT {snapshot_id} AS snapshot_id, * EXCLUDE (__file__) "
        f"FROM read_parquet({history}, filename='__file__', union_by_name=true) "
        f"WHERE {snapshot_id} <= {current_id}",
    ]


# An empty JSON array under each records folder (in a subfolder, so readers of the records never meet it) and a
# recursive glob: the view binds before the first record without `allow_empty`, which DuckDB 1.4 clients lack.
NO_RECORDS = Path("_none") / "empty.json"


def meta_view_sql(settings: Settings, kind: str) -> str:
    files = sql_str(meta_dir(settings, kind) / "**" / "*.json")
    return (
        f"CREATE OR REPLACE VIEW meta.{quote(kind)} AS SELECT * FROM read_json({files}, "
        f"columns={_struct(META_COLUMNS[kind])}, format='auto')"
    )


def _build(settings: Settings, catalog: Catalog, target: Path) -> None:
    # in a storage format DuckDB 1.4 clients open too (analysts' tools lag behind the hub's DuckDB)
    with duckdb.connect(str(target), config={"storage_compatibility_version": STORAGE_VERSION}) as con:
        con.execute("CREATE SCHEMA IF NOT EXISTS meta")
        for kind in META_COLUMNS:
            placeholder = meta_dir(settings, kind) / NO_RECORDS
            if not placeholder.exists():
                placeholder.parent.mkdir(parents=True, exist_ok=True)
                placeholder.write_text("[]", encoding="utf-8")
            con.execute(meta_view_sql(settings, kind))
        for agency in sorted({r.agency for r in catalog.resources}):
            con.execute(f"CREATE SCHEMA IF NOT EXISTS {quote(agency)}")
        for resource in catalog.resources:
            for statement in resource_view_sql(settings, resource):
                con.execute(statement)
        con.execute("CHECKPOINT")


def sync_hub(settings: Settings, catalog: Catalog) -> Path:
    """(Re)create hub.duckdb from the catalog; every resource gets at least an empty initial snapshot first."""
    for resource in catalog.resources:
        ensure_initial(settings, resource)
    settings.home.mkdir(parents=True, exist_ok=True)
    target = settings.hub_db
    building = target.with_name(f".{target.name}.{os.getpid()}.building")
    with file_lock(target.with_name(f".{target.name}.lock")):  # one sync at a time
        _sync(settings, catalog, target, building)
    return target


def _sync(settings: Settings, catalog: Catalog, target: Path, building: Path) -> None:
    try:
        building.unlink(missing_ok=True)
        try:
            _build(settings, catalog, building)
        except duckdb.Error as exc:
            raise GovhubError(
                Problem(
                    code="hub.sync_failed",
                    message_zh="重建数据中心视图失败，原视图未改动",
                    value=str(exc)[:300],
                )
            ) from exc
        # A WAL left by someone who opened hub.duckdb read-write would be replayed onto the new file: drop it.
        target.with_name(target.name + ".wal").unlink(missing_ok=True)
        os.replace(building, target)
        write_manifest(settings, catalog)
        stamp = _stamp_file(settings)
        stamp.parent.mkdir(parents=True, exist_ok=True)
        stamp.write_text(_stamp(settings, catalog), encoding="utf-8")
    finally:
        building.unlink(missing_ok=True)
        building.with_name(building.name + ".wal").unlink(missing_ok=True)


def _stamp(settings: Settings, catalog: Catalog) -> str:
    """What hub.duckdb's views depend on: where the hub lives and which resources the catalog has."""
    keys = sorted(f"{r.agency}/{r.id}" for r in catalog.resources)
    return f"{LAYOUT}|{settings.hub_dir}|{','.join(keys)}"


def ensure_hub(settings: Settings, catalog: Catalog) -> None:
    """`sync_hub` only when the views would change (a new or removed resource, a moved hub): a cheap check every
    command can make (a fresh `govhub upload` must not rebuild hub.duckdb)."""
    stamp_file = _stamp_file(settings)
    fresh = settings.hub_db.exists() and stamp_file.is_file()
    if fresh and stamp_file.read_text(encoding="utf-8") == _stamp(settings, catalog):
        return
    sync_hub(settings, catalog)


def _stamp_file(settings: Settings) -> Path:
    return settings.hub_dir / "_meta" / "hub.stamp"


def connect_readonly(settings: Settings) -> duckdb.DuckDBPyConnection:
    """An analyst's connection: read-only, so it can never block a load or a sync."""
    if not settings.hub_db.exists():
        raise GovhubError(
            Problem(
                code="hub.not_built",
                message_zh="数据中心视图尚未建立，请先同步目录（sync_hub）",
                value=str(settings.hub_db),
            )
        )
    return duckdb.connect(str(settings.hub_db), read_only=True)
