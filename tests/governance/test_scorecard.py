"""Per-agency scorecards (§18–19) computed from the catalog and the submission ledger, on the working-day calendar."""

from __future__ import annotations

from datetime import date

import pytest

from govhub.catalog.model import Agency, Catalog, Steward
from govhub.governance.ledger import record_load_outcome
from govhub.governance.scorecard import agency_scores
from govhub.governance.workdays import WorkdayCalendar

from .conftest import at, make_resource

D = date.fromisoformat
CAL = WorkdayCalendar()


def _agency(aid: str, name: str) -> Agency:
    return Agency(id=aid, name=name, uscc="11310117002425109R", steward=Steward(name="张三"))


def _catalog() -> Catalog:
    weekly = make_resource("population", "weekly", published_on=D("2026-10-01"), reviewed_on=D("2026-06-01"))
    monthly = make_resource(
        "licences", "monthly", agency="shichang", published_on=D("2026-01-01"), reviewed_on=D("2025-01-01")
    )
    changed = make_resource("permits", "monthly", agency="shichang", status="changed", changed_on=D("2026-11-02"),
                            published_on=D("2026-01-01"), reviewed_on=D("2026-05-01"))  # fmt: skip
    draft = make_resource("plans", "yearly", agency="shichang", status="draft")
    return Catalog(
        agencies={"gongan": _agency("gongan", "公安分局"), "shichang": _agency("shichang", "市场监管局")},
        resources=[weekly, monthly, changed, draft],
    )


def test_on_time_late_and_missing_periods_are_counted_per_agency(settings) -> None:
    catalog = _catalog()
    population = catalog.resources[0]
    # W44 (26 Oct–1 Nov) due Tue 3 Nov, W45 due 10 Nov, W46 due 17 Nov, W47 due 24 Nov: 1–25 Nov owes W44–W47
    for status, period, stamp in [
        ("published", "2026-W44", "2026-11-02T10:00"),  # on time
        ("zero_update", "2026-W45", "2026-11-10T10:00"),  # on time
        ("published", "2026-W46", "2026-11-20T10:00"),  # late
    ]:  # W47: nothing
        record_load_outcome(
            settings, population, {"status": status, "actor": "张三", "period": period}, at=at(stamp)
        )
    scores = {s.agency: s for s in agency_scores(settings, catalog, D("2026-11-01"), D("2026-11-25"), CAL)}
    gongan = scores["gongan"]
    assert (gongan.periods_owed, gongan.on_time, gongan.late) == (4, 2, 1)
    assert gongan.missing == ["实有人口基本信息 2026-W47"]
    assert gongan.rates["refreshed_on_time"] == 50.0 and gongan.rates["requests_answered_on_time"] is None
    assert gongan.reviews_overdue == [] and gongan.catalog_changes_overdue == []
    assert any("未按期报送" in t for t in gongan.rectification)

    shichang = scores["shichang"]
    assert (shichang.catalogued, shichang.in_force) == (3, 2)  # the draft is catalogued, not in force
    assert shichang.rates["catalog_compiled"] == 66.7
    assert len(shichang.reviews_overdue) == 1  # licences: last reviewed 2025-01-01
    assert len(shichang.catalog_changes_overdue) == 1  # permits: changed 2 Nov, due 4 Nov, still "changed"
    assert (
        shichang.periods_owed == 2 and shichang.on_time == 0
    )  # October for both monthly resources, nothing delivered
    assert shichang.score is not None and shichang.score < 80 and shichang.rectification


def test_a_resource_owes_nothing_before_it_came_into_force(settings) -> None:
    catalog = _catalog()
    scores = {s.agency: s for s in agency_scores(settings, catalog, D("2026-09-01"), D("2026-09-30"), CAL)}
    assert scores["gongan"].periods_owed == 0  # published 1 October


def test_nothing_is_owed_to_a_hub_before_it_was_in_service(settings) -> None:
    """A hub set up on 3 Nov has no record of what was due before or that day: those periods are not scored as
    missing (the window says from when it judges); a hub without the date (older than it) scores the whole window."""
    from dataclasses import replace

    catalog = _catalog()
    window = (D("2026-11-01"), D("2026-11-25"))
    before = {s.agency: s for s in agency_scores(settings, catalog, *window, CAL)}
    assert before["gongan"].periods_owed == 4 and before["shichang"].periods_owed == 2
    started = replace(settings, in_service_since=D("2026-11-03"))  # in service from that afternoon
    after = {s.agency: s for s in agency_scores(started, catalog, *window, CAL)}
    # W44 and October's months were due on the hub's first day: not scored; W45 (due 10 Nov) onwards are owed
    assert {p["due_date"] for p in before["shichang"].periods} == {"2026-11-03"}
    assert [p["period"] for p in after["gongan"].periods] == ["2026-W45", "2026-W46", "2026-W47"]
    assert after["shichang"].periods_owed == 0 and after["gongan"].scored_from == D("2026-11-04")
    assert before["gongan"].scored_from == D("2026-11-01")
    # said wherever the scores are shown: the report page (and the CLI and portal, by the same note)
    from govhub.governance.scorecard import in_service_note
    from govhub.governance.scorecard_report import render

    note = in_service_note(list(after.values()), window[0])
    assert note is not None and "2026-11-03 启用" in note and "含当天" in note and "不计入" in note
    assert note in render(list(after.values()), *window)
    assert in_service_note(list(before.values()), window[0]) is None
    assert 'id="in-service"' not in render(list(before.values()), *window)


def test_in_service_since_is_kept_once_and_read_back(tmp_path) -> None:
    from govhub.config import get_settings, mark_in_service, save_hub_setting
    from govhub.problems import GovhubError

    assert get_settings(tmp_path, env={}).in_service_since is None
    save_hub_setting(tmp_path, "in_service_since", D("2026-11-10"))
    assert get_settings(tmp_path, env={}).in_service_since == D("2026-11-10")
    assert mark_in_service(tmp_path, D("2026-11-28")) == D("2026-11-10")  # the first day is kept
    assert get_settings(tmp_path, env={}).in_service_since == D("2026-11-10")
    import datetime as dt

    save_hub_setting(tmp_path, "in_service_since", dt.datetime(2026, 11, 10, 17, 0))  # YAML reads a moment
    assert get_settings(tmp_path, env={}).in_service_since == D("2026-11-10")
    assert get_settings(tmp_path, env={"GOVHUB_IN_SERVICE_SINCE": "2026-11-12"}).in_service_since == D(
        "2026-11-12"
    )
    with pytest.raises(GovhubError) as bad:
        get_settings(tmp_path, env={"GOVHUB_IN_SERVICE_SINCE": "11/12/2026"})
    assert "启用日期" in bad.value.problems[0].message_zh


def test_scorecard_command(settings, monkeypatch, capsys) -> None:
    import json
    from pathlib import Path

    from govhub.cli.main import main

    catalog = Path(__file__).resolve().parents[2] / "catalog"
    assert (
        main(["--catalog", str(catalog), "scorecard", "--from", "2026-10-01", "--to", "2026-11-24", "--json"])
        == 0
    )
    report = json.loads(capsys.readouterr().out)
    assert len(report["agencies"]) == 8 and all("score" in a for a in report["agencies"])
    assert main(["--catalog", str(catalog), "scorecard", "--from", "2026-10-01", "--to", "2026-11-24"]) == 0
    out = capsys.readouterr().out
    assert "政务数据资源共享考核" in out and "整改通知" in out  # nothing delivered in this empty hub


def test_the_report_page_shows_every_agency_with_bars_and_notices_offline(settings, offline_page) -> None:
    """The §18 report in Chromium with no way off the machine: a row and a bar per agency, bar length by score,
    rates below the line marked, each rectification notice listed; nothing fetched from anywhere."""
    from govhub.governance.scorecard_report import write_scorecard_report

    catalog = _catalog()
    population = catalog.resources[0]
    for period in ("2026-W44", "2026-W45", "2026-W46", "2026-W47"):
        record_load_outcome(settings, population, {"status": "published", "actor": "张三", "period": period},
                            at=at("2026-11-02T10:00"))  # fmt: skip
    scores = agency_scores(settings, catalog, D("2026-11-01"), D("2026-11-25"), CAL)
    page = write_scorecard_report(settings, scores, D("2026-11-01"), D("2026-11-25"))
    offline_page.goto(page.as_uri())
    assert offline_page.title() == "政务数据资源共享考核 2026-11-01 至 2026-11-25"
    assert offline_page.locator("tbody tr").count() == 2
    widths = {
        bar.get_attribute("data-agency"): float(bar.get_attribute("width"))
        for bar in offline_page.locator("rect.bar").all()
    }
    by_agency = {s.agency: s.score for s in scores}
    assert widths["gongan"] == pytest.approx(4 * by_agency["gongan"], abs=0.1)  # 400 px = 100 points
    assert widths["gongan"] > widths["shichang"]
    assert offline_page.locator('tr[data-agency="shichang"] td.low').count() >= 1
    notices = offline_page.locator(".notice").all_inner_texts()
    assert len(notices) == 1 and "市场监管局" in notices[0] and "年度全面维护逾期" in notices[0]
    assert offline_page.refused == []
    index = (page.parent / "index.html").read_text(encoding="utf-8")
    assert page.name in index
