"""The cause of a column's failing cells, said once for the column: what went wrong in Excel and how to fix it.

A sheet filled the wrong way fails the same way in every row. An ID column that Excel stored as numbers (3.1E+17: the
last digits are lost) fails the check digit in nearly every row; a date column typed as free text fails to parse in
every row. Listing each row's symptom ("校验码错误（应为5）") sends a steward correcting check digits. `diagnose`
recognises the causes below from the failing values themselves and returns one message per (column, cause); the
row problems a cause explains stay for the quarantine, the marked workbook and the report, and are listed after it.

Runs only over problems already found (nothing when a delivery is clean): a Python pass over the failing cells.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

from govhub.catalog.model import Resource
from govhub.problems import Problem

_SCIENTIFIC = re.compile(r"^[+-]?\d(\.\d+)?[eE]\+?\d+$")
_FULL_WIDTH = re.compile("[\uff01-\uff5e\u3000]")
_SPACES = re.compile("[\\s\u00a0\u200b-\u200d\u2060\ufeff]")
_READABLE_DATE = re.compile(r"^\d{4}[-/.年]\d{1,2}[-/.月]\d{1,2}|^\d{8}$")
_SERIAL_DATE = re.compile(r"^\d{5}(\.\d+)?$")
_NUMBER_WITH_UNIT = re.compile(r"^[+-]?[\d,，.]*\d[\d,，.]*\s*[^\d\s,，.+-][^\d]*$")
_DATE_TYPES = ("type.date", "type.datetime")
# where a stray space or full-width character is the likely cause (not, say, a name too long for its column)
_FORMATTED = ("check.cn_id", "check.uscc", "check.admin_division", "check.mobile", "check.phone",
              "check.postal_code", "check.email", "check.pattern", "check.enum")  # fmt: skip


def _formatted(p: Problem) -> bool:
    return p.code.startswith("type.") or p.code in _FORMATTED


_NUMBER_TYPES = ("type.integer", "type.number")


@dataclass(frozen=True)
class Cause:
    code: str
    applies: Callable[[Problem, set[tuple[int | None, str | None]]], bool]
    say: Callable[[str, int, str], str]  # (column label, cells, example) -> message


def _excel_number(value: str) -> str:
    """A lost-precision value as Excel shows it in a narrow column (3.1E+17)."""
    try:
        return f"{float(value):.1E}".replace("E+", "E+")
    except ValueError:
        return value


CAUSES: list[Cause] = [
    Cause(
        "diagnosis.number_stored",
        lambda p, lost: (
            p.code == "type.precision_lost"
            or (p.row, p.field) in lost
            or bool(p.value and _SCIENTIFIC.match(p.value))
        ),
        lambda label, n, ex: (
            f"“{label}”列的值被Excel存成了数字（如{_excel_number(ex)}），后几位已丢失："
            f"请把该列设为“文本”格式后重新录入（共{n}处）"
        ),
    ),
    Cause(
        "diagnosis.full_width",
        lambda p, lost: _formatted(p) and bool(p.value and _FULL_WIDTH.search(p.value)),
        lambda label, n, ex: (
            f"“{label}”列有{n}个值含全角字符（如“{ex}”）：请切换到半角（英文）输入法重新录入，"
            "或用Excel的ASC函数转换"
        ),
    ),
    Cause(
        "diagnosis.spaces",
        lambda p, lost: _formatted(p) and bool(p.value and _SPACES.search(p.value)),
        lambda label, n, ex: (
            f"“{label}”列有{n}个值含空格或不可见字符（如“{ex}”）：请删除值中的空格后重新录入"
            "（Excel中可用“查找和替换”把空格替换为空）"
        ),
    ),
    Cause(
        "diagnosis.id_lowercase_x",
        lambda p, lost: p.code == "check.cn_id" and bool(p.value and re.fullmatch(r"\d{17}x", p.value)),
        lambda label, n, ex: f"“{label}”列有{n}个身份证号末位是小写x（如“{ex}”）：请改为大写X",
    ),
    Cause(
        "diagnosis.id_15_digits",
        lambda p, lost: p.code == "check.cn_id" and bool(p.value and re.fullmatch(r"\d{15}", p.value)),
        lambda label, n, ex: f"“{label}”列有{n}个15位的旧身份证号（如“{ex}”）：请换成18位公民身份号码",
    ),
    Cause(
        "diagnosis.date_serial",
        lambda p, lost: p.code in _DATE_TYPES and bool(p.value and _SERIAL_DATE.match(p.value)),
        lambda label, n, ex: (
            f"“{label}”列有{n}个日期被存成了数字（Excel的日期序号，如{ex}）："
            "请把该列设为“日期”格式，按2024-01-31的形式重新录入"
        ),
    ),
    Cause(
        "diagnosis.date_text",
        lambda p, lost: p.code in _DATE_TYPES and bool(p.value) and not _READABLE_DATE.match(p.value or ""),
        lambda label, n, ex: (
            f"“{label}”列有{n}个日期写成了系统无法识别的文字（如“{ex}”）："
            "请按2024-01-31的形式录入完整的年、月、日（可把该列设为“日期”格式）"
        ),
    ),
    Cause(
        "diagnosis.number_with_unit",
        lambda p, lost: p.code in _NUMBER_TYPES and bool(p.value and _NUMBER_WITH_UNIT.match(p.value)),
        lambda label, n, ex: f"“{label}”列有{n}个数值带有单位或文字（如“{ex}”）：请只填写数字",
    ),
]


@dataclass
class Diagnosis:
    notes: list[Problem] = field(default_factory=list)  # one per (column, cause), in column order
    # id() of the row problems a note (or its cell's type error) explains
    explained: set[int] = field(default_factory=set)

    def unexplained(self, problems: list[Problem]) -> list[Problem]:
        return [p for p in problems if id(p) not in self.explained]


def diagnose(resource: Resource, problems: list[Problem]) -> Diagnosis:
    """One note per column and cause found among the row problems; see the module docstring."""
    found = Diagnosis()
    if not problems:
        return found
    cells = [p for p in problems if p.row is not None and p.field and "," not in p.field]
    lost = {(p.row, p.field) for p in cells if p.code == "type.precision_lost"}
    by_cause: dict[tuple[str, int], list[Problem]] = defaultdict(list)
    order = {f.name: i for i, f in enumerate(resource.fields)}
    for p in cells:
        for k, cause in enumerate(CAUSES):
            if cause.applies(p, lost):
                by_cause[(p.field or "", k)].append(p)
                found.explained.add(id(p))
                break
    for (name, k), explained in sorted(
        by_cause.items(), key=lambda item: (order.get(item[0][0], 1 << 30), item[0][1])
    ):
        cause = CAUSES[k]
        label = resource.field(name).label if name in order else name
        rows = {p.row for p in explained}
        example = (
            next((p.value for p in explained if p.code == "type.precision_lost"), explained[0].value) or ""
        )
        found.notes.append(
            Problem(
                code=cause.code, message_zh=cause.say(label, len(rows), example), field=name, blocking=False
            )
        )
    return found
