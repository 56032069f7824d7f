"""End to end through `govhub.services.ingest.ingest_resource`, the one ingestion path: the demo district's real API server,
SQLite sources and fill-in sheets → landing → write-audit-publish → hub.duckdb views → ledger.

Every failure must leave the previous snapshot current (same id, same rows through the views) and the incremental
cursor where it was; a later good pull must move it."""

from __future__ import annotations

import csv
import datetime as dt
import json
import sqlite3
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from openpyxl import Workbook
from python_calamine import CalamineWorkbook

from govhub.warehouse.hub import connect_readonly, sync_hub
from govhub.warehouse.load import current_cursor
from govhub.warehouse.snapshots import current_snapshot_id, published_ids
from tests.conftest import DemoHub, deliver, set_quality

SHEET_CODE = "rsj/jydj"  # 就业登记信息: a fill-in sheet keyed by 公民身份号码
ID_LABEL = "公民身份号码"


# -- helpers ----------------------------------------------------------------------------------------------------
def ingest(hub: DemoHub, code: str, upload: Path | None = None, actor: str = "tester"):
    return deliver(hub.settings, hub.resource(code), upload, actor=actor)


def view_rows(hub: DemoHub, code: str) -> list[tuple]:
    """The resource's rows as an analyst sees them through hub.duckdb (views rebuilt first, as after a sync)."""
    sync_hub(hub.settings, hub.catalog)
    r = hub.resource(code)
    with connect_readonly(hub.settings) as con:
        return con.execute(f'SELECT * FROM "{r.agency}"."{r.id}" ORDER BY ALL').fetchall()


def problem_codes(outcome) -> list[str]:
    return [p.code for p in outcome.problems]


def sheet_rows(hub: DemoHub) -> tuple[list[str], list[list[Any]]]:
    """Header and data rows of the demo's clean 就业登记 sheet."""
    path = hub.settings.demo_dir / "sheets" / "rsj" / "jydj.xlsx"
    cells = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python()
    return [str(h) for h in cells[0]], [list(r) for r in cells[1:]]


def write_xlsx(path: Path, header: list[str], rows: list[list[Any]]) -> Path:
    wb = Workbook()
    ws = wb.active
    ws.title = "就业登记信息"
    ws.append(header)
    for row in rows:
        ws.append(row)
    wb.save(path)
    return path


def broken_id(id_number: str) -> str:
    """The same ID number with a wrong check character (exactly one character is right)."""
    return id_number[:-1] + ("1" if id_number[-1] != "1" else "2")


def touched_api_table(hub: DemoHub, code: str, column: str, n: int) -> tuple[pa.Table, int]:
    """The API's records with the first `n` changed in `column` and updated a day after the newest record."""
    agency, rid = code.split("/")
    table = pq.read_table(hub.settings.demo_dir / "api" / agency / f"{rid}.parquet")
    newest = max(table.column("updated_at").to_pylist())
    rows = table.to_pylist()
    n = min(n, len(rows))
    for row in rows[:n]:
        row[column] = f"{row[column]}（变更）"
        row["updated_at"] = newest + dt.timedelta(days=1)
    return pa.Table.from_pylist(rows, schema=table.schema), n


# -- API failures after a first publish -------------------------------------------------------------------------
API_FAILURES = [
    # (resource, fault, inject kwargs, wrong token, expected problem code)
    pytest.param("gaj/hjrk", "500", {"times": 10, "after": 1}, False, "api.http_500", id="persistent-500"),
    pytest.param(
        "gaj/hjrk", "timeout", {"times": 10, "after": 1, "delay_s": 2.0}, False, "api.timeout", id="timeout"
    ),
    pytest.param(
        "gaj/hjrk",
        "malformed_json",
        {"times": 10, "after": 1},
        False,
        "api.malformed_json",
        id="malformed-json",
    ),
    pytest.param(
        "rsj/sbcb", "loop_cursor", {"times": 1, "after": 1}, False, "api.cursor_loop", id="looping-cursor"
    ),
    pytest.param("gaj/hjrk", None, {}, True, "api.unauthorized", id="401-wrong-token"),
    pytest.param(
        "gaj/hjrk",
        "drop_connection",
        {"times": 10, "after": 1},
        False,
        "api.connection",
        id="dropped-connection",
    ),
    pytest.param(
        "gaj/hjrk", "wrong_shape", {"times": 1, "after": 1}, False, "api.wrong_shape", id="wrong-shape"
    ),
    pytest.param(
        "gaj/hjrk", "429", {"times": 10, "retry_after": 0.2}, False, "api.http_429", id="429-forever"
    ),
    pytest.param(
        "gaj/hjrk",
        "schema_change",
        {"times": 1, "after": 1},
        False,
        "api.schema_changed",
        id="schema-changed-mid-pull",
    ),
]
CHANGED_COLUMN = {"gaj/hjrk": "address", "rsj/sbcb": "employer_name"}


@pytest.mark.parametrize(("code", "fault", "kwargs", "wrong_token", "expected"), API_FAILURES)
def test_api_failure_keeps_previous_snapshot_and_cursor_until_a_good_incremental_pull(
    demo_hub: DemoHub,
    monkeypatch: pytest.MonkeyPatch,
    code: str,
    fault: str | None,
    kwargs: dict[str, Any],
    wrong_token: bool,
    expected: str,
) -> None:
    resource = demo_hub.resource(code)
    first = ingest(demo_hub, code)
    assert first.status == "published", first.problems
    cursor_before = current_cursor(demo_hub.settings, resource)
    assert cursor_before is not None and cursor_before["field"] == "updated_at"
    rows_before = view_rows(demo_hub, code)
    assert len(rows_before) == first.rows > 0
    snapshots_before = published_ids(demo_hub.settings, resource)

    # the agency changed records since: a pull that got through would publish them and move the cursor
    path = f"/api/{resource.agency}/{resource.id}"
    table, touched = touched_api_table(demo_hub, code, CHANGED_COLUMN[code], 250)
    demo_hub.server.add_dataset(path, table, style="any", updated_field="updated_at")
    if fault:
        demo_hub.server.inject(path, fault, **kwargs)
    good_settings = demo_hub.settings
    if wrong_token:
        demo_hub.settings = good_settings.with_variables(GOVHUB_SECRET_DEMO_API_TOKEN="not-the-token")

    failed = ingest(demo_hub, code)
    assert failed.status == "failed"
    assert expected in problem_codes(failed), failed.problems
    assert failed.snapshot_id is None
    assert current_snapshot_id(demo_hub.settings, resource) == first.snapshot_id
    assert published_ids(demo_hub.settings, resource) == snapshots_before
    assert current_cursor(demo_hub.settings, resource) == cursor_before
    assert view_rows(demo_hub, code) == rows_before

    demo_hub.server.clear_faults()
    demo_hub.settings = good_settings
    good = ingest(demo_hub, code)
    assert good.status == "published", good.problems
    assert (good.updated, good.inserted, good.deleted) == (touched, 0, 0)
    assert good.previous_snapshot_id == first.snapshot_id
    assert current_snapshot_id(demo_hub.settings, resource) == good.snapshot_id != first.snapshot_id
    cursor_after = current_cursor(demo_hub.settings, resource)
    assert cursor_after["value"] > cursor_before["value"]
    assert len(view_rows(demo_hub, code)) == len(rows_before)


def test_api_token_not_configured_is_a_failed_pull_not_a_rejected_delivery(demo_hub: DemoHub) -> None:
    """No token anywhere: the hub's configuration is at fault, not the agency's data (no ledger row)."""
    from govhub.governance.ledger import ledger_rows

    first = ingest(demo_hub, "gaj/hjrk")
    assert first.status == "published"
    demo_hub.settings.secrets_file.unlink()
    failed = ingest(demo_hub, "gaj/hjrk")
    assert "secret.missing" in problem_codes(failed)
    assert failed.status == "failed"
    assert current_snapshot_id(demo_hub.settings, demo_hub.resource("gaj/hjrk")) == first.snapshot_id
    assert [e.load_id for e in ledger_rows(demo_hub.settings, agency="gaj", resource="hjrk")] == [
        first.load_id
    ]


def test_rate_limit_with_retry_after_is_honoured_and_the_load_publishes(demo_hub: DemoHub) -> None:
    path = "/api/gaj/hjrk"
    demo_hub.server.inject(path, "429", times=1, retry_after=1.0)
    outcome = ingest(demo_hub, "gaj/hjrk")
    assert outcome.status == "published", outcome.problems
    assert outcome.rows == len(pq.read_table(demo_hub.settings.demo_dir / "api" / "gaj" / "hjrk.parquet"))
    served = demo_hub.server.requests_to(path)
    assert served[0].status == 429
    assert served[1].status == 200 and served[1].params.get("page") == served[0].params.get("page")
    assert served[1].at - served[0].at >= 0.95, "the retry came before the server's Retry-After"
    assert len(view_rows(demo_hub, "gaj/hjrk")) == outcome.rows


def test_database_source_gone_fails_and_keeps_previous_snapshot(demo_hub: DemoHub) -> None:
    code = "gaj/lhry"  # 来沪人员: the public security bureau's SQLite source
    resource = demo_hub.resource(code)
    first = ingest(demo_hub, code)
    assert first.status == "published", first.problems
    cursor_before = current_cursor(demo_hub.settings, resource)
    rows_before = view_rows(demo_hub, code)
    db_file = demo_hub.settings.demo_dir / "sources" / "gaj.db"
    kept = db_file.with_name("gaj.db.kept")
    db_file.rename(kept)

    failed = ingest(demo_hub, code)
    assert failed.status == "failed"
    assert "db.connection" in problem_codes(failed), failed.problems
    assert any("gaj.db" in p.message_zh for p in failed.problems)
    assert current_snapshot_id(demo_hub.settings, resource) == first.snapshot_id
    assert current_cursor(demo_hub.settings, resource) == cursor_before
    assert view_rows(demo_hub, code) == rows_before

    # the agency's database is back, with two registrations changed since the last pull
    kept.rename(db_file)
    with sqlite3.connect(db_file) as con:
        newest = con.execute("SELECT max(updated_at) FROM lhry_jzdj").fetchone()[0]
        later = (dt.datetime.fromisoformat(newest) + dt.timedelta(hours=1)).isoformat(" ", "microseconds")
        changed = [r[0] for r in con.execute("SELECT id_number FROM lhry_jzdj ORDER BY id_number LIMIT 2")]
        con.executemany(
            "UPDATE lhry_jzdj SET address = address || '（迁居）', updated_at = ? WHERE id_number = ?",
            [(later, k) for k in changed],
        )
    good = ingest(demo_hub, code)
    assert good.status == "published", good.problems
    assert (good.updated, good.inserted, good.deleted) == (2, 0, 0)
    assert current_cursor(demo_hub.settings, resource)["value"] > cursor_before["value"]
    assert len(view_rows(demo_hub, code)) == len(rows_before)


# -- quality policy with a real sheet ---------------------------------------------------------------------------
BAD_AT = (10, 40, 70)  # 3 of 100 data rows → sheet rows 12, 42, 72 (header on row 1)


def sheet_with_bad_ids(hub: DemoHub, path: Path) -> tuple[Path, dict[int, str]]:
    header, rows = sheet_rows(hub)
    rows = [list(r) for r in rows[:100]]
    col = header.index(ID_LABEL)
    bad = {}
    for i in BAD_AT:
        rows[i][col] = broken_id(rows[i][col])
        bad[i + 2] = rows[i][col]
    return write_xlsx(path, header, rows), bad


def clean_sheet(hub: DemoHub, path: Path, n: int = 100) -> Path:
    header, rows = sheet_rows(hub)
    return write_xlsx(path, header, rows[:n])


def test_sheet_with_3pct_bad_ids_publishes_good_rows_and_quarantines_the_rest_when_5pct_allowed(
    demo_hub: DemoHub, tmp_path: Path
) -> None:
    set_quality(demo_hub.settings.catalog_dir, SHEET_CODE, max_bad_row_pct=5)
    demo_hub.reload_catalog()
    sheet, bad = sheet_with_bad_ids(demo_hub, tmp_path / "就业登记-3%错误.xlsx")

    outcome = ingest(demo_hub, SHEET_CODE, sheet)
    assert outcome.status == "published", outcome.problems
    assert (outcome.rows, outcome.quarantined, outcome.inserted) == (100, 3, 97)
    published = view_rows(demo_hub, SHEET_CODE)
    assert len(published) == 97
    assert not {r[0] for r in published} & set(bad.values())

    report = Path(outcome.report_path)
    with (report / "problems.csv").open(encoding="utf-8-sig", newline="") as f:
        listed = [r for r in csv.DictReader(f) if r["row"]]
    assert {int(r["row"]) for r in listed} == set(bad)
    for r in listed:
        assert r["column"] == ID_LABEL
        assert r["value"] == bad[int(r["row"])]
        assert r["message_zh"]
    quarantined = pq.read_table(report / "quarantine.parquet")
    assert sorted(quarantined.column("id_number").to_pylist()) == sorted(bad.values())


def test_sheet_with_3pct_bad_ids_is_rejected_when_1pct_allowed_and_previous_snapshot_stays(
    demo_hub: DemoHub, tmp_path: Path
) -> None:
    set_quality(demo_hub.settings.catalog_dir, SHEET_CODE, max_bad_row_pct=1)
    demo_hub.reload_catalog()
    first = ingest(demo_hub, SHEET_CODE, clean_sheet(demo_hub, tmp_path / "就业登记.xlsx"))
    assert first.status == "published", first.problems
    rows_before = view_rows(demo_hub, SHEET_CODE)
    sheet, bad = sheet_with_bad_ids(demo_hub, tmp_path / "就业登记-3%错误.xlsx")

    outcome = ingest(demo_hub, SHEET_CODE, sheet)
    assert outcome.status == "rejected"
    assert "load.too_many_bad_rows" in problem_codes(outcome)
    cell_problems = {(p.row, p.column, p.value) for p in outcome.problems if p.row is not None}
    assert {(row, ID_LABEL, value) for row, value in bad.items()} <= cell_problems
    assert current_snapshot_id(demo_hub.settings, demo_hub.resource(SHEET_CODE)) == first.snapshot_id
    assert view_rows(demo_hub, SHEET_CODE) == rows_before
    assert outcome.annotated_path and Path(outcome.annotated_path).is_file()


# -- re-uploads and edits ---------------------------------------------------------------------------------------
def test_reupload_of_same_file_is_a_zero_update(demo_hub: DemoHub, tmp_path: Path) -> None:
    resource = demo_hub.resource(SHEET_CODE)
    sheet = clean_sheet(demo_hub, tmp_path / "就业登记.xlsx")
    first = ingest(demo_hub, SHEET_CODE, sheet)
    assert first.status == "published", first.problems
    snapshots = published_ids(demo_hub.settings, resource)
    assert snapshots[-1] == first.snapshot_id

    again = ingest(demo_hub, SHEET_CODE, sheet)
    assert again.status == "zero_update"
    assert again.snapshot_id == first.snapshot_id
    assert (again.inserted, again.updated, again.deleted, again.unchanged) == (0, 0, 0, 100)
    assert published_ids(demo_hub.settings, resource) == snapshots
    zero_updates = list((demo_hub.settings.hub_dir / "_meta" / "zero_updates").glob("*.json"))
    assert len(zero_updates) == 1


def zero_update_reasons(hub: DemoHub) -> list[str]:
    folder = hub.settings.hub_dir / "_meta" / "zero_updates"
    return [json.loads(p.read_text(encoding="utf-8"))["reason"] for p in sorted(folder.glob("*.json"))]


def test_reupload_of_the_very_same_file_is_a_zero_update_without_parsing_it(
    demo_hub: DemoHub, tmp_path: Path
) -> None:
    from govhub.warehouse.landing import Landing

    resource = demo_hub.resource(SHEET_CODE)
    sheet = clean_sheet(demo_hub, tmp_path / "就业登记.xlsx")
    first = ingest(demo_hub, SHEET_CODE, sheet)
    again = ingest(demo_hub, SHEET_CODE, sheet, actor="张海峰")
    assert again.status == "zero_update" and again.snapshot_id == first.snapshot_id
    assert (again.rows, again.unchanged, again.quarantined) == (100, 100, 0)
    assert again.landing_sha256 == first.landing_sha256
    assert again.expectation_results == []  # recognised by its sha256: not read, not validated again
    assert (
        len(again.preview) == len(first.preview)
        and again.preview[0]["id_number"] == first.preview[0]["id_number"]
    )
    assert zero_update_reasons(demo_hub) == ["identical_file"]
    receipts = Landing(demo_hub.settings).receipts(resource)
    assert [r.received_by for r in receipts] == ["tester", "张海峰"]  # the arrival is still on record


def test_same_rows_in_a_different_file_are_a_zero_update_by_content(
    demo_hub: DemoHub, tmp_path: Path
) -> None:
    header, rows = sheet_rows(demo_hub)
    first = ingest(demo_hub, SHEET_CODE, write_xlsx(tmp_path / "a.xlsx", header, rows[:100]))
    reordered = ingest(demo_hub, SHEET_CODE, write_xlsx(tmp_path / "b.xlsx", header, rows[:100][::-1]))
    assert reordered.landing_sha256 != first.landing_sha256
    assert (reordered.status, reordered.rows, reordered.unchanged) == ("zero_update", 100, 100)
    assert reordered.expectation_results  # parsed and validated like any other delivery
    assert zero_update_reasons(demo_hub) == ["identical_content"]


def test_reupload_of_a_file_with_quarantined_rows_is_audited_again(demo_hub: DemoHub, tmp_path: Path) -> None:
    """The agency gets its problem report again; only clean loads are recognised by the file's sha256."""
    set_quality(demo_hub.settings.catalog_dir, SHEET_CODE, max_bad_row_pct=5)
    demo_hub.reload_catalog()
    sheet, bad = sheet_with_bad_ids(demo_hub, tmp_path / "就业登记-3%错误.xlsx")
    first = ingest(demo_hub, SHEET_CODE, sheet)
    assert (first.status, first.quarantined) == ("published", 3)
    again = ingest(demo_hub, SHEET_CODE, sheet)
    assert (again.status, again.quarantined) == ("zero_update", 3)
    assert {p.row for p in again.problems if p.row is not None} == set(bad)
    assert Path(again.report_path, "problems.csv").is_file()
    assert zero_update_reasons(demo_hub) == ["identical_content"]


def test_reupload_after_the_quality_policy_changed_is_audited_again(
    demo_hub: DemoHub, tmp_path: Path
) -> None:
    sheet = clean_sheet(demo_hub, tmp_path / "就业登记.xlsx")
    assert ingest(demo_hub, SHEET_CODE, sheet).status == "published"
    set_quality(demo_hub.settings.catalog_dir, SHEET_CODE, max_bad_row_pct=2)
    demo_hub.reload_catalog()
    again = ingest(demo_hub, SHEET_CODE, sheet)
    assert again.status == "zero_update" and again.expectation_results
    assert zero_update_reasons(demo_hub) == ["identical_content"]


def test_edited_file_gives_exact_inserted_updated_deleted_counts(demo_hub: DemoHub, tmp_path: Path) -> None:
    header, rows = sheet_rows(demo_hub)
    base = [list(r) for r in rows[:100]]
    first = ingest(demo_hub, SHEET_CODE, write_xlsx(tmp_path / "v1.xlsx", header, base))
    assert first.status == "published", first.problems

    name = header.index("姓名")
    edited = [list(r) for r in base]
    for i in (1, 5, 9, 13):  # k = 4 changed
        edited[i][name] = "欧阳明远" if edited[i][name] != "欧阳明远" else "司马晓燕"
    del edited[50:53]  # d = 3 deleted
    edited += [list(r) for r in rows[100:105]]  # a = 5 added
    second = ingest(demo_hub, SHEET_CODE, write_xlsx(tmp_path / "v2.xlsx", header, edited))
    assert second.status == "published", second.problems
    assert (second.inserted, second.updated, second.deleted, second.unchanged) == (5, 4, 3, 93)
    assert second.rows == 102
    assert len(view_rows(demo_hub, SHEET_CODE)) == 102


# -- ledger and records -----------------------------------------------------------------------------------------
def test_ledger_and_load_records_follow_every_outcome(demo_hub: DemoHub, tmp_path: Path) -> None:
    from govhub.events import list_events
    from govhub.governance.ledger import ledger_rows

    set_quality(demo_hub.settings.catalog_dir, SHEET_CODE, max_bad_row_pct=1)
    demo_hub.reload_catalog()
    settings = demo_hub.settings

    def ledger() -> list:
        return ledger_rows(settings, agency="rsj", resource="jydj")

    bad, _ = sheet_with_bad_ids(demo_hub, tmp_path / "bad.xlsx")
    rejected = ingest(demo_hub, SHEET_CODE, bad, actor="张海峰")
    assert rejected.status == "rejected"
    [entry] = ledger()
    assert (entry.state, entry.load_id) == ("rejected", rejected.load_id)

    sheet = clean_sheet(demo_hub, tmp_path / "good.xlsx")
    published = ingest(demo_hub, SHEET_CODE, sheet, actor="张海峰")
    [entry] = ledger()
    assert entry.state in ("updated", "late")
    assert (entry.snapshot_id, entry.load_id) == (published.snapshot_id, published.load_id)

    zero = ingest(demo_hub, SHEET_CODE, sheet, actor="张海峰")
    assert zero.status == "zero_update"
    assert [e.load_id for e in ledger()] == [
        published.load_id
    ]  # an identical re-delivery keeps the period's row

    amended = ingest(
        demo_hub, SHEET_CODE, clean_sheet(demo_hub, tmp_path / "more.xlsx", n=110), actor="张海峰"
    )
    assert amended.status == "published"
    [entry] = ledger()
    assert (entry.state, entry.snapshot_id) == ("amended", amended.snapshot_id)

    # every load is a meta.loads record readable in hub.duckdb
    sync_hub(settings, demo_hub.catalog)
    with connect_readonly(settings) as con:
        loads = dict(
            con.execute(
                "SELECT load_id, status FROM meta.loads WHERE agency = 'rsj' AND resource = 'jydj'"
            ).fetchall()
        )
    assert loads == {
        rejected.load_id: "rejected",
        published.load_id: "published",
        zero.load_id: "zero_update",
        amended.load_id: "published",
    }
    # a failed pull is no submission: no ledger row, but a record and an event
    demo_hub.server.inject("/api/gaj/hjrk", "500", times=10)
    failed = ingest(demo_hub, "gaj/hjrk")
    assert failed.status == "failed"
    assert ledger_rows(settings, agency="gaj", resource="hjrk") == []
    events = list_events(settings, kind="load.failed", subject="gaj/hjrk")
    assert failed.load_id in {e.payload.get("load_id") for e in events}


def test_each_load_is_one_load_event_in_the_log(demo_hub: DemoHub, tmp_path: Path) -> None:
    from govhub.events import list_events

    sheet = clean_sheet(demo_hub, tmp_path / "good.xlsx")
    outcomes = [ingest(demo_hub, SHEET_CODE, sheet), ingest(demo_hub, SHEET_CODE, sheet)]
    demo_hub.server.inject("/api/gaj/hjrk", "500", times=10)
    outcomes.append(ingest(demo_hub, "gaj/hjrk"))
    assert [o.status for o in outcomes] == ["published", "zero_update", "failed"]
    logged = [(e.kind, e.payload.get("load_id")) for e in list_events(demo_hub.settings, kind="load.*")]
    assert sorted(logged) == sorted((f"load.{o.status}", o.load_id) for o in outcomes)


def test_ledger_names_who_delivered(demo_hub: DemoHub, tmp_path: Path) -> None:
    from govhub.governance.ledger import ledger_rows

    outcome = ingest(demo_hub, SHEET_CODE, clean_sheet(demo_hub, tmp_path / "good.xlsx"), actor="张海峰")
    assert outcome.status == "published"
    [entry] = ledger_rows(demo_hub.settings, agency="rsj", resource="jydj")
    assert entry.attested_by == "张海峰"
