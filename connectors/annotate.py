"""The agency's own workbook, returned with every problem cell filled light red and commented in Chinese.

For an xlsx upload the copy keeps everything the agency made (sheets, formats, drop-downs); for a CSV upload an xlsx
is built with the same rows at the same row numbers, every value as text. A 错误汇总 sheet lists every problem
(row, column, value, problem, expected); the reader skips that sheet, so a corrected copy can be uploaded as it is.
Problems are placed by field (via the header row), by the header text as delivered, or by column letter; a problem
with a row but no column marks the whole row; one with neither is listed in the summary only.
"""

from __future__ import annotations

import csv
import io
import re
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from govhub.catalog.model import Resource
from govhub.connectors.encoding import decode_text
from govhub.connectors.headers import match_headers, normalise_header
from govhub.problems import Problem

SUMMARY_SHEET = "错误汇总"
CELL_FILL = "FFC7CE"  # Excel's "light red fill"
ROW_FILL = "FFEB9C"  # light yellow: the whole row is concerned
_LETTERS = re.compile(r"^[A-Z]{1,3}$")
# what XML 1.0 cannot carry (openpyxl's ILLEGAL_CHARACTERS)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_SUMMARY_HEADERS = ["行号", "列", "值", "问题", "应为", "代码"]


def annotate_workbook(
    src: Path, problems: list[Problem], dest: Path, *, resource: Resource | None = None
) -> Path:
    """Write `dest` (.xlsx): the uploaded `src` with each problem cell filled and commented, plus 错误汇总."""
    src, dest = Path(src), Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    with src.open("rb") as fh:
        is_xlsx = fh.read(4) == b"PK\x03\x04"
    if is_xlsx:
        return _annotate_xlsx(src, problems, dest, resource)
    return _annotate_csv(src, problems, dest, resource)


def _header_row(resource: Resource | None) -> int:
    return resource.delivery.sheet.header_row if resource and resource.delivery.sheet else 1


def _column_index(headers: Sequence[object], resource: Resource | None) -> dict[str, int]:
    """Keys a problem may name its column by → 0-based column: field names, headers as written, normalised."""
    index: dict[str, int] = {}
    for i, h in enumerate(headers):
        if h not in (None, ""):
            index.setdefault(str(h).strip(), i)
            index.setdefault(normalise_header(h), i)
    if resource is not None:
        for name, i in match_headers(resource, headers).columns.items():
            index[f"field:{name}"] = i
            index.setdefault(normalise_header(resource.field(name).label), i)
    return index


def _locate(p: Problem, index: dict[str, int]) -> int | None:
    if p.field and f"field:{p.field}" in index:
        return index[f"field:{p.field}"]
    if p.column:
        for key in (p.column.strip(), normalise_header(p.column)):
            if key in index:
                return index[key]
        if _LETTERS.match(p.column):
            from openpyxl.utils import column_index_from_string

            return column_index_from_string(p.column) - 1
    return None


def _note(problems: list[Problem]) -> str:
    lines = []
    for p in problems:
        line = p.message_zh + (f"（应为：{p.expected}）" if p.expected else "")
        if line not in lines:
            lines.append(line)
    return _printable("\n".join(lines))


def _marks(
    problems: list[Problem], index: dict[str, int]
) -> tuple[dict[tuple[int, int], list[Problem]], dict[int, list[Problem]]]:
    """Problems by (row, 0-based column) and by row alone (no locatable column)."""
    cells: dict[tuple[int, int], list[Problem]] = defaultdict(list)
    rows: dict[int, list[Problem]] = defaultdict(list)
    for p in problems:
        if p.row is None:
            continue
        col = _locate(p, index)
        if col is None:
            rows[p.row].append(p)
        else:
            cells[(p.row, col)].append(p)
    return cells, rows


def _summary_rows(problems: list[Problem]) -> list[list[Any]]:
    ordered = sorted(problems, key=lambda p: (p.row is not None, p.row or 0, p.column or ""))
    rows = [[p.row, p.column, p.value, p.message_zh, p.expected, p.code] for p in ordered]
    return [[_printable(v) if isinstance(v, str) else v for v in row] for row in rows]


def _printable(text: str) -> str:
    """Text an xlsx cell or comment may hold: control characters (an agency's value may carry any) made visible
    as "�" — openpyxl refuses them, and they are no part of what the agency meant."""
    return _CONTROL.sub("\ufffd", text)


# ---------------------------------------------------------------- xlsx: a copy of the agency's workbook


def _annotate_xlsx(src: Path, problems: list[Problem], dest: Path, resource: Resource | None) -> Path:
    import openpyxl
    from openpyxl.comments import Comment
    from openpyxl.styles import Font, PatternFill

    from govhub.connectors.sheet import INSTRUCTION_SHEETS

    wb = openpyxl.load_workbook(src)
    ws = _data_sheet(wb, resource, INSTRUCTION_SHEETS)
    header_row = _header_row(resource)
    headers = [c.value for c in ws[header_row]] if ws.max_row >= header_row else []
    cells, rows = _marks(problems, _column_index(headers, resource))
    cell_fill = PatternFill("solid", fgColor=CELL_FILL)
    row_fill = PatternFill("solid", fgColor=ROW_FILL)
    width = max(len(headers), 1)
    for row, found in rows.items():
        for col in range(1, width + 1):
            ws.cell(row, col).fill = row_fill
        _comment(ws.cell(row, 1), _note(found), Comment)
    for (row, col), found in cells.items():
        cell = ws.cell(row, col + 1)
        cell.fill = cell_fill
        _comment(cell, _note(found), Comment)
    if SUMMARY_SHEET in wb.sheetnames:
        del wb[SUMMARY_SHEET]  # a re-annotated copy: the old summary is stale
    summary = wb.create_sheet(SUMMARY_SHEET, 0)
    summary.append(_SUMMARY_HEADERS)
    for cell in summary[1]:
        cell.font = Font(bold=True)
    for r, line in enumerate(_summary_rows(problems), start=2):
        for c, value in enumerate(line, start=1):
            cell = summary.cell(r, c, value)
            cell.data_type = "n" if isinstance(value, int) else "s"  # a value like "=D2+1" stays text
    summary.freeze_panes = "A2"
    for letter, w in zip("ABCDEF", [8, 16, 24, 70, 30, 24], strict=True):
        summary.column_dimensions[letter].width = w
    wb.active = 0
    for sheet in wb.worksheets:
        sheet.sheet_view.tabSelected = sheet is summary
    wb.save(dest)
    return dest


def _comment(cell: Any, text: str, comment_cls: Any) -> None:
    if cell.comment is not None and text not in cell.comment.text:
        text = f"{text}\n——\n{cell.comment.text}"
    comment = comment_cls(text, "govhub")
    comment.width, comment.height = 320, 120
    cell.comment = comment


def _data_sheet(wb: Any, resource: Resource | None, skip: set[str]) -> Any:
    wanted = resource.delivery.sheet.sheet_name if resource and resource.delivery.sheet else None
    if wanted:
        for ws in wb.worksheets:
            if ws.title.strip() == wanted.strip():
                return ws
    for ws in wb.worksheets:
        if ws.sheet_state == "visible" and ws.title.strip().lower() not in skip and "说明" not in ws.title:
            return ws
    return wb.worksheets[0]


# ---------------------------------------------------------------- csv: an xlsx with the same rows


def _annotate_csv(src: Path, problems: list[Problem], dest: Path, resource: Resource | None) -> Path:
    import xlsxwriter

    declared = resource.delivery.sheet.encoding if resource and resource.delivery.sheet else "auto"
    records = list(csv.reader(io.StringIO(decode_text(src.read_bytes(), declared), newline="")))
    header_row = _header_row(resource)
    headers = records[header_row - 1] if len(records) >= header_row else []
    cells, rows = _marks(problems, _column_index(headers, resource))
    wb = xlsxwriter.Workbook(str(dest))
    try:
        summary = wb.add_worksheet(SUMMARY_SHEET)
        data = wb.add_worksheet(src.stem[:31] or "数据")
        text = wb.add_format({"num_format": "@"})
        bad = wb.add_format({"num_format": "@", "bg_color": f"#{CELL_FILL}"})
        row_bad = wb.add_format({"num_format": "@", "bg_color": f"#{ROW_FILL}"})
        bold = wb.add_format({"bold": True})
        data.set_column(0, max(len(headers), 1) - 1, 16, text)
        for r, record in enumerate(records, start=1):
            fmt = row_bad if r in rows else text
            for c, value in enumerate(record):
                data.write_string(r - 1, c, value, bad if (r, c) in cells else fmt)
        for (r, c), found in cells.items():
            data.write_comment(r - 1, c, _note(found), {"author": "govhub", "x_scale": 2, "y_scale": 2})
        for r, found in rows.items():
            data.write_comment(r - 1, 0, _note(found), {"author": "govhub", "x_scale": 2, "y_scale": 2})
        data.freeze_panes(header_row, 0)
        summary.write_row(0, 0, _SUMMARY_HEADERS, bold)
        for i, line in enumerate(_summary_rows(problems), start=1):
            for c, value in enumerate(line):
                if isinstance(value, int):
                    summary.write_number(i, c, value)
                elif value is not None:
                    summary.write_string(i, c, str(value))  # never a formula, whatever the agency typed
        summary.set_column(0, 0, 8)
        summary.set_column(1, 2, 20)
        summary.set_column(3, 3, 70)
        summary.set_column(4, 5, 26)
        summary.freeze_panes(1, 0)
        summary.activate()
    finally:
        wb.close()
    return dest
