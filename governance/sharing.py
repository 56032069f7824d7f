"""The rules of sharing (§8, §12–§13): what may be requested, how a request moves, and its clocks.

A request for an unconditionally shared resource goes to the office for review; one for a conditionally shared
resource (or for conditionally shared fields of any resource) is forwarded by the office to the provider, who answers
within 10 working days (§13), and the office then executes the answer. A not-shared resource or field cannot be
requested at all (§8). The requester may dispute an answer once; the office decides or refers it to the leading
group (领导小组), whose decision the office records. Withdrawing stops the clock.

Deadlines count PRC working days (holidays and 调休 make-up days, `governance.workdays`) and can be set per step in
the catalog folder's `sharing.yaml` (`deadlines: {review: 5, answer: 10, execute: 3, decide: 10}`,
`remind_before: 2`); §13's 10 days for the provider's answer is the default.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from govhub.catalog.model import Catalog, Resource, ShareType
from govhub.problems import GovhubError, Problem
from govhub.states import RequestState, Step

# The step a state waits on (None: nothing pending).
STEP_OF: dict[RequestState, Step] = {
    RequestState.SUBMITTED: Step.REVIEW,
    RequestState.FORWARDED: Step.ANSWER,
    RequestState.ESCALATED: Step.DECIDE,
    RequestState.ANSWERED: Step.EXECUTE,
    RequestState.DISPUTED: Step.DECIDE,
    RequestState.REFERRED: Step.DECIDE,
}


@dataclass(frozen=True)
class Deadlines:
    """Working days per step (§13: the provider answers within 10), and how many before a deadline to remind."""

    review: int = 5
    answer: int = 10
    execute: int = 3
    decide: int = 10
    remind_before: int = 2

    def days(self, step: Step) -> int:
        return int(getattr(self, step.value))


def load_deadlines(catalog_dir: Path | None) -> Deadlines:
    """`sharing.yaml` beside the catalog (optional): `deadlines: {answer: 10, …}`, `remind_before: 2`."""
    path = catalog_dir / "sharing.yaml" if catalog_dir else None
    if path is None or not path.is_file():
        return Deadlines()
    import yaml

    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    values: dict[str, Any] = dict(data.get("deadlines") or {})
    if "remind_before" in data:
        values["remind_before"] = data["remind_before"]
    unknown = set(values) - set(Deadlines.__dataclass_fields__)
    bad = [k for k, v in values.items() if not isinstance(v, int) or isinstance(v, bool) or v < 0]
    if unknown or bad:
        raise GovhubError(
            Problem("sharing.bad_deadlines", f"{path.name} 中的期限设置有误：{', '.join(sorted(unknown | set(bad)))}",
                    expected="deadlines: {review, answer, execute, decide} 为非负整数（工作日），remind_before 同上")
        )  # fmt: skip
    return Deadlines(**values)


def _refuse(code: str, message_zh: str, **kw: Any) -> GovhubError:
    return GovhubError(Problem(code=f"sharing.{code}", message_zh=message_zh, **kw))


SHORT_TEXT, LONG_TEXT = 500, 1000  # characters: a basis, reason or condition; a purpose or a dispute


def said(label_zh: str, text: str | None, limit: int = SHORT_TEXT) -> str | None:
    """A free text of a request's record (用途, 依据, 理由, 使用条件 …) as kept: at most `limit` characters and no
    control characters but line breaks and tabs, whichever door it came in by (the portal's forms say the same
    limits to the browser; a script or the CLI is held to them here)."""
    if text is None:
        return None
    if len(text) > limit:
        raise _refuse("text_too_long", f"{label_zh}不能超过 {limit} 个字（现为 {len(text)} 个字）",
                      expected=f"不超过 {limit} 个字")  # fmt: skip
    if any(unicodedata.category(c) == "Cc" and c not in "\n\r\t" for c in text):
        raise _refuse("control_character", f"{label_zh}含有控制字符（如 NUL），请删去后重新填写")
    return text


def field_share(resource: Resource, name: str) -> ShareType:
    """A field's effective share type: its own `share`, else its resource's."""
    return resource.field(name).share or resource.share.type


def requestable_fields(resource: Resource) -> list[str]:
    """Fields another agency may ask for: every field not marked not-shared (§8)."""
    return [f.name for f in resource.fields if field_share(resource, f.name) is not ShareType.NOT_SHARED]


def needs_provider(resource: Resource, fields: list[str]) -> bool:
    """Whether the provider must answer (§13): the resource, or any field asked for, is conditionally shared."""
    if resource.share.type is ShareType.CONDITIONAL:
        return True
    return any(field_share(resource, f) is ShareType.CONDITIONAL for f in fields)


def check_requestable(catalog: Catalog, consumer: str, resource: Resource, fields: list[str]) -> list[str]:
    """The fields of a new request once the catalog allows it (raises with the catalog's own words otherwise)."""
    name = f"「{resource.name}」（{resource.code}）"
    if consumer not in catalog.agencies:
        raise _refuse("unknown_agency", f"目录中没有机构“{consumer}”", value=consumer)
    if resource.agency == consumer:
        raise _refuse("own_resource", f"{name}是本单位的资源，无需申请共享")
    if not resource.status.in_force:
        raise _refuse("not_in_force", f"{name}尚未发布（目录状态：{resource.status.value}），暂不能申请")
    if resource.share.type is ShareType.NOT_SHARED:
        basis = resource.share.legal_basis or "目录未注明"
        raise _refuse("not_shared", f"{name}列为不共享类资源，不能申请共享（依据：{basis}）",
                      expected="普遍共享或按需共享的资源")  # fmt: skip
    wanted = list(dict.fromkeys(fields)) or requestable_fields(resource)
    unknown = [f for f in wanted if f not in resource.field_names]
    if unknown:
        raise _refuse("unknown_field", f"{name}没有信息项：{'、'.join(unknown)}",
                      expected="、".join(resource.field_names))  # fmt: skip
    closed = [f for f in wanted if field_share(resource, f) is ShareType.NOT_SHARED]
    if closed:
        labels = "、".join(f"「{resource.field(f).label}」" for f in closed)
        basis = "；".join(
            resource.field(f).description or resource.share.legal_basis or "目录未注明" for f in closed
        )
        raise _refuse("field_not_shared", f"{name}的信息项{labels}列为不共享，不能申请（依据：{basis}）",
                      field=closed[0], expected="、".join(requestable_fields(resource)))  # fmt: skip
    return wanted


_ROW = re.compile(r"^\s*([a-z][a-z0-9_]*)\s+(in|between)\s+(.+?)\s*$")


def parse_row_condition(text: str) -> dict[str, Any]:
    """One row condition as typed by people (CLI `--rows`, the portal's form): "town in 310117101,310117102" or
    "reg_date between 2026-01-01 2026-06-30" — structured data, never SQL (`warehouse.scope.RowFilter` checks it)."""
    m = _ROW.match(text)
    if m is None:
        raise GovhubError(Problem("scope.bad_condition", f"“{text}” 应为 “信息项 in 值1,值2” 或 “信息项 between 下限 上限”",
                                  value=text, expected="信息项 in 值1,值2 / 信息项 between 下限 上限"))  # fmt: skip
    name, op, rest = m.groups()
    if op == "in":  # values split at ASCII or full-width commas and 、, as people type lists
        values = [v.strip() for v in re.split(r"[,，、]", rest) if v.strip()]
        if not values:
            raise GovhubError(Problem("scope.bad_condition", f"“{text}”：in 后面没有给出任何值", value=text,
                                      expected="信息项 in 值1,值2"))  # fmt: skip
        return {"field": name, "in": values}
    bounds = rest.split()
    if len(bounds) != 2:
        raise GovhubError(
            Problem("scope.bad_condition", f"“{text}”：between 需要两个值（下限 上限）", value=text)
        )
    return {"field": name, "between": bounds}


def row_condition_lines(row_scope: list[dict[str, Any]]) -> str:
    """A row scope as people type it, one condition per line — what `parse_row_condition` reads back."""
    lines = []
    for c in row_scope:
        if "in" in c:
            lines.append(f"{c['field']} in {','.join(str(v) for v in c['in'])}")
        elif "between" in c:
            lines.append(f"{c['field']} between {c['between'][0]} {c['between'][1]}")
    return "\n".join(lines)


def describe_rows(row_scope: list[dict[str, Any]]) -> str:
    """A row scope in words: "town_code 为 310117107、310117003；reg_date 在 2026-01-01 至 2026-06-30 之间"."""
    parts = []
    for c in row_scope:
        if "in" in c:
            parts.append(f"{c['field']} 为 {'、'.join(str(v) for v in c['in'])}")
        elif "between" in c:
            low, high = c["between"]
            parts.append(f"{c['field']} 在 {low} 至 {high} 之间")
    return "；".join(parts) or "全部记录"
