"""Every demo resource loads at once under Dagster's multiprocess executor, without a lock error (issue 3).

The `ingest_all` job runs through the `dagster` CLI against a persistent DAGSTER_HOME, each step in its own process,
all steps allowed at once; the run's event log is then read back from that instance.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import dagster as dg
import pytest

from govhub.catalog.model import Catalog, DeliveryMethod
from govhub.config import Settings
from govhub.pipelines.assets import op_name
from tests.pipelines.conftest import VENV_BIN

PARALLEL_AT_LEAST = 6  # of 18 loads, on a 2-core machine: a serial executor would give 1
LOCK_TROUBLE = re.compile(r"\block\b|locked|conflicting lock|io error", re.IGNORECASE)

# Each step in a process forked from a server that has the load path imported once (Dagster's forkserver), so 18
# processes start in seconds rather than paying the imports 18 times.
RUN_CONFIG = """\
execution:
  config:
    multiprocess:
      max_concurrent: 32
      start_method:
        forkserver:
          preload_modules:
            - govhub.pipelines.definitions
            - govhub.services.ingest
            - govhub.warehouse.load
            - govhub.expectations.validate
            - govhub.connectors.sheet
            - govhub.connectors.api
            - govhub.connectors.database
"""


def run_ingest_all(settings: Settings, dagster_home: Path, tmp_path: Path) -> tuple[int, str]:
    config = tmp_path / "run.yaml"
    config.write_text(RUN_CONFIG, encoding="utf-8")
    cmd = [
        str(VENV_BIN / "dagster"),
        *("job", "execute", "-m", "govhub.pipelines.definitions", "-j", "ingest_all", "-c", str(config)),
    ]
    env = {**os.environ, "DAGSTER_HOME": str(dagster_home)}
    done = subprocess.run(cmd, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=240)
    return done.returncode, done.stdout + done.stderr


def peak_concurrency(steps: list[dict[str, Any]]) -> int:
    """The most steps that were between their start and their end at the same moment."""
    edges = sorted([(s["start"], 1) for s in steps] + [(s["end"], -1) for s in steps])
    running = peak = 0
    for _, change in edges:
        running += change
        peak = max(peak, running)
    return peak


def step_events(instance: dg.DagsterInstance, run_id: str) -> dict[str, dict[str, Any]]:
    """Per step: its worker's pid, start and end time, and how it ended."""
    steps: dict[str, dict[str, Any]] = {}
    for record in instance.all_logs(run_id):
        event = record.dagster_event
        if event is None or record.step_key is None:
            continue
        step = steps.setdefault(record.step_key, {})
        if event.event_type_value == "STEP_START":
            step["start"], step["pid"] = record.timestamp, event.pid
        elif event.event_type_value in ("STEP_SUCCESS", "STEP_FAILURE"):
            step["end"], step["status"] = record.timestamp, event.event_type_value
            if event.is_step_failure and event.step_failure_data.error is not None:
                step["error"] = _innermost(event.step_failure_data.error)
    return steps


def _innermost(error: Any) -> str:
    while error.cause is not None:
        error = error.cause
    return error.message.strip().splitlines()[0]


@pytest.mark.slow
def test_all_demo_resources_load_at_once_under_the_multiprocess_executor_without_lock_errors(
    settings: Settings, catalog: Catalog, demo, demo_api, upload, tmp_path: Path, monkeypatch
) -> None:
    for resource in catalog.resources:
        if resource.delivery.method is DeliveryMethod.SHEET:
            upload(resource, Path(demo["resources"][f"{resource.agency}/{resource.id}"]["path"]))
    dagster_home = tmp_path / "dagster"
    dagster_home.mkdir()
    monkeypatch.setenv("DAGSTER_HOME", str(dagster_home))

    started = time.monotonic()
    code, output = run_ingest_all(settings, dagster_home, tmp_path)
    took = time.monotonic() - started

    with dg.DagsterInstance.from_config(str(dagster_home)) as instance:
        runs = instance.get_runs()
        assert len(runs) == 1, f"ingest_all did not run ({took:.0f} s):\n{output[-4000:]}"
        (run,) = runs
        assert run.job_name == "ingest_all"
        steps = step_events(instance, run.run_id)
        log_text = "\n".join(
            f"{r.user_message} {r.dagster_event.message if r.dagster_event else ''}"
            for r in instance.all_logs(run.run_id)
        )
        records = instance.get_records_for_run(
            run.run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION
        ).records
        materialized = {
            tuple(event.asset_key.path): event.step_materialization_data.materialization.metadata
            for event in (r.event_log_entry.dagster_event for r in records)
        }

    # every resource's step (and the freshness checks) succeeded, each in a process of its own, overlapping
    expected_steps = {op_name(r) for r in catalog.resources} | {"freshness_checks"}
    assert set(steps) == expected_steps
    failed = {
        k: s.get("error", s.get("status")) for k, s in steps.items() if s.get("status") != "STEP_SUCCESS"
    }
    assert not failed, f"steps failed: {failed}"
    assert code == 0 and run.status is dg.DagsterRunStatus.SUCCESS, output[-4000:]
    loads = [s for k, s in steps.items() if k != "freshness_checks"]
    assert len({s["pid"] for s in loads}) == len(loads), "each step runs in its own process"
    assert peak_concurrency(loads) >= PARALLEL_AT_LEAST, (
        f"at most {peak_concurrency(loads)} loads ran at once"
    )

    # nothing anywhere about a lock
    assert not LOCK_TROUBLE.findall(log_text), LOCK_TROUBLE.findall(log_text)
    assert not LOCK_TROUBLE.findall(output), [m for m in output.splitlines() if LOCK_TROUBLE.search(m)][:5]

    # every resource published a current snapshot; loads never wrote hub.duckdb
    assert set(materialized) == {r.key for r in catalog.resources}
    for resource in catalog.resources:
        meta = materialized[resource.key]
        assert meta["status"].value == "published", (resource.key, meta["status"])
        assert (settings.hub_dir / resource.agency / resource.id / "current").resolve().is_dir()
    assert not settings.hub_db.exists()

    # the analysts' database answers on every resource's view
    from govhub.warehouse.hub import connect_readonly, sync_hub

    sync_hub(settings, catalog)
    with connect_readonly(settings) as con:
        for resource in catalog.resources:
            (count,) = con.execute(f'SELECT count(*) FROM "{resource.agency}"."{resource.id}"').fetchone()
            meta = materialized[resource.key]
            assert count == meta["dagster/row_count"].value - meta["quarantined"].value > 0, resource.key


STORE_FIRST_USE = """\
import sys, time
from govhub import store
from govhub.config import get_settings
for home, go in zip(sys.argv[2::2], sys.argv[3::2]):
    settings = get_settings(home, sys.argv[1])
    time.sleep(max(0.0, float(go) - time.time()))
    try:
        with store.write_transaction(settings, "test") as conn:
            pass
    except Exception as exc:
        print(type(exc).__name__, str(exc).splitlines()[0])
        sys.exit(1)
"""
FRESH_HUBS, PROCESSES = 5, 8


@pytest.mark.slow
def test_steps_starting_at_once_on_a_fresh_hub_all_open_the_state_store(
    settings: Settings, tmp_path: Path
) -> None:
    """What every step does first on a fresh hub (here without Dagster's timing luck): open the workflow store."""
    first = (
        time.time() + 4.0
    )  # every process imported and waiting, then all at once, on one fresh hub after another
    rounds = [str(part) for i in range(FRESH_HUBS) for part in (tmp_path / f"hub{i}", first + 1.0 * i)]
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", STORE_FIRST_USE, str(settings.catalog_dir), *rounds],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for _ in range(PROCESSES)
    ]
    results = [(p.wait(timeout=60), p.stdout.read().strip()) for p in procs]
    errors = [out for code, out in results if code != 0]
    assert errors == [], (
        f"{len(errors)} of {len(procs)} processes could not open a fresh state store: {errors[:2]}"
    )
