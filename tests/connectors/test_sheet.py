"""Reading fill-in sheets: xlsx and csv deliveries typed to the catalog, rows numbered as Excel shows them."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import openpyxl
import pyarrow as pa
import pytest

from govhub.catalog.arrow import arrow_schema
from govhub.catalog.model import Resource
from govhub.connectors.sheet import read_sheet
from govhub.identifiers import cn_id_check_char
from govhub.problems import GovhubError

FIELDS: list[dict[str, Any]] = [
    {"name": "id_number", "label": "公民身份号码", "semantic": "cn_id", "required": True},
    {"name": "name", "label": "姓名", "semantic": "person_name", "required": True},
    {"name": "gender", "label": "性别", "semantic": "enum", "enum": ["男", "女"]},
    {"name": "household_size", "label": "户内人数", "type": "integer"},
    {"name": "subsidy", "label": "补贴金额", "type": "number"},
    {"name": "birth_date", "label": "出生日期", "type": "date"},
    {"name": "phone", "label": "联系电话", "semantic": "phone"},
]
HEADERS = ["公民身份号码", "姓名", "性别", "户内人数", "补贴金额", "出生日期", "联系电话"]


def sheet_resource(fields: list[dict[str, Any]] | None = None, **sheet: Any) -> Resource:
    """A small sheet-delivered resource built in code (sheet options: encoding, sheet_name, header_row, formats)."""
    return Resource.model_validate(
        {
            "id": "dibao",
            "code": "101001002/000003",
            "name": "低保对象名册",
            "summary": "测试用资源",
            "agency": "mzj",
            "class": "population",
            "share": {"type": "conditional", "conditions": "仅用于核查"},
            "cycle": "monthly",
            "delivery": {"method": "sheet", "sheet": sheet},
            "fields": fields or FIELDS,
            "primary_key": ["id_number"],
        }
    )


def cn_id(first17: str) -> str:
    return first17 + cn_id_check_char(first17)


ID1 = cn_id("31011719900307002")
ID2 = cn_id("31011719851121004")
ID_X = next(cn_id(f"3101171978050500{i}") for i in range(10) if cn_id(f"3101171978050500{i}").endswith("X"))
ROWS = [
    [ID1, "张三", "男", "3", "1200.5", "1990-03-07", "13800000001"],
    [ID2, "李䶮", "女", "1", "800", "1985-11-21", "021-57780000"],
    [ID_X, "王五", "男", "2", "", "1978/5/5", ""],
]


def write_csv(path: Path, rows: list[list[str]], *, encoding: str = "utf-8", headers=None) -> Path:
    lines = [",".join(headers or HEADERS)] + [",".join(r) for r in rows]
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode(encoding))
    return path


def write_xlsx(path: Path, rows: list[list[Any]], *, headers=None, title: str = "数据") -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = title
    ws.append(headers or HEADERS)
    for r in rows:
        ws.append(r)
    wb.save(path)
    return path


def read_all(resource: Resource, path: Path, **kw: Any) -> tuple[pa.Table, list]:
    extract = read_sheet(resource, path, **kw)
    table = pa.Table.from_batches(list(extract.batches), schema=arrow_schema(resource, with_row=True))
    return table, extract.problems


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_csv_in_each_encoding_reads_names_and_ids_unchanged(tmp_path, encoding):
    path = write_csv(tmp_path / "名册.csv", ROWS, encoding=encoding)
    table, problems = read_all(sheet_resource(), path)
    assert problems == []
    assert table.column("id_number").to_pylist() == [ID1, ID2, ID_X]
    assert table.column("name").to_pylist() == ["张三", "李䶮", "王五"]
    assert table.column("__row__").to_pylist() == [2, 3, 4]
    assert table.column("household_size").to_pylist() == [3, 1, 2]
    assert table.column("subsidy").to_pylist() == [1200.5, 800.0, None]
    assert table.column("birth_date").to_pylist() == [
        dt.date(1990, 3, 7),
        dt.date(1985, 11, 21),
        dt.date(1978, 5, 5),
    ]


def test_gbk_csv_is_read_as_gb18030(tmp_path):
    rows = [[ID1, "张三", "男", "3", "1", "1990-03-07", "1"]]
    path = write_csv(tmp_path / "gbk.csv", rows, encoding="gbk")
    table, _ = read_all(sheet_resource(encoding="gbk"), path)
    assert table.column("name").to_pylist() == ["张三"]


def test_xlsx_with_typed_cells_reads_to_catalog_types(tmp_path):
    rows = [
        [ID1, "张三", "男", 3, 1200.5, dt.datetime(1990, 3, 7), "13800000001"],
        [ID_X, "李䶮", "女", 1, 800, "1985-11-21", 13800000002],
    ]
    table, problems = read_all(sheet_resource(), write_xlsx(tmp_path / "名册.xlsx", rows))
    assert problems == []
    assert table.column("id_number").to_pylist() == [ID1, ID_X]
    assert table.column("__row__").to_pylist() == [2, 3]
    assert table.column("household_size").to_pylist() == [3, 1]
    assert table.column("birth_date").to_pylist() == [dt.date(1990, 3, 7), dt.date(1985, 11, 21)]
    assert table.column("phone").to_pylist() == ["13800000001", "13800000002"]


def test_empty_rows_are_skipped_and_inner_ones_named_in_a_warning(tmp_path):
    rows = [ROWS[0], [""] * 7, [" "] * 7, ROWS[1], [""] * 7, ROWS[0], [""] * 7]
    table, problems = read_all(sheet_resource(), write_csv(tmp_path / "a.csv", rows))
    assert table.column("__row__").to_pylist() == [2, 5, 7]  # Excel's row numbers kept
    assert table.column("id_number").to_pylist() == [ID1, ID2, ID1]
    (blank,) = [p for p in problems if p.code == "sheet.blank_rows"]
    assert not blank.blocking and "第3–4、6行是空行（共3行），已跳过" in blank.message_zh


def test_wrong_date_and_integer_are_cell_problems_with_excel_row_and_column(tmp_path):
    rows = [ROWS[0], [ID2, "李四", "女", "两个", "1", "1985-02-30", "1"]]
    table, problems = read_all(sheet_resource(), write_csv(tmp_path / "a.csv", rows))
    assert table.num_rows == 2
    by_code = {p.code: p for p in problems}
    assert by_code["type.integer"].row == 3 and by_code["type.integer"].column == "户内人数"
    assert by_code["type.integer"].value == "两个"
    assert by_code["type.date"].row == 3 and by_code["type.date"].value == "1985-02-30"
    assert table.column("birth_date").to_pylist()[1] is None


def test_id_number_stored_as_number_in_xlsx_is_a_precision_problem_on_its_row(tmp_path):
    rows = [[ID1, "张三"], [310117199001011234, "李四"], [ID2, "王五"]]
    path = write_xlsx(tmp_path / "a.xlsx", rows, headers=["公民身份号码", "姓名"])
    fields = FIELDS[:2]
    _, problems = read_all(sheet_resource(fields), path)
    [p] = [p for p in problems if p.code == "type.precision_lost"]
    assert p.row == 3 and p.column == "公民身份号码"
    assert "精度" in p.message_zh and p.value.startswith("3.101171990010")


def test_headers_only_file_is_rejected_unless_empty_is_allowed(tmp_path):
    path = write_csv(tmp_path / "a.csv", [])
    with pytest.raises(GovhubError) as err:
        read_sheet(sheet_resource(), path)
    [p] = err.value.problems
    assert p.code == "sheet.no_rows" and "零更新" in p.message_zh
    table, _ = read_all(sheet_resource(), path, allow_empty=True)
    assert table.num_rows == 0
