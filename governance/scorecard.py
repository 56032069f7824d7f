"""Per-agency scorecards over a period (§18–§19), from what the hub already records.

For each agency and the window [start, end]:

- catalog compiled: its resources in force (published or changed) against all it has catalogued (drafts pending);
- catalog kept up to date: changed entries not re-published within 2 working days (§10), and open drift flags
  (deliveries no longer matching the catalog) whose 2-working-day deadline passed by `end`;
- annual review: resources in force whose yearly full review is overdue at `end` (§10);
- aggregated: resources in force with at least one published snapshot;
- refreshed on time (§11): every period owed in the window — a period is owed when its due date (period end + the
  resource's grace working days) falls in [start, end] and the resource was in force — counted as on time (updated or
  zero update, declared or automatic, by the due date), late, or missing, from the submission ledger;
- sharing (`governance.sharing_measures`): requests forwarded to the agency answered within 10 working days (late and
  unanswered-past-deadline ones count against it), median working days to answer, escalations, disputes; and use of
  what it was granted (queries, exports, docking-API rows per grant). A measure with nothing to count is None ("—").

The score is the mean of the measured rates, in percent; an agency below `RECTIFY_BELOW` or with anything overdue in its
catalog gets a rectification notice (§19) naming what to fix.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from typing import Any

from govhub.catalog.model import Catalog, LifecycleStatus, Resource
from govhub.config import Settings
from govhub.governance.freshness import Period, due_date, period_of, policy_for
from govhub.governance.ledger import LedgerEntry, ledger_by_resource
from govhub.governance.workdays import WorkdayCalendar
from govhub.states import LedgerState

RECTIFY_BELOW = 80.0


def percent_text(value: float | None, unit: str = "%") -> str:
    """A rate or score as shown in the scorecards: "—" when it is not measured."""
    return "—" if value is None else f"{value:g}{unit}"


@dataclass
class AgencyScore:
    agency: str
    name: str
    catalogued: int
    in_force: int
    catalog_changes_overdue: list[str] = field(default_factory=list)
    reviews_overdue: list[str] = field(default_factory=list)
    aggregated: int = 0
    periods_owed: int = 0
    on_time: int = 0
    late: int = 0
    # "resource period" that were never delivered (for people)
    missing: list[str] = field(default_factory=list)
    requests_answered_rate: float | None = None  # None: no request fell due in the window
    median_answer_days: float | None = None
    escalations: int = 0
    disputes: int = 0
    data_used: int = 0  # queries, exports and API calls through its grants
    use_by_grant: dict[str, dict[str, int | str | None]] = field(default_factory=dict)
    # every period owed in the window, structured for scripts: code, resource, period, start, end, due, delivery
    periods: list[dict[str, Any]] = field(default_factory=list)
    # the first day whose due dates are judged: the window's start, or the day after the hub went into service
    scored_from: dt.date | None = None
    # the resources behind catalog_changes_overdue / reviews_overdue, as codes
    catalog_changes_overdue_codes: list[str] = field(default_factory=list)
    reviews_overdue_codes: list[str] = field(default_factory=list)

    @property
    def rates(self) -> dict[str, float | None]:
        def rate(part: int, whole: int) -> float | None:
            return round(100.0 * part / whole, 1) if whole else None

        kept = self.in_force - len(self.catalog_changes_overdue)
        return {
            "catalog_compiled": rate(self.in_force, self.catalogued),
            "catalog_up_to_date": rate(kept, self.in_force),
            "annual_review": rate(self.in_force - len(self.reviews_overdue), self.in_force),
            "aggregated": rate(self.aggregated, self.in_force),
            "refreshed_on_time": rate(self.on_time, self.periods_owed),
            "requests_answered_on_time": self.requests_answered_rate,
        }

    @property
    def score(self) -> float | None:
        measured = [v for v in self.rates.values() if v is not None]
        return round(sum(measured) / len(measured), 1) if measured else None

    @property
    def rectification(self) -> list[str]:
        """What the agency must fix (§19), in Chinese; empty when nothing."""
        todo = []
        if self.score is not None and self.score < RECTIFY_BELOW:
            todo.append(f"综合得分{self.score}低于{RECTIFY_BELOW:g}分")
        if self.catalog_changes_overdue:
            todo.append(f"目录变更逾期未发布：{'、'.join(self.catalog_changes_overdue)}")
        if self.reviews_overdue:
            todo.append(f"年度全面维护逾期：{'、'.join(self.reviews_overdue)}")
        if self.missing:
            todo.append(f"未按期报送：{'、'.join(self.missing[:10])}{'等' if len(self.missing) > 10 else ''}")
        if self.escalations:
            todo.append(f"{self.escalations}件共享申请逾期未答复，已提交区科委")
        return todo

    def to_dict(self) -> dict[str, Any]:
        """For scripts: structured periods and codes; the display strings stay under *_text keys."""
        data = asdict(self)
        data["missing_text"] = data.pop("missing")
        data["missing"] = [p for p in self.periods if p["delivery"] == "missing"]
        data["catalog_changes_overdue_text"] = data.pop("catalog_changes_overdue")
        data["catalog_changes_overdue"] = data.pop("catalog_changes_overdue_codes")
        data["reviews_overdue_text"] = data.pop("reviews_overdue")
        data["reviews_overdue"] = data.pop("reviews_overdue_codes")
        return data | {"rates": self.rates, "score": self.score, "rectification": self.rectification}


def in_service_note(scores: list[AgencyScore], start: dt.date) -> str | None:
    """What to say when the window begins before the hub went into service (None when it does not)."""
    judged = scores[0].scored_from if scores else None
    if judged is None or judged <= start:
        return None
    began = judged - dt.timedelta(days=1)
    return (f"平台于 {began} 启用：此前（含当天）到期的报送周期，平台没有记录，不计入本期考核"
            f"（按期更新只计 {judged} 起到期的周期）")  # fmt: skip


def scorecard_window(
    start: dt.date | None = None, end: dt.date | None = None, *, today: dt.date | None = None
) -> tuple[dt.date, dt.date]:
    """The window [start, end]; by default from the first day of this quarter to today (Beijing). It ends today at
    the latest: a deadline that has not come yet is missed by nobody."""
    from govhub.clock import today_in_beijing

    today = today or today_in_beijing()
    end = min(end or today, today)
    return start or dt.date(end.year, (end.month - 1) // 3 * 3 + 1, 1), end


def _owed_periods(
    resource: Resource, start: dt.date, end: dt.date, calendar: WorkdayCalendar
) -> list[Period]:
    """Periods whose due date falls in [start, end], from the one the resource came into force in."""
    if resource.published_on is None:
        return []
    first = period_of(resource.cycle, max(start - dt.timedelta(days=400), resource.published_on))
    if first is None:  # irregular: nothing is ever owed
        return []
    policy = policy_for(resource)
    owed, period = [], first
    while period.start <= end:
        if start <= due_date(period, calendar, policy) <= end:
            owed.append(period)
        period = period.next()
    return owed


def _delivery(entries: dict[str, LedgerEntry], period: Period) -> str:
    entry = entries.get(period.id)
    if entry is None or not entry.satisfies:
        return "missing"
    return "late" if entry.state is LedgerState.LATE else "on_time"


def agency_scores(
    settings: Settings,
    catalog: Catalog,
    start: dt.date,
    end: dt.date,
    calendar: WorkdayCalendar | None = None,
) -> list[AgencyScore]:
    """One scorecard per agency for the window [start, end] (dates in Beijing; see `scorecard_window`)."""
    from govhub.governance.alerts import catalog_change_overdue, catalog_review_due
    from govhub.governance.drift import open_flags
    from govhub.governance.workdays import calendar_for
    from govhub.warehouse.snapshots import current_info

    calendar = calendar or calendar_for(settings.catalog_dir)

    ledger = ledger_by_resource(settings)
    drift = {(f.agency, f.resource) for f in open_flags(settings) if f.deadline < end}
    # a period due before the hub was in service, or on its first day, is in no ledger of its: not scored either way
    since = settings.in_service_since
    scored_from = max(start, since + dt.timedelta(days=1)) if since else start
    scores = {
        a.id: AgencyScore(a.id, a.display_name, catalogued=0, in_force=0, scored_from=scored_from)
        for a in catalog.agencies.values()
        if not a.coordinator  # the office coordinates; it is not scored on resources it does not hold
    }
    for r in catalog.resources:
        s = scores.setdefault(r.agency, AgencyScore(r.agency, r.agency, 0, 0, scored_from=scored_from))
        if r.status is LifecycleStatus.RETIRED:
            continue
        s.catalogued += 1
        if not r.status.in_force:
            continue
        s.in_force += 1
        label = f"{r.name}（{r.code}）"
        if catalog_change_overdue(r, end, calendar) or r.key in drift:
            s.catalog_changes_overdue.append(label)
            s.catalog_changes_overdue_codes.append(r.code)
        if catalog_review_due(r, end):
            s.reviews_overdue.append(label)
            s.reviews_overdue_codes.append(r.code)
        info = current_info(settings, r)
        if info is not None and not info.initial:
            s.aggregated += 1
        entries = {e.period: e for e in ledger.get(r.key, [])}
        for period in _owed_periods(r, scored_from, end, calendar):
            s.periods_owed += 1
            verdict = _delivery(entries, period)
            s.periods.append({"code": r.code, "resource": f"{r.agency}/{r.id}", "period": period.id,
                              "start": period.start.isoformat(), "end": period.end.isoformat(),
                              "due_date": due_date(period, calendar, policy_for(r)).isoformat(),
                              "delivery": verdict})  # fmt: skip
            if verdict == "on_time":
                s.on_time += 1
            elif verdict == "late":
                s.late += 1
            else:
                s.missing.append(f"{r.name} {period.id}")
    from govhub.governance.sharing_measures import sharing_measures

    for agency, m in sharing_measures(settings, start, end, calendar).items():
        if agency in scores:
            s = scores[agency]
            s.requests_answered_rate, s.median_answer_days = m.on_time_rate, m.median_answer_days
            s.escalations, s.disputes, s.data_used = m.escalations, m.disputes, m.data_used
            s.use_by_grant = {g: u.to_dict() for g, u in sorted(m.use.items())}
    return sorted(scores.values(), key=lambda s: s.agency)
