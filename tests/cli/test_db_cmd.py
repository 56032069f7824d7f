"""`govhub db current` shows where the workflow store stands without changing it (exit 1 when an upgrade is due);
`govhub db upgrade` creates, adopts or upgrades it; problems are Chinese messages, never tracebacks."""

from __future__ import annotations

import json

from sqlalchemy import func, select, text

from govhub import store
from govhub.store.migrate import head_revision
from tests.commands import run_command
from tests.core import legacy_store
from tests.servers import PG_URL


def test_a_new_store_is_shown_as_not_created_then_created_by_upgrade(settings, govhub) -> None:
    db = settings.state_dir / "govhub.db"
    before = govhub("db", "current")
    assert before.code == 1 and "尚未建立" in before.out and head_revision() in before.out
    assert not db.exists()  # looking changes nothing

    made = govhub("db", "upgrade")
    assert (
        made.code == 0 and f"已创建工作流数据库（版本 {head_revision()}）" in made.out and str(db) in made.out
    )
    again = govhub("db", "upgrade", "--json")
    assert again.code == 0
    assert json.loads(again.out) == {
        "url": f"sqlite:///{db}",
        "before": head_revision(),
        "after": head_revision(),
        "adopted": False,
        "changed": False,
    }
    now = govhub("db", "current")
    assert now.code == 0 and "状态：已是最新" in now.out
    assert json.loads(govhub("db", "current", "--json").out) == {
        "url": f"sqlite:///{db}",
        "current": head_revision(),
        "head": head_revision(),
        "exists": True,
        "legacy": False,
        "pending": False,
        "ahead": False,
    }


def test_a_store_made_before_migrations_is_recognised_and_adopted(settings, govhub) -> None:
    rows = legacy_store.fill(legacy_store.create(settings.state_url))
    shown = govhub("db", "current", "--json")
    assert shown.code == 1
    state = json.loads(shown.out)
    assert state["url"] == f"sqlite:///{settings.state_dir / 'govhub.db'}"
    assert (state["current"], state["exists"], state["legacy"], state["pending"]) == (None, True, True, True)
    assert "无版本记录" in govhub("db", "current").out

    adopted = govhub("db", "upgrade")
    assert adopted.code == 0 and "记录全部保留" in adopted.out
    done = json.loads(govhub("db", "current", "--json").out)
    assert (done["current"], done["pending"], done["legacy"]) == (head_revision(), False, False)
    with store.read_connection(settings) as conn:
        assert conn.execute(select(func.count()).select_from(store.events)).scalar() == len(rows["events"])


def test_a_store_from_a_newer_govhub_is_reported_not_upgraded(settings, govhub) -> None:
    with store.engine(settings).begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0999_from_the_future'"))
    store.dispose_engines()
    shown = govhub("db", "current")
    assert shown.code == 1 and "0999_from_the_future" in shown.out and "比本程序新" in shown.out
    refused = govhub("db", "upgrade")
    assert refused.code == 1 and "更新版本的 govhub" in refused.err and "Traceback" not in refused.err


def test_postgresql_store_is_shown_without_its_password(pg_settings, govhub, monkeypatch) -> None:
    """The server trusts local connections, so a password in the URL is accepted and ignored."""
    url = pg_settings.state_url.replace("postgres@", "postgres:s3cret@")
    assert url.startswith(PG_URL.replace("postgres@", "postgres:s3cret@"))
    monkeypatch.setenv("GOVHUB_STATE_URL", url)
    made = govhub("db", "upgrade", "--json")
    assert made.code == 0 and json.loads(made.out)["before"] is None
    shown = govhub("db", "current")
    assert shown.code == 0 and "postgres:***@127.0.0.1:5432/test" in shown.out and "s3cret" not in shown.out


def test_an_unreachable_store_is_a_chinese_message_from_the_installed_command(settings) -> None:
    for verb in ("current", "upgrade"):
        run = run_command(
            "db", verb, env={"GOVHUB_STATE_URL": "postgresql+psycopg2://postgres@127.0.0.1:1/test"}
        )
        assert run.code == 1 and "无法连接工作流数据库" in run.err and "Traceback" not in run.err
