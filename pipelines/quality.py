"""Data Docs as a Dagster job: GE renders every resource's current snapshot, hourly and on demand.

(No `from __future__ import annotations`: Dagster inspects the context and resource annotations.)
"""

import dagster as dg

from govhub.pipelines.assets import HubResource

DATA_DOCS_INDEX = "data_docs/index.html"


@dg.op(description="用 Great Expectations 校验各资源当前快照并生成 Data Docs")
def build_data_docs_op(context: dg.OpExecutionContext, hub: HubResource) -> str:
    from govhub.catalog.load import require_catalog
    from govhub.expectations.docs import build_hub_data_docs

    settings = hub.settings()
    index = build_hub_data_docs(settings, require_catalog(settings.catalog_dir))
    context.add_output_metadata(
        {"data_docs": dg.MetadataValue.url(settings.reports_url_for(DATA_DOCS_INDEX)), "index": str(index)}
    )
    return str(index)


@dg.job(name="data_docs", description="生成质量报告（Great Expectations Data Docs）")
def data_docs_job() -> None:
    build_data_docs_op()


data_docs_schedule = dg.ScheduleDefinition(
    name="data_docs_hourly", job=data_docs_job, cron_schedule="17 * * * *", execution_timezone="Asia/Shanghai"
)
