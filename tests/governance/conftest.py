"""Shared fixtures for governance tests: a data folder in tmp_path and small catalog resources."""

from __future__ import annotations

import pytest

from govhub import store
from govhub.catalog.model import Resource
from govhub.config import get_settings


@pytest.fixture
def settings(tmp_path, monkeypatch):
    monkeypatch.setenv("GOVHUB_HOME", str(tmp_path))
    monkeypatch.delenv("GOVHUB_STATE_URL", raising=False)
    monkeypatch.delenv("GOVHUB_ALERT_WEBHOOK", raising=False)
    (tmp_path / "catalog").mkdir()
    yield get_settings(tmp_path, tmp_path / "catalog")
    store.dispose_engines()


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


PG_URL = "postgresql+psycopg2://postgres@127.0.0.1:5432/test"


@pytest.fixture
def pg_settings(tmp_path, monkeypatch):
    """The store in a fresh PostgreSQL schema (via search_path), dropped afterwards."""
    from sqlalchemy import create_engine, text

    schema = f"govhub_g_{tmp_path.name.lower().replace('-', '_')[-40:]}"
    admin = create_engine(PG_URL)
    try:
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
    except Exception as exc:
        pytest.fail(
            f"PostgreSQL is not reachable at 127.0.0.1:5432 (start it; user postgres, db test): {exc}"
        )
    monkeypatch.setenv("GOVHUB_HOME", str(tmp_path))
    monkeypatch.setenv("GOVHUB_STATE_URL", f"{PG_URL}?options=-csearch_path%3D{schema}")
    monkeypatch.delenv("GOVHUB_ALERT_WEBHOOK", raising=False)
    (tmp_path / "catalog").mkdir()
    yield get_settings(tmp_path, tmp_path / "catalog")
    store.dispose_engines()
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()
