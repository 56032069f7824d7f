import datetime as dt

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from govhub.catalog.arrow import ROW_COLUMN
from govhub.warehouse.diff import table_fingerprint
from govhub.warehouse.load import run_load
from govhub.warehouse.snapshots import CHANGES_FILE, current_info, resource_paths

from .conftest import extract_of, make_resource, people_rows, people_table


def _load(settings, resource, table, **kw):
    return run_load(settings, resource, extract_of(table, **kw), receipt=None, actor="t", trigger="test")


def test_diff_counts_are_exact_on_an_edited_table(settings, people):
    rows = people_rows(500)
    _load(settings, people, people_table(people, rows))
    edited = [dict(r) for r in rows]
    for i in (1, 2, 3):
        edited[i]["score"] = 999.5  # 3 updated
    edited[10]["born"] = None  # a value set to NULL is an update too
    del edited[400:405]  # 5 deleted
    edited += people_rows(7, start=10_000)  # 7 inserted
    outcome = _load(settings, people, people_table(people, edited))
    assert (outcome.inserted, outcome.updated, outcome.deleted, outcome.unchanged) == (7, 4, 5, 491)
    changes = pq.read_table(resource_paths(settings, people).current / CHANGES_FILE).to_pylist()
    by_kind = {}
    for c in changes:
        by_kind.setdefault(c["change"], set()).add(c["person_id"])
    assert by_kind["update"] == {"P0000001", "P0000002", "P0000003", "P0000010"}
    assert by_kind["delete"] == {f"P{i:07d}" for i in range(400, 405)}
    assert by_kind["insert"] == {f"P{i:07d}" for i in range(10_000, 10_007)}


def test_type_only_differences_are_not_changes(settings, people):
    rows = people_rows(50)
    rows[0]["name"] = None
    _load(settings, people, people_table(people, rows))
    # same content as a source would deliver it differently: ms timestamps, phone as integer, '' for NULL,
    # padded text, rows in another order, __row__ numbered differently
    again = people_table(people, list(reversed(people_rows(50))), first_row=100)
    names = [" " + n + " " for n in again.column("name").to_pylist()]
    names[-1] = ""  # reversed: the last row is P0000000, whose name was NULL
    retyped = pa.table(
        {
            ROW_COLUMN: again.column(ROW_COLUMN),
            "person_id": again.column("person_id"),
            "name": pa.array(names, pa.string()),
            "age": again.column("age").cast(pa.int32()),
            "score": again.column("score"),
            "born": again.column("born"),
            "updated_at": again.column("updated_at").cast(pa.timestamp("ms")),
            "phone": pa.array([int(p) for p in again.column("phone").to_pylist()], pa.int64()),
        }
    )
    outcome = _load(settings, people, retyped)
    assert outcome.status == "zero_update", outcome.to_dict()


def test_fingerprint_ignores_row_order_but_not_content(people):
    con = duckdb.connect()
    t1 = people_table(people, people_rows(100)).drop_columns([ROW_COLUMN])
    t2 = t1.take(list(reversed(range(100))))
    t3 = people_table(people, [*people_rows(99), {**people_rows(1, start=99)[0], "age": 1}]).drop_columns(
        [ROW_COLUMN]
    )
    con.register("t1", t1)
    con.register("t2", t2)
    con.register("t3", t3)
    assert table_fingerprint(con, people, "t1") == table_fingerprint(con, people, "t2")
    assert table_fingerprint(con, people, "t1") != table_fingerprint(con, people, "t3")


def test_a_new_empty_catalog_field_does_not_make_every_row_changed(settings, people):
    rows = people_rows(20)
    _load(settings, people, people_table(people, rows))
    widened = make_resource(
        fields=[
            *[f.model_dump() for f in people.fields],
            {"name": "remark", "label": "备注", "type": "string"},
        ]
    )
    rows[0]["age"] = 99
    outcome = _load(settings, widened, people_table(widened, rows))
    assert outcome.status == "published"
    assert (outcome.updated, outcome.unchanged) == (1, 19)  # stored hashes recomputed for the new column list
    assert current_info(settings, widened).hash_columns[-1] == "remark"


def test_timezone_aware_datetimes_are_stored_as_beijing_time(settings, people):
    table = people_table(people, people_rows(1))
    utc = pa.array([dt.datetime(2026, 1, 1, 0, 0, tzinfo=dt.UTC)], pa.timestamp("s", tz="UTC"))
    table = table.set_column(table.schema.get_field_index("updated_at"), "updated_at", utc)
    _load(settings, people, table)
    stored = pq.read_table(resource_paths(settings, people).current / "part-00000.parquet")
    assert stored.column("updated_at").to_pylist() == [dt.datetime(2026, 1, 1, 8, 0)]
