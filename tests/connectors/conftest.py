"""Fixtures for the interface connectors: a data folder, an in-memory raw sink, resources built in code, and
connections to the real PostgreSQL / MariaDB servers (a test FAILS, never skips, when one is not running)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from govhub.catalog.model import Resource

POSTGRES_URL = "postgresql+psycopg2://postgres@127.0.0.1:5432/test"
MARIADB_URL = "mysql+pymysql://root@127.0.0.1:3306/test"

# One field of every catalog type, named as an agency's system might deliver them.
PERSON_FIELDS: list[dict[str, Any]] = [
    {"name": "id_number", "label": "公民身份号码", "required": True},
    {"name": "name", "label": "姓名"},
    {"name": "household_size", "label": "户内人数", "type": "integer"},
    {"name": "subsidy", "label": "补贴金额", "type": "number"},
    {"name": "is_resident", "label": "是否常住", "type": "boolean"},
    {"name": "birth_date", "label": "出生日期", "type": "date"},
    {"name": "updated_at", "label": "更新时间", "type": "datetime"},
]


class MemorySink:
    """A RawSink that keeps every raw piece by name, in order, exactly as given."""

    def __init__(self) -> None:
        self.pieces: dict[str, bytes] = {}

    def write(self, name: str, data: bytes) -> None:
        assert name not in self.pieces, f"raw piece {name} written twice"
        self.pieces[name] = bytes(data)


def make_resource(
    delivery: dict[str, Any], *, fields: list[dict[str, Any]] | None = None, pk=None
) -> Resource:
    return Resource.model_validate(
        {
            "id": "person",
            "code": "101001001/000001",
            "name": "测试人口",
            "summary": "测试用资源",
            "agency": "mzj",
            "class": "population",
            "share": {"type": "unconditional"},
            "cycle": "daily",
            "delivery": delivery,
            "fields": fields or PERSON_FIELDS,
            "primary_key": pk or ["id_number"],
        }
    )


@pytest.fixture
def sink() -> MemorySink:
    return MemorySink()


def _server_engine(url: str, how_to_start: str) -> Iterator[sa.Engine]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except sa.exc.OperationalError as exc:
        engine.dispose()
        pytest.fail(f"{how_to_start} (connecting to {engine.url!r} failed: {exc.orig})", pytrace=False)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def postgres_engine() -> Iterator[sa.Engine]:
    yield from _server_engine(
        POSTGRES_URL,
        "PostgreSQL is not running: start it on 127.0.0.1:5432 (user postgres, trust auth, db test)",
    )


@pytest.fixture(scope="session")
def mariadb_engine() -> Iterator[sa.Engine]:
    yield from _server_engine(
        MARIADB_URL, "MariaDB is not running: start it on 127.0.0.1:3306 (user root, no password, db test)"
    )


@pytest.fixture
def table_name() -> str:
    """A table name no other test (or earlier run) uses."""
    return f"govhub_t_{uuid.uuid4().hex[:10]}"


@pytest.fixture
def resource_with():
    """Build a resource from a delivery block (and optionally fields / primary key)."""
    return make_resource
