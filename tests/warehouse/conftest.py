"""Helpers for warehouse tests: a small resource built in code, tables in its schema, extracts, settings; a hub
shared between agencies for the workspace and sandbox tests."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from govhub.catalog.arrow import ROW_COLUMN, arrow_schema
from govhub.catalog.model import Agency, Catalog, Resource, Steward
from govhub.config import Settings
from govhub.connectors.base import Extract

PEOPLE_FIELDS = [
    {"name": "person_id", "label": "人员编号", "type": "string", "required": True},
    {"name": "name", "label": "姓名", "type": "string"},
    {"name": "age", "label": "年龄", "type": "integer"},
    {"name": "score", "label": "评分", "type": "number"},
    {"name": "born", "label": "出生日期", "type": "date"},
    {"name": "updated_at", "label": "更新时间", "type": "datetime"},
    {"name": "phone", "label": "联系电话", "type": "string"},
]


def make_resource(agency: str = "civil", rid: str = "people", **overrides: Any) -> Resource:
    data: dict[str, Any] = {
        "id": rid,
        "code": "101001",
        "name": "测试人口",
        "summary": "测试用资源",
        "agency": agency,
        "class": "population",
        "share": {"type": "conditional", "conditions": "按需"},
        "cycle": "daily",
        "delivery": {"method": "sheet"},
        "fields": PEOPLE_FIELDS,
        "primary_key": ["person_id"],
    }
    data.update(overrides)
    return Resource.model_validate(data)


def make_catalog(*resources: Resource) -> Catalog:
    agencies = {
        a: Agency(id=a, name=f"{a}局", uscc="11310117MB2F00000X", steward=Steward(name="张三"))
        for a in sorted({r.agency for r in resources})
    }
    return Catalog(agencies=agencies, resources=list(resources))


def people_rows(n: int, *, start: int = 0) -> list[dict[str, Any]]:
    base = dt.datetime(2026, 1, 1, 8, 0, 0)
    return [
        {
            "person_id": f"P{i:07d}",
            "name": f"姓名{i}",
            "age": 20 + i % 60,
            "score": round(i * 0.5, 2),
            "born": dt.date(1970, 1, 1) + dt.timedelta(days=i % 10000),
            "updated_at": base + dt.timedelta(seconds=i),
            "phone": f"1380000{i % 10000:04d}",
        }
        for i in range(start, start + n)
    ]


def people_table(resource: Resource, rows: list[dict[str, Any]], *, first_row: int = 2) -> pa.Table:
    """Rows in the connector contract: catalog schema plus `__row__` (sheet rows start at 2 under the header)."""
    cols: dict[str, Any] = {ROW_COLUMN: list(range(first_row, first_row + len(rows)))}
    for f in resource.fields:
        cols[f.name] = [r.get(f.name) for r in rows]
    return pa.Table.from_pydict(cols, schema=arrow_schema(resource, with_row=True))


def batches_of(table: pa.Table, size: int = 1000) -> Iterator[pa.RecordBatch]:
    yield from table.to_batches(max_chunksize=size)


def extract_of(table: pa.Table, *, mode: str = "full", cursor: dict | None = None, problems=None) -> Extract:
    return Extract(
        batches=batches_of(table), mode=mode, cursor=cursor, problems=list(problems or []), source="test"
    )


@pytest.fixture
def people() -> Resource:
    return make_resource()


def people_batches(resource: Resource, n: int, *, start: int = 0, size: int = 50_000, age_shift: int = 0):
    """A sizeable table generated batch by batch (vectorised), as a connector would stream it."""
    import numpy as np
    import pyarrow.compute as pc

    def text(prefix: str, values, width: int) -> pa.Array:
        digits = pc.utf8_lpad(pc.cast(pa.array(values), pa.string()), width, "0")
        return pc.binary_join_element_wise(prefix, digits, "")

    schema = arrow_schema(resource, with_row=True)
    base = np.datetime64("2026-01-01T08:00:00", "us")
    for off in range(start, start + n, size):
        idx = np.arange(off, min(off + size, start + n))
        yield pa.RecordBatch.from_arrays(
            [
                pa.array(idx + 2, pa.int64()),
                text("P", idx, 7),
                text("姓名", idx, 1),
                pa.array(20 + (idx + age_shift) % 60, pa.int64()),
                pa.array(idx * 0.5, pa.float64()),
                pa.array((idx % 10000).astype("datetime64[D]"), pa.date32()),
                pa.array(base + idx.astype("timedelta64[s]"), pa.timestamp("us")),
                text("1380000", idx % 10000, 4),
            ],
            schema=schema,
        )


# A load run in its own process (the crash and concurrency tests kill or race it).
LOAD_SCRIPT = """
import json, sys
sys.path.insert(0, {tests!r})
from conftest import make_resource, people_batches
from govhub.config import get_settings
from govhub.config import Settings
from govhub.connectors.base import Extract
from govhub.warehouse.load import run_load

home, agency, rid, rows, shift = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
resource = make_resource(agency=agency, rid=rid)
extract = Extract(batches=people_batches(resource, rows, age_shift=shift), cursor={{"shift": shift}})
outcome = run_load(get_settings(home, home), resource, extract, receipt=None, actor="proc", trigger="test")
print(json.dumps({{"status": outcome.status, "snapshot_id": outcome.snapshot_id, "rows": outcome.rows,
                  "previous": outcome.previous_snapshot_id, "codes": [p.code for p in outcome.problems],
                  "messages": [p.message_zh for p in outcome.problems]}}, ensure_ascii=False))
"""


def start_load_process(
    home: Path, agency: str, rid: str, rows: int, shift: int, env: dict[str, str] | None = None
):
    import os
    import subprocess
    import sys

    script = home / "_load_script.py"
    if not script.exists():
        script.write_text(LOAD_SCRIPT.format(tests=str(Path(__file__).parent)))
    return subprocess.Popen(
        [sys.executable, str(script), str(home), agency, rid, str(rows), str(shift)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
    )


# --- a hub shared between agencies (scope, workspace and sandbox tests) ---------------------------------------------


def marker(kind: str, i: int) -> str:
    """A value found nowhere else: random-looking hex does not compress, so if it is in a file its bytes are too."""
    import hashlib

    return f"{kind.upper()}{hashlib.sha256(f'{kind}{i}'.encode()).hexdigest()[:28]}"


@dataclass
class SharingHub:
    """civil (民政) holds people (base: population, unconditional, phone not shared), benefits (thematic) and
    registry (population, conditional); market (市场监管) holds firms; housing's houses is a draft. Every phone and
    every benefits name is a marker, so a file can be searched for them."""

    settings: Settings
    catalog: Catalog
    rows: int

    def resource(self, key: str) -> Resource:
        return self.catalog.resource(key)


SHARING_ROWS = 40


def build_sharing_hub(settings: Settings, rows: int = SHARING_ROWS) -> SharingHub:
    from govhub.warehouse.hub import sync_hub
    from govhub.warehouse.load import run_load

    fields = [dict(f) for f in PEOPLE_FIELDS]
    fields[-1]["share"] = "not_shared"  # phone
    people = make_resource(
        "civil", "people", share={"type": "unconditional"}, status="published", fields=fields
    )
    benefits = make_resource("civil", "benefits", code="201001", **{"class": "thematic"}, status="published")
    registry = make_resource("civil", "registry", code="101002", status="published")
    firms = make_resource("market", "firms", code="102001", **{"class": "legal_entity"}, status="published")
    houses = make_resource(
        "housing", "houses", code="103001", **{"class": "housing"}, share={"type": "unconditional"}
    )
    catalog = make_catalog(people, benefits, registry, firms, houses)
    for resource in (people, benefits, registry, firms):
        data = people_rows(rows)
        for i, row in enumerate(data):
            row["phone"] = marker(f"{resource.id}phone", i)
            row["name"] = marker(f"{resource.id}name", i)
        run_load(
            settings,
            resource,
            extract_of(people_table(resource, data)),
            receipt=None,
            actor="t",
            trigger="test",
        )
    sync_hub(settings, catalog)
    return SharingHub(settings, catalog, rows)


@pytest.fixture
def sharing_hub(settings: Settings) -> SharingHub:
    return build_sharing_hub(settings)


@pytest.fixture
def market(sharing_hub: SharingHub) -> tuple[Settings, Path]:
    """(settings, the workspace of market on its base scope: market.firms whole, civil.people without phone)."""
    from govhub.warehouse.scope import base_scope
    from govhub.warehouse.workspace import build_workspace

    settings = sharing_hub.settings
    return settings, build_workspace(settings, base_scope(settings, sharing_hub.catalog, "market")).path
