"""W8c's baseline: the same upload through Dagster's in-process `materialize`, as `govhub upload` ran before the
service floor (`python -m benchmarks.dagster_upload HOME CATALOG FILE RESOURCE PERSON`)."""

from __future__ import annotations

import sys


def main(home: str, catalog_dir: str, path: str, ref: str, person: str) -> int:
    import dagster as dg

    from govhub.catalog.load import require_catalog
    from govhub.config import get_settings
    from govhub.pipelines.assets import op_name
    from govhub.pipelines.definitions import build_asset, hub_resource

    settings = get_settings(home, catalog_dir)
    catalog = require_catalog(settings.catalog_dir)
    resource = catalog.resource(ref)
    config = {"ops": {op_name(resource): {"config": {"upload_path": path, "actor": person}}}}
    with dg.DagsterInstance.ephemeral() as instance:
        result = dg.materialize([build_asset(catalog, resource)], instance=instance, run_config=config,
                                resources={"hub": hub_resource(settings)}, raise_on_error=False)  # fmt: skip
    return 0 if result.success else 1


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:6]))
