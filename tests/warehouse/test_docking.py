"""What the docking API reads, below HTTP: pages in key order by a composite key the consumer was not granted,
streams, the scoped difference between two snapshots (restricted to the keys the hub's diffs name), query time
limits; and the wire encoders (Parquet and CSV batch by batch)."""

from __future__ import annotations

import io
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.parquet as pq
import pytest

from govhub.warehouse import docking, wire
from govhub.warehouse.scope import Basis, InValues, RowFilter, SnapshotSource, scoped_table

from .conftest import make_resource

FIELDS = [
    {"name": "region", "label": "区域", "type": "string", "required": True},
    {"name": "seq", "label": "序号", "type": "integer", "required": True},
    {"name": "name", "label": "名称", "type": "string"},
    {"name": "kind", "label": "类别", "type": "string"},
]
RESOURCE = make_resource(fields=FIELDS, primary_key=["region", "seq"])
KEY = RESOURCE.primary_key


def snapshot(folder: Path, sid: str, rows: list[tuple]) -> SnapshotSource:
    folder = folder / sid
    folder.mkdir(parents=True)
    table = pa.table({"region": [r[0] for r in rows], "seq": pa.array([r[1] for r in rows], pa.int64()),
                      "name": [r[2] for r in rows], "kind": [r[3] for r in rows]})  # fmt: skip
    pq.write_table(table, folder / "part-00000.parquet")
    return SnapshotSource(sid, (folder / "part-00000.parquet",))


def granted(source: SnapshotSource) -> list:
    """name and kind (not the key) of the rows of kind A or B."""
    return [scoped_table(RESOURCE, source, columns=["name", "kind"], row_filter=RowFilter((InValues("kind", ("A", "B")),)),
                         basis=Basis.GRANT, grant_ids=["g"])]  # fmt: skip


ROWS = [(r, s, f"{r}{s}", "ABC"[(s + len(r)) % 3]) for r in ("north", "south", "east") for s in range(1, 8)]


def walk(path: Path, limit: int) -> list[dict]:
    seen, position = [], 0
    while position is not None:
        table, position = docking.page_at(path, position, limit)
        seen += table.to_pylist()
    return seen


def test_pages_follow_a_composite_key_the_consumer_was_not_granted(tmp_path: Path) -> None:
    source = snapshot(tmp_path, "s1", list(reversed(ROWS)))  # stored out of key order
    with docking.reader("256MB", 1) as con:
        rel = docking.relation(con, granted(source), KEY)
        assert rel.columns == ("name", "kind") and rel.keys == ("__k0", "__k1")
        copy = docking.sorted_copy(con, rel, tmp_path / "sorted.parquet", row_group_rows=3)
        whole = docking.stream(con, rel, 5).read_all()
    assert pq.read_schema(copy).names == ["name", "kind"]
    expected = [{"name": n, "kind": k} for r, s, n, k in sorted(ROWS) if k in "AB"]
    for limit in (1, 2, 4, 100):  # pages straddling row groups, and regions
        assert walk(copy, limit) == expected  # every row once, in (region, seq) order; the key never leaves
    table, following = docking.page_at(copy, len(expected), 4)
    assert table.num_rows == 0 and following is None
    assert sorted(whole.to_pylist(), key=lambda r: r["name"]) == sorted(expected, key=lambda r: r["name"])
    assert whole.column_names == ["name", "kind"]


def test_a_page_is_read_from_the_row_groups_holding_it(tmp_path: Path) -> None:
    rows = [("r", s, f"n{s:05d}", "A") for s in range(10_000)]
    source = snapshot(tmp_path, "big", rows[::-1])
    with docking.reader("256MB", 1) as con:
        copy = docking.sorted_copy(
            con, docking.relation(con, granted(source), KEY), tmp_path / "big.parquet", 2048
        )
    sizes = [
        pq.ParquetFile(copy).metadata.row_group(i).num_rows
        for i in range(pq.ParquetFile(copy).metadata.num_row_groups)
    ]
    assert len(sizes) > 3 and sum(sizes) == 10_000
    table, following = docking.page_at(copy, sizes[0] - 50, 100)  # straddles the first two row groups
    assert table.column("name").to_pylist() == [f"n{s:05d}" for s in range(sizes[0] - 50, sizes[0] + 50)]
    assert following == sizes[0] + 50
    last, none = docking.page_at(copy, 9_990, 100)
    assert last.num_rows == 10 and none is None


def test_changes_are_the_scoped_difference_over_the_keys_the_hub_recorded(tmp_path: Path) -> None:
    old = {(r, s): (n, k) for r, s, n, k in ROWS}
    new = dict(old)
    in_scope = [key for key, (_, k) in old.items() if k in "AB"]
    out_scope = [key for key, (_, k) in old.items() if k == "C"]
    del new[in_scope[0]]  # deleted inside: a delete, with its old values
    del new[out_scope[0]]  # deleted outside: nothing
    new[in_scope[1]] = ("改名", old[in_scope[1]][1])  # renamed inside: an update
    new[in_scope[2]] = (old[in_scope[2]][0], "C")  # left the scope: a delete
    new[out_scope[1]] = (old[out_scope[1]][0], "A")  # entered the scope: an insert
    new[out_scope[2]] = ("外部改名", "C")  # changed outside: nothing, and never shown
    new[("west", 1)] = ("新增", "B")  # inserted inside
    new[("west", 2)] = ("外部新增", "C")  # inserted outside
    changed = [
        in_scope[0],
        out_scope[0],
        in_scope[1],
        in_scope[2],
        out_scope[1],
        out_scope[2],
        ("west", 1),
        ("west", 2),
    ]
    before = snapshot(tmp_path, "s1", [(*k, *v) for k, v in old.items()])
    after = snapshot(tmp_path, "s2", [(*k, *v) for k, v in new.items()])
    recorded = tmp_path / "changes.parquet"
    pq.write_table(pa.table({"region": [k[0] for k in changed], "seq": [k[1] for k in changed]}), recorded)
    expected = {("delete", *old[in_scope[0]]), ("update", "改名", old[in_scope[1]][1]), ("delete", *old[in_scope[2]]),
                ("insert", *new[out_scope[1]]), ("insert", "新增", "B")}  # fmt: skip
    with docking.reader("256MB", 1) as con:
        for candidates in (docking.changed_keys([recorded], KEY), None):  # the hub's diff, or every key
            rel = docking.changes(docking.relation(con, granted(before), KEY), docking.relation(con, granted(after), KEY),
                                  KEY, candidates)  # fmt: skip
            got = docking.stream(con, rel, 100).read_all()
            assert got.column_names == ["_change", "name", "kind"]
            assert {tuple(r.values()) for r in got.to_pylist()} == expected
            assert not {"外部改名", "外部新增"} & {r["name"] for r in got.to_pylist()}
            copy = docking.sorted_copy(con, rel, tmp_path / f"changes-{candidates is None}.parquet", 2)
            pages = [tuple(r.values()) for r in walk(copy, 2)]
            assert len(pages) == len(expected) and set(pages) == expected
        # only the keys the hub recorded are compared: an unrecorded change is not invented (nor scanned for)
        only_one = tmp_path / "one.parquet"
        pq.write_table(pa.table({"region": [in_scope[1][0]], "seq": [in_scope[1][1]]}), only_one)
        rel = docking.changes(docking.relation(con, granted(before), KEY), docking.relation(con, granted(after), KEY),
                              KEY, docking.changed_keys([only_one], KEY))  # fmt: skip
        assert [r["_change"] for r in docking.stream(con, rel, 10).read_all().to_pylist()] == ["update"]
        none = docking.changes(docking.relation(con, granted(after), KEY), docking.relation(con, granted(after), KEY),
                               KEY, docking.changed_keys([], KEY))  # fmt: skip
        assert docking.stream(con, none, 10).read_all().num_rows == 0


def test_a_call_spills_into_a_folder_of_its_own_that_the_loads_sweeper_keeps_and_the_call_removes(
    tmp_path: Path,
) -> None:
    import os

    root = tmp_path / "hub" / "_spill"
    with docking.reader("64MB", 1, root) as con:
        ((used,),) = con.execute("SELECT current_setting('temp_directory')").fetchall()
        assert Path(used).parent == root and Path(used).name.startswith(f"{os.getpid()}-api-")
        # a sort bigger than the memory limit: DuckDB spills there, and finishes
        assert con.sql(
            "SELECT count(*) FROM (SELECT range, md5(range::VARCHAR) h FROM range(3000000) ORDER BY h)"
        ).fetchall() == [(3_000_000,)]
    assert list(root.iterdir()) == []


def test_a_query_past_its_time_limit_is_interrupted() -> None:
    started = time.perf_counter()
    with docking.reader("256MB", 1) as con, pytest.raises(docking.QueryTimeout):  # noqa: SIM117
        with docking.time_limit(con, 0.3):
            con.sql("SELECT count(*) FROM range(100000000000) a WHERE a.range % 7 = 3").fetchall()
    assert time.perf_counter() - started < 10
    with docking.reader("256MB", 1) as con, docking.time_limit(con, 5):
        assert con.sql("SELECT 42").fetchall() == [(42,)]  # a quick query is untouched


def test_parquet_and_csv_are_written_batch_by_batch_and_read_back() -> None:
    table = pa.table({"id": pa.array(range(10), pa.int64()), "名称": [f"第{i}条, \"引号\"" for i in range(10)],
                      "day": pa.array([None, *range(9)], pa.int32()).cast(pa.date32())})  # fmt: skip
    batches = table.to_batches(max_chunksize=3)
    chunks = list(wire.parquet_chunks(batches, table.schema, {"govhub.provenance": '{"grants":["g"]}'}))
    assert len(chunks) >= len(batches)  # a chunk per batch, then the footer
    back = pq.read_table(io.BytesIO(b"".join(chunks)))
    assert back.equals(table.replace_schema_metadata(back.schema.metadata))
    assert back.schema.metadata[b"govhub.provenance"] == b'{"grants":["g"]}'
    assert pq.ParquetFile(io.BytesIO(b"".join(chunks))).metadata.num_row_groups == len(batches)
    chunks = list(wire.csv_chunks(batches, table.schema))
    assert chunks[0].startswith(b'"id","') and len(chunks) == 1 + len(batches)
    parsed = pcsv.read_csv(io.BytesIO(b"".join(chunks)))
    assert parsed.column("名称").to_pylist() == table.column("名称").to_pylist()
    empty = pq.read_table(io.BytesIO(b"".join(wire.parquet_chunks([], table.schema))))
    assert empty.num_rows == 0 and empty.schema.names == table.schema.names
    assert b"".join(wire.csv_chunks([], table.schema)).count(b"\n") == 1  # the header alone


def test_reading_ahead_keeps_order_passes_errors_on_and_stops_its_thread_when_the_caller_does() -> None:
    import threading

    batches = [pa.record_batch({"i": [n]}) for n in range(20)]
    assert [b.column(0)[0].as_py() for b in wire.read_ahead(iter(batches))] == list(range(20))

    def failing():
        yield batches[0]
        raise ValueError("磁盘读错误")

    with pytest.raises(ValueError, match="磁盘读错误"):
        list(wire.read_ahead(failing()))
    before = threading.active_count()
    taken = wire.read_ahead(iter(batches * 100), depth=2)
    next(taken)
    taken.close()  # the client went away: the reader thread is stopped and joined, not left behind
    assert threading.active_count() == before
