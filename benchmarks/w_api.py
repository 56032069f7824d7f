"""W5: 1M records over a paged local HTTP API (1,000 per page), from a server in its own process.

govhub: `read_api` with the landing sink (every page body landed before it is parsed by Arrow's JSON reader),
batches drained one by one (nothing accumulates). Baseline: `requests` page by page, `.json()` into a list of dicts,
then one DataFrame.
"""

from __future__ import annotations

import shutil
from typing import Any

from benchmarks.harness import Case

API_PATH = "/api/bench/jyry"


class W5Govhub(Case):
    workload, side = "W5", "govhub"
    title = "read_api: paged pull, pages landed raw, Arrow JSON parse, typed batches (drained)"

    def rows(self) -> int:
        return self.ctx.profile.api_rows

    def _resource(self):
        from benchmarks.resources import people_resource

        return people_resource(
            method="api", api_url=self.ctx.extra["api_url"] + API_PATH, page_size=self.ctx.profile.api_page
        )

    def prepare(self) -> None:
        self.resource = self._resource()
        self.home = self.ctx.scratch("W5-govhub") / "home"

    def reset(self) -> None:
        shutil.rmtree(self.home, ignore_errors=True)

    def run(self) -> dict[str, Any]:
        from benchmarks.hubs import settings_for
        from govhub.connectors.api import read_api
        from govhub.warehouse.landing import Landing

        settings = settings_for(self.home)
        sink = Landing(settings).sink(self.resource, received_by="benchmark", source="api")
        extract = read_api(settings, self.resource, since=None, sink=sink)
        records = sum(batch.num_rows for batch in extract.batches)
        close = getattr(sink, "close", None)
        if close is not None:
            close()
        return {"records": records, "problems": len(extract.problems)}


class W5Baseline(Case):
    workload, side = "W5", "baseline"
    title = "requests page by page → list of dicts → pandas DataFrame"
    slow = True

    def rows(self) -> int:
        return self.ctx.profile.api_rows

    def run(self) -> dict[str, Any]:
        import pandas as pd
        import requests

        url = self.ctx.extra["api_url"] + API_PATH
        size = self.ctx.profile.api_page
        records: list[dict[str, Any]] = []
        page = 1
        with requests.Session() as session:
            while True:
                response = session.get(url, params={"page": page, "page_size": size}, timeout=30)
                response.raise_for_status()
                data = response.json()["data"]
                records.extend(data)
                if len(data) < size:
                    break
                page += 1
        frame = pd.DataFrame(records)
        return {"records": len(frame)}
