"""Catalog changes over HTTP (§10): the steward proposes from the resource's page (refused with the validator's words,
the text kept), the office sees the diff on /office/catalog-changes and approves, and the resource's page shows the
new entry; another agency's steward neither sees the form nor may post it."""

from __future__ import annotations

import html
import re

import httpx

from govhub.catalog.load import load_catalog
from govhub.events import list_events
from govhub.services.catalog_changes import ChangeState, get_change
from tests.portal.conftest import OFFICE, OTHER_STEWARD, STEWARD, Portal, csrf

PAGE = "/catalog/mzj/shjz"
POST = "/agencies/mzj/resources/shjz/catalog-changes"


def form(c: httpx.Client, **data: object) -> dict[str, object]:
    return {"_csrf_token": csrf(c), **data}


def test_a_steward_proposes_the_office_approves_and_the_resource_page_shows_it(portal: Portal) -> None:
    steward, office, other = portal.sign_in(STEWARD), portal.sign_in(OFFICE), portal.sign_in(OTHER_STEWARD)
    path = portal.settings.catalog_dir / "mzj" / "shjz.yaml"
    current = path.read_text(encoding="utf-8")

    page = steward.get(PAGE).text
    assert "提出目录变更" in page and 'id="propose-form"' in page
    assert html.escape(current.splitlines()[0]) in page  # the textarea holds the entry in force
    # another agency's steward: no form, and the route refuses
    assert 'id="propose-form"' not in other.get(PAGE).text
    assert other.post(POST, data=form(other, yaml_text=current, note="x")).status_code == 403

    # refused with the validator's problem, the typed text kept
    broken = current.replace("primary_key: [", "primary_key: [nobody, ")
    r = steward.post(POST, data=form(steward, yaml_text=broken, note="试一下"))
    assert r.status_code == 200 and 'id="change-problems"' in r.text and "不是本资源的信息项" in r.text
    assert "试一下" in r.text and "nobody" in r.text
    assert path.read_text(encoding="utf-8") == current

    # the delivered columns differed from the entry: the §10 2-working-day clock runs, and the proposal shows it
    from govhub import store
    from govhub.clock import BEIJING
    from govhub.governance.workdays import calendar_for

    today = portal.clock().astimezone(BEIJING).date()
    due = calendar_for(portal.settings.catalog_dir).add_working_days(today, 2)
    with store.write_transaction(portal.settings) as conn:
        conn.execute(store.catalog_drift.insert().values(
            agency="mzj", resource="shjz", catalog_fingerprint=portal.catalog.resource("mzj/shjz").fingerprint,
            detected_at="2026-01-01T00:00:00Z", deadline=due, details="[]"))  # fmt: skip
    proposed = current.replace("label: 家庭人口数", "label: 共同生活家庭人口数")
    r = steward.post(POST, data=form(steward, yaml_text=proposed, note="信息项名称与申请表一致"))
    assert (r.status_code, r.headers["location"]) == (303, f"{PAGE}#catalog-changes")
    page = steward.get(PAGE).text
    found = re.search(r'id="change-(CC-\d{8}-\d{4})"', page)
    assert found and "待审核" in page and "信息项名称与申请表一致" in page
    assert f"目录更新期限：{due.isoformat()}（第" in page
    change_id = found.group(1)
    assert path.read_text(encoding="utf-8") == current  # not until the office approves

    # the office's queue: the diff, approve and return forms
    assert steward.get("/office/catalog-changes").status_code == 403
    queue = office.get("/office/catalog-changes").text
    assert change_id in queue and "<pre" in queue
    assert "-  - {name: household_size, label: 家庭人口数" in queue
    assert "+  - {name: household_size, label: 共同生活家庭人口数" in queue
    assert f"目录更新期限：{due.isoformat()}" in queue
    assert (
        f"/office/catalog-changes/{change_id}/approve" in queue
        and f"/office/catalog-changes/{change_id}/return" in queue
    )
    r = office.post(f"/office/catalog-changes/{change_id}/return", data=form(office, reason=""))
    assert r.status_code == 200 and "须写明理由" in r.text
    r = office.post(f"/office/catalog-changes/{change_id}/approve", data=form(office))
    assert (r.status_code, r.headers["location"]) == (303, "/office/catalog-changes")
    assert get_change(portal.settings, change_id).state is ChangeState.APPROVED

    catalog, problems = load_catalog(portal.settings.catalog_dir)
    assert (
        problems == [] and catalog.resource("mzj/shjz").field("household_size").label == "共同生活家庭人口数"
    )
    page = office.get(PAGE).text  # the office's approval re-read the catalog at once
    assert "共同生活家庭人口数" in page and "已批准" in page
    assert "没有待审核的目录变更" in office.get("/office/catalog-changes").text
    kinds = [e.kind for e in list_events(portal.settings, kind="catalog.*", subject="mzj/shjz")]
    assert kinds == ["catalog.change_proposed", "catalog.change_approved"]
    assert office.post("/office/catalog-changes/CC-none/approve", data=form(office)).status_code == 404
    from govhub.governance.drift import open_flags

    assert not [f for f in open_flags(portal.settings) if f.resource == "shjz"]  # the changed entry closed it
