"""The inbox sensor, evaluated through Dagster: every uploaded sheet is requested once, run once, loaded once."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import dagster as dg
import pytest

from govhub.catalog.model import Catalog, Resource
from govhub.config import Settings
from govhub.governance.ledger import ledger_rows
from govhub.pipelines.assets import op_name
from govhub.pipelines.definitions import build_assets, build_definitions
from govhub.states import LedgerState
from tests.pipelines.conftest import hub_resources, sheet_file

HYDJ = "mzj/hydj"  # 婚姻登记信息: a weekly fill-in sheet


@pytest.fixture
def hydj(catalog: Catalog) -> Resource:
    return catalog.resource(HYDJ)


@pytest.fixture
def inbox_sensor(settings: Settings) -> dg.SensorDefinition:
    """The sensor exactly as the code location serves it."""
    return build_definitions(settings).resolve_sensor_def("inbox_sensor")


def tick(
    sensor: dg.SensorDefinition, instance: dg.DagsterInstance, cursor: str | None, settings: Settings
) -> dg.SensorResult:
    result = sensor(
        dg.build_sensor_context(instance=instance, cursor=cursor, resources=hub_resources(settings))
    )
    assert isinstance(result, dg.SensorResult)
    return result


def execute(
    request: dg.RunRequest, catalog: Catalog, instance: dg.DagsterInstance, settings: Settings
) -> dg.ExecuteInProcessResult:
    """Run what the sensor asked for: its asset selection with its run config and tags."""
    return dg.materialize(
        build_assets(catalog),
        selection=request.asset_selection,
        run_config=request.run_config,
        tags=request.tags,
        instance=instance,
        raise_on_error=False,
        resources=hub_resources(settings),
    )


def outcome_of(result: dg.ExecuteInProcessResult) -> dict[str, Any]:
    (event,) = result.get_asset_materialization_events()
    return event.step_materialization_data.materialization.metadata["outcome"].data


def test_an_uploaded_sheet_yields_one_run_request_for_its_asset_with_the_upload_in_its_config(
    settings: Settings, demo, hydj: Resource, upload, inbox_sensor
) -> None:
    dropped = upload(hydj, sheet_file(demo, HYDJ))
    with dg.instance_for_test() as instance:
        result = tick(inbox_sensor, instance, None, settings)
    (request,) = result.run_requests
    assert request.asset_selection == [dg.AssetKey(["mzj", "hydj"])]
    config = request.run_config["ops"][op_name(hydj)]["config"]
    assert config == {
        "upload_path": str(dropped),
        "actor": "",
    }  # the service attributes the file by its folder
    assert request.tags["govhub/resource"] == "mzj.hydj"
    assert request.tags["govhub/upload"] == "hydj.xlsx"
    assert request.run_key and "hydj.xlsx" in request.run_key
    assert result.cursor is not None


def test_an_empty_inbox_requests_nothing(settings: Settings, demo, inbox_sensor) -> None:
    with dg.instance_for_test() as instance:
        result = tick(inbox_sensor, instance, None, settings)
    assert result.run_requests == []


def test_the_returned_cursor_remembers_a_pending_upload(
    settings: Settings, demo, hydj: Resource, upload, inbox_sensor
) -> None:
    upload(hydj, sheet_file(demo, HYDJ))
    with dg.instance_for_test() as instance:
        first = tick(inbox_sensor, instance, None, settings)
        second = tick(inbox_sensor, instance, first.cursor, settings)
        third = tick(inbox_sensor, instance, second.cursor, settings)
    assert len(first.run_requests) == 1
    assert second.run_requests == [] and third.run_requests == []


@pytest.mark.slow
def test_each_upload_is_requested_once_run_once_and_moved_to_processed(
    settings: Settings, catalog: Catalog, demo, hydj: Resource, upload, inbox_sensor, tmp_path: Path
) -> None:
    inbox = settings.inbox_dir / "mzj" / "hydj"
    with dg.instance_for_test() as instance:
        # 1. a first delivery: requested, run, published, moved out of the inbox
        upload(hydj, sheet_file(demo, HYDJ))
        first = tick(inbox_sensor, instance, None, settings)
        (request,) = first.run_requests
        run = execute(request, catalog, instance, settings)
        assert run.success
        published = outcome_of(run)
        assert published["status"] == "published"
        assert published["rows"] == demo["resources"][HYDJ]["rows"]
        assert (settings.hub_dir / "mzj" / "hydj" / "current").is_symlink()
        assert [p.name for p in inbox.iterdir() if p.is_file()] == []
        assert [p.name.endswith("-hydj.xlsx") for p in (inbox / "processed").iterdir()] == [True]
        assert run.dagster_run.tags["govhub/upload"] == "hydj.xlsx"
        after_run = tick(inbox_sensor, instance, first.cursor, settings)
        assert after_run.run_requests == []

        # 2. another file with the same rows (the CSV export): a new delivery, an automatic zero update
        upload(hydj, sheet_file(demo, HYDJ, ".csv"))
        second = tick(inbox_sensor, instance, after_run.cursor, settings)
        (request,) = second.run_requests
        assert request.tags["govhub/upload"] == "hydj.csv"
        run = execute(request, catalog, instance, settings)
        assert run.success and outcome_of(run)["status"] == "zero_update"

        # 3. the same name uploaded again with edited content: requested again, loaded with the exact diff
        edited = tmp_path / "hydj.csv"
        lines = sheet_file(demo, HYDJ, ".csv").read_bytes().splitlines(keepends=True)
        edited.write_bytes(b"".join(lines[:-1]))  # the last register entry withdrawn
        upload(hydj, edited)
        third = tick(inbox_sensor, instance, second.cursor, settings)
        (request,) = third.run_requests
        run = execute(request, catalog, instance, settings)
        outcome = outcome_of(run)
        assert (outcome["status"], outcome["deleted"], outcome["inserted"]) == ("published", 1, 0)
        assert tick(inbox_sensor, instance, third.cursor, settings).run_requests == []

        # each of the three uploads was loaded exactly once, and none is left in the inbox
        runs = instance.get_runs(filters=dg.RunsFilter(tags={"govhub/resource": "mzj.hydj"}))
        assert len(runs) == 3
        assert sorted(p.name.split("-", 2)[2] for p in (inbox / "processed").iterdir()) == [
            "hydj.csv",
            "hydj.csv",
            "hydj.xlsx",
        ]
        assert [p for p in inbox.iterdir() if p.is_file()] == []
    # the ledger tells the same story for the week: delivered, then corrected (the identical copy changed nothing)
    (entry,) = ledger_rows(settings, agency="mzj", resource="hydj")
    assert entry.state is LedgerState.AMENDED
    assert entry.snapshot_id == outcome["snapshot_id"]


def test_a_processed_upload_is_forgotten_by_the_cursor(
    settings: Settings, catalog: Catalog, demo, hydj: Resource, upload, inbox_sensor
) -> None:
    """Only files still waiting need remembering: the cursor stays as small as the inbox."""
    upload(hydj, sheet_file(demo, HYDJ))
    with dg.instance_for_test() as instance:
        first = tick(inbox_sensor, instance, None, settings)
        assert len(json.loads(first.cursor)["seen"]) == 1
        assert execute(first.run_requests[0], catalog, instance, settings).success
        after = tick(inbox_sensor, instance, first.cursor, settings)
    assert after.run_requests == []
    assert json.loads(after.cursor)["seen"] == []


@pytest.mark.slow
def test_the_same_file_uploaded_again_after_processing_is_a_new_delivery(
    settings: Settings, catalog: Catalog, demo, hydj: Resource, tmp_path: Path, inbox_sensor
) -> None:
    """A steward re-sends the identical file (same name, bytes and modification time, as `cp -p` or an unzip
    gives): it is a new delivery — loaded, recorded as a zero update, and not left in the inbox forever."""
    inbox = settings.inbox_dir / "mzj" / "hydj"
    inbox.mkdir(parents=True)
    original = sheet_file(demo, HYDJ)
    with dg.instance_for_test() as instance:
        shutil.copy2(original, inbox / original.name)  # copy2 keeps the modification time
        first = tick(inbox_sensor, instance, None, settings)
        assert execute(first.run_requests[0], catalog, instance, settings).success
        shutil.copy2(original, inbox / original.name)
        again = tick(inbox_sensor, instance, first.cursor, settings)
        (request,) = again.run_requests
        assert request.run_key != first.run_requests[0].run_key  # the daemon would drop a repeated run key
        run = execute(request, catalog, instance, settings)
    assert outcome_of(run)["status"] == "zero_update"
    assert [p for p in inbox.iterdir() if p.is_file()] == []


@pytest.mark.slow
def test_a_sheet_replaced_before_its_run_is_loaded_once_and_the_stale_request_ends_without_a_traceback(
    settings: Settings, catalog: Catalog, demo, hydj: Resource, upload, inbox_sensor, tmp_path: Path
) -> None:
    """The steward fixes a row and uploads the sheet again under the same name before the first run started: two
    requests, one file. The edited content is loaded once; the request whose file is gone says so in Chinese."""
    original = sheet_file(demo, HYDJ, ".csv")
    edited = tmp_path / original.name
    edited.write_bytes(b"".join(original.read_bytes().splitlines(keepends=True)[:-1]))
    with dg.instance_for_test() as instance:
        upload(hydj, original)
        first = tick(inbox_sensor, instance, None, settings)
        upload(hydj, edited)  # overwrites the waiting file
        second = tick(inbox_sensor, instance, first.cursor, settings)
        assert len(first.run_requests) == len(second.run_requests) == 1
        loaded = execute(first.run_requests[0], catalog, instance, settings)
        stale = execute(second.run_requests[0], catalog, instance, settings)
    assert loaded.success and outcome_of(loaded)["rows"] == demo["resources"][HYDJ]["rows"] - 1
    failures = [e.step_failure_data for e in stale.all_events if e.is_step_failure]
    tracebacks = [_innermost(f.error) for f in failures if f.user_failure_data is None]
    assert tracebacks == [], "the stale request crashed instead of saying its file was already processed"
    assert len(list((settings.inbox_dir / "mzj" / "hydj" / "processed").iterdir())) == 1


def _innermost(error) -> str:
    while error.cause is not None:
        error = error.cause
    return f"{error.cls_name}: {error.message.strip()}"


def test_a_run_over_several_pending_sheets_shows_every_delivery_on_the_asset(
    settings: Settings, demo, hydj: Resource, upload, catalog: Catalog, tmp_path: Path
) -> None:
    """Materialised by hand with two sheets waiting: a broken one, then a good one. Both are loaded in order; the
    rejected one is an observation on the asset, the materialization lists both, the checks describe the last."""
    import os

    broken = tmp_path / "hydj-broken.xlsx"
    broken.write_bytes(b"this is not a workbook")
    first = upload(hydj, broken)
    second = upload(hydj, sheet_file(demo, HYDJ))
    os.utime(first, ns=(1, 1))  # the broken one was uploaded first
    with dg.instance_for_test() as instance:
        result = dg.materialize(
            build_assets(catalog),
            selection=[dg.AssetKey(["mzj", "hydj"])],
            instance=instance,
            resources=hub_resources(settings),
        )
        observations = instance.fetch_observations(dg.AssetKey(["mzj", "hydj"]), limit=10).records
    assert result.success
    (observed,) = observations
    seen = observed.asset_observation.metadata
    assert seen["status"].value == "rejected" and seen["upload"].value == "hydj-broken.xlsx"
    materialized = outcome_of(result)
    assert materialized["status"] == "published"
    (event,) = result.get_asset_materialization_events()
    table = event.step_materialization_data.materialization.metadata["deliveries"].value
    assert table.index("hydj-broken.xlsx") < table.index(second.name) and "已拒收" in table
    checks = {c.check_name: c.passed for c in result.get_asset_check_evaluations()}
    assert all(checks.values()), checks
