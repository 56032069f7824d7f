"""Freshness in Dagster (§11, §18): the working-day truth from `governance`, shown on every asset.

- a `fresh` asset check per resource (runnable on demand) whose verdict comes from the submission ledger and the PRC
  working-day calendar;
- `freshness_sensor`: every tick evaluates all resources, raises each alert once per period (log file / webhook)
  and reports the `fresh` check when a state changes (zero updates declared outside Dagster reach the assets through
  `hub_events_sensor`, so Dagster's own freshness view stays true without a run);
- Dagster's native `FreshnessPolicy` per update cycle, an approximation in calendar days for the UI's freshness column.
(No `from __future__ import annotations`: Dagster inspects the context annotation at definition time.)
"""

import datetime as dt
import json
from collections.abc import Callable

import dagster as dg

from govhub.catalog.model import Catalog, UpdateCycle
from govhub.pipelines.assets import HubResource, asset_key
from govhub.states import FreshnessState

CHECK_FRESH = "fresh"

# (warn, fail) windows in calendar days; the working-day verdict is the `fresh` check.
_WINDOWS: dict[UpdateCycle, tuple[dt.timedelta, dt.timedelta]] = {
    UpdateCycle.REALTIME: (dt.timedelta(hours=2), dt.timedelta(days=1)),
    UpdateCycle.DAILY: (dt.timedelta(days=1), dt.timedelta(days=4)),
    UpdateCycle.WEEKLY: (dt.timedelta(days=7), dt.timedelta(days=11)),
    UpdateCycle.MONTHLY: (dt.timedelta(days=31), dt.timedelta(days=35)),
    UpdateCycle.QUARTERLY: (dt.timedelta(days=92), dt.timedelta(days=96)),
    UpdateCycle.HALF_YEARLY: (dt.timedelta(days=184), dt.timedelta(days=188)),
    UpdateCycle.YEARLY: (dt.timedelta(days=366), dt.timedelta(days=370)),
}


def freshness_policy(cycle: UpdateCycle) -> dg.FreshnessPolicy | None:
    if cycle not in _WINDOWS:
        return None
    warn, fail = _WINDOWS[cycle]
    return dg.FreshnessPolicy.time_window(fail_window=fail, warn_window=warn)


def check_evaluation(row) -> dg.AssetCheckEvaluation:
    """A freshness row as the asset's `fresh` check (WARN while due, ERROR once overdue or stale)."""
    state = row.state
    return dg.AssetCheckEvaluation(
        asset_key=dg.AssetKey([row.agency, row.resource]),
        check_name=CHECK_FRESH,
        passed=state.passing,
        severity=dg.AssetCheckSeverity.WARN
        if state.passing or state is FreshnessState.DUE
        else dg.AssetCheckSeverity.ERROR,
        description=_describe(row),
        metadata={
            "state": state.value,
            "period": row.period or "",
            "due_date": row.due_date.isoformat() if row.due_date else "",
            "overdue_working_days": row.overdue_working_days,
            "last": (row.last.state.value + " " + row.last.period) if row.last else "",
        },
    )


def _describe(row) -> str:
    text = row.state.label
    if row.period:
        text += f"，周期 {row.period}"
    if row.due_date:
        text += f"，截止 {row.due_date.isoformat()}"
    return text


def build_fresh_checks(catalog: Catalog) -> dg.AssetChecksDefinition:
    specs = [
        dg.AssetCheckSpec(
            CHECK_FRESH, asset=asset_key(r), description="按更新周期和工作日历按期更新或报送零更新"
        )
        for r in catalog.resources
    ]

    @dg.multi_asset_check(specs=specs, can_subset=True, name="freshness_checks")
    def freshness_checks(context: dg.AssetCheckExecutionContext, hub: HubResource):
        from govhub.governance.alerts import evaluate_freshness

        selected = context.selected_asset_check_keys
        for row in evaluate_freshness(hub.settings(), catalog):
            evaluation = check_evaluation(row)
            if dg.AssetCheckKey(evaluation.asset_key, CHECK_FRESH) in selected:
                yield dg.AssetCheckResult(
                    asset_key=evaluation.asset_key,
                    check_name=CHECK_FRESH,
                    passed=evaluation.passed,
                    severity=evaluation.severity,
                    description=evaluation.description,
                    metadata=evaluation.metadata,
                )

    return freshness_checks


def build_freshness_sensor(
    catalog: Catalog, *, today: Callable[[], dt.date] | None = None
) -> dg.SensorDefinition:
    """`today` is injectable so tests drive the sensor with a frozen clock."""

    @dg.sensor(
        name="freshness_sensor",
        minimum_interval_seconds=300,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="按工作日历评估各资源是否按期更新，逾期/陈旧时告警（每期一次）",
    )
    def freshness_sensor(context: dg.SensorEvaluationContext, hub: HubResource):
        from govhub.clock import today_in_beijing
        from govhub.governance.alerts import evaluate_freshness, raise_alerts
        from govhub.governance.drift import catalog_alerts

        settings = hub.settings()
        cursor = json.loads(context.cursor) if context.cursor else {"states": {}}
        rows = evaluate_freshness(settings, catalog, (today or today_in_beijing)())
        alerts = raise_alerts(settings, rows, catalog=catalog)
        alerts += catalog_alerts(settings, catalog, (today or today_in_beijing)())
        events: list = []
        for row in rows:
            key = f"{row.agency}/{row.resource}"
            signature = f"{row.state.value}|{row.period}"
            if cursor["states"].get(key) != signature:
                events.append(check_evaluation(row))
                cursor["states"][key] = signature
        if alerts:
            context.log.warning("; ".join(a.message_zh for a in alerts))
        return dg.SensorResult(asset_events=events, cursor=json.dumps(cursor))

    return freshness_sensor
