"""A hub whose 就业登记信息 (rsj/jydj) already holds a good snapshot, for the hostile corpus to be thrown at."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import DemoHub, _serving_demo_hub, set_quality
from tests.hostile.corpus import Good
from tests.services.test_ingest import SHEET_CODE, sheet_rows, write_xlsx


@dataclass
class HostileHub:
    hub: DemoHub
    good: Good
    snapshot_id: str
    env: dict[str, str]


@pytest.fixture(scope="module")
def hostile_hub(tmp_path_factory: pytest.TempPathFactory, demo_source: Path) -> Iterator[HostileHub]:
    from govhub.services.upload import upload_sheet
    from govhub.warehouse.snapshots import current_snapshot_id

    with (
        pytest.MonkeyPatch.context() as mp,
        _serving_demo_hub(tmp_path_factory.mktemp("hostile"), demo_source, mp) as hub,
    ):
        set_quality(hub.settings.catalog_dir, SHEET_CODE, max_bad_row_pct=0)  # one bad row refuses the file
        hub.reload_catalog()
        header, rows = sheet_rows(hub)
        good = Good(header, rows)
        first = write_xlsx(hub.settings.home / "good.xlsx", header, rows)
        outcome = upload_sheet(hub.settings, hub.resource(SHEET_CODE), first, actor="tester")
        assert outcome.status == "published", outcome.problems
        env = {"GOVHUB_HOME": str(hub.settings.home), "GOVHUB_CATALOG": str(hub.settings.catalog_dir),
               "GOVHUB_USER": "tester"}  # fmt: skip
        yield HostileHub(hub, good, current_snapshot_id(hub.settings, hub.resource(SHEET_CODE)), env)
