"""The agency's API tokens in the portal: its steward (or the office) issues one — the secret on that answer only —
and revokes it; the token reads the docking API until then; another agency's steward can do neither."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from govhub.events import list_events
from tests.portal.conftest import OFFICE, OTHER_STEWARD, STEWARD, Portal, csrf
from tests.portal.test_pages_browser import check, page, sign_in  # noqa: F401 - the browser page fixture

SECRET = re.compile(r'id="token-secret" readonly value="(ghub_[A-Za-z0-9_-]{43})"')


def issue(c: httpx.Client, agency: str, system: str) -> httpx.Response:
    return c.post(f"/agencies/{agency}/tokens", data={"_csrf_token": csrf(c), "system": system})


def test_a_steward_issues_a_token_sees_its_secret_once_and_revokes_it(portal: Portal) -> None:
    steward = portal.sign_in(STEWARD)
    r = issue(steward, "mzj", "门户签发测试系统")
    assert r.status_code == 200 and "只显示这一次" in r.text and r.headers["cache-control"] == "no-store"
    secret = SECRET.search(r.text).group(1)
    token_id = re.search(r"已为“门户签发测试系统”签发令牌 (TK-\d{8}-\d{4})", r.text).group(1)
    api = httpx.Client(base_url=portal.url, headers={"Authorization": f"Bearer {secret}"})
    assert api.get("/api/v1/resources").json()["agency"] == "mzj"
    listing = steward.get("/agencies/mzj/tokens")
    assert token_id in listing.text and secret not in listing.text  # shown once, never again
    again = issue(steward, "mzj", "门户签发测试系统")
    assert "已有有效令牌" in again.text and not SECRET.search(again.text)
    # another agency's steward: not under mzj's URL, and not mzj's token under their own agency's URL either
    other = portal.sign_in(OTHER_STEWARD)
    assert other.get("/agencies/mzj/tokens").status_code == 403
    assert (
        other.post(
            "/agencies/mzj/tokens/revoke", data={"_csrf_token": csrf(other), "token_id": token_id}
        ).status_code
        == 403
    )
    sideways = other.post(
        "/agencies/gaj/tokens/revoke", data={"_csrf_token": csrf(other), "token_id": token_id}
    )
    assert sideways.status_code == 200 and "本部门没有编号为" in sideways.text
    assert api.get("/api/v1/resources").status_code == 200
    done = steward.post(
        "/agencies/mzj/tokens/revoke", data={"_csrf_token": csrf(steward), "token_id": token_id}
    )
    assert done.status_code == 200 and "已撤销令牌" in done.text
    refused = api.get("/api/v1/resources")
    assert refused.status_code == 401 and refused.json()["code"] == "docking.revoked_token"
    kinds = [e.kind for e in list_events(portal.settings, kind="token.*", subject=f"token/{token_id}")]
    assert kinds == ["token.created", "token.revoked"]
    api.close()


def test_the_office_manages_any_agencys_tokens(portal: Portal) -> None:
    office = portal.sign_in(OFFICE)
    r = issue(office, "gaj", "人口核验平台")
    assert SECRET.search(r.text) and "人口核验平台" in office.get("/agencies/gaj/tokens").text
    assert office.get("/agencies/nosuch/tokens").status_code == 404


@pytest.mark.browser
def test_the_tokens_page_in_the_browser(portal: Portal, page: Any) -> None:  # noqa: F811
    pg = page
    sign_in(pg, portal, STEWARD)
    pg.click("nav >> text=接口令牌")
    pg.fill("#system", "浏览器里签发的系统")
    pg.click("form[action$='/tokens'] button[type=submit]")
    pg.wait_for_selector("#token-issued")
    assert pg.input_value("#token-secret").startswith("ghub_")
    check(pg, "steward-tokens-issued")
    pg.click("#token-list tr:has-text('浏览器里签发的系统') button")
    pg.wait_for_selector("#token-revoked")
    check(pg, "steward-tokens")
