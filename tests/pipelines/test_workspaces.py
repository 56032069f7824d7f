"""Workspaces in Dagster: an asset per agency that Dagster's own runs build, and a sensor asking for exactly the
workspaces a publish or a grant change concerns."""

from __future__ import annotations

import datetime as dt

import dagster as dg

from govhub.catalog.model import Catalog
from govhub.clock import today_in_beijing
from govhub.config import Settings
from govhub.pipelines.workspaces import build_workspaces_sensor
from govhub.roles import Role
from govhub.services import requests as svc
from govhub.services.people import register_person
from govhub.warehouse.workspace import workspace_path
from tests.pipelines.conftest import hub_resources, materialize


def tick(settings: Settings, catalog: Catalog, instance: dg.DagsterInstance, cursor: str | None):
    sensor = build_workspaces_sensor(catalog)
    return sensor(
        dg.build_sensor_context(instance=instance, cursor=cursor, resources=hub_resources(settings))
    )


def requested(result) -> set[str]:
    return {k.path[1] for r in result.run_requests for k in r.asset_selection}


def test_publishes_and_grants_ask_for_the_workspaces_they_concern(
    settings: Settings, catalog: Catalog, demo
) -> None:
    today = today_in_beijing()
    with dg.instance_for_test() as instance:
        first = tick(settings, catalog, instance, None)
        assert isinstance(first, dg.SkipReason)
        loaded = materialize(
            settings, catalog, ["fgj/fwjbxx"], instance=instance
        )  # a base resource, unconditional
        assert loaded.success
        after_load = tick(settings, catalog, instance, None)
        everyone = {a.id for a in catalog.agencies.values() if not a.coordinator}
        assert requested(after_load) == everyone
        assert materialize(
            settings, catalog, ["gaj/lhry"], instance=instance
        ).success  # conditional: its owner only
        only_gaj = tick(settings, catalog, instance, after_load.cursor)
        assert requested(only_gaj) == {"gaj"}
        known = set(catalog.agencies)
        register_person(settings, "zhaoqiang", name="赵强", agency="kw", roles=[Role.OFFICE], actor="installer",
                        known_agencies=known)  # fmt: skip
        register_person(settings, "lu", name="陆建华", agency="gaj", roles=[Role.STEWARD], actor="zhaoqiang",
                        known_agencies=known)  # fmt: skip
        register_person(settings, "zhang", name="张海峰", agency="rsj", roles=[Role.STEWARD], actor="zhaoqiang",
                        known_agencies=known)  # fmt: skip
        request = svc.file_request(settings, catalog, catalog.resource("gaj/lhry"), actor="zhang",
                                   fields=["id_number"], purpose="核对", basis="职责", use_from=today,
                                   use_until=today + dt.timedelta(days=30), today=today)  # fmt: skip
        svc.forward(settings, request.id, actor="zhaoqiang", today=today)
        svc.answer(settings, catalog, request.id, actor="lu", decision=svc.Decision.APPROVE, today=today)
        svc.execute(settings, catalog, request.id, actor="zhaoqiang", today=today)  # grant.issued → rsj
        after_grant = tick(settings, catalog, instance, only_gaj.cursor)
        assert requested(after_grant) == {"rsj"}
        built = materialize(settings, catalog, ["workspaces/rsj"], instance=instance)
    assert built.success and workspace_path(settings, "rsj").is_file()
