"""The docking API for tests: a demo hub with real loads (the demo's API pulls and sheets), grants made through the
sharing services, a token issued through the token service, and the portal's app served by uvicorn on 127.0.0.1
with a clock the tests move (so grants expire on the API's "today")."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from govhub import store
from govhub.clock import BEIJING
from govhub.portal.api.config import ApiConfig
from govhub.portal.app import create_app
from govhub.portal.config import PortalConfig
from govhub.roles import Role
from govhub.services import requests as svc
from govhub.services.people import register_person
from govhub.services.tokens import create_token
from govhub.states import Decision
from tests.conftest import DemoHub, _serving_demo_hub, deliver
from tests.portal.conftest import MovableClock, serve, stop

PEOPLE = [
    ("zhaoqiang", "赵强", "kw", Role.OFFICE),
    ("wangjingyi", "王静怡", "mzj", Role.STEWARD),
    ("lujianhua", "陆建华", "gaj", Role.STEWARD),
    ("guzhenyu", "顾振宇", "fgj", Role.STEWARD),
    ("shenxiaoyan", "沈晓燕", "scjgj", Role.STEWARD),
]
TOWN = "310117107"  # the demo's most populous town (as in tests/services/test_query.py)


@dataclass
class Api:
    url: str
    hub: DemoHub
    clock: MovableClock
    secret: str  # mzj's token
    token_id: str
    grants: dict[str, str] = field(default_factory=dict)  # resource code → grant id
    clients: list[httpx.Client] = field(default_factory=list)

    @property
    def settings(self):  # type: ignore[no-untyped-def]
        return self.hub.settings

    @property
    def today(self) -> dt.date:
        return self.clock().astimezone(BEIJING).date()

    def client(self, secret: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {secret or self.secret}"}
        c = httpx.Client(base_url=self.url, headers=headers, timeout=60)
        self.clients.append(c)
        return c

    def hub_rows(self, sql: str, *params: object) -> set[tuple]:
        """What hub.duckdb (the engineers' full view) says, as a set of rows."""
        from govhub.warehouse.hub import connect_readonly, sync_hub

        sync_hub(self.settings, self.hub.catalog)
        with connect_readonly(self.settings) as con:
            return set(con.execute(sql, list(params)).fetchall())


def grant(
    hub: DemoHub, code: str, *, fields: list[str], rows: list[dict], until: dt.date, today: dt.date
) -> str:
    """A conditional request by mzj answered (narrowed to `fields` and `rows`) by the provider and executed."""
    s, c = hub.settings, hub.catalog
    resource = c.resource(code)
    provider = {"gaj": "lujianhua", "fgj": "guzhenyu", "scjgj": "shenxiaoyan"}[resource.agency]
    r = svc.file_request(s, c, resource, actor="wangjingyi", fields=fields, purpose=f"{code} 对接核验",
                         basis="《社会救助暂行办法》", use_from=today, use_until=until, today=today)  # fmt: skip
    svc.forward(s, r.id, actor="zhaoqiang", today=today)
    svc.answer(
        s, c, r.id, actor=provider, decision=Decision.APPROVE, fields=fields, row_scope=rows, today=today
    )
    return svc.execute(s, c, r.id, actor="zhaoqiang", today=today).grant_id


def build_api_hub(hub: DemoHub, today: dt.date) -> tuple[str, str, dict[str, str]]:
    s = hub.settings
    known = set(hub.catalog.agencies)
    for i, (pid, name, agency, role) in enumerate(PEOPLE):
        register_person(s, pid, name=name, agency=agency, roles=[role], actor="installer" if i == 0 else "zhaoqiang",
                        known_agencies=known)  # fmt: skip
    manifest = __import__("json").loads((s.demo_dir / "manifest.json").read_text(encoding="utf-8"))
    for code in ("gaj/hjrk", "scjgj/qydj", "fgj/clfjy", "mzj/hydj"):
        resource = hub.resource(code)
        sheet = manifest["resources"][code]["path"] if resource.delivery.method.value == "sheet" else None
        outcome = deliver(s, resource, s.demo_dir / sheet if sheet else None, actor="zhaoqiang")
        assert outcome.status == "published", (code, outcome.problems)
    until = today + dt.timedelta(days=10)
    grants = {
        # the key granted: rows of one town only
        "gaj/hjrk": grant(hub, "gaj/hjrk", fields=["id_number", "name", "birth_date"],
                          rows=[{"field": "town_code", "in": [TOWN]}], until=until, today=today),
        # the key (contract_no) NOT granted: pages and changes must order and join by it without handing it out
        "fgj/clfjy": grant(hub, "fgj/clfjy", fields=["house_id", "buyer_name", "deal_type", "registered_on"],
                           rows=[{"field": "deal_type", "in": ["买卖"]}], until=until, today=today),
        # a base resource (its unconditional fields for every row) plus a conditional field for one town's rows
        "scjgj/qydj": grant(hub, "scjgj/qydj", fields=["legal_rep_id"], rows=[{"field": "town_code", "in": [TOWN]}],
                            until=until, today=today),
    }  # fmt: skip
    issued = create_token(s, hub.catalog, agency="mzj", system="社会救助管理系统", actor="wangjingyi")
    return issued.secret, issued.token.id, grants


def pytest_itemcollected(item: pytest.Item) -> None:
    """Schemathesis names each operation's item `test…[GET /api/…]`, but on pytest 9.2 every one gets the function's
    bare node id (pytest builds it from `originalname`); pytest-xdist schedules by node id, so under `make test` only
    the first operation would run. Each gets its name as its id (pytest's own attribute: checked right after)."""
    from schemathesis.pytest.plugin import SchemathesisFunction

    if not isinstance(item, SchemathesisFunction) or item.nodeid.endswith(f"::{item.name}"):
        return
    if hasattr(item, "_id"):  # pytest ≥ 9.2: a structured id
        item._id = item.parent.id.child(item.name)  # type: ignore[union-attr]
    else:
        item._nodeid = f"{item.parent.nodeid}::{item.name}"  # type: ignore[union-attr]
    assert item.nodeid.endswith(f"::{item.name}"), item.nodeid


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory, demo_source: Path) -> Iterator[Api]:
    """One hub and one running portal (with its API) per test module; tests say what they change."""
    with (
        pytest.MonkeyPatch.context() as mp,
        _serving_demo_hub(tmp_path_factory.mktemp("api"), demo_source, mp) as hub,
    ):
        clock = MovableClock()
        today = clock().astimezone(BEIJING).date()
        secret, token_id, grants = build_api_hub(hub, today)
        config = PortalConfig(
            clock=clock, api=ApiConfig(per_token_per_minute=100_000, per_address_per_minute=100_000)
        )
        served = serve(create_app(hub.settings, config))
        api = Api(served.url, hub, clock, secret, token_id, grants)
        yield api
        for c in api.clients:
            c.close()
        stop(served)
        store.dispose_engines()
