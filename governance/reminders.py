"""What to remind whom of, on a given day (催报): feeds, catalog changes and drift before and after their deadlines,
and each agency's daily digest. Pure over the hub's records: `services.notify` sends what this finds.

- a fill-in feed (sheet-delivered) whose owed period falls due within `remind_days` PRC working days: its
  agency's stewards are reminded, once per period; interface feeds are pulled by the hub and need no reminder;
- any feed past its due date (overdue or stale): an escalation to the stewards and the office, once per period;
- a catalog entry in `changed` status (§10: re-published within 2 working days) and an open drift flag: a reminder
  before the deadline and an escalation after it, once per change;
- a digest per agency per day for its stewards when anything is due, overdue or waiting for its answer.

Sharing-request deadlines are the sharing clock's (`services.sharing_clock`); its notices go out the same way.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from govhub.catalog.model import Catalog, DeliveryMethod, LifecycleStatus
from govhub.config import Settings
from govhub.governance.alerts import catalog_change_deadline, evaluate_freshness
from govhub.governance.drift import open_flags
from govhub.governance.notices import Notice
from govhub.governance.workdays import WorkdayCalendar
from govhub.people import Person
from govhub.roles import Role
from govhub.states import FreshnessState


@dataclass(frozen=True)
class Due:
    """One notice and who gets it; `kind` is remind | escalate | digest."""

    kind: str
    agency: str
    notice: Notice
    recipients: list[Person]


def _stewards(people: list[Person], agency: str) -> list[Person]:
    return [p for p in people if p.active and p.agency == agency and Role.STEWARD in p.roles]


def _office(people: list[Person]) -> list[Person]:
    return [p for p in people if p.active and Role.OFFICE in p.roles]


def _left(calendar: WorkdayCalendar, as_of: dt.date, deadline: dt.date) -> int:
    return calendar.working_days_between(as_of, deadline)


def notices_due(
    settings: Settings,
    catalog: Catalog,
    people: list[Person],
    as_of: dt.date,
    calendar: WorkdayCalendar,
    *,
    remind_days: int,
    waiting_requests: dict[str, list[str]] | None = None,
) -> list[Due]:
    """Every notice owed on `as_of` (sending skips those already sent); `waiting_requests`: agency → lines about
    sharing requests waiting for its answer, for the digest."""
    found: list[Due] = []
    lines: dict[str, list[str]] = {a: list(v) for a, v in (waiting_requests or {}).items()}
    by_key = {r.key: r for r in catalog.resources}
    for row in evaluate_freshness(settings, catalog, as_of, calendar=calendar):
        resource = by_key[(row.agency, row.resource)]
        if row.period is None or row.due_date is None:
            continue
        what = f"「{row.name}」（{row.code}）{row.period} 期"
        if row.state in (FreshnessState.OVERDUE, FreshnessState.STALE):
            subject = f"逾期：{what}数据应于 {row.due_date} 前报送或申报零更新，已逾期 {row.overdue_working_days} 个工作日"
            key = f"escalate:feed:{row.agency}/{row.resource}:{row.period}"
            recipients = _stewards(people, row.agency) + _office(people)
            found.append(
                Due("escalate", row.agency, Notice(key, subject, _feed_body(row.agency)), recipients)
            )
            lines.setdefault(row.agency, []).append(subject)
            continue
        left = _left(calendar, as_of, row.due_date)
        if resource.delivery.method is not DeliveryMethod.SHEET or not 0 <= left <= remind_days:
            continue
        subject = f"提醒：{what}数据须于 {row.due_date} 前报送（还有 {left} 个工作日）"
        key = f"remind:feed:{row.agency}/{row.resource}:{row.period}"
        found.append(
            Due(
                "remind",
                row.agency,
                Notice(key, subject, _feed_body(row.agency)),
                _stewards(people, row.agency),
            )
        )
        lines.setdefault(row.agency, []).append(subject)
    for resource in catalog.resources:
        if resource.status is not LifecycleStatus.CHANGED or resource.changed_on is None:
            continue
        deadline = catalog_change_deadline(resource.changed_on, calendar)
        what = f"「{resource.name}」（{resource.code}）的目录变更（{resource.changed_on}）"
        found += _clock(people, resource.agency, f"catalog:{resource.agency}/{resource.id}:{resource.changed_on}",
                        what, "发布", as_of, deadline, calendar, remind_days, lines)  # fmt: skip
    for flag in open_flags(settings):
        resource = by_key.get((flag.agency, flag.resource))
        if resource is None:
            continue
        what = f"「{resource.name}」（{resource.code}）的资源目录（交付数据的列与目录不一致）"
        found += _clock(people, flag.agency, f"drift:{flag.agency}/{flag.resource}:{flag.catalog_fingerprint}",
                        what, "更新", as_of, flag.deadline, calendar, remind_days, lines)  # fmt: skip
    for agency, todo in sorted(lines.items()):
        recipients = _stewards(people, agency)
        if todo and recipients:
            body = "\n".join(f"{i}. {line}" for i, line in enumerate(todo, 1))
            subject = f"每日待办（{as_of}）：{catalog.agencies[agency].name if agency in catalog.agencies else agency}有 {len(todo)} 项"
            found.append(Due("digest", agency, Notice(f"digest:{agency}:{as_of}", subject, body), recipients))
    return found


def _clock(
    people: list[Person], agency: str, ref: str, what: str, verb: str, as_of: dt.date, deadline: dt.date,
    calendar: WorkdayCalendar, remind_days: int, lines: dict[str, list[str]],
) -> list[Due]:  # fmt: skip
    """A reminder before a §10 deadline, an escalation after it."""
    if as_of > deadline:
        subject = f"逾期：{what}应于 {deadline} 前{verb}（§10：2个工作日内）"
        lines.setdefault(agency, []).append(subject)
        return [
            Due(
                "escalate",
                agency,
                Notice(f"escalate:{ref}", subject),
                _stewards(people, agency) + _office(people),
            )
        ]
    left = _left(calendar, as_of, deadline)
    if left > remind_days:
        return []
    subject = f"提醒：{what}须于 {deadline} 前{verb}（还有 {left} 个工作日）"
    lines.setdefault(agency, []).append(subject)
    return [Due("remind", agency, Notice(f"remind:{ref}", subject), _stewards(people, agency))]


def _feed_body(agency: str) -> str:
    return (
        "请登录政务数据资源共享平台上传填报文件，或在本期数据没有变化时申报零更新"
        f"（govhub upload 文件 / govhub zero-update 资源代码 --by 本人）。机构：{agency}"
    )
