"""Header matching: whatever Excel did to a header, it still names its field; what cannot match is said precisely."""

from __future__ import annotations

import pytest

from govhub.connectors.headers import column_letter, match_headers, normalise_header
from govhub.connectors.sheet import read_sheet
from tests.connectors.test_sheet import HEADERS, ID1, sheet_resource, write_csv, write_xlsx


@pytest.mark.parametrize(
    "written",
    [
        "公民身份号码",  # label
        "id_number",  # field name
        "ID_Number",  # field name, other case
        " 公民身份号码 ",  # surrounding spaces
        "公民 身份\u3000号码",  # inner ASCII and full-width spaces
        "ｉｄ＿ｎｕｍｂｅｒ",  # full-width letters (NFKC)
        "*公民身份号码",  # required marker
        "＊公民身份号码",  # full-width marker
        "公民身份号码*",
        "公民身份号码(必填)",
        "公民身份号码（必填）",  # full-width brackets
        "*公民身份号码【必填】",
        "公民身份\n号码",  # Alt+Enter line break in the cell
    ],
)
def test_each_header_variant_names_the_field(written):
    match = match_headers(sheet_resource(), [written, *HEADERS[1:]])
    assert match.columns["id_number"] == 0
    assert match.written["id_number"] == written.strip()
    assert match.blocking == []


def test_header_variants_in_a_real_xlsx(tmp_path):
    headers = ["*公民身份号码(必填)", "姓 名", "性别", "户内人数", "补贴金额", "出生\n日期", "phone"]
    path = write_xlsx(tmp_path / "a.xlsx", [[ID1, "张三", "男", 1, 2, "2020-01-01", "1"]], headers=headers)
    batch = next(read_sheet(sheet_resource(), path).batches)
    assert batch.column("id_number").to_pylist() == [ID1] and batch.column("phone").to_pylist() == ["1"]


def test_problem_messages_use_the_header_as_written(tmp_path):
    path = write_csv(tmp_path / "a.csv", [["1"] * 7], headers=[*HEADERS[:6], " 电话号码 "])
    match = match_headers(sheet_resource(), [*HEADERS[:6], " 电话号码 "])
    [unknown] = [p for p in match.problems if p.code == "sheet.unknown_column"]
    assert "G列「电话号码」" in unknown.message_zh and path.exists()


def test_normalise_and_column_letters():
    assert normalise_header("  *Name（必填） ") == "name"
    assert normalise_header(None) == ""
    assert [column_letter(i) for i in (0, 25, 26, 701, 702)] == ["A", "Z", "AA", "ZZ", "AAA"]


def test_blank_header_without_data_is_ignored_silently():
    match = match_headers(
        sheet_resource(), [*HEADERS[:3], "", *HEADERS[3:]], column_has_data=[True] * 3 + [False] + [True] * 4
    )
    assert match.problems == [] and match.ignored == [3]
