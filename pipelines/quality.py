"""Data Docs as a Dagster job: GE renders every resource's current snapshot, hourly and on demand.

(No `from __future__ import annotations`: Dagster inspects the context annotation at definition time.)
"""

import os

import dagster as dg

from govhub.config import Settings


def data_docs_url(settings: Settings) -> str:
    """Where people open the Data Docs: the demo's report server when it runs, else the file itself."""
    base = os.environ.get("GOVHUB_REPORTS_URL")
    if base:
        return f"{base.rstrip('/')}/data_docs/index.html"
    return (settings.reports_dir / "data_docs" / "index.html").as_uri()


@dg.op(description="用 Great Expectations 校验各资源当前快照并生成 Data Docs")
def build_data_docs_op(context: dg.OpExecutionContext) -> str:
    from govhub.catalog.load import require_catalog
    from govhub.config import get_settings
    from govhub.expectations.docs import build_hub_data_docs

    settings = get_settings()
    index = build_hub_data_docs(settings, require_catalog(settings.catalog_dir))
    context.add_output_metadata(
        {"data_docs": dg.MetadataValue.url(data_docs_url(settings)), "index": str(index)}
    )
    return str(index)


@dg.job(name="data_docs", description="生成质量报告（Great Expectations Data Docs）")
def data_docs_job() -> None:
    build_data_docs_op()


data_docs_schedule = dg.ScheduleDefinition(
    name="data_docs_hourly", job=data_docs_job, cron_schedule="17 * * * *", execution_timezone="Asia/Shanghai"
)
