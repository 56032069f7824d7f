"""The Dagster graph built from the demo catalog, pinned: a renamed asset key, check or schedule is caught here.

Regenerate the pinned graph after an intended catalog change with GOVHUB_UPDATE_SNAPSHOTS=1.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import dagster as dg

from govhub.config import get_settings
from govhub.pipelines.definitions import build_definitions

SNAPSHOT = Path(__file__).with_name("asset_graph.json")
CATALOG = Path(__file__).resolve().parents[2] / "catalog"


def _graph(defs: dg.Definitions) -> dict:
    specs = sorted(defs.resolve_all_asset_specs(), key=lambda s: s.key.to_user_string())
    checks = sorted(k.to_user_string() for k in defs.resolve_asset_graph().asset_check_keys)
    return {
        "assets": {
            s.key.to_user_string(): {
                "group": s.group_name,
                "kinds": sorted(s.kinds),
                "tags": dict(sorted(s.tags.items())),
            }
            for s in specs
        },
        "checks": checks,
        "schedules": sorted((s.name, s.cron_schedule) for s in defs.schedules),
        "sensors": sorted(s.name for s in defs.sensors),
    }


def test_asset_graph_matches_the_pinned_snapshot(tmp_path: Path) -> None:
    graph = _graph(build_definitions(get_settings(home=tmp_path, catalog=CATALOG)))
    graph = json.loads(json.dumps(graph))  # tuples → lists, as stored
    if os.environ.get("GOVHUB_UPDATE_SNAPSHOTS"):
        SNAPSHOT.write_text(json.dumps(graph, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    # a missing snapshot is a failure, never a silent rewrite: the test would otherwise pin whatever it finds
    assert SNAPSHOT.exists(), f"{SNAPSHOT.name} is missing: regenerate it with GOVHUB_UPDATE_SNAPSHOTS=1"
    assert graph == json.loads(SNAPSHOT.read_text(encoding="utf-8"))


def test_the_code_location_builds_nothing_at_import() -> None:
    """`import govhub.pipelines.definitions` has no side effect: Dagster calls the `defs` loader itself."""
    import subprocess
    import sys

    probe = (
        "import dagster as dg, govhub.pipelines.definitions as d; "
        "print(isinstance(d.defs, dg.Definitions), callable(d.defs))"
    )
    env = {**os.environ, "GOVHUB_CATALOG": "/nonexistent/catalog"}  # building would have to read it
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, env=env)
    assert out.stdout.split() == ["False", "True"], out.stderr  # a loader, not definitions built at import
    assert "catalog" not in out.stderr


def test_every_catalog_resource_is_an_asset_grouped_by_agency_with_catalog_metadata(tmp_path: Path) -> None:
    from govhub.catalog.load import require_catalog

    catalog = require_catalog(CATALOG)
    defs = build_definitions(get_settings(home=tmp_path, catalog=CATALOG))
    specs = {s.key: s for s in defs.resolve_all_asset_specs()}
    workspaces = {dg.AssetKey(["workspaces", a.id]) for a in catalog.agencies.values() if not a.coordinator}
    assert set(specs) == {dg.AssetKey([r.agency, r.id]) for r in catalog.resources} | workspaces
    hjrk, gaj = dg.AssetKey(["gaj", "hjrk"]), dg.AssetKey(["workspaces", "gaj"])
    bzdz = dg.AssetKey(
        ["ghzyj", "bzdz"]
    )  # a spatial base resource shared unconditionally: read by every workspace
    graph = defs.resolve_asset_graph()
    assert (
        hjrk in graph.get(gaj).parent_keys
        and bzdz in graph.get(dg.AssetKey(["workspaces", "mzj"])).parent_keys
    )
    assert hjrk not in graph.get(dg.AssetKey(["workspaces", "mzj"])).parent_keys  # conditional: only by grant
    for r in catalog.resources:
        spec = specs[dg.AssetKey([r.agency, r.id])]
        assert spec.group_name == r.agency
        assert spec.metadata["资源名称"] == r.name
        assert spec.metadata["更新周期"] == r.cycle.label
        assert spec.tags["govhub/share_type"] == r.share.type.value
        assert [c.name for c in spec.metadata["dagster/column_schema"].columns] == r.field_names


def test_only_interface_fed_resources_are_scheduled(tmp_path: Path) -> None:
    from govhub.catalog.load import require_catalog

    catalog = require_catalog(CATALOG)
    defs = build_definitions(get_settings(home=tmp_path, catalog=CATALOG))
    scheduled = set()
    for schedule in defs.schedules:
        job = defs.resolve_job_def(schedule.job_name)
        scheduled |= {k.path[1] for k in job.asset_layer.executable_asset_keys}
    pulled = {
        r.id for r in catalog.resources if r.delivery.method.value != "sheet" and r.cycle.value != "irregular"
    }
    assert scheduled == pulled
