"""The hostile input corpus: fill-in sheets made to break the readers, generated from one good sheet.

Each `Case` is a file an agency (or an attacker with a steward's account) could upload: malformed, oversized,
mis-encoded, compressed bombs, spreadsheets that are not what their name says, and awkward but legitimate sheets.
`expect` names the problem codes one of which the refusal must carry; an empty `expect` means the file is legitimate
and holds exactly the good sheet's rows, so its upload is an automatic zero update (the current snapshot stays, and
proves the rows were read right). Everything is built in memory from `header` and `rows` (the good sheet); nothing
is read from disk, so the fuzz harnesses seed from the same generator (`fuzz/seeds.py`).
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import random
import struct
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import xlsxwriter

from govhub.connectors.headers import column_letter

Rows = list[list[Any]]
_HANZI = [chr(c) for c in range(0x4E00, 0x9FA5)]
MB = 1 << 20


@dataclass(frozen=True)
class Good:
    """The good sheet the corpus is made from: its header row and data rows (dates as `datetime.date`)."""

    header: list[str]
    rows: Rows

    def text_rows(self) -> list[list[str]]:
        return [[_text(v) for v in r] for r in self.rows]


@dataclass(frozen=True)
class Case:
    name: str
    filename: str
    build: Callable[[Good], bytes]
    expect: tuple[str, ...] = ()  # () = legitimate: loads as the good rows (a zero update)
    slow: bool = False  # big enough to keep out of the quick parallel run (still in make test)

    @property
    def kind(self) -> str:
        return self.filename.rsplit(".", 1)[-1].lower() if "." in self.filename else "none"


def sample() -> Good:
    """A small good sheet for 就业登记信息 without a hub (the portal test, the fuzz seeds): three people, 60 rows
    (the corpus edits rows by position: row 51, row 11…)."""
    header = [
        "公民身份号码",
        "姓名",
        "手机号码",
        "就业形式",
        "用人单位统一社会信用代码",
        "用人单位名称",
        "就业日期",
        "登记街镇代码",
    ]
    rows = [
        ["310110197409123309", "王涵英", "15707718469", "单位就业", "91310117667241216U", "上海盛亭环保科技有限公司",
         dt.date(2011, 11, 13), "310117006"],
        ["310209194006072486", "张艳怡", "15221923321", "自主创业", "913101175783622869", "上海东亭商贸有限公司",
         dt.date(2020, 4, 12), "310117102"],
        ["34212219660309014X", "陈帆波", "17663973012", "灵活就业", "", "", dt.date(2012, 3, 21), "310117006"],
    ]  # fmt: skip
    return Good(header, [list(r) for r in rows * 20])


def _text(value: Any) -> str:
    if isinstance(value, dt.date):
        return value.isoformat()
    return "" if value is None else str(value)


# ---------------------------------------------------------------- xlsx building blocks


def xlsx(good: Good, *, header: list[Any] | None = None, rows: Rows | None = None, **options: Any) -> bytes:
    """A workbook as Excel saves one (xlsxwriter): shared strings, a date format, one sheet 就业登记信息.

    options: `before` (sheet name → rows written on sheets ahead of the data sheet), `hidden` ('hidden'|'very'
    for those sheets), `merge` (a range to merge), `formulas` (column → formula text, cached value or None),
    `date_as_serial` (dates as plain numbers), `id_as_number`, `above` (rows above the header)."""
    out = io.BytesIO()
    wb = xlsxwriter.Workbook(out, {"in_memory": True, "strings_to_numbers": False})
    date_format = wb.add_format({"num_format": "yyyy-mm-dd"})
    for name, before_rows in (options.get("before") or {}).items():
        ws = wb.add_worksheet(name)
        for r, row in enumerate(before_rows):
            ws.write_row(r, 0, row)
        if options.get("hidden") == "very":
            ws.very_hidden()
        elif options.get("hidden"):
            ws.hide()
    ws = wb.add_worksheet("就业登记信息")
    ws.activate()  # Excel will not hide the active sheet: the data sheet is the one open
    top = 0
    for row in options.get("above") or []:
        ws.write_row(top, 0, row)
        top += 1
    ws.write_row(top, 0, header if header is not None else good.header)
    formulas: dict[int, Callable[[list[Any]], tuple[str, Any]]] = options.get("formulas") or {}
    for r, row in enumerate(rows if rows is not None else good.rows, start=top + 1):
        for c, value in enumerate(row):
            if c in formulas:
                formula, cached = formulas[c](row)
                if cached is None:
                    ws.write_formula(r, c, formula)
                else:
                    ws.write_formula(r, c, formula, None, cached)
            elif isinstance(value, dt.date):
                if options.get("date_as_serial"):
                    ws.write_number(r, c, (value - dt.date(1899, 12, 30)).days)
                else:
                    ws.write_datetime(r, c, dt.datetime.combine(value, dt.time()), date_format)
            elif options.get("id_as_number") and c == 0 and value.isdigit():
                ws.write_number(r, c, float(value))
            else:
                ws.write(r, c, value) if not isinstance(value, str) else ws.write_string(r, c, value)
    if options.get("merge"):
        ws.merge_range(options["merge"], good.header[0])
    wb.close()
    return out.getvalue()


def parts(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return {n: zf.read(n) for n in zf.namelist()}


def zipped(members: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", method) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return out.getvalue()


def with_part(good: Good, name: str, data: bytes | Callable[[bytes], bytes]) -> bytes:
    """The good workbook with one part replaced (or transformed)."""
    members = parts(xlsx(good))
    members[name] = data(members.get(name, b"")) if callable(data) else data
    return zipped(members)


SHEET = "xl/worksheets/sheet1.xml"
STRINGS = "xl/sharedStrings.xml"
WORKBOOK = "xl/workbook.xml"
CUSTOM_PROPS = "docProps/custom.xml"


def sheet_xml(body: bytes, dimension: bytes = b"A1") -> bytes:
    return (
        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        b'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
        b'<dimension ref="' + dimension + b'"/><sheetData>' + body + b"</sheetData></worksheet>"
    )


def inline_rows(good: Good, rows: list[list[str]] | None = None, start: int = 1) -> bytes:
    """Rows as inline-string cells (no shared strings needed)."""
    out = []
    for r, row in enumerate([good.header, *(rows or good.text_rows())], start=start):
        cells = b"".join(
            b'<c r="%s%d" t="inlineStr"><is><t>%s</t></is></c>' % (column_letter(c).encode(), r, _xml(v))
            for c, v in enumerate(row)
        )
        out.append(b'<row r="%d">%s</row>' % (r, cells))
    return b"".join(out)


def _xml(value: str) -> bytes:
    return value.replace("&", "&amp;").replace("<", "&lt;").encode()


def bomb_member(name: str, size: int, filler: bytes = b" ") -> tuple[zipfile.ZipInfo, bytes]:
    """A deflated member of `size` bytes of `filler` (compressed ≈1000:1), built without holding `size` bytes."""
    comp = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = filler * (MB // len(filler))
    chunks = [comp.compress(block) for _ in range(size // len(block))]
    chunks.append(comp.flush())
    data = b"".join(chunks)
    info = zipfile.ZipInfo(name)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.file_size = (size // len(block)) * len(block)
    info.CRC = _crc_of_repeated(block, size // len(block))
    return info, data


def _crc_of_repeated(block: bytes, times: int) -> int:
    crc = 0
    for _ in range(times):
        crc = zlib.crc32(block, crc)
    return crc


def raw_zip(members: list[tuple[zipfile.ZipInfo, bytes]], *, lie: dict[str, int] | None = None) -> bytes:
    """A zip written by hand from already-compressed members; `lie` announces other uncompressed sizes in the
    local headers and central directory (a directory that lies about what the member unpacks to)."""
    out, central = io.BytesIO(), []
    for info, data in members:
        size = (lie or {}).get(info.filename, info.file_size)
        name = info.filename.encode()
        offset = out.tell()
        method = info.compress_type
        out.write(
            struct.pack(
                "<4s5H3L2H", b"PK\x03\x04", 20, 0, method, 0, 0x21, info.CRC, len(data), size, len(name), 0
            )
        )
        out.write(name + data)
        central.append(
            struct.pack(
                "<4s6H3L5H2L",
                b"PK\x01\x02",
                20,
                20,
                0,
                method,
                0,
                0x21,
                info.CRC,
                len(data),
                size,
                len(name),
                0,
                0,
                0,
                0,
                0,
                offset,
            )
            + name
        )
    start = out.tell()
    out.write(b"".join(central))
    out.write(
        struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, len(central), len(central), out.tell() - start, start, 0)
    )
    return out.getvalue()


def deflated(name: str, data: bytes) -> tuple[zipfile.ZipInfo, bytes]:
    comp = zlib.compressobj(9, zlib.DEFLATED, -15)
    info = zipfile.ZipInfo(name)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.file_size = len(data)
    info.CRC = zlib.crc32(data)
    return info, comp.compress(data) + comp.flush()


def good_members(good: Good, **replace: bytes) -> list[tuple[zipfile.ZipInfo, bytes]]:
    members = parts(xlsx(good))
    members.update(replace)
    return [deflated(n, d) for n, d in members.items()]


# ---------------------------------------------------------------- xlsx cases


def _truncated(fraction: float) -> Callable[[Good], bytes]:
    return lambda g: (d := xlsx(g))[: int(len(d) * fraction)]


def _flip_sheet_bytes(good: Good) -> bytes:
    data = bytearray(xlsx(good))
    start = data.find(SHEET.encode()) + len(SHEET) + 40
    for i in range(start, start + 200, 7):
        data[i] ^= 0xFF
    return bytes(data)


def _laughs(root: bytes, inner: bytes) -> bytes:
    """Billion laughs: ten levels of ten references, 10^9 'lol's if expanded."""
    entities = b'<!ENTITY lol0 "lol">' + b"".join(
        b'<!ENTITY lol%d "%s">' % (i, b"".join(b"&lol%d;" % (i - 1) for _ in range(10))) for i in range(1, 10)
    )
    return (
        b'<?xml version="1.0" encoding="UTF-8"?><!DOCTYPE ' + root + b" [" + entities + b"]>" + inner
    ).replace(b"LAUGH", b"&lol9;")


def _laughs_in_strings(good: Good) -> bytes:
    def poison(xml: bytes) -> bytes:
        body = xml[xml.index(b"<sst") :]
        body = body.replace(b"<t>", b"<t>LAUGH", 1)
        return _laughs(b"sst", body)

    return with_part(good, STRINGS, poison)


def _laughs_in_sheet(good: Good) -> bytes:
    last = len(good.rows) + 2
    cell = b'<row r="%d"><c r="A%d" t="inlineStr"><is><t>LAUGH</t></is></c></row>' % (last, last)
    xml = sheet_xml(inline_rows(good) + cell)
    return with_part(good, SHEET, _laughs(b"worksheet", xml[xml.index(b"<worksheet") :]))


def _laughs_in_workbook(good: Good) -> bytes:
    return with_part(
        good,
        WORKBOOK,
        lambda x: _laughs(b"workbook", x[x.index(b"<workbook") :].replace(b'name="', b'name="LAUGH', 1)),
    )


def _laughs_in_custom_props(good: Good) -> bytes:
    props = _laughs(
        b"Properties",
        b'<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/custom-properties" '
        b'xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes">'
        b'<property fmtid="{D5CDD505-2E9C-101B-9397-08002B2CF9AE}" pid="2" name="govhub_code">'
        b"<vt:lpwstr>LAUGH</vt:lpwstr></property></Properties>",
    )
    return with_part(good, CUSTOM_PROPS, props)


def _external_entity(good: Good) -> bytes:
    def poison(xml: bytes) -> bytes:
        body = xml[xml.index(b"<sst") :].replace(b"<t>", b"<t>&xxe;", 1)
        return b'<?xml version="1.0"?><!DOCTYPE sst [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>' + body

    return with_part(good, STRINGS, poison)


def _ratio_bomb(good: Good) -> bytes:
    """The sheet's XML followed by 300 MB of spaces inside the sheet element: a 2,000:1 part."""
    members = parts(xlsx(good))
    listed = [deflated(n, d) for n, d in members.items() if n != SHEET]
    return raw_zip([*listed, bomb_member(SHEET, 300 * MB)])


def _absolute_bomb(good: Good) -> bytes:
    """Twelve 100 MB parts of well-compressible XML (each ≈100:1, under the ratio limit): 1.2 GB unpacked."""
    members = good_members(good)
    filler = bytes(range(32, 127)) * 3  # varied enough that deflate stays near 100:1
    extra = [bomb_member(f"xl/media/padding{i}.xml", 100 * MB, filler) for i in range(12)]
    return raw_zip([*members, *extra])


def _lying_directory(good: Good) -> bytes:
    """The sheet part announces 4 KB but unpacks to 400 MB of empty formatted rows: the directory lies."""
    head = sheet_xml(inline_rows(good), b"A1:H101")
    head = head[: head.index(b"</sheetData>")]
    comp = zlib.compressobj(9, zlib.DEFLATED, -15)
    row = b'<row r="1048000" s="1" customFormat="1" ht="15"/>'
    chunks = [comp.compress(head)]
    block = row * (MB // len(row))
    chunks += [comp.compress(block) for _ in range(400)]
    chunks.append(comp.compress(b"</sheetData></worksheet>") + comp.flush())
    info = zipfile.ZipInfo(SHEET)
    info.compress_type, info.file_size, info.CRC = zipfile.ZIP_DEFLATED, 4096, 0
    members = [m for m in good_members(good) if m[0].filename != SHEET]
    return raw_zip([*members, (info, b"".join(chunks))])


def _empty_formatted_rows(good: Good) -> bytes:
    """The good rows, then every row to 1,048,576 present with a style only, and a dimension of A1:XFD1048576."""
    rows = inline_rows(good)
    filler = b"".join(b'<row r="%d" s="1" customFormat="1"/>' % r for r in range(len(good.rows) + 2, 1048577))
    return with_part(good, SHEET, sheet_xml(rows + filler, b"A1:XFD1048576"))


def _dimension_claims_everything(good: Good) -> bytes:
    return with_part(good, SHEET, sheet_xml(inline_rows(good), b"A1:XFD1048576"))


def _far_corner_cell(good: Good) -> bytes:
    """One cell at XFD1048576 (the last cell Excel has): a reader that fills the rectangle makes 17 billion cells."""
    far = b'<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>x</t></is></c></row>'
    return with_part(good, SHEET, sheet_xml(inline_rows(good) + far, b"A1:XFD1048576"))


def _far_column_in_header(good: Good) -> bytes:
    far = b'<c r="XFD1" t="inlineStr"><is><t>x</t></is></c>'
    rows = inline_rows(good).replace(b"</row>", far + b"</row>", 1)
    return with_part(good, SHEET, sheet_xml(rows))


def _lower_case_column(good: Good) -> bytes:
    """A reference in lower case letters (found by fuzz/fuzz_xlsx.py): calamine reads "Attttt5" as a column past
    10^30 and asked for 4.8 TB."""
    bad = b'<row r="200"><c r="Atttttttttttttttttttttt200" t="inlineStr"><is><t>x</t></is></c></row>'
    return with_part(good, SHEET, sheet_xml(inline_rows(good) + bad))


def _column_spelled_like_an_address(good: Good) -> bytes:
    """A reference whose letters begin "http" (column HTTP, past Excel's last): the guard's quick search passes over
    `xmlns:r="http://…"`, which every workbook declares, and must not pass over this one."""
    bad = b'<row r="200"><c r="http200" t="inlineStr"><is><t>x</t></is></c></row>'
    return with_part(good, SHEET, sheet_xml(inline_rows(good) + bad))


def _far_corner_cell_quoted_otherwise(good: Good) -> bytes:
    """The far corner cell with its reference in single quotes and spaced (r = 'XFD1048576'): XML allows both, and
    calamine honours both (found in review: the guard once looked only for r=")."""
    far = b"<row r = '1048576'><c r = 'XFD1048576' t='inlineStr'><is><t>x</t></is></c></row>"
    return with_part(good, SHEET, sheet_xml(inline_rows(good) + far))


def _far_corner_cell_with_a_bad_crc(good: Good) -> bytes:
    """The far corner cell in a sheet part whose bytes no longer match its CRC: a guard that let an unreadable part
    through unmeasured would hand the reader the 17-billion-cell rectangle."""
    far = b'<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>x</t></is></c></row>'
    members = parts(xlsx(good))
    members[SHEET] = sheet_xml(inline_rows(good) + far)
    data = zipped(members, zipfile.ZIP_STORED)
    at = data.index(b"<sheetData>")
    return data[:at] + b"<sheetDatb>" + data[at + len(b"<sheetData>") :]


def _huge_row_number(good: Good) -> bytes:
    bad = b'<row r="99999999999"><c r="A99999999999" t="inlineStr"><is><t>x</t></is></c></row>'
    return with_part(good, SHEET, sheet_xml(inline_rows(good) + bad))


def _many_columns(n: int) -> Callable[[Good], bytes]:
    def build(good: Good) -> bytes:
        header = [*good.header, *(f"列{i}" for i in range(n - len(good.header)))]
        rows = [[*r, *([""] * (n - len(r)))] for r in good.rows[:5]]
        return xlsx(good, header=header, rows=rows)

    return build


def _big_cell(size: int) -> Callable[[Good], bytes]:
    """A cell of `size` bytes written straight into the sheet's XML (Excel and xlsxwriter stop at 32,767
    characters; a crafted file does not)."""

    def build(good: Good) -> bytes:
        rows = good.text_rows()
        rows[0][5] = "".join(random.Random(size).choices(_HANZI, k=size // 3))  # varied: not a zip bomb
        return with_part(good, SHEET, sheet_xml(inline_rows(good, rows)))

    return build


def _claims_many_strings(good: Good) -> bytes:
    return with_part(
        good,
        STRINGS,
        lambda x: x.replace(b'count="', b'count="2000000000" x="', 1).replace(
            b'uniqueCount="', b'uniqueCount="2000000000" y="', 1
        ),
    )


def _deep_nesting(good: Good) -> bytes:
    nested = b"<x>" * 100_000 + b"</x>" * 100_000
    return with_part(good, SHEET, lambda x: x.replace(b"<sheetData>", b"<sheetData>" + nested, 1))


def _many_sheets(good: Good) -> bytes:
    out = io.BytesIO()
    wb = xlsxwriter.Workbook(out, {"in_memory": True})
    for i in range(2000):
        wb.add_worksheet(f"说明{i}")
    ws = wb.add_worksheet("就业登记信息")
    for r, row in enumerate([good.header, *good.text_rows()]):
        ws.write_row(r, 0, row)
    wb.close()
    return out.getvalue()


def _nul_in_sheet_xml(good: Good) -> bytes:
    return with_part(good, SHEET, lambda x: x.replace(b"<sheetData>", b"<sheetData>\x00\x00\x00", 1))


def _control_chars_in_strings(good: Good) -> bytes:
    """Names carrying control characters and a terminal escape (xlsxwriter stores them as _x0001_ escapes)."""
    rows = [list(r) for r in good.rows]
    for r in rows[3:6]:
        r[1] = "\x01\x02\x1b[2J" + r[1]
    return xlsx(good, rows=rows)


def _without(name: str) -> Callable[[Good], bytes]:
    def build(good: Good) -> bytes:
        members = parts(xlsx(good))
        del members[name]
        return zipped(members)

    return build


def _duplicate_members(good: Good) -> bytes:
    members = good_members(good)
    bad = sheet_xml('<row r="1"><c r="A1" t="inlineStr"><is><t>冒名</t></is></c></row>'.encode())
    return raw_zip([*members, deflated(SHEET, bad)])


def _zip_slip_member(good: Good) -> bytes:
    return raw_zip([*good_members(good), deflated("../../../../tmp/govhub-zip-slip.txt", b"pwned")])


def _many_members(good: Good) -> bytes:
    return raw_zip([*good_members(good), *(deflated(f"junk/{i}.xml", b"") for i in range(50_000))])


def _stored_not_deflated(good: Good) -> bytes:
    return zipped(parts(xlsx(good)), zipfile.ZIP_STORED)


def _unknown_compression(good: Good) -> bytes:
    members = good_members(good)
    info = next(m[0] for m in members if m[0].filename == SHEET)
    info.compress_type = 99  # AE-x / unsupported
    return raw_zip(members)


def _docx(good: Good) -> bytes:
    return zipped(
        {
            "[Content_Types].xml": b'<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/'
            b'2006/content-types"/>',
            "word/document.xml": b"<w:document/>",
        }
    )


def _png(good: Good) -> bytes:
    return b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(200)


def _formula_cached(good: Good) -> bytes:
    return xlsx(good, formulas={1: lambda row: (f'="{row[1]}"', row[1])})


def _formula_uncached(good: Good) -> bytes:
    """Formulas as a generator that never calculates writes them: no <v> (xlsxwriter writes 0 unless told)."""
    members = parts(xlsx(good, formulas={1: lambda row: (f'=CONCAT("{row[1]}")', None)}))
    members[SHEET] = members[SHEET].replace(b"<v>0</v>", b"")
    return zipped(members)


def _multi_row_header(good: Good) -> bytes:
    group = ["人员信息", "", "", "就业信息", "", "", "", ""]
    return xlsx(good, above=[group])


def _duplicate_header(good: Good) -> bytes:
    return xlsx(good, header=[*good.header[:7], good.header[1]])


def _encrypted_ole(good: Good) -> bytes:
    return _ole_with(b"EncryptionInfo".decode().encode("utf-16-le") + bytes(4000))


def _ole_with(payload: bytes) -> bytes:
    return b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504) + payload


def real_xls(good: Good) -> bytes:
    import xlwt

    wb = xlwt.Workbook(encoding="utf-8")
    ws = wb.add_sheet("就业登记信息")
    for r, row in enumerate([good.header, *good.text_rows()]):
        for c, v in enumerate(row):
            ws.write(r, c, v)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def html_table(good: Good) -> bytes:
    """What many systems export as '.xls': an HTML table Excel opens with a warning."""
    rows = "".join(
        "<tr>" + "".join(f"<td>{v}</td>" for v in r) + "</tr>" for r in [good.header, *good.text_rows()]
    )
    return (
        '<html xmlns:x="urn:schemas-microsoft-com:office:excel"><head><meta charset="utf-8"></head><body>'
        f"<table>{rows}</table></body></html>"
    ).encode()


def spreadsheet_ml_2003(good: Good) -> bytes:
    """Excel 2003 XML Spreadsheet, saved as .xls by some systems."""
    rows = "".join(
        "<Row>" + "".join(f'<Cell><Data ss:Type="String">{v}</Data></Cell>' for v in r) + "</Row>"
        for r in [good.header, *good.text_rows()]
    )
    return (
        '<?xml version="1.0"?><?mso-application progid="Excel.Sheet"?><Workbook '
        'xmlns="urn:schemas-microsoft-com:office:spreadsheet" xmlns:ss="urn:schemas-microsoft-com:office:spreadsheet">'
        f'<Worksheet ss:Name="就业登记信息"><Table>{rows}</Table></Worksheet></Workbook>'
    ).encode()


# ---------------------------------------------------------------- csv cases


def csv_text(
    good: Good, *, header: list[str] | None = None, rows: list[list[str]] | None = None, newline: str = "\r\n"
) -> str:
    out = io.StringIO()
    w = csv.writer(out, lineterminator=newline)
    w.writerow(header if header is not None else good.header)
    w.writerows(rows if rows is not None else good.text_rows())
    return out.getvalue()


def _mixed_encodings(good: Good) -> bytes:
    lines = csv_text(good).splitlines(keepends=True)
    half = len(lines) // 2
    return "".join(lines[:half]).encode("utf-8") + "".join(lines[half:]).encode("gbk")


def _bom_mid_file(good: Good) -> bytes:
    lines = csv_text(good).encode("utf-8").splitlines(keepends=True)
    lines[50] = codecs.BOM_UTF8 + lines[50]
    return b"".join(lines)


def _bom_in_header_cells(good: Good) -> bytes:
    return csv_text(good, header=["\ufeff" + h for h in good.header]).encode("utf-8")


def _double_bom(good: Good) -> bytes:
    return codecs.BOM_UTF8 * 2 + csv_text(good).encode("utf-8")


def _nul_in_cell(good: Good) -> bytes:
    rows = good.text_rows()
    rows[3][1] = rows[3][1] + "\x00\x00"
    return csv_text(good, rows=rows).encode("utf-8")


def _nul_line(good: Good) -> bytes:
    return csv_text(good).encode("utf-8") + bytes(1000)


def _all_nul(good: Good) -> bytes:
    return bytes(MB)


def _unclosed_quote(good: Good) -> bytes:
    """A quote opened in row 12 and never closed: the rest of the file is one cell."""
    name = good.rows[10][1]
    return csv_text(good).replace(f",{name},", f',"{name},', 1).encode("utf-8")


def _csv_many_columns(good: Good) -> bytes:
    header = [*good.header, *(f"列{i}" for i in range(5200))]
    return csv_text(good, header=header, rows=[[*r, *[""] * 5200] for r in good.text_rows()[:3]]).encode()


def _csv_big_cell(good: Good) -> bytes:
    rows = good.text_rows()
    rows[0][5] = "有限公司" * (10 * MB // 12)
    return csv_text(good, rows=rows).encode()


def _csv_one_long_line(good: Good) -> bytes:
    return b"a," * (20 * MB)


def _csv_blank_lines_tail(good: Good) -> bytes:
    return csv_text(good).encode() + b",,,,,,,\r\n" * 1_000_000


def _csv_blank_lines_middle(good: Good) -> bytes:
    lines = csv_text(good).encode().splitlines(keepends=True)
    return b"".join(lines[:50]) + b",,,,,,,\r\n" * 200_000 + b"".join(lines[50:])


def _ids_in_scientific_notation(good: Good) -> bytes:
    rows = good.text_rows()
    for r in rows:
        r[0] = f"{float(r[0][:17]):.5E}".replace("E+", "E+")
    return csv_text(good, rows=rows).encode("gbk")


def _latin1_named_utf16(good: Good) -> bytes:
    return csv_text(good).encode("utf-16")


def _bidi_and_zero_width(good: Good) -> bytes:
    rows = good.text_rows()
    rows[2][1] = "\u202e" + rows[2][1]
    rows[3][0] = rows[3][0] + "\u200b"
    return csv_text(good, rows=rows).encode()


# ---------------------------------------------------------------- the corpus


def _csv(encoding: str, newline: str = "\r\n") -> Callable[[Good], bytes]:
    return lambda g: csv_text(g, newline=newline).encode(encoding)


def corpus() -> list[Case]:
    """Every case, named; `expect` is the problem codes a refusal may carry (any one of them)."""
    not_xlsx = ("sheet.not_xlsx",)
    bomb = ("sheet.too_large",)
    return [
        # -- legitimate, awkward: each loads as the good rows (zero update)
        Case("xlsx-good", "就业登记.xlsx", xlsx),
        Case("xlsx-stored-not-deflated", "就业登记.xlsx", _stored_not_deflated),
        Case(
            "xlsx-hidden-sheet-first",
            "就业登记.xlsx",
            lambda g: xlsx(g, before={"旧数据": [["废弃", "数据"]]}, hidden="hidden"),
        ),
        Case(
            "xlsx-very-hidden-sheet-first",
            "就业登记.xlsx",
            lambda g: xlsx(g, before={"隐藏": [["x"]]}, hidden="very"),
        ),
        Case(
            "xlsx-instructions-sheet-first",
            "就业登记.xlsx",
            lambda g: xlsx(g, before={"填写说明": [["请按模板填写"]]}),
        ),
        Case("xlsx-formula-with-cached-values", "就业登记.xlsx", _formula_cached),
        Case("xlsx-dates-formatted", "就业登记.xlsx", xlsx),
        Case("xlsx-dimension-claims-every-cell", "就业登记.xlsx", _dimension_claims_everything),
        Case("xlsx-many-sheets", "就业登记.xlsx", _many_sheets),
        Case("xlsm-macro-workbook", "就业登记.xlsm", xlsx),
        Case("xlsx-many-zip-members", "就业登记.xlsx", _many_members),
        Case("xlsx-zip-slip-member-name", "就业登记.xlsx", _zip_slip_member),
        Case("xlsx-empty-formatted-rows-to-1048576", "就业登记.xlsx", _empty_formatted_rows, slow=True),
        Case("csv-utf8", "就业登记.csv", _csv("utf-8")),
        Case("csv-utf8-bom", "就业登记.csv", _csv("utf-8-sig")),
        Case("csv-gbk", "就业登记.csv", _csv("gbk")),
        Case("csv-gb18030", "就业登记.csv", _csv("gb18030")),
        Case("csv-lf-only", "就业登记.csv", _csv("utf-8", "\n")),
        Case("csv-blank-lines-at-end", "就业登记.csv", _csv_blank_lines_tail),
        Case("name-backslash-path", "..\\..\\windows\\就业登记.xlsx", xlsx),
        Case("name-control-characters", "就业\x1b[2J登记\r\n\t.xlsx", xlsx),
        Case("name-right-to-left-override", "就业登记\u202excsl.xlsx", xlsx),
        Case("name-very-long", "就" * 80 + ".xlsx", xlsx),
        Case("name-leading-dash", "--resource=x.csv", _csv("utf-8")),
        # -- broken zips
        Case("xlsx-truncated-half", "就业登记.xlsx", _truncated(0.5), not_xlsx),
        Case("xlsx-truncated-no-end-record", "就业登记.xlsx", lambda g: xlsx(g)[:-22], not_xlsx),
        Case("xlsx-truncated-to-8-bytes", "就业登记.xlsx", _truncated(0.0005), not_xlsx),
        Case("xlsx-corrupt-deflate-stream", "就业登记.xlsx", _flip_sheet_bytes, not_xlsx),
        Case("xlsx-unknown-compression-method", "就业登记.xlsx", _unknown_compression, not_xlsx),
        Case(
            "xlsx-without-workbook-xml",
            "就业登记.xlsx",
            _without(WORKBOOK),
            ("sheet.not_xlsx", "sheet.no_sheet"),
        ),
        Case("xlsx-without-sheet-xml", "就业登记.xlsx", _without(SHEET), not_xlsx),
        Case("xlsx-without-content-types", "就业登记.xlsx", _without("[Content_Types].xml"), ()),
        Case(
            "xlsx-duplicate-zip-members",
            "就业登记.xlsx",
            _duplicate_members,
            ("sheet.not_xlsx", "sheet.unknown_column"),
        ),
        # -- bombs
        Case("xlsx-zip-bomb-ratio", "就业登记.xlsx", _ratio_bomb, bomb),
        Case("xlsx-zip-bomb-absolute-size", "就业登记.xlsx", _absolute_bomb, bomb, slow=True),
        Case("xlsx-zip-directory-lies-about-size", "就业登记.xlsx", _lying_directory, not_xlsx),
        Case("xlsx-billion-laughs-shared-strings", "就业登记.xlsx", _laughs_in_strings, not_xlsx),
        Case("xlsx-billion-laughs-sheet", "就业登记.xlsx", _laughs_in_sheet, not_xlsx),
        Case("xlsx-billion-laughs-workbook", "就业登记.xlsx", _laughs_in_workbook, not_xlsx),
        Case("xlsx-billion-laughs-custom-properties", "就业登记.xlsx", _laughs_in_custom_props, ()),
        Case("xlsx-external-entity", "就业登记.xlsx", _external_entity, not_xlsx),
        Case("xlsx-far-corner-cell-XFD1048576", "就业登记.xlsx", _far_corner_cell, ("sheet.area_too_large",)),
        Case(
            "xlsx-far-corner-cell-quoted-otherwise",
            "就业登记.xlsx",
            _far_corner_cell_quoted_otherwise,
            ("sheet.area_too_large",),
        ),
        Case("xlsx-far-corner-cell-bad-crc", "就业登记.xlsx", _far_corner_cell_with_a_bad_crc, not_xlsx),
        Case(
            "xlsx-far-column-in-header", "就业登记.xlsx", _far_column_in_header, ("sheet.too_many_columns",)
        ),
        Case("xlsx-row-number-out-of-range", "就业登记.xlsx", _huge_row_number, not_xlsx),
        Case("xlsx-lower-case-column-letters", "就业登记.xlsx", _lower_case_column, not_xlsx),
        Case(
            "xlsx-column-spelled-like-an-address", "就业登记.xlsx", _column_spelled_like_an_address, not_xlsx
        ),
        Case("xlsx-5000-columns", "就业登记.xlsx", _many_columns(5000), ("sheet.too_many_columns",)),
        Case("xlsx-16384-columns", "就业登记.xlsx", _many_columns(16384), ("sheet.too_many_columns",)),
        Case("xlsx-10MB-cell", "就业登记.xlsx", _big_cell(10 * MB), ("sheet.cell_too_long",)),
        Case("xlsx-shared-strings-claims-2-billion", "就业登记.xlsx", _claims_many_strings, not_xlsx),
        Case("xlsx-deeply-nested-xml", "就业登记.xlsx", _deep_nesting),
        Case("xlsx-nul-bytes-in-sheet-xml", "就业登记.xlsx", _nul_in_sheet_xml),
        Case(
            "xlsx-control-characters-in-strings",
            "就业登记.xlsx",
            _control_chars_in_strings,
            ("load.too_many_bad_rows", "rows.invalid_id"),
        ),
        # -- sheets that are not what the template asks
        Case(
            "xlsx-merged-header", "就业登记.xlsx", lambda g: xlsx(g, merge="A1:B1"), ("sheet.merged_header",)
        ),
        Case("xlsx-multi-row-header", "就业登记.xlsx", _multi_row_header, ("sheet.header_row",)),
        Case("xlsx-formula-without-cached-values", "就业登记.xlsx", _formula_uncached, ("sheet.formula",)),
        Case(
            "xlsx-dates-as-excel-serials",
            "就业登记.xlsx",
            lambda g: xlsx(g, date_as_serial=True),
            ("load.too_many_bad_rows",),
        ),
        Case(
            "xlsx-id-numbers-stored-as-numbers",
            "就业登记.xlsx",
            lambda g: xlsx(g, id_as_number=True),
            ("load.too_many_bad_rows",),
        ),
        Case("xlsx-duplicate-header", "就业登记.xlsx", _duplicate_header, ("sheet.duplicate_header",)),
        Case("xlsx-header-only", "就业登记.xlsx", lambda g: xlsx(g, rows=[]), ("sheet.no_rows",)),
        Case("xlsx-no-cells", "就业登记.xlsx", lambda g: xlsx(g, header=[], rows=[]), ("sheet.empty_sheet",)),
        Case("xlsx-only-hidden-sheets", "就业登记.xlsx", _only_hidden, ("sheet.no_sheet",)),
        # -- not what the name says
        Case("xlsx-empty-file", "就业登记.xlsx", lambda g: b"", ("sheet.empty_file",)),
        Case("xlsx-really-csv", "就业登记.xlsx", _csv("utf-8"), not_xlsx),
        Case("xlsx-really-png", "就业登记.xlsx", _png, not_xlsx),
        Case("xlsx-really-docx", "就业登记.xlsx", _docx, not_xlsx),
        Case(
            "xlsx-really-zip-of-csv",
            "就业登记.xlsx",
            lambda g: zipped({"就业登记.csv": _csv("utf-8")(g)}),
            not_xlsx,
        ),
        Case("xlsx-really-xls-biff", "就业登记.xlsx", real_xls, ("sheet.wrong_type",)),
        Case("xlsx-really-encrypted-ole", "就业登记.xlsx", _encrypted_ole, ("sheet.encrypted",)),
        Case("xls-real-biff8", "就业登记.xls", real_xls, ("sheet.wrong_type",)),
        Case("xls-really-html-table", "就业登记.xls", html_table, ("sheet.wrong_type",)),
        Case("xls-really-spreadsheetml-2003", "就业登记.xls", spreadsheet_ml_2003, ("sheet.wrong_type",)),
        Case("xls-really-csv", "就业登记.xls", _csv("gbk"), ("sheet.wrong_type",)),
        Case("xls-really-xlsx", "就业登记.xls", xlsx, ("sheet.wrong_type",)),
        Case("xls-empty-file", "就业登记.xls", lambda g: b"", ("sheet.empty_file",)),
        Case("xls-encrypted-ole", "就业登记.xls", _encrypted_ole, ("sheet.encrypted",)),
        Case("csv-really-xlsx", "就业登记.csv", xlsx, ("sheet.wrong_type",)),
        Case("csv-really-xls-biff", "就业登记.csv", real_xls, ("sheet.wrong_type",)),
        Case("csv-really-png", "就业登记.csv", _png, ("sheet.encoding",)),
        Case("name-no-extension", "就业登记", xlsx, ("sheet.wrong_type",)),
        Case("name-xlsx-dot-csv-holding-xlsx", "就业登记.xlsx.csv", xlsx, ("sheet.wrong_type",)),
        # -- csv
        Case("csv-utf16", "就业登记.csv", _latin1_named_utf16, ("sheet.encoding",)),
        Case("csv-mixed-utf8-and-gbk", "就业登记.csv", _mixed_encodings, ("sheet.encoding",)),
        Case("csv-bom-in-the-middle", "就业登记.csv", _bom_mid_file, ("load.too_many_bad_rows",)),
        Case("csv-bom-in-every-header-cell", "就业登记.csv", _bom_in_header_cells, ()),
        Case("csv-double-bom", "就业登记.csv", _double_bom, ()),
        Case("csv-nul-in-a-cell", "就业登记.csv", _nul_in_cell, ("sheet.encoding",)),
        Case("csv-nul-bytes-at-end", "就业登记.csv", _nul_line, ("sheet.encoding",)),
        Case("csv-all-nul-bytes", "就业登记.csv", _all_nul, ("sheet.encoding",)),
        Case(
            "csv-unclosed-quote",
            "就业登记.csv",
            _unclosed_quote,
            ("sheet.ragged_row", "load.too_many_bad_rows"),
        ),
        Case(
            "csv-duplicate-header",
            "就业登记.csv",
            lambda g: csv_text(g, header=[*g.header[:7], g.header[1]]).encode(),
            ("sheet.duplicate_header",),
        ),
        Case("csv-header-only", "就业登记.csv", lambda g: csv_text(g, rows=[]).encode(), ("sheet.no_rows",)),
        Case("csv-empty-file", "就业登记.csv", lambda g: b"", ("sheet.empty_file",)),
        Case("csv-blank-lines-only", "就业登记.csv", lambda g: b"\r\n" * 1000, ("sheet.empty_sheet",)),
        Case(
            "csv-ragged-rows",
            "就业登记.csv",
            lambda g: csv_text(
                g, rows=[r[:5] if i % 7 == 0 else r for i, r in enumerate(g.text_rows())]
            ).encode(),
            ("sheet.ragged_row",),
        ),
        Case("csv-5200-columns", "就业登记.csv", _csv_many_columns, ("sheet.too_many_columns",)),
        Case("csv-10MB-cell", "就业登记.csv", _csv_big_cell, ("sheet.cell_too_long",)),
        Case("csv-20MB-single-line", "就业登记.csv", _csv_one_long_line, ("sheet.cell_too_long",)),
        Case("csv-200k-blank-lines-in-the-middle", "就业登记.csv", _csv_blank_lines_middle),
        Case(
            "csv-ids-in-scientific-notation",
            "就业登记.csv",
            _ids_in_scientific_notation,
            ("load.too_many_bad_rows", "diagnosis.number_stored"),
        ),
        Case("csv-bidi-and-zero-width", "就业登记.csv", _bidi_and_zero_width, ("load.too_many_bad_rows",)),
        Case(
            "csv-wrong-resource-header",
            "就业登记.csv",
            lambda g: csv_text(g, header=["单位名称", "地址", "电话", "a", "b", "c", "d", "e"]).encode(),
            ("sheet.missing_column", "sheet.unknown_column"),
        ),
    ]


def _only_hidden(good: Good) -> bytes:
    out = io.BytesIO()
    wb = xlsxwriter.Workbook(out, {"in_memory": True})
    visible = wb.add_worksheet("填写说明")
    visible.write(0, 0, "见隐藏表")
    ws = wb.add_worksheet("就业登记信息")
    for r, row in enumerate([good.header, *good.text_rows()]):
        ws.write_row(r, 0, row)
    ws.hide()
    wb.close()
    return out.getvalue()
