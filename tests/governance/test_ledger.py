"""The submission ledger: one row per agency × resource × period, from load outcomes."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from govhub.events import list_events, verify_chain
from govhub.governance.freshness import parse_period
from govhub.governance.ledger import (
    LedgerState,
    ledger_rows,
    mark_missing,
    record_load_outcome,
    satisfied_periods,
)

from .conftest import at


def publish(settings, res, when, **kw):
    outcome = {
        "status": "published",
        "snapshot_id": f"s-{when}",
        "load_id": f"l-{when}",
        "actor": "张三",
    } | kw
    return record_load_outcome(settings, res, outcome, at=at(when))


def test_first_publish_fills_the_current_week_and_a_second_one_amends_it(settings, weekly):
    first = publish(settings, weekly, "2026-11-18T10:00")
    assert (first.period, first.state, first.snapshot_id) == (
        "2026-W47",
        LedgerState.UPDATED,
        "s-2026-11-18T10:00",
    )
    second = publish(settings, weekly, "2026-11-20T10:00")
    assert (second.period, second.state) == ("2026-W47", LedgerState.AMENDED)
    assert second.note == "此前状态：已更新"
    assert [r.state for r in ledger_rows(settings, resource="population")] == [LedgerState.AMENDED]


def test_a_monday_delivery_is_for_last_week_when_last_week_is_owed(settings, weekly):
    publish(settings, weekly, "2026-11-11T10:00")  # W46
    monday = publish(settings, weekly, "2026-11-23T09:00")  # W47 not delivered yet: this is W47's
    assert (monday.period, monday.state) == ("2026-W47", LedgerState.UPDATED)
    wednesday = publish(settings, weekly, "2026-11-25T09:00")  # W47 done: this one is W48's
    assert wednesday.period == "2026-W48"
    assert satisfied_periods(settings, weekly) == {"2026-W46", "2026-W47", "2026-W48"}


def test_published_after_the_due_date_is_late(settings, weekly):
    publish(settings, weekly, "2026-11-25T09:00")  # W48
    # W49 (30 Nov – 6 Dec) is due Tue 8 Dec; delivered Wed 9 Dec.
    late = publish(settings, weekly, "2026-12-09T09:00")
    assert (late.period, late.state) == ("2026-W49", LedgerState.LATE)
    assert "2026-W49" in satisfied_periods(settings, weekly)


def test_periods_follow_the_beijing_date(settings, weekly):
    entry = record_load_outcome(
        settings,
        weekly,
        {"status": "published", "actor": "张三"},
        at=datetime(2026, 11, 22, 17, 0, tzinfo=UTC),
    )
    assert entry.period == "2026-W48"  # 01:00 on Monday 23 Nov in Beijing


def test_an_identical_load_is_an_automatic_zero_update_and_never_downgrades_an_update(settings, weekly):
    auto = record_load_outcome(
        settings, weekly, {"status": "zero_update", "actor": "system"}, at=at("2026-11-18T10:00")
    )
    assert (auto.period, auto.state) == ("2026-W47", LedgerState.ZERO_UPDATE_AUTO)
    published = publish(settings, weekly, "2026-11-24T10:00", period="2026-W48")
    again = record_load_outcome(settings, weekly, {"status": "zero_update"}, at=at("2026-11-26T10:00"))
    assert again == published  # unchanged
    assert ledger_rows(settings, period="2026-W48")[0].state is LedgerState.UPDATED


def test_a_rejection_is_recorded_and_a_later_good_load_replaces_it(settings, weekly):
    rejected = record_load_outcome(
        settings, weekly, {"status": "rejected", "load_id": "l1", "actor": "李四"}, at=at("2026-11-18T10:00")
    )
    assert rejected.state is LedgerState.REJECTED and satisfied_periods(settings, weekly) == set()
    good = publish(settings, weekly, "2026-11-19T10:00")
    assert (good.state, good.note) == (LedgerState.UPDATED, "此前状态：被退回")
    still = record_load_outcome(
        settings, weekly, {"status": "rejected", "actor": "李四"}, at=at("2026-11-20T10:00")
    )
    assert still.state is LedgerState.UPDATED


def test_a_failed_pull_is_not_the_agencys_submission(settings, weekly):
    """The hub could not pull: no ledger row, and no second event (the load already logged `load.failed`)."""
    assert (
        record_load_outcome(settings, weekly, {"status": "failed", "load_id": "x"}, at=at("2026-11-18T10:00"))
        is None
    )
    assert ledger_rows(settings) == []
    assert list_events(settings) == []


def test_every_ledger_change_is_in_the_event_log_with_its_person(settings, weekly):
    publish(settings, weekly, "2026-11-18T10:00")
    publish(settings, weekly, "2026-11-19T10:00", actor="王五")
    events = list_events(settings, kind="ledger.*")
    assert [(e.kind, e.actor, e.payload["period"]) for e in events] == [
        ("ledger.updated", "张三", "2026-W47"),
        ("ledger.amended", "王五", "2026-W47"),
    ]
    assert events[0].subject == "gongan/population" and verify_chain(settings) == []


def test_missing_is_not_a_zero_update(settings, weekly):
    assert mark_missing(settings, weekly, parse_period(weekly.cycle, "2026-W47"), at=at("2026-11-25T00:00"))
    assert not mark_missing(
        settings, weekly, parse_period(weekly.cycle, "2026-W47"), at=at("2026-11-26T00:00")
    )
    assert ledger_rows(settings)[0].state is LedgerState.MISSING
    assert satisfied_periods(settings, weekly) == set()


def test_an_unknown_status_is_a_programming_error(settings, weekly):
    with pytest.raises(ValueError):
        record_load_outcome(settings, weekly, {"status": "done"}, at=at("2026-11-18T10:00"))


@pytest.mark.postgres
def test_ledger_zero_updates_and_alerts_on_postgresql(pg_settings, weekly):
    from govhub.catalog.model import Catalog
    from govhub.governance.alerts import evaluate_freshness, raise_alerts
    from govhub.governance.zero_update import file_zero_update

    publish(pg_settings, weekly, "2026-11-11T10:00")
    assert publish(pg_settings, weekly, "2026-11-12T10:00").state is LedgerState.AMENDED
    file_zero_update(pg_settings, weekly, period="2026-W47", by="张三", at=at("2026-11-23T09:00"))
    assert satisfied_periods(pg_settings, weekly) == {"2026-W46", "2026-W47"}
    catalog = Catalog(agencies={}, resources=[weekly])
    alerts = raise_alerts(
        pg_settings, evaluate_freshness(pg_settings, catalog, date(2026, 12, 2)), catalog=catalog
    )
    assert [(a.kind, a.period) for a in alerts] == [("overdue", "2026-W48")]
    assert raise_alerts(pg_settings, evaluate_freshness(pg_settings, catalog, date(2026, 12, 3))) == []
    assert verify_chain(pg_settings) == []
