"""The hub as tables any engine reads: plain Parquet folders, a pointer per resource, a manifest of tables.

Every published snapshot is a folder of zstd Parquet files (`<agency>/<resource>/snapshots/<id>/part-*.parquet`,
catalog types, no govhub columns). Besides the `current` symlink — which DuckDB follows but object stores and
some engines cannot have — each publish writes `<agency>/<resource>/current.json`:

    {"snapshot_id": "20261127T…Z", "files": ["snapshots/20261127T…Z/part-00000.parquet"]}

(paths relative to the resource folder), and `sync_hub` writes `hub/_manifest.json` listing every table: its
schema-qualified name (`agency.resource`, as in hub.duckdb), its folder and pointer, and its columns. An engine
that knows nothing of govhub — Spark, Trino, pandas — reads the manifest, then each pointer, then the files: the
current data. History (time travel) is every `snapshots/<id>/part-*.parquet` with `<id>` ≤ the pointer's id (later
folders are leftovers of a killed load); `snapshot_id` is the folder name. `tests/warehouse/test_layout_spark.py`
runs Spark on a demo hub through this manifest and gets DuckDB's answers.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from govhub.catalog.model import Catalog, Resource
from govhub.config import Settings
from govhub.warehouse.meta import read_json, write_json_atomic

FORMAT = "govhub-parquet-1"
POINTER = "current.json"
MANIFEST = "_manifest.json"


def pointer(snapshot_id: str, files: list[str]) -> dict[str, Any]:
    return {"snapshot_id": snapshot_id, "files": [f"snapshots/{snapshot_id}/{name}" for name in files]}


def write_pointer(root: Path, snapshot_id: str, snapshot_dir: Path) -> None:
    """`current.json` of a resource folder, naming the snapshot's data files (after `current` switched)."""
    files = sorted(p.name for p in snapshot_dir.glob("*.parquet"))
    write_json_atomic(root / POINTER, pointer(snapshot_id, files))


def read_pointer(root: Path) -> dict[str, Any] | None:
    """The resource's pointer; for a hub published before pointers existed, made from the `current` symlink."""
    path = root / POINTER
    if path.is_file():
        return read_json(path)
    try:
        snapshot_id = Path(os.readlink(root / "current")).name
    except FileNotFoundError:
        return None
    return pointer(snapshot_id, sorted(p.name for p in (root / "snapshots" / snapshot_id).glob("*.parquet")))


def table_entry(settings: Settings, resource: Resource) -> dict[str, Any]:
    agency, rid = resource.key
    return {
        "name": f"{agency}.{rid}",
        "agency": agency,
        "resource": rid,
        "path": f"{agency}/{rid}",
        "pointer": f"{agency}/{rid}/{POINTER}",
        "history": f"{agency}/{rid}/snapshots/*/part-*.parquet",
        "primary_key": list(resource.primary_key),
        "columns": [{"name": f.name, "type": f.type.value, "label": f.label} for f in resource.fields],
    }


def write_manifest(settings: Settings, catalog: Catalog) -> Path:
    """`hub/_manifest.json`: every table of the catalog (rewritten when the catalog's resources change); a
    resource published before pointers existed gets its `current.json` now."""
    for resource in catalog.resources:
        root = settings.hub_dir / resource.agency / resource.id
        if not (root / POINTER).is_file() and (found := read_pointer(root)) is not None:
            write_json_atomic(root / POINTER, found)
    tables = [table_entry(settings, r) for r in sorted(catalog.resources, key=lambda r: r.key)]
    return write_json_atomic(settings.hub_dir / MANIFEST, {"format": FORMAT, "tables": tables})
