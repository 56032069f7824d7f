"""A workbook's zip judged before any reader unpacks it: what it claims, and what its sheets would make a reader hold.

calamine (and fastexcel, built on it) aborts the whole process — no exception to catch — when a workbook asks it for
more memory than there is: a shared-strings table announcing two billion strings is reserved up front, and a sheet
is held as a rectangle from its first to its last cell (32 bytes a cell), so a single cell at XFD1048576 asks for
549 GB. A portal worker would die with it. So before calamine, fastexcel or openpyxl opens an xlsx:

- the zip directory: more than `MAX_UNPACKED_BYTES` in all, or a large part packed tighter than `MAX_PACK_RATIO`
  (a zip bomb), is refused; every reader (Python's zipfile, calamine's zip crate) stops at the size the directory
  announces, so a directory that lies smaller only cuts the XML short (refused as damaged, tests/hostile);
- the shared-strings table: the count it announces must fit in its own size (every string costs ≥ 8 bytes of XML);
- every worksheet: the rectangle from A1 to the furthest row and column any cell names must stay inside Excel's grid
  and under `MAX_AREA` cells. One streaming search finds any reference outside the envelope every narrow sheet
  fits (≤ 26 columns, < 380,000 rows; about as long again as unpacking the XML once); only a sheet with such a
  reference (a wide or very long sheet, or a hostile one) is measured exactly, reference by reference.
"""

from __future__ import annotations

import hashlib
import re
import zipfile
import zlib
from pathlib import Path

from govhub.problems import GovhubError, Problem

MAX_UNPACKED_BYTES = 1 << 30
MAX_PACK_RATIO = 200  # a part larger than 10 MB unpacked, packed tighter than this, is not a sheet's XML
# cells in a sheet's rectangle: ≈320 MB in calamine; 1M rows × 10 columns, 20k rows × 500 columns
MAX_AREA = 10_000_000
EXCEL_ROWS, EXCEL_COLUMNS = 1_048_576, 16_384
# what reading a damaged zip raises besides BadZipFile: a bad deflate stream, an unknown method, a cut file
ZIP_ERRORS = (
    OSError,
    zipfile.BadZipFile,
    zlib.error,
    EOFError,
    NotImplementedError,
    RuntimeError,
    ValueError,
)
STRINGS_PART = "xl/sharedStrings.xml"
_UNIQUE_COUNT = re.compile(rb'\buniqueCount="(\d+)"')
_CHUNK = 4 << 20
_OVERLAP = 64
# a reference outside A1:Z379999 (two or more letters, or a row number of 380,000 or more): 26 × 380,000 < MAX_AREA
# (a literal start and a lookahead: a leading \b made Python's re test every position, 4-7x slower; an attribute
# that merely ends in "r" only sends a sheet to the exact measure — except a namespace's address, `xmlns:r="http…"`,
# which every workbook Excel or openpyxl writes declares: told apart by its "http://", it no longer does; `r="http5"` is still a column calamine reads)
# calamine reads column letters in either case ("Atttt5" is a column past 10^30: found by fuzz_xlsx)
# XML lets an attribute be quoted either way and spaced around its "=" (r='XFD1048576', r = "E7"): calamine honours both
_OUTSIDE_NARROW = re.compile(
    rb'r\s*=\s*["\'](?!https?://)(?=[A-Za-z]{2}|[A-Za-z]?(?:\d{7}|[4-9]\d{5}|3[89]\d{4}))'
)
_REF_LETTERS = re.compile(rb'r\s*=\s*["\']([A-Za-z]+)\d')
_REF_NUMBER = re.compile(rb'r\s*=\s*["\'][A-Za-z]*(\d+)["\']')
_PASSED: dict[bytes, None] = {}  # sha256 of the workbooks this process found sound (oldest first)


def _refuse(code: str, message: str, name: str, expected: str) -> GovhubError:
    return GovhubError(Problem(code=code, message_zh=message, value=name, expected=expected))


def digest_of(path: Path) -> str:
    """The sha256 (hex) `check_workbook` remembers a sound workbook by."""
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def is_sound(digest: str) -> bool:
    """Whether this process has found the workbook with this sha256 sound (warehouse/sheet_guard.py tells the
    process that reads it next, which need not search it again)."""
    return bytes.fromhex(digest) in _PASSED


def trust_sound(digest: str) -> None:
    """Take the word of the process that found a workbook with this sha256 sound: `check_workbook` of the same
    bytes (hashed again where it runs) then returns at once."""
    _remember(bytes.fromhex(digest))


def check_workbook(path: Path, name: str) -> None:
    """Raise `GovhubError` when `path` (an xlsx named `name`) would make a reader unpack or hold too much; a zip
    that cannot be read is left to the reader, which says so in its own words."""
    try:
        zf = zipfile.ZipFile(path)
        parts = zf.infolist()
    except ZIP_ERRORS:  # not a zip at all: the reader says what it is in its own words
        return
    with zf:
        # the upload identified by `head_rows` and its landed copy read by `read_sheet` are searched once: the
        # same bytes (a directory's CRCs and sizes are the uploader's to write, so they are not the key)
        with open(path, "rb") as fh:
            key = hashlib.file_digest(fh, "sha256").digest()
        if key in _PASSED:
            return
        try:
            _check_directory(parts, name)
            _check_shared_strings(zf, name)
            reach = [sheet_reach(zf, p.filename) for p in parts if p.filename.startswith("xl/worksheets/")]
        except GovhubError:
            raise
        # a part that cannot be read to its end (bad CRC, cut deflate stream) is never measured
        except ZIP_ERRORS:
            raise _refuse(
                "sheet.not_xlsx",
                f"「{name}」已损坏：工作簿中的压缩内容无法读取（数据不完整或校验不符）；请用Excel打开并重新保存为.xlsx后上传",
                name,
                "完整的xlsx工作簿",
            ) from None
    for last_row, last_column in reach:
        if last_row > EXCEL_ROWS or last_column > EXCEL_COLUMNS:
            raise _refuse(
                "sheet.not_xlsx",
                f"「{name}」已损坏：有单元格超出Excel的范围（第{last_row:,}行、第{last_column:,}列）；"
                "请用Excel打开并重新保存为.xlsx后上传",
                name,
                f"不超过{EXCEL_ROWS:,}行、{EXCEL_COLUMNS:,}列",
            )
        if last_row * last_column > MAX_AREA:
            raise _refuse(
                "sheet.area_too_large",
                f"「{name}」的工作表从A1到最后一个有内容的单元格共{last_row:,}行×{last_column:,}列，"
                f"超过系统可读取的{MAX_AREA:,}个单元格；通常是远处有零星内容或格式的单元格：请删除数据区以外的行和列"
                "（选中后右键「删除」）并保存后上传",
                name,
                f"行数×列数不超过{MAX_AREA:,}",
            )
    _remember(key)


def _remember(key: bytes) -> None:
    _PASSED[key] = None
    while len(_PASSED) > 32:
        _PASSED.pop(next(iter(_PASSED)))


def _check_directory(parts: list[zipfile.ZipInfo], name: str) -> None:
    total = sum(p.file_size for p in parts)
    bomb = any(
        p.file_size > 10 << 20 and p.file_size > MAX_PACK_RATIO * max(p.compress_size, 1) for p in parts
    )
    if total > MAX_UNPACKED_BYTES or bomb:
        raise _refuse(
            "sheet.too_large",
            f"文件「{name}」解压后约{total / (1 << 20):,.0f} MB，远超填报表格的正常大小，系统不予读取；"
            "请检查文件是否正确，或按模板重新填写后上传",
            name,
            f"解压后不超过{MAX_UNPACKED_BYTES >> 20} MB",
        )


def _check_shared_strings(zf: zipfile.ZipFile, name: str) -> None:
    try:
        info = zf.getinfo(STRINGS_PART)
    except KeyError:
        return
    with zf.open(info) as fh:
        head = fh.read(4096)
    # calamine reserves room for `uniqueCount` strings before reading one (`count` counts uses, and may be large)
    claimed = max(
        (int(v) for v in _UNIQUE_COUNT.findall(head[: head.find(b">", head.find(b"<sst")) + 1])), default=0
    )
    if claimed > info.file_size // 8 + 16:
        raise _refuse(
            "sheet.not_xlsx",
            f"「{name}」已损坏：共享字符串表声明有{claimed:,}个字符串，但其内容只有{info.file_size:,}字节；"
            "请用Excel打开并重新保存为.xlsx后上传",
            name,
            "与内容相符的字符串数",
        )


def sheet_reach(zf: zipfile.ZipFile, part: str) -> tuple[int, int]:
    """(furthest row, furthest column) any cell or row of `part` names; (0, 0) when every reference lies inside
    the narrow envelope (then the area is under `MAX_AREA` whatever it is exactly)."""
    with zf.open(part) as fh:
        tail = b""
        while chunk := fh.read(_CHUNK):
            window = tail + chunk
            if _OUTSIDE_NARROW.search(window):
                break
            tail = window[-_OVERLAP:]
        else:
            return 0, 0
    return _exact_reach(zf, part)


def _exact_reach(zf: zipfile.ZipFile, part: str) -> tuple[int, int]:
    import numpy as np

    last_row = last_column = 0
    with zf.open(part) as fh:
        tail = b""
        while chunk := fh.read(_CHUNK):
            window = tail + chunk
            letters = set(_REF_LETTERS.findall(window))
            numbers = _REF_NUMBER.findall(window)
            if letters:
                last_column = max(last_column, *(_column_number(c) for c in letters))
            if numbers:
                try:
                    last_row = max(last_row, int(np.array(numbers).astype(np.int64).max()))
                except (ValueError, OverflowError):  # more digits than 64 bits hold
                    last_row = 1 << 62
            tail = window[-_OVERLAP:]
    return last_row, last_column


def _column_number(letters: bytes) -> int:
    if len(letters) > 8:
        return 1 << 62
    n = 0
    for ch in letters.upper():
        n = n * 26 + ch - 64
    return n
