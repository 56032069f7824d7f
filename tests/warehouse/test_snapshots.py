import os

import duckdb
import pyarrow.parquet as pq
import pytest

from govhub.catalog.arrow import arrow_schema
from govhub.warehouse.load import run_load
from govhub.warehouse.snapshots import (
    current_info,
    current_snapshot_id,
    ensure_initial,
    published_ids,
    recover,
    resource_lock,
    resource_paths,
)

from .conftest import extract_of, people_rows, people_table

pytestmark = pytest.mark.scale  # also run on PostgreSQL + S3 by `make test-scale`


def _load(settings, resource, rows, **kw):
    return run_load(
        settings,
        resource,
        extract_of(people_table(resource, rows), **kw),
        receipt=None,
        actor="t",
        trigger="test",
    )


def test_initial_snapshot_is_empty_with_catalog_schema_and_marked_initial(settings, people):
    sid = ensure_initial(settings, people)
    assert ensure_initial(settings, people) == sid  # idempotent
    folder = resource_paths(settings, people).current
    table = pq.read_table(folder / "part-00000.parquet")
    assert table.num_rows == 0 and table.schema.equals(arrow_schema(people))
    assert current_info(settings, people).initial is True


def test_current_is_a_relative_symlink_to_the_published_snapshot(settings, people):
    outcome = _load(settings, people, people_rows(10))
    link = resource_paths(settings, people).current
    assert os.readlink(link) == f"snapshots/{outcome.snapshot_id}"
    assert current_snapshot_id(settings, people) == outcome.snapshot_id
    assert pq.read_table(link / "part-00000.parquet").num_rows == 10


def test_snapshot_ids_sort_in_publication_order_and_metadata_links_them(settings, people):
    a = _load(settings, people, people_rows(10))
    b = _load(settings, people, people_rows(11))
    assert a.snapshot_id < b.snapshot_id
    info = current_info(settings, people)
    assert info.previous_id == a.snapshot_id and info.rows == 11 and info.inserted == 1
    assert published_ids(settings, people) == [a.snapshot_id, b.snapshot_id]


def test_snapshot_is_stored_in_catalog_types_without_the_row_column(settings, people):
    _load(settings, people, people_rows(3))
    table = pq.read_table(resource_paths(settings, people).current / "part-00000.parquet")
    # DuckDB marks columns without NULLs as required; names and types are what readers bind to
    assert [(f.name, f.type) for f in table.schema] == [(f.name, f.type) for f in arrow_schema(people)]
    meta = pq.read_metadata(resource_paths(settings, people).current / "part-00000.parquet")
    assert meta.row_group(0).column(0).compression == "ZSTD"


def test_duckdb_reader_sees_the_switch_without_reopening(settings, people):
    _load(settings, people, people_rows(5))
    con = duckdb.connect()
    glob = str(resource_paths(settings, people).current / "*.parquet")
    assert con.execute(f"SELECT count(*) FROM read_parquet('{glob}')").fetchone()[0] == 5
    _load(settings, people, people_rows(7))
    assert con.execute(f"SELECT count(*) FROM read_parquet('{glob}')").fetchone()[0] == 7


def test_recover_removes_leftovers_of_a_killed_load_and_keeps_current(settings, people):
    first = _load(settings, people, people_rows(5))
    paths = resource_paths(settings, people)
    # what a load killed after its rename but before the switch leaves behind
    orphan = paths.snapshots / "29991231T000000000000Z"
    orphan.mkdir()
    (orphan / "part-00000.parquet").write_bytes(b"half")
    (paths.staging / "dead-load").mkdir(parents=True)
    with resource_lock(settings, people):
        done = recover(settings, people)
    assert not orphan.exists() and not (paths.staging / "dead-load").exists()
    assert len(done) == 2
    assert current_snapshot_id(settings, people) == first.snapshot_id
