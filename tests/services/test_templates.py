"""Template-aware uploads (issue 13): a filled template names its resource (no --resource needed), an outdated one is
told exactly what changed, and neither is ever taken for catalog drift — which sources and sheets from no template
version still raise."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import openpyxl
import yaml

from govhub.governance.drift import open_flags
from tests.conftest import DemoHub
from tests.services.test_ingest import SHEET_CODE, sheet_rows, write_xlsx


def _add_required_field(hub: DemoHub) -> None:
    """The catalog changes after the template was issued: a new required field (§10: the entry is re-published)."""
    path = hub.settings.catalog_dir / f"{SHEET_CODE}.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["fields"].append({"name": "remark", "label": "备注说明", "required": True})
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    hub.reload_catalog()


def _drift_alerts(hub: DemoHub) -> list[dict]:
    log = hub.settings.state_dir / "alerts.log"
    lines = log.read_text(encoding="utf-8").splitlines() if log.exists() else []
    return [a for a in map(json.loads, lines) if a["kind"].startswith("catalog_drift")]


def _problems(run) -> list[dict]:
    return json.loads(run.out)["problems"]


def test_an_outdated_xlsx_template_is_identified_without_resource_told_what_changed_and_raises_no_drift(
    demo_hub: DemoHub, govhub, tmp_path: Path
) -> None:
    template = tmp_path / "就业登记-模板.xlsx"
    assert govhub("template", SHEET_CODE, "-o", template).code == 0
    _, rows = sheet_rows(demo_hub)
    wb = openpyxl.load_workbook(template)
    for row in rows[:20]:
        wb["填报数据"].append([str(v) if v is not None else None for v in row])
    wb.save(template)  # as a steward saves it in Excel: the template's properties stay
    _add_required_field(demo_hub)

    run = govhub("upload", template, "--json")
    assert run.code == 1, run.err
    assert "按模板识别为「就业登记信息」" in run.err
    outdated = [p for p in _problems(run) if p["code"] == "sheet.outdated_template"]
    assert len(outdated) == 1 and "新增字段「备注说明」（必填）" in outdated[0]["message_zh"]
    assert open_flags(demo_hub.settings) == [] and _drift_alerts(demo_hub) == []


def test_an_outdated_csv_template_is_recognised_by_its_issued_header_row_and_raises_no_drift(
    demo_hub: DemoHub, govhub, tmp_path: Path
) -> None:
    template = tmp_path / "就业登记-模板.csv"
    assert govhub("template", SHEET_CODE, "-o", template).code == 0
    _, rows = sheet_rows(demo_hub)
    with template.open("a", encoding="utf-8", newline="") as f:
        csv.writer(f, lineterminator="\r\n").writerows(
            [["" if v is None else v for v in r] for r in rows[:20]]
        )
    _add_required_field(demo_hub)

    run = govhub("upload", template, "--json")
    assert run.code == 1 and "按表头识别为「就业登记信息」" in run.err
    assert any(
        "新增字段「备注说明」" in p["message_zh"]
        for p in _problems(run)
        if p["code"] == "sheet.outdated_template"
    )
    assert open_flags(demo_hub.settings) == [] and _drift_alerts(demo_hub) == []


def test_a_current_template_with_a_column_deleted_by_hand_is_not_drift_either(
    demo_hub: DemoHub, govhub, tmp_path: Path
) -> None:
    template = tmp_path / "模板.xlsx"
    govhub("template", SHEET_CODE, "-o", template)
    _, rows = sheet_rows(demo_hub)
    wb = openpyxl.load_workbook(template)
    for row in rows[:5]:
        wb["填报数据"].append([str(v) if v is not None else None for v in row])
    wb["填报数据"].delete_cols(2)
    wb.save(template)
    run = govhub("upload", template, "--json")
    assert run.code == 1 and any(p["code"] == "sheet.missing_column" for p in _problems(run))
    assert open_flags(demo_hub.settings) == []


def test_a_sheet_from_no_template_lacking_a_column_still_flags_catalog_drift(
    demo_hub: DemoHub, govhub, tmp_path: Path
) -> None:
    header, rows = sheet_rows(demo_hub)
    sheet = write_xlsx(
        tmp_path / "自制表格.xlsx", header[:1] + header[2:], [r[:1] + r[2:] for r in rows[:10]]
    )
    run = govhub("upload", sheet, "--resource", SHEET_CODE, "--json")
    assert run.code == 1
    assert [f.resource for f in open_flags(demo_hub.settings)] == ["jydj"]


def test_a_sheet_naming_no_resource_clearly_asks_for_one(demo_hub: DemoHub, govhub, tmp_path: Path) -> None:
    sheet = write_xlsx(tmp_path / "随便.xlsx", ["甲", "乙"], [["1", "2"]])
    run = govhub("upload", sheet)
    assert (
        run.code == 1 and "无法从文件「随便.xlsx」判断它属于哪个资源" in run.err and "--resource" in run.err
    )
    assert "Traceback" not in run.err
