"""The plain-sheet fast path (every cell as text through fastexcel) reads exactly what the typed calamine reader
reads, and every sheet it could misread (formulas, merged cells, error cells, numbers that lost digits) goes the
typed way."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from govhub.connectors import sheet as sheet_module
from govhub.connectors.xlsx_plain import head_cells, read_plain_sheet, scan_sheet
from govhub.problems import GovhubError
from tests.connectors.test_sheet import HEADERS, ID1, ID2, ID_X, read_all, sheet_resource

TYPED_ROWS: list[list[Any]] = [
    [ID1, "张三", "男", 3, 1200.5, dt.datetime(1990, 3, 7), "13800000001"],
    [ID2, "李䶮", "女", "1", 800, "1985-11-21", 13800000002],
    [ID_X, "  王五\u3000", None, 2.0, "", "1978/5/5", "021-57780000"],
    [ID1 + "9", "赵六", "未知", "两", "八百", "1990-02-30", None],  # bad values: the same problems either way
]


def _write(path: Path, rows: list[list[Any]], *, at: str = "A1", above: list[str] | None = None) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "数据"
    row0 = int(at[1:])
    col0 = ord(at[0]) - ord("A") + 1
    lines = ([above] if above else []) + [HEADERS, *rows, [], [None] * 3]
    for i, line in enumerate(lines):
        for j, value in enumerate(line):
            ws.cell(row=row0 + i, column=col0 + j, value=value)
    wb.save(path)
    return path


def _read(resource, path: Path) -> Any:
    try:
        table, problems = read_all(resource, path)
    except GovhubError as exc:  # a refused sheet: the same refusal either way
        return [p.to_dict() for p in exc.problems]
    return table, [p.to_dict() for p in problems]


def _both_ways(monkeypatch: pytest.MonkeyPatch, path: Path, resource) -> tuple[Any, Any]:
    fast = _read(resource, path)
    with monkeypatch.context() as m:
        m.setattr(sheet_module, "read_plain_sheet", lambda *a: None)
        typed = _read(resource, path)
    return fast, typed


LAYOUTS = {"A1": {}, "offset-C4": {"at": "C4"}, "title-row": {"above": ["2026年10月低保名册"]}}
LAYOUTS["offset-and-title"] = {"at": "B2", "above": ["说明", "", "单位：元"]}


@pytest.mark.parametrize("layout", LAYOUTS.values(), ids=LAYOUTS.keys())
def test_plain_sheet_reads_exactly_as_the_typed_reader(tmp_path, monkeypatch, layout):
    path = _write(tmp_path / "名册.xlsx", TYPED_ROWS, **layout)
    header_row = int(layout.get("at", "A1")[1:]) + bool(layout.get("above"))
    assert scan_sheet(path, "数据").plain and read_plain_sheet(path, "数据") is not None
    (fast, fast_problems), (typed, typed_problems) = _both_ways(
        monkeypatch, path, sheet_resource(header_row=header_row)
    )
    assert fast.equals(typed), (fast.to_pylist(), typed.to_pylist())
    assert fast_problems == typed_problems and fast_problems, "the bad row is reported, alike"
    assert fast.column("__row__").to_pylist()[0] == header_row + 1
    # a header that is not where the catalog says: the same refusal either way
    fast, typed = _both_ways(monkeypatch, path, sheet_resource(header_row=header_row + 1))
    assert fast == typed and fast[0]["code"] == "sheet.header_row"


def test_sheets_the_text_reading_could_misread_go_the_typed_way(tmp_path):
    def scanned(**cells: Any) -> bool:
        wb = openpyxl.Workbook()
        ws = wb.active
        ws.title = "数据"
        ws.append(HEADERS)
        ws.append([ID1, "张三"])
        for ref, value in cells.items():
            ws[ref] = value
        path = tmp_path / "s.xlsx"
        wb.save(path)
        return scan_sheet(path, "数据").plain

    assert scanned()
    assert not scanned(A3=310117199003070021)  # an ID typed as a number: its last digits are gone
    assert not scanned(E3=1.5e20)
    assert not scanned(E3="=1/0")  # a formula (without a cached value here)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "数据"
    ws.append(HEADERS)
    ws.merge_cells("A2:B2")
    wb.save(tmp_path / "m.xlsx")
    assert not scan_sheet(tmp_path / "m.xlsx", "数据").plain
    assert scan_sheet(tmp_path / "m.xlsx", "无此表") == scan_sheet(tmp_path / "nowhere.xlsx", "数据")


def test_numbers_whose_text_would_not_be_exact_go_the_typed_way(tmp_path, monkeypatch):
    """fastexcel rounds to 9 decimal places and garbles 16+ significant digits: such sheets are read typed, and a
    sheet of ordinary amounts reads alike both ways."""
    fields = [
        {"name": "id_number", "label": "公民身份号码"},
        {"name": "amount", "label": "金额", "type": "number"},
    ]
    resource = sheet_resource(fields)
    for value, plain in [
        (1 / 3, False),
        (1e-10, False),
        (123456789.12345679, False),
        (9433.309999999999, True),  # not 9433.31's double: that one openpyxl writes as 9433.31
        (3.101171990010113e17, False),  # an ID number typed as a number
        (2597.16, True),
        (123456789012345.0, True),
        (0.000123456789, False),
        (0.000123456, True),
        (-3.75, True),
    ]:
        wb = openpyxl.Workbook()
        ws = wb.active
        ws.title = "数据"
        ws.append(["公民身份号码", "金额"])
        ws.append([ID1, value])
        path = tmp_path / "n.xlsx"
        wb.save(path)
        assert scan_sheet(path, "数据").plain is plain, value
        fast, typed = _both_ways(monkeypatch, path, resource)
        assert fast[0].column("amount").equals(typed[0].column("amount")), value
        if plain:
            assert fast[0].column("amount").to_pylist() == [value]


def test_a_date_cell_in_a_text_field_reads_as_the_date_the_agency_sees(tmp_path):
    fields = [{"name": "id_number", "label": "公民身份号码"}, {"name": "note", "label": "备注"}]
    fields.append({"name": "born", "label": "出生日期", "type": "date"})
    path = tmp_path / "d.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "数据"
    ws.append(["公民身份号码", "备注", "出生日期"])
    ws.append([ID1, dt.datetime(2024, 1, 5), dt.datetime(1990, 3, 7)])
    wb.save(path)
    table, _ = read_all(sheet_resource(fields), path)
    assert table.column("note").to_pylist() == ["2024-01-05"]
    assert table.column("born").to_pylist() == [dt.date(1990, 3, 7)]


def _calamine_head(path: Path, sheet: str, nrows: int) -> list[list[Any]]:
    import python_calamine as calamine

    with calamine.CalamineWorkbook.from_path(str(path)) as wb:
        return [list(r) for r in wb.get_sheet_by_name(sheet).to_python(nrows=nrows)]


def _trimmed(rows: list[list[Any]]) -> list[list[Any]]:
    """Rows without trailing empty cells or rows, dates as Excel serials (the head reader does not read styles)."""
    out = []
    for row in rows:
        cells = [
            (v - dt.datetime(1899, 12, 30)) / dt.timedelta(days=1)
            if isinstance(v, dt.datetime)
            else (v - dt.date(1899, 12, 30)).days
            if isinstance(v, dt.date)
            else v
            for v in row
        ]
        while cells and cells[-1] == "":
            cells.pop()
        out.append(cells)
    while out and not out[-1]:
        out.pop()
    return out


@pytest.mark.parametrize("layout", LAYOUTS.values(), ids=LAYOUTS.keys())
@pytest.mark.parametrize("nrows", [1, 3, 10])
def test_the_streamed_head_of_a_sheet_is_calamines(tmp_path, layout, nrows):
    path = _write(tmp_path / "s.xlsx", TYPED_ROWS, **layout)
    assert _trimmed(head_cells(path, "数据", nrows)) == _trimmed(_calamine_head(path, "数据", nrows))


def test_the_streamed_head_reads_rich_text_inline_strings_and_the_templates_own_sheet(tmp_path):
    import xlsxwriter

    from govhub.connectors.template import write_template

    path = tmp_path / "rich.xlsx"
    wb = xlsxwriter.Workbook(str(path), {"constant_memory": True})  # constant memory: inline strings
    ws = wb.add_worksheet("数据")
    bold = wb.add_format({"bold": True})
    ws.write_rich_string(1, 1, "公民", bold, "身份", "号码")
    ws.write_row(2, 1, ["姓名", 3.5, True, "=1+1"])
    wb.close()
    assert _trimmed(head_cells(path, "数据", 10)) == _trimmed(_calamine_head(path, "数据", 10))
    assert head_cells(path, "数据", 10)[0] == ["公民身份号码", "", "", ""]

    template = write_template(sheet_resource(), tmp_path / "t.xlsx")
    import python_calamine as calamine

    with calamine.CalamineWorkbook.from_path(str(template)) as book:
        names = book.sheet_names
    for name in names:
        assert _trimmed(head_cells(template, name, 10)) == _trimmed(_calamine_head(template, name, 10)), name


def test_the_streamed_head_stops_early_on_a_sheet_of_empty_styled_rows(tmp_path):
    """A sheet whose first 10,000 rows are styled but empty gives no head rather than a walk over all of it."""
    import xlsxwriter

    path = tmp_path / "empty.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("数据")
    grey = wb.add_format({"bg_color": "#DDDDDD"})
    for r in range(12_000):
        ws.set_row(r, None, grey)
    ws.write_row(12_000, 0, HEADERS)
    wb.close()
    assert head_cells(path, "数据", 10) == []
