"""The sharing clock in Dagster (§13): `sharing_clock_sensor` escalates unanswered requests after 10 working days,
reminds before deadlines and records expired grants, every few minutes, as `system:sensor`.

(No `from __future__ import annotations`: Dagster reads the resource annotation at definition time.)
"""

import datetime as dt
from collections.abc import Callable

import dagster as dg

from govhub.catalog.model import Catalog
from govhub.pipelines.assets import HubResource


def build_sharing_clock_sensor(
    catalog: Catalog, *, today: Callable[[], dt.date] | None = None
) -> dg.SensorDefinition:
    """`today` is injectable so tests drive the sensor with a frozen clock."""

    @dg.sensor(
        name="sharing_clock_sensor",
        minimum_interval_seconds=300,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="共享申请时限：提供方逾期（10个工作日）未答复的自动提交区科委，期限前提醒，授权到期登记",
    )
    def sharing_clock_sensor(context: dg.SensorEvaluationContext, hub: HubResource):
        from govhub.services.sharing_clock import tick

        report = tick(hub.settings(), catalog, actor="system:sensor", today=today() if today else None)
        if report.escalated:
            context.log.warning("escalated to the office: " + ", ".join(report.escalated))
        return dg.SkipReason(
            f"escalated {len(report.escalated)}, reminded {len(report.reminded)}, "
            f"overdue {len(report.overdue)}, expired grants {len(report.expired)}"
        )

    return sharing_clock_sensor
