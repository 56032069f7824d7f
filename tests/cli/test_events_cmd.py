"""`govhub events` lists the audit trail with filters and a reader's cursor; `events verify` proves the chain intact,
catches an altered row, and — given a head written down earlier — a log cut short."""

from __future__ import annotations

import json

import pytest

from govhub import store
from govhub.config import get_settings
from govhub.events import record_event


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("GOVHUB_HOME", str(tmp_path / "home"))
    settings = get_settings()
    for i in range(3):
        record_event(
            settings, kind="load.published", actor="张三", agency="mzj", subject="mzj/dibao", payload={"n": i}
        )
    record_event(
        settings, kind="zero_update.declared", actor="李四", agency="rsj", subject="rsj/jydj", payload={}
    )
    return settings


def test_events_are_listed_newest_first_with_filters_and_a_cursor(home, govhub):
    table = govhub("events")
    assert table.code == 0
    lines = table.out.splitlines()
    assert "zero_update.declared" in lines[2] and "李四" in lines[2]  # header, rule, then the newest
    only = json.loads(govhub("events", "--kind", "load.*", "--json").out)["events"]
    assert [e["payload"]["n"] for e in only] == [0, 1, 2]
    assert all(e["hash"] and e["prev_hash"] for e in only)
    after = json.loads(govhub("events", "--after", str(only[1]["id"]), "--json").out)["events"]
    assert [e["kind"] for e in after] == ["load.published", "zero_update.declared"]
    assert json.loads(govhub("events", "--agency", "rsj", "--json").out)["events"][0]["actor"] == "李四"
    cut = json.loads(govhub("events", "--limit", "2", "--json").out)
    assert len(cut["events"]) == 2 and cut["truncated"] is True and cut["limit"] == 2
    assert json.loads(govhub("events", "--json").out)["truncated"] is False


def test_verify_prints_the_head_and_catches_alterations_and_a_cut(home, govhub):
    ok = govhub("events", "verify")
    assert ok.code == 0 and "事件日志完整：链头 4:" in ok.out
    head = ok.out.strip().split("链头 ")[1]
    assert govhub("events", "verify", "--head", head).code == 0

    events = store.events
    with store.engine(home).begin() as conn:  # someone edits a payload in the database
        original = conn.execute(events.select().where(events.c.id == 2)).mappings().one()["payload"]
        conn.execute(store.events.update().where(store.events.c.id == 2).values(payload='{"n": 9}'))
    broken = govhub("events", "verify", "--json")
    assert broken.code == 1
    report = json.loads(broken.out)
    assert not report["intact"] and "事件 2：内容与其哈希不符" in report["problems"][0]

    with store.engine(home).begin() as conn:  # the newest event is deleted: the chain alone still links up
        conn.execute(store.events.update().where(store.events.c.id == 2).values(payload=original))
        conn.execute(store.events.delete().where(store.events.c.id == 4))
    assert govhub("events", "verify").code == 0
    cut = govhub("events", "verify", "--head", head)
    assert cut.code == 1 and "记下的链头已不存在" in cut.out


def test_a_malformed_head_is_explained(home, govhub):
    run = govhub("events", "verify", "--head", "nonsense")
    assert run.code == 2 and "编号:哈希" in run.err
