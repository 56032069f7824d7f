"""Signals beyond pass/fail, through the real ingest path: catalog drift (§10), volume anomalies, annual reviews,
and zero updates refused when the source changed (§11)."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from pathlib import Path

import pytest

from govhub.catalog.load import require_catalog
from govhub.config import get_settings
from govhub.demo.generate import generate_district
from govhub.governance.drift import catalog_alerts, open_flags, resolve_updated
from govhub.services.pull import source_changed
from tests.conftest import deliver

CATALOG = Path(__file__).resolve().parents[2] / "catalog"
DB_RESOURCE = "fgj/fwjbxx"  # 房屋基本信息, database-fed (incremental by updated_at)
FULL_PULL_RESOURCE = "wjw/yljg"  # 医疗机构执业登记信息, database-fed, full pulls (deletions visible)


@pytest.fixture
def hub(tmp_path, monkeypatch):
    monkeypatch.setenv("GOVHUB_HOME", str(tmp_path))
    monkeypatch.setenv("GOVHUB_CATALOG", str(CATALOG))
    settings = get_settings()
    catalog = require_catalog(CATALOG)
    generate_district(settings, catalog)
    return settings, catalog


def _source_db(settings, resource) -> tuple[sqlite3.Connection, str]:
    path = settings.demo_dir / "sources" / f"{resource.agency}.db"
    return sqlite3.connect(path), resource.delivery.database.table


def _alerts(settings) -> list[dict]:
    log = settings.state_dir / "alerts.log"
    return [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()] if log.exists() else []


def test_a_source_column_missing_from_the_catalog_flags_drift_once_with_a_two_working_day_clock(hub) -> None:
    settings, catalog = hub
    resource = catalog.resource(DB_RESOURCE)
    con, table = _source_db(settings, resource)
    con.execute(f"ALTER TABLE {table} ADD COLUMN energy_rating TEXT")
    con.commit()

    outcome = deliver(settings, resource)
    assert outcome.status == "published"  # an extra column is not loaded, and does not block
    [flag] = open_flags(settings)
    assert (flag.agency, flag.resource) == resource.key
    detected = dt.datetime.fromisoformat(flag.detected_at).date()
    assert 2 <= (flag.deadline - detected).days <= 12  # two working days, holidays and weekends skipped
    assert any(a["kind"] == "catalog_drift" and "energy_rating" in a["message_zh"] for a in _alerts(settings))

    deliver(settings, resource)  # the same drift again: no second flag, no second alert
    assert len(open_flags(settings)) == 1
    assert sum(a["kind"] == "catalog_drift" for a in _alerts(settings)) == 1

    late = catalog_alerts(settings, catalog, flag.deadline + dt.timedelta(days=1))
    assert [a.kind for a in late if a.resource == resource.id and a.kind.startswith("catalog_drift")] == [
        "catalog_drift_overdue"
    ]

    updated = resource.model_copy(update={"name": resource.name + "（含能效等级）"})
    changed = updated.model_copy(update={"fields": [*resource.fields]})
    changed.fields.append(
        resource.fields[-1].model_copy(update={"name": "energy_rating", "label": "能效等级"})
    )
    closed = resolve_updated(settings, catalog.model_copy(update={"resources": [changed]}))
    assert [f.resource for f in closed] == [resource.id] and open_flags(settings) == []


def test_a_load_far_smaller_than_the_last_is_refused_and_alerted(hub) -> None:
    settings, catalog = hub
    resource = catalog.resource(FULL_PULL_RESOURCE)
    first = deliver(settings, resource)
    con, table = _source_db(settings, resource)
    con.execute(f"DELETE FROM {table} WHERE rowid % 10 != 0")  # keep a tenth
    con.commit()

    shrunk = deliver(settings, resource)
    assert shrunk.status == "rejected"
    assert shrunk.rows < first.rows * resource.quality.min_rows_ratio
    [alert] = [a for a in _alerts(settings) if a["kind"] == "volume_drop"]
    assert alert["resource"] == resource.id and str(first.rows) in alert["message_zh"]


def test_zero_update_is_refused_when_the_database_source_changed(hub, capsys) -> None:
    from govhub.cli.main import main

    settings, catalog = hub
    resource = catalog.resource(DB_RESOURCE)
    deliver(settings, resource)
    assert source_changed(settings, resource) is False

    con, table = _source_db(settings, resource)
    text_column = next(
        f.name for f in resource.fields if f.type.value == "string" and f.name not in resource.primary_key
    )
    con.execute(f"UPDATE {table} SET {text_column} = {text_column} || '（更正）' WHERE rowid = 1")
    con.commit()
    assert source_changed(settings, resource) is True

    assert main(["zero-update", resource.code, "--by", "王敏"]) == 1
    err = capsys.readouterr().err
    assert "零更新" in err and "Traceback" not in err


def test_annual_review_due_is_alerted_once_a_year(hub) -> None:
    settings, catalog = hub
    overdue = [r for r in catalog.resources if r.reviewed_on and r.reviewed_on < dt.date(2025, 11, 24)]
    assert overdue, "the demo catalog has resources whose last full review is over a year old"
    first = catalog_alerts(settings, catalog, dt.date(2026, 11, 24))
    assert {a.resource for a in first if a.kind == "catalog_review_due"} >= {r.id for r in overdue}
    assert [
        a for a in catalog_alerts(settings, catalog, dt.date(2026, 11, 25)) if a.kind == "catalog_review_due"
    ] == []


def test_a_sheet_refused_before_any_row_is_read_raises_no_volume_alert(hub) -> None:
    settings, catalog = hub
    broken = settings.demo_dir / "sheets" / "_broken"
    readme = json.loads((broken / "README.json").read_text(encoding="utf-8"))
    entry = next(e for e in readme["files"] if e["problem"] == "missing_column")
    outcome = deliver(settings, catalog.resource(entry["resource"]), broken / entry["file"])
    assert outcome.status == "rejected"
    assert not [a for a in _alerts(settings) if a["kind"] in ("empty_load", "volume_drop")]
