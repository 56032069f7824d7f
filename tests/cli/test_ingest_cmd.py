"""`govhub upload`, `govhub ingest` and `govhub template` end to end on a demo hub: exit codes, what a steward reads,
and the `--json` a script reads."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from openpyxl import load_workbook

from govhub.warehouse.snapshots import current_snapshot_id
from tests.commands import run_command
from tests.conftest import DemoHub, set_quality
from tests.services.test_ingest import (
    BAD_AT,
    ID_LABEL,
    SHEET_CODE,
    clean_sheet,
    sheet_rows,
    sheet_with_bad_ids,
    write_xlsx,
)

JYDJ_CODE = "203002001/000001"  # 就业登记信息 by its catalog code
HJRK_CODE = "101001001/000001"  # 户籍人口基本信息
OUTCOME_KEYS = {"status", "rows", "inserted", "updated", "deleted", "snapshot_id", "problems"}


def test_upload_of_a_good_sheet_exits_0_and_prints_the_outcome(
    demo_hub: DemoHub, govhub, tmp_path: Path
) -> None:
    sheet = clean_sheet(demo_hub, tmp_path / "就业登记.xlsx")
    run = govhub("upload", sheet, "--resource", JYDJ_CODE, "--by", "张海峰")
    assert run.code == 0, run.out + run.err
    snapshot = current_snapshot_id(demo_hub.settings, demo_hub.resource(SHEET_CODE))
    assert "rsj/jydj" in run.out and "已发布" in run.out
    assert snapshot in run.out
    assert "100" in run.out  # rows / inserted
    assert "Traceback" not in run.out + run.err


@pytest.mark.slow
def test_upload_json_gives_status_counts_snapshot_and_problems(
    demo_hub: DemoHub, govhub, tmp_path: Path
) -> None:
    header, rows = sheet_rows(demo_hub)
    first = govhub("upload", clean_sheet(demo_hub, tmp_path / "v1.xlsx"), "--resource", SHEET_CODE, "--json")
    assert first.code == 0, first.out + first.err
    edited = [list(r) for r in rows[:100]]
    del edited[:2]
    edited += [list(r) for r in rows[100:103]]
    run = govhub(
        "upload", write_xlsx(tmp_path / "v2.xlsx", header, edited), "--resource", SHEET_CODE, "--json"
    )
    assert run.code == 0, run.out + run.err
    outcome = json.loads(run.out)
    assert set(outcome) >= OUTCOME_KEYS
    assert (outcome["status"], outcome["rows"]) == ("published", 101)
    assert (outcome["inserted"], outcome["updated"], outcome["deleted"]) == (3, 0, 2)
    assert outcome["snapshot_id"] == current_snapshot_id(demo_hub.settings, demo_hub.resource(SHEET_CODE))
    assert outcome["problems"] == []

    again = json.loads(govhub("upload", tmp_path / "v2.xlsx", "--resource", SHEET_CODE, "--json").out)
    assert (again["status"], again["snapshot_id"]) == ("zero_update", outcome["snapshot_id"])


@pytest.mark.slow
def test_refused_upload_exits_nonzero_with_chinese_row_and_column_errors_and_no_traceback(
    demo_hub: DemoHub, tmp_path: Path
) -> None:
    set_quality(demo_hub.settings.catalog_dir, SHEET_CODE, max_bad_row_pct=1)
    sheet, bad = sheet_with_bad_ids(demo_hub, tmp_path / "就业登记-有错.xlsx")
    run = run_command("upload", sheet, "--resource", JYDJ_CODE)
    assert run.code != 0
    assert "Traceback" not in run.out + run.err
    assert "已拒收" in run.out
    for row, value in bad.items():
        assert f"第{row}行「{ID_LABEL}」列" in run.out, run.out
        assert value in run.out
    assert "超过允许的 1" in run.out  # the policy that refused it, in words
    assert (
        current_snapshot_id(demo_hub.settings, demo_hub.resource(SHEET_CODE)) is not None
    )  # the initial one
    assert len(bad) == len(BAD_AT)


def test_refused_upload_json_lists_the_problems(demo_hub: DemoHub, govhub, tmp_path: Path) -> None:
    set_quality(demo_hub.settings.catalog_dir, SHEET_CODE, max_bad_row_pct=1)
    sheet, bad = sheet_with_bad_ids(demo_hub, tmp_path / "bad.xlsx")
    run = govhub("upload", sheet, "--resource", SHEET_CODE, "--json")
    assert run.code == 1
    outcome = json.loads(run.out)
    assert outcome["status"] == "rejected" and outcome["snapshot_id"] is None
    cells = {(p.get("row"), p.get("column"), p.get("value")) for p in outcome["problems"]}
    assert {(row, ID_LABEL, value) for row, value in bad.items()} <= cells


def test_upload_of_an_unreadable_sheet_is_refused_with_what_is_wrong(
    demo_hub: DemoHub, govhub, tmp_path: Path
) -> None:
    """A sheet made on an old template (a required column missing) never gets to the load: still told why."""
    broken = demo_hub.settings.demo_dir / "sheets" / "_broken" / "scjgj_spjy_missing_column.xlsx"
    run = govhub("upload", broken, "--resource", "scjgj/spjy")
    assert run.code == 1
    assert "已拒收" in run.out
    assert "有效期至" in run.out
    assert "Traceback" not in run.out + run.err


def test_upload_of_a_missing_file_exits_2(demo_hub: DemoHub, govhub, tmp_path: Path) -> None:
    run = govhub("upload", tmp_path / "nowhere.xlsx", "--resource", SHEET_CODE)
    assert run.code == 2
    assert "文件不存在" in run.err


def test_ingest_agency_json_reports_every_resource_of_the_agency(demo_hub: DemoHub, govhub) -> None:
    run = govhub("ingest", "--agency", "gaj", "--json")
    assert run.code == 0, run.out + run.err
    outcomes = json.loads(run.out)
    expected = {f"gaj/{r.id}" for r in demo_hub.catalog.of_agency("gaj")}
    assert {f"{o['agency']}/{o['resource']}" for o in outcomes} == expected
    for o in outcomes:
        assert set(o) >= OUTCOME_KEYS, o
        assert o["status"] == "published", o
        assert o["rows"] == o["inserted"] > 0
        resource = demo_hub.resource(f"{o['agency']}/{o['resource']}")
        assert o["snapshot_id"] == current_snapshot_id(demo_hub.settings, resource)


def test_ingest_resource_by_code_and_again_is_a_zero_update(demo_hub: DemoHub, govhub) -> None:
    first = govhub("ingest", "--resource", HJRK_CODE, "--json")
    assert first.code == 0, first.out + first.err
    [outcome] = json.loads(first.out)
    assert (outcome["agency"], outcome["resource"], outcome["status"]) == ("gaj", "hjrk", "published")
    again = govhub("ingest", "--resource", HJRK_CODE)
    assert again.code == 0
    assert "零更新" in again.out and "gaj/hjrk" in again.out


def test_ingest_exits_nonzero_when_any_load_fails(demo_hub: DemoHub, govhub) -> None:
    demo_hub.server.inject("/api/gaj/hjrk", "500", times=10)
    run = govhub("ingest", "--agency", "gaj", "--json")
    assert run.code == 1
    by_key = {f"{o['agency']}/{o['resource']}": o for o in json.loads(run.out)}
    assert by_key["gaj/hjrk"]["status"] == "failed"
    assert "api.http_500" in {p["code"] for p in by_key["gaj/hjrk"]["problems"]}
    assert by_key["gaj/hjrk"]["snapshot_id"] is None
    assert by_key["gaj/lhry"]["status"] == "published"  # one agency system down does not stop the others
    assert "Traceback" not in run.out + run.err


def test_ingest_loads_a_sheet_waiting_in_the_inbox_once_and_files_it_away(
    demo_hub: DemoHub, govhub, tmp_path: Path
) -> None:
    from govhub.services.inbox import inbox_dir, pending_uploads

    resource = demo_hub.resource(SHEET_CODE)
    inbox = inbox_dir(demo_hub.settings, resource)
    inbox.mkdir(parents=True)
    clean_sheet(demo_hub, inbox / "就业登记-2026年11月.xlsx")
    run = govhub("ingest", "--resource", JYDJ_CODE, "--json")
    assert run.code == 0, run.out + run.err
    [outcome] = json.loads(run.out)
    assert (outcome["status"], outcome["rows"]) == ("published", 100)
    assert pending_uploads(demo_hub.settings, resource) == []
    assert [p.name.endswith("就业登记-2026年11月.xlsx") for p in (inbox / "processed").iterdir()] == [True]


def test_upload_with_bad_rows_within_the_allowance_publishes_and_lists_them(
    demo_hub: DemoHub, govhub, tmp_path: Path
) -> None:
    set_quality(demo_hub.settings.catalog_dir, SHEET_CODE, max_bad_row_pct=5)
    sheet, bad = sheet_with_bad_ids(demo_hub, tmp_path / "bad.xlsx")
    run = govhub("upload", sheet, "--resource", JYDJ_CODE)
    assert run.code == 0, run.out + run.err
    assert "已发布" in run.out
    for row, value in bad.items():
        assert f"第{row}行「{ID_LABEL}」列" in run.out and value in run.out


def test_ingest_of_a_sheet_resource_without_upload_says_how_to_upload(demo_hub: DemoHub, govhub) -> None:
    run = govhub("ingest", "--resource", SHEET_CODE)
    assert run.code == 1
    assert "govhub upload" in run.out


def test_ingest_of_an_unknown_resource_exits_2(demo_hub: DemoHub, govhub) -> None:
    run = govhub("ingest", "--resource", "nosuch/thing")
    assert run.code == 2
    assert run.err.strip()


def test_filled_template_uploads_and_publishes(demo_hub: DemoHub, govhub, tmp_path: Path) -> None:
    template = tmp_path / "就业登记模板.xlsx"
    made = govhub("template", JYDJ_CODE, "-o", template)
    assert made.code == 0, made.err
    assert template.is_file()

    _, rows = sheet_rows(demo_hub)
    wb = load_workbook(template)
    ws = wb.active
    header = [str(c.value).strip("* ") for c in ws[1]]
    assert header == [f.label for f in demo_hub.resource(SHEET_CODE).fields]
    for row in rows[:20]:
        ws.append(row)
    filled = tmp_path / "就业登记-已填.xlsx"
    wb.save(filled)

    run = govhub("upload", filled, "--resource", JYDJ_CODE, "--json")
    assert run.code == 0, run.out + run.err
    outcome = json.loads(run.out)
    assert (outcome["status"], outcome["rows"], outcome["inserted"]) == ("published", 20, 20)
