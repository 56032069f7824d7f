"""Every docking API error as JSON with a stable code and a Chinese message — never a traceback, never the
portal's HTML page — and recorded as the call's `api.call` event (except rate-limited calls: recording each of a
flood would let the flood write the log)."""

from __future__ import annotations

import logging
from typing import Any

import msgspec
from litestar import Request, Response
from litestar.background_tasks import BackgroundTask
from litestar.enums import HttpMethod
from litestar.exceptions import HTTPException, ValidationException

from govhub.connectors.headers import shown
from govhub.problems import code_info
from govhub.services.cursors import CURSOR_MAX
from govhub.services.docking import FORMATS, SINCE_MAX, Call, DockingError, DockingLimits, record_call
from govhub.services.tokens import find_by_secret

log = logging.getLogger(__name__)
CALL = "govhub.api_call"  # where a handler leaves its Call in the request scope
RECORDED = "govhub.api_call_recorded"  # set once the handler has recorded its refusal itself

# Litestar's own refusals (before or around a handler), as our codes and messages
_HTTP: dict[int, tuple[str, str]] = {
    400: ("docking.bad_request", "请求参数有误"),
    404: ("docking.not_found", "接口地址不存在：可用的接口见 /api/v1/openapi.json"),
    405: ("docking.method", "接口只接受 GET 和 HEAD 请求（响应头 Allow 列出该地址可用的请求方式）"),
    413: ("docking.too_large", "请求过大"),
    429: ("docking.rate_limited", "请求过于频繁，请稍后再试（每个令牌、每个地址每分钟有调用次数上限）"),
}


def problem_body(status: int, code: str, message: str) -> dict[str, Any]:
    """The error document. The message may quote what the caller sent (a path, a parameter): control and invisible
    characters in it are shown as "�", so no NUL or terminal escape comes back to the consumer's logs or screen."""
    return {"status": status, "code": code, "title": code_info(code).title_zh, "message": shown(message)}


# what each parameter Litestar checks against its declaration should be (said with what was given)
_EXPECTED = {
    "format": f"format 应为 {'、'.join(FORMATS)} 之一",
    "limit": f"limit 应为 1 到 {DockingLimits.max_limit} 之间的整数",
    "cursor": f"cursor 应为上一页返回的 next_cursor（不超过 {CURSOR_MAX} 个字符）",
    "since": f"since 应为上次读取返回的 changes_since 或一个快照编号（不超过 {SINCE_MAX} 个字符）",
}


def _validation_message(exc: ValidationException, request: Request) -> str:
    """Each parameter Litestar refused — only those — with what was expected and what was given (never its English
    sentence): "limit 应为 1 到 10000 之间的整数，收到“0”"."""
    keys = dict.fromkeys(str(e["key"]) for e in (exc.extra or []) if isinstance(e, dict) and e.get("key"))
    said = [
        f"{_EXPECTED.get(key, f'参数 {key} 的值有误')}，{given(request.query_params.getall(key, []))}"
        for key in keys
    ]
    return "；".join(said) or "请求参数有误：可用的参数见 /api/v1/openapi.json"


def given(values: list[str], most: int = 40) -> str:
    """What the caller sent, quoted for a message: a long value cut short (a 5,000-character cursor would drown
    the message), no value or several said so."""
    if len(values) != 1:
        return f"收到 {len(values)} 个值" if values else "未收到值"
    value = values[0]
    if not value:
        return "收到空值"
    return f"收到“{value[:most]}…”（共 {len(value)} 个字符）" if len(value) > most else f"收到“{value}”"


def presented_authorization(request: Request) -> str | None:
    """The request's one Authorization header; None for none — and for several, which name no one token."""
    found = request.headers.getall("authorization", [])
    return found[0] if len(found) == 1 else None


def reply(request: Request, body: bytes, *, media_type: str, headers: dict[str, str] | None = None,
          status: int = 200, background: BackgroundTask | None = None) -> Response:  # fmt: skip
    """GET's answer; HEAD's is the same status and headers, Content-Length included, without the body (RFC 9110
    §9.3.2). Litestar does not strip it for HEAD; most servers do, but the API does not count on its server."""
    headers = dict(headers or {})
    if request.method == HttpMethod.HEAD:
        headers["Content-Length"] = str(len(body))
        body = b""
    return Response(body, status_code=status, media_type=media_type, headers=headers, background=background)


def api_error(request: Request, exc: Exception) -> Response:
    """The exception handler of the API router (and of unmatched paths under /api/)."""
    headers: dict[str, str] = {}
    if isinstance(exc, DockingError):
        status, code, message = exc.status, exc.problem.code, str(exc.problem)
    elif isinstance(exc, ValidationException):
        status, code, message = 400, "docking.bad_request", _validation_message(exc, request)
    elif isinstance(exc, HTTPException) and exc.status_code in _HTTP:
        status = exc.status_code
        code, message = _HTTP[status]
        headers = {k: v for k, v in (exc.headers or {}).items() if k.lower().startswith("ratelimit")}
        if status == 429:
            headers["Retry-After"] = headers.get("RateLimit-Reset", "60")
        if status == 405:  # RFC 9110: say what is allowed (Litestar names the header in lower case)
            allowed = {k.lower(): v for k, v in (exc.headers or {}).items()}.get("allow")
            headers["Allow"] = allowed or "GET, HEAD, OPTIONS"
    elif isinstance(exc, HTTPException) and exc.status_code < 500:
        status, code, message = exc.status_code, "docking.bad_request", "请求有误"
    else:
        log.exception("docking API error on %s", request.url.path, exc_info=exc)
        status, code, message = (
            500,
            "docking.failed",
            "接口处理时出错，错误已记录，请稍后重试或联系区科委平台工程师",
        )
    if status == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="govhub"'
    elif status == 400 and len(request.headers.getall("authorization", [])) > 1:  # RFC 6750 §3.1
        headers["WWW-Authenticate"] = 'Bearer realm="govhub", error="invalid_request"'
    background = None
    if status != 429 and not request.scope.get(RECORDED):  # type: ignore[call-overload]
        # refused before a handler ran (a bad parameter, no such path): recorded after the answer, off the loop
        background = BackgroundTask(record_refusal, request.app.state["settings"], _call_of(request), status, code,
                                    presented_authorization(request))  # fmt: skip
    body = msgspec.json.encode(problem_body(status, code, message))
    return reply(
        request, body, media_type="application/json", headers=headers, status=status, background=background
    )


def _call_of(request: Request) -> Call:
    found = request.scope.get(CALL)  # type: ignore[call-overload]
    return found if isinstance(found, Call) else Call(path=request.url.path, method=request.method)


def record_refusal(settings: Any, call: Call, status: int, code: str, authorization: str | None) -> None:
    """The refused call's event, naming the token it carried when the hub knows it (a revoked one, say)."""
    if call.token is None and authorization:  # refused before the handler: say whose token it was, if any
        _, _, secret = authorization.partition(" ")
        call.token = find_by_secret(settings, secret.strip()) if 0 < len(secret) <= 200 else None
    call.failed(status, code)
    record_call(settings, call)
