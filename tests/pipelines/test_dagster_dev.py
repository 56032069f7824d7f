"""`dagster dev` serves the code location: every catalog asset with its group, description, catalog metadata, checks
and freshness policy, and the loads the CLI made without Dagster — shown by `hub_events_sensor` with the load's
checks — read back over the webserver's GraphQL endpoint."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from govhub.catalog.model import Catalog
from govhub.config import Settings
from govhub.pipelines.assets import CHECK_KEYS, CHECK_ROWS, CHECK_SCHEMA
from govhub.pipelines.freshness import CHECK_FRESH
from tests.pipelines.conftest import VENV_BIN, free_port, sheet_file

ASSET_NODES = """
{
  assetNodes {
    assetKey { path }
    groupName
    description
    kinds
    metadataEntries { label __typename ... on TextMetadataEntry { text } }
    internalFreshnessPolicy {
      __typename
      ... on TimeWindowFreshnessPolicy { failWindowSeconds warnWindowSeconds }
    }
    assetChecksOrError { __typename ... on AssetChecks { checks { name blocking } } }
  }
}
"""

LATEST_LOAD = """
query ($path: [String!]!) {
  assetOrError(assetKey: {path: $path}) {
    __typename
    ... on Asset {
      assetMaterializations(limit: 1) {
        runId
        metadataEntries {
          label
          ... on TextMetadataEntry { text }
          ... on IntMetadataEntry { intValue }
        }
      }
      assetObservations(limit: 1) {
        metadataEntries { label ... on TextMetadataEntry { text } }
      }
    }
  }
}
"""

CHECK_EXECUTIONS = """
query ($path: [String!]!, $check: String!) {
  assetCheckExecutions(assetKey: {path: $path}, checkName: $check, limit: 1) {
    status
    evaluation { success description }
  }
}
"""

SENSORS = """
{
  repositoriesOrError {
    ... on RepositoryConnection { nodes { name sensors { name } schedules { name } } }
  }
}
"""


class DagsterDev:
    """`dagster dev` as an agency's administrator starts it, in its own process group."""

    def __init__(self, env: dict[str, str], cwd: Path, log: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/graphql"
        cmd = [str(VENV_BIN / "dagster"), "dev", "-m", "govhub.pipelines.definitions"]
        self.log = log.open("wb")
        self.proc = subprocess.Popen(
            [*cmd, "-h", "127.0.0.1", "-p", str(self.port)],
            env=env,
            cwd=cwd,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its webserver, daemon and code server share our group id: stopped together
        )

    def query(self, text: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        response = httpx.post(self.url, json={"query": text, "variables": variables or {}}, timeout=30)
        response.raise_for_status()
        body = response.json()
        assert "errors" not in body, body["errors"]
        return body["data"]

    def wait_for_assets(self, count: int, timeout: float = 150.0) -> list[dict[str, Any]]:
        """The asset nodes once the code location has loaded all `count` of them."""
        deadline = time.monotonic() + timeout
        last: Any = None
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, f"dagster dev exited with {self.proc.returncode}: {self.tail()}"
            try:
                nodes = self.query(ASSET_NODES)["assetNodes"]
                if len(nodes) >= count:
                    return nodes
                last = f"{len(nodes)} assets"
            except (httpx.HTTPError, AssertionError) as exc:
                last = exc
            time.sleep(1.0)
        raise AssertionError(
            f"dagster dev did not serve {count} assets in {timeout:.0f} s ({last}): {self.tail()}"
        )

    def wait_for(self, text: str, variables: dict[str, Any], ready, timeout: float = 120.0) -> dict[str, Any]:
        """Query until `ready(data)` holds (the sensor daemon ticks on its own clock)."""
        deadline = time.monotonic() + timeout
        while True:
            data = self.query(text, variables)
            if ready(data):
                return data
            assert time.monotonic() < deadline, f"not ready after {timeout:.0f} s: {data}; {self.tail()}"
            time.sleep(2.0)

    def tail(self) -> str:
        self.log.flush()
        return Path(self.log.name).read_text(encoding="utf-8", errors="replace")[-3000:]

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        self.log.close()


@pytest.fixture
def ingested(
    settings: Settings, catalog: Catalog, demo, demo_api, tmp_path: Path
) -> dict[str, dict[str, Any]]:
    """Loads made through the CLI before the UI starts — no Dagster in that process: two published sheets and
    database pulls, and a refused sheet (a column missing)."""
    import json

    from govhub.cli.main import main

    def govhub(*args: str) -> Any:
        out = tmp_path / "out.json"
        with out.open("w") as fh, contextlib.redirect_stdout(fh):
            main(["--home", str(settings.home), "--catalog", str(settings.catalog_dir), *args, "--json"])
        return json.loads(out.read_text(encoding="utf-8"))

    broken = tmp_path / "hydj-broken.csv"
    lines = sheet_file(demo, "mzj/hydj", ".csv").read_text(encoding="gb18030").splitlines()
    broken.write_text("\n".join(",".join(line.split(",")[:-1]) for line in lines) + "\n", encoding="gb18030")
    outcomes = {
        "mzj/hydj": govhub(
            "upload", str(sheet_file(demo, "mzj/hydj")), "--resource", "mzj/hydj", "--by", "王静怡"
        ),
        "gaj/lhry": govhub("ingest", "--resource", "gaj/lhry", "--by", "刘洋")[0],
        "mzj/hydj refused": govhub("upload", str(broken), "--resource", "mzj/hydj", "--by", "王静怡"),
    }
    assert [o["status"] for o in outcomes.values()] == ["published", "published", "rejected"]
    return outcomes


@pytest.fixture
def dagster_dev(settings: Settings, ingested, tmp_path: Path) -> Iterator[DagsterDev]:
    settings.prepare_dagster_home()  # as `govhub demo` does before it starts `dagster dev`
    env = {
        **os.environ,
        "DAGSTER_HOME": str(settings.home / "dagster"),
        "GOVHUB_HOME": str(settings.home),
        "GOVHUB_CATALOG": str(settings.catalog_dir),
    }
    server = DagsterDev(env, tmp_path, tmp_path / "dagster-dev.log")
    try:
        yield server
    finally:
        server.stop()


def text_metadata(node: dict[str, Any]) -> dict[str, str]:
    return {e["label"]: e.get("text") for e in node["metadataEntries"]}


@pytest.mark.slow
def test_dagster_dev_shows_every_catalog_asset_with_metadata_checks_freshness_and_the_loads(
    catalog: Catalog, ingested, dagster_dev: DagsterDev
) -> None:
    workspaces = {("workspaces", a.id) for a in catalog.agencies.values() if not a.coordinator}
    nodes = {tuple(n["assetKey"]["path"]): n for n in dagster_dev.wait_for_assets(len(catalog.resources))}
    assert set(nodes) == {r.key for r in catalog.resources} | workspaces

    for r in catalog.resources:
        node = nodes[r.key]
        assert node["groupName"] == r.agency
        assert node["description"] == f"{r.name}（{r.code}）：{r.summary}"
        assert "parquet" in node["kinds"]
        meta = text_metadata(node)
        assert meta["资源名称"] == r.name
        assert meta["资源代码"] == r.code
        assert meta["更新周期"] == r.cycle.label
        assert meta["主键"] == ", ".join(r.primary_key)
        assert "dagster/column_schema" in meta
        checks = node["assetChecksOrError"]
        assert checks["__typename"] == "AssetChecks", checks
        assert {c["name"] for c in checks["checks"]} == {CHECK_SCHEMA, CHECK_KEYS, CHECK_ROWS, CHECK_FRESH}
        rows_check = next(c for c in checks["checks"] if c["name"] == CHECK_ROWS)
        assert rows_check["blocking"] is True
        policy = node["internalFreshnessPolicy"]
        if r.cycle.value == "irregular":
            assert policy is None
        else:
            assert policy["__typename"] == "TimeWindowFreshnessPolicy"
            assert policy["warnWindowSeconds"] < policy["failWindowSeconds"]

    weekly = nodes[("mzj", "hydj")]["internalFreshnessPolicy"]
    assert (weekly["warnWindowSeconds"], weekly["failWindowSeconds"]) == (7 * 86400, 11 * 86400)

    # the loads made before the UI started reach their assets through hub_events_sensor, without a run
    for key in ("mzj/hydj", "gaj/lhry"):
        outcome = ingested[key]
        asset = dagster_dev.wait_for(
            LATEST_LOAD, {"path": key.split("/")}, lambda d: d["assetOrError"]["assetMaterializations"]
        )["assetOrError"]
        (latest,) = asset["assetMaterializations"]
        assert latest["runId"] == ""  # reported by the sensor, no run
        entries = {e["label"]: e.get("text", e.get("intValue")) for e in latest["metadataEntries"]}
        assert entries["status"] == "published"
        assert entries["snapshot_id"] == outcome["snapshot_id"]
        assert entries["dagster/row_count"] == outcome["rows"]
        assert entries["actor"] in ("王静怡", "刘洋")

    # …with the load's checks as its audit decided them; the refused sheet is an observation whose schema check
    # failed (the same verdict the CLI printed)
    def latest_is(passed: bool):  # the daemon stores a tick's events one by one: wait for the last to land
        return lambda d: (
            d["assetCheckExecutions"] and d["assetCheckExecutions"][0]["evaluation"]["success"] is passed
        )

    for check, passed in ((CHECK_SCHEMA, False), (CHECK_ROWS, False), (CHECK_KEYS, True)):
        dagster_dev.wait_for(CHECK_EXECUTIONS, {"path": ["mzj", "hydj"], "check": check}, latest_is(passed))
    observed = dagster_dev.query(LATEST_LOAD, {"path": ["mzj", "hydj"]})["assetOrError"]["assetObservations"]
    assert {e["label"]: e.get("text") for e in observed[0]["metadataEntries"]}["status"] == "rejected"

    (repo,) = dagster_dev.query(SENSORS)["repositoriesOrError"]["nodes"]
    assert {s["name"] for s in repo["sensors"]} == {"inbox_sensor", "freshness_sensor", "hub_events_sensor",
                                                  "sharing_clock_sensor", "workspaces_sensor",
                                                  "notify_sensor"}  # fmt: skip
    assert "pull_daily_schedule" in {s["name"] for s in repo["schedules"]}


def test_the_cli_gives_a_new_hub_the_projects_instance_settings_and_keeps_an_administrators_own(
    settings: Settings,
) -> None:
    """`govhub demo` and `dagster dev` share DAGSTER_HOME: starting must not overwrite what an administrator set
    there (PostgreSQL run storage, concurrency limits)."""
    from govhub.config import DAGSTER_YAML

    new_hub = settings.home / "dagster"
    assert settings.prepare_dagster_home() == new_hub
    assert (new_hub / "dagster.yaml").read_text(encoding="utf-8") == DAGSTER_YAML.read_text(encoding="utf-8")

    own = "telemetry:\n  enabled: false\nrun_coordinator:\n  module: dagster.core.run_coordinator\n"
    (new_hub / "dagster.yaml").write_text(own, encoding="utf-8")
    settings.prepare_dagster_home()
    assert (new_hub / "dagster.yaml").read_text(encoding="utf-8") == own
