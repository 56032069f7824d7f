"""Shared fixtures for governance tests: a data folder in tmp_path and small catalog resources."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from govhub.catalog.model import Resource


def make_resource(
    rid: str = "population", cycle: str = "weekly", agency: str = "gongan", **extra
) -> Resource:
    data = {
        "id": rid,
        "code": "101001001/000001",
        "name": "实有人口基本信息",
        "summary": "辖区实有人口",
        "agency": agency,
        "class": "population",
        "share": {"type": "conditional", "conditions": "用于履行法定职责"},
        "cycle": cycle,
        "delivery": {"method": "sheet"},
        "fields": [{"name": "id_no", "label": "公民身份号码", "semantic": "cn_id", "required": True}],
        "primary_key": ["id_no"],
        "status": "published",
    }
    return Resource.model_validate(data | extra)


@pytest.fixture
def resource_factory():
    return make_resource


@pytest.fixture
def weekly():
    return make_resource()


def at(stamp: str) -> datetime:
    """A Beijing wall-clock time as an aware UTC datetime."""
    return datetime.fromisoformat(stamp + "+08:00").astimezone(UTC)
