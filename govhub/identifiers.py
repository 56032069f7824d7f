"""Chinese identifiers' check characters, shared by the catalog, the demo district and the quality checks.

- 公民身份号码 (GB 11643-1999): 6-digit region, 8-digit birth date, 3-digit sequence, ISO 7064 MOD 11-2 check.
- 统一社会信用代码 (GB 32100-2015): 18 characters over a 31-symbol alphabet, MOD 31 check.
These are plain functions so that the vectorised checks (DuckDB) can be proved equal to them in tests.
"""

from __future__ import annotations

import datetime as dt
import re

CN_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CN_ID_CHECK = "10X98765432"
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)

_CN_ID_SHAPE = re.compile(r"[0-9]{17}[0-9X]", re.ASCII)  # ASCII: \d would accept full-width digits
_USCC_SHAPE = re.compile(rf"[0-9A-HJ-NPQRTUWXY]{{2}}[0-9]{{6}}[{USCC_ALPHABET}]{{10}}")


def cn_id_check_char(first17: str) -> str:
    """The 18th character of an ID number whose first 17 digits are given."""
    total = sum(int(c) * w for c, w in zip(first17, CN_ID_WEIGHTS, strict=True))
    return CN_ID_CHECK[total % 11]


def cn_id_problem(value: str) -> str | None:
    """Why `value` is not a valid 18-digit ID number (in Chinese), or None when it is.

    Checks shape, birth date (a real date, not in the future, not before 1900) and check digit.
    The region is checked separately against known division codes (see `expectations`).
    """
    if not _CN_ID_SHAPE.fullmatch(value):
        return "应为18位，前17位为数字，末位为数字或大写X"
    try:
        birth = dt.date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        return f"出生日期{value[6:14]}不是有效日期"
    if birth.year < 1900 or birth > dt.date.today():
        return f"出生日期{value[6:14]}超出合理范围"
    if cn_id_check_char(value[:17]) != value[17]:
        return f"校验码错误（应为{cn_id_check_char(value[:17])}）"
    return None


def uscc_check_char(first17: str) -> str:
    """The 18th character of a unified social credit code whose first 17 characters are given."""
    total = sum(USCC_ALPHABET.index(c) * w for c, w in zip(first17, USCC_WEIGHTS, strict=True))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def uscc_problem(value: str) -> str | None:
    """Why `value` is not a valid unified social credit code (in Chinese), or None when it is."""
    if not _USCC_SHAPE.fullmatch(value):
        return "应为18位，由数字和大写字母（不含I、O、Z、S、V）组成，第3至8位为行政区划代码"
    if uscc_check_char(value[:17]) != value[17]:
        return f"校验码错误（应为{uscc_check_char(value[:17])}）"
    return None
