"""What every page needs: the catalog (re-read when its files change), the page frame, labels for templates."""

from __future__ import annotations

import datetime as dt
import threading
import time
from pathlib import Path
from typing import Any

from litestar import Request
from litestar.exceptions import NotFoundException
from litestar.response import Template

from govhub.access import Action
from govhub.catalog.model import Catalog, Resource
from govhub.config import Settings
from govhub.people import Person
from govhub.portal import auth
from govhub.roles import Role

_CHECK_EVERY_S = 3.0
_lock = threading.Lock()
_cache: dict[Path, tuple[float, tuple[tuple[str, float], ...], Catalog]] = {}


def _catalog_files(folder: Path) -> tuple[tuple[str, float], ...]:
    return tuple(sorted((str(p), p.stat().st_mtime) for p in folder.rglob("*.yaml")))


def catalog_of(settings: Settings) -> Catalog:
    """The hub's catalog, read again when a file in the catalog folder changed (looked at every few seconds)."""
    from govhub.catalog.load import require_catalog

    folder = settings.catalog_dir
    with _lock:
        cached = _cache.get(folder)
        now = time.monotonic()
        if cached is not None and now - cached[0] < _CHECK_EVERY_S:
            return cached[2]
        files = _catalog_files(folder)
        if cached is not None and cached[1] == files:
            _cache[folder] = (now, files, cached[2])
            return cached[2]
        catalog = require_catalog(folder)
        _cache[folder] = (now, files, catalog)
        return catalog


def forget_catalog(settings: Settings) -> None:
    """The next page of this process reads the catalog folder again (after a change this process wrote; other
    portal processes see it at their next look, within seconds)."""
    with _lock:
        _cache.pop(settings.catalog_dir, None)


_freshness_lock = threading.Lock()
_freshness: dict[Path, tuple[tuple[Any, ...], list[Any]]] = {}


def freshness_today(settings: Settings, catalog: Catalog) -> list[Any]:
    """`evaluate_freshness` for today, computed again only when the ledger, the catalog or the day changed: every
    home, catalog, resource and feeds page shows it, and reading the whole ledger for each was most of a page's
    time under load (W11). The rows are shared between requests: treat them as read-only."""
    from govhub.clock import today_in_beijing
    from govhub.governance.alerts import evaluate_freshness
    from govhub.governance.ledger import ledger_version

    today = today_in_beijing()
    key = (id(catalog), today, ledger_version(settings))
    with _freshness_lock:
        cached = _freshness.get(settings.home)
        if cached is not None and cached[0] == key:
            return cached[1]
    rows = evaluate_freshness(settings, catalog, today)
    with _freshness_lock:
        _freshness[settings.home] = (key, rows)
    return rows


def settings_of(request: Request) -> Settings:
    return request.app.state["settings"]


def person(request: Request) -> Person:
    found = auth.person_of(request)
    assert found is not None, "the guard lets no anonymous request reach a signed-in page"
    return found


def resource_in(catalog: Catalog, agency: str, resource: str) -> Resource:
    """The resource `agency/resource` (the URL's ids must belong together: a resource of B under A's URL is 404)."""
    try:
        found = catalog.resource(f"{agency}/{resource}")
    except KeyError:
        raise NotFoundException() from None
    if found.agency != agency:
        raise NotFoundException()
    return found


def nav(request: Request, who: Person) -> list[tuple[str, str]]:
    """The menu: what this person may open (the request's registry, read once for all its questions)."""
    settings, people = settings_of(request), auth.registry(request)

    def may(action: Action, agency: str | None = None) -> bool:
        return auth.allowed(people, who, action, agency)

    items = [("/", "首页"), ("/catalog", "资源目录")]
    # none: nothing owed
    if may(Action.UPLOAD, who.agency) and catalog_of(settings).of_agency(who.agency or ""):
        items.append((f"/agencies/{who.agency}/feeds", "本机构报送"))
    if may(Action.MANAGE_TOKENS, who.agency) and not may(Action.OVERSEE):
        items.append((f"/agencies/{who.agency}/tokens", "接口令牌"))
    office = may(Action.COORDINATE_SHARING)
    if who.agency and not office and may(Action.VIEW_SHARING, who.agency):
        items.append((f"/agencies/{who.agency}/sharing", "数据共享"))
    if who.agency and may(Action.QUERY, who.agency):
        items.append((f"/agencies/{who.agency}/query", "数据查询"))
    if office:
        items.append(("/office/sharing", "共享协调"))
    if may(Action.REVIEW_CATALOG_CHANGE):
        items.append(("/office/catalog-changes", "目录变更"))
    if may(Action.OVERSEE):
        items += [("/office/freshness", "全区报送看板"), ("/office/scorecards", "考核评分")]
    if may(Action.AUDIT):
        items.append(("/office/events", "审计日志"))
    return items


def page(request: Request, template: str, *, status_code: int = 200, **context: Any) -> Template:
    """A full page, or — for an htmx request that asks for one — the fragment `fragment` names."""
    who = auth.person_of(request)
    base = {"person": who, "nav": nav(request, who) if who else [], "path": request.url.path}
    return Template(template_name=template, context={**base, **context}, status_code=status_code)


def today_of(request: Request) -> dt.date:
    """Today in Beijing by the portal's clock (tests freeze or move it; the services take it as `today`)."""
    from govhub.clock import BEIJING

    return request.app.state["portal"].now().astimezone(BEIJING).date()


def is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


def role_labels(who: Person) -> str:
    return "、".join(r.label for r in who.roles)


def beijing(stamp: str | None) -> str:
    """A UTC stamp as Beijing time for people (YYYY-MM-DD HH:MM; the page says the zone once)."""
    from govhub.clock import beijing_text

    return beijing_text(stamp, zone=False)


def register_template_helpers(engine: Any) -> None:
    env = engine.engine
    env.filters["beijing"] = beijing
    env.globals["Role"] = Role
    env.globals["role_labels"] = role_labels
    env.globals["state_label"] = state_label


def state_label(value: str | None) -> str:
    """A sharing request's state for people (the transitions table stores the value)."""
    from govhub.states import RequestState

    return RequestState(value).label if value else "—"
