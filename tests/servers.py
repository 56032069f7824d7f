"""The real database servers tests use (PostgreSQL and MariaDB run on 127.0.0.1 on our machines and CI's).

A test whose server is absent fails, saying which server to start — it is never skipped.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from govhub import store
from govhub.config import Settings, get_settings

PG_URL = "postgresql+psycopg2://postgres@127.0.0.1:5432/test"
_ISOLATE = ("GOVHUB_STATE_URL", "GOVHUB_ALERT_WEBHOOK", "GOVHUB_SECRETS_FILE", "GOVHUB_SECRET_DEMO_API_TOKEN")


@pytest.fixture
def settings(tmp_path, monkeypatch) -> Iterator[Settings]:
    """A fresh, independent hub in tmp_path: embedded SQLite store, no webhook, no secrets from the environment."""
    monkeypatch.setenv("GOVHUB_HOME", str(tmp_path))
    for name in _ISOLATE:
        monkeypatch.delenv(name, raising=False)
    (tmp_path / "catalog").mkdir(exist_ok=True)
    yield get_settings(tmp_path, tmp_path / "catalog")
    store.dispose_engines()


@pytest.fixture
def pg_settings(tmp_path, monkeypatch) -> Iterator[Settings]:
    """A hub whose workflow store is a fresh PostgreSQL schema (via search_path), dropped afterwards."""
    from sqlalchemy import create_engine, text

    # unique per process as well as per test: several test runs may share the server
    schema = f"govhub_t_{os.getpid()}_{tmp_path.name.lower().replace('-', '_')[-40:]}"
    admin = create_engine(PG_URL)
    try:
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
    except Exception as exc:  # the server is part of the test environment: say which one is missing
        pytest.fail(
            f"PostgreSQL is not reachable at 127.0.0.1:5432 (start it; user postgres, db test): {exc}"
        )
    monkeypatch.setenv("GOVHUB_HOME", str(tmp_path))
    monkeypatch.setenv("GOVHUB_STATE_URL", f"{PG_URL}?options=-csearch_path%3D{schema}")
    monkeypatch.delenv("GOVHUB_ALERT_WEBHOOK", raising=False)
    (tmp_path / "catalog").mkdir(exist_ok=True)
    yield get_settings(tmp_path, tmp_path / "catalog")
    store.dispose_engines()
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()
