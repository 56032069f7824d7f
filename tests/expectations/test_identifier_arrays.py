"""The vectorised ID-number and USCC checks give the scalar verdict for every value, however the Arrow array is laid
out (nulls, slices, chunks, values of other lengths), directly and as DuckDB functions."""

from __future__ import annotations

import datetime as dt
import random

import duckdb
import pyarrow as pa

from govhub.expectations import identifier_arrays as arrays
from govhub.expectations import identifiers_sql as ids
from tests.expectations.corpus import make_cn_id, make_uscc


def _near_misses(rng: random.Random, make, symbols: str, n: int) -> list[str | None]:
    out: list[str | None] = []
    for _ in range(n):
        v = make(rng)
        p = rng.randrange(18)
        out.append(v[:p] + rng.choice(symbols) + v[p + 1 :])
        out.append(v)
    return out


ODD = [
    None,
    "",
    "31011719900101001",
    "3101171990010100123",
    "３１０１１７１９９００１０１００１Ｘ",
    "身份证号码十八个字节",
    "x" * 18,
]


def test_id_numbers_agree_with_the_scalar_rules_in_any_layout() -> None:
    values = _near_misses(random.Random(3), make_cn_id, "0123456789Xx-", 3000) + ODD
    expected = [None if v is None else ids.cn_id_reason(v) is None for v in values]
    assert arrays.cn_id_valid(pa.array(values)).to_pylist() == expected
    sliced = pa.array(["pad", *values])[1:]
    assert arrays.cn_id_valid(sliced).to_pylist() == expected
    chunked = pa.chunked_array([pa.array(values[:100]), pa.array(values[100:])])
    assert arrays.cn_id_valid(chunked).to_pylist() == expected
    clean = [v for v in values if v is not None and len(v.encode()) == 18]
    assert arrays.cn_id_valid(pa.array(clean)[5:]).to_pylist() == [
        ids.cn_id_reason(v) is None for v in clean[5:]
    ]


def test_birth_dates_are_real_and_between_1900_and_today() -> None:
    region = "310117"
    cases = {
        dt.date(1900, 1, 1): True,
        dt.date(2000, 2, 29): True,
        dt.date.today(): True,
        dt.date(1899, 12, 31): False,
        dt.date.today() + dt.timedelta(days=1): False,
    }
    values = [make_cn_id(random.Random(1), region, day) for day in cases]
    values += [f"{region}19990230{'001'}1", f"{region}20231301{'001'}1", f"{region}19990100{'001'}1"]
    verdicts = arrays.cn_id_valid(pa.array(values)).to_pylist()
    assert verdicts[: len(cases)] == list(cases.values())
    assert verdicts[len(cases) :] == [False, False, False]


def test_usccs_agree_with_the_scalar_rules_in_any_layout() -> None:
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXYIOZSVa"
    values = _near_misses(random.Random(4), make_uscc, alphabet, 3000) + ODD
    expected = [None if v is None else ids.uscc_reason(v) is None for v in values]
    assert arrays.uscc_valid(pa.array(values)).to_pylist() == expected
    assert arrays.uscc_valid(pa.array(["pad", *values])[1:]).to_pylist() == expected


def test_empty_and_all_null_arrays() -> None:
    assert arrays.cn_id_valid(pa.array([], pa.string())).to_pylist() == []
    assert arrays.uscc_valid(pa.array([None, None], pa.string())).to_pylist() == [None, None]


def test_functions_are_registered_once_per_database_and_usable_from_every_cursor() -> None:
    con = duckdb.connect()
    first, second = con.cursor(), con.cursor()
    ids.register_checks(first)
    ids.register_checks(second)  # already there: no error
    ids.register_checks(first)
    value = make_cn_id(random.Random(9))
    first.close()
    sql = f"SELECT {ids.cn_id_valid_sql('?')}, {ids.uscc_valid_sql('?')}"
    assert second.execute(sql, [value, value]).fetchall() == [(True, False)]
