"""The workbook guard's quick search: an ordinary workbook is cleared by one scan, an odd reference is measured."""

import zipfile
from pathlib import Path

import xlsxwriter

from govhub.connectors.workbook_guard import sheet_reach


def _workbook(tmp_path: Path, rows: int) -> zipfile.ZipFile:
    """A workbook as Excel writes one (xlsxwriter's output follows Excel's, namespaces included)."""
    book = xlsxwriter.Workbook(str(tmp_path / "book.xlsx"))
    sheet = book.add_worksheet()
    sheet.write_row(0, 0, ["身份证号", "姓名"])
    for i in range(rows):
        sheet.write_row(i + 1, 0, [f"31011719900101{i:04d}", f"人员{i}"])
    book.close()
    return zipfile.ZipFile(tmp_path / "book.xlsx")


def test_an_ordinary_workbook_is_cleared_without_measuring_it(tmp_path: Path) -> None:
    """Excel declares `xmlns:r="http://…"` in every sheet: that address is no cell reference, so
    the sheet is cleared by the quick search — (0, 0) — instead of being measured reference by reference."""
    with _workbook(tmp_path, 200) as book:
        assert b'xmlns:r="http://' in book.read("xl/worksheets/sheet1.xml")
        assert sheet_reach(book, "xl/worksheets/sheet1.xml") == (0, 0)


def test_a_reference_spelled_like_an_address_is_measured(tmp_path: Path) -> None:
    """Column letters that begin "http" are a column calamine reads (HTTP = 154,664), not an address."""
    with _workbook(tmp_path, 2) as book:
        xml = book.read("xl/worksheets/sheet1.xml").replace(
            b"</sheetData>", b'<row r="9"><c r="http9" t="inlineStr"><is><t>x</t></is></c></row></sheetData>'
        )
    path = tmp_path / "odd.xlsx"
    with zipfile.ZipFile(path, "w") as odd:
        odd.writestr("xl/worksheets/sheet1.xml", xml)
    with zipfile.ZipFile(path) as odd:
        assert sheet_reach(odd, "xl/worksheets/sheet1.xml") == (9, 154_664)
