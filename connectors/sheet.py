"""Fill-in sheets (填报表格): an agency's xlsx or csv delivery as Arrow data in the catalog's schema.

Whole-file problems (wrong type, broken or encrypted workbook, encoding, header row, merged cells, formulas without
values, ragged rows, an outdated template) raise `GovhubError` with `sheet.*` problems in Chinese. Per-cell type
problems stay in `Extract.problems`: the row is kept with NULL in the bad cell and the load quarantines it.
`__row__` is the row number Excel shows (header on row 1 → first data row 2).

xlsx is read with python-calamine (typed cells, fast); the zip's XML is looked at directly only for what calamine
does not tell: formulas. CSV is decoded as a whole (see `encoding`) and parsed by pyarrow with every column as text.
A file with a header and no data rows is rejected (`sheet.no_rows`) unless the caller allows it (a declared zero
update), because an empty delivery would otherwise replace the published data with nothing.
"""

from __future__ import annotations

import datetime as dt
import re
import zipfile
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from govhub.catalog.arrow import arrow_schema, row_numbers
from govhub.catalog.model import CatalogField, FieldType, Resource
from govhub.connectors.base import Extract
from govhub.connectors.coerce import coerce_column, coerce_table
from govhub.connectors.encoding import GB18030, UTF8_SIG, decode_error, decode_gb18030_column, detect_encoding
from govhub.connectors.headers import HeaderMatch, column_letter, match_headers, match_score, shown
from govhub.connectors.template import META_SHEET, parse_meta, template_changes
from govhub.connectors.workbook_guard import check_workbook
from govhub.connectors.xlsx_plain import SheetScan, head_cells, read_plain_sheet, scan_sheet
from govhub.problems import GovhubError, Problem

MAX_COLUMNS = 500
# Excel's own limit for one cell; a longer value is no fill-in (and would be copied into every report and export)
MAX_CELL_CHARS = 32_767
HEADER_SEARCH_ROWS = 10  # where to look for a header that is not on its row
MAX_LISTED = 20  # cells listed in one message
INSTRUCTION_SHEETS = {
    "说明",
    "填写说明",
    "填报说明",
    "instructions",
    "readme",
    "错误汇总",
    META_SHEET.lower(),
}
_XLSX = {"xlsx", "xlsm"}


@dataclass
class Grid:
    """A sheet as found: its header cells and the data columns under them, before typing."""

    headers: list[object]
    columns: list[Sequence[Any] | pa.Array]  # one per header cell, data rows only
    n_rows: int
    header_row: int  # as Excel numbers it
    warnings: list[Problem] = field(default_factory=list)
    cells_as_text: bool = False  # an xlsx read through the plain-sheet path (xlsx_plain)


def read_sheet(
    resource: Resource,
    path: Path,
    *,
    filename: str | None = None,
    allow_empty: bool = False,
    template: dict[str, Any] | None = None,
) -> Extract:
    """Read an uploaded xlsx/csv for `resource`; `filename` is the name the agency uploaded (for its extension).

    `allow_empty` accepts a file with headers and no rows (a declared zero update) instead of rejecting it.
    `template` is the template version a sheet without a `_govhub` sheet (a CSV) is known to come from: an outdated
    one is told what changed, as an xlsx template is from its own record.
    """
    path = Path(path)
    name = shown_name(filename or path.name)
    ext = PurePosixPath(name).suffix.lower().lstrip(".")
    kind = _check_file(resource, path, name, ext)
    grid = _read_xlsx(resource, path, name) if kind == "xlsx" else _read_csv(resource, path, name)
    if template is not None and kind == "csv":
        grid.warnings = template_problems(resource, template) + grid.warnings
    match = match_headers(
        resource, grid.headers, row=grid.header_row, column_has_data=_blank_header_has_data(grid)
    )
    if grid.cells_as_text and _dates_in_other_fields(resource, grid, match):
        grid = _read_xlsx(resource, path, name, typed=True)
        match = match_headers(
            resource, grid.headers, row=grid.header_row, column_has_data=_blank_header_has_data(grid)
        )
    if not match.blocking:
        grid.warnings = [
            _outdated_but_readable(p) if p.code == "sheet.outdated_template" else p for p in grid.warnings
        ]
    blocking = [*(p for p in grid.warnings if p.blocking), *match.blocking]
    if blocking:
        raise GovhubError(blocking)
    if grid.n_rows == 0 and not allow_empty:
        raise GovhubError(_no_rows(name, grid.header_row))
    batch, problems = _typed(resource, grid, match)
    _check_cell_lengths(resource, batch, grid, match)
    problems += _control_characters(resource, batch, match)
    batch, skipped = _without_blank_rows(batch)
    if skipped is not None:
        grid.warnings.append(skipped)
    warnings = [p for p in (*grid.warnings, *match.problems) if not p.blocking]
    return Extract(batches=iter([batch]), mode="full", problems=[*warnings, *problems], source=name)


def head_rows(path: Path, filename: str | None = None) -> list[list[object]]:
    """The first rows of a sheet as cells ([] when it cannot be read): enough to tell which resource its header
    row names. A CSV's first 64 KB are decoded (UTF-8, else GB18030); an xlsx's first visible data sheet is read."""
    ext = PurePosixPath(filename or path.name).suffix.lower().lstrip(".")
    if ext in _XLSX:
        import python_calamine as calamine

        try:
            check_workbook(path, path.name)  # before calamine holds anything (see workbook_guard)
            with calamine.CalamineWorkbook.from_path(str(path)) as wb:
                visible = [
                    m.name for m in wb.sheets_metadata if m.visible == calamine.SheetVisibleEnum.Visible
                ]
                names = [
                    n for n in visible if n.strip().lower() not in INSTRUCTION_SHEETS and "说明" not in n
                ]
                if not names:
                    return []
                streamed = head_cells(path, names[0], HEADER_SEARCH_ROWS)
                if streamed is not None:
                    return streamed
                return [list(r) for r in wb.get_sheet_by_name(names[0]).to_python(nrows=HEADER_SEARCH_ROWS)]
        except (calamine.CalamineError, OSError, ValueError, GovhubError):
            return []
    if ext != "csv":
        return []
    import csv
    import io

    with path.open("rb") as fh:
        data = fh.read(64 << 10)
    data = data[: data.rfind(b"\n") + 1] or data  # whole lines only: no character cut in two
    for codec in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(codec)
        except UnicodeDecodeError:
            continue
        return [list(r) for r in csv.reader(io.StringIO(text, newline=""))][:HEADER_SEARCH_ROWS]
    return []


# ---------------------------------------------------------------- file type


def _problem(code: str, message: str, **kw: Any) -> GovhubError:
    return GovhubError(Problem(code=code, message_zh=message, **kw))


def _check_file(resource: Resource, path: Path, name: str, ext: str) -> str:
    """'xlsx' or 'csv' after checking extension, content and the formats the catalog accepts."""
    allowed = resource.delivery.sheet.formats if resource.delivery.sheet else ["xlsx", "csv"]
    accepted = "、".join(f".{f}" for f in allowed)
    if not path.exists():
        raise _problem("sheet.empty_file", f"找不到上传的文件「{name}」", value=name)
    if path.stat().st_size == 0:
        raise _problem("sheet.empty_file", f"文件「{name}」是空文件（0字节），请重新上传", value=name)
    with path.open("rb") as fh:
        head = fh.read(8)
    is_zip, is_ole = head.startswith(b"PK\x03\x04"), head.startswith(b"\xd0\xcf\x11\xe0")
    if is_ole:
        if _is_encrypted(path):
            raise _problem(
                "sheet.encrypted",
                f"文件「{name}」设置了打开密码（已加密），系统无法读取；请在Excel中取消密码（文件→信息→保护工作簿→"
                "用密码进行加密，清空密码）后另存为.xlsx再上传",
                value=name,
            )
        raise _problem(
            "sheet.wrong_type",
            f"文件「{name}」是旧版Excel（.xls）格式；请在Excel中「另存为」Excel工作簿（.xlsx）后上传",
            value=name,
            expected=accepted,
        )
    if ext in _XLSX and "xlsx" in allowed:
        if not is_zip:
            looks_csv = b"," in head or _looks_like_text(path)
            hint = (
                "文件内容像是CSV文本，请将扩展名改为.csv，或用Excel另存为.xlsx"
                if looks_csv
                else "文件不是Excel工作簿"
            )
            raise _problem(
                "sheet.not_xlsx", f"「{name}」无法作为xlsx读取：{hint}", value=name, expected=".xlsx工作簿"
            )
        check_workbook(path, name)
        return "xlsx"
    if ext == "csv" and "csv" in allowed:
        if is_zip:
            raise _problem(
                "sheet.wrong_type",
                f"文件「{name}」的扩展名是.csv，但内容是Excel工作簿（xlsx）；请将扩展名改回.xlsx，"
                "或在Excel中「另存为」CSV UTF-8（逗号分隔）",
                value=name,
                expected="CSV文本",
            )
        return "csv"
    raise _problem(
        "sheet.wrong_type",
        f"不支持的文件类型「.{ext or '（无扩展名）'}」（文件「{name}」）{_really(path, is_zip)}；本资源接受{accepted}文件",
        value=name,
        expected=accepted,
    )


def _really(path: Path, is_zip: bool) -> str:
    """What a file of an unsupported type really holds, when it says (many systems export '.xls' that is not)."""
    if is_zip:
        return "：其内容是Excel工作簿（xlsx），请将扩展名改为.xlsx后上传"
    with path.open("rb") as fh:
        head = fh.read(4096).lower()
    if b"urn:schemas-microsoft-com:office:spreadsheet" in head and b"<workbook" in head:
        return "：其内容是「XML电子表格2003」；请用Excel打开后「另存为」Excel工作簿（.xlsx）"
    if b"<html" in head or b"<table" in head or b"<!doctype html" in head:
        return "：其内容是网页（HTML）表格，并非Excel工作簿；请用Excel打开后「另存为」Excel工作簿（.xlsx）"
    if b"\x00" not in head:
        return "：其内容是文本（如CSV）；如是逗号分隔的表格，请将扩展名改为.csv，或用Excel另存为.xlsx"
    return ""


def _is_encrypted(path: Path) -> bool:
    """An encrypted Office file is an OLE container holding an 'EncryptionInfo' stream (named in UTF-16)."""
    return "EncryptionInfo".encode("utf-16-le") in path.read_bytes()


def _looks_like_text(path: Path) -> bool:
    with path.open("rb") as fh:
        return b"\x00" not in fh.read(4096)


def _no_rows(name: str, header_row: int) -> Problem:
    return Problem(
        code="sheet.no_rows",
        message_zh=(
            f"文件「{name}」只有表头（第{header_row}行），没有数据行。如果本期数据没有变化，请提交「零更新」说明，"
            "不要上传空表；否则请填写数据后重新上传"
        ),
        row=header_row + 1,
        expected="至少一行数据",
    )


# ---------------------------------------------------------------- xlsx


def _dates_in_other_fields(resource: Resource, grid: Grid, match: HeaderMatch) -> bool:
    """Whether a column read as text holds what fastexcel makes of a date cell ("2024-01-05 00:00:00") under a
    field that is not a date: the typed reader gives such a cell as the date the agency sees."""
    for name, idx in match.columns.items():
        col = grid.columns[idx] if idx < len(grid.columns) else None
        if resource.field(name).type in (FieldType.DATE, FieldType.DATETIME) or not isinstance(col, pa.Array):
            continue
        if pc.any(pc.match_substring_regex(col, r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")).as_py():
            return True
    return False


def _read_xlsx(resource: Resource, path: Path, name: str, *, typed: bool = False) -> Grid:
    """The sheet's cells: through the plain-sheet path when the sheet is plain (`xlsx_plain`), else typed by
    calamine (`typed=True` forces it). `name` is the file's name as uploaded (`path` is where it was landed)."""
    import python_calamine as calamine

    try:
        wb = calamine.CalamineWorkbook.from_path(str(path))
    except calamine.PasswordError:
        raise _problem(
            "sheet.encrypted", f"工作簿「{name}」设置了密码，系统无法读取；请取消密码后重新上传"
        ) from None
    except (calamine.CalamineError, OSError, ValueError) as exc:
        raise _problem(
            "sheet.not_xlsx",
            f"「{name}」不是有效的xlsx工作簿或文件已损坏（{_calamine_reason(exc)}）；请用Excel打开并重新保存为.xlsx后上传",
            value=name,
        ) from None
    header_row = _header_row_setting(resource)
    with wb, ThreadPoolExecutor(max_workers=1) as pool:
        sheet_name = _choose_sheet(resource, wb)
        warnings = _template_check(resource, wb)
        # fastexcel and calamine release the GIL while they parse: the sheet's XML is scanned meanwhile
        scanning = pool.submit(scan_sheet, path, sheet_name)
        plain = None if typed else read_plain_sheet(path, sheet_name)
        scan = scanning.result()
        if plain is not None and scan.plain:
            grid = _grid_from_table(resource, plain, name, warnings)
            grid.cells_as_text = True
            return grid
        formulas = pool.submit(_formula_problems, path, sheet_name, scan, header_row)
        try:
            sheet = wb.get_sheet_by_name(sheet_name)
            cells = sheet.to_python(skip_empty_area=False)
            merged = sheet.merged_cell_ranges or []
        except calamine.CalamineError as exc:
            raise _problem(
                "sheet.not_xlsx",
                f"「{name}」的工作表「{sheet_name}」无法读取（{_calamine_reason(exc)}）；请用Excel打开并重新保存后上传",
            ) from None
        grid = _grid_from_cells(resource, cells, header_row, sheet_name)
        grid.warnings = warnings + _merged_problems(merged, header_row, sheet_name) + grid.warnings
        grid.warnings += formulas.result()
    return grid


def _calamine_reason(exc: BaseException) -> str:
    """What calamine's error class says, in Chinese (its own text is English and names internal types)."""
    kind = type(exc).__name__
    if "NotFound" in kind:
        return "工作簿中缺少该工作表的内容"
    if "Xml" in kind:
        return "工作表的XML内容不完整或格式错误"
    if "Zip" in kind:
        return "压缩结构损坏"
    return "文件内容无法解析"


def shown_name(name: str) -> str:
    """The uploaded file's name as messages show it (`headers.shown`)."""
    return shown(name)


def _header_row_setting(resource: Resource) -> int:
    return resource.delivery.sheet.header_row if resource.delivery.sheet else 1


def _choose_sheet(resource: Resource, wb: Any) -> str:
    wanted = resource.delivery.sheet.sheet_name if resource.delivery.sheet else None
    names = list(wb.sheet_names)
    if wanted:
        for n in names:
            if n.strip() == wanted.strip():
                return n
        raise _problem(
            "sheet.no_sheet",
            f"工作簿中没有名为「{wanted}」的工作表（现有：{'、'.join(names)}）；请使用模板中的工作表填写",
            value="、".join(names),
            expected=wanted,
        )
    import python_calamine as calamine

    visible = [m.name for m in wb.sheets_metadata if m.visible == calamine.SheetVisibleEnum.Visible]
    for n in visible:
        if n.strip().lower() not in INSTRUCTION_SHEETS and "说明" not in n:
            return n
    found = (
        f"（现有：{'、'.join(names)}，均为隐藏或说明表）"
        if names
        else "（工作簿中一个工作表也没有，可能已损坏）"
    )
    raise _problem("sheet.no_sheet", f"工作簿中没有可读取的数据工作表{found}")


def _template_check(resource: Resource, wb: Any) -> list[Problem]:
    """Compare the catalog version a template was made from with the current one."""
    if META_SHEET not in wb.sheet_names:
        return []
    meta = parse_meta(wb.get_sheet_by_name(META_SHEET).to_python(nrows=1))
    return template_problems(resource, meta) if meta is not None else []


def template_problems(resource: Resource, meta: dict[str, Any]) -> list[Problem]:
    """What to tell about a sheet made from the template version `meta`: another resource's template, or an
    outdated one with exactly what changed (blocking; `read_sheet` lets it pass when the headers still fit)."""
    if meta.get("code") != resource.code:
        return [
            Problem(
                code="sheet.wrong_template",
                message_zh=(
                    f"该文件是资源「{meta.get('code')}」的模板，不是本资源「{resource.name}」（{resource.code}）的；"
                    "请下载本资源的模板填写"
                ),
                value=str(meta.get("code")),
                expected=resource.code,
            )
        ]
    changes = template_changes(meta, resource)
    if not changes:
        return []
    return [
        Problem(
            code="sheet.outdated_template",
            message_zh=(
                f"该文件使用的是旧版模板（版本{meta.get('fingerprint')}，{meta.get('made_on', '')}生成），"
                f"目录已变更：{'；'.join(changes)}。请下载最新模板（版本{resource.fingerprint}）重新填写"
            ),
            value=str(meta.get("fingerprint")),
            expected=resource.fingerprint,
        )
    ]


def _outdated_but_readable(problem: Problem) -> Problem:
    """An outdated template whose header row still fits the catalog: loaded, with a warning for next time."""
    text = problem.message_zh.replace("请下载最新模板", "本次已按最新目录读取；下次请下载最新模板").replace(
        "重新填写", "填写"
    )
    return replace(problem, message_zh=text, blocking=False)


def _is_blank(value: object) -> bool:
    return value is None or value == ""


def _grid_from_cells(resource: Resource, cells: list[list[Any]], header_row: int, sheet_name: str) -> Grid:
    while cells and all(_is_blank(v) for v in cells[-1]):
        cells.pop()  # trailing empty rows (formatted but never filled)
    if not cells:
        raise _problem("sheet.empty_sheet", f"工作表「{sheet_name}」是空的，没有表头也没有数据")
    header_row = _located_header_row(resource, cells, header_row)
    headers = list(cells[header_row - 1]) if len(cells) >= header_row else []
    data = cells[header_row:]
    width = max((len(r) for r in cells[header_row - 1 :]), default=0)
    if any(len(r) != width for r in data):  # calamine's grid is rectangular; pad anything else
        data = [r + [""] * (width - len(r)) for r in data]
    headers += [""] * (width - len(headers))
    # columns as views of one object matrix: 4x cheaper than zip(*data), and pyarrow reads them 5x faster
    columns: list[Any] = list(np.array(data, dtype=object).T) if data else [() for _ in headers]
    headers, columns = _trim_blank_columns(headers, columns)
    _check_width(len(headers), sheet_name)
    headers = [_header_cell(h) for h in headers]
    return Grid(headers=headers, columns=columns, n_rows=len(data), header_row=header_row)


def _header_cell(value: object) -> object:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return value


def _trim_blank_columns(headers: list[object], columns: list[Any]) -> tuple[list[object], list[Any]]:
    def blank(i: int) -> bool:
        col = columns[i]
        if not _is_blank(headers[i]):
            return False
        if isinstance(col, pa.Array):
            return not pc.any(pc.not_equal(col, "")).as_py()
        return all(_is_blank(v) for v in col)

    n = len(headers)
    while n and blank(n - 1):
        n -= 1
    return headers[:n], columns[:n]


def _check_width(n: int, where: str) -> None:
    if n > MAX_COLUMNS:
        raise _problem(
            "sheet.too_many_columns",
            f"「{where}」有{n}列，超过上限{MAX_COLUMNS}列；请只保留模板中的列",
            value=str(n),
            expected=f"不超过{MAX_COLUMNS}列",
        )


def _located_header_row(resource: Resource, rows: Sequence[Sequence[Any]], expected: int) -> int:
    """`expected`, unless the header is plainly on another of the first rows (then a `sheet.header_row` error)."""
    found = match_score(resource, rows[expected - 1]) if len(rows) >= expected else 0
    scores = [match_score(resource, r) for r in rows[:HEADER_SEARCH_ROWS]]
    best = max(range(len(scores)), key=lambda i: scores[i], default=0)
    if scores and scores[best] > found and scores[best] >= max(1, (len(resource.fields) + 1) // 2):
        actual = best + 1
        fix = (
            f"请删除表头上方的{actual - expected}行（如标题行、空行）"
            if actual > expected
            else f"表头上方应有{expected - 1}行（与模板一致）"
        )
        raise _problem(
            "sheet.header_row",
            f"表头应在第{expected}行，但在第{actual}行找到；{fix}",
            row=actual,
            value=f"第{actual}行",
            expected=f"第{expected}行",
        )
    return expected


def _merged_problems(
    merged: list[tuple[tuple[int, int], tuple[int, int]]], header_row: int, sheet: str
) -> list[Problem]:
    header_idx = header_row - 1
    in_header, in_data = [], []
    for (r0, c0), (r1, c1) in merged:
        ref = f"{column_letter(c0)}{r0 + 1}:{column_letter(c1)}{r1 + 1}"
        if r0 <= header_idx <= r1:
            in_header.append((ref, r0, c0))
        elif r1 > header_idx:
            in_data.append((ref, r0, c0))
    problems = []
    if in_header:
        refs = "、".join(r for r, _, _ in in_header[:MAX_LISTED])
        problems.append(
            Problem(
                code="sheet.merged_header",
                message_zh=f"工作表「{sheet}」的表头有合并单元格（{refs}）；请取消合并，每列一个表头",
                row=in_header[0][1] + 1,
                column=column_letter(in_header[0][2]),
                value=refs,
                expected="每列一个独立的表头单元格",
            )
        )
    if in_data:
        refs = "、".join(r for r, _, _ in in_data[:MAX_LISTED])
        problems.append(
            Problem(
                code="sheet.merged_cells",
                message_zh=(
                    f"工作表「{sheet}」的数据区有{len(in_data)}处合并单元格（{refs}）；合并后只有第一个单元格有值，"
                    "请取消合并并在每一行填写完整的值"
                ),
                row=in_data[0][1] + 1,
                column=column_letter(in_data[0][2]),
                value=refs,
                expected="不含合并单元格的数据",
            )
        )
    return problems


# ---------------------------------------------------------------- formulas (calamine returns cached values only)

_CELL = re.compile(rb'<c r="([A-Z]+)(\d+)"([^>]*?)(?:/>|>(.*?)</c>)', re.S)
_VALUE = re.compile(rb"<v>([^<]*)</v>|<is>", re.S)


def _formula_problems(path: Path, sheet_name: str, scan: SheetScan, header_row: int) -> list[Problem]:
    """Formula cells under the header: blocking when they carry no computed value, else a warning."""
    if not scan.has_formula or scan.part is None:
        return []
    empty, computed = [], []
    for m in _cells(path, scan.part):
        inner = m.group(4) or b""
        if b"<f" not in inner or int(m.group(2)) <= header_row:
            continue
        ref = (m.group(1) + m.group(2)).decode()
        value = _VALUE.search(inner)
        (computed if value and (value.group(0) == b"<is>" or value.group(1)) else empty).append((ref, m))
    problems = []
    if empty:
        refs = "、".join(r for r, _ in empty[:MAX_LISTED]) + ("等" if len(empty) > MAX_LISTED else "")
        first = empty[0][1]
        problems.append(
            Problem(
                code="sheet.formula",
                message_zh=(
                    f"工作表「{sheet_name}」有{len(empty)}个公式单元格没有计算结果（{refs}），系统无法得到其值；"
                    "请在Excel中打开并保存，或将公式转换为数值（复制→选择性粘贴→数值）后重新上传"
                ),
                row=int(first.group(2)),
                column=first.group(1).decode(),
                value=refs,
                expected="数值而不是公式",
            )
        )
    if computed:
        refs = "、".join(r for r, _ in computed[:MAX_LISTED]) + ("等" if len(computed) > MAX_LISTED else "")
        problems.append(
            Problem(
                code="sheet.formula",
                message_zh=f"工作表「{sheet_name}」有{len(computed)}个公式单元格（{refs}），已按Excel保存的计算结果导入",
                value=refs,
                blocking=False,
            )
        )
    return problems


def _cells(path: Path, part: str) -> Iterator[re.Match[bytes]]:
    """The sheet's `<c>` elements, streamed a row at a time (the XML is never held whole: it may be 1 GB)."""
    carry = b""
    with zipfile.ZipFile(path) as zf, zf.open(part) as fh:
        while chunk := fh.read(4 << 20):
            window = carry + chunk
            cut = window.rfind(b"</row>") + len(b"</row>")
            # no row ends here: keep at most a cell's worth, as no match can be longer
            if cut < len(b"</row>"):
                cut = max(0, len(window) - (MAX_CELL_CHARS * 4 + 4096))
            yield from _CELL.finditer(window, 0, cut)
            carry = window[cut:]
        yield from _CELL.finditer(carry)


# ---------------------------------------------------------------- csv


def _read_csv(resource: Resource, path: Path, name: str) -> Grid:
    data = path.read_bytes()
    declared = resource.delivery.sheet.encoding if resource.delivery.sheet else "auto"
    encoding = detect_encoding(data, declared)
    buffer = pa.py_buffer(data)
    if encoding == UTF8_SIG:
        buffer = buffer.slice(3)
    if encoding == GB18030:
        table = _gb18030_table(data, buffer)
        if table is not None:
            return _grid_from_table(resource, table, name)
    ragged: list[str] = []
    try:
        table = _parse_csv(
            data, buffer, pa.string(), ragged, encoding="gb18030" if encoding == GB18030 else "utf8"
        )
    except UnicodeDecodeError:
        raise decode_error(data, encoding, declared=declared) from None
    except pa.ArrowInvalid as exc:
        if "decode" in str(exc).lower() or "utf8" in str(exc).lower():
            raise decode_error(data, encoding, declared=declared) from None
        # a line past the 1 MB block
        if "straddl" in str(exc) or "cannot infer number of columns" in str(exc):
            raise GovhubError(_long_line_problem(data)) from None
        raise _problem(
            "sheet.not_csv",
            f"CSV文件「{name}」的格式无法解析；请用Excel打开后「另存为」CSV UTF-8（逗号分隔）再上传",
            value=name,
        ) from None
    if ragged:
        raise GovhubError(_ragged_problem(data, encoding, table.num_columns))
    return _grid_from_table(resource, table, name)


def _parse_csv(
    data: bytes, buffer: pa.Buffer, cell_type: pa.DataType, ragged: list[str] | None, *, encoding: str
) -> pa.Table:
    """`ragged` collects the rows with too many or too few cells; None: such a row is an error (pyarrow decodes a
    row's text as UTF-8 before it calls a handler, and prints a traceback when that fails on GB18030 bytes)."""
    import pyarrow.csv as pcsv

    def on_invalid_row(row: Any) -> str:
        ragged.append(row.text)  # type: ignore[union-attr]
        return "skip"

    return pcsv.read_csv(
        pa.BufferReader(buffer),
        read_options=pcsv.ReadOptions(autogenerate_column_names=True, encoding=encoding),
        parse_options=pcsv.ParseOptions(
            invalid_row_handler=on_invalid_row if ragged is not None else None,
            ignore_empty_lines=False,
            newlines_in_values=b'"' in data,  # quoted line breaks (Alt+Enter in Excel); costs ~40% when on
        ),
        convert_options=pcsv.ConvertOptions(
            column_types={f"f{i}": cell_type for i in range(MAX_COLUMNS + 1)}, strings_can_be_null=False
        ),
    )


def _gb18030_table(data: bytes, buffer: pa.Buffer) -> pa.Table | None:
    """A GB18030/GBK CSV split into fields as bytes and decoded a column at a time (`decode_gb18030_column`):
    ≈0.4 s less per 1M rows than decoding the whole file first. None when anything is off (a ragged row, a byte
    that does not decode): the decoding reader then runs and names the fault."""
    try:
        table = _parse_csv(data, buffer, pa.binary(), None, encoding="utf8")
    except (pa.ArrowException, UnicodeDecodeError, ValueError):  # the decoding reader reports it precisely
        return None
    if table.num_columns > MAX_COLUMNS:  # past the typed columns pyarrow infers null (fuzz_csv)
        return None
    columns = []
    for column in table.columns:
        decoded = decode_gb18030_column(column.combine_chunks(), HEADER_SEARCH_ROWS)
        if decoded is None:
            return None
        columns.append(decoded)
    return pa.table(columns, names=table.column_names)


def _grid_from_table(
    resource: Resource, table: pa.Table, name: str, warnings: list[Problem] | None = None
) -> Grid:
    _check_width(table.num_columns, name)  # first: columns past MAX_COLUMNS are not typed as text
    table = _drop_trailing_blank_rows(table)
    if table.num_rows == 0:
        raise _problem("sheet.empty_sheet", f"文件「{name}」没有内容（只有空行）")
    expected = _header_row_setting(resource)
    head = [list(r.values()) for r in table.slice(0, HEADER_SEARCH_ROWS).to_pylist()]
    header_row = _located_header_row(resource, head, expected)
    headers = list(head[header_row - 1]) if len(head) >= header_row else [""] * table.num_columns
    data = table.slice(header_row)
    columns: list[Any] = [data.column(i).combine_chunks() for i in range(data.num_columns)]
    headers, columns = _trim_blank_columns(headers, columns)
    return Grid(
        headers=headers, columns=columns, n_rows=data.num_rows, header_row=header_row, warnings=warnings or []
    )


def _drop_trailing_blank_rows(table: pa.Table) -> pa.Table:
    """Without rows at the end whose every cell is blank; looks at the tail only (the usual case costs nothing)."""
    end, step = table.num_rows, 256
    while end > 0 and table.num_columns:
        tail = table.slice(max(0, end - step), min(step, end))
        filled = None
        for col in tail.columns:
            nonblank = pc.not_equal(pc.utf8_trim_whitespace(col), "")
            filled = nonblank if filled is None else pc.or_(filled, nonblank)
        idx = pc.indices_nonzero(filled)
        if len(idx):
            return table.slice(0, max(0, end - step) + idx[-1].as_py() + 1)
        end, step = max(0, end - step), step * 4
    return table.slice(0, 0)


def _long_line_problem(data: bytes) -> Problem:
    """The longest line of a CSV (one over 1 MB: a cell longer than Excel allows, or a missing line break)."""
    ends = np.flatnonzero(np.frombuffer(data, dtype=np.uint8) == ord("\n"))
    bounds = np.concatenate(([-1], ends, [len(data)]))
    lengths = np.diff(bounds) - 1
    line = int(np.argmax(lengths))
    return Problem(
        code="sheet.cell_too_long",
        message_zh=(
            f"第{line + 1}行长达{int(lengths[line]):,}字节，超过了Excel单元格的上限（{MAX_CELL_CHARS:,}个字符）或缺少换行；"
            "请检查该行（例如未闭合的英文引号会把后面的内容都并入一个单元格）"
        ),
        row=line + 1,
        expected=f"每个单元格不超过{MAX_CELL_CHARS:,}个字符",
    )


def _ragged_problem(data: bytes, encoding: str, width: int) -> Problem:
    """Rows with more or fewer fields than the header, with the line numbers a text editor shows."""
    import csv
    import io

    text = data.decode("utf-8-sig" if encoding == UTF8_SIG else encoding, errors="replace")
    reader = csv.reader(io.StringIO(text, newline=""))
    bad: list[tuple[int, int]] = []
    start = 1
    for record in reader:
        if record and len(record) != width:
            bad.append((start, len(record)))
        start = reader.line_num + 1
    rows = "、".join(f"第{r}行（{n}列）" for r, n in bad[:MAX_LISTED]) + (
        "等" if len(bad) > MAX_LISTED else ""
    )
    return Problem(
        code="sheet.ragged_row",
        message_zh=(
            f"有{len(bad)}行的列数与表头（{width}列）不一致：{rows}；通常是值中含有英文逗号却没有加引号，"
            "请用Excel打开后另存为CSV，或把这些值中的逗号改为中文逗号"
        ),
        row=bad[0][0] if bad else None,
        value=str(bad[0][1]) if bad else None,
        expected=f"每行{width}列",
    )


# ---------------------------------------------------------------- typing


def _without_blank_rows(batch: pa.RecordBatch) -> tuple[pa.RecordBatch, Problem | None]:
    """The rows with something in them, and a warning naming the blank rows between them (skipped): 200k blank
    rows would otherwise be a million "required field empty" problems, and none of them the agency's data."""
    blank = None
    for name in batch.schema.names:
        if name == "__row__":
            continue
        col = batch.column(name)
        empty = pc.is_null(col)
        if pa.types.is_string(col.type):
            empty = pc.or_kleene(empty, pc.equal(pc.utf8_trim_whitespace(col), ""))
        blank = empty if blank is None else pc.and_kleene(blank, empty)
    if blank is None or not pc.any(blank).as_py():
        return batch, None
    rows = pc.filter(batch.column("__row__"), blank).to_numpy()
    breaks = np.flatnonzero(np.diff(rows) != 1)
    starts, ends = rows[np.r_[0, breaks + 1]], rows[np.r_[breaks, len(rows) - 1]]
    spans = [
        f"{a}" if a == b else f"{a}–{b}" for a, b in zip(starts[:MAX_LISTED], ends[:MAX_LISTED], strict=True)
    ]
    listed = "、".join(spans) + ("等" if len(starts) > MAX_LISTED else "")
    warning = Problem(
        code="sheet.blank_rows",
        message_zh=f"第{listed}行是空行（共{len(rows):,}行），已跳过；如这些行本应有数据，请补填后重新上传",
        row=int(rows[0]),
        value=f"{len(rows)}",
        blocking=False,
    )
    return batch.filter(pc.invert(blank)), warning


# C0 controls other than tab and line breaks, DEL, and the bidirectional overrides that make text read otherwise than
# it is stored: never typed by anyone, and a terminal escape would act on whoever prints the value
_CONTROL = "[\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f\\x{202a}-\\x{202e}\\x{2066}-\\x{2069}]"


def _control_characters(resource: Resource, batch: pa.RecordBatch, match: HeaderMatch) -> list[Problem]:
    """A problem per text cell holding a control character (the row is quarantined with the reason)."""
    found = []
    for name in match.columns:
        col = batch.column(name)
        if not pa.types.is_string(col.type):
            continue
        hits = pc.indices_nonzero(pc.fill_null(pc.match_substring_regex(col, _CONTROL), False))
        if not len(hits):
            continue
        f = resource.field(name)
        rows, values = batch.column("__row__").take(hits), col.take(hits)
        for row, value in zip(rows.to_pylist(), values.to_pylist(), strict=True):
            found.append(
                Problem(
                    code="sheet.control_character",
                    message_zh=f"第{row}行「{f.label}」含有不可见的控制字符（显示为�）；请删除后重新填写该单元格",
                    row=row,
                    column=f.label,
                    field=name,
                    value=shown(value)[:200],
                    expected="不含控制字符的文字",
                )
            )
    return found


def _check_cell_lengths(resource: Resource, batch: pa.RecordBatch, grid: Grid, match: HeaderMatch) -> None:
    """Refuse a text cell longer than Excel allows (`MAX_CELL_CHARS`), naming the first one; bytes are measured
    first, so a usual sheet costs one vectorised pass over its text columns."""
    for name, idx in match.columns.items():
        col = batch.column(name)
        if not pa.types.is_string(col.type) or len(col) == 0:
            continue
        if (pc.max(pc.binary_length(col)).as_py() or 0) <= MAX_CELL_CHARS:
            continue
        chars = pc.utf8_length(col)
        over = pc.indices_nonzero(pc.greater(chars, MAX_CELL_CHARS))
        if len(over):
            i = over[0].as_py()
            raise _problem(
                "sheet.cell_too_long",
                f"第{grid.header_row + 1 + i}行{column_letter(idx)}列「{resource.field(name).label}」的内容有"
                f"{chars[i].as_py():,}个字符，超过Excel单元格的上限{MAX_CELL_CHARS:,}个字符；请检查该单元格",
                row=grid.header_row + 1 + i,
                column=resource.field(name).label,
                expected=f"不超过{MAX_CELL_CHARS:,}个字符",
            )


def _blank_header_has_data(grid: Grid) -> list[bool]:
    flags = []
    for h, col in zip(grid.headers, grid.columns, strict=False):
        if not _is_blank(h) and str(h).strip():
            flags.append(True)
        elif isinstance(col, pa.Array):
            flags.append(bool(pc.any(pc.not_equal(pc.utf8_trim_whitespace(col), "")).as_py()))
        else:
            flags.append(any(not _is_blank(v) for v in col))
    flags += [False] * (len(grid.headers) - len(flags))
    return flags


def _typed(resource: Resource, grid: Grid, match: HeaderMatch) -> tuple[pa.RecordBatch, list[Problem]]:
    rows = row_numbers(grid.header_row + 1, grid.n_rows)
    arrays: dict[str, pa.Array] = {}
    problems: list[Problem] = []
    for name, idx in match.columns.items():
        col = grid.columns[idx] if idx < len(grid.columns) else [""] * grid.n_rows
        if isinstance(col, pa.Array):
            arrays[name] = col
        else:
            arrays[name], found = _cells_to_arrow(col, resource.field(name), rows, match.written[name])
            problems.extend(found)
    table = pa.table(arrays) if arrays else pa.table({"__empty__": pa.nulls(grid.n_rows)})
    batch, typed_problems = coerce_table(resource, table, rows, columns=match.written)
    # coerce_table marks __row__ nullable; the connector contract's schema says it is not
    return batch.cast(arrow_schema(resource, with_row=True)), problems + typed_problems


def _cell_text(value: object) -> str | None:
    if _is_blank(value):
        return None
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bool):
        return "是" if value else "否"
    return str(value)


def _is_number(value: object) -> bool:
    if isinstance(value, int) and not isinstance(value, bool):
        return -(2**53) <= value <= 2**53  # exact as a double; a longer integer stays text
    return isinstance(value, float)


def _cells_to_arrow(
    values: list[Any], f: CatalogField, rows: pa.Array, column: str
) -> tuple[pa.Array, list[Problem]]:
    """An xlsx column as Arrow; a column mixing numbers and text becomes text, keeping precision-loss reports."""
    # OverflowError: an integer past 64 bits (a crafted <v>, found by fuzz_xlsx) is kept as its text
    try:
        return pa.array(values), []
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
        pass
    values = [None if _is_blank(v) else v for v in values]
    try:
        return pa.array(values), []
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
        pass
    is_num = [_is_number(v) for v in values]
    numbers = pa.array([float(v) if n else None for v, n in zip(values, is_num, strict=True)], pa.float64())
    as_text_field = f.model_copy(update={"type": FieldType.STRING})
    number_text, found = coerce_column(numbers, as_text_field, rows, column=column)
    other = pa.array([None if n else _cell_text(v) for v, n in zip(values, is_num, strict=True)], pa.string())
    problems = found if f.type is FieldType.STRING else []
    return pc.coalesce(number_text, other), problems
