"""Failing rows as Problems an agency can act on: which row, which column (its Chinese label), what, and what to enter.

A row problem blocks (the row is quarantined) unless its expectation tolerates failures: `mostly` below 1 or
`meta.severity: warning` (set in an override). Duplicate keys always quarantine every copy: the keyed diff needs
unique keys, whether or not the policy blocks the whole load.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from govhub.catalog.model import Resource
from govhub.expectations import identifiers_sql as ids
from govhub.problems import Problem

if TYPE_CHECKING:
    from govhub.expectations.evaluate import Evaluation

_SEMANTIC_EXPECTED = {
    "phone": "固定电话或手机号码，如 021-57821234 或 13812345678",
    "email": "电子邮箱地址，如 name@example.cn",
    "postal_code": "6位邮政编码",
}

# expectation type -> the scalar rule that says, for one failing value, what exactly is wrong
_REASONS: dict[str, Callable[[str], str | None]] = {
    "expect_column_values_to_be_valid_cn_id": ids.cn_id_reason,
    "expect_column_values_to_be_valid_uscc": ids.uscc_reason,
    "expect_column_values_to_be_valid_admin_division": ids.admin_division_reason,
    "expect_column_values_to_be_valid_cn_mobile": ids.mobile_reason,
}


def _range_text(kw: dict[str, Any]) -> str:
    low, high = kw.get("min_value"), kw.get("max_value")
    if low is not None and high is not None:
        return f"介于{low:g}与{high:g}之间" if isinstance(low, float | int) else f"介于{low}与{high}之间"
    return f"不小于{low}" if low is not None else f"不大于{high}"


def describe(exp: dict[str, Any]) -> tuple[str, str, str]:
    """(code, message_zh, expected) for a failing value of this expectation."""
    kind, kw, meta = exp["type"], exp["kwargs"], exp.get("meta", {})
    semantic = meta.get("semantic")
    if kind == "expect_column_values_to_not_be_null":
        return "check.required", "必填项为空", "非空值"
    if kind == "expect_column_values_to_be_in_set":
        allowed = "、".join(str(v) for v in kw["value_set"][:30])
        return "check.enum", "取值不在允许范围内", f"以下之一：{allowed}"
    if kind == "expect_column_values_to_be_between":
        return "check.range", "数值超出范围", _range_text(kw)
    if kind == "expect_column_value_lengths_to_be_between":
        return "check.max_length", "长度超出限制", f"长度{_range_text(kw)}个字符"
    if kind in ("expect_column_values_to_match_regex", "expect_column_values_to_not_match_regex"):
        if semantic in _SEMANTIC_EXPECTED:
            return f"check.{semantic}", "格式不正确", _SEMANTIC_EXPECTED[semantic]
        verb = "符合" if kind.endswith("_to_match_regex") else "不符合"
        return "check.pattern", "格式不正确", f"{verb}格式 {kw['regex']}"
    if kind == "expect_column_values_to_be_valid_cn_id":
        return (
            "check.cn_id",
            "公民身份号码无效",
            "18位公民身份号码（半角数字，末位为数字或大写X），校验码正确",
        )
    if kind == "expect_column_values_to_be_valid_uscc":
        return (
            "check.uscc",
            "统一社会信用代码无效",
            "18位统一社会信用代码（半角，字母大写），前两位为GB 32100规定的登记管理部门和机构类别，校验码正确",
        )
    if kind == "expect_column_values_to_be_valid_admin_division":
        return "check.admin_division", "行政区划代码无效", "已知的6位县级行政区划代码或松江区9位街镇代码"
    if kind == "expect_column_values_to_be_valid_cn_mobile":
        return "check.mobile", "手机号码无效", "11位手机号码，以13至19开头"
    if meta.get("catalog") == "primary_key":
        return "check.duplicate_key", "主键重复（同一主键出现多行）", "每个主键只出现一次"
    return "check.unique", "取值重复", "每个值只出现一次"


def is_blocking(exp: dict[str, Any]) -> bool:
    if exp.get("meta", {}).get("catalog") == "primary_key":
        return True
    mostly = exp["kwargs"].get("mostly")
    return not (mostly is not None and mostly < 1) and exp.get("meta", {}).get("severity") != "warning"


def label_of(resource: Resource, column: str) -> str:
    try:
        return resource.field(column).label
    except KeyError:
        return column


def row_problems(resource: Resource, suite: dict[str, Any], evaluation: Evaluation) -> list[Problem]:
    """One Problem per failing (row, expectation), ordered by row."""
    out: list[Problem] = []
    for index, rows in evaluation.failures.items():
        exp = suite["expectations"][index]
        code, message, expected = describe(exp)
        reason = _REASONS.get(exp["type"])
        blocking = is_blocking(exp)
        columns = list(rows[0][1]) if rows else []
        column = "、".join(label_of(resource, c) for c in columns)
        field = ",".join(columns)
        for row, values in rows:
            value = (
                next(iter(values.values()))
                if len(values) == 1
                else " / ".join(str(v) for v in values.values())
            )
            detail = reason(value) if reason and value is not None else None
            out.append(
                Problem(
                    code=code,
                    message_zh=f"{message}：{detail}" if detail else message,
                    row=row,
                    column=column,
                    value=value,
                    expected=expected,
                    field=field,
                    blocking=blocking,
                )
            )
    out.sort(key=lambda p: (p.row, p.field or ""))
    return out
