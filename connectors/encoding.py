"""Which text encoding an uploaded CSV is in: UTF-8 (with or without BOM) or GB18030 (the superset of GBK).

Agencies save CSVs from Excel or WPS as "CSV UTF-8" or as the system's GBK. GBK is read as GB18030: real names use
characters GBK lacks (e.g. 䶮), and GB18030 decodes every GBK file identically. Detection looks at the whole stream
for UTF-8 (cheap) and at a prefix for GB18030; the reader decodes the whole stream before splitting fields, because
GBK is not self-synchronising: a trail byte can be an ASCII backslash, letter or digit, so a reader that starts in the
middle of a character, or treats bytes one at a time, misreads the text.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from govhub.catalog.arrow import string_buffers
from govhub.problems import GovhubError, Problem

UTF8 = "utf-8"
UTF8_SIG = "utf-8-sig"
GB18030 = "gb18030"
DECLARABLE = {"auto", UTF8, UTF8_SIG, GB18030, "gbk", "gb2312"}

_LABELS = {UTF8: "UTF-8", UTF8_SIG: "UTF-8（带BOM）", GB18030: "GB18030/GBK"}
_SAVE_AS = (
    "请用Excel或WPS打开后「另存为」，文件类型选择「CSV UTF-8（逗号分隔）」；"
    "或保存为GB18030/GBK编码的CSV；Excel工作簿请直接上传.xlsx文件"
)
_SNIFF = 64 * 1024


def canonical(declared: str | None) -> str:
    """The codec a declared encoding is read with: 'gbk'/'gb2312' → gb18030 (its superset)."""
    name = (declared or "auto").strip().lower().replace("_", "-")
    name = {"utf8": UTF8, "utf-8-bom": UTF8_SIG, "utf8-sig": UTF8_SIG, "gbk": GB18030, "gb2312": GB18030}.get(
        name, name
    )
    if name not in DECLARABLE:
        raise GovhubError(
            Problem(
                code="sheet.encoding",
                message_zh=f"目录中声明的编码“{declared}”不受支持",
                value=str(declared),
                expected="auto、utf-8、utf-8-sig、gb18030 或 gbk",
            )
        )
    return name


def sniff_binary(data: bytes) -> str | None:
    """What a non-text file is (for messages), or None when it may be text."""
    head = data[:8]
    if head.startswith(b"PK\x03\x04"):
        return "Excel工作簿（xlsx）或其他压缩文件"
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        return "旧版Excel（xls）或加密的Excel文件"
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "UTF-16编码的文本（Excel「Unicode文本」格式）"
    if head.startswith(b"%PDF"):
        return "PDF文件"
    if b"\x00" in data[:_SNIFF]:
        return "二进制文件或UTF-16编码的文本"
    return None


def _line_of(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1


def _not_text(found: str) -> GovhubError:
    return GovhubError(
        Problem(
            code="sheet.encoding",
            message_zh=f"无法读取为CSV文本：文件实际是{found}。{_SAVE_AS}",
            value=found,
            expected="UTF-8或GB18030/GBK编码的CSV文本",
        )
    )


def decode_error(data: bytes, encoding: str, *, declared: str = "auto") -> GovhubError:
    """The Chinese error for bytes that do not decode as `encoding`: which line, and what to do."""
    codec = UTF8 if encoding == UTF8_SIG else encoding
    offset = _failure_offset(data, codec)
    line = _line_of(data, offset)
    snippet = data[offset : offset + 4].hex(" ").upper()
    hint = ""
    if declared != "auto":
        other = GB18030 if codec == UTF8 else UTF8
        if _decodes(data, other):
            hint = f"文件看起来是{_LABELS[other]}编码，请将目录中的编码设置改为auto或{other}。"
    return GovhubError(
        Problem(
            code="sheet.encoding",
            message_zh=(
                f"按{_LABELS[encoding]}编码读取失败：第{line}行附近有无法识别的字节（{snippet}）。"
                f"{hint or '文件既不是UTF-8也不是GB18030/GBK编码。'}{_SAVE_AS}"
            ),
            row=line,
            value=snippet,
            expected="UTF-8或GB18030/GBK编码的CSV文本",
        )
    )


def _decodes(data: bytes, codec: str) -> bool:
    try:
        data.decode(codec)
    except UnicodeDecodeError:
        return False
    return True


def _prefix(data: bytes) -> bytes:
    """The first ~64 KiB, cut after a line break so that a multi-byte character is never split."""
    if len(data) <= _SNIFF:
        return data
    cut = data.rfind(b"\n", 0, _SNIFF)
    return data[: cut + 1] if cut > 0 else data[:_SNIFF]


def detect_encoding(data: bytes, declared: str | None = "auto") -> str:
    """The codec to read `data` with: 'utf-8', 'utf-8-sig' or 'gb18030'; a `sheet.encoding` error otherwise.

    With a declared encoding the bytes must decode in it (a BOM is honoured). In auto mode: a UTF-8 BOM or valid
    UTF-8 throughout means UTF-8; otherwise a prefix that decodes as GB18030 means GB18030 (the reader checks the rest).
    """
    name = canonical(declared)
    found = sniff_binary(data)
    if found:
        raise _not_text(found)
    has_bom = data.startswith(b"\xef\xbb\xbf")
    if name in (UTF8, UTF8_SIG):
        name = UTF8_SIG if has_bom else UTF8
        if not _decodes(data, UTF8):
            raise decode_error(data, name, declared=str(declared))
        return name
    if name == GB18030:
        if has_bom:
            raise GovhubError(
                Problem(
                    code="sheet.encoding",
                    message_zh=(
                        "目录声明该资源的CSV为GB18030/GBK编码，但文件以UTF-8的BOM开头，实际是UTF-8编码。"
                        "请将目录中的编码设置改为auto，或按GB18030/GBK重新保存文件"
                    ),
                    value="UTF-8（带BOM）",
                    expected="GB18030/GBK编码的CSV文本",
                )
            )
        if not _decodes(_prefix(data), GB18030):
            raise decode_error(data, GB18030, declared=str(declared))
        return GB18030
    if has_bom:
        if not _decodes(data, UTF8):
            raise decode_error(data, UTF8_SIG)
        return UTF8_SIG
    if _decodes(data, UTF8):
        return UTF8
    if _decodes(_prefix(data), GB18030):
        return GB18030
    # neither: report the reading that got furthest (a UTF-8 file with one bad byte is "mostly UTF-8")
    likely = UTF8 if _failure_offset(data, UTF8) >= _failure_offset(data, GB18030) else GB18030
    raise decode_error(data, likely)


def _failure_offset(data: bytes, codec: str) -> int:
    try:
        data.decode(codec)
    except UnicodeDecodeError as exc:
        return exc.start
    return len(data)


def decode_text(data: bytes, declared: str | None = "auto") -> str:
    """The whole file as text (for small files, reports and annotated copies)."""
    encoding = detect_encoding(data, declared)
    try:
        return data.decode(encoding)
    except UnicodeDecodeError:
        raise decode_error(data, encoding, declared=str(declared)) from None


def decode_gb18030_column(values: pa.Array, head_rows: int) -> pa.Array | None:
    """A CSV column parsed as raw bytes, decoded from GB18030 to Arrow text; None if it does not decode.

    Splitting a GB18030 file into fields *before* decoding is safe where a byte-wise reader is not (see above):
    no byte of a multi-byte character is ever a comma, a quote or a line break (trail bytes are 0x30–0x39 and
    0x40–0xFE), so the fields found are exactly the decoded file's. Most columns are ASCII below their header (ID
    numbers, codes, dates, amounts): those need no decoding at all; only the columns holding Chinese are decoded, in
    one call for the whole column (values joined by NUL, which no GB18030 character contains, and split again).
    The first `head_rows` values (where the header is looked for) are decoded one by one.
    None when any byte does not decode (the caller's decoding reader then names where).
    """
    try:
        head = [None if v is None else v.decode(GB18030) for v in values[:head_rows].to_pylist()]
    except UnicodeDecodeError:
        return None
    tail = values[head_rows:]
    offsets, raw = string_buffers(tail)
    if not raw.size or (raw < 0x80).all():
        decoded = tail.cast(pa.string())  # ASCII is UTF-8: validated, not copied
    else:
        if (raw == 0).any():
            return None
        lengths = np.diff(offsets)
        joined = np.zeros(raw.size + len(tail), np.uint8)  # each value followed by a NUL
        ends = np.cumsum(lengths + 1) - 1
        keep = np.ones(joined.size, bool)
        keep[ends] = False
        joined[keep] = raw
        try:
            text = joined.tobytes().decode(GB18030).encode("utf-8")
        except UnicodeDecodeError:
            return None
        utf8 = np.frombuffer(text, np.uint8)
        nul = np.flatnonzero(utf8 == 0)
        starts = np.concatenate(([0], nul[:-1] - np.arange(len(nul) - 1)))
        value_offsets = np.concatenate((starts, [utf8.size - len(nul)])).astype(np.int32)
        decoded = pa.StringArray.from_buffers(
            len(tail), pa.py_buffer(value_offsets), pa.py_buffer(utf8[utf8 != 0].tobytes())
        )
    return pa.concat_arrays([pa.array(head, pa.string()), decoded])
