"""Data Docs open from the asset page: a load's materialization links to the site the `data_docs` job renders."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlparse

import dagster as dg
import pytest

from govhub.pipelines.definitions import build_definitions
from tests.pipelines.conftest import materialize, run_outcome


@pytest.mark.slow
def test_the_materialization_links_to_data_docs_rendered_by_the_data_docs_job(
    settings, catalog, demo
) -> None:
    with dg.instance_for_test() as instance:
        run = materialize(
            settings, catalog, ["fgj/fwjbxx"], instance=instance
        )  # database-fed: needs no server
        assert run_outcome(run)["status"] == "published"

        defs = build_definitions(settings)
        result = defs.resolve_job_def("data_docs").execute_in_process(instance=instance)
        assert result.success
        event = instance.get_latest_materialization_event(dg.AssetKey(["fgj", "fwjbxx"]))
    link = event.asset_materialization.metadata["data_docs"].url
    page = Path(unquote(urlparse(link).path))
    assert page.is_file() and page == settings.reports_dir / "data_docs" / "index.html"
    validations = list((settings.reports_dir / "data_docs" / "validations").rglob("*.html"))
    assert any("fgj.fwjbxx" in str(p) for p in validations), validations
