"""CSV encodings: UTF-8 (with or without BOM) and GB18030/GBK are read; anything else is explained in Chinese."""

from __future__ import annotations

import pytest

from govhub.connectors.encoding import decode_text, detect_encoding
from govhub.problems import GovhubError

TEXT = "姓名,地址\r\n李䶮,上海市松江区中山中路1号\r\n"


def test_detects_utf8_bom_and_gb18030():
    assert detect_encoding(TEXT.encode("utf-8")) == "utf-8"
    assert detect_encoding(TEXT.encode("utf-8-sig")) == "utf-8-sig"
    assert detect_encoding(TEXT.encode("gb18030")) == "gb18030"
    assert detect_encoding("姓名,地址\r\n张三,松江\r\n".encode("gbk")) == "gb18030"


def test_gb18030_only_name_survives():
    with pytest.raises(UnicodeEncodeError):
        "䶮".encode("gbk")  # why GBK is read as GB18030
    assert decode_text(TEXT.encode("gb18030")) == TEXT


@pytest.mark.parametrize("declared", ["gbk", "GBK", "gb2312", "gb18030"])
def test_declared_gbk_reads_as_gb18030(declared):
    assert detect_encoding(TEXT.encode("gb18030"), declared) == "gb18030"


def test_declared_utf8_honours_a_bom():
    assert detect_encoding(TEXT.encode("utf-8-sig"), "utf-8") == "utf-8-sig"


def test_declared_gb18030_but_utf8_bom_is_explained():
    with pytest.raises(GovhubError) as err:
        detect_encoding(TEXT.encode("utf-8-sig"), "gb18030")
    assert "实际是UTF-8" in err.value.problems[0].message_zh


def test_unknown_declared_encoding():
    with pytest.raises(GovhubError) as err:
        detect_encoding(b"a", "big5")
    assert err.value.problems[0].code == "sheet.encoding" and "big5" in err.value.problems[0].message_zh


@pytest.mark.parametrize(
    ("data", "said"),
    [
        (TEXT.encode("utf-16"), "UTF-16"),
        (b"PK\x03\x04rest", "xlsx"),
        (b"\xd0\xcf\x11\xe0rest", "xls"),
        (b"%PDF-1.7", "PDF"),
        (b"abc\x00def", "二进制"),
    ],
)
def test_non_text_files_say_what_they_are_and_how_to_save(data, said):
    with pytest.raises(GovhubError) as err:
        detect_encoding(data)
    p = err.value.problems[0]
    assert p.code == "sheet.encoding" and said in p.message_zh and "另存为" in p.message_zh


def test_gbk_trail_bytes_that_look_like_ascii_survive_a_whole_file_read(tmp_path):
    # 俓 is 0x82 0x5C in GBK: its second byte is a backslash; 4-byte GB18030 characters have digit bytes inside.
    from govhub.connectors.sheet import read_sheet
    from tests.connectors.test_sheet import ID1, sheet_resource

    path = tmp_path / "a.csv"
    path.write_bytes(f"公民身份号码,姓名\r\n{ID1},俓\\䶮€\r\n".encode("gb18030"))
    resource = sheet_resource(
        [{"name": "id_number", "label": "公民身份号码"}, {"name": "name", "label": "姓名"}]
    )
    batch = next(read_sheet(resource, path).batches)
    assert batch.column("name").to_pylist() == ["俓\\䶮€"]


def test_column_decoding_equals_decoding_the_whole_file_first(tmp_path):
    """The fast GB18030 path (split into byte fields, decode only the columns holding Chinese) gives exactly the
    table the whole-file decoding reader gives: trail bytes that look like ASCII, 4-byte characters, quoted commas
    and line breaks, doubled quotes, empty cells, Chinese far below the header, a header not on row 1."""
    import pyarrow as pa

    from govhub.connectors import sheet

    rows = ["说明：2024年名册,,", "公民身份号码,姓名,备注"]
    for i in range(300):
        note = {7: '"含,逗号"', 8: '"两行\r\n文字"', 9: '"说""引号"""', 10: "", 250: "俓\\䶮€"}.get(i, "ok")
        rows.append(f"3101171990010{i:05d},{'张三䶮' if i % 3 else 'Li Ming'},{note}")
    data = ("\r\n".join(rows) + "\r\n").encode("gb18030")
    fast = sheet._gb18030_table(data, pa.py_buffer(data))
    slow = sheet._parse_csv(data, pa.py_buffer(data), pa.string(), [], encoding="gb18030")
    assert fast is not None
    assert fast.equals(slow)
    assert fast.column("f2").to_pylist()[252] == "俓\\䶮€"


def test_column_decoding_gives_way_when_a_byte_does_not_decode(tmp_path):
    """A broken byte: the fast path returns None and the decoding reader names the row."""
    import pyarrow as pa

    from govhub.connectors import sheet

    data = "公民身份号码,姓名\r\n1,张三\r\n".encode("gb18030") + b"2,\x81\x20\r\n"
    assert sheet._gb18030_table(data, pa.py_buffer(data)) is None
