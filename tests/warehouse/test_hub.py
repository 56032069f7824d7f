import subprocess
import sys

import pytest

from govhub.problems import GovhubError
from govhub.warehouse.hub import connect_readonly, sync_hub
from govhub.warehouse.load import run_load

from .conftest import extract_of, make_catalog, make_resource, people_rows, people_table


def _load(settings, resource, rows):
    return run_load(
        settings, resource, extract_of(people_table(resource, rows)), receipt=None, actor="t", trigger="test"
    )


def test_views_per_agency_bind_even_for_a_resource_never_delivered(settings, people):
    other = make_resource(agency="market", rid="firms")
    _load(settings, people, people_rows(4))
    sync_hub(settings, make_catalog(people, other))
    con = connect_readonly(settings)
    assert con.execute("SELECT count(*) FROM civil.people").fetchone()[0] == 4
    assert con.execute("SELECT count(*) FROM market.firms").fetchone()[0] == 0
    cols = [r[0] for r in con.execute("DESCRIBE market.firms").fetchall()]
    assert cols == other.field_names
    initial = con.execute("SELECT initial, rows FROM meta.snapshots WHERE agency = 'market'").fetchall()
    assert initial == [(True, 0)]


def test_history_view_returns_older_snapshots_by_id(settings, people):
    first = _load(settings, people, people_rows(3))
    rows = people_rows(3)
    rows[0]["name"] = "新名字"
    second = _load(settings, people, rows)
    sync_hub(settings, make_catalog(people))
    con = connect_readonly(settings)
    names = con.execute(
        "SELECT snapshot_id, name FROM civil.people__history WHERE person_id = 'P0000000' ORDER BY snapshot_id"
    ).fetchall()
    assert names == [(first.snapshot_id, "姓名0"), (second.snapshot_id, "新名字")]
    assert con.execute("SELECT name FROM civil.people WHERE person_id = 'P0000000'").fetchone()[0] == "新名字"


def test_meta_views_show_loads_diffs_and_zero_updates(settings, people):
    sync_hub(settings, make_catalog(people))  # before any load: meta views over empty folders still bind
    con = connect_readonly(settings)
    assert con.execute("SELECT count(*) FROM meta.loads").fetchone()[0] == 0
    _load(settings, people, people_rows(5))
    _load(settings, people, people_rows(5))
    _load(settings, people, [])
    statuses = con.execute("SELECT status, actor FROM meta.loads ORDER BY started_at").fetchall()
    assert statuses == [("published", "t"), ("zero_update", "t"), ("rejected", "t")]
    assert con.execute("SELECT count(*) FROM meta.zero_updates").fetchone()[0] == 1
    diffs = con.execute("SELECT inserted, identical FROM meta.diffs ORDER BY created_at").fetchall()
    assert diffs == [(5, False), (0, True)]
    published = con.execute("SELECT count(*) FROM meta.snapshots WHERE NOT initial").fetchone()[0]
    assert published == 1


READER = """
import sys, duckdb
con = duckdb.connect(sys.argv[1], read_only=True)
print(con.execute("SELECT count(*) FROM civil.people").fetchone()[0], flush=True)
sys.stdin.readline()
print(con.execute("SELECT count(*) FROM civil.people").fetchone()[0], flush=True)
"""


def test_reader_holding_the_hub_open_sees_a_publish_on_its_next_query_and_blocks_nothing(
    settings, people, tmp_path
):
    _load(settings, people, people_rows(5))
    sync_hub(settings, make_catalog(people))
    (tmp_path / "reader.py").write_text(READER)
    reader = subprocess.Popen(
        [sys.executable, str(tmp_path / "reader.py"), str(settings.hub_db)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert reader.stdout.readline().strip() == "5"
        assert _load(settings, people, people_rows(8)).status == "published"
        sync_hub(
            settings, make_catalog(people, make_resource(agency="market", rid="firms"))
        )  # not blocked either
        reader.stdin.write("\n")
        reader.stdin.flush()
        assert reader.stdout.readline().strip() == "8"
    finally:
        reader.stdin.close()
        assert reader.wait(timeout=30) == 0, reader.stderr.read()
    assert connect_readonly(settings).execute("SELECT count(*) FROM market.firms").fetchone()[0] == 0


def test_connect_readonly_before_any_sync_is_a_readable_error(settings):
    with pytest.raises(GovhubError) as err:
        connect_readonly(settings)
    assert err.value.problems[0].code == "hub.not_built"


def test_readonly_connection_cannot_write(settings, people):
    sync_hub(settings, make_catalog(people))
    import duckdb

    with pytest.raises(duckdb.Error):
        connect_readonly(settings).execute("CREATE TABLE civil.x AS SELECT 1")
