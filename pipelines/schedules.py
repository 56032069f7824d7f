"""Pull schedules from each resource's update cycle (§11): interface-fed resources are pulled; sheets are pushed."""

from __future__ import annotations

import dagster as dg

from govhub.catalog.model import Catalog, DeliveryMethod, UpdateCycle
from govhub.pipelines.assets import asset_key

TIMEZONE = "Asia/Shanghai"

# Pull early in each period so a day's, week's … data is in before office hours.
CRON_BY_CYCLE: dict[UpdateCycle, str] = {
    UpdateCycle.REALTIME: "*/15 * * * *",
    UpdateCycle.DAILY: "0 6 * * *",
    UpdateCycle.WEEKLY: "0 6 * * 1",
    UpdateCycle.MONTHLY: "0 6 1 * *",
    UpdateCycle.QUARTERLY: "0 6 1 1,4,7,10 *",
    UpdateCycle.HALF_YEARLY: "0 6 1 1,7 *",
    UpdateCycle.YEARLY: "0 6 1 1 *",
}


def build_schedules(catalog: Catalog) -> list[dg.ScheduleDefinition]:
    """One schedule per update cycle over the API- and database-fed resources with that cycle."""
    schedules = []
    for cycle, cron in CRON_BY_CYCLE.items():
        keys = [
            asset_key(r)
            for r in catalog.resources
            if r.cycle is cycle and r.delivery.method is not DeliveryMethod.SHEET
        ]
        if not keys:
            continue
        job = dg.define_asset_job(f"pull_{cycle.value}", selection=dg.AssetSelection.assets(*keys))
        schedules.append(
            dg.ScheduleDefinition(
                name=f"pull_{cycle.value}_schedule",
                job=job,
                cron_schedule=cron,
                execution_timezone=TIMEZONE,
                description=f"拉取更新周期为「{cycle.label}」的接口/数据库资源",
            )
        )
    return schedules
