"""Data Docs open from the asset page: a load's materialization links to the site the `data_docs` job renders, and
the job renders just the resources its config names (what a sensor asks for after loads)."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlparse

import dagster as dg
import pytest

from govhub.expectations.docs import data_docs_index, docs_suite_name, latest_validation, suite_page
from govhub.pipelines.definitions import build_definitions
from tests.pipelines.conftest import materialize, run_outcome


def docs_config(*resources: str) -> dict:
    return {"ops": {"build_data_docs_op": {"config": {"resources": list(resources)}}}}


@pytest.mark.slow
def test_the_materialization_links_to_data_docs_rendered_by_the_data_docs_job(
    settings, catalog, demo
) -> None:
    resource = catalog.resource("fgj/fwjbxx")  # database-fed: needs no server
    with dg.instance_for_test() as instance:
        run = materialize(settings, catalog, ["fgj/fwjbxx"], instance=instance)
        assert run_outcome(run)["status"] == "published"

        job = build_definitions(settings).resolve_job_def("data_docs")
        result = job.execute_in_process(run_config=docs_config("fgj/fwjbxx"), instance=instance)
        assert result.success
        event = instance.get_latest_materialization_event(dg.AssetKey(["fgj", "fwjbxx"]))
    assert result.output_for_node("build_data_docs_op") == str(data_docs_index(settings))
    assert latest_validation(settings, resource).success is True
    others = [r for r in catalog.resources if r is not resource]
    assert not any(suite_page(settings, r).exists() for r in others)  # only the resource named was rendered
    link = event.asset_materialization.metadata["data_docs"].url
    page = Path(unquote(urlparse(link).path))
    assert page.is_file() and page == data_docs_index(settings)
    assert docs_suite_name(resource) in page.read_text(encoding="utf-8")


def test_the_data_docs_job_refuses_a_resource_not_in_the_catalog(settings, catalog) -> None:
    job = build_definitions(settings).resolve_job_def("data_docs")
    with dg.instance_for_test() as instance:
        result = job.execute_in_process(
            run_config=docs_config("fgj/fwjbxx", "nope/none"), instance=instance, raise_on_error=False
        )
    assert not result.success
    [failure] = [e for e in result.all_events if e.is_step_failure]
    assert "目录中没有这些资源：nope/none" in failure.step_failure_data.error.message
    assert not data_docs_index(settings).exists()
