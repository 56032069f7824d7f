"""Reminders in Dagster (催报): `notify_sensor` sends what is owed today — reminders before feed and catalog deadlines,
escalations after them, each agency's daily digest — and retries failed deliveries, every 15 minutes, as
`system:sensor`. Each notice goes out once however often it ticks (`services.notify`).

(No `from __future__ import annotations`: Dagster reads the resource annotation at definition time.)
"""

import datetime as dt
from collections.abc import Callable

import dagster as dg

from govhub.catalog.model import Catalog
from govhub.pipelines.assets import HubResource


def build_notify_sensor(
    catalog: Catalog, *, today: Callable[[], dt.date] | None = None
) -> dg.SensorDefinition:
    """`today` is injectable so tests drive the sensor with a frozen clock."""

    @dg.sensor(
        name="notify_sensor",
        minimum_interval_seconds=900,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="催报：报送和目录变更期限前提醒、逾期通知、各单位每日待办（每项只发一次，失败的稍后重发）",
    )
    def notify_sensor(context: dg.SensorEvaluationContext, hub: HubResource):
        from govhub.services.notify import run_notifications

        report = run_notifications(
            hub.settings(), catalog, actor="system:sensor", as_of=today() if today else None
        )
        if report.undelivered:
            context.log.warning(f"{len(report.undelivered)} notices undelivered (retried on the next tick)")
        if report.given_up:
            context.log.error(
                f"{len(report.given_up)} notices given up after repeated failures: check contacts"
            )
        return dg.SkipReason(
            f"reminded {len(report.reminded)}, escalated {len(report.escalated)}, digests {len(report.digests)}, "
            f"retried {len(report.retried)}, undelivered {len(report.undelivered)}, given up {len(report.given_up)}"
        )

    return notify_sensor
