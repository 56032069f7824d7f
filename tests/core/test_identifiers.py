"""The scalar check-character definitions every vectorised check is proved against."""

from __future__ import annotations

import random

from stdnum.cn import ric, uscc

from govhub.identifiers import cn_id_check_char, cn_id_problem, uscc_check_char, uscc_problem


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
    assert "18位" in cn_id_problem("３１０１１７" + valid[6:])  # full-width digits are not digits here
    code = "91310117MA1G12345"
    assert uscc_problem(code + uscc_check_char(code)) is None
    assert "不含I、O、Z、S、V" in uscc_problem("91310117MA1G1234O" + "0")
