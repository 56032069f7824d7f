"""Data Docs as a Dagster job: GE renders every resource's current snapshot hourly, or just some on demand.

`resources` in the op's config (codes or agency/resource) renders only those and updates the shared index — what a
sensor asks for after loads: run config `{"ops": {"build_data_docs_op": {"config": {"resources": ["gaj/hjrk"]}}}}`.
Left empty (the hourly schedule), every resource is rendered. Either way it runs as its own run, never inside a load.

(No `from __future__ import annotations`: Dagster inspects the context and resource annotations.)
"""

import dagster as dg
from pydantic import Field

from govhub.pipelines.assets import HubResource

DATA_DOCS_INDEX = "data_docs/index.html"


class DataDocsConfig(dg.Config):
    resources: list[str] = Field(
        default_factory=list, description="资源代码或 agency/resource；留空则生成全部资源"
    )


@dg.op(description="用 Great Expectations 校验各资源当前快照并生成 Data Docs（可只生成指定资源）")
def build_data_docs_op(context: dg.OpExecutionContext, hub: HubResource, config: DataDocsConfig) -> str:
    from govhub.catalog.load import require_catalog
    from govhub.services.reports_index import render_data_docs

    settings = hub.settings()
    catalog = require_catalog(settings.catalog_dir)
    unknown = [ref for ref in config.resources if not _known(catalog, ref)]
    if unknown:
        raise dg.Failure(description=f"目录中没有这些资源：{'、'.join(unknown)}")

    def progress(done: int, total: int, outcome) -> None:
        context.log.info(f"[{done}/{total}] {outcome.summary_zh()}")

    resources = [catalog.resource(ref) for ref in config.resources] if config.resources else None
    build = render_data_docs(settings, catalog, resources, progress)
    context.add_output_metadata(
        {
            "data_docs": dg.MetadataValue.url(settings.reports_url_for(DATA_DOCS_INDEX)),
            "index": str(build.index),
            "reports_index": str(build.reports_index),
            "resources": len(build.resources),
            "not_passing": dg.MetadataValue.json(
                [r.code for r in build.resources if r.status == "validated" and not r.success]
            ),
            "failed": dg.MetadataValue.json(
                [f"{r.code}：{r.message_zh}" for r in build.resources if r.status == "failed"]
            ),
            "seconds": build.seconds,
        }
    )
    return str(build.index)


def _known(catalog, ref: str) -> bool:
    try:
        catalog.resource(ref)
    except KeyError:
        return False
    return True


@dg.job(name="data_docs", description="生成质量报告（Great Expectations Data Docs）")
def data_docs_job() -> None:
    build_data_docs_op()


data_docs_schedule = dg.ScheduleDefinition(
    name="data_docs_hourly", job=data_docs_job, cron_schedule="17 * * * *", execution_timezone="Asia/Shanghai"
)
