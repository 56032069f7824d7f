"""Freshness states with a frozen clock: periods, due dates in working days, fresh → due → overdue → stale."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from govhub.catalog.model import UpdateCycle as C
from govhub.governance.freshness import (
    FreshnessPolicy,
    FreshnessState,
    assess,
    due_date,
    parse_period,
    period_of,
)
from govhub.governance.workdays import WorkdayCalendar
from govhub.problems import GovhubError

D = date.fromisoformat
CAL = WorkdayCalendar()


@pytest.mark.parametrize(
    ("cycle", "day", "pid", "start", "end"),
    [
        (C.DAILY, "2026-11-24", "2026-11-24", "2026-11-24", "2026-11-24"),
        (C.REALTIME, "2026-11-24", "2026-11-24", "2026-11-24", "2026-11-24"),
        (C.WEEKLY, "2026-11-24", "2026-W48", "2026-11-23", "2026-11-29"),
        (C.WEEKLY, "2027-01-03", "2026-W53", "2026-12-28", "2027-01-03"),  # ISO week-year
        (C.MONTHLY, "2026-02-10", "2026-02", "2026-02-01", "2026-02-28"),
        (C.MONTHLY, "2026-12-31", "2026-12", "2026-12-01", "2026-12-31"),
        (C.QUARTERLY, "2026-11-24", "2026-Q4", "2026-10-01", "2026-12-31"),
        (C.HALF_YEARLY, "2026-11-24", "2026-H2", "2026-07-01", "2026-12-31"),
        (C.HALF_YEARLY, "2026-06-30", "2026-H1", "2026-01-01", "2026-06-30"),
        (C.YEARLY, "2026-11-24", "2026", "2026-01-01", "2026-12-31"),
    ],
)
def test_period_ids_and_bounds(cycle, day, pid, start, end):
    p = period_of(cycle, D(day))
    assert (p.id, p.start, p.end) == (pid, D(start), D(end))
    assert parse_period(cycle, pid) == p
    assert p.next().previous() == p and p.next().start == p.end + timedelta(days=1)


def test_irregular_has_no_period_and_no_due_date():
    assert period_of(C.IRREGULAR, D("2026-11-24")) is None
    f = assess(C.IRREGULAR, set(), D("2026-11-24"), calendar=CAL)
    assert f.state is FreshnessState.IRREGULAR and f.due_date is None


def test_a_malformed_period_is_refused_with_the_expected_form():
    with pytest.raises(GovhubError) as err:
        parse_period(C.WEEKLY, "2026-11")
    assert err.value.problems[0].expected.startswith("YYYY-Www")
    with pytest.raises(GovhubError):
        parse_period(C.MONTHLY, "2026-13")


def test_due_date_counts_working_days_across_national_day():
    # September 2026 ends on Wed 30 Sep; 1–7 Oct are holidays; 2 working days later is Fri 9 Oct.
    assert due_date(parse_period(C.MONTHLY, "2026-09"), CAL) == D("2026-10-09")
    assert due_date(parse_period(C.MONTHLY, "2026-09"), CAL, FreshnessPolicy(grace_working_days=0)) == D(
        "2026-09-30"
    )


def test_a_weekly_feed_goes_fresh_due_overdue_stale_and_a_zero_update_restores_it():
    satisfied = {"2026-W46"}  # 9–15 Nov delivered; nothing for W47 (16–22 Nov)

    def state(day: str, done=satisfied):
        return assess(C.WEEKLY, done, D(day), calendar=CAL)

    f = state("2026-11-20")  # Friday of W47: last week is done
    assert (f.state, f.period.id, f.due_date) == (FreshnessState.FRESH, "2026-W47", D("2026-11-24"))
    f = state("2026-11-23")  # Monday: W47 ended, due Tue 24 Nov (Sun + 2 working days)
    assert (f.state, f.period.id, f.due_date) == (FreshnessState.DUE, "2026-W47", D("2026-11-24"))
    assert state("2026-11-24").state is FreshnessState.DUE
    f = state("2026-11-25")
    assert (f.state, f.overdue_working_days) == (FreshnessState.OVERDUE, 1)
    assert (
        state("2026-12-01").state is FreshnessState.OVERDUE
    )  # W48's own due date: not yet a whole period more
    f = state("2026-12-02")
    assert (f.state, f.period.id, f.last_satisfied) == (FreshnessState.STALE, "2026-W47", "2026-W46")
    # The agency files a zero update for W48 (the week just ended): the feed is fresh again.
    f = state("2026-12-02", satisfied | {"2026-W48"})
    assert (f.state, f.period.id, f.last_satisfied) == (FreshnessState.FRESH, "2026-W49", "2026-W48")


def test_stale_after_n_working_days_when_configured():
    policy = FreshnessPolicy(grace_working_days=2, stale_after_working_days=3)
    done = {"2026-10"}
    # 2026-11 is due Wed 2 Dec (30 Nov + 2 working days); 3 working days later is Mon 7 Dec.
    assert (
        assess(C.MONTHLY, done, D("2026-12-07"), calendar=CAL, policy=policy).state is FreshnessState.OVERDUE
    )
    assert assess(C.MONTHLY, done, D("2026-12-08"), calendar=CAL, policy=policy).state is FreshnessState.STALE
    assert assess(C.MONTHLY, done, D("2026-12-08"), calendar=CAL).state is FreshnessState.OVERDUE


def test_a_feed_never_delivered_is_owed_from_when_it_started():
    f = assess(C.DAILY, set(), D("2026-11-24"), calendar=CAL, since=D("2026-11-24"))
    assert f.state is FreshnessState.FRESH  # started today: nothing owed yet
    f = assess(C.DAILY, set(), D("2026-11-24"), calendar=CAL, since=D("2026-11-01"))
    assert (f.state, f.period.id) == (FreshnessState.STALE, "2026-11-01")
    f = assess(C.DAILY, set(), D("2026-11-24"), calendar=CAL)  # unknown start: yesterday is owed
    assert (f.state, f.period.id, f.due_date) == (FreshnessState.DUE, "2026-11-23", D("2026-11-25"))


def test_a_delivery_for_the_current_period_counts():
    f = assess(C.QUARTERLY, {"2026-Q4"}, D("2026-11-24"), calendar=CAL)
    assert (f.state, f.period.id) == (FreshnessState.FRESH, "2027-Q1")


def test_period_ids_of_another_cycle_are_ignored():
    f = assess(C.WEEKLY, {"2026-11", "nonsense"}, D("2026-11-25"), calendar=CAL)
    assert (f.state, f.period.id, f.last_satisfied) == (FreshnessState.OVERDUE, "2026-W47", None)
