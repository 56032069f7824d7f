"""Every docking API error as JSON with a stable code and a Chinese message — never a traceback, never the
portal's HTML page — and recorded as the call's `api.call` event (except rate-limited calls: recording each of a
flood would let the flood write the log)."""

from __future__ import annotations

import logging
from typing import Any

from litestar import Request, Response
from litestar.background_tasks import BackgroundTask
from litestar.exceptions import HTTPException, ValidationException

from govhub.problems import code_info
from govhub.services.docking import Call, DockingError, record_call
from govhub.services.tokens import find_by_secret

log = logging.getLogger(__name__)
CALL = "govhub.api_call"  # where a handler leaves its Call in the request scope
RECORDED = "govhub.api_call_recorded"  # set once the handler has recorded its refusal itself

# Litestar's own refusals (before or around a handler), as our codes and messages
_HTTP: dict[int, tuple[str, str]] = {
    400: ("docking.bad_request", "请求参数有误"),
    404: ("docking.not_found", "接口地址不存在：可用的接口见 /api/v1/openapi.json"),
    405: ("docking.method", "接口只接受 GET 请求"),
    413: ("docking.too_large", "请求过大"),
    429: ("docking.rate_limited", "请求过于频繁，请稍后再试（每个令牌、每个地址每分钟有调用次数上限）"),
}


def problem_body(status: int, code: str, message: str) -> dict[str, Any]:
    return {"status": status, "code": code, "title": code_info(code).title_zh, "message": message}


def _validation_message(exc: ValidationException) -> str:
    """Which parameter was wrong, from Litestar's details (never its English sentence)."""
    names = [str(e.get("key")) for e in (exc.extra or []) if isinstance(e, dict) and e.get("key")]
    hint = "format 应为 json、csv 或 parquet；limit 应为 1～10000 的整数；cursor 用上一页返回的 next_cursor"
    return f"请求参数有误（{'、'.join(names) or '参数'}）：{hint}"


def api_error(request: Request, exc: Exception) -> Response:
    """The exception handler of the API router (and of unmatched paths under /api/)."""
    headers: dict[str, str] = {}
    if isinstance(exc, DockingError):
        status, code, message = exc.status, exc.problem.code, str(exc.problem)
    elif isinstance(exc, ValidationException):
        status, code, message = 400, "docking.bad_request", _validation_message(exc)
    elif isinstance(exc, HTTPException) and exc.status_code in _HTTP:
        status = exc.status_code
        code, message = _HTTP[status]
        headers = {k: v for k, v in (exc.headers or {}).items() if k.lower().startswith("ratelimit")}
        if status == 429:
            headers["Retry-After"] = headers.get("RateLimit-Reset", "60")
        if status == 405:
            headers["Allow"] = (exc.headers or {}).get("Allow") or "GET"  # RFC 9110: say what is allowed
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
    background = None
    if status != 429 and not request.scope.get(RECORDED):  # type: ignore[call-overload]
        # refused before a handler ran (a bad parameter, no such path): recorded after the answer, off the loop
        background = BackgroundTask(record_refusal, request.app.state["settings"], _call_of(request), status, code,
                                    request.headers.get("authorization"))  # fmt: skip
    return Response(
        problem_body(status, code, message), status_code=status, headers=headers, background=background
    )


def _call_of(request: Request) -> Call:
    found = request.scope.get(CALL)  # type: ignore[call-overload]
    return found if isinstance(found, Call) else Call(path=request.url.path)


def record_refusal(settings: Any, call: Call, status: int, code: str, authorization: str | None) -> None:
    """The refused call's event, naming the token it carried when the hub knows it (a revoked one, say)."""
    if call.token is None and authorization:  # refused before the handler: say whose token it was, if any
        _, _, secret = authorization.partition(" ")
        call.token = find_by_secret(settings, secret.strip()) if 0 < len(secret) <= 200 else None
    call.failed(status, code)
    record_call(settings, call)
