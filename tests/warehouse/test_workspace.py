import os
import threading
from dataclasses import replace

import duckdb
import pytest

from govhub.problems import GovhubError
from govhub.warehouse.hub import connect_readonly
from govhub.warehouse.load import run_load
from govhub.warehouse.sandbox import QueryLimits, run_query
from govhub.warehouse.scope import (
    Basis,
    Between,
    InValues,
    RowFilter,
    WorkspaceScope,
    base_scope,
    current_source,
    scoped_table,
)
from govhub.warehouse.workspace import SCOPE_TABLE, build_workspace, workspace_path

from .conftest import extract_of, marker, people_rows, people_table


def market_scope(hub) -> WorkspaceScope:
    """market's base scope plus two grants: benefits' person_id/name/age for ages 30–39 (purpose 低保核查), and
    people's phone for ages 25 and 26."""
    settings = hub.settings
    benefits, people = hub.resource("civil/benefits"), hub.resource("civil/people")
    return base_scope(settings, hub.catalog, "market").with_tables(
        scoped_table(
            benefits,
            current_source(settings, benefits),
            columns=["person_id", "name", "age"],
            row_filter=RowFilter((Between("age", 30, 39),)),
            basis=Basis.GRANT,
            grant_ids=["g-1"],
            purposes=["低保核查"],
        ),
        scoped_table(
            people,
            current_source(settings, people),
            columns=["phone"],
            row_filter=RowFilter((InValues("age", (25, 26)),)),
            basis=Basis.GRANT,
            grant_ids=["g-2"],
            purposes=["联系核实"],
        ),
    )


def rows_of(path, sql):
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_a_workspace_holds_a_table_per_scoped_resource_under_the_hubs_name_and_says_why(sharing_hub):
    build = build_workspace(sharing_hub.settings, market_scope(sharing_hub))
    assert (
        build.path
        == workspace_path(sharing_hub.settings, "market")
        == sharing_hub.settings.home.joinpath("workspaces", "market", "workspace.duckdb")
    )
    assert build.tables == {"civil.benefits": 10, "civil.people": 40, "market.firms": 40}
    assert build.bytes == build.path.stat().st_size and build.duration_s > 0
    scope = rows_of(
        build.path,
        f"SELECT table_name, basis, columns, row_filter, grant_ids, purposes, rows FROM {SCOPE_TABLE} ORDER BY ALL",
    )
    assert scope == [
        ("civil.benefits", "grant", ["person_id", "name", "age"], '("age" BETWEEN 30 AND 39)', ["g-1"], ["低保核查"], 10),
        ("civil.people", "base", ["person_id", "name", "age", "score", "born", "updated_at"], "true", [], [], 40),
        ("civil.people", "grant", ["phone"], '("age" IN (25, 26))', ["g-2"], ["联系核实"], 2),  # rows it admits
        ("market.firms", "own", ["person_id", "name", "age", "score", "born", "updated_at", "phone"], "true", [], [], 40),
    ]  # fmt: skip
    snapshot_ids = {r[0] for r in rows_of(build.path, f"SELECT DISTINCT snapshot_id FROM {SCOPE_TABLE}")}
    assert len(snapshot_ids) == 3 and all(len(s) > 10 for s in snapshot_ids)


def test_the_same_sql_runs_on_hub_duckdb_and_on_a_workspace(sharing_hub):
    build = build_workspace(sharing_hub.settings, market_scope(sharing_hub))
    sql = "SELECT age, count(*) FROM market.firms GROUP BY age ORDER BY age"
    with connect_readonly(sharing_hub.settings) as hub:
        assert rows_of(build.path, sql) == hub.execute(sql).fetchall()


def test_an_analyst_reads_exactly_the_scoped_fields_and_rows(sharing_hub):
    build = build_workspace(sharing_hub.settings, market_scope(sharing_hub))
    source = people_rows(sharing_hub.rows)
    # benefits: the granted fields of the granted rows, nothing else
    found = run_query(sharing_hub.settings, build.path, "SELECT * FROM civil.benefits").raise_for_error()
    assert found.table.column_names == ["person_id", "name", "age"]
    expected = {
        (r["person_id"], marker("benefitsname", i), r["age"])
        for i, r in enumerate(source)
        if 30 <= r["age"] <= 39
    }
    assert set(map(tuple, (d.values() for d in found.table.to_pylist()))) == expected and len(expected) == 10
    # people: every row (base share) without phone, except where the grant gives phone
    people = run_query(
        sharing_hub.settings, build.path, "SELECT person_id, phone FROM civil.people"
    ).raise_for_error()
    expected_phones = {
        (r["person_id"], marker("peoplephone", i) if r["age"] in (25, 26) else None)
        for i, r in enumerate(source)
    }
    assert {(d["person_id"], d["phone"]) for d in people.table.to_pylist()} == expected_phones
    assert sum(1 for _, p in expected_phones if p) == 2


def test_what_is_out_of_scope_is_not_in_the_workspace_files_bytes(sharing_hub):
    build = build_workspace(sharing_hub.settings, market_scope(sharing_hub))
    data = build.path.read_bytes()
    rows = people_rows(sharing_hub.rows)

    def present(kind, ages):
        return {i: marker(kind, i).encode() in data for i, r in enumerate(rows) if r["age"] in ages}

    every_age = range(0, 200)
    granted, refused = range(30, 40), [a for a in every_age if not 30 <= a <= 39]
    # controls: values of the same columns in scope are stored verbatim, so the search would find the others
    assert all(present("benefitsname", granted).values()) and all(present("firmsphone", every_age).values())
    assert all(present("peoplephone", (25, 26)).values())
    # the filtered-out rows of benefits, the unscoped phone of people, the unscoped resource registry
    assert not any(present("benefitsname", refused).values())
    assert not any(present("peoplephone", [a for a in every_age if a not in (25, 26)]).values())
    assert not any(present("registryname", every_age).values())
    assert not any(present("benefitsphone", every_age).values())
    assert str(sharing_hub.settings.hub_dir).encode() not in data  # no path of the hub: no view, no macro


def test_a_workspace_has_tables_only_no_views_or_macros(sharing_hub):
    build = build_workspace(sharing_hub.settings, market_scope(sharing_hub))
    assert rows_of(build.path, "SELECT count(*) FROM duckdb_views() WHERE NOT internal") == [(0,)]
    assert rows_of(build.path, "SELECT count(*) FROM duckdb_functions() WHERE NOT internal") == [(0,)]


def test_a_rebuild_after_a_publish_shows_new_data_while_an_open_connection_keeps_the_old_file(sharing_hub):
    settings, firms = sharing_hub.settings, sharing_hub.resource("market/firms")
    first = build_workspace(settings, base_scope(settings, sharing_hub.catalog, "market"))
    reader = duckdb.connect(str(first.path), read_only=True)
    assert reader.execute("SELECT count(*) FROM market.firms").fetchall() == [(40,)]
    run_load(
        settings,
        firms,
        extract_of(people_table(firms, people_rows(55))),
        receipt=None,
        actor="t",
        trigger="test",
    )
    second = build_workspace(settings, base_scope(settings, sharing_hub.catalog, "market"))
    assert second.tables["market.firms"] == 55
    assert reader.execute("SELECT count(*) FROM market.firms").fetchall() == [(40,)]  # the old inode, whole
    # the next query (a new process; within one process DuckDB would hand out the database it has open) sees the new
    now = run_query(settings, second.path, "SELECT count(*) AS n FROM market.firms").raise_for_error()
    assert now.table.to_pylist() == [{"n": 55}]
    reader.close()
    assert sorted(p.name for p in second.path.parent.iterdir()) == [".lock", "workspace.duckdb"]


def test_concurrent_rebuilds_of_one_agency_serialise_and_queries_meanwhile_never_fail(sharing_hub):
    settings = sharing_hub.settings
    scope = market_scope(sharing_hub)
    path = build_workspace(settings, scope).path
    errors, results, stop = [], [], threading.Event()

    def query_loop():
        while not stop.is_set():
            result = run_query(
                settings, path, "SELECT count(*) AS n FROM civil.people", QueryLimits(timeout_s=20)
            )
            (results if result.ok else errors).append(result.error or result.table.column("n")[0].as_py())

    def rebuild():
        for _ in range(4):
            build_workspace(settings, scope)

    queries = [threading.Thread(target=query_loop) for _ in range(2)]
    builders = [threading.Thread(target=rebuild) for _ in range(2)]
    for t in queries + builders:
        t.start()
    for t in builders:
        t.join()
    stop.set()
    for t in queries:
        t.join()
    assert errors == [] and len(results) >= 2 and set(results) == {40}
    assert rows_of(path, "SELECT count(*) FROM civil.people") == [(40,)]


def test_a_failed_build_leaves_the_previous_workspace_and_a_killed_ones_leftovers_are_cleared(sharing_hub):
    settings = sharing_hub.settings
    good = build_workspace(settings, base_scope(settings, sharing_hub.catalog, "market"))
    before = good.path.read_bytes()
    leftover = good.path.with_name(".workspace.duckdb.999999.building")
    leftover.write_bytes(b"half a build")
    people = sharing_hub.resource("civil/people")
    table = scoped_table(people, current_source(settings, people))
    older = replace(table, source=replace(table.source, snapshot_id="an-older-snapshot"), basis=Basis.GRANT)
    bad = WorkspaceScope("market", (table, older))
    with pytest.raises(GovhubError) as err:
        build_workspace(settings, bad)
    assert err.value.problems[0].code == "scope.mixed_snapshots"
    assert good.path.read_bytes() == before
    assert not leftover.exists() and not [p for p in os.listdir(good.path.parent) if ".building" in p]


def test_a_filter_on_a_field_the_snapshot_lacks_is_refused_not_ignored(sharing_hub):
    settings = sharing_hub.settings
    people = sharing_hub.resource("civil/people")
    table = scoped_table(people, current_source(settings, people))
    # a grant stored against a field the catalog has since added, before any delivery carried it
    retired = replace(table, row_filter=RowFilter((InValues("retired_on", (1,)),)))
    scope = WorkspaceScope("market", (retired,))
    with pytest.raises(GovhubError) as err:
        build_workspace(settings, scope)
    assert err.value.problems[0].code == "scope.filter_field_missing"


_BUILD_SCRIPT = """
import pickle, sys
from govhub.config import get_settings
from govhub.warehouse.workspace import build_workspace

home, scope = sys.argv[1], pickle.loads(open(sys.argv[2], "rb").read())
build_workspace(get_settings(home, home + "/catalog"), scope)
"""


def test_a_rebuild_killed_before_its_switch_leaves_the_previous_workspace_serving_and_the_next_build_clears_it(
    sharing_hub, tmp_path
):
    import pickle
    import signal
    import subprocess
    import sys
    import time

    settings = sharing_hub.settings
    base = base_scope(settings, sharing_hub.catalog, "market")
    good = build_workspace(settings, base)
    before = good.path.read_bytes()
    scope_file, script, marker = tmp_path / "scope.pickle", tmp_path / "build.py", tmp_path / "paused"
    scope_file.write_bytes(pickle.dumps(market_scope(sharing_hub)))  # the rebuild a new grant calls for
    script.write_text(_BUILD_SCRIPT)
    proc = subprocess.Popen(
        [sys.executable, str(script), str(settings.home), str(scope_file)],
        env={
            **os.environ,
            "GOVHUB_TEST_PAUSE_AT": "workspace_written",
            "GOVHUB_TEST_PAUSE_MARKER": str(marker),
        },
    )
    deadline = time.monotonic() + 60
    while not marker.exists():
        assert proc.poll() is None and time.monotonic() < deadline, "the build never reached its switch"
        time.sleep(0.02)
    query = "SELECT count(*) FROM civil.people"
    assert run_query(settings, good.path, query, QueryLimits(timeout_s=20)).ok  # served while it builds
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert good.path.read_bytes() == before  # the killed build's whole file never replaced it
    assert [p for p in os.listdir(good.path.parent) if ".building" in p]
    assert run_query(settings, good.path, query, QueryLimits(timeout_s=20)).table.column(0)[0].as_py() == 40
    again = build_workspace(settings, market_scope(sharing_hub))
    assert "civil.benefits" in {f"{t.agency}.{t.resource}" for t in market_scope(sharing_hub).tables}
    assert rows_of(again.path, "SELECT count(*) FROM civil.benefits")[0][0] > 0
    assert sorted(p.name for p in again.path.parent.iterdir()) == [".lock", "workspace.duckdb"]


def test_downloads_during_rebuilds_are_always_a_whole_workspace(sharing_hub, tmp_path):
    """`services.workspaces.download` copies the live file (shutil.copyfile): while builds replace it, each copy is the
    old or the new file whole — it opens, and holds the scope's rows."""
    import shutil
    import threading

    settings = sharing_hub.settings
    scope = market_scope(sharing_hub)
    path = build_workspace(settings, scope).path
    stop, copies, errors = threading.Event(), [], []

    def rebuild():
        for _ in range(4):
            build_workspace(settings, scope)

    def download_loop():
        i = 0
        while not stop.is_set():
            i += 1
            dest = tmp_path / f"copy-{i}.duckdb"
            shutil.copyfile(path, dest)
            try:
                copies.append(rows_of(dest, "SELECT count(*) FROM civil.people")[0][0])
            except duckdb.Error as exc:
                errors.append(repr(exc))
            dest.unlink()

    downloader = threading.Thread(target=download_loop)
    builders = [threading.Thread(target=rebuild) for _ in range(2)]
    for t in [downloader, *builders]:
        t.start()
    for t in builders:
        t.join()
    stop.set()
    downloader.join()
    assert errors == [] and len(copies) >= 2 and set(copies) == {40}
