"""The PRC working-day calendar: holidays and 调休 from chinese_calendar, overrides, uncovered-year policy."""

from __future__ import annotations

import logging
from datetime import date

import pytest

from govhub.governance.workdays import WorkdayCalendar, calendar_for, load_calendar
from govhub.problems import GovhubError

D = date.fromisoformat


@pytest.fixture
def cal():
    return WorkdayCalendar()


def test_spring_festival_2025_with_its_make_up_sundays(cal):
    # 2025 春节: 1月28日至2月4日放假, 1月26日(周日)、2月8日(周六)上班.
    assert cal.is_working_day(D("2025-01-26"))  # Sunday make-up workday
    assert cal.is_working_day(D("2025-02-08"))  # Saturday make-up workday
    assert not any(cal.is_working_day(D(f"2025-01-{d}")) for d in (28, 29, 30, 31))
    assert not any(cal.is_working_day(D(f"2025-02-0{d}")) for d in (1, 2, 3, 4))
    assert cal.is_working_day(D("2025-02-05"))


def test_national_day_2025_and_its_make_up_days(cal):
    # 2025 国庆中秋: 10月1日至8日放假, 9月28日(周日)、10月11日(周六)上班.
    assert all(not cal.is_working_day(D(f"2025-10-0{d}")) for d in range(1, 9))
    assert cal.is_working_day(D("2025-09-28"))
    assert cal.is_working_day(D("2025-10-11"))
    assert cal.is_working_day(D("2025-10-09"))


def test_spring_festival_and_national_day_2026(cal):
    # 2026 春节: 2月15日至23日放假, 2月14日(周六)、2月28日(周六)上班; 国庆: 10月1日至7日, 9月20日、10月10日上班.
    assert cal.is_working_day(D("2026-02-14")) and cal.is_working_day(D("2026-02-28"))
    assert not any(cal.is_working_day(D(f"2026-02-{d}")) for d in range(15, 24))
    assert cal.is_working_day(D("2026-02-24"))
    assert not any(cal.is_working_day(D(f"2026-10-0{d}")) for d in range(1, 8))
    assert cal.is_working_day(D("2026-09-20")) and cal.is_working_day(D("2026-10-10"))
    assert not cal.is_working_day(D("2026-01-01")) and cal.is_working_day(D("2026-01-04"))  # Sunday make-up


def test_counting_across_the_2026_national_day_holiday(cal):
    # Wed 30 Sep + 2 working days: 1–7 Oct are holidays, so Thu 8 Oct and Fri 9 Oct.
    assert cal.add_working_days(D("2026-09-30"), 2) == D("2026-10-09")
    assert cal.next_working_day(D("2026-09-30")) == D("2026-10-08")
    assert cal.working_days_between(D("2026-09-30"), D("2026-10-09")) == 2
    assert cal.add_working_days(D("2026-10-08"), -1) == D("2026-09-30")
    assert cal.add_working_days(D("2026-10-08"), 0) == D("2026-10-08")


def test_counting_across_spring_festival_2025_includes_the_make_up_saturday(cal):
    # Fri 24 Jan 2025 → Sun 26 Jan (make-up) is the next working day; Mon 27 Jan the second; then 5 Feb.
    assert cal.next_working_day(D("2025-01-24")) == D("2025-01-26")
    assert cal.add_working_days(D("2025-01-24"), 3) == D("2025-02-05")
    # 5, 6, 7, 8 (Sat make-up) Feb and Mon 10 Feb.
    assert cal.add_working_days(D("2025-02-04"), 5) == D("2025-02-10")
    assert cal.working_days_between(D("2025-02-10"), D("2025-02-04")) == -5


def test_counting_between_equals_counting_day_by_day_across_years_and_overrides():
    """`working_days_between` counts by year (a board spans a decade of feeds): the same answer as deciding each day."""
    import random
    from datetime import timedelta

    cal = WorkdayCalendar({D("2024-02-29"): True, D("2019-06-05"): False})
    rng = random.Random(7)
    for _ in range(300):
        start = D("2016-01-01") + timedelta(days=rng.randrange(0, 3900))
        end = min(start + timedelta(days=rng.randrange(-800, 800)), D("2026-12-31"))  # years the data covers
        lo, hi = min(start, end), max(start, end)
        by_day = sum(cal.is_working_day(lo + timedelta(days=i)) for i in range(1, (hi - lo).days + 1))
        assert cal.working_days_between(start, end) == (by_day if end >= start else -by_day), (start, end)
        n = rng.randrange(0, 40)
        assert cal.working_days_between(start, cal.add_working_days(start, n)) == n
    assert cal.working_days_between(D("2024-02-28"), D("2024-03-01")) == 2  # Thu 29 Feb, Fri 1 Mar


def test_counting_decides_only_the_days_asked_about_in_a_year_the_data_does_not_hold(monkeypatch):
    """Per-year totals are for years chinese_calendar holds whole: a span into an uncovered year decides only its own
    days there (no refusal, no warning for days nobody asked about), and an empty span decides nothing."""
    from govhub.governance import workdays

    monkeypatch.setattr(workdays, "_WARNED_YEARS", set())
    registered = {D("2027-01-01"): False, D("2027-01-02"): False, D("2027-01-03"): False}
    refuse = WorkdayCalendar({**registered, D("2027-01-04"): True, D("2027-01-05"): True}, policy="refuse")
    assert refuse.working_days_between(D("2026-12-30"), D("2027-01-05")) == 3  # Thu 31 Dec, Mon 4, Tue 5 Jan
    assert (
        refuse.working_days_between(D("2027-03-03"), D("2027-03-03")) == 0
    )  # nothing asked: nothing refused
    with pytest.raises(GovhubError):
        refuse.working_days_between(D("2027-01-05"), D("2027-01-06"))  # a day of 2027 it cannot decide
    assert not workdays._WARNED_YEARS


def test_2027_under_the_weekends_policy_warns_once_per_process_in_chinese(cal, caplog, monkeypatch):
    from govhub.governance import workdays

    monkeypatch.setattr(workdays, "_WARNED_YEARS", set())  # as in a new process
    with caplog.at_level(logging.WARNING, logger="govhub.governance.workdays"):
        assert cal.is_working_day(D("2026-03-03"))  # covered: nothing said
        assert not caplog.records
        assert cal.is_working_day(D("2027-03-03"))  # a Wednesday
        assert not cal.is_working_day(D("2027-03-06"))  # a Saturday
        assert not cal.is_working_day(D("2027-10-01"))  # fixed-date statutory day (a Friday)
        assert not cal.is_working_day(D("2027-05-01"))
        assert cal.add_working_days(D("2027-01-01"), 1) == D("2027-01-04")
        assert WorkdayCalendar().is_working_day(
            D("2028-03-01")
        )  # another calendar, another year: said already
    assert [r.getMessage()[:30] for r in caplog.records] == [
        "2027年起的法定节假日和调休安排尚未收录：暂按周六、周日及"
    ]


def test_2027_under_the_refuse_policy_raises_a_clear_error():
    cal = WorkdayCalendar(policy="refuse")
    assert cal.is_working_day(D("2026-12-31"))  # covered dates still work
    with pytest.raises(GovhubError) as err:
        cal.is_working_day(D("2027-03-03"))
    assert err.value.problems[0].code == "calendar.uncovered"
    assert "2027年" in err.value.problems[0].message_zh


def test_override_file_wins_over_chinese_calendar_and_policy(tmp_path):
    (tmp_path / "calendar.yaml").write_text(
        "policy: refuse\n"
        "holidays:\n  - 2026-03-03\n  - {from: 2027-02-06, to: 2027-02-12}\n"
        "workdays:\n  - 2026-10-07\n  - 2027-02-20\n",
        encoding="utf-8",
    )
    cal = load_calendar(tmp_path)
    assert not cal.is_working_day(D("2026-03-03"))  # a Tuesday declared a holiday
    assert cal.is_working_day(D("2026-10-07"))  # a national-day holiday declared a workday
    assert not cal.is_working_day(D("2027-02-08"))
    assert cal.is_working_day(D("2027-02-20"))  # a Saturday declared a workday
    with pytest.raises(GovhubError):
        cal.is_working_day(D("2027-02-22"))  # the file asked to refuse undeclared 2027 dates
    assert calendar_for(tmp_path) is calendar_for(tmp_path)


def test_a_bad_calendar_file_is_reported_in_chinese(tmp_path):
    (tmp_path / "calendar.yaml").write_text(
        "policy: sometimes\nholidays: ['2026-13-01', {from: 2026-05-05}]\nworkdays: [2026-03-03]\n",
        encoding="utf-8",
    )
    with pytest.raises(GovhubError) as err:
        load_calendar(tmp_path)
    codes = [p.code for p in err.value.problems]
    assert codes == ["calendar.bad_date", "calendar.bad_date", "calendar.bad_policy"]
    assert "holidays 第1项" in err.value.problems[0].message_zh


def test_an_unparseable_calendar_file_is_reported_not_raised_as_a_traceback(tmp_path):
    (tmp_path / "calendar.yaml").write_text("holidays: [2026-13-01]\n", encoding="utf-8")
    with pytest.raises(GovhubError) as err:
        load_calendar(tmp_path)
    assert err.value.problems[0].code == "calendar.unreadable"
