"""`govhub status` and `govhub zero-update`: tables, JSON, dates, errors as messages (never tracebacks)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import yaml

from govhub.cli.main import main
from govhub.identifiers import uscc_check_char


@pytest.fixture
def hub(settings, monkeypatch):
    """A one-agency catalog with a weekly and an irregular resource, in a fresh data folder."""
    uscc17 = "11310117002425109"
    agencies = {
        "agencies": [
            {
                "id": "gaj",
                "name": "松江区公安分局",
                "uscc": uscc17 + uscc_check_char(uscc17),
                "steward": {"name": "陆建华"},
            }
        ]
    }
    (settings.catalog_dir / "agencies.yaml").write_text(
        yaml.safe_dump(agencies, allow_unicode=True), encoding="utf-8"
    )
    (settings.catalog_dir / "gaj").mkdir()
    for rid, code, cycle in (
        ("lhry", "101001002/000001", "weekly"),
        ("zhxx", "101001003/000001", "irregular"),
    ):
        entry = {
            "id": rid,
            "code": code,
            "name": f"测试资源{rid}",
            "summary": "用于测试",
            "agency": "gaj",
            "class": "population",
            "share": {"type": "unconditional"},
            "cycle": cycle,
            "delivery": {"method": "sheet"},
            "fields": [{"name": "xm", "label": "姓名", "required": True}],
            "primary_key": ["xm"],
            "status": "published",
            "published_on": "2026-11-16",
        }
        (settings.catalog_dir / "gaj" / f"{rid}.yaml").write_text(
            yaml.safe_dump(entry, allow_unicode=True), encoding="utf-8"
        )
    monkeypatch.setenv("GOVHUB_CATALOG", str(settings.catalog_dir))
    return settings


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_status_table_and_json(hub, capsys):
    code, out, _ = run(capsys, "status", "--as-of", "2026-11-25")
    assert code == 0
    assert "101001002/000001" in out and "逾期" in out and "不定期" in out and "截止日期" in out
    assert "\x1b[" not in out  # not a tty: no colour codes
    code, out, _ = run(capsys, "status", "--as-of", "2026-11-25", "--json")
    rows = {r["resource"]: r for r in json.loads(out)}
    # Owed since W47 (published 16 Nov), due Tue 24 Nov: overdue on the 25th.
    assert (rows["lhry"]["state"], rows["lhry"]["period"], rows["lhry"]["due_date"]) == (
        "overdue",
        "2026-W47",
        "2026-11-24",
    )
    assert rows["zhxx"]["state"] == "irregular" and rows["zhxx"]["due_date"] is None
    code, out, err = run(capsys, "status", "--json", "--agency", "nobody")  # a typo is not an empty list
    assert code == 2 and "目录中没有机构“nobody”" in err
    assert json.loads(out) == {"ok": False, "code": "scope.unknown_agency", "message": err.strip(), "exit": 2}


def test_zero_update_then_status_is_fresh(hub, capsys):
    code, out, _ = run(
        capsys, "zero-update", "101001002/000001", "--period", "2026-W47", "--by", "陆建华", "--json"
    )
    assert code == 0
    entry = json.loads(out)
    # declared today for a week due on 24 Nov 2026: satisfied, late
    assert (entry["state"], entry["attested_by"], entry["period"]) == ("late", "陆建华", "2026-W47")
    assert entry["note"].startswith("逾期申报零更新（应于 2026-11-24 前）")
    code, out, _ = run(capsys, "status", "--as-of", "2026-11-25", "--json")
    lhry = next(r for r in json.loads(out) if r["resource"] == "lhry")
    assert lhry["state"] == "fresh" and lhry["last"]["attested_by"] == "陆建华"


def test_zero_update_errors_are_messages_with_exit_1(hub, capsys):
    code, _, err = run(capsys, "zero-update", "gaj/lhry", "--period", "2099-W01", "--by", "陆建华")
    assert code == 1 and "尚未开始" in err and "Traceback" not in err
    code, _, err = run(capsys, "zero-update", "gaj/lhry", "--period", "2026-11", "--by", "陆建华")
    assert code == 1 and "2026-W48" in err  # the expected form
    code, _, err = run(capsys, "zero-update", "nope", "--by", "陆建华")
    assert code == 2 and "nope" in err  # naming a resource that does not exist: a usage error, as everywhere


def test_status_starts_fast_and_without_heavy_imports(hub):
    probe = (
        "import sys; from govhub.cli.main import main; main(['status', '--json']);"
        "heavy = [m for m in ('dagster', 'great_expectations', 'pandas', 'duckdb') if m in sys.modules];"
        "print('HEAVY', heavy, file=sys.stderr)"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "HEAVY []" in done.stderr
