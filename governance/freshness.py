"""Freshness of a feed (§11): update periods, due dates in working days, and the state of a feed on a given day.

Periods per update cycle (realtime is treated as daily; irregular has no periods and no due date):

    daily 2026-11-24 · weekly (ISO) 2026-W48 · monthly 2026-11 · quarterly 2026-Q4 · half-yearly 2026-H2 · yearly 2026

A period is *satisfied* by a published snapshot or a zero update recorded for it in the submission ledger. Its *due
date* is its last day plus `grace_working_days` PRC working days (`governance.workdays`), set per resource in the
catalog (`freshness:`, see `policy_for`).

The state at `as_of` (a date; "cur" is the period containing it, "prev" the one just ended):

- `fresh`   — cur or prev is satisfied: nothing is owed (also when the feed's history starts in cur);
- otherwise let M be the oldest missed period: the one after the latest satisfied period, or — with no satisfied
  period — the period containing `since` (when the feed started to be owed), else prev;
- `due`     — as_of <= due(M): M has ended and its due date has not passed;
- `overdue` — as_of >  due(M);
- `stale`   — overdue for more than one whole further period, i.e. as_of > due(M.next()) (the next period was missed
  as well), or overdue by more than `stale_after_working_days` working days when that is set;
- `irregular` — the cycle has no schedule, so nothing is ever owed.

Everything here is pure: the caller passes the satisfied period ids (from the ledger) and a calendar, so a sensor
can evaluate every feed on every tick without touching Dagster or the data.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Collection
from dataclasses import dataclass

from govhub.catalog.model import Resource, UpdateCycle
from govhub.governance.workdays import WorkdayCalendar
from govhub.problems import GovhubError, Problem
from govhub.states import FreshnessState

ONE_DAY = dt.timedelta(days=1)


@dataclass(frozen=True)
class FreshnessPolicy:
    grace_working_days: int = 2  # working days after a period's end to deliver or declare a zero update
    stale_after_working_days: int | None = None  # also stale when overdue by more than this many working days


def policy_for(resource: Resource) -> FreshnessPolicy:
    """The resource's catalog settings (`freshness:`; defaults: 2 working days' grace, stale after a missed period)."""
    return FreshnessPolicy(resource.freshness.grace_working_days, resource.freshness.stale_after_working_days)


@dataclass(frozen=True, order=True)
class Period:
    start: dt.date
    end: dt.date  # inclusive
    id: str
    cycle: UpdateCycle  # the effective cycle (never realtime or irregular)

    def next(self) -> Period:
        return period_of(self.cycle, self.end + ONE_DAY)  # type: ignore[return-value]

    def previous(self) -> Period:
        return period_of(self.cycle, self.start - ONE_DAY)  # type: ignore[return-value]

    def contains(self, day: dt.date) -> bool:
        return self.start <= day <= self.end


def effective_cycle(cycle: UpdateCycle) -> UpdateCycle | None:
    if cycle is UpdateCycle.IRREGULAR:
        return None
    return UpdateCycle.DAILY if cycle is UpdateCycle.REALTIME else cycle


def period_of(cycle: UpdateCycle, day: dt.date) -> Period | None:
    """The period of `cycle` that contains `day` (None for irregular)."""
    eff = effective_cycle(cycle)
    if eff is None:
        return None
    y, m = day.year, day.month
    if eff is UpdateCycle.DAILY:
        return Period(day, day, day.isoformat(), eff)
    if eff is UpdateCycle.WEEKLY:
        iso_year, week, weekday = day.isocalendar()
        start = day - dt.timedelta(days=weekday - 1)
        return Period(start, start + dt.timedelta(days=6), f"{iso_year}-W{week:02d}", eff)
    if eff is UpdateCycle.MONTHLY:
        return Period(dt.date(y, m, 1), _month_end(y, m), f"{y}-{m:02d}", eff)
    if eff is UpdateCycle.QUARTERLY:
        q = (m - 1) // 3 + 1
        return Period(dt.date(y, 3 * q - 2, 1), _month_end(y, 3 * q), f"{y}-Q{q}", eff)
    if eff is UpdateCycle.HALF_YEARLY:
        h = 1 if m <= 6 else 2
        return Period(dt.date(y, 6 * h - 5, 1), _month_end(y, 6 * h), f"{y}-H{h}", eff)
    return Period(dt.date(y, 1, 1), dt.date(y, 12, 31), str(y), eff)


def _month_end(y: int, m: int) -> dt.date:
    return (dt.date(y + m // 12, m % 12 + 1, 1)) - ONE_DAY


_PERIOD_ID = {
    UpdateCycle.DAILY: (re.compile(r"^(\d{4})-(\d{2})-(\d{2})$"), "YYYY-MM-DD，如 2026-11-24"),
    UpdateCycle.WEEKLY: (re.compile(r"^(\d{4})-W(\d{2})$"), "YYYY-Www，如 2026-W48"),
    UpdateCycle.MONTHLY: (re.compile(r"^(\d{4})-(\d{2})$"), "YYYY-MM，如 2026-11"),
    UpdateCycle.QUARTERLY: (re.compile(r"^(\d{4})-Q([1-4])$"), "YYYY-Qn，如 2026-Q4"),
    UpdateCycle.HALF_YEARLY: (re.compile(r"^(\d{4})-H([12])$"), "YYYY-Hn，如 2026-H2"),
    UpdateCycle.YEARLY: (re.compile(r"^(\d{4})$"), "YYYY，如 2026"),
}


def parse_period(cycle: UpdateCycle, period_id: str) -> Period:
    """The period named `period_id` for `cycle`; a GovhubError saying the expected form when it is not one."""
    eff = effective_cycle(cycle)
    if eff is None:
        raise GovhubError(
            Problem(
                code="period.irregular", message_zh="更新周期为“不定期”的资源没有报送周期", value=period_id
            )
        )
    pattern, form = _PERIOD_ID[eff]
    match = pattern.match(period_id.strip())
    try:
        if match is None:
            raise ValueError(period_id)
        nums = [int(g) for g in match.groups()]
        first = {
            UpdateCycle.DAILY: lambda: dt.date(*nums),
            UpdateCycle.WEEKLY: lambda: dt.date.fromisocalendar(nums[0], nums[1], 1),
            UpdateCycle.MONTHLY: lambda: dt.date(nums[0], nums[1], 1),
            UpdateCycle.QUARTERLY: lambda: dt.date(nums[0], 3 * nums[1] - 2, 1),
            UpdateCycle.HALF_YEARLY: lambda: dt.date(nums[0], 6 * nums[1] - 5, 1),
            UpdateCycle.YEARLY: lambda: dt.date(nums[0], 1, 1),
        }[eff]()
        period = period_of(eff, first)  # its end, a day past the last year Python has, is out of range too
    except (ValueError, OverflowError):
        raise GovhubError(
            Problem(
                code="period.invalid",
                message_zh=f"“{period_id}”不是有效的{cycle.label}报送周期",
                value=period_id,
                expected=form,
            )
        ) from None
    return period  # type: ignore[return-value]


def due_date(
    period: Period, calendar: WorkdayCalendar, policy: FreshnessPolicy = FreshnessPolicy()
) -> dt.date:
    return calendar.add_working_days(period.end, policy.grace_working_days)


@dataclass(frozen=True)
class Freshness:
    state: FreshnessState
    period: Period | None  # fresh: the next period owed; otherwise the oldest missed one
    due_date: dt.date | None  # due date of `period`
    # id of the latest satisfied period up to the one just ended (or the current one)
    last_satisfied: str | None
    overdue_working_days: int = 0


def _latest_satisfied(cycle: UpdateCycle, satisfied: Collection[str], upto: Period) -> Period | None:
    best: Period | None = None
    for pid in satisfied:
        try:
            p = parse_period(cycle, pid)
        except GovhubError:
            continue  # ids of another cycle (the catalog's cycle changed): they do not count
        if p.start <= upto.start and (best is None or p.start > best.start):
            best = p
    return best


def assess(
    cycle: UpdateCycle,
    satisfied: Collection[str],
    as_of: dt.date,
    *,
    calendar: WorkdayCalendar,
    policy: FreshnessPolicy = FreshnessPolicy(),
    since: dt.date | None = None,
) -> Freshness:
    """The state of a feed of `cycle` at `as_of`, given the ids of its satisfied periods (see the module doc)."""
    cur = period_of(cycle, as_of)
    if cur is None:
        return Freshness(FreshnessState.IRREGULAR, None, None, None)
    prev = cur.previous()
    latest = _latest_satisfied(cycle, satisfied, cur)
    last_id = latest.id if latest else None
    if cur.id in satisfied:
        nxt = cur.next()
        return Freshness(FreshnessState.FRESH, nxt, due_date(nxt, calendar, policy), last_id)
    if prev.id in satisfied:
        return Freshness(FreshnessState.FRESH, cur, due_date(cur, calendar, policy), last_id)
    if latest is not None:
        missed = latest.next()
    elif since is not None:
        missed = period_of(cycle, since)
    else:
        missed = prev
    assert missed is not None
    if missed.start > prev.start:  # owed only from the current period on: nothing due yet
        return Freshness(FreshnessState.FRESH, cur, due_date(cur, calendar, policy), last_id)
    due = due_date(missed, calendar, policy)
    if as_of <= due:
        return Freshness(FreshnessState.DUE, missed, due, last_id)
    late_by = calendar.working_days_between(due, as_of)
    stale = as_of > due_date(missed.next(), calendar, policy) or (
        policy.stale_after_working_days is not None and late_by > policy.stale_after_working_days
    )
    state = FreshnessState.STALE if stale else FreshnessState.OVERDUE
    return Freshness(state, missed, due, last_id, late_by)
