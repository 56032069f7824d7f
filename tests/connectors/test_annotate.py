"""The annotated workbook returned to the agency: problem cells filled and commented, a summary of every problem."""

from __future__ import annotations

import openpyxl
import pytest

from govhub.connectors.annotate import CELL_FILL, ROW_FILL, SUMMARY_SHEET, annotate_workbook
from govhub.connectors.sheet import read_sheet
from govhub.problems import Problem
from tests.connectors.test_sheet import HEADERS, ID1, ID2, ROWS, sheet_resource, write_csv, write_xlsx


def fill(cell) -> str:
    return (cell.fill.fgColor.rgb or "")[-6:]


@pytest.fixture
def bad_rows():
    return [ROWS[0], [ID2, "李四", "女", "两个", "1", "1985-02-30", "1"], ROWS[2]]


def test_xlsx_problem_cells_are_filled_and_commented_and_summarised(tmp_path, bad_rows):
    resource = sheet_resource()
    src = write_xlsx(tmp_path / "名册.xlsx", bad_rows)
    problems = read_sheet(resource, src).problems
    extra = Problem(code="check.duplicate_key", message_zh="主键重复", row=4, value=ID1)
    whole_file = Problem(code="load.too_small", message_zh="本次数据量明显少于上次")
    dest = annotate_workbook(
        src, [*problems, extra, whole_file], tmp_path / "out" / "名册-标注.xlsx", resource=resource
    )
    wb = openpyxl.load_workbook(dest)
    ws = wb["数据"]
    assert fill(ws["D3"]) == CELL_FILL and "整数" in ws["D3"].comment.text
    assert fill(ws["F3"]) == CELL_FILL and "日期" in ws["F3"].comment.text
    assert ws["A2"].comment is None and fill(ws["D2"]) != CELL_FILL
    assert fill(ws["A4"]) == ROW_FILL and fill(ws["G4"]) == ROW_FILL and "主键重复" in ws["A4"].comment.text
    assert ws["A3"].value == ID2  # the agency's data is untouched
    summary = [[c.value for c in row] for row in wb[SUMMARY_SHEET].iter_rows()]
    assert summary[0] == ["行号", "列", "值", "问题", "应为", "代码"]
    assert [3, "户内人数", "两个"] in [r[:3] for r in summary]
    assert any(r[5] == "load.too_small" and r[0] is None for r in summary)
    assert wb.sheetnames[0] == SUMMARY_SHEET


def test_corrected_annotated_copy_can_be_uploaded_again(tmp_path, bad_rows):
    resource = sheet_resource()
    src = write_xlsx(tmp_path / "名册.xlsx", bad_rows)
    dest = annotate_workbook(
        src, read_sheet(resource, src).problems, tmp_path / "标注.xlsx", resource=resource
    )
    wb = openpyxl.load_workbook(dest)
    wb["数据"]["D3"] = 2
    wb["数据"]["F3"] = "1985-02-28"
    wb.save(dest)
    assert read_sheet(resource, dest).problems == []


def test_problems_named_by_column_letter_or_field_are_placed(tmp_path):
    src = write_xlsx(tmp_path / "a.xlsx", ROWS)
    problems = [
        Problem(code="sheet.formula", message_zh="公式没有值", row=2, column="E"),
        Problem(code="check.cn_id", message_zh="校验码错误", row=3, column=None, field="id_number"),
    ]
    ws = openpyxl.load_workbook(
        annotate_workbook(src, problems, tmp_path / "o.xlsx", resource=sheet_resource())
    )["数据"]
    assert fill(ws["E2"]) == CELL_FILL and fill(ws["A3"]) == CELL_FILL and "校验码" in ws["A3"].comment.text


def test_gbk_csv_becomes_an_xlsx_with_the_same_rows_marked(tmp_path, bad_rows):
    resource = sheet_resource()
    src = write_csv(
        tmp_path / "名册.csv",
        [*bad_rows, ["=1+1", "王五", "男", "1", "1", "1990-01-01", "1"]],
        encoding="gbk",
    )
    problems = read_sheet(resource, src).problems
    dest = annotate_workbook(src, problems, tmp_path / "名册-标注.xlsx", resource=resource)
    wb = openpyxl.load_workbook(dest)
    ws = wb["名册"]
    assert [c.value for c in ws[1]] == HEADERS
    assert ws["A2"].value == ID1 and ws["A5"].value == "=1+1" and ws["A5"].data_type == "s"
    assert (
        fill(ws["D3"]) == CELL_FILL
        and "两个" not in ws["D3"].comment.text
        and "整数" in ws["D3"].comment.text
    )
    assert fill(ws["B2"]) != CELL_FILL
    rows = [[c.value for c in r] for r in wb[SUMMARY_SHEET].iter_rows(min_row=2)]
    assert {(r[0], r[1]) for r in rows} == {(3, "户内人数"), (3, "出生日期")}
