"""`govhub quality docs`: progress per resource on stderr, a JSON summary with --json, plain errors for a wrong code.

An empty hub (no resource delivered yet) keeps it quick: each resource still gets its suite page.
"""

from __future__ import annotations

import json

import pytest

from govhub.expectations.docs import data_docs_index, suite_page
from tests.conftest import REPO_CATALOG

pytestmark = pytest.mark.slow


@pytest.fixture
def hub(settings, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("GOVHUB_CATALOG", str(REPO_CATALOG))
    from govhub.catalog.load import require_catalog
    from govhub.config import get_settings

    return get_settings(), require_catalog(REPO_CATALOG)


def test_docs_of_one_resource_report_progress_and_a_json_summary(hub, govhub) -> None:
    settings, catalog = hub
    run = govhub("quality", "docs", "--resource", "101001001/000001", "--json")
    assert run.code == 0, run.err
    assert "[1/1] 户籍人口基本信息（101001001/000001）：尚无已发布的数据，仅生成校验规则页" in run.err
    summary = json.loads(run.out)
    [outcome] = summary["resources"]
    assert outcome["code"] == "101001001/000001" and outcome["status"] == "no_data"
    assert outcome["suite_page"] == str(suite_page(settings, catalog.resource("gaj/hjrk")))
    assert summary["index"] == str(data_docs_index(settings)) and data_docs_index(settings).is_file()
    assert summary["reports_index"] == str(settings.reports_dir / "index.html")


def test_docs_of_the_whole_hub_end_with_where_to_open_them(hub, govhub) -> None:
    settings, catalog = hub
    run = govhub("quality", "docs")
    assert run.code == 0, run.err
    steps = [line for line in run.err.splitlines() if line.startswith("[")]
    assert len(steps) == len(catalog.resources) and steps[-1].startswith(f"[{len(catalog.resources)}/")
    assert f"Data Docs：{data_docs_index(settings)}（{len(catalog.resources)} 个资源" in run.out
    assert f"报告首页：{settings.reports_dir / 'index.html'}" in run.out


def test_an_unknown_resource_is_named_without_a_traceback(hub, govhub) -> None:
    run = govhub("quality", "docs", "--resource", "nope")
    assert run.code == 2
    assert "目录中没有资源「nope」" in run.err and "Traceback" not in run.err
