"""The freshness sensor with a frozen clock: a weekly feed goes fresh → due → overdue → stale, alerts go out once per
period, and a zero update filed by a person restores it — all read from what the sensor hands to Dagster."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import dagster as dg
import pytest

from govhub.catalog.model import Catalog, Resource, UpdateCycle
from govhub.clock import BEIJING
from govhub.config import Settings
from govhub.governance.freshness import due_date, parse_period
from govhub.governance.ledger import ledger_rows, record_load_outcome
from govhub.governance.workdays import calendar_for
from govhub.governance.zero_update import file_zero_update
from govhub.pipelines.events import build_hub_events_sensor
from govhub.pipelines.freshness import CHECK_FRESH, build_freshness_sensor
from govhub.states import LedgerState
from tests.pipelines.conftest import hub_resources

HYDJ_KEY = dg.AssetKey(["mzj", "hydj"])  # 婚姻登记信息: weekly, delivered as a fill-in sheet
DELIVERED_ON = dt.datetime(2026, 3, 4, 10, 0, tzinfo=BEIJING)  # Wednesday of 2026-W10, no holiday near


class FrozenSensor:
    """The freshness sensor on a clock the test moves, and the hub-events sensor beside it, ticking the way the
    daemon does (each sensor's cursor carried over)."""

    def __init__(
        self, catalog: Catalog, instance: dg.DagsterInstance, today: dt.date, settings: Settings
    ) -> None:
        self.today = [today]
        self.sensors = [
            build_freshness_sensor(catalog, today=lambda: self.today[0]),
            build_hub_events_sensor(catalog),
        ]
        self.instance = instance
        self.resources = hub_resources(settings)
        self.cursors: list[str | None] = [None, None]

    def tick(self, on: dt.date) -> list[Any]:
        """Evaluate on `on`, hand the events to the instance as the sensor daemon would; hydj's events."""
        self.today[0] = on
        events = []
        for i, sensor in enumerate(self.sensors):
            context = dg.build_sensor_context(
                instance=self.instance, cursor=self.cursors[i], resources=self.resources
            )
            result = sensor(context)
            assert isinstance(result, dg.SensorResult)
            self.cursors[i] = result.cursor
            for event in result.asset_events:
                self.instance.report_runless_asset_event(event)
            events += result.asset_events
        return [e for e in events if e.asset_key == HYDJ_KEY]


@pytest.fixture
def hydj(catalog: Catalog) -> Resource:
    resource = catalog.resource("mzj/hydj")
    assert resource.cycle is UpdateCycle.WEEKLY
    return resource


@pytest.fixture
def delivered_week_10(settings: Settings, hydj: Resource) -> None:
    """hydj published once, on Wednesday 4 March 2026 (satisfies 2026-W10)."""
    entry = record_load_outcome(
        settings,
        hydj,
        {"status": "published", "snapshot_id": "s-w10", "load_id": "load-w10", "actor": "mzj 数据管理员"},
        at=DELIVERED_ON,
    )
    assert entry is not None and (entry.period, entry.state) == ("2026-W10", LedgerState.UPDATED)


def only_check(events: list[Any]) -> dg.AssetCheckEvaluation:
    (event,) = events
    assert isinstance(event, dg.AssetCheckEvaluation)
    assert event.check_name == CHECK_FRESH
    return event


def state_of(evaluation: dg.AssetCheckEvaluation) -> tuple[str, bool, dg.AssetCheckSeverity, str]:
    return (
        evaluation.metadata["state"].value,
        evaluation.passed,
        evaluation.severity,
        evaluation.metadata["period"].value,
    )


def hydj_alerts(settings: Settings) -> list[tuple[str, str]]:
    log = settings.state_dir / "alerts.log"
    lines = (
        [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()] if log.exists() else []
    )
    return [(a["kind"], a["period"]) for a in lines if (a["agency"], a["resource"]) == ("mzj", "hydj")]


def test_a_weekly_feed_goes_fresh_due_overdue_stale_and_a_zero_update_restores_it(
    settings: Settings, catalog: Catalog, hydj: Resource, delivered_week_10
) -> None:
    calendar = calendar_for(settings.catalog_dir)
    week_11, week_12 = parse_period(hydj.cycle, "2026-W11"), parse_period(hydj.cycle, "2026-W12")
    due_11, due_12 = due_date(week_11, calendar), due_date(week_12, calendar)
    # With no holiday around, "two working days after Sunday" is the Tuesday.
    assert (due_11, due_12) == (dt.date(2026, 3, 17), dt.date(2026, 3, 24))
    one_day = dt.timedelta(days=1)

    with dg.instance_for_test() as instance:
        clock = FrozenSensor(catalog, instance, week_11.start, settings)

        # W11, the week after delivery: nothing owed yet
        fresh = only_check(clock.tick(week_11.start + one_day))
        assert state_of(fresh) == ("fresh", True, dg.AssetCheckSeverity.WARN, "2026-W11")
        assert clock.tick(week_11.end) == []  # unchanged state: nothing reported again

        # W12 starts: W11 has ended undelivered, and is due by Tuesday
        due = only_check(clock.tick(week_12.start))
        assert state_of(due) == ("due", False, dg.AssetCheckSeverity.WARN, "2026-W11")
        assert due.metadata["due_date"].value == due_11.isoformat()
        assert clock.tick(due_11) == []
        assert hydj_alerts(settings) == []  # due is not late: no alert yet

        # past the due date: overdue, an ERROR, one alert however often the sensor ticks
        overdue = only_check(clock.tick(due_11 + one_day))
        assert state_of(overdue) == ("overdue", False, dg.AssetCheckSeverity.ERROR, "2026-W11")
        assert overdue.metadata["overdue_working_days"].value == 1
        for day in (due_11 + one_day, due_11 + 2 * one_day, due_12):
            assert clock.tick(day) == []
        assert hydj_alerts(settings) == [("overdue", "2026-W11")]
        missing = ledger_rows(settings, agency="mzj", resource="hydj", period="2026-W11")
        assert [e.state for e in missing] == [LedgerState.MISSING]

        # W12 missed as well, past its own due date: stale, alerted once more (a new kind for the period)
        stale_day = due_12 + one_day
        stale = only_check(clock.tick(stale_day))
        assert state_of(stale) == ("stale", False, dg.AssetCheckSeverity.ERROR, "2026-W11")
        assert clock.tick(stale_day) == [] and clock.tick(stale_day + one_day) == []
        assert hydj_alerts(settings) == [("overdue", "2026-W11"), ("stale", "2026-W11")]

        # 张三 declares that nothing changed in the week owed (W12): fresh again, the declaration reported once —
        # and counted late, a day past W12's due date
        entry = file_zero_update(
            settings, hydj, period=None, by="张三", at=dt.datetime.combine(stale_day, dt.time(9), BEIJING)
        )
        assert (entry.period, entry.state) == ("2026-W12", LedgerState.LATE)
        events = clock.tick(stale_day + one_day)
        checks = [e for e in events if isinstance(e, dg.AssetCheckEvaluation)]
        declared = [e for e in events if isinstance(e, dg.AssetMaterialization)]
        assert [state_of(c)[:3] for c in checks] == [("fresh", True, dg.AssetCheckSeverity.WARN)]
        (materialization,) = declared
        assert materialization.metadata["status"].value == "zero_update_declared"
        assert materialization.metadata["period"].value == "2026-W12"
        assert materialization.metadata["by"].value == "张三"
        assert clock.tick(stale_day + one_day) == []  # reported exactly once
        assert clock.tick(stale_day + 2 * one_day) == []
        assert hydj_alerts(settings) == [("overdue", "2026-W11"), ("stale", "2026-W11")]

        # Dagster's own record agrees: one runless materialization, the latest `fresh` evaluation passed
        records = instance.fetch_materializations(HYDJ_KEY, limit=10).records
        assert [r.asset_materialization.metadata["status"].value for r in records] == ["zero_update_declared"]
        assert records[0].run_id == ""  # no run: reported by the sensor
        check_key = dg.AssetCheckKey(HYDJ_KEY, CHECK_FRESH)
        latest = instance.event_log_storage.get_latest_asset_check_execution_by_key([check_key])[check_key]
        assert latest.status.value == "SUCCEEDED"


def test_a_zero_update_declared_before_the_sensor_first_ticks_is_reported_once(
    settings: Settings, catalog: Catalog, hydj: Resource, delivered_week_10
) -> None:
    calendar = calendar_for(settings.catalog_dir)
    week_11 = parse_period(hydj.cycle, "2026-W11")
    declared_on = due_date(week_11, calendar)  # on the due date: still in time
    file_zero_update(
        settings, hydj, period="2026-W11", by="张三", at=dt.datetime.combine(declared_on, dt.time(9), BEIJING)
    )
    with dg.instance_for_test() as instance:
        clock = FrozenSensor(catalog, instance, declared_on, settings)
        first = clock.tick(declared_on)
        again = clock.tick(declared_on)
    kinds = sorted(type(e).__name__ for e in first)
    assert kinds == ["AssetCheckEvaluation", "AssetMaterialization"]
    check = next(e for e in first if isinstance(e, dg.AssetCheckEvaluation))
    assert state_of(check) == ("fresh", True, dg.AssetCheckSeverity.WARN, "2026-W12")
    assert again == []
    assert hydj_alerts(settings) == []
