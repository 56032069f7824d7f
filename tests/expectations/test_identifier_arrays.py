"""The vectorised ID-number and USCC checks give the scalar verdict for every value, however the Arrow array is laid
out (nulls, slices, chunks, values of other lengths), directly and as DuckDB functions."""

from __future__ import annotations

import datetime as dt
import random

import duckdb
import pyarrow as pa

from govhub.expectations import identifier_arrays as arrays
from govhub.expectations import identifiers_sql as ids
from govhub.identifiers import USCC_ALPHABET, uscc_check_char
from tests.expectations.corpus import BAD_CN_IDS, BAD_USCCS, make_cn_id, make_uscc


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
    "３１０１１７１９８００１０１００２Ｘ",  # full-width, 54 bytes
    "31011719800101002ｘ",  # full-width x: 20 bytes
    "31011719800101002x",  # lower-case x: 18 bytes, the only one that reaches the byte matrix
    "9131011７MA1G12345Q",
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


def test_usccs_agree_with_the_scalar_rules_on_every_head_of_the_gb_32100_table() -> None:
    """All 31 × 31 first-two-character pairs (and lower-case ones), each with a correct check character: the
    vectorised verdict is the scalar one, which follows the table."""
    rng = random.Random(32100)
    heads = [a + c for a in USCC_ALPHABET + "ay" for c in USCC_ALPHABET + "IOZSV"]
    values = []
    for head in heads:
        body = head + "310117" + "".join(rng.choice(USCC_ALPHABET) for _ in range(9))
        values.append(body + (uscc_check_char(body) if set(body) <= set(USCC_ALPHABET) else "0"))
    expected = [ids.uscc_reason(v) is None for v in values]
    assert arrays.uscc_valid(pa.array(values)).to_pylist() == expected
    assert sum(expected) == 36  # one per (authority, category) of the table


def test_every_bad_case_of_the_corpus_is_invalid_in_both() -> None:
    rng = random.Random(11)
    ids_ = [make(make_cn_id(rng)) for make in BAD_CN_IDS.values()]
    usccs = [make(make_uscc(rng)) for make in BAD_USCCS.values()]
    assert arrays.cn_id_valid(pa.array(ids_)).to_pylist() == [False] * len(ids_)
    assert [ids.cn_id_reason(v) is None for v in ids_] == [False] * len(ids_)
    assert arrays.uscc_valid(pa.array(usccs)).to_pylist() == [False] * len(usccs)
    assert [ids.uscc_reason(v) is None for v in usccs] == [False] * len(usccs)


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
