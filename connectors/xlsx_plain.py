"""The fast way through a *plain* xlsx sheet: every cell read as text by fastexcel straight into Arrow.

A plain sheet is what a filled-in template usually is: no formulas, no merged cells, no error cells and no number
whose text would not be exact (see `_CANDIDATE`; an ID number typed as a number is one). For such a sheet,
reading every cell as its text gives the rows the typed reader gives (proved in tests/connectors/test_xlsx_plain.py)
and costs ≈1.1 s per 200k rows where calamine's Python cells cost ≈2.5 s. One difference is caught after the
headers are matched (`sheet._dates_in_other_fields`): fastexcel writes a date cell as "2024-01-05 00:00:00", which
date fields read alike but a text field would keep verbatim. `scan_sheet` decides, streaming the sheet's XML (it runs in a thread while fastexcel, which releases
the GIL, parses); anything not plain goes the typed way (`sheet._read_xlsx`), which explains each of those cases.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree

import pyarrow as pa
import pyarrow.compute as pc

from govhub.connectors.workbook_guard import ZIP_ERRORS

_CHUNK = 4 << 20
_OVERLAP = 64  # longer than any pattern below, so a match split across two chunks is still seen
_FORMULA = (b"<f>", b"<f ")
_OTHER = (b"<mergeCell ", b't="e"')  # a merged range; an error cell (#DIV/0!…)
# Numbers to look at closely: an exponent, 10+ decimal places or 16+ significant digits as written. fastexcel writes
# a number's text with at most 9 decimals (1/3 → 0.333333333) and garbles 17 significant digits, so such a number
# reads exactly only when its shortest form is within those bounds (`_exact_as_text`): 9433.309999999999, as
# xlsxwriter writes 9433.31, is; 1/3 and an ID number typed as a number (its last digits lost) are not.
_CANDIDATE = re.compile(rb"<v>(-?(?:[^<]*[eE][^<]*|\d*\.\d{10,}|0*[1-9](?:\.?\d){15}[\d.]*))</v>")


@dataclass(frozen=True)
class SheetScan:
    part: str | None  # the zip member holding the sheet's cells
    has_formula: bool
    plain: bool


def sheet_part(zf: zipfile.ZipFile, sheet_name: str) -> str | None:
    """The zip member holding `sheet_name`'s cells, from workbook.xml and its relationships."""
    ns = {
        "m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
        "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
        "p": "http://schemas.openxmlformats.org/package/2006/relationships",
    }
    try:
        book = ElementTree.fromstring(zf.read("xl/workbook.xml"))
        rels = ElementTree.fromstring(zf.read("xl/_rels/workbook.xml.rels"))
    except (KeyError, ElementTree.ParseError, *ZIP_ERRORS):
        return None
    rid = next(
        (
            s.get(f"{{{ns['r']}}}id")
            for s in book.iterfind("m:sheets/m:sheet", ns)
            if s.get("name") == sheet_name
        ),
        None,
    )
    target = next((r.get("Target") for r in rels.iterfind("p:Relationship", ns) if r.get("Id") == rid), None)
    if not target:
        return None
    part = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
    return part if part in zf.namelist() else None


def scan_sheet(path: Path, sheet_name: str) -> SheetScan:
    """Whether the sheet has formulas and whether it is plain, streaming its XML (a 200k-row sheet is ≈120 MB)."""
    try:
        with zipfile.ZipFile(path) as zf:
            part = sheet_part(zf, sheet_name)
            if part is None:
                return SheetScan(None, has_formula=False, plain=False)
            has_formula, plain, tail = False, True, b""
            with zf.open(part) as fh:
                while chunk := fh.read(_CHUNK):
                    window = tail + chunk  # plain substring searches: ≈5x faster than one regex alternation
                    if any(p in window for p in _FORMULA):
                        has_formula, plain = True, False
                        break
                    if plain and any(p in window for p in _OTHER):
                        plain = False
                    if plain and not all(_exact_as_text(m.group(1)) for m in _CANDIDATE.finditer(window)):
                        plain = False
                    tail = window[-_OVERLAP:]
            return SheetScan(part, has_formula=has_formula, plain=plain)
    except ZIP_ERRORS:  # a damaged zip: the typed reader refuses it in its own words
        return SheetScan(None, has_formula=False, plain=False)


def _exact_as_text(number: bytes) -> bool:
    """Whether fastexcel's text of this number parses back to the same double (checked against calamine on 90k
    numbers of every kind: amounts, coordinates, random doubles, as xlsxwriter and openpyxl write them)."""
    try:
        shortest = repr(float(number))
    except ValueError:
        return False
    if "e" in shortest or "n" in shortest:  # exponent, inf, nan
        return False
    shortest = shortest.removesuffix(".0")
    significant = shortest.lstrip("-").replace(".", "").lstrip("0")
    return len(significant) <= 15 and len(shortest.partition(".")[2]) <= 9


def read_plain_sheet(path: Path, sheet_name: str) -> pa.Table | None:
    """Every cell of the sheet as text ("" when empty), from A1 on (leading empty rows and columns kept, so row and
    column numbers are the sheet's), columns named f0, f1, …; None when fastexcel cannot read it."""
    try:
        import fastexcel

        sheet = fastexcel.read_excel(str(path)).load_sheet(
            sheet_name, header_row=None, skip_rows=0, dtypes="string"
        )
        table = pa.Table.from_batches([sheet.to_arrow()])
        first = sheet.available_columns()[0].absolute_index if table.num_columns else 0
    except Exception:  # any failure: the typed reader runs and explains it
        return None
    if table.num_rows == 0 or table.num_columns == 0:
        return None
    columns = [pa.array([""] * table.num_rows, pa.string())] * first
    columns += [pc.fill_null(c.combine_chunks().cast(pa.string()), "") for c in table.columns]
    return pa.table(columns, names=[f"f{i}" for i in range(len(columns))])


_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_HEAD_SCAN_ROWS = (
    10_000  # row elements looked at for the first data rows (a sheet of styled empty rows stops here)
)


def head_cells(path: Path, sheet_name: str, nrows: int) -> list[list[object]] | None:
    """The first `nrows` rows of the sheet's used range, as calamine's `to_python(nrows=…)` gives them (leading empty
    rows and columns dropped, "" for an empty cell, numbers — dates too — as floats), streamed from the sheet's XML — calamine
    parses the whole sheet first (≈1.5 s for 200k rows) where this stops after the rows it needs. None when the
    workbook's parts are not where they should be (the caller then asks calamine)."""
    try:
        with zipfile.ZipFile(path) as zf:
            part = sheet_part(zf, sheet_name)
            if part is None:
                return None
            rows = _head_row_cells(zf, part, nrows)
            shared = _shared_strings(zf, rows)
    except (OSError, zipfile.BadZipFile, RuntimeError, EOFError, ValueError, ElementTree.ParseError):
        return None
    if not rows:
        return []
    first_row, first_col = min(rows), min(c for cells in rows.values() for c in cells)
    last_col = max(c for cells in rows.values() for c in cells)
    out: list[list[object]] = []
    for r in range(first_row, first_row + nrows):
        cells = rows.get(r, {})
        line: list[object] = []
        for c in range(first_col, last_col + 1):
            kind, value = cells.get(c, ("", ""))
            line.append(shared[int(value)] if kind == "s" else value)
        out.append(line)
    while out and not any(v != "" for v in out[-1]):  # the range ends at its last row with a value
        out.pop()
    return out


def _head_row_cells(zf: zipfile.ZipFile, part: str, nrows: int) -> dict[int, dict[int, tuple[str, object]]]:
    """{row: {column: (kind, value)}} for cells with a value, from the first such row for `nrows` rows."""
    rows: dict[int, dict[int, tuple[str, object]]] = {}
    first: int | None = None
    seen = 0
    with zf.open(part) as fh:
        for _, elem in ElementTree.iterparse(fh, events=("end",)):
            if elem.tag != f"{_MAIN}row":
                continue
            seen += 1
            r = int(elem.get("r") or seen)
            if first is not None and r >= first + nrows:
                break
            cells = {}
            for i, c in enumerate(elem.iter(f"{_MAIN}c")):
                cell = _cell(c)
                if cell is not None:
                    cells[_column(c.get("r"), i)] = cell
            if cells:
                rows[r] = cells
                first = r if first is None else first
            elem.clear()
            if seen >= _HEAD_SCAN_ROWS and first is None:
                break
    return rows


def _cell(c: ElementTree.Element) -> tuple[str, object] | None:
    kind = c.get("t") or "n"
    if kind == "inlineStr":
        text = "".join(t.text or "" for t in c.iter(f"{_MAIN}t"))
        return ("str", text) if text else None
    v = c.find(f"{_MAIN}v")
    if v is None or v.text is None:
        return None
    if kind == "s":
        return ("s", int(v.text))
    if kind == "n":
        return ("n", float(v.text))
    if kind == "b":
        return ("b", v.text == "1")
    return ("str", v.text)  # str (a formula's text), e (an error's text), d (ISO date)


def _column(ref: str | None, index: int) -> int:
    if not ref:
        return index
    n = 0
    for ch in ref:
        if not ch.isalpha():
            break
        n = n * 26 + (ord(ch.upper()) - 64)
    return n - 1


def _shared_strings(zf: zipfile.ZipFile, rows: dict[int, dict[int, tuple[str, object]]]) -> dict[int, str]:
    """The shared strings the rows use, streaming the table only as far as the highest one needed."""
    wanted = {int(v) for cells in rows.values() for k, v in cells.values() if k == "s"}
    if not wanted:
        return {}
    name = next((n for n in zf.namelist() if n.lower() == "xl/sharedstrings.xml"), None)
    if name is None:
        raise ValueError("no shared strings")
    top, found, i = max(wanted), {}, 0
    with zf.open(name) as fh:
        for _, elem in ElementTree.iterparse(fh, events=("end",)):
            if elem.tag != f"{_MAIN}si":
                continue
            if i in wanted:
                found[i] = _shared_text(elem)
            elem.clear()
            if i >= top:
                break
            i += 1
    if len(found) < len(wanted):
        raise ValueError("shared string out of range")
    return found


def _shared_text(si: ElementTree.Element) -> str:
    """A shared string's text: its one `t`, or its rich-text runs' (phonetic guides, `rPh`, left out)."""
    plain = si.find(f"{_MAIN}t")
    if plain is not None:
        return plain.text or ""
    return "".join(t.text or "" for run in si.iterfind(f"{_MAIN}r") for t in run.iter(f"{_MAIN}t"))
