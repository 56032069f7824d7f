"""Chinese identifiers checked in DuckDB SQL: ID numbers, USCCs, division codes, mobile numbers.

Each `*_valid_sql(column)` returns a boolean SQL expression over a quoted column: TRUE for a valid value, FALSE for
an invalid one, NULL for NULL. They agree with the scalar definitions in `govhub.identifiers`, which the tests
prove value by value; where python-stdnum judges otherwise, each class of difference is a named test
(tests/expectations/test_identifiers_vs_stdnum.py). ID numbers and USCCs are checked by vectorised functions
(`identifier_arrays`: the check-digit arithmetic as SQL string functions cost ≈5x more and made DuckDB spend
≈18 ms binding each small load's query); division codes and mobiles by plain SQL that cannot raise.

Known division codes come from python-stdnum's `cn/loc.dat` (every 6-digit code it lists, including historic
ones, as stdnum accepts them) plus Songjiang's 9-digit town codes; `register_checks` puts both into a
connection as tables the expressions look up, and the functions into its database.
"""

from __future__ import annotations

import functools
import re
from importlib import resources

import duckdb
import pyarrow as pa

from govhub import duck
from govhub.expectations import identifier_arrays as arrays

DIVISION6_TABLE = "govhub_division6"
DIVISION9_TABLE = "govhub_division9"
MOBILE_REGEX = r"^1[3-9][0-9]{9}$"
_MOBILE = re.compile(r"1[3-9][0-9]{9}")


@functools.cache
def known_county_codes() -> frozenset[str]:
    """Every 6-digit division code python-stdnum knows (province, prefecture and county level, past and present)."""
    text = resources.files("stdnum").joinpath("cn/loc.dat").read_text(encoding="utf-8")
    codes: set[str] = set()
    province = ""
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        code = line.split()[0]
        if not line.startswith(" ") and len(code) == 2:
            province = code
        elif line.startswith("  ") and len(code) == 4 and province:
            codes.add(province + code)
    return frozenset(codes)


@functools.cache
def songjiang_towns() -> dict[str, str]:
    """Songjiang's 9-digit town/street codes → names."""
    from govhub.divisions import SONGJIANG_TOWNS

    return dict(SONGJIANG_TOWNS)


@functools.cache
def _code_tables() -> tuple[tuple[str, pa.Table], ...]:
    """The known division codes as Arrow tables, built once per process."""
    return tuple(
        (table, pa.table({"code": pa.array(sorted(codes), pa.string())}))
        for table, codes in ((DIVISION6_TABLE, known_county_codes()), (DIVISION9_TABLE, songjiang_towns()))
    )


def register_checks(con: duckdb.DuckDBPyConnection) -> None:
    """Make the checks usable in this connection: the known division codes as tables and the vectorised ID/USCC
    functions. On a cursor of the loads' shared database (`duck.shared_cursor`) they are put into the database
    once; elsewhere registered on the connection (registered Arrow tables: ≈0.5 ms, where building them as temp
    tables cost ≈6 ms)."""
    duck.once_per_database(con, "govhub.identifier-checks", shared=_install, local=_register)


def _register(con: duckdb.DuckDBPyConnection) -> None:
    for table, codes in _code_tables():
        con.register(table, codes)
    arrays.register_functions(con)


def _install(database: duckdb.DuckDBPyConnection) -> None:
    for table, codes in _code_tables():
        database.from_arrow(codes).create(table)
    arrays.register_functions(database)


def cn_id_valid_sql(column: str) -> str:
    """18-digit 公民身份号码: shape, real birth date in [1900-01-01, today], GB 11643 check digit, known region
    (`identifier_arrays.cn_id_valid`, vectorised)."""
    return f"{arrays.CN_ID_FUNCTION}({column})"


def uscc_valid_sql(column: str) -> str:
    """统一社会信用代码: 18 chars over the 31-symbol alphabet, an authority and category of the GB 32100 table,
    digits 3–8 a known division code, GB 32100 check
    (`identifier_arrays.uscc_valid`, vectorised)."""
    return f"{arrays.USCC_FUNCTION}({column})"


def admin_division_valid_sql(column: str) -> str:
    """行政区划代码: a known 6-digit code, or one of Songjiang's 9-digit town/street codes."""
    return (
        f"(CASE length({column})"
        f" WHEN 6 THEN {column} IN (SELECT code FROM {DIVISION6_TABLE})"
        f" WHEN 9 THEN {column} IN (SELECT code FROM {DIVISION9_TABLE})"
        f" ELSE FALSE END)"
    )


def mobile_valid_sql(column: str) -> str:
    """Mainland mobile number: 11 digits starting 13–19."""
    return f"regexp_full_match({column}, '1[3-9][0-9]{{9}}')"


# Scalar twins used for row messages and by the GE expectations (same rules as the SQL above).


def cn_id_reason(value: str) -> str | None:
    """Why `value` is not a valid ID number (Chinese), or None."""
    from govhub.identifiers import cn_id_problem

    found = cn_id_problem(value)
    if found is None and value[:6] not in known_county_codes():
        return f"前6位行政区划代码{value[:6]}不存在"
    return found


def uscc_reason(value: str) -> str | None:
    """Why `value` is not a valid USCC (Chinese), or None."""
    from govhub.identifiers import uscc_problem

    found = uscc_problem(value)
    if found is None and value[2:8] not in known_county_codes():
        return f"第3至8位登记管理机关行政区划码{value[2:8]}不存在"
    return found


def admin_division_reason(value: str) -> str | None:
    if len(value) == 6 and value in known_county_codes():
        return None
    if len(value) == 9 and value in songjiang_towns():
        return None
    return f"行政区划代码{value}不存在（应为已知的6位县级代码或松江区9位街镇代码）"


def mobile_reason(value: str) -> str | None:
    return None if _MOBILE.fullmatch(value) else "应为11位手机号码，以13至19开头"
