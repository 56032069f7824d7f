"""`govhub demo --no-serve` as a person runs it: a fresh data folder, the whole demo district ingested, the example of
a rejected sheet shown; run again, everything is a zero update and no snapshot is added."""

from __future__ import annotations

import re
import socket
from dataclasses import dataclass
from pathlib import Path

import pytest

from govhub.catalog.load import require_catalog
from govhub.catalog.model import Catalog
from govhub.config import get_settings
from govhub.warehouse.snapshots import current_info, published_ids
from tests.commands import Run, run_command
from tests.conftest import REPO_CATALOG

pytestmark = pytest.mark.slow
DEMO_SCALE = "0.1"  # the same work at a tenth of the rows: the cost is per resource, not per row


@dataclass
class DemoRuns:
    home: Path
    catalog: Catalog
    first: Run
    snapshots_after_first: dict[str, list[str]]
    second: Run
    snapshots_after_second: dict[str, list[str]]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def snapshots(home: Path, catalog: Catalog) -> dict[str, list[str]]:
    settings = get_settings(home, REPO_CATALOG)
    return {f"{r.agency}/{r.id}": published_ids(settings, r) for r in catalog.resources}


def outcome_rows(output: str, catalog: Catalog) -> dict[str, str]:
    """resource → status from the first outcome table printed (the rejection example comes after it)."""
    keys = {f"{r.agency}/{r.id}" for r in catalog.resources}
    found: dict[str, str] = {}
    for line in output.splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[0] in keys and parts[0] not in found:
            found[parts[0]] = parts[1]
    return found


@pytest.fixture(scope="module")
def demo_runs(tmp_path_factory: pytest.TempPathFactory) -> DemoRuns:
    home = tmp_path_factory.mktemp("demo-home")
    catalog = require_catalog(REPO_CATALOG)
    env = {
        "GOVHUB_HOME": str(home),
        "GOVHUB_CATALOG": str(REPO_CATALOG),
        "DAGSTER_HOME": str(home / "dagster"),
        "GOVHUB_STATE_URL": "",
        "GOVHUB_DEMO_API": "",
    }
    args = ("demo", "--no-serve", "--scale", DEMO_SCALE, "--api-port", str(free_port()))
    first = run_command(*args, env=env, timeout=600)
    after_first = snapshots(home, catalog)
    second = run_command(*args, env=env, timeout=600)
    return DemoRuns(home, catalog, first, after_first, second, snapshots(home, catalog))


def test_demo_exits_0_and_publishes_every_catalog_resource(demo_runs: DemoRuns) -> None:
    run = demo_runs.first
    assert run.code == 0, run.out[-3000:] + run.err[-3000:]
    assert "Traceback" not in run.out + run.err
    statuses = outcome_rows(run.out, demo_runs.catalog)
    assert statuses == {key: "已发布" for key in statuses} and len(statuses) == len(
        demo_runs.catalog.resources
    )
    n = len(demo_runs.catalog.resources)
    assert re.search(rf"已汇聚 {n}/{n} 个资源", run.out)
    settings = get_settings(demo_runs.home, REPO_CATALOG)
    for r in demo_runs.catalog.resources:
        info = current_info(settings, r)
        assert info is not None and not info.initial and info.rows > 0, f"{r.agency}/{r.id} not published"
    assert (demo_runs.home / "hub.duckdb").is_file()


def test_demo_shows_an_example_of_a_rejected_sheet(demo_runs: DemoRuns) -> None:
    out = demo_runs.first.out
    assert "示例：一份有错误的填报文件" in out
    example = out[out.index("示例：一份有错误的填报文件") :]
    assert "已拒收" in example
    assert re.search(r"第\d+行|缺少|「.+」列", example), example


def test_second_demo_run_is_a_zero_update_for_everything_and_adds_no_snapshot(demo_runs: DemoRuns) -> None:
    run = demo_runs.second
    assert run.code == 0, run.out[-3000:] + run.err[-3000:]
    statuses = outcome_rows(run.out, demo_runs.catalog)
    assert len(statuses) == len(demo_runs.catalog.resources)
    not_zero = {k: v for k, v in statuses.items() if v != "零更新（内容未变）"}
    assert not_zero == {}
    assert demo_runs.snapshots_after_second == demo_runs.snapshots_after_first


def test_the_demo_shares_one_request_of_each_kind_and_builds_every_workspace(demo_runs: DemoRuns) -> None:
    from govhub.config import get_settings
    from govhub.governance.requests import list_requests
    from govhub.warehouse.workspace import workspace_path

    assert "sharing: 4 demo requests" in demo_runs.first.out
    settings = get_settings(demo_runs.home, REPO_CATALOG, env={})
    states = {r.key: r.state.value for r in list_requests(settings)}
    assert states == {"mzj/shzz": "approved", "gaj/hjrk": "approved", "gaj/lhry": "forwarded",
                      "fgj/clfjy": "disputed"}  # fmt: skip
    assert "sharing: 0 demo requests" in demo_runs.second.out  # made once
    agencies = [a.id for a in demo_runs.catalog.agencies.values() if not a.coordinator]
    assert all(workspace_path(settings, a).is_file() for a in agencies)
