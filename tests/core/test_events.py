"""The event log: append-only, hash-chained, linear under concurrent writers (§16–§17)."""

from __future__ import annotations

import datetime as dt
import itertools
import subprocess
import sys
import textwrap
import time

import pytest
from sqlalchemy import update

from govhub import store
from govhub.events import GENESIS, list_events, record_event, verify_chain


def _record(settings, n: int, actor: str = "张三") -> None:
    for i in range(n):
        record_event(
            settings,
            kind="zero_update.filed",
            actor=actor,
            agency="gongan",
            subject=f"gongan/population_{i}",
            payload={"period": "2026-W48", "说明": "本周无变化", "n": i},
        )


def test_events_are_chained_from_genesis(settings):
    _record(settings, 3)
    events = list_events(settings)
    assert [e.id for e in events] == [1, 2, 3]
    assert events[0].prev_hash == GENESIS
    assert events[1].prev_hash == events[0].hash and events[2].prev_hash == events[1].hash
    assert events[0].payload == {"period": "2026-W48", "说明": "本周无变化", "n": 0}
    assert events[0].at.endswith("Z")
    assert verify_chain(settings) == []


def test_an_altered_row_is_detected(settings):
    _record(settings, 4)
    with store.engine(settings).begin() as conn:
        conn.execute(update(store.events).where(store.events.c.id == 2).values(actor="李四"))
    problems = verify_chain(settings)
    assert problems == ["事件 2：内容与其哈希不符（记录被改动）"]


def test_an_altered_row_with_recomputed_hash_breaks_the_next_link(settings):
    _record(settings, 3)
    with store.engine(settings).begin() as conn:
        conn.execute(update(store.events).where(store.events.c.id == 2).values(hash="f" * 64))
    problems = verify_chain(settings)
    assert "事件 2：内容与其哈希不符（记录被改动）" in problems
    assert "事件 3：prev_hash 与上一事件的哈希不符（链被改动）" in problems


def test_a_removed_row_is_detected(settings):
    _record(settings, 3)
    with store.engine(settings).begin() as conn:
        conn.execute(store.events.delete().where(store.events.c.id == 2))
    problems = verify_chain(settings)
    assert problems[0] == "事件 2..2：缺失（记录被删除）"
    assert any("prev_hash" in p for p in problems)


def test_an_inserted_row_is_detected(settings):
    """A forged event slipped in between two (ids renumbered after it, hashes of its own making)."""
    _record(settings, 3)
    with store.engine(settings).begin() as conn:
        rows = [dict(r) for r in conn.execute(store.events.select().order_by(store.events.c.id)).mappings()]
        conn.execute(store.events.delete())
        forged = {**rows[0], "id": 2, "actor": "伪造者", "prev_hash": rows[0]["hash"], "hash": "a" * 64}
        conn.execute(store.events.insert(), [rows[0], forged, *({**r, "id": r["id"] + 1} for r in rows[1:])])
    problems = verify_chain(settings)
    assert problems[0] == "事件 2：内容与其哈希不符（记录被改动）"
    assert "事件 3：prev_hash 与上一事件的哈希不符（链被改动）" in problems


def test_reordered_rows_are_detected(settings):
    """Two events swapped (each keeps its content and hashes, but takes the other's place)."""
    _record(settings, 4)
    with store.engine(settings).begin() as conn:
        rows = {r["id"]: dict(r) for r in conn.execute(store.events.select()).mappings()}
        conn.execute(store.events.delete().where(store.events.c.id.in_([2, 3])))
        conn.execute(store.events.insert(), [{**rows[3], "id": 2}, {**rows[2], "id": 3}])
    problems = verify_chain(settings)
    assert "事件 2：prev_hash 与上一事件的哈希不符（链被改动）" in problems
    assert "事件 2：内容与其哈希不符（记录被改动）" in problems
    assert "事件 4：prev_hash 与上一事件的哈希不符（链被改动）" in problems


def test_events_of_a_resource_and_of_a_grant(settings):
    record_event(
        settings, kind="load.published", actor="陆建华", agency="gaj", subject="gaj/hjrk", payload={}
    )
    record_event(settings, kind="request.create", actor="王静怡", agency="mzj", subject="request/SQ-1",
                 payload={"resource": "gaj/hjrk"})  # fmt: skip
    record_event(settings, kind="grant.issued", actor="赵强", agency="mzj", subject="grant/GR-1", payload={})
    record_event(settings, kind="query.run", actor="卫欣怡", agency="mzj", subject="workspace/mzj",
                 payload={"tables": ["gaj.hjrk"], "grants": ["GR-1"]})  # fmt: skip
    record_event(
        settings,
        kind="query.run",
        actor="卫欣怡",
        agency="mzj",
        subject="workspace/mzj",
        payload={"tables": ["gaj_x.hjrk"], "grants": ["GR-10"]},
    )  # fmt: skip (a near miss: no match)
    assert [e.kind for e in list_events(settings, resource="gaj/hjrk")] == ["load.published", "request.create",
                                                                           "query.run"]  # fmt: skip
    assert [e.kind for e in list_events(settings, grant="GR-1")] == ["grant.issued", "query.run"]
    assert len(list_events(settings, actors=["卫欣怡", "mzj_fenxi"])) == 2


def test_list_events_filters(settings):
    _record(settings, 2, actor="张三")
    record_event(settings, kind="grant.approved", actor="王五", agency="shichang", subject="g1", payload={})
    assert [e.actor for e in list_events(settings, kind="grant.*")] == ["王五"]
    assert len(list_events(settings, actor="张三")) == 2
    assert len(list_events(settings, agency="shichang")) == 1
    assert list_events(settings, newest_first=True, limit=1)[0].kind == "grant.approved"
    future = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)
    assert list_events(settings, since=future) == []


def test_an_event_needs_a_person(settings):
    with pytest.raises(ValueError):
        record_event(settings, kind="x", actor="", agency=None, subject="s", payload={})


_WRITER = textwrap.dedent(
    """
    import pathlib, sys, time
    from govhub.config import get_settings
    from govhub.events import record_event
    s = get_settings(sys.argv[1], sys.argv[1])
    home = pathlib.Path(sys.argv[1])
    (home / f"ready_{sys.argv[2]}").touch()
    while not (home / "go").exists():  # start together, so appends really race
        time.sleep(0.01)
    for i in range(int(sys.argv[3])):
        record_event(s, kind="test.concurrent", actor=sys.argv[2], agency=None, subject=str(i), payload={"i": i})
        time.sleep(0.003)  # let the other writer in between appends
    """
)


def _concurrent_appends(settings, env_url: str | None) -> None:
    env = {"PATH": "/usr/bin:/bin", "GOVHUB_HOME": str(settings.home)}
    if env_url:
        env["GOVHUB_STATE_URL"] = env_url
    store.engine(settings)  # create tables once, so the writers race only on appends
    procs = [
        subprocess.Popen([sys.executable, "-c", _WRITER, str(settings.home), who, "60"], env=env)
        for who in ("proc_a", "proc_b")
    ]
    deadline = time.monotonic() + 60
    while not all((settings.home / f"ready_{w}").exists() for w in ("proc_a", "proc_b")):
        assert time.monotonic() < deadline, "writer processes did not start"
        time.sleep(0.01)
    (settings.home / "go").touch()
    assert [p.wait(timeout=120) for p in procs] == [0, 0]
    events = list_events(settings, kind="test.concurrent")
    assert len(events) == 120
    actors = [e.actor for e in events]
    assert sorted(set(actors)) == ["proc_a", "proc_b"]
    switches = sum(a != b for a, b in itertools.pairwise(actors))
    assert switches > 1, "the two writers never interleaved: the test did not exercise concurrency"
    assert verify_chain(settings) == []


def test_concurrent_appends_from_two_processes_keep_the_chain_linear(settings):
    _concurrent_appends(settings, None)


@pytest.mark.postgres
def test_postgresql_chain_with_concurrent_appends(pg_settings):
    import os

    _concurrent_appends(pg_settings, os.environ["GOVHUB_STATE_URL"])
    with store.engine(pg_settings).begin() as conn:
        conn.execute(update(store.events).where(store.events.c.id == 7).values(payload='{"i":999}'))
    assert verify_chain(pg_settings) == ["事件 7：内容与其哈希不符（记录被改动）"]
