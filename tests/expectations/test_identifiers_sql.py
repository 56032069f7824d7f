"""The DuckDB identifier checks agree with the scalar definitions (govhub.identifiers) and with python-stdnum."""

from __future__ import annotations

import random

import duckdb
import pytest
from stdnum.cn import ric, uscc

from govhub.expectations import identifiers_sql as ids
from govhub.identifiers import cn_id_problem, uscc_problem
from tests.expectations.corpus import BAD_CN_IDS, BAD_USCCS, USCC_HEAD_MESSAGES, make_cn_id, make_uscc


@pytest.fixture(scope="module")
def con() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    ids.register_checks(con)
    return con


def sql_verdicts(
    con: duckdb.DuckDBPyConnection, expression: str, values: list[str | None]
) -> list[bool | None]:
    con.execute("CREATE OR REPLACE TEMP TABLE v AS SELECT unnest(?::VARCHAR[]) AS value", [values])
    # keep input order: unnest preserves it, and so does a plain projection
    return [r[0] for r in con.execute(f"SELECT {expression} FROM v").fetchall()]


def test_known_county_codes_come_from_stdnum_and_include_songjiang() -> None:
    codes = ids.known_county_codes()
    assert len(codes) > 3000
    assert {"310117", "110105", "310000"} <= codes
    assert "999999" not in codes


def test_songjiang_towns_are_nine_digit_codes_under_310117() -> None:
    towns = ids.songjiang_towns()
    assert len(towns) >= 17
    assert all(len(c) == 9 and c.startswith("310117") for c in towns)
    assert "310117001" in towns


def test_random_valid_id_numbers_pass_in_sql_scalar_and_stdnum(con: duckdb.DuckDBPyConnection) -> None:
    rng = random.Random(11643)
    values = [make_cn_id(rng) for _ in range(2000)]
    assert all(ric.is_valid(v) for v in values)
    assert all(cn_id_problem(v) is None for v in values)
    assert sql_verdicts(con, ids.cn_id_valid_sql("value"), values) == [True] * len(values)


@pytest.mark.parametrize("kind", sorted(BAD_CN_IDS))
def test_every_bad_id_number_is_caught(con: duckdb.DuckDBPyConnection, kind: str) -> None:
    bad = BAD_CN_IDS[kind](make_cn_id(random.Random(kind)))
    assert sql_verdicts(con, ids.cn_id_valid_sql("value"), [bad]) == [False], bad
    assert ids.cn_id_reason(bad) is not None


def test_id_number_reasons_name_the_fault() -> None:
    assert "出生日期19990230" in ids.cn_id_reason(BAD_CN_IDS["impossible birth date"](""))
    assert "999999" in ids.cn_id_reason(BAD_CN_IDS["unknown region"](make_cn_id(random.Random(1))))
    assert "校验码" in ids.cn_id_reason(BAD_CN_IDS["wrong check digit"](make_cn_id(random.Random(1))))
    assert ids.cn_id_reason(BAD_CN_IDS["lowercase x"]("")) == "校验码应为大写X"
    assert ids.cn_id_reason(BAD_CN_IDS["full-width X"]("")) == "含全角字符，请改为半角"
    assert (
        ids.cn_id_reason(BAD_CN_IDS["full-width digits"](make_cn_id(random.Random(1))))
        == "含全角字符，请改为半角"
    )


@pytest.mark.parametrize("kind", sorted(USCC_HEAD_MESSAGES))
def test_uscc_head_reasons_name_the_fault(con: duckdb.DuckDBPyConnection, kind: str) -> None:
    bad = BAD_USCCS[kind](make_uscc(random.Random(kind)))
    assert ids.uscc_reason(bad).startswith(USCC_HEAD_MESSAGES[kind]), ids.uscc_reason(bad)
    assert sql_verdicts(con, ids.uscc_valid_sql("value"), [bad, bad.lower()]) == [False, False]


def test_random_valid_usccs_pass_in_sql_scalar_and_stdnum(con: duckdb.DuckDBPyConnection) -> None:
    rng = random.Random(32100)
    regions = sorted(ids.known_county_codes())
    values = [make_uscc(rng, rng.choice(regions)) for _ in range(2000)]
    assert all(uscc.is_valid(v) for v in values)
    assert all(uscc_problem(v) is None for v in values)
    assert sql_verdicts(con, ids.uscc_valid_sql("value"), values) == [True] * len(values)


@pytest.mark.parametrize("kind", sorted(BAD_USCCS))
def test_every_bad_uscc_is_caught(con: duckdb.DuckDBPyConnection, kind: str) -> None:
    bad = BAD_USCCS[kind](make_uscc(random.Random(kind)))
    assert sql_verdicts(con, ids.uscc_valid_sql("value"), [bad]) == [False], bad
    assert ids.uscc_reason(bad) is not None


def test_sql_and_scalar_agree_on_random_near_misses(con: duckdb.DuckDBPyConnection) -> None:
    """Single-character mutations of valid numbers: the SQL verdict equals the scalar one, value by value."""
    rng = random.Random(5)
    ids_, usccs = [], []
    for _ in range(1500):
        v = make_cn_id(rng)
        p = rng.randrange(18)
        ids_.append(v[:p] + rng.choice("0123456789XxＸ３") + v[p + 1 :])
        u = make_uscc(rng)
        p = rng.randrange(18) if rng.random() < 0.7 else rng.randrange(2)  # the head: authority, category
        usccs.append(u[:p] + rng.choice("0123456789ABCDEFGHJKLMNPQRTUWXYIOZSVx３") + u[p + 1 :])
    assert sql_verdicts(con, ids.cn_id_valid_sql("value"), ids_) == [
        ids.cn_id_reason(v) is None for v in ids_
    ]
    assert sql_verdicts(con, ids.uscc_valid_sql("value"), usccs) == [
        ids.uscc_reason(v) is None for v in usccs
    ]
    assert [ids.cn_id_reason(v) is None for v in ids_] == [
        ric.is_valid(v) and cn_id_problem(v) is None for v in ids_
    ]


def test_admin_division_accepts_county_and_songjiang_town_codes_only(con: duckdb.DuckDBPyConnection) -> None:
    values = ["310117", "310117001", "310117121", "310117999", "999999", "31011700", "3101170010", "abcdef"]
    expected = [True, True, True, False, False, False, False, False]
    assert sql_verdicts(con, ids.admin_division_valid_sql("value"), values) == expected
    assert [ids.admin_division_reason(v) is None for v in values] == expected


def test_mobile_numbers(con: duckdb.DuckDBPyConnection) -> None:
    values = [
        "13812345678",
        "19912345678",
        "12812345678",
        "1381234567",
        "138123456789",
        "+8613812345678",
        "1381234567a",
    ]
    expected = [True, True, False, False, False, False, False]
    assert sql_verdicts(con, ids.mobile_valid_sql("value"), values) == expected
    assert [ids.mobile_reason(v) is None for v in values] == expected


def test_null_is_neither_valid_nor_invalid(con: duckdb.DuckDBPyConnection) -> None:
    for expression in (
        ids.cn_id_valid_sql("value"),
        ids.uscc_valid_sql("value"),
        ids.mobile_valid_sql("value"),
    ):
        assert sql_verdicts(con, expression, [None]) == [None]
