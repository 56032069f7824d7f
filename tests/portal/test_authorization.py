"""Authorization: every route × every role × own/other agency, each cell asserted against the running portal; a route
the table does not list fails; a steward cannot act for another agency by changing ids in URLs or forms."""

from __future__ import annotations

import re
from dataclasses import dataclass

import httpx
import pytest

from govhub.access import Action
from govhub.events import list_events
from tests.portal.conftest import ANALYST, ENGINEER, OFFICE, OTHER_STEWARD, REVIEWER, STEWARD, Portal, csrf

# who a route is for (what the table expects of each role)
PUBLIC = "public"
SIGNED_IN = "signed-in"
AGENCY_STEWARD = "steward of the agency, or the office"  # Action.UPLOAD / ZERO_UPDATE / MANAGE_TOKENS …
OVERSEERS = "office and engineers"  # Action.OVERSEE
OFFICE_ONLY = "office"  # Action.AUDIT / REVIEW_CATALOG_CHANGE
PARTIES = "any role of the agency, or the office"  # Action.VIEW_SHARING
REQUESTERS = "steward, reviewer or analyst of the agency, or the office"  # Action.REQUEST_SHARING
PROVIDERS = "steward or reviewer of the agency (not the office: §13)"  # Action.ANSWER_SHARING
REVOKERS = "steward or reviewer of the agency, or the office"  # Action.REVOKE_GRANT
COORDINATORS = "the office"  # Action.COORDINATE_SHARING
ANALYSTS = (
    "analyst of the agency (not the office: the full hub is theirs)"  # Action.QUERY / DOWNLOAD_WORKSPACE
)
API_TOKEN = (
    "a docking-API token"  # portal.api: a session counts for nothing there (401 without a bearer token)
)

R = "/agencies/{agency:str}/resources/{resource:str}"
SQ = "/agencies/{agency:str}/sharing/requests/{request_id:str}"
TABLE: dict[tuple[str, str], str] = {
    ("GET", "/signin"): PUBLIC,
    ("POST", "/signin"): PUBLIC,
    ("POST", "/signout"): SIGNED_IN,
    ("GET", "/account/password"): SIGNED_IN,
    ("POST", "/account/password"): SIGNED_IN,
    ("GET", "/account/sessions"): SIGNED_IN,
    ("POST", "/account/sessions/end-others"): SIGNED_IN,
    ("GET", "/"): SIGNED_IN,
    ("GET", "/catalog"): SIGNED_IN,
    ("GET", "/catalog/{agency:str}/{resource:str}"): SIGNED_IN,
    ("POST", f"{R}/catalog-changes"): AGENCY_STEWARD,
    ("GET", "/office/catalog-changes"): OFFICE_ONLY,
    ("POST", "/office/catalog-changes/{change_id:str}/{move:str}"): OFFICE_ONLY,
    ("GET", "/agencies/{agency:str}/feeds"): AGENCY_STEWARD,
    ("GET", f"{R}/deliver"): AGENCY_STEWARD,
    ("GET", f"{R}/template.xlsx"): AGENCY_STEWARD,
    ("POST", f"{R}/upload"): AGENCY_STEWARD,
    ("POST", f"{R}/zero-update"): AGENCY_STEWARD,
    ("GET", f"{R}/loads/{{load_id:str}}/annotated.xlsx"): AGENCY_STEWARD,
    ("GET", f"{R}/loads/{{load_id:str}}/problems.csv"): AGENCY_STEWARD,
    ("GET", "/agencies/{agency:str}/tokens"): AGENCY_STEWARD,
    ("POST", "/agencies/{agency:str}/tokens"): AGENCY_STEWARD,
    ("POST", "/agencies/{agency:str}/tokens/revoke"): AGENCY_STEWARD,
    ("GET", "/agencies/{agency:str}/sharing"): PARTIES,
    ("GET", "/agencies/{agency:str}/sharing/new"): REQUESTERS,
    ("POST", "/agencies/{agency:str}/sharing/requests"): REQUESTERS,
    ("GET", SQ): PARTIES,
    ("POST", f"{SQ}/withdraw"): REQUESTERS,
    ("POST", f"{SQ}/dispute"): REQUESTERS,
    ("POST", f"{SQ}/answer"): PROVIDERS,
    ("GET", "/office/sharing"): COORDINATORS,
    ("POST", "/office/sharing/requests/{request_id:str}/{move:str}"): COORDINATORS,
    ("POST", "/agencies/{agency:str}/grants/{grant_id:str}/revoke"): REVOKERS,
    ("GET", "/agencies/{agency:str}/query"): ANALYSTS,
    ("POST", "/agencies/{agency:str}/query"): ANALYSTS,
    ("POST", "/agencies/{agency:str}/query/download"): ANALYSTS,
    ("GET", "/agencies/{agency:str}/statistics"): ANALYSTS,
    ("GET", "/agencies/{agency:str}/workspace.duckdb"): ANALYSTS,
    ("GET", "/office/freshness"): OVERSEERS,
    ("GET", "/office/scorecards"): OVERSEERS,
    ("GET", "/office/events"): OFFICE_ONLY,
    ("POST", "/office/events/verify"): OFFICE_ONLY,
    ("GET", "/data-docs/{path:path}"): OVERSEERS,
    ("GET", "/static/{file_path:path}"): PUBLIC,
    ("GET", "/api/v1/resources"): API_TOKEN,
    ("GET", "/api/v1/resources/{agency:str}/{resource:str}/rows"): API_TOKEN,
    ("GET", "/api/v1/resources/{agency:str}/{resource:str}/changes"): API_TOKEN,
    ("GET", "/api/v1/openapi.json"): PUBLIC,
}
RULE_ACTION = {
    AGENCY_STEWARD: (Action.UPLOAD, Action.ZERO_UPDATE, Action.MANAGE_TOKENS, Action.PROPOSE_CATALOG_CHANGE),
    OVERSEERS: (Action.OVERSEE,),
    OFFICE_ONLY: (Action.AUDIT, Action.REVIEW_CATALOG_CHANGE),
    PARTIES: (Action.VIEW_SHARING,),
    REQUESTERS: (Action.REQUEST_SHARING, Action.DISPUTE_SHARING, Action.WITHDRAW_SHARING),
    PROVIDERS: (Action.ANSWER_SHARING,),
    REVOKERS: (Action.REVOKE_GRANT,),
    COORDINATORS: (Action.COORDINATE_SHARING,),
    ANALYSTS: (Action.QUERY, Action.DOWNLOAD_WORKSPACE),
}


@dataclass(frozen=True)
class Role:
    name: str
    login: str | None  # None: not signed in
    agency: str  # "own" agency for URLs (the office and engineers hold none: a provider's stands in)
    other: str
    may_for_agencies: bool = False  # the office acts for every agency


ROLES = [
    Role("anonymous", None, "mzj", "gaj"),
    Role("steward", STEWARD, "mzj", "gaj"),
    Role("reviewer", REVIEWER, "rsj", "mzj"),
    Role("analyst", ANALYST, "mzj", "gaj"),
    Role("office", OFFICE, "mzj", "gaj", may_for_agencies=True),
    Role("engineer", ENGINEER, "mzj", "gaj"),
]
RESOURCE_OF = {"mzj": "shjz", "gaj": "hjrk", "rsj": "jydj"}


def expected(rule: str, role: Role, own: bool) -> str:
    """ "ok", "403" or "signin" for one cell."""
    if rule == PUBLIC:
        return "ok"
    if rule == API_TOKEN:
        return "401"
    if role.login is None:
        return "signin"
    if rule == SIGNED_IN:
        return "ok"
    if rule == AGENCY_STEWARD:
        return "ok" if role.may_for_agencies or (role.name == "steward" and own) else "403"
    if rule == OVERSEERS:
        return "ok" if role.name in ("office", "engineer") else "403"
    of_agency = {  # the roles that may, for their own agency
        PARTIES: ("steward", "reviewer", "analyst"),
        REQUESTERS: ("steward", "reviewer", "analyst"),
        PROVIDERS: ("steward", "reviewer"),
        REVOKERS: ("steward", "reviewer"),
        ANALYSTS: ("analyst",),
    }
    if rule in of_agency:
        office = role.may_for_agencies and rule not in (PROVIDERS, ANALYSTS)
        return "ok" if office or (role.name in of_agency[rule] and own) else "403"
    return "ok" if role.name == "office" else "403"


def concrete(path: str, agency: str) -> str:
    values = {"agency": agency, "resource": RESOURCE_OF[agency], "load_id": "L-none", "path": "index.html",
              "file_path": "portal.css", "request_id": "SQ-none", "grant_id": "GR-none", "move": "forward",
              "change_id": "CC-none"}  # fmt: skip
    return re.sub(r"\{(\w+):\w+\}", lambda m: values[m.group(1)], path)


_clients: dict[str, httpx.Client] = {}


def client_for(portal: Portal, role: Role, fresh: bool = False) -> httpx.Client:
    if role.login is None:
        c = portal.client()
        c.get("/signin")
        return c
    if fresh or role.name not in _clients:
        c = portal.sign_in(role.login)
        if fresh:
            return c
        _clients[role.name] = c
    return _clients[role.name]


def outcome_of(response: httpx.Response) -> str:
    if response.status_code == 302 and response.headers["location"].startswith("/signin"):
        return "signin"  # (a sign-out's own redirect to the sign-in page is a 303: it was allowed)
    if response.status_code == 403:
        return "403"
    if response.status_code == 401 and response.request.url.path.startswith("/api/"):
        return "401"  # the docking API asks for its token (a wrong sign-in password is a 401 page: "ok")
    assert response.status_code < 500, response.text[:500]
    return "ok"


def request(portal: Portal, role: Role, method: str, path: str, agency: str) -> httpx.Response:
    url = concrete(path, agency)
    c = client_for(portal, role, fresh=path == "/signout")
    if method == "GET":
        return c.get(url)
    data = {"_csrf_token": csrf(c), "login": "nobody", "password": "wrong-password", "period": ""}
    files = {"sheet": ("empty.csv", b"", "text/csv")} if url.endswith("/upload") else None
    return c.post(url, data=data, files=files)


CELLS = [
    pytest.param(method, path, role, own, id=f"{method} {path} · {role.name} · {'own' if own else 'other'}")
    for (method, path) in TABLE
    for role in ROLES
    for own in (True, False)
]


@pytest.mark.parametrize(("method", "path", "role", "own"), CELLS)
def test_route_role_agency_cell(portal: Portal, method: str, path: str, role: Role, own: bool) -> None:
    response = request(portal, role, method, path, role.agency if own else role.other)
    assert outcome_of(response) == expected(TABLE[(method, path)], role, own), response.text[:300]


def test_every_route_is_in_the_table_and_declares_its_rule(portal: Portal) -> None:
    """A new route without a row here fails: its authorization must be decided, written down and tested."""
    from govhub.portal.app import create_app
    from govhub.portal.auth import Allow

    app = create_app(portal.settings, portal.config)
    routes = set()
    for route in app.routes:
        for handler in route.route_handlers:
            for method in handler.http_methods:
                if method in ("HEAD", "OPTIONS"):
                    continue
                routes.add((method, route.path))
                rule = handler.opt.get("allow")
                assert isinstance(rule, Allow), f"{method} {route.path} declares no access rule"
                wanted = TABLE.get((method, route.path))
                if wanted in RULE_ACTION:
                    assert rule.action in RULE_ACTION[wanted], f"{method} {route.path}: {rule}"
                elif wanted == API_TOKEN:
                    assert rule.token and not rule.public and rule.action is None, f"{method} {route.path}"
                elif wanted is not None:
                    assert rule.public == (wanted == PUBLIC) and rule.action is None, f"{method} {route.path}"
                    assert not rule.token, f"{method} {route.path}"
    assert routes - set(TABLE) == set(), "routes missing from the authorization table"
    assert set(TABLE) - routes == set(), "the table lists routes the portal no longer has"


def test_a_steward_cannot_act_for_another_agency_by_changing_ids(portal: Portal) -> None:
    steward = client_for(portal, ROLES[1])
    landing = portal.settings.landing_dir
    before_denied = len(list_events(portal.settings, kind="access.denied", actor=STEWARD))
    # another agency in the URL: refused before anything is read, and recorded
    r = steward.post("/agencies/rsj/resources/jydj/upload", data={"_csrf_token": csrf(steward)},
                     files={"sheet": ("jydj.csv", "姓名\n张三\n".encode(), "text/csv")})  # fmt: skip
    assert r.status_code == 403
    assert not (landing / "rsj").exists()
    r = steward.post(
        "/agencies/rsj/resources/jydj/zero-update", data={"_csrf_token": csrf(steward), "period": ""}
    )
    assert r.status_code == 403
    assert len(list_events(portal.settings, kind="access.denied", actor=STEWARD)) == before_denied + 2
    # another agency's resource under the steward's own agency: no such resource
    assert steward.get("/agencies/mzj/resources/jydj/deliver").status_code == 404
    r = steward.post("/agencies/mzj/resources/jydj/upload", data={"_csrf_token": csrf(steward)},
                     files={"sheet": ("jydj.csv", b"x\n1\n", "text/csv")})  # fmt: skip
    assert r.status_code == 404 and not (landing / "rsj").exists()
    # an agency or person smuggled into the form changes nothing: the URL's resource, the session's person
    r = steward.post("/agencies/mzj/resources/shjz/upload",
                     data={"_csrf_token": csrf(steward), "agency": "gaj", "actor": OTHER_STEWARD, "person": OFFICE},
                     files={"sheet": ("shjz.csv", b"x\n1\n", "text/csv")})  # fmt: skip
    assert r.status_code == 200
    assert not (landing / "gaj").exists()
    landed = list_events(portal.settings, kind="load.*", subject="mzj/shjz", newest_first=True, limit=1)
    assert landed and landed[0].actor == "王静怡"  # the signed-in steward, whatever the form said


def test_an_irregular_resources_page_offers_no_zero_update_the_service_would_refuse(portal: Portal) -> None:
    steward = portal.sign_in("jiangyaqin")  # 教育局: 学校基本信息 is updated irregularly
    irregular = steward.get("/agencies/jyj/resources/xxjbxx/deliver").text
    assert 'id="zero-irregular"' in irregular and "/zero-update" not in irregular
    regular = portal.sign_in(STEWARD).get("/agencies/mzj/resources/shjz/deliver").text
    assert "/zero-update" in regular and 'id="zero-irregular"' not in regular
