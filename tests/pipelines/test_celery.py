"""The district's loads through Dagster's Celery executor: RabbitMQ on 127.0.0.1:5672 as the broker, the Dagster
instance on PostgreSQL (a database of this test's own), two real `celery` worker processes. The hub they build is
the hub an in-process run builds, and two workers loading one resource at once take turns (the resource lock)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from govhub.catalog.model import DeliveryMethod
from govhub.warehouse.snapshots import current_info, published_ids
from tests.conftest import DemoHub, _serving_demo_hub
from tests.pipelines.conftest import drop_in_inbox, materialize
from tests.servers import PG_URL

pytestmark = [pytest.mark.celery, pytest.mark.postgres, pytest.mark.slow, pytest.mark.scale]
BROKER = "pyamqp://guest:guest@127.0.0.1:5672//"
RUN_TIMEOUT_S = 240


def _rabbitmq_up() -> None:
    try:
        socket.create_connection(("127.0.0.1", 5672), timeout=2).close()
    except OSError as exc:
        pytest.fail(f"RabbitMQ is not reachable at 127.0.0.1:5672 (start it; user guest/guest): {exc}")


@pytest.fixture
def dagster_pg(tmp_path: Path) -> Iterator[str]:
    """A PostgreSQL database of this test's own for Dagster's run, event-log and schedule storage."""
    from sqlalchemy import create_engine, text

    name = f"govhub_dagster_{os.getpid()}_{tmp_path.name.lower().replace('-', '_')[-20:]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        pytest.fail(
            f"PostgreSQL is not reachable at 127.0.0.1:5432 (start it; user postgres, db test): {exc}"
        )
    yield f"postgresql+psycopg2://postgres@127.0.0.1:5432/{name}"  # SQLAlchemy 2.1 defaults to psycopg 3
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _fill_inbox(hub: DemoHub) -> None:
    """Each sheet-fed resource's clean sheet in its inbox, so a run loads every resource of the district."""
    manifest = json.loads((hub.settings.demo_dir / "manifest.json").read_text(encoding="utf-8"))
    for resource in hub.catalog.resources:
        if resource.delivery.method is DeliveryMethod.SHEET:
            sheet = hub.settings.demo_dir / manifest["resources"][f"{resource.agency}/{resource.id}"]["path"]
            drop_in_inbox(hub.settings, resource, sheet)


def _snapshots(hub: DemoHub) -> dict[str, tuple[int, str]]:
    out = {}
    for resource in hub.catalog.resources:
        info = current_info(hub.settings, resource)
        out[f"{resource.agency}/{resource.id}"] = (info.rows, info.fingerprint)
    return out


@pytest.fixture
def district(tmp_path: Path, demo_source: Path, dagster_pg: str, monkeypatch) -> Iterator[DemoHub]:
    """A demo hub whose Dagster instance is on PostgreSQL and whose runs go to Celery, with two workers."""
    _rabbitmq_up()
    queue = f"govhub-test-{os.getpid()}-{tmp_path.name}"
    (tmp_path / "celery").mkdir()
    with _serving_demo_hub(tmp_path / "celery", demo_source, monkeypatch) as hub:
        dagster_home = hub.settings.home / "dagster"
        dagster_home.mkdir(parents=True, exist_ok=True)
        text = (Path(__file__).resolve().parents[2] / "deploy" / "district" / "dagster.yaml").read_text()
        (dagster_home / "dagster.yaml").write_text(text)
        monkeypatch.setenv("GOVHUB_DAGSTER_PG_URL", dagster_pg)
        monkeypatch.setenv("GOVHUB_CELERY_BROKER", BROKER)
        monkeypatch.setenv("GOVHUB_CELERY_QUEUE", queue)
        logs = [open(tmp_path / f"worker{i}.log", "w") for i in (1, 2)]  # noqa: SIM115 - closed below
        argv = [sys.executable, "-m", "celery", "-A", "dagster_celery.app", "worker", "-Q", queue, "--pool", "solo",
                "--prefetch-multiplier", "1", "--without-gossip", "--without-mingle", "--loglevel", "INFO"]  # fmt: skip
        # as deploy/district/compose.yaml gives it: Celery's own variable (dagster_celery.app alone would take
        # guest@localhost, which a deployment's broker does not accept)
        env = {**os.environ, "CELERY_BROKER_URL": BROKER}
        workers = [
            subprocess.Popen(
                [*argv, "-n", f"govhub{i}-{os.getpid()}@%h"], env=env, stdout=log, stderr=subprocess.STDOUT
            )
            for i, log in zip((1, 2), logs, strict=True)
        ]
        try:
            hub.workers = workers  # type: ignore[attr-defined]
            hub.worker_logs = [tmp_path / f"worker{i}.log" for i in (1, 2)]  # type: ignore[attr-defined]
            yield hub
        finally:
            for proc in workers:
                proc.terminate()
            for proc in workers:
                try:
                    proc.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
            for log in logs:
                log.close()


def _execute(asset_keys=None, tags=None):
    import dagster as dg

    from govhub.pipelines.definitions import ingest_all_job

    with dg.DagsterInstance.get() as instance:
        result = dg.execute_job(
            dg.reconstructable(ingest_all_job),
            instance=instance,
            asset_selection=[dg.AssetKey(k.split("/")) for k in asset_keys] if asset_keys else None,
            tags=tags,
            raise_on_error=False,
        )
        return result.success, [e.event_specific_data for e in result.all_events if e.is_step_failure]


def _workers_that_ran(hub) -> set[str]:
    names = set()
    for log in hub.worker_logs:
        if "succeeded in" in log.read_text(errors="replace"):
            names.add(log.name)
    return names


def test_two_celery_workers_build_the_same_hub_as_an_in_process_run(
    district: DemoHub, tmp_path: Path, demo_source: Path
):
    _fill_inbox(district)
    success, failures = _execute()
    assert success, failures
    assert _workers_that_ran(district) == {"worker1.log", "worker2.log"}  # both workers took steps
    distributed = _snapshots(district)

    (tmp_path / "inproc").mkdir()
    with (
        pytest.MonkeyPatch.context() as mp,
        _serving_demo_hub(tmp_path / "inproc", demo_source, mp) as local,
    ):
        _fill_inbox(local)
        result = materialize(local.settings, local.catalog)
        assert result.success
        assert distributed == _snapshots(local)
    assert all(rows > 0 for rows, _ in distributed.values())


def test_two_workers_loading_one_resource_take_turns(district: DemoHub):
    """Two runs of one API-fed resource launched at once from two processes, one step on each worker: the second
    load waits for the resource's lock and finds the first's snapshot — a zero update, never a second publish
    over the first (without the lock both would diff against the empty initial snapshot and both publish)."""
    key = "scjgj/qydj"
    code = (
        "import sys; from tests.pipelines.test_celery import _execute; "
        f"ok, failures = _execute([{key!r}]); print(failures, file=sys.stderr); sys.exit(0 if ok else 1)"
    )
    launches = [
        subprocess.Popen(
            [sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    results = []
    for proc in launches:
        try:
            _, err = proc.communicate(timeout=RUN_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            proc.kill()
            _, err = proc.communicate()
        results.append((proc.returncode, err[-2000:]))
    assert [code for code, _ in results] == [0, 0], results
    resource = district.resource(key)
    published = published_ids(district.settings, resource)
    assert len(published) == 2  # the empty initial snapshot, then one publication
    assert current_info(district.settings, resource).previous_id == published[0]
    loads = [
        json.loads(p.read_text()) for p in (district.settings.hub_dir / "_meta" / "loads").glob("*.json")
    ]
    statuses = sorted(r["status"] for r in loads if r["resource"] == "qydj")
    assert statuses == ["published", "zero_update"], statuses
    assert _workers_that_ran(district) == {"worker1.log", "worker2.log"}
