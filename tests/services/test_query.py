"""Grant-scoped query end to end: an analyst reaches their own data, unconditional base resources and live grants —
exactly the granted fields and rows — and nothing once the grant is revoked or expired, on the query path and in the
downloaded workspace; every query and export is accountable."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import duckdb
import pytest

from govhub.clock import today_in_beijing
from govhub.events import list_events
from govhub.problems import AccessDenied, GovhubError
from govhub.roles import Role
from govhub.services import requests as svc
from govhub.services.grants import revoke
from govhub.services.people import register_person
from govhub.services.query import export, run_sql
from govhub.services.workspaces import download
from govhub.states import Decision
from govhub.warehouse.export import read_provenance
from tests.conftest import DemoHub, deliver

TODAY = today_in_beijing()
TOWN = "310117107"  # the demo's most populous town or street (checked in the fixture)


@pytest.fixture
def hub(demo_hub: DemoHub) -> DemoHub:
    s, known = demo_hub.settings, set(demo_hub.catalog.agencies)
    for pid, name, agency, role, by in [
        ("zhaoqiang", "赵强", "kw", Role.OFFICE, "installer"), ("lujianhua", "陆建华", "gaj", Role.STEWARD, "zhaoqiang"),
        ("wangjingyi", "王静怡", "mzj", Role.STEWARD, "zhaoqiang"), ("mzj_fenxi", "卫欣怡", "mzj", Role.ANALYST, "zhaoqiang"),
        ("gaj_fenxi", "钱立军", "gaj", Role.ANALYST, "zhaoqiang"),
    ]:  # fmt: skip
        register_person(s, pid, name=name, agency=agency, roles=[role], actor=by, known_agencies=known)
    for code in ("gaj/hjrk", "mzj/hydj", "fgj/fwjbxx"):
        if code == "mzj/hydj":
            sheet = next(p for p in (s.demo_dir / "sheets" / "mzj").glob("hydj.xlsx"))
            assert deliver(s, demo_hub.resource(code), sheet, actor="wangjingyi").status == "published"
        else:
            assert deliver(s, demo_hub.resource(code), actor="zhaoqiang").status == "published"
    assert hub_rows(demo_hub, "SELECT town_code FROM gaj.hjrk GROUP BY 1 ORDER BY count(*) DESC LIMIT 1") == [
        (TOWN,)
    ]
    return demo_hub


def granted(hub: DemoHub, until: dt.date) -> str:
    """mzj's analysts granted 实有人口's id_number and name for one town (a narrowed answer)."""
    s, c = hub.settings, hub.catalog
    r = svc.file_request(s, c, c.resource("gaj/hjrk"), actor="wangjingyi", fields=["id_number", "name", "birth_date"],
                         purpose="低保家庭成员核查", basis="《社会救助暂行办法》", use_from=TODAY, use_until=until,
                         today=TODAY)  # fmt: skip
    svc.forward(s, r.id, actor="zhaoqiang", today=TODAY)
    svc.answer(s, c, r.id, actor="lujianhua", decision=Decision.APPROVE, fields=["id_number", "name"],
               row_scope=[{"field": "town_code", "in": [TOWN]}], today=TODAY)  # fmt: skip
    return svc.execute(s, c, r.id, actor="zhaoqiang", today=TODAY).grant_id


def rows(hub: DemoHub, sql: str, who: str = "mzj_fenxi", today: dt.date = TODAY):
    outcome = run_sql(hub.settings, hub.catalog, sql, actor=who, today=today)
    return outcome


def hub_rows(hub: DemoHub, sql: str) -> list[tuple]:
    from govhub.warehouse.hub import connect_readonly, sync_hub

    sync_hub(hub.settings, hub.catalog)
    with connect_readonly(hub.settings) as con:
        return con.execute(sql).fetchall()


def test_an_analyst_reads_own_and_base_data_and_a_granted_resource_only_once_granted(hub: DemoHub) -> None:
    own = rows(hub, "SELECT count(*) FROM mzj.hydj")
    assert own.result.ok and own.result.table.column(0)[0].as_py() > 0
    base = rows(
        hub, "SELECT * FROM fgj.fwjbxx LIMIT 1"
    )  # 房屋基本信息: a base resource shared unconditionally
    assert base.result.ok
    before = rows(hub, "SELECT * FROM gaj.hjrk")  # conditional: nothing without a grant
    assert not before.result.ok and before.result.error.code == "sandbox.no_table"
    grant = granted(hub, TODAY + dt.timedelta(days=30))
    after = rows(hub, "SELECT * FROM gaj.hjrk ORDER BY id_number")
    assert after.result.ok and after.result.table.column_names == ["id_number", "name"]
    expected = hub_rows(
        hub, f"SELECT id_number, name FROM gaj.hjrk WHERE town_code = '{TOWN}' ORDER BY id_number"
    )
    assert [tuple(r.values()) for r in after.result.table.to_pylist()] == expected and expected
    assert after.grants == [grant] and after.purposes == ["低保家庭成员核查"] and after.tables == ["gaj.hjrk"]
    hidden = rows(hub, "SELECT birth_date FROM gaj.hjrk")  # asked for, not granted
    assert not hidden.result.ok
    (event,) = [e for e in list_events(hub.settings, kind="query.run") if e.payload["grants"]]
    assert event.actor == "卫欣怡" and event.agency == "mzj" and event.payload["rows"] == len(expected)
    assert "gaj.hjrk" in event.payload["sql"]


def test_a_revoked_or_expired_grant_stops_working_at_once(hub: DemoHub) -> None:
    grant = granted(hub, TODAY + dt.timedelta(days=3))
    assert rows(hub, "SELECT count(*) FROM gaj.hjrk").result.ok
    expired = rows(hub, "SELECT count(*) FROM gaj.hjrk", today=TODAY + dt.timedelta(days=4))
    assert not expired.result.ok and expired.result.error.code == "sandbox.no_table"
    assert rows(hub, "SELECT count(*) FROM gaj.hjrk").result.ok  # the day it is live again (frozen clock)
    revoke(hub.settings, grant, actor="lujianhua", reason="核查已完成")
    gone = rows(hub, "SELECT count(*) FROM gaj.hjrk")
    assert not gone.result.ok and gone.result.error.code == "sandbox.no_table"
    built = list_events(hub.settings, kind="workspace.built")
    assert built and built[-1].payload["grants"] == []


def test_a_workspace_downloaded_after_its_grant_ended_holds_nothing_of_it(
    hub: DemoHub, tmp_path: Path
) -> None:
    """The copy is taken from the workspace as it is now: a grant expired or revoked leaves it at once."""
    grant = granted(hub, TODAY + dt.timedelta(days=3))
    for on, name in ((TODAY + dt.timedelta(days=4), "expired"), (TODAY, "live")):
        path, provenance = download(
            hub.settings, hub.catalog, tmp_path / f"{name}.duckdb", actor="mzj_fenxi", today=on
        )
        with duckdb.connect(str(path), read_only=True) as con:
            schemas = {
                r[0]
                for r in con.execute("SELECT DISTINCT table_schema FROM information_schema.tables").fetchall()
            }
        assert ("gaj" in schemas) is (name == "live") and (grant in provenance["grants"]) is (name == "live")
    revoke(hub.settings, grant, actor="lujianhua", reason="核查已完成")
    path, provenance = download(
        hub.settings, hub.catalog, tmp_path / "revoked.duckdb", actor="mzj_fenxi", today=TODAY
    )
    with duckdb.connect(str(path), read_only=True) as con:
        schemas = {
            r[0]
            for r in con.execute("SELECT DISTINCT table_schema FROM information_schema.tables").fetchall()
        }
    assert "gaj" not in schemas and provenance["grants"] == []
    assert b"gaj" not in path.read_bytes().replace(b"gaj_", b"")  # nor any trace of its tables in the bytes


def test_the_downloaded_workspace_holds_the_scope_and_nothing_else_even_in_its_bytes(
    hub: DemoHub, tmp_path: Path
) -> None:
    granted(hub, TODAY + dt.timedelta(days=30))
    with pytest.raises(GovhubError, match="歧义"):  # DuckDB would call the database "mzj", like the schema
        download(hub.settings, hub.catalog, tmp_path / "mzj.duckdb", actor="mzj_fenxi", today=TODAY)
    path, provenance = download(
        hub.settings, hub.catalog, tmp_path / "workspace-mzj.duckdb", actor="mzj_fenxi", today=TODAY
    )
    assert provenance["agency"] == "mzj" and len(provenance["grants"]) == 1
    with duckdb.connect(str(path), read_only=True) as con:
        columns = [r[0] for r in con.execute("DESCRIBE gaj.hjrk").fetchall()]
        towns = con.execute("SELECT count(*) FROM gaj.hjrk").fetchone()[0]
        elsewhere = (
            set()
        )  # text the workspace legitimately holds in its other tables (the agency's own data…)
        for schema, table, column in con.execute(
            "SELECT table_schema, table_name, column_name FROM information_schema.columns "
            "WHERE data_type = 'VARCHAR' AND NOT (table_schema = 'gaj' AND table_name = 'hjrk')"
        ).fetchall():
            elsewhere |= {
                v for (v,) in con.execute(f'SELECT DISTINCT "{column}" FROM "{schema}"."{table}"').fetchall()
            }
    assert columns == ["id_number", "name"] and towns > 0
    with duckdb.connect(
        str(path), read_only=True
    ) as con:  # who, grants, purposes and date travel in the file
        kept = {
            k: json.loads(v) for k, v in con.execute("SELECT key, value FROM main._provenance").fetchall()
        }
    assert kept == provenance and kept["by"] and kept["purposes"]
    assert not path.with_name(path.name + ".wal").exists()
    outside = hub_rows(hub, f"SELECT id_number, address FROM gaj.hjrk WHERE town_code <> '{TOWN}'")
    inside = hub_rows(hub, f"SELECT id_number FROM gaj.hjrk WHERE town_code = '{TOWN}' LIMIT 5")
    blob = path.read_bytes()
    assert all(r[0].encode() in blob for r in inside)  # the search works…
    leaks = [v for row in outside for v in row if v and v not in elsewhere and v.encode() in blob]
    assert leaks == []  # …and finds no filtered-out person, no ungranted field
    assert (
        sum(1 for row in outside for v in row if v and v not in elsewhere) > 100
    )  # (there was much to find)
    assert [e.kind for e in list_events(hub.settings, kind="workspace.downloaded")] == [
        "workspace.downloaded"
    ]


def test_exports_carry_who_which_grants_what_purpose_and_when(hub: DemoHub, tmp_path: Path) -> None:
    grant = granted(hub, TODAY + dt.timedelta(days=30))
    outcome = rows(hub, "SELECT name FROM gaj.hjrk")
    path = export(hub.settings, outcome, tmp_path / "names.parquet", "parquet")
    provenance = read_provenance(path)
    assert provenance["person"] == "卫欣怡" and provenance["grants"] == [grant]
    assert provenance["purposes"] == ["低保家庭成员核查"] and provenance["rows"] == outcome.result.rows
    (event,) = list_events(hub.settings, kind="export.written")
    assert event.payload["grants"] == [grant]
    from govhub.governance.scorecard import agency_scores

    (mzj,) = [s for s in agency_scores(hub.settings, hub.catalog, TODAY, TODAY) if s.agency == "mzj"]
    use = mzj.use_by_grant[grant]
    assert use.pop("last_used_at") == event.at
    assert use == {
        "queries": 1,
        "exports": 1,
        "api_calls": 0,
        "api_rows": 0,
        "api_bytes": 0,
    }  # §18: data used
    assert mzj.data_used == 2


def test_only_analysts_query_their_own_agency(hub: DemoHub) -> None:
    for who in ("wangjingyi", "zhaoqiang"):  # a steward, the office (they have hub.duckdb, not a workspace)
        with pytest.raises(AccessDenied):
            run_sql(hub.settings, hub.catalog, "SELECT 1", actor=who)
    gaj = rows(
        hub, "SELECT count(*) FROM gaj.hjrk", who="gaj_fenxi"
    )  # the provider's own analysts: all of it
    assert (
        gaj.result.ok
        and gaj.result.table.column(0)[0].as_py() == hub_rows(hub, "SELECT count(*) FROM gaj.hjrk")[0][0]
    )


def test_the_cli_runs_sql_and_statistics_and_exits_1_on_a_refusal(
    hub: DemoHub, govhub, tmp_path: Path
) -> None:
    granted(hub, TODAY + dt.timedelta(days=30))
    ok = govhub("query", "--as", "mzj_fenxi", "SELECT count(*) AS n FROM gaj.hjrk", "--json")
    assert ok.code == 0 and '"rows": 1' in ok.out
    stats = govhub("query", "--as", "mzj_fenxi", "--group-by", "mzj.hydj", "--by", "reg_type")
    assert stats.code == 0 and "结婚登记" in stats.out
    refused = govhub("query", "--as", "mzj_fenxi", "SELECT * FROM read_parquet('/etc/passwd')")
    assert refused.code == 1 and "错误：" in refused.err and "Traceback" not in refused.err
    written = govhub("query", "--as", "mzj_fenxi", "SELECT name FROM gaj.hjrk", "--format", "csv", "-o",
                     tmp_path / "n.csv")  # fmt: skip
    assert written.code == 0 and (tmp_path / "n.csv.meta.json").is_file()
    # -o alone: the format from the file's name; a name that says none is a usage error, never "written" and nothing
    by_name = govhub("query", "--as", "mzj_fenxi", "SELECT name FROM gaj.hjrk", "-o", tmp_path / "q.json")
    assert by_name.code == 0 and "已写入" in by_name.out and (tmp_path / "q.json").is_file()
    unnamed = govhub("query", "--as", "mzj_fenxi", "SELECT name FROM gaj.hjrk", "-o", tmp_path / "q.txt")
    assert unnamed.code == 2 and "--format" in unnamed.err and not (tmp_path / "q.txt").exists()
    # an ungranted field in a statistic: said in Chinese, never DuckDB's English
    ungranted = govhub("query", "--as", "mzj_fenxi", "--group-by", "gaj.hjrk", "--by", "ethnicity")
    assert ungranted.code == 1 and "信息项 ethnicity 不存在，或未共享给本部门" in ungranted.err
    assert "Binder" not in ungranted.err
    # the workspace's row scope in words, not SQL
    shown = govhub("workspace", "show", "mzj", "--by", "mzj_fenxi")  # who asks is checked (as for a build)
    assert f"town_code 为 {TOWN}" in shown.out and '"town_code" IN' not in shown.out


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT * FROM read_parquet('{hub}/**/*.parquet')",
        "ATTACH '{hub_db}' AS h (READ_ONLY); SELECT count(*) FROM h.gaj.hjrk",
        "SELECT * FROM glob('{home}/**')",
        "SELECT * FROM '{hub_db}'",
        "INSTALL httpfs",
    ],
    ids=["parquet-glob", "attach-hub", "glob-home", "replacement-scan", "install"],
)
def test_an_analyst_through_the_service_reaches_no_file_of_the_hub(hub: DemoHub, sql: str) -> None:
    """The escape attempts of warehouse/test_sandbox_escapes.py, a few of them again as a person through
    `services.query.run_sql` (the path the CLI, the portal and the API take): refused, recorded, nothing returned."""
    s = hub.settings
    asked = sql.format(hub=s.hub_dir, hub_db=s.hub_db, home=s.home)
    outcome = rows(hub, asked)
    assert not outcome.result.ok and outcome.result.rows == 0
    assert outcome.result.error.code in {"sandbox.forbidden", "sandbox.read_only", "sandbox.no_table"}
    failed = list_events(s, kind="query.failed")
    assert failed and failed[-1].payload["sql"] == asked
