"""The sharing clock (§13): escalate unanswered requests, remind before deadlines, retire expired grants.

Run by the Dagster `sharing_clock_sensor` (as `system:sensor`) and by `govhub request tick`; idempotent — running it
twice on a day changes nothing the second time. A forwarded request still unanswered after its 10th working day is
escalated to the office and counted late for the provider; everyone who has to act is reminded `remind_before`
working days before their deadline, once; a grant past its expiry is recorded as expired once (it had already stopped
working: every read path checks the date).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from govhub.access import Action, authorize
from govhub.catalog.model import Catalog
from govhub.config import Settings
from govhub.events import record_event
from govhub.governance.grants import GrantState, list_grants
from govhub.governance.notices import Notice, already_sent, send_once
from govhub.governance.requests import Clock, SharingRequest, list_requests, move, overdue
from govhub.governance.sharing_measures import fold_grant_uses
from govhub.people import Person, list_people
from govhub.roles import Role
from govhub.services.workspaces import drop_api_copies
from govhub.states import RequestState, Step


@dataclass
class ClockReport:
    escalated: list[str] = field(default_factory=list)
    reminded: list[str] = field(default_factory=list)  # request ids
    overdue: list[str] = field(default_factory=list)  # office steps past their deadline (noticed once)
    expired: list[str] = field(default_factory=list)  # grant ids

    def to_dict(self) -> dict[str, list[str]]:
        return dict(self.__dict__)


def _who_acts(people: list[Person], request: SharingRequest) -> list[Person]:
    """Who a pending step waits on: the provider's stewards and reviewers to answer, else the office."""
    if request.deadline_step is Step.ANSWER:
        roles, agency = {Role.STEWARD, Role.REVIEWER}, request.provider
        return [p for p in people if p.active and p.agency == agency and roles & set(p.roles)]
    return [p for p in people if p.active and Role.OFFICE in p.roles]


def tick(
    settings: Settings, catalog: Catalog, *, actor: str = "system:sensor", today: dt.date | None = None
) -> ClockReport:
    who = authorize(settings, actor, Action.RUN_SHARING_CLOCK)
    clock = Clock.of(settings, today)
    report = ClockReport()
    people = list_people(settings)
    for request in overdue(settings, clock.today):
        if request.state is RequestState.FORWARDED:
            moved = move(settings, request.id, "escalate", by=who.name, clock=clock, allowed={RequestState.FORWARDED},
                         what_zh="升级", step=lambda r: (RequestState.ESCALATED, {"answered_late": 1},
                                                        {"missed": r.deadline.isoformat() if r.deadline else None}))  # fmt: skip
            report.escalated.append(moved.id)
            notice = Notice(
                f"escalated:{moved.id}",
                f"共享申请 {moved.id}（{moved.key}）提供方逾期未答复，已提交区科委决定",
            )
            send_once(settings, notice, _who_acts(people, moved) + _stewards(people, moved.provider))
        else:
            step = request.deadline_step.label if request.deadline_step else ""
            notice = Notice(f"overdue:{request.id}:{request.deadline_step}:{request.deadline}",
                            f"共享申请 {request.id}（{request.key}）的「{step}」已超过期限 {request.deadline}")  # fmt: skip
            if send_once(settings, notice, _who_acts(people, request)):
                report.overdue.append(request.id)
    for request in list_requests(settings, states=[s for s in RequestState if s.open]):
        if request.deadline is None or request.deadline_step is None:
            continue
        left = clock.working_days_left(request.deadline)
        if 0 <= left <= clock.deadlines.remind_before:
            notice = Notice(f"remind:{request.id}:{request.deadline_step.value}:{request.deadline}",
                            f"提醒：共享申请 {request.id}（{request.key}）的「{request.deadline_step.label}」"
                            f"须于 {request.deadline} 前完成（还有 {left} 个工作日）")  # fmt: skip
            if send_once(settings, notice, _who_acts(people, request)):
                report.reminded.append(request.id)
                record_event(settings, kind="request.reminded", actor=who.name, agency=request.consumer,
                             subject=f"request/{request.id}", payload={"step": request.deadline_step.value,
                             "deadline": request.deadline, "working_days_left": left})  # fmt: skip
    for grant in list_grants(settings):
        if (
            grant.state is GrantState.ACTIVE
            and grant.expires_on < clock.today
            and not already_sent(settings, f"expired:{grant.id}")
        ):
            send_once(settings, Notice(f"expired:{grant.id}", f"共享授权 {grant.id}（{grant.key}）已于 {grant.expires_on} 到期"),
                      _stewards(people, grant.consumer))  # fmt: skip
            record_event(settings, kind="grant.expired", actor=who.name, agency=grant.consumer,
                         subject=f"grant/{grant.id}", payload={"expires_on": grant.expires_on, "resource": grant.key})  # fmt: skip
            report.expired.append(grant.id)
            drop_api_copies(settings, grant.consumer, grant.key)  # nothing of it left behind on disk
    fold_grant_uses(settings)  # readers of a grant's use then count only what came after this tick
    return report


def _stewards(people: list[Person], agency: str) -> list[Person]:
    return [p for p in people if p.active and p.agency == agency and Role.STEWARD in p.roles]
