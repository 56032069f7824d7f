"""The workflow store: a SQLite file under the data folder by default, PostgreSQL by URL (its schema and migrations:
test_store_migrations.py)."""

from __future__ import annotations

import sqlite3

import pytest
from sqlalchemy import inspect, select, text

from govhub import store


def test_default_store_is_a_sqlite_file_in_wal_mode_created_on_demand(settings):
    db = settings.state_dir / "govhub.db"
    assert not db.exists()
    eng = store.engine(settings)
    assert db.exists()
    assert {"events", "submissions", "alerts_sent"} <= set(inspect(eng).get_table_names())
    with sqlite3.connect(db) as raw:
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_engine_is_cached_per_url(settings):
    assert store.engine(settings) is store.engine(settings)


def test_write_transaction_takes_the_sqlite_write_lock_at_begin(settings):
    with store.write_transaction(settings) as conn:
        conn.execute(select(store.events.c.id)).all()  # only a read, yet the write lock is held
        other = sqlite3.connect(settings.state_dir / "govhub.db", timeout=0.1)
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            other.execute("BEGIN IMMEDIATE")
        other.close()


def test_write_transaction_rolls_back_on_error(settings):
    with pytest.raises(RuntimeError), store.write_transaction(settings) as conn:
        conn.execute(
            store.alerts_sent.insert().values(agency="a", resource="r", period="2026", kind="stale", at="x")
        )
        raise RuntimeError("boom")
    with store.read_connection(settings) as conn:
        assert conn.execute(select(store.alerts_sent)).all() == []


@pytest.mark.postgres
def test_postgresql_store_by_url(pg_settings):
    eng = store.engine(pg_settings)
    assert eng.dialect.name == "postgresql"
    with store.write_transaction(pg_settings, "x") as conn:
        assert conn.execute(text("SELECT 1")).scalar() == 1
    assert "events" in inspect(eng).get_table_names()
