"""Malformed deliveries: each one is refused (or flagged) with the exact code and a Chinese message naming where."""

from __future__ import annotations

import datetime as dt
import zipfile

import openpyxl
import pytest
import xlsxwriter

from govhub.connectors.sheet import read_sheet
from govhub.connectors.template import write_template
from govhub.problems import GovhubError
from tests.connectors.test_sheet import FIELDS, HEADERS, ID1, ID2, ROWS, sheet_resource, write_csv, write_xlsx


def refused(resource, path, **kw):
    with pytest.raises(GovhubError) as err:
        read_sheet(resource, path, **kw)
    return err.value.problems


def one(problems, code):
    found = [p for p in problems if p.code == code]
    assert found, f"no {code} in {[p.code for p in problems]}"
    return found[0]


def test_missing_required_column_lists_every_missing_label(tmp_path):
    headers = ["姓名", "性别", "户内人数", "补贴金额", "出生日期", "联系电话"]
    path = write_csv(tmp_path / "a.csv", [r[1:] for r in ROWS], headers=headers)
    p = one(refused(sheet_resource(), path), "sheet.missing_column")
    assert "「公民身份号码」" in p.message_zh and p.row == 1


def test_missing_optional_column_is_only_a_warning(tmp_path):
    path = write_csv(tmp_path / "a.csv", [r[:6] for r in ROWS], headers=HEADERS[:6])
    extract = read_sheet(sheet_resource(), path)
    p = one(extract.problems, "sheet.missing_optional_column")
    assert not p.blocking and "「联系电话」" in p.message_zh


def test_unknown_column_blocks_and_suggests_the_closest_label(tmp_path):
    headers = [*HEADERS[:6], "联系电话号"]
    p = one(
        refused(sheet_resource(), write_csv(tmp_path / "a.csv", ROWS, headers=headers)),
        "sheet.unknown_column",
    )
    assert "G列「联系电话号」" in p.message_zh and "是否应为「联系电话」" in p.message_zh
    assert p.value == "联系电话号"


def test_unknown_column_is_a_warning_when_the_policy_allows_schema_drift(tmp_path):
    resource = sheet_resource()
    resource.quality.block_on_schema_mismatch = False
    path = write_csv(tmp_path / "a.csv", [[*r, "备注"] for r in ROWS], headers=[*HEADERS, "备注"])
    extract = read_sheet(resource, path)
    assert not one(extract.problems, "sheet.unknown_column").blocking


def test_duplicate_header_names_both_columns(tmp_path):
    headers = [*HEADERS[:6], "姓名 "]
    p = one(
        refused(sheet_resource(), write_csv(tmp_path / "a.csv", ROWS, headers=headers)),
        "sheet.duplicate_header",
    )
    assert "B列「姓名」" in p.message_zh and "G列「姓名」" in p.message_zh


def test_empty_header_cell_over_data_is_refused(tmp_path):
    headers = [*HEADERS[:3], "", *HEADERS[3:]]
    rows = [[*r[:3], "多余", *r[3:]] for r in ROWS]
    p = one(
        refused(sheet_resource(), write_csv(tmp_path / "a.csv", rows, headers=headers)), "sheet.empty_header"
    )
    assert p.column == "D" and "D列" in p.message_zh


def test_merged_header_cells_are_refused_with_the_range(tmp_path):
    path = tmp_path / "a.xlsx"
    wb = xlsxwriter.Workbook(path)
    ws = wb.add_worksheet("数据")
    ws.write_row(0, 0, HEADERS)
    ws.merge_range(0, 5, 0, 6, "出生日期")
    ws.write_row(1, 0, ROWS[0])
    wb.close()
    p = one(refused(sheet_resource(), path), "sheet.merged_header")
    assert "F1:G1" in p.message_zh and p.row == 1


def test_merged_data_cells_are_refused(tmp_path):
    path = tmp_path / "a.xlsx"
    wb = xlsxwriter.Workbook(path)
    ws = wb.add_worksheet("数据")
    ws.write_row(0, 0, HEADERS)
    for i, r in enumerate(ROWS, start=1):
        ws.write_row(i, 0, r)
    ws.merge_range(2, 2, 3, 2, "女")
    wb.close()
    p = one(refused(sheet_resource(), path), "sheet.merged_cells")
    assert "C3:C4" in p.message_zh and p.row == 3


def test_empty_file(tmp_path):
    path = tmp_path / "a.csv"
    path.write_bytes(b"")
    p = one(refused(sheet_resource(), path), "sheet.empty_file")
    assert "0字节" in p.message_zh


def test_empty_xlsx_sheet(tmp_path):
    path = tmp_path / "a.xlsx"
    openpyxl.Workbook().save(path)
    assert "是空的" in one(refused(sheet_resource(), path), "sheet.empty_sheet").message_zh


def test_headers_only_xlsx_is_no_rows(tmp_path):
    p = one(refused(sheet_resource(), write_xlsx(tmp_path / "a.xlsx", [])), "sheet.no_rows")
    assert "只有表头" in p.message_zh and p.row == 2


def test_broken_zip_named_xlsx(tmp_path):
    good = write_xlsx(tmp_path / "good.xlsx", ROWS)
    path = tmp_path / "broken.xlsx"
    path.write_bytes(good.read_bytes()[:1500])
    p = one(refused(sheet_resource(), path), "sheet.not_xlsx")
    assert "损坏" in p.message_zh


def test_csv_renamed_to_xlsx(tmp_path):
    path = tmp_path / "a.xlsx"
    path.write_bytes(write_csv(tmp_path / "a.csv", ROWS).read_bytes())
    assert "改为.csv" in one(refused(sheet_resource(), path), "sheet.not_xlsx").message_zh


def test_xlsx_renamed_to_csv(tmp_path):
    path = tmp_path / "a.csv"
    path.write_bytes(write_xlsx(tmp_path / "a.xlsx", ROWS).read_bytes())
    p = one(refused(sheet_resource(), path), "sheet.wrong_type")
    assert "内容是Excel工作簿" in p.message_zh


def test_xlsx_uploaded_under_another_name_is_judged_by_the_uploaded_name(tmp_path):
    landed = tmp_path / "ab12cd.bin"
    landed.write_bytes(write_xlsx(tmp_path / "a.xlsx", ROWS).read_bytes())
    extract = read_sheet(sheet_resource(), landed, filename="名册.xlsx")
    assert extract.source == "名册.xlsx"


def test_unsupported_extension(tmp_path):
    path = tmp_path / "名册.txt"
    path.write_text("x")
    p = one(refused(sheet_resource(), path), "sheet.wrong_type")
    assert ".txt" in p.message_zh and ".xlsx" in p.expected


def test_format_not_accepted_for_this_resource(tmp_path):
    path = write_csv(tmp_path / "a.csv", ROWS)
    assert one(refused(sheet_resource(formats=["xlsx"]), path), "sheet.wrong_type").expected == ".xlsx"


def test_legacy_xls_and_encrypted_workbooks(tmp_path):
    ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504
    xls = tmp_path / "a.xls"
    xls.write_bytes(ole + "Workbook".encode("utf-16-le"))
    assert "另存为" in one(refused(sheet_resource(), xls), "sheet.wrong_type").message_zh
    # An encrypted xlsx is an OLE container with an EncryptionInfo stream, whatever its extension says.
    enc = tmp_path / "a.xlsx"
    enc.write_bytes(ole + "EncryptionInfo".encode("utf-16-le") + "EncryptedPackage".encode("utf-16-le"))
    assert "密码" in one(refused(sheet_resource(), enc), "sheet.encrypted").message_zh


def test_utf16_csv_is_an_encoding_error_saying_how_to_save(tmp_path):
    path = tmp_path / "a.csv"
    path.write_bytes("\t".join(HEADERS).encode("utf-16"))
    p = one(refused(sheet_resource(), path), "sheet.encoding")
    assert "UTF-16" in p.message_zh and "CSV UTF-8" in p.message_zh


def test_csv_in_neither_encoding_names_the_line(tmp_path):
    path = tmp_path / "a.csv"
    good = write_csv(tmp_path / "g.csv", ROWS, encoding="utf-8").read_bytes()
    path.write_bytes(good + b"\x80\x80,\xff\xfe\r\n")
    p = one(refused(sheet_resource(), path), "sheet.encoding")
    assert p.row == 5 and "第5行" in p.message_zh


def test_declared_utf8_but_file_is_gbk(tmp_path):
    path = write_csv(tmp_path / "a.csv", ROWS, encoding="gb18030")
    p = one(refused(sheet_resource(encoding="utf-8"), path), "sheet.encoding")
    assert "GB18030" in p.message_zh and p.row == 1


def test_ragged_csv_rows_name_their_lines(tmp_path):
    rows = [ROWS[0], ROWS[1] + ["多出来的值"], ROWS[2]]
    p = one(refused(sheet_resource(), write_csv(tmp_path / "a.csv", rows)), "sheet.ragged_row")
    assert "第3行（8列）" in p.message_zh and p.row == 3 and p.expected == "每行7列"


def test_quoted_line_break_is_not_ragged(tmp_path):
    path = tmp_path / "a.csv"
    path.write_text(
        ",".join(HEADERS) + f'\n{ID1},"张\n三",男,1,1,1990-03-07,1\n{ID2},李四,女,1,1,1985-11-21,1\n'
    )
    extract = read_sheet(sheet_resource(), path)
    batch = next(extract.batches)
    assert batch.column("name").to_pylist() == ["张\n三", "李四"]


def test_header_on_the_wrong_row(tmp_path):
    path = tmp_path / "a.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["2024年低保对象名册"])
    ws.append([])
    ws.append(HEADERS)
    ws.append(ROWS[0])
    wb.save(path)
    p = one(refused(sheet_resource(), path), "sheet.header_row")
    assert "第3行找到" in p.message_zh and "删除表头上方的2行" in p.message_zh
    assert read_sheet(sheet_resource(header_row=3), path).problems == []


def test_formula_cells_without_values_are_listed(tmp_path):
    path = tmp_path / "a.xlsx"
    wb = openpyxl.Workbook()  # openpyxl writes formulas without computed values, as a script would
    ws = wb.active
    ws.append(HEADERS)
    ws.append(ROWS[0])
    ws.append([ID2, "李四", "女", "=D2+1", "=E2*2", "1985-11-21", "1"])
    wb.save(path)
    p = one(refused(sheet_resource(), path), "sheet.formula")
    assert "D3、E3" in p.message_zh and p.row == 3 and p.column == "D"


def test_formula_cells_with_values_are_loaded_with_a_warning(tmp_path):
    path = tmp_path / "a.xlsx"
    wb = xlsxwriter.Workbook(path)
    ws = wb.add_worksheet()
    ws.write_row(0, 0, HEADERS)
    ws.write_row(1, 0, ROWS[0])
    ws.write_row(2, 0, [ID2, "李四", "女"])
    ws.write_formula(2, 3, "=D2+1", None, 4)
    wb.close()
    extract = read_sheet(sheet_resource(), path)
    assert next(extract.batches).column("household_size").to_pylist() == [3, 4]
    p = one(extract.problems, "sheet.formula")
    assert not p.blocking and "D3" in p.message_zh


def test_too_many_columns(tmp_path):
    headers = HEADERS + [f"列{i}" for i in range(600)]
    path = write_csv(tmp_path / "a.csv", [ROWS[0] + ["x"] * 600], headers=headers)
    assert "607列" in one(refused(sheet_resource(), path), "sheet.too_many_columns").message_zh


def test_a_csv_with_empty_columns_past_the_limit_is_too_many_columns(tmp_path):
    """Found by fuzz/fuzz_csv.py: columns past MAX_COLUMNS are not typed as text, and an empty one (type null) broke
    the blank-row trimming before the width was checked."""
    path = tmp_path / "wide.csv"
    path.write_text(
        ",".join(HEADERS + [""] * 600) + "\n" + ",".join(ROWS[0]) + "," * 600 + "\n", encoding="utf-8"
    )
    assert one(refused(sheet_resource(), path), "sheet.too_many_columns").value == "607"


def test_a_gbk_csv_with_empty_columns_past_the_limit_is_too_many_columns(tmp_path):
    """Found by fuzz/fuzz_csv.py: the GB18030 column decoder met a null-typed column past MAX_COLUMNS (IndexError)."""
    path = tmp_path / "wide-gbk.csv"
    path.write_bytes(
        (",".join(HEADERS + [""] * 600) + "\n" + ",".join(ROWS[0]) + "," * 600 + "\n").encode("gbk")
    )
    assert one(refused(sheet_resource(), path), "sheet.too_many_columns").value == "607"


def test_named_sheet_missing(tmp_path):
    path = write_xlsx(tmp_path / "a.xlsx", ROWS, title="Sheet1")
    p = one(refused(sheet_resource(sheet_name="低保名册"), path), "sheet.no_sheet")
    assert "低保名册" in p.message_zh and "Sheet1" in p.message_zh


def test_instructions_sheet_first_is_skipped(tmp_path):
    path = tmp_path / "a.xlsx"
    wb = openpyxl.Workbook()
    wb.active.title = "填写说明"
    wb.active.append(["请按要求填写"])
    ws = wb.create_sheet("名册")
    ws.append(HEADERS)
    ws.append(ROWS[0])
    wb.save(path)
    assert next(read_sheet(sheet_resource(), path).batches).num_rows == 1


def test_outdated_template_says_what_changed(tmp_path):
    old = sheet_resource()
    path = write_template(old, tmp_path / "模板.xlsx")
    wb = openpyxl.load_workbook(path)
    ws = wb["填报数据"]
    ws.append(ROWS[0])
    wb.save(path)
    fields = [dict(f) for f in FIELDS if f["name"] != "phone"]
    fields[3] = {**fields[3], "type": "number"}  # 户内人数 integer → number
    fields[1] = {**fields[1], "label": "姓名（中文）"}
    fields.append({"name": "street", "label": "所属街道", "required": True})
    p = one(refused(sheet_resource(fields), path), "sheet.outdated_template")
    for fact in [
        "新增字段「所属街道」（必填）",
        "删除字段「联系电话」",
        "「姓名」更名为「姓名（中文）」",
        "类型由整数改为数字",
    ]:
        assert fact in p.message_zh
    assert p.value == old.fingerprint


def test_template_of_another_resource(tmp_path):
    other = sheet_resource().model_copy(update={"code": "101001002/000009"})
    path = write_template(other, tmp_path / "模板.xlsx")
    wb = openpyxl.load_workbook(path)
    wb["填报数据"].append(ROWS[0])
    wb.save(path)
    p = one(refused(sheet_resource(), path), "sheet.wrong_template")
    assert "101001002/000009" in p.message_zh


def test_cell_problems_keep_the_row_and_other_cells(tmp_path):
    rows = [[ID1, "张三", "男", 3, "很多", dt.datetime(1990, 3, 7), "1"]]
    extract = read_sheet(sheet_resource(), write_xlsx(tmp_path / "a.xlsx", rows))
    p = one(extract.problems, "type.number")
    assert (p.row, p.column, p.value) == (2, "补贴金额", "很多")
    assert next(extract.batches).column("name").to_pylist() == ["张三"]


def test_zip_that_is_not_a_workbook(tmp_path):
    path = tmp_path / "a.xlsx"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("readme.txt", "hello")
    assert one(refused(sheet_resource(), path), "sheet.not_xlsx").value == "a.xlsx"


def test_an_integer_cell_past_64_bits_is_kept_as_text_not_raised():
    """Found by fuzz/fuzz_xlsx.py: pa.array raised OverflowError (no ArrowInvalid) on a cell calamine gave as an
    integer past 64 bits; such a value stays text, a short integer stays exact."""
    import pyarrow as pa

    from govhub.catalog.model import FieldType
    from govhub.connectors.sheet import _cells_to_arrow

    f = sheet_resource().field("name").model_copy(update={"type": FieldType.STRING})
    column, _ = _cells_to_arrow([2**70, 12, "张三"], f, pa.array([2, 3, 4]), "姓名")
    assert column.to_pylist() == [str(2**70), "12", "张三"]


def test_a_ragged_gbk_row_is_refused_without_anything_printed(tmp_path):
    """pyarrow decodes an invalid row's text as UTF-8 before calling a handler: on GB18030 bytes that printed
    "Exception ignored … UnicodeDecodeError" with a traceback to the user's terminal (found by fuzz_csv)."""
    import subprocess
    import sys

    path = tmp_path / "ragged.csv"
    path.write_bytes(
        "公民身份号码,姓名\n110101199003070000,张三\n110101199003071234,李四,多余\n".encode("gbk")
    )
    script = (
        "import sys; from pathlib import Path; from govhub.connectors.sheet import read_sheet;"
        "from govhub.problems import GovhubError; from tests.connectors.test_sheet import sheet_resource\n"
        "try: read_sheet(sheet_resource(), Path(sys.argv[1]))\n"
        "except GovhubError as e: print(e.problems[0].code)"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(path)], capture_output=True, text=True, timeout=120
    )
    assert done.stdout.strip() == "sheet.ragged_row", done.stdout + done.stderr
    assert done.stderr == ""
