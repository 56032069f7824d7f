"""The engine-neutral layout: each publish writes `current.json` naming the snapshot's files, a load killed
between the switch and the pointer leaves a pointer to a whole (the previous) snapshot that the next load fixes,
and `sync_hub` writes the manifest of tables."""

import json

import pyarrow.parquet as pq
import pytest

from govhub.warehouse.hub import sync_hub
from govhub.warehouse.layout import POINTER, read_pointer, write_manifest
from govhub.warehouse.snapshots import recover, resource_lock, resource_paths

from .conftest import make_catalog, people_rows
from .test_snapshots import _load

pytestmark = pytest.mark.scale  # also run on PostgreSQL + S3 by `make test-scale`


def test_publish_writes_a_pointer_naming_the_current_snapshots_files(settings, people):
    first = _load(settings, people, people_rows(10))
    second = _load(settings, people, people_rows(12))
    root = resource_paths(settings, people).root
    found = json.loads((root / POINTER).read_text(encoding="utf-8"))
    assert found["snapshot_id"] == second.snapshot_id != first.snapshot_id
    assert sum(pq.read_table(root / f).num_rows for f in found["files"]) == 12


def test_a_stale_pointer_still_names_a_whole_snapshot_and_recover_moves_it(settings, people):
    first = _load(settings, people, people_rows(10))
    root = resource_paths(settings, people).root
    stale = (root / POINTER).read_text(encoding="utf-8")
    second = _load(settings, people, people_rows(12))
    (root / POINTER).write_text(stale, encoding="utf-8")  # as if killed after the switch, before the pointer
    assert read_pointer(root)["snapshot_id"] == first.snapshot_id
    assert all((root / f).is_file() for f in read_pointer(root)["files"])  # old snapshot: still whole
    with resource_lock(settings, people):
        done = recover(settings, people)
    assert f"pointed current.json at {second.snapshot_id}" in done
    assert read_pointer(root)["snapshot_id"] == second.snapshot_id


def test_manifest_lists_every_table_with_its_pointer_and_columns(settings, people):
    catalog = make_catalog(people)
    sync_hub(settings, catalog)
    manifest = json.loads((settings.hub_dir / "_manifest.json").read_text(encoding="utf-8"))
    (table,) = manifest["tables"]
    assert table["name"] == "civil.people" and table["primary_key"] == ["person_id"]
    assert [c["name"] for c in table["columns"]] == people.field_names
    assert (settings.hub_dir / table["pointer"]).is_file()
    (settings.hub_dir / table["pointer"]).unlink()  # a hub published before pointers existed
    write_manifest(settings, catalog)
    assert (settings.hub_dir / table["pointer"]).is_file()


def test_the_scale_run_moves_the_store_to_postgresql_and_the_snapshots_to_s3(settings, people):
    """`make test-scale` (GOVHUB_TEST_SCALE=1) gives every `scale` test this configuration; `make test` the
    embedded one."""
    from govhub.warehouse import object_store as objects
    from govhub.warehouse.snapshots import object_store
    from tests.servers import SCALE_RUN

    loaded = _load(settings, people, people_rows(5))
    if not SCALE_RUN:
        assert settings.state_url.startswith("sqlite") and settings.storage_url is None
        return
    assert settings.state_url.startswith("postgresql") and settings.storage_url.startswith("s3://")
    pointer, _ = objects.read_pointer(object_store(settings), "hub/civil/people")
    assert pointer["snapshot_id"] == loaded.snapshot_id
