"""The workflow store (PostgreSQL) goes away in the middle of a load and comes back: the data is published or not,
whole; the user reads a Chinese message, never a driver's traceback; nothing is lost from the record — the event
the store could not take is written from the load's journal once it is back; the chain stays intact."""

from __future__ import annotations

import pytest

from govhub import store
from govhub.connectors.base import Extract
from govhub.events import list_events, record_event, verify_chain
from govhub.problems import GovhubError
from govhub.warehouse.journal import journal_path
from govhub.warehouse.load import run_load
from govhub.warehouse.snapshots import current_snapshot_id

from .conftest import people_batches

pytestmark = pytest.mark.postgres


def _load(settings, people, shift: int):
    extract = Extract(batches=people_batches(people, 5_000, age_shift=shift))
    return run_load(settings, people, extract, receipt=None, actor="steward", trigger="t")


@pytest.mark.parametrize("when", ["between loads", "while the load audits"])
def test_the_store_cut_mid_load_defers_the_event_and_the_next_load_writes_it(
    pg_through_proxy, people, when, tmp_path, monkeypatch
):
    settings, proxy = pg_through_proxy
    first = _load(settings, people, 0)
    assert first.status == "published"
    if when == "between loads":
        proxy.cut()  # the pooled connection is reset: the next use finds the server gone
        cut = _load(settings, people, 1)
    else:  # the load stops at its audit for a moment; the store goes away meanwhile
        import threading
        import time

        marker = tmp_path / "paused"
        monkeypatch.setenv("GOVHUB_TEST_PAUSE_AT", "audit")
        monkeypatch.setenv("GOVHUB_TEST_PAUSE_MARKER", str(marker))
        monkeypatch.setenv("GOVHUB_TEST_PAUSE_SECONDS", "1")
        done: list = []
        loader = threading.Thread(target=lambda: done.append(_load(settings, people, 1)))
        loader.start()
        while not marker.exists():
            assert loader.is_alive()
            time.sleep(0.01)
        proxy.cut()
        loader.join()
        monkeypatch.delenv("GOVHUB_TEST_PAUSE_AT")
        (cut,) = done
    assert cut.status == "published" and current_snapshot_id(settings, people) == cut.snapshot_id
    assert "load.event_deferred" in [p.code for p in cut.problems]
    assert journal_path(settings, people).exists()  # what the event must say is kept on disk
    # while it is away, anything that needs the store says so in Chinese
    with pytest.raises(GovhubError) as err:
        record_event(settings, kind="test.x", actor="t", agency=None, subject="s", payload={})
    assert err.value.problems[0].code == "store.unreachable" and "无法连接工作流数据库" in str(
        err.value.problems[0]
    )
    with pytest.raises(GovhubError):
        _load(
            settings, people, 2
        )  # the cut-off event comes first: nothing is loaded before it can be written
    assert current_snapshot_id(settings, people) == cut.snapshot_id

    proxy.restore()
    after = _load(settings, people, 2)
    assert after.status == "published" and after.previous_snapshot_id == cut.snapshot_id
    events = list_events(settings, kind="load.*")
    assert [(e.kind, e.payload["load_id"]) for e in events] == [
        ("load.published", first.load_id), ("load.published", cut.load_id), ("load.published", after.load_id)
    ]  # fmt: skip
    assert events[1].payload["reconciled"] is True and events[1].actor == "steward"
    assert not journal_path(settings, people).exists() and verify_chain(settings) == []


def test_a_store_unreachable_from_the_start_refuses_in_chinese(pg_through_proxy, people):
    settings, proxy = pg_through_proxy
    proxy.cut()
    store.dispose_engines()
    with pytest.raises(GovhubError) as err:
        list_events(settings)
    assert err.value.problems[0].code == "store.unreachable"
    proxy.restore()
    assert list_events(settings) == []
