"""Helpers for warehouse tests: a small resource built in code, tables in its schema, extracts, settings."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from govhub.catalog.arrow import ROW_COLUMN, arrow_schema
from govhub.catalog.model import Agency, Catalog, Resource, Steward
from govhub.config import Settings, get_settings
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
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("GOVHUB_HOME", str(tmp_path))
    monkeypatch.delenv("GOVHUB_STATE_URL", raising=False)
    return get_settings(tmp_path, tmp_path / "catalog")


@pytest.fixture
def people() -> Resource:
    return make_resource()
