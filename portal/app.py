"""The portal's Litestar application: sessions, CSRF, the access guard, rate limits, templates, security headers.

`create_app(settings)` is the one place the pieces are put together; pages live in `portal/pages/`, one module per
audience. What each piece guards against:

- sessions (`portal.sessions`): server-side in the workflow store, HttpOnly + SameSite=Lax cookie (+ Secure over
  https), idle expiry by the store, absolute expiry by `PersonMiddleware`, a new id at sign-in;
- CSRF: Litestar's middleware (signed double-submit token, form field or `x-csrftoken` header — htmx sends the
  header) on every POST, bound to the session by the guard once signed in;
- the guard (`portal.auth.check_access`) on every route, from the route's declared `opt["allow"]`;
- `request_max_body_size`: an upload beyond the limit is refused as it streams in (by Content-Length at once);
- a rate limit on sign-in attempts per client address, besides the per-account lock-out of the sign-in service
  (its counters in the workflow store beside the sessions, so N portal processes count together);
- headers on every response, errors included: a strict Content-Security-Policy (scripts and styles only from the
  portal itself — no inline script anywhere), no framing, no sniffing, no referrer leaks.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any
from urllib.parse import quote

from litestar import Litestar, Request, Response
from litestar.config.csrf import CSRFConfig
from litestar.connection import ASGIConnection
from litestar.contrib.jinja import JinjaTemplateEngine
from litestar.datastructures import MutableScopeHeaders
from litestar.exceptions import HTTPException, NotAuthorizedException
from litestar.middleware import ASGIMiddleware
from litestar.middleware.rate_limit import RateLimitConfig
from litestar.response import Redirect, Template
from litestar.static_files import create_static_files_router
from litestar.stores.registry import StoreRegistry
from litestar.template.config import TemplateConfig
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from govhub.config import Settings
from govhub.people import Person
from govhub.portal import auth
from govhub.portal.api.errors import api_error
from govhub.portal.api.routes import Streams, api_router
from govhub.portal.config import PortalConfig, portal_secret
from govhub.portal.sessions import SESSION_COOKIE, RotatingSessionConfig, WebSessionStore

log = logging.getLogger(__name__)
HERE = Path(__file__).resolve().parent
CSRF_COOKIE = "govhub_csrf"
CSRF_HEADER = "x-csrftoken"
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    b"content-security-policy": CSP.encode(),
    b"x-content-type-options": b"nosniff",
    b"x-frame-options": b"DENY",
    b"referrer-policy": b"same-origin",
    b"cross-origin-opener-policy": b"same-origin",
}


class PersonMiddleware(ASGIMiddleware):
    """Inside the session middleware: who the session belongs to (`auth.load_person`), before guards run."""

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        if scope["type"] == "http":
            await auth.load_person(Request(scope, receive, send))
        await next_app(scope, receive, send)


async def add_security_headers(message: Message, scope: Scope) -> None:
    if message["type"] == "http.response.start":
        headers = MutableScopeHeaders.from_message(message)
        for name, value in SECURITY_HEADERS.items():
            headers[name.decode()] = value.decode()
        if not scope.get("path", "").startswith("/static/") and "cache-control" not in headers:
            # pages carry people's data (query results, ID numbers): none is kept by a cache, nor shown again by the
            # browser's Back button after 退出登录; the vendored static files stay cacheable
            headers["cache-control"] = "no-store"
        if scope.get("path", "").startswith("/data-docs/"):
            # Great Expectations' generated pages need their inline scripts and styles (and nothing else)
            headers["content-security-policy"] = CSP.replace(
                "script-src 'self'", "script-src 'self' 'unsafe-inline'"
            ).replace("style-src 'self'", "style-src 'self' 'unsafe-inline'")


def _is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


_ERRORS = {
    400: ("请求有误", "提交的内容无法处理，请返回上一页检查后重试。"),
    403: ("无权访问", "您没有访问此页面或执行此操作的权限。"),
    404: ("页面不存在", "您要找的页面或资源不存在，可能已被移除或地址有误。"),
    405: ("请求方式有误", "此页面不支持这种请求方式。"),
    413: ("文件过大", "上传的内容超过了允许的大小，请拆分后再上传。"),
    429: ("操作过于频繁", "短时间内尝试次数过多，请稍候一分钟再试。"),
    500: ("系统内部错误", "系统处理时出错，错误已记录，请稍后重试或联系区科委平台工程师。"),
}
CSRF_REFUSED_ZH = "页面已过期或安全校验未通过（CSRF），请刷新页面后重试。"


def error_page(request: Request, exc: Exception) -> Response:
    """Every error as a Chinese page (or an htmx fragment): never a traceback or an internal name."""
    if request.url.path == "/api" or request.url.path.startswith("/api/"):
        # an API path no route matched (any version): the API's JSON, not a page
        return api_error(request, exc)
    if isinstance(exc, NotAuthorizedException):
        target = "/signin"
        if request.method == "GET" and not _is_htmx(request):
            wanted = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            target += f"?next={quote(wanted, safe='/')}"  # the page asked for, its filters included
        if _is_htmx(request):
            return Response(content="", status_code=200, headers={"HX-Redirect": target})
        return Redirect(path=target, status_code=302)
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    detail = exc.detail if isinstance(exc, HTTPException) else ""
    if status == 400 and "Too Large" in str(detail):
        status = 413  # Litestar reports an over-long multipart body as 400 (until 3.0)
    if status >= 500:
        log.exception("portal error on %s %s", request.method, request.url.path, exc_info=exc)
    title, message = _ERRORS.get(status, _ERRORS[400 if status < 500 else 500])
    if status == 403 and "CSRF" in str(detail):
        message = CSRF_REFUSED_ZH
    elif status == 403 and detail and "route declares" not in str(detail) and detail != "Forbidden":
        message = str(detail)  # the access rule's own Chinese reason
    template = "_error.html" if _is_htmx(request) else "error.html"
    return Template(
        template_name=template,
        context={"title": title, "message": message, "status": status, **_page_context(request)},
        status_code=status,
    )


def _page_context(request: Request) -> dict[str, Any]:
    """The header an error page shares with every page: the person's name and menu (none when signed out)."""
    from govhub.portal.views import nav

    settings = request.app.state["settings"]
    person = auth.person_of(request)
    try:  # an error page must never fail itself (the store or the catalog may be what failed)
        if person is None and request.scope.get("route_handler") is None:  # no route matched: a 404
            person = _person_outside_routes(request, settings)
        menu = nav(request, person) if person else []
    except Exception:  # drawn without the header rather than not at all
        log.warning("error page drawn without the person's menu", exc_info=True)
        person, menu = None, []
    return {"person": person, "nav": menu, "path": request.url.path}


def _person_outside_routes(request: Request, settings: Settings) -> Person | None:
    """The person of a request no route matched (the session middleware runs inside routes only), while their
    session is valid; an ended one is left for the next page to end and record (`auth.load_person`)."""
    session_id = request.cookies.get(SESSION_COOKIE)
    if not session_id:
        return None
    session = request.app.stores.get("sessions").session_now(session_id)
    if not session or session.get("person") is None:
        return None
    config = request.app.state["portal"]
    person, ended = auth.holder_of(settings, config, session, config.now())
    return person if ended is None else None


def _sign_in_attempt(request: Request) -> bool:
    return request.method == "POST" and request.url.path == "/signin"


def create_app(settings: Settings, config: PortalConfig | None = None) -> Litestar:
    """The portal for the hub `settings` describe (catalog read from its catalog folder)."""
    from govhub.portal.pages import PAGES

    config = config or PortalConfig()
    session_config = RotatingSessionConfig(
        key=SESSION_COOKIE,
        max_age=int(config.idle_timeout.total_seconds()),
        renew_on_access=True,  # the idle clock restarts with every request
        secure=config.secure_cookies,
        httponly=True,
        samesite="lax",
        store="sessions",
    )
    rate_limit = RateLimitConfig(
        rate_limit=("minute", config.sign_in_per_minute),
        check_throttle_handler=_sign_in_attempt,
        store="rate_limit",
    )
    from govhub.portal.views import register_template_helpers

    templates = TemplateConfig(
        directory=HERE / "templates", engine=JinjaTemplateEngine, engine_callback=register_template_helpers
    )
    app = Litestar(
        route_handlers=[
            *PAGES,
            api_router(config.api),  # the docking API, /api/v1 (bearer tokens; portal/api/)
            create_static_files_router(path="/static", directories=[HERE / "static"], opt=auth.public()),
        ],
        middleware=[session_config.middleware, PersonMiddleware(), rate_limit.middleware],
        guards=[auth.check_access],
        csrf_config=CSRFConfig(
            secret=portal_secret(settings),
            cookie_name=CSRF_COOKIE,
            header_name=CSRF_HEADER,
            cookie_secure=config.secure_cookies,
            cookie_httponly=True,  # pages carry the token themselves; no script needs the cookie
            cookie_samesite="lax",
        ),
        # both in the workflow store: every portal process of the hub (`govhub portal --workers N`) shares them
        stores=StoreRegistry(
            stores={
                "sessions": WebSessionStore(settings, config.now),
                "rate_limit": WebSessionStore(settings, config.now),
            }
        ),
        template_config=templates,
        request_max_body_size=config.max_upload_bytes,
        exception_handlers={Exception: error_page},
        before_send=[add_security_headers],
        state={
            "settings": settings,
            "portal": config,
            "session_config": session_config,
            "api_streams": Streams(),
        },
        openapi_config=None,
        debug=False,
    )
    return app


def session_cookie_names() -> tuple[str, str]:
    return SESSION_COOKIE, CSRF_COOKIE


def connection_settings(connection: ASGIConnection) -> Settings:
    return connection.app.state["settings"]
