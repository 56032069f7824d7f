"""Audit retention (网络安全法 Art. 21: network logs kept no less than six months): a configured retention that cannot
be set below 180 days, and a prune that refuses younger events, keeps the chain verifiable from a checkpoint, and is
itself on the record."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select, update

from govhub import store
from govhub.config import get_settings
from govhub.events import list_events, prune_events, record_event, verify_chain
from govhub.problems import GovhubError

NOW = dt.datetime(2026, 11, 27, 8, 0, tzinfo=dt.UTC)


def _history(settings) -> None:
    """Two events a year old, two seven months old, two from last week."""
    for days in (400, 390, 215, 210, 7, 6):
        record_event(settings, kind="load.published", actor="张三", agency="rsj", subject="rsj/jydj",
                     payload={"days_ago": days}, at=NOW - dt.timedelta(days=days))  # fmt: skip


def test_the_retention_defaults_to_180_days_and_refuses_less(tmp_path):
    assert get_settings(tmp_path, tmp_path, env={}).audit_retention_days == 180
    assert (
        get_settings(tmp_path, tmp_path, env={"GOVHUB_AUDIT_RETENTION_DAYS": "365"}).audit_retention_days
        == 365
    )
    with pytest.raises(GovhubError) as err:
        get_settings(tmp_path, tmp_path, env={"GOVHUB_AUDIT_RETENTION_DAYS": "90"})
    problem = err.value.problems[0]
    assert problem.code == "config.audit_retention" and "不得少于 180 天" in problem.message_zh
    assert "网络安全法第二十一条" in problem.message_zh


def test_a_prune_into_the_retention_is_refused_and_removes_nothing(settings):
    _history(settings)
    with pytest.raises(GovhubError) as err:
        prune_events(settings, before=NOW - dt.timedelta(days=179), actor="赵强", now=NOW)
    assert err.value.problems[0].code == "events.prune_too_recent"
    assert "至少 180 天" in err.value.problems[0].message_zh
    assert len(list_events(settings)) == 6 and verify_chain(settings) == []


def test_a_prune_keeps_the_chain_verifiable_from_its_checkpoint_and_is_itself_an_event(settings):
    _history(settings)
    done = prune_events(settings, before=NOW - dt.timedelta(days=200), actor="赵强", now=NOW)
    assert done.count == 4 and done.through_id == 4
    kept = list_events(settings)
    assert [e.payload.get("days_ago") for e in kept[:2]] == [7, 6]
    pruned = kept[-1]
    assert pruned.kind == "events.pruned" and pruned.actor == "赵强"
    assert pruned.payload["pruned"] == 4 and pruned.payload["through_hash"] == done.through_hash
    assert (
        kept[0].prev_hash == done.through_hash
    )  # the checkpoint is where the chain of the kept events starts
    assert verify_chain(settings) == []
    record_event(settings, kind="x.after", actor="张三", agency=None, subject="s", payload={})
    assert verify_chain(settings) == []
    # tampering after a prune is still caught, and so is a forged checkpoint
    with store.write_transaction(settings) as conn:
        conn.execute(update(store.events).where(store.events.c.id == kept[0].id).values(actor="李四"))
    assert verify_chain(settings)
    with store.write_transaction(settings) as conn:
        conn.execute(update(store.events).where(store.events.c.id == kept[0].id).values(actor="张三"))
        conn.execute(update(store.event_checkpoints).values(through_hash="0" * 64))
    assert any("prev_hash" in p for p in verify_chain(settings))


def test_pruning_everything_old_then_appending_continues_the_chain(settings):
    for days in (300, 250):
        record_event(settings, kind="k", actor="张三", agency=None, subject="s", payload={"d": days},
                     at=NOW - dt.timedelta(days=days))  # fmt: skip
    done = prune_events(settings, before=NOW - dt.timedelta(days=181), actor="赵强", now=NOW)
    assert done.count == 2
    (only,) = list_events(settings)
    assert only.id == 3 and only.prev_hash == done.through_hash and verify_chain(settings) == []
    with pytest.raises(GovhubError) as err:  # nothing older left
        prune_events(settings, before=NOW - dt.timedelta(days=181), actor="赵强", now=NOW)
    assert err.value.problems[0].code == "events.nothing_to_prune"
    with store.read_connection(settings) as conn:
        assert len(conn.execute(select(store.event_checkpoints)).all()) == 1


def test_the_prune_command_is_the_offices_refuses_recent_dates_and_prints_the_checkpoint(settings, govhub):
    from govhub.roles import Role
    from govhub.services.people import register_person

    record_event(settings, kind="k", actor="张三", agency=None, subject="s", payload={},
                 at=dt.datetime.now(dt.UTC) - dt.timedelta(days=500))  # fmt: skip
    register_person(settings, "zhaoqiang", name="赵强", agency="kw", roles=[Role.OFFICE], actor="installer",
                    known_agencies={"kw", "rsj"})  # fmt: skip
    register_person(settings, "zhang", name="张三", agency="rsj", roles=[Role.STEWARD], actor="zhaoqiang",
                    known_agencies={"kw", "rsj"})  # fmt: skip
    old = (dt.datetime.now(dt.UTC) - dt.timedelta(days=400)).date()
    recent = (dt.datetime.now(dt.UTC) - dt.timedelta(days=30)).date()
    run = govhub("events", "prune", "--before", old, "--by", "zhang")
    assert run.code == 1 and "清理过期审计日志需要" in run.err and "Traceback" not in run.err
    run = govhub("events", "prune", "--before", recent, "--by", "zhaoqiang")
    assert run.code == 1 and "至少 180 天" in run.err
    run = govhub("events", "prune", "--before", old, "--by", "zhaoqiang")
    assert run.code == 0 and "已清理 1 条" in run.out
    assert govhub("events", "verify", "--by", "zhaoqiang").code == 0


def test_events_removed_behind_a_forged_checkpoint_are_caught(settings):
    """Someone deletes the first events (recent ones: no prune would) and writes a checkpoint that matches what is
    left: the chain of the kept events verifies from it, but no recorded prune vouches for that checkpoint."""
    _history(settings)
    events = list_events(settings)
    last_removed = sorted(e.id for e in events)[1]  # the two oldest go
    removed_hash = next(e.hash for e in events if e.id == last_removed)
    with store.write_transaction(settings) as conn:
        conn.execute(store.events.delete().where(store.events.c.id <= last_removed))
        conn.execute(
            store.event_checkpoints.insert().values(
                through_id=last_removed, through_hash=removed_hash, through_at="2026-01-01T00:00:00Z", pruned=2,
                before="2026-01-01T00:00:00Z", at="2026-01-01T00:00:00Z", actor="someone",
            )
        )  # fmt: skip
    assert any("检查点" in p for p in verify_chain(settings))


def test_a_prune_speaks_of_beijing_dates(settings):
    """`--before 2026-01-01` is midnight in Beijing, 16:00 the day before in UTC: every message says the day asked."""
    from govhub.clock import BEIJING

    _history(settings)
    with pytest.raises(GovhubError) as err:
        prune_events(settings, before=dt.datetime(2025, 1, 1, tzinfo=BEIJING), actor="赵强", now=NOW)
    assert "2025-01-01（北京时间）之前没有可清理的审计日志" in err.value.problems[0].message_zh
    with pytest.raises(GovhubError) as err:
        prune_events(settings, before=dt.datetime(2026, 11, 1, tzinfo=BEIJING), actor="赵强", now=NOW)
    limit = (NOW - dt.timedelta(days=180)).astimezone(BEIJING).date()
    assert (
        f"最多只能清理 {limit} 之前的日志，不能清理到 2026-11-01（北京时间）"
        in err.value.problems[0].message_zh
    )
