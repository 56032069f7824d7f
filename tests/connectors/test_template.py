"""Fill-in templates: what the agency gets, and that what it fills in comes back unchanged."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import openpyxl
import pyarrow as pa
import python_calamine

from govhub.cli.main import main
from govhub.connectors.sheet import read_sheet
from govhub.connectors.template import META_SHEET, write_csv_template, write_template
from govhub.identifiers import uscc_check_char
from tests.connectors.test_sheet import ID1, ID2, ID_X, sheet_resource

USCC = "11310117002423040" + uscc_check_char("11310117002423040")
REPO_CATALOG = Path(__file__).resolve().parents[2] / "catalog"


def test_template_has_marked_headers_text_columns_dropdowns_and_frozen_header(tmp_path):
    resource = sheet_resource()
    path = write_template(resource, tmp_path / "t.xlsx", agency_name="区民政局")
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["填报数据", "说明", META_SHEET]
    assert wb[META_SHEET].sheet_state == "veryHidden"
    ws = wb["填报数据"]
    assert [c.value for c in ws[1]] == [
        "*公民身份号码",
        "*姓名",
        "性别",
        "户内人数",
        "补贴金额",
        "出生日期",
        "联系电话",
    ]
    assert ws.freeze_panes == "A2"
    assert ws.column_dimensions["A"].number_format == "@"  # ID numbers stay text
    assert ws.column_dimensions["F"].number_format == "yyyy-mm-dd"
    assert "18位公民身份号码" in ws["A1"].comment.text
    lists = [dv for dv in ws.data_validations.dataValidation if dv.type == "list"]
    assert [dv.formula1 for dv in lists] == ['"男,女"'] and "C2" in str(lists[0].sqref)
    info = [[c.value for c in row] for row in wb["说明"].iter_rows()]
    flat = " ".join(str(v) for row in info for v in row if v)
    assert "低保对象名册" in flat and "101001002/000003" in flat and "区民政局" in flat and "每月" in flat
    meta = json.loads(wb[META_SHEET]["B1"].value)
    assert meta["fingerprint"] == resource.fingerprint and meta["code"] == resource.code


def test_round_trip_ids_typed_as_text_come_back_unchanged(tmp_path):
    resource = sheet_resource()
    path = write_template(resource, tmp_path / "t.xlsx")
    wb = openpyxl.load_workbook(path)
    ws = wb["填报数据"]
    # as a user types into the TEXT-formatted column: the cell keeps the string, incl. an ID ending in X
    for r, (id_number, name) in enumerate([(ID1, "张三"), (ID2, "李䶮"), (ID_X, "王五")], start=2):
        ws.cell(r, 1, id_number).number_format = "@"
        ws.cell(r, 2, name)
        ws.cell(r, 3, "女")
        ws.cell(r, 7, "13800000000").number_format = "@"
    wb.save(path)
    extract = read_sheet(resource, path)
    table = pa.Table.from_batches(list(extract.batches))
    assert extract.problems == []
    assert table.column("id_number").to_pylist() == [ID1, ID2, ID_X]
    assert table.column("name").to_pylist() == ["张三", "李䶮", "王五"]
    assert table.column("__row__").to_pylist() == [2, 3, 4]


def test_long_enumerations_point_the_dropdown_at_the_hidden_sheet(tmp_path):
    options = [f"上海市松江区第{i}街道办事处" for i in range(30)]
    fields = [
        {"name": "id_number", "label": "证件号码", "required": True},
        {"name": "street", "label": "街道", "enum": options},
    ]
    path = write_template(sheet_resource(fields), tmp_path / "t.xlsx")
    ws = openpyxl.load_workbook(path)["填报数据"]
    [dv] = [dv for dv in ws.data_validations.dataValidation if dv.type == "list"]
    assert dv.formula1 == f"'{META_SHEET}'!$B$3:$B$32"
    hidden = python_calamine.CalamineWorkbook.from_path(path).get_sheet_by_name(META_SHEET).to_python()
    assert [r[1] for r in hidden[2:32]] == options


def test_csv_template_is_a_utf8_bom_header_line_the_reader_accepts(tmp_path):
    resource = sheet_resource()
    path = write_csv_template(resource, tmp_path / "t.csv")
    assert path.read_bytes().startswith(b"\xef\xbb\xbf*\xe5")
    with path.open("a", encoding="utf-8", newline="") as fh:
        fh.write(f"{ID1},张三,男,1,1,2020-01-01,1\r\n")
    assert next(read_sheet(resource, path).batches).column("id_number").to_pylist() == [ID1]


def test_cli_writes_a_template_for_a_catalog_resource(tmp_path, monkeypatch, capsys):
    catalog = tmp_path / "catalog"
    (catalog / "mzj").mkdir(parents=True)
    (catalog / "agencies.yaml").write_text(
        f"agencies:\n  - id: mzj\n    name: 松江区民政局\n    uscc: {USCC}\n    steward: {{name: 王主任}}\n",
        encoding="utf-8",
    )
    resource = sheet_resource()
    import yaml

    from govhub.catalog.model import model_dump_yaml_ready

    (catalog / "mzj" / "dibao.yaml").write_text(
        yaml.safe_dump(model_dump_yaml_ready(resource), allow_unicode=True), encoding="utf-8"
    )
    # main() writes GOVHUB_HOME/GOVHUB_CATALOG into the environment: set them here so monkeypatch restores them
    monkeypatch.setenv("GOVHUB_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("GOVHUB_CATALOG", str(catalog))
    out = tmp_path / "out" / "低保"
    code = main(["--catalog", str(catalog), "template", resource.code, "-o", str(out)])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "低保对象名册" in captured.out and (tmp_path / "out" / "低保.xlsx").exists()
    assert main(["--catalog", str(catalog), "template", "mzj/dibao", "-o", str(tmp_path / "t.csv")]) == 0
    assert (tmp_path / "t.csv").read_text(encoding="utf-8-sig").startswith("*公民身份号码,*姓名")
    assert main(["--catalog", str(catalog), "template", "nosuch", "-o", str(out)]) == 2
    assert "目录中没有资源「nosuch」" in capsys.readouterr().err


def test_templates_for_every_sheet_resource_of_the_demo_catalog_read_back(tmp_path):
    from govhub.catalog.load import load_catalog

    catalog, _ = load_catalog(REPO_CATALOG)
    sheet_resources = [r for r in catalog.resources if r.delivery.method.value == "sheet"]
    assert sheet_resources, "the demo catalog has no sheet-delivered resource"
    for resource in sheet_resources:
        path = write_template(resource, tmp_path / f"{resource.id}.xlsx")
        copy = tmp_path / f"{resource.id}-copy.xlsx"
        shutil.copy(path, copy)
        wb = openpyxl.load_workbook(copy)
        sheet = wb.worksheets[0]
        for c in range(1, len(resource.fields) + 1):
            sheet.cell(2, c, "1")
        wb.save(copy)
        extract = read_sheet(resource, copy)
        assert next(extract.batches).num_rows == 1
