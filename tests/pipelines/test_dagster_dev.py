"""`dagster dev` serves the code location: every catalog asset with its group, description, catalog metadata, checks
and freshness policy, and the loads the CLI made — read back over the webserver's GraphQL endpoint (issue 3, 4)."""

from __future__ import annotations

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
    }
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
def ingested(settings: Settings, catalog: Catalog, demo, monkeypatch) -> dict[str, dict[str, Any]]:
    """Two loads made through the CLI's path (in-process, recorded in the hub's Dagster instance)."""
    from govhub.pipelines.run import materialize_resource

    monkeypatch.setenv("DAGSTER_HOME", str(settings.home / "dagster"))  # restored after the test
    hydj, lhry = catalog.resource("mzj/hydj"), catalog.resource("gaj/lhry")
    outcomes = {
        "mzj/hydj": materialize_resource(settings, catalog, hydj, upload=sheet_file(demo, "mzj/hydj")),
        "gaj/lhry": materialize_resource(settings, catalog, lhry),
    }
    assert {k: o["status"] for k, o in outcomes.items()} == {"mzj/hydj": "published", "gaj/lhry": "published"}
    return outcomes


@pytest.fixture
def dagster_dev(settings: Settings, ingested, tmp_path: Path) -> Iterator[DagsterDev]:
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
    nodes = {tuple(n["assetKey"]["path"]): n for n in dagster_dev.wait_for_assets(len(catalog.resources))}
    assert set(nodes) == {r.key for r in catalog.resources}

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

    # the loads made before the UI started are on their assets, with what a person wants to see
    for key, outcome in ingested.items():
        asset = dagster_dev.query(LATEST_LOAD, {"path": key.split("/")})["assetOrError"]
        assert asset["__typename"] == "Asset"
        (latest,) = asset["assetMaterializations"]
        entries = {e["label"]: e.get("text", e.get("intValue")) for e in latest["metadataEntries"]}
        assert entries["status"] == "published"
        assert entries["snapshot_id"] == outcome["snapshot_id"]
        assert entries["dagster/row_count"] == outcome["rows"]

    (repo,) = dagster_dev.query(SENSORS)["repositoriesOrError"]["nodes"]
    assert {s["name"] for s in repo["sensors"]} == {"inbox_sensor", "freshness_sensor"}
    assert "pull_daily_schedule" in {s["name"] for s in repo["schedules"]}


def test_the_cli_gives_a_new_hub_the_projects_instance_settings_and_keeps_an_administrators_own(
    settings: Settings, monkeypatch
) -> None:
    """`govhub ingest` and `dagster dev` share DAGSTER_HOME: a load must not overwrite what an administrator set
    there (PostgreSQL run storage, concurrency limits)."""
    from govhub.pipelines.run import DAGSTER_YAML, prepare_dagster_home

    new_hub = settings.home / "dagster"
    monkeypatch.setenv("DAGSTER_HOME", str(new_hub))
    assert prepare_dagster_home(settings) == new_hub
    assert (new_hub / "dagster.yaml").read_text(encoding="utf-8") == DAGSTER_YAML.read_text(encoding="utf-8")

    own = "telemetry:\n  enabled: false\nrun_coordinator:\n  module: dagster.core.run_coordinator\n"
    (new_hub / "dagster.yaml").write_text(own, encoding="utf-8")
    prepare_dagster_home(settings)
    assert (new_hub / "dagster.yaml").read_text(encoding="utf-8") == own
