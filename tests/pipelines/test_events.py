"""A Dagster run killed after its publish never reported it; the load reconciled later must still reach the asset."""

from __future__ import annotations

import dagster as dg

from govhub.events import Event
from govhub.pipelines.events import load_events


def _event(trigger: str, **payload) -> Event:
    body = {
        "status": "published",
        "trigger": trigger,
        "load_id": "L1",
        "snapshot_id": "S1",
        "rows": 3,
        **payload,
    }
    return Event(
        7, "2026-11-27T08:00:00.000000Z", "load.published", "张海峰", "rsj", "rsj/jydj", body, "0", "1"
    )


def test_a_reconciled_publish_of_a_killed_dagster_run_is_shown_and_a_reported_one_is_not(settings):
    known = {"rsj/jydj"}
    assert load_events(_event("dagster:run-1"), known, settings) == []  # the run reported it itself
    (shown,) = load_events(_event("dagster:run-1", reconciled=True), known, settings)
    assert isinstance(shown, dg.AssetMaterialization) and shown.asset_key == dg.AssetKey(["rsj", "jydj"])
    assert shown.metadata["load_id"].value == "L1"
