"""Chinese identifiers' check characters, shared by the catalog, the demo district and the quality checks.

- 公民身份号码 (GB 11643-1999): 6-digit region, 8-digit birth date, 3-digit sequence, ISO 7064 MOD 11-2 check.
- 统一社会信用代码 (GB 32100-2015): registration authority and organisation category (checked against the
  standard's table), 6-digit division code, 9-character organisation code, MOD 31 check, over a 31-symbol alphabet.
These are plain functions so that the vectorised checks (DuckDB) can be proved equal to them in tests.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Callable

CN_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CN_ID_CHECK = "10X98765432"
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)

# 登记管理部门代码 (1st character) → (its name, {机构类别代码 (2nd character): category name}).
# Source: GB 32100-2015 §4 with its table of registration authorities and their categories, in the form circulated
# today, e.g. https://osuse.cn/post/10002590.html (the same table as the validators we surveyed, e.g. Go's
# github.com/issue9/webfilter/gb32100). The standard has one amendment, GB 32100-2015/XG1-2016 (csres.com
# listing); we could not read its text. Two authorities are later than the 2015 table: A (中央军委改革和编制办公室,
# an office created in the military reform of January 2016) and N (农业: rural collective economic organisations,
# coded from 2018 under 农经发〔2018〕4号). Both are ACCEPTED: real bodies carry these codes (Songjiang's village
# collectives among them), so refusing them would quarantine valid legal-entity rows; what the hub must catch is a
# code no registrar can have issued, not a table frozen in 2015. Not accepted: "99" (one validator lists 工商 →
# 其他; the table has 1–3 only) and Y with any category but 1 (Y "不再具体划分机构类别，统一用1表示").
USCC_AUTHORITIES: dict[str, tuple[str, dict[str, str]]] = {
    "1": ("机构编制", {"1": "机关", "2": "事业单位", "3": "中央编办直接管理机构编制的群众团体", "9": "其他"}),
    "2": ("外交", {"1": "外国常驻新闻机构", "9": "其他"}),
    "3": (
        "司法行政",
        {
            "1": "律师执业机构",
            "2": "公证处",
            "3": "基层法律服务所",
            "4": "司法鉴定机构",
            "5": "仲裁委员会",
            "9": "其他",
        },
    ),
    "4": ("文化", {"1": "外国在华文化中心", "9": "其他"}),
    "5": ("民政", {"1": "社会团体", "2": "民办非企业单位", "3": "基金会", "9": "其他"}),
    "6": (
        "旅游",
        {"1": "外国旅游部门常驻代表机构", "2": "港澳台地区旅游部门常驻内地（大陆）代表机构", "9": "其他"},
    ),
    "7": ("宗教", {"1": "宗教活动场所", "2": "宗教院校", "9": "其他"}),
    "8": ("工会", {"1": "基层工会", "9": "其他"}),
    "9": (
        "工商",  # now 市场监管 (SAMR): the body was renamed, the code was not
        {"1": "企业", "2": "个体工商户", "3": "农民专业合作社"},
    ),
    "A": ("中央军委改革和编制办公室", {"1": "军队事业单位", "9": "其他"}),
    "N": (
        "农业",
        {"1": "组级集体经济组织", "2": "村级集体经济组织", "3": "乡镇级集体经济组织", "9": "其他"},
    ),
    "Y": ("其他", {"1": "其他"}),
}
USCC_KINDS = frozenset(a + c for a, (_, categories) in USCC_AUTHORITIES.items() for c in categories)

_CN_ID_SHAPE = re.compile(r"[0-9]{17}[0-9X]", re.ASCII)  # ASCII: \d would accept full-width digits
_USCC_SHAPE = re.compile(rf"[0-9A-HJ-NPQRTUWXY]{{2}}[0-9]{{6}}[{USCC_ALPHABET}]{{10}}")
_CN_ID_SHAPE_TEXT = "应为18位，前17位为数字，末位为数字或大写X"
_USCC_SHAPE_TEXT = "应为18位，由数字和大写字母（不含I、O、Z、S、V）组成，第3至8位为行政区划代码"


def has_full_width(value: str) -> bool:
    """True if `value` holds a full-width form (全角: ０–９, Ｘ, ｘ, ideographic space …), which IME input and
    Excel cells often carry and which look like the right characters but are not."""
    return any(unicodedata.east_asian_width(c) == "F" for c in value)


def _full_width_problem(value: str, rule: Callable[[str], str | None]) -> str:
    """The message for a value with full-width characters: what to do, and what else is wrong once done."""
    still = rule(unicodedata.normalize("NFKC", value))
    return "含全角字符，请改为半角" + (f"；改为半角后仍有问题：{still}" if still else "")


def cn_id_check_char(first17: str) -> str:
    """The 18th character of an ID number whose first 17 digits are given."""
    total = sum(int(c) * w for c, w in zip(first17, CN_ID_WEIGHTS, strict=True))
    return CN_ID_CHECK[total % 11]


def cn_id_problem(value: str) -> str | None:
    """Why `value` is not a valid 18-digit ID number (in Chinese), or None when it is.

    Checks shape, birth date (a real date, not in the future, not before 1900) and check digit. A lower-case x and
    full-width forms are refused with what to change (the number itself may be right). The region is checked
    separately against known division codes (see `expectations`).
    """
    if not _CN_ID_SHAPE.fullmatch(value):
        if has_full_width(value):
            return _full_width_problem(value, cn_id_problem)
        if value[-1:] == "x" and _CN_ID_SHAPE.fullmatch(value[:-1] + "X"):
            return cn_id_problem(value[:-1] + "X") or "校验码应为大写X"
        return _CN_ID_SHAPE_TEXT
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


def uscc_kind_problem(authority: str, category: str) -> str | None:
    """Why the first two characters of a USCC are not a registration authority and one of its categories."""
    if authority not in USCC_AUTHORITIES:
        known = "、".join(f"{a}（{name}）" for a, (name, _) in USCC_AUTHORITIES.items())
        return f"第1位登记管理部门代码“{authority}”不存在（应为{known}之一）"
    name, categories = USCC_AUTHORITIES[authority]
    if category not in categories:
        allowed = "、".join(f"{c}（{label}）" for c, label in categories.items())
        return f"登记管理部门代码“{authority}”下没有机构类别“{category}”（{authority}为{name}，机构类别应为{allowed}）"
    return None


def uscc_problem(value: str) -> str | None:
    """Why `value` is not a valid unified social credit code (in Chinese), or None when it is."""
    if not _USCC_SHAPE.fullmatch(value):
        if has_full_width(value):
            return _full_width_problem(value, uscc_problem)
        if value != value.upper() and _USCC_SHAPE.fullmatch(value.upper()):
            return "字母应为大写" + (
                f"；改为大写后仍有问题：{still}" if (still := uscc_problem(value.upper())) else ""
            )
        return _USCC_SHAPE_TEXT
    kind = uscc_kind_problem(value[0], value[1])
    if kind:
        return kind
    if uscc_check_char(value[:17]) != value[17]:
        return f"校验码错误（应为{uscc_check_char(value[:17])}）"
    return None
