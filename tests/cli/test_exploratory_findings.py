"""What an exploratory tester found on a demo hub, each kept fixed: numbers and dates out of range are usage errors
(2) said in Chinese, never a traceback; `notify run --as-of` only re-runs a day the hub has lived through; an unknown
agency, resource or grant named on the command line is 2 everywhere; `workspace show` checks who asks and says its
rows as structure (JSON) and in words (the table); under `--json` every failure is a JSON object on stdout; a time
series by a text field says the field is not a date, not DuckDB's words about date_trunc.

The demo district with every resource published (`ingested_hub`), its people and its sharing requests (one grant
with a row condition: mzj's analysts read gaj.hjrk for two towns), shared by the module: no test changes it except
by what it runs, and what it runs is refused."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from govhub.events import list_events
from tests.commands import GOVHUB, run_here
from tests.conftest import DemoHub


@pytest.fixture(scope="module")
def hub(ingested_hub: DemoHub) -> Iterator[DemoHub]:
    from govhub.clock import today_in_beijing
    from govhub.demo.people import ENGINEER, register_demo_people
    from govhub.demo.sharing import seed_demo_sharing
    from govhub.services.workspaces import build

    settings, catalog = ingested_hub.settings, ingested_hub.catalog
    register_demo_people(settings, catalog)
    seed_demo_sharing(settings, catalog, today_in_beijing())
    build(settings, catalog, "mzj", actor=ENGINEER.id, reason="test")
    yield ingested_hub


@pytest.fixture
def run(hub: DemoHub, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("GOVHUB_USER", raising=False)
    return lambda *args: run_here(capsys, *args)


OUT_OF_RANGE = [
    (["events", "--after", "99999999999999999999999", "--by", "zhaoqiang"], "参数 --after：“99999999999999999999999”不可用"),
    (["events", "--limit", "99999999999999999999999", "--by", "zhaoqiang"], "参数 --limit："),
    (["events", "--since", "0001-01-01", "--by", "zhaoqiang"], "日期应在 2000-01-01 至 2100-12-31 之间"),
    (["events", "prune", "--before", "0001-01-01", "--by", "zhaoqiang"], "日期应在 2000-01-01 至 2100-12-31 之间"),
    (["status", "--as-of", "9999-12-31"], "参数 --as-of：“9999-12-31”不可用：日期应在 2000-01-01 至 2100-12-31 之间"),
    (["notify", "run", "--as-of", "0001-01-01", "--by", "zhaoqiang"], "参数 --as-of：“0001-01-01”不可用"),
    (["scorecard", "--from", "0001-01-01", "--to", "0001-12-31"], "参数 --from：“0001-01-01”不可用"),
    (["grant", "list", "--as-of", "9999-12-31", "--by", "zhaoqiang"], "参数 --as-of："),
    (["workspace", "show", "mzj", "--as-of", "0001-01-01", "--by", "zhaoqiang"], "参数 --as-of："),
    (["request", "create", "gaj/hjrk", "--fields", "name", "--purpose", "p", "--basis", "b", "--until", "9999-12-31",
      "--by", "mzj_fenxi"], "参数 --until："),
    (["query", "--as", "mzj_fenxi", "--timeout", "1e9", "SELECT 1"], "参数 --timeout：“1e9”不可用：应为大于 0、不大于 3600 的数"),
    (["query", "--as", "mzj_fenxi", "--max-rows", "99999999999999999999999", "SELECT 1"], "参数 --max-rows："),
    (["portal", "--port", "99999999"], "参数 --port："),
]  # fmt: skip


@pytest.mark.parametrize(
    "argv, said", OUT_OF_RANGE, ids=lambda a: " ".join(a[:3]) if isinstance(a, list) else ""
)
def test_numbers_and_dates_out_of_range_are_usage_errors_said_in_chinese(
    run, argv: list[str], said: str
) -> None:
    done = run(*argv)
    assert done.code == 2 and said in done.err, done.err
    assert "Traceback" not in done.err and "Error" not in done.err


def test_the_span_s_ends_still_work(run) -> None:
    assert run("status", "--as-of", "2100-12-31", "--json").code == 0
    assert run("scorecard", "--from", "2000-01-01", "--json").code == 0
    assert run("query", "--as", "mzj_fenxi", "--timeout", "3600", "--count", "mzj.hydj").code == 0


def test_query_help_names_the_longest_timeout(capsys) -> None:
    from govhub.cli.main import main

    with pytest.raises(SystemExit):
        main(["query", "--help"])
    assert "最长 3600" in capsys.readouterr().out


def test_notify_as_of_is_a_day_the_hub_has_lived_through(hub: DemoHub, run, monkeypatch) -> None:
    """--as-of 1999 (or any day before the hub went into service) sent and recorded notices for deadlines nobody
    owed; a day to come would send now and keep them as sent. Both refused as usage (2), nothing sent or kept."""
    import datetime as dt

    from govhub import store
    from govhub.clock import today_in_beijing

    monkeypatch.setenv("GOVHUB_IN_SERVICE_SINCE", "2026-06-01")
    before = list_events(hub.settings)
    earlier = run("notify", "run", "--as-of", "2026-05-31", "--by", "zhaoqiang")
    assert earlier.code == 2 and "早于平台启用日期 2026-06-01" in earlier.err, earlier.err
    later = (today_in_beijing() + dt.timedelta(days=3)).isoformat()
    future = run("notify", "run", "--as-of", later, "--by", "zhaoqiang", "--json")
    assert future.code == 2 and "不能按未来日期" in future.err
    assert json.loads(future.out)["ok"] is False
    with store.engine(hub.settings).connect() as conn:
        assert conn.execute(store.notices.select()).first() is None
    assert list_events(hub.settings) == before


UNKNOWN = [
    ["token", "create", "--agency", "nope", "--system", "某系统", "--by", "zhaoqiang"],
    ["workspace", "show", "nope", "--by", "zhaoqiang"],
    ["workspace", "build", "nope", "--by", "zhaoqiang"],
    ["events", "--resource", "nope/x", "--by", "zhaoqiang"],
    ["events", "--grant", "GR-NOPE", "--by", "zhaoqiang"],
    ["events", "--agency", "nope", "--by", "zhaoqiang"],
    ["token", "list", "--agency", "nope", "--by", "zhaoqiang"],
]


@pytest.mark.parametrize("argv", UNKNOWN, ids=lambda a: " ".join(a[:3]))
def test_an_unknown_agency_resource_or_grant_is_a_usage_error_everywhere(run, argv: list[str]) -> None:
    done = run(*argv)
    assert done.code == 2 and "nope" in done.err.lower() and "Traceback" not in done.err, (
        done.code,
        done.err,
    )


def test_events_of_a_resource_by_any_of_its_names_and_of_a_grant_that_exists(hub: DemoHub, run) -> None:
    from govhub.governance.grants import list_grants

    by_key = json.loads(
        run("events", "--resource", "gaj/hjrk", "--json", "--by", "zhaoqiang", "--limit", "0").out
    )
    code = hub.resource("gaj/hjrk").code
    by_code = json.loads(run("events", "--resource", code, "--json", "--by", "zhaoqiang", "--limit", "0").out)
    assert by_key["events"] and by_code["events"] == by_key["events"]
    grant = list_grants(hub.settings)[0].id
    found = run("events", "--grant", grant, "--json", "--by", "zhaoqiang")
    assert found.code == 0 and json.loads(found.out)["events"], found.err


def test_workspace_show_checks_who_asks_and_says_rows_as_structure_and_in_words(
    hub: DemoHub, run, monkeypatch
):
    monkeypatch.setenv("GOVHUB_USER", "nobody")
    before = len(list_events(hub.settings, kind="access.denied"))
    refused = run("workspace", "show", "mzj", "--json")
    assert refused.code == 1 and "nobody" in refused.err and "hjrk" not in refused.out
    assert len(list_events(hub.settings, kind="access.denied")) == before + 1
    other = run("workspace", "show", "mzj", "--by", "gaj_fenxi")  # another agency's analyst
    assert other.code == 1 and "gaj.hjrk" not in other.out
    monkeypatch.delenv("GOVHUB_USER")

    tables = {
        t["table"]: t for t in json.loads(run("workspace", "show", "mzj", "--by", "mzj_fenxi", "--json").out)
    }
    own, granted = tables["mzj.hydj"], tables["gaj.hjrk"]
    assert isinstance(own["columns"], list) and "registered_on" in own["columns"]
    assert own["rows"] is None and own["grants"] == []
    assert granted["columns"] == ["id_number", "name", "town_code"]
    [condition] = granted["rows"]
    assert condition["field"] == "town_code" and isinstance(condition["in"], list) and condition["in"]
    assert granted["grants"] and all(g.startswith("GR-") for g in granted["grants"])
    table = run("workspace", "show", "mzj", "--by", "zhaoqiang")  # the office sees any agency's
    assert table.code == 0
    assert f"town_code 为 {'、'.join(condition['in'])}" in table.out
    assert " IN (" not in table.out and '"town_code"' not in table.out


def test_every_failure_under_json_is_a_json_object_on_stdout(run, monkeypatch) -> None:
    cases = [
        (["token", "create", "--agency", "nope", "--system", "某系统", "--by", "zhaoqiang", "--json"], 2,
         "scope.unknown_agency"),
        (["events", "--grant", "GR-NOPE", "--by", "zhaoqiang", "--json"], 2, "sharing.unknown_grant"),
        (["events", "--resource", "nope/x", "--by", "zhaoqiang", "--json"], 2, "usage"),
        (["workspace", "show", "mzj", "--by", "nobody", "--json"], 1, "people.unknown_person"),
        (["events", "--json", "--by", "wangjingyi"], 1, "people.no_role"),
        (["query", "--as", "mzj_fenxi", "--json", "SELEC nothing"], 1, "sandbox.syntax"),
        (["query", "--as", "mzj_fenxi", "--json", "--series", "gaj.hjrk", "--date", "name"], 2, "usage"),
        (["status", "--json", "--bogus"], 2, "usage"),
        (["status", "--json", "--as-of", "9999-12-31"], 2, "usage"),
    ]  # fmt: skip
    for argv, exit_code, problem in cases:
        done = run(*argv)
        assert done.code == exit_code, (argv, done.code, done.err)
        said = json.loads(done.out)
        assert said["ok"] is False and said["code"] == problem and said["exit"] == exit_code, (argv, said)
        assert said["message"] and said["message"] in done.err, (argv, said, done.err)
    # without --json: nothing on stdout but what the command printed (the message is on stderr)
    plain = run("events", "--grant", "GR-NOPE", "--by", "zhaoqiang")
    assert plain.code == 2 and plain.out == "" and "GR-NOPE" in plain.err


def test_a_time_series_by_a_text_field_says_the_field_is_not_a_date(run) -> None:
    done = run("query", "--as", "mzj_fenxi", "--series", "gaj.hjrk", "--date", "name")
    assert done.code == 2, done.err
    assert "信息项“name”（姓名）是文本，不是日期" in done.err and "birth_date" in done.err
    for duckdb_words in ("date_trunc", "CAST", "VARCHAR", "STRING_LITERAL"):
        assert duckdb_words not in done.err
    by_year = run("query", "--as", "mzj_fenxi", "--series", "mzj.hydj", "--date", "registered_on", "--per", "year",
                  "--json")  # fmt: skip
    assert by_year.code == 0 and json.loads(by_year.out)["data"], by_year.err


def test_a_period_past_the_calendar_and_an_absurd_demo_scale_are_said_not_raised(tmp_path) -> None:
    import subprocess

    from govhub.catalog.model import UpdateCycle
    from govhub.governance.freshness import parse_period
    from govhub.problems import GovhubError

    with pytest.raises(GovhubError) as caught:
        parse_period(UpdateCycle.MONTHLY, "9999-12")  # its end would be in year 10000
    assert caught.value.problems[0].code == "period.invalid"
    done = subprocess.run([GOVHUB, "demo", "--scale", "1e308", "--no-serve"], capture_output=True, text=True,
                          timeout=60, cwd=tmp_path)  # fmt: skip
    assert done.returncode == 2 and "0.01 到 10000" in done.stderr and "Traceback" not in done.stderr
