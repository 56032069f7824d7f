"""A small valid catalog written to a temporary folder, for tests to break one element at a time."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

AGENCIES: dict[str, Any] = {
    "agencies": [
        {
            "id": "gaj",
            "name": "松江区公安分局",
            "uscc": "11310117002425083R",
            "steward": {"name": "王敏", "phone": "021-57812345", "email": "wangmin@example.gov.cn"},
        }
    ]
}

RESOURCE: dict[str, Any] = {
    "id": "household",
    "code": "101001001/000001",
    "name": "户籍人口基本信息",
    "summary": "松江区户籍人口的基本登记信息",
    "agency": "gaj",
    "class": "population",
    "share": {"type": "conditional", "conditions": "仅用于本部门履职所需的身份核验"},
    "open": "closed",
    "cycle": "monthly",
    "delivery": {"method": "sheet", "sheet": {"formats": ["xlsx", "csv"]}},
    "fields": [
        {
            "name": "id_number",
            "label": "公民身份号码",
            "type": "string",
            "semantic": "cn_id",
            "required": True,
        },
        {"name": "name", "label": "姓名", "type": "string", "semantic": "person_name", "required": True},
        {"name": "gender", "label": "性别", "type": "string", "semantic": "enum", "enum": ["男", "女"]},
        {"name": "birth_date", "label": "出生日期", "type": "date", "semantic": "date"},
    ],
    "primary_key": ["id_number"],
    "status": "published",
    "published_on": "2024-03-01",
}


def write_catalog(
    root: Path, resource: dict[str, Any] | None = None, agencies: dict[str, Any] | None = None
) -> Path:
    (root / "gaj").mkdir(parents=True, exist_ok=True)
    (root / "agencies.yaml").write_text(
        yaml.safe_dump(agencies or AGENCIES, allow_unicode=True), encoding="utf-8"
    )
    data = resource if resource is not None else RESOURCE
    (root / "gaj" / "household.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return root


@pytest.fixture
def resource_data() -> dict[str, Any]:
    return copy.deepcopy(RESOURCE)
