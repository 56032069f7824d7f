"""Send what is owed today (催报): reminders before deadlines, escalations after them, each agency's daily digest —
and retry notices whose delivery failed before. Run by the Dagster `notify_sensor` and by `govhub notify run`.

Idempotent: a notice is keyed by what it is about (`governance.notices.send_once`), so running it every few minutes,
or twice on a day, sends nothing the second time.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from govhub.access import Action, authorize
from govhub.catalog.model import Catalog
from govhub.config import Settings
from govhub.events import record_event
from govhub.governance.notices import retry_failed, send_once, undelivered
from govhub.governance.reminders import notices_due
from govhub.governance.workdays import calendar_for
from govhub.people import list_people
from govhub.problems import GovhubError, Problem


@dataclass
class NotifyReport:
    as_of: str
    reminded: list[str] = field(default_factory=list)  # notice keys sent now
    escalated: list[str] = field(default_factory=list)
    digests: list[str] = field(default_factory=list)
    # notice rows (thing|person|channel) delivered now on a retry
    retried: list[str] = field(default_factory=list)
    # notice rows whose last attempt failed (now or before, first try or retry): tried again on the next run
    undelivered: list[str] = field(default_factory=list)
    # notice rows that failed MAX_ATTEMPTS times: not tried again (check the person's contact)
    given_up: list[str] = field(default_factory=list)
    subjects: dict[str, str] = field(default_factory=dict)  # notice key → its subject, as people read it

    @property
    def ok(self) -> bool:
        """Everything owed reached its people (exit 0)."""
        return not (self.undelivered or self.given_up)

    def to_dict(self) -> dict[str, object]:
        return dict(self.__dict__)


def run_notifications(
    settings: Settings, catalog: Catalog, *, actor: str = "system:sensor", as_of: dt.date | None = None
) -> NotifyReport:
    from govhub.clock import today_in_beijing

    who = authorize(settings, actor, Action.RUN_SHARING_CLOCK)
    today = today_in_beijing()
    if as_of is not None and as_of > today:  # sent now for a future day, and kept as sent: none on the day
        raise GovhubError(Problem("notify.future_as_of", f"不能按未来日期 {as_of.isoformat()} 发送催报：通知会立即发出"
                                  f"并记为已发送，到期当天不再发送", value=as_of.isoformat(),
                                  expected=f"不晚于今天（{today.isoformat()}）"))  # fmt: skip
    since = settings.in_service_since  # a missed day re-run: not one before the hub went into service either
    if as_of is not None and since is not None and as_of < since:
        raise GovhubError(Problem("notify.before_in_service", f"不能按 {as_of.isoformat()} 发送催报：早于平台启用日期 "
                                  f"{since.isoformat()}（--as-of 只用于补发平台启用以来某天的通知）",
                                  value=as_of.isoformat(), expected=f"不早于 {since.isoformat()}"))  # fmt: skip
    as_of = as_of or today
    report = NotifyReport(as_of.isoformat())
    again = retry_failed(settings)
    report.retried = again.sent
    people = list_people(settings)
    owed = notices_due(settings, catalog, people, as_of, calendar_for(settings.catalog_dir),
                       remind_days=settings.remind_working_days, waiting_requests=_waiting(settings))  # fmt: skip
    for due in owed:
        if not send_once(settings, due.notice, due.recipients):
            continue
        {"remind": report.reminded, "escalate": report.escalated, "digest": report.digests}[due.kind].append(
            due.notice.key
        )
        report.subjects[due.notice.key] = due.notice.subject
        record_event(settings, kind=f"notice.{due.kind}", actor=who.name, agency=due.agency,
                     subject=due.notice.key, payload={"subject": due.notice.subject,
                                                      "to": [p.id for p in due.recipients]})  # fmt: skip
    report.undelivered, report.given_up = undelivered(settings)
    return report


def _waiting(settings: Settings) -> dict[str, list[str]]:
    """Sharing requests waiting for an agency's answer, as lines for its digest."""
    from govhub.governance.requests import list_requests
    from govhub.states import RequestState, Step

    lines: dict[str, list[str]] = {}
    for request in list_requests(settings, states=[RequestState.FORWARDED]):
        if request.deadline_step is Step.ANSWER and request.deadline is not None:
            lines.setdefault(request.provider, []).append(
                f"共享申请 {request.id}（{request.key}）待本单位答复，期限 {request.deadline}"
            )
    return lines
