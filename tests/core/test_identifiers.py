"""The scalar check-character definitions every vectorised check is proved against."""

from __future__ import annotations

import random

from stdnum.cn import ric, uscc

from govhub.identifiers import (
    USCC_ALPHABET,
    USCC_AUTHORITIES,
    USCC_KINDS,
    cn_id_check_char,
    cn_id_problem,
    uscc_check_char,
    uscc_problem,
)

FULL_WIDTH = str.maketrans("0123456789Xx", "０１２３４５６７８９Ｘｘ")


def _id_ending_in_x() -> str:
    return next(
        b + "X" for b in (f"31011719800101{n:03d}" for n in range(1000)) if cn_id_check_char(b) == "X"
    )


def _uscc(head: str) -> str:
    body = head + "310117MA1G12345"
    return body + uscc_check_char(body)


def test_check_characters_agree_with_python_stdnum() -> None:
    rng = random.Random(7)
    for _ in range(2000):
        body = (
            "310117"
            + f"{rng.randint(1950, 2010)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}"
            + f"{rng.randint(0, 999):03d}"
        )
        assert cn_id_check_char(body) == ric.calc_check_digit(body + "?")  # stdnum expects the 18th place
        org = "".join(rng.choice("0123456789ABCDEFGHJKLMNPQRTUWXY") for _ in range(9))
        code17 = "91310117" + org
        assert uscc_check_char(code17) == uscc.calc_check_digit(code17)


def test_bad_identifiers_are_explained_in_chinese() -> None:
    valid = "31011719800101123" + cn_id_check_char("31011719800101123")
    assert cn_id_problem(valid) is None
    wrong = valid[:17] + ("0" if valid[17] != "0" else "1")
    assert "校验码错误" in cn_id_problem(wrong)
    assert "出生日期19990230" in cn_id_problem("310117199902301234")
    assert "18位" in cn_id_problem(valid + "\n")
    assert cn_id_problem("３１０１１７" + valid[6:]) == "含全角字符，请改为半角"  # not digits, but fixable
    code = "91310117MA1G12345"
    assert uscc_problem(code + uscc_check_char(code)) is None
    assert "不含I、O、Z、S、V" in uscc_problem("91310117MA1G1234O" + "0")


def test_a_lower_case_x_is_refused_with_how_to_fix_it() -> None:
    number = _id_ending_in_x()
    assert cn_id_problem(number) is None
    assert cn_id_problem(number[:17] + "x") == "校验码应为大写X"
    # where X would be wrong anyway, say what is wrong, not how to spell it
    body = number[:16] + str((int(number[16]) + 1) % 10)
    assert cn_id_problem(body + "x") == f"校验码错误（应为{cn_id_check_char(body)}）"


def test_full_width_forms_are_refused_with_how_to_fix_them() -> None:
    number = _id_ending_in_x()
    assert cn_id_problem(number.translate(FULL_WIDTH)) == "含全角字符，请改为半角"
    assert cn_id_problem(number[:17] + "Ｘ") == "含全角字符，请改为半角"
    assert cn_id_problem(number[:17] + "ｘ") == "含全角字符，请改为半角；改为半角后仍有问题：校验码应为大写X"
    assert cn_id_problem(number[:6] + "\u3000" + number[7:]).startswith("含全角字符")  # ideographic space
    wrong = number[:14] + "123" + "X"
    assert "校验码错误" in cn_id_problem(wrong.translate(FULL_WIDTH))
    code = _uscc("91")
    assert uscc_problem(code.translate(FULL_WIDTH)) == "含全角字符，请改为半角"
    assert uscc_problem(code.lower()) == "字母应为大写"


def test_the_uscc_table_has_every_authority_and_category_of_gb_32100() -> None:
    assert sorted(USCC_AUTHORITIES) == [*"123456789", "A", "N", "Y"]
    assert {
        "11",
        "12",
        "13",
        "19",
        "21",
        "29",
        "31",
        "35",
        "39",
        "41",
        "49",
        "51",
        "52",
        "53",
        "59",
    } <= USCC_KINDS
    assert {
        "61",
        "62",
        "69",
        "71",
        "72",
        "79",
        "81",
        "89",
        "91",
        "92",
        "93",
        "A1",
        "A9",
        "N1",
        "N9",
        "Y1",
    } <= USCC_KINDS
    assert len(USCC_KINDS) == 36
    assert set("".join(USCC_KINDS)) <= set(USCC_ALPHABET)


def test_every_first_two_characters_are_judged_by_the_table() -> None:
    """All 31 × 31 heads with a correct check character: valid exactly when the table has them."""
    for authority in USCC_ALPHABET:
        for category in USCC_ALPHABET:
            problem = uscc_problem(_uscc(authority + category))
            assert (problem is None) == (authority + category in USCC_KINDS), (authority, category, problem)


def test_a_head_outside_the_table_names_what_is_wrong_and_what_is_expected() -> None:
    assert uscc_problem(_uscc("Y3")).startswith(
        "登记管理部门代码“Y”下没有机构类别“3”（Y为其他，机构类别应为1（其他）"
    )
    assert "机构类别应为1（企业）、2（个体工商户）、3（农民专业合作社）" in uscc_problem(_uscc("94"))
    unknown = uscc_problem(_uscc("B1"))
    assert unknown.startswith("第1位登记管理部门代码“B”不存在") and "N（农业）" in unknown
    # amendments after 2015 are accepted: military units (A) and rural collectives (N)
    assert uscc_problem(_uscc("A1")) is None and uscc_problem(_uscc("N2")) is None
