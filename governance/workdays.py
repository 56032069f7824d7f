"""The PRC working-day calendar (工作日), shared by every deadline in govhub.

Sources, strongest first:
1. `<catalog dir>/calendar.yaml`: dates the district declares holiday or workday (e.g. the State Council's schedule
   for a year the installed data does not know yet);
2. `chinese_calendar`: statutory holidays and 调休 make-up workdays (it raises NotImplementedError past its data);
3. for dates neither covers, the policy: `weekends` (default; a warning in Chinese once per process, the first
   time such a date is decided — nothing is said where no such date is used — then Saturdays and Sundays rest,
   plus the fixed-date statutory days 1 Jan, 1 May and 1–3 Oct) or `refuse` (raise a GovhubError).

calendar.yaml:

    policy: weekends            # or refuse
    holidays: [2027-01-01, {from: 2027-02-06, to: 2027-02-12}]
    workdays: [2027-02-20]
"""

from __future__ import annotations

import datetime as dt
import logging
from enum import StrEnum
from pathlib import Path
from typing import Any

from govhub.problems import GovhubError, Problem

log = logging.getLogger(__name__)

CALENDAR_FILE = "calendar.yaml"
_FIXED_STATUTORY = {(1, 1), (5, 1), (10, 1), (10, 2), (10, 3)}
_WARNED_YEARS: set[int] = set()


class UncoveredPolicy(StrEnum):
    WEEKENDS = "weekends"
    REFUSE = "refuse"


def _covered(year: int) -> bool:
    """Whether `chinese_calendar` holds `year` whole (its holidays and 调休 published)."""
    if not _COVERED_YEARS:
        import chinese_calendar

        _COVERED_YEARS.update(d.year for d in chinese_calendar.holidays)
    return year in _COVERED_YEARS


_COVERED_YEARS: set[int] = set()


class WorkdayCalendar:
    """Working days: is_working_day, add_working_days, working_days_between, next_working_day (all cached)."""

    def __init__(
        self,
        overrides: dict[dt.date, bool] | None = None,
        policy: UncoveredPolicy | str = UncoveredPolicy.WEEKENDS,
    ):
        self.overrides = dict(overrides or {})  # date -> True (workday) / False (holiday)
        self.policy = UncoveredPolicy(policy)
        self._cache: dict[dt.date, bool] = {}
        self._running: dict[int, list[int]] = {}

    def is_working_day(self, day: dt.date) -> bool:
        found = self._cache.get(day)
        if found is None:
            found = self._cache[day] = self._decide(day)
        return found

    def _decide(self, day: dt.date) -> bool:
        if day in self.overrides:
            return self.overrides[day]
        import chinese_calendar  # imported on first use: keeps `govhub --help` fast

        try:
            return bool(chinese_calendar.is_workday(day))
        except NotImplementedError:
            return self._uncovered(day)

    def _uncovered(self, day: dt.date) -> bool:
        if self.policy is UncoveredPolicy.REFUSE:
            raise GovhubError(
                Problem(
                    code="calendar.uncovered",
                    message_zh=(
                        f"{day.year}年的法定节假日和调休安排尚未收录，无法计算工作日：请在目录文件夹的 {CALENDAR_FILE} "
                        "中按国务院办公厅公布的安排登记该年的放假日期和调休上班日期"
                    ),
                    value=day.isoformat(),
                    expected="已收录节假日安排的日期",
                )
            )
        if not _WARNED_YEARS:  # once per process, whichever calendar asks first
            _WARNED_YEARS.add(day.year)
            log.warning(
                "%s年起的法定节假日和调休安排尚未收录：暂按周六、周日及1月1日、5月1日、10月1日至3日休息计算；"
                "请在资源目录的 %s 中登记该年的安排",
                day.year,
                CALENDAR_FILE,
            )
        return day.weekday() < 5 and (day.month, day.day) not in _FIXED_STATUTORY

    def next_working_day(self, day: dt.date) -> dt.date:
        """The first working day strictly after `day`."""
        return self.add_working_days(day, 1)

    def add_working_days(self, day: dt.date, n: int) -> dt.date:
        """The n-th working day after `day` (before it when n < 0); `day` itself when n == 0."""
        step = dt.timedelta(days=1 if n >= 0 else -1)
        remaining = abs(n)
        while remaining:
            day += step
            if self.is_working_day(day):
                remaining -= 1
        return day

    def working_days_between(self, start: dt.date, end: dt.date) -> int:
        """Working days d with start < d <= end (negative when end is before start).

        So `working_days_between(d, add_working_days(d, n)) == n`.
        """
        if end < start:
            return -self.working_days_between(end, start)
        total = 0
        for year in range(start.year, end.year + 1):  # (after, through] within each year
            after = max(start, dt.date(year - 1, 12, 31))
            through = min(end, dt.date(year, 12, 31))
            if through <= after:
                continue
            if _covered(year):  # a year the data holds whole: counted once, then looked up
                running = self._running_count(year)
                total += running[through.timetuple().tm_yday] - (
                    running[after.timetuple().tm_yday] if after.year == year else 0
                )
            else:  # a year the calendar may not know (a warning, or a refusal): only the days asked about
                total += sum(
                    self.is_working_day(after + dt.timedelta(days=i))
                    for i in range(1, (through - after).days + 1)
                )
        return total

    def _running_count(self, year: int) -> list[int]:
        """[0, working days to 1 Jan, … to 31 Dec] for `year`: a freshness board spans years of feeds, and counting
        day by day was most of its time (W11)."""
        found = self._running.get(year)
        if found is None:
            found, day, total = [0], dt.date(year, 1, 1), 0
            while day.year == year:
                total += self.is_working_day(day)
                found.append(total)
                day += dt.timedelta(days=1)
            self._running[year] = found
        return found


def _parse_dates(entries: Any, key: str) -> tuple[list[dt.date], list[Problem]]:
    dates: list[dt.date] = []
    problems: list[Problem] = []
    for i, entry in enumerate(entries or []):
        try:
            if isinstance(entry, dict):
                start, end = _as_date(entry["from"]), _as_date(entry["to"])
                if end < start:
                    raise ValueError("to < from")
                dates += [start + dt.timedelta(days=k) for k in range((end - start).days + 1)]
            else:
                dates.append(_as_date(entry))
        except (KeyError, ValueError, TypeError):
            problems.append(
                Problem(
                    code="calendar.bad_date",
                    message_zh=f"{CALENDAR_FILE} 中 {key} 第{i + 1}项不是有效的日期或日期区间",
                    value=str(entry),
                    expected="YYYY-MM-DD 或 {from: YYYY-MM-DD, to: YYYY-MM-DD}",
                )
            )
    return dates, problems


def _as_date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value))


def load_calendar(catalog_dir: Path | None, policy: UncoveredPolicy | str | None = None) -> WorkdayCalendar:
    """The calendar with `<catalog_dir>/calendar.yaml` applied (if present); `policy` overrides the file's."""
    path = Path(catalog_dir) / CALENDAR_FILE if catalog_dir else None
    if path is None or not path.exists():
        return WorkdayCalendar(policy=policy or UncoveredPolicy.WEEKENDS)
    import yaml

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (yaml.YAMLError, UnicodeDecodeError, ValueError) as exc:  # PyYAML raises ValueError on 2026-13-01
        raise GovhubError(
            Problem(code="calendar.unreadable", message_zh=f"{CALENDAR_FILE} 不是有效的 YAML 文件：{exc}")
        ) from exc
    if not isinstance(data, dict):
        raise GovhubError(Problem(code="calendar.unreadable", message_zh=f"{CALENDAR_FILE} 的内容应为映射"))
    holidays, problems = _parse_dates(data.get("holidays"), "holidays")
    workdays, more = _parse_dates(data.get("workdays"), "workdays")
    problems += more
    chosen = policy or data.get("policy") or UncoveredPolicy.WEEKENDS
    if chosen not in {p.value for p in UncoveredPolicy}:
        problems.append(
            Problem(
                code="calendar.bad_policy",
                message_zh=f"{CALENDAR_FILE} 中 policy 的取值无效",
                value=str(chosen),
                expected="weekends 或 refuse",
            )
        )
    clash = sorted(set(holidays) & set(workdays))
    if clash:
        problems.append(
            Problem(
                code="calendar.conflict",
                message_zh=f"{CALENDAR_FILE} 中同一日期既登记为放假又登记为上班",
                value=", ".join(d.isoformat() for d in clash),
            )
        )
    if problems:
        raise GovhubError(problems)
    overrides = {d: False for d in holidays} | {d: True for d in workdays}
    return WorkdayCalendar(overrides, policy=chosen)


_calendars: dict[tuple[str, float | None, str | None], WorkdayCalendar] = {}


def calendar_for(catalog_dir: Path | None, policy: UncoveredPolicy | str | None = None) -> WorkdayCalendar:
    """The shared calendar for a catalog folder, cached until calendar.yaml changes (cheap for sensor ticks)."""
    path = Path(catalog_dir) / CALENDAR_FILE if catalog_dir else None
    mtime = path.stat().st_mtime if path is not None and path.exists() else None
    key = (str(path), mtime, str(policy) if policy else None)
    cal = _calendars.get(key)
    if cal is None:
        cal = _calendars[key] = load_calendar(catalog_dir, policy)
    return cal
