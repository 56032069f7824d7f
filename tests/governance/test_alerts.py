"""Stale-feed alerts (deduplicated, file + webhook), volume anomalies, and the catalog's review/change clocks."""

from __future__ import annotations

import dataclasses
import json
import socket
import threading
from datetime import UTC, date, datetime
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import ClassVar

import pytest

from govhub.catalog.model import Catalog
from govhub.governance.alerts import (
    catalog_change_deadline,
    catalog_change_overdue,
    catalog_review_due,
    check_volume,
    evaluate_freshness,
    raise_alerts,
)
from govhub.governance.ledger import ledger_rows, record_load_outcome
from govhub.governance.workdays import WorkdayCalendar
from govhub.governance.zero_update import file_zero_update
from govhub.states import FreshnessState, LedgerState

D = date.fromisoformat


def at(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp + "+08:00").astimezone(UTC)


@pytest.fixture
def catalog(resource_factory):
    return Catalog(
        agencies={},
        resources=[
            resource_factory("population", "weekly", published_on=D("2026-11-01")),
            resource_factory("licences", "monthly", agency="shichang", published_on=D("2026-01-01")),
            resource_factory("drafty", "daily", status="draft"),
        ],
    )


def test_evaluate_freshness_reads_the_ledger(settings, catalog):
    record_load_outcome(
        settings, catalog.resources[0], {"status": "published", "actor": "张三"}, at=at("2026-11-18T10:00")
    )
    rows = {r.resource: r for r in evaluate_freshness(settings, catalog, D("2026-11-20"))}
    assert set(rows) == {"population", "licences"}  # drafts owe nothing
    assert (rows["population"].state, rows["population"].period) == (FreshnessState.FRESH, "2026-W48")
    assert rows["population"].last.state is LedgerState.UPDATED
    assert rows["licences"].state is FreshnessState.STALE  # owed since January, nothing ever delivered
    assert rows["licences"].last is None


def test_the_latest_update_is_the_latest_period_not_the_latest_declaration(settings, catalog):
    licences = catalog.resources[1]  # monthly, published in January
    record_load_outcome(
        settings, licences, {"status": "published", "actor": "张三"}, at=at("2026-11-10T10:00")
    )
    file_zero_update(
        settings, licences, period="2026-02", by="张三", at=at("2026-11-20T10:00")
    )  # late, older
    row = {r.resource: r for r in evaluate_freshness(settings, catalog, D("2026-11-21"))}["licences"]
    assert row.last.period == "2026-11" and row.last.state is LedgerState.UPDATED


def test_alerts_are_raised_once_per_resource_period_and_kind(settings, catalog):
    record_load_outcome(
        settings, catalog.resources[0], {"status": "published", "actor": "张三"}, at=at("2026-11-11T10:00")
    )
    rows = evaluate_freshness(settings, catalog, D("2026-11-25"))  # W47 due 24 Nov: overdue
    first = raise_alerts(settings, rows, catalog=catalog, at=at("2026-11-25T09:00"))
    assert {(a.resource, a.kind, a.period) for a in first} == {
        ("population", "overdue", "2026-W47"),
        ("licences", "stale", "2026-01"),
    }
    population = next(a for a in first if a.resource == "population")
    assert "2026-W47" in population.message_zh and "2026-11-24" in population.message_zh
    assert (
        raise_alerts(settings, evaluate_freshness(settings, catalog, D("2026-11-26")), catalog=catalog) == []
    )
    logged = [json.loads(line) for line in (settings.state_dir / "alerts.log").read_text().splitlines()]
    assert len(logged) == 2 and {a["resource"] for a in logged} == {"population", "licences"}
    # The missed periods are now in the ledger as missing — not as zero updates.
    missing = {(e.resource, e.period): e.state for e in ledger_rows(settings)}
    assert missing[("population", "2026-W47")] is LedgerState.MISSING
    # It goes stale: a new kind for the same period, alerted once more.
    later = raise_alerts(settings, evaluate_freshness(settings, catalog, D("2026-12-02")))
    assert [(a.resource, a.kind) for a in later] == [("population", "stale")]


def test_a_zero_update_clears_the_alert_condition(settings, catalog):
    population = catalog.resources[0]
    file_zero_update(settings, population, period="2026-W47", by="张三", at=at("2026-11-24T09:00"))
    row = next(
        r for r in evaluate_freshness(settings, catalog, D("2026-11-25")) if r.resource == "population"
    )
    assert row.state is FreshnessState.FRESH and row.last.attested_by == "张三"
    assert [a.resource for a in raise_alerts(settings, [row])] == []


class _Hook(BaseHTTPRequestHandler):
    received: ClassVar[list[dict]] = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        _Hook.received.append(json.loads(body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


def test_alerts_are_posted_to_the_webhook(settings, catalog, monkeypatch):
    server = HTTPServer(("127.0.0.1", 0), _Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    _Hook.received = []
    try:
        settings = dataclasses.replace(settings, alert_webhook=f"http://127.0.0.1:{server.server_port}/hook")
        raise_alerts(settings, evaluate_freshness(settings, catalog, D("2026-11-25")))
    finally:
        server.shutdown()
    assert sorted(a["resource"] for a in _Hook.received) == ["licences", "population"]
    assert all(a["message_zh"] for a in _Hook.received)


def test_a_failing_webhook_is_logged_not_raised_and_the_file_still_has_the_alert(
    settings, catalog, monkeypatch, caplog
):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    settings = dataclasses.replace(settings, alert_webhook=f"http://127.0.0.1:{port}/hook")
    alerts = raise_alerts(settings, evaluate_freshness(settings, catalog, D("2026-11-25")))
    assert len(alerts) == 2
    assert "alert webhook" in caplog.text
    assert len((settings.state_dir / "alerts.log").read_text().splitlines()) == 2


class _Refusing(BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers["Content-Length"]))
        self.send_response(404)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.mark.parametrize("shape", ["query", "path"])
def test_a_refusing_webhook_is_logged_without_the_robots_key(settings, catalog, caplog, shape):
    """A robot's key travels in its URL (DingTalk `?access_token=`, Feishu `/hook/<token>`), and httpx's error
    quotes the URL: the log names the host, never the key."""
    import secrets

    key = secrets.token_hex(16)
    server = HTTPServer(("127.0.0.1", 0), _Refusing)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    url = (
        f"{base}/robot/send?access_token={key}&sign=x"
        if shape == "query"
        else f"{base}/open-apis/bot/v2/hook/{key}"
    )
    try:
        alerts = raise_alerts(dataclasses.replace(settings, alert_webhook=url),
                              evaluate_freshness(settings, catalog, D("2026-11-25")))  # fmt: skip
    finally:
        server.shutdown()
    assert len(alerts) == 2 and "404" in caplog.text and f"{base}/***" in caplog.text  # refused, and said so
    assert key not in caplog.text and key not in (settings.state_dir / "alerts.log").read_text()


def test_volume_anomalies(resource_factory):
    res = resource_factory(quality={"min_rows_ratio": 0.5})
    assert check_volume(res, 0, 1000).kind == "empty_load"
    assert check_volume(res, 0, 1000, zero_update=True) is None
    drop = check_volume(res, 400, 1000)
    assert drop.kind == "volume_drop" and "40%" in drop.message_zh
    assert check_volume(res, 600, 1000) is None
    assert check_volume(res, 10, None) is None  # first load: nothing to compare with


def test_annual_review_and_the_two_working_day_change_clock(resource_factory):
    assert catalog_review_due(resource_factory(reviewed_on=D("2025-11-24")), D("2026-11-24")) is False
    assert catalog_review_due(resource_factory(reviewed_on=D("2025-11-24")), D("2026-11-25")) is True
    assert catalog_review_due(resource_factory(), D("2026-11-25")) is True  # never reviewed
    cal = WorkdayCalendar()
    # Changed on Wed 30 Sep 2026: the national-day holiday pushes the deadline to Fri 9 Oct.
    assert catalog_change_deadline(D("2026-09-30"), cal) == D("2026-10-09")
    changed = resource_factory(status="changed", changed_on=D("2026-09-30"))
    assert not catalog_change_overdue(changed, D("2026-10-09"), cal)
    assert catalog_change_overdue(changed, D("2026-10-10"), cal)
    assert not catalog_change_overdue(resource_factory(changed_on=D("2026-09-30")), D("2026-12-01"), cal)


def test_grace_and_stale_thresholds_are_each_resources_catalog_settings(settings, resource_factory):
    """W47 ends Sun 22 Nov: due Tue 24 Nov by default; a resource granted 5 working days is due Fri 27 Nov, and one
    marked stale after 1 working day overdue is stale on Wed 26 Nov instead of merely overdue."""
    patient = resource_factory(
        "patient", "weekly", published_on=D("2026-11-01"), freshness={"grace_working_days": 5}
    )
    strict = resource_factory("strict", "weekly", published_on=D("2026-11-01"))
    strict = strict.model_copy(
        update={"freshness": strict.freshness.model_copy(update={"stale_after_working_days": 1})}
    )
    usual = resource_factory("usual", "weekly", published_on=D("2026-11-01"))
    catalog = Catalog(agencies={}, resources=[patient, strict, usual])
    for r in catalog.resources:
        record_load_outcome(settings, r, {"status": "published", "actor": "张三"}, at=at("2026-11-11T10:00"))
    rows = {r.resource: r for r in evaluate_freshness(settings, catalog, D("2026-11-26"))}
    assert (rows["usual"].state, rows["usual"].due_date) == (FreshnessState.OVERDUE, D("2026-11-24"))
    assert (rows["patient"].state, rows["patient"].due_date) == (FreshnessState.DUE, D("2026-11-27"))
    assert rows["strict"].state is FreshnessState.STALE
    late = record_load_outcome(
        settings, patient, {"status": "published", "actor": "张三"}, at=at("2026-11-27T10:00")
    )
    assert late.state is LedgerState.UPDATED  # within its own grace: on time, not late


def test_freshness_settings_are_validated_by_the_catalog(resource_factory):
    from pydantic import ValidationError

    with pytest.raises(ValidationError):
        resource_factory(freshness={"grace_working_days": -1})
