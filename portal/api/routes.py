"""The docking API's routes under /api/v1 (资源共享对接服务, §13): a Litestar `Router` the portal mounts, in the
same web process. Bearer tokens, no session and no CSRF (nothing here changes state); rate limits per token and
per address; every answer from `services.docking`, every call one event (`api.call` or `api.failed`).

    GET /api/v1/resources                                 what the token's agency may reach today
    GET /api/v1/resources/{agency}/{resource}/rows        format=json|csv|parquet, limit, cursor
    GET /api/v1/resources/{agency}/{resource}/changes     since=SNAPSHOT_ID, format, limit, cursor
    GET /api/v1/openapi.json                              this API's OpenAPI document (no token needed)

HEAD answers each as GET does, without the body (a whole-table download is not started); OPTIONS says `Allow`.
"""

from __future__ import annotations

import datetime as dt
import threading
import weakref
from collections.abc import AsyncIterator, Callable
from typing import Annotated, Any, Literal

import anyio
import anyio.to_thread
from litestar import Request, Response, Router, route
from litestar.enums import HttpMethod
from litestar.middleware.rate_limit import RateLimitConfig
from litestar.openapi import ResponseSpec
from litestar.params import Parameter
from litestar.response import Stream

from govhub.clock import BEIJING
from govhub.config import Settings
from govhub.portal import auth
from govhub.portal.api.config import ApiConfig
from govhub.portal.api.errors import CALL, RECORDED, api_error, presented_authorization, record_refusal, reply
from govhub.portal.api.schema import ApiProblem, ChangesPage, ResourceList, RowsPage
from govhub.portal.views import catalog_of
from govhub.services import docking
from govhub.services.cursors import CURSOR_MAX
from govhub.services.docking import SINCE_MAX, Answer, Ask, Call, DockingError, DockingLimits
from govhub.services.tokens import ApiToken
from govhub.warehouse.docking import QueryTimeout

API_PATH = "/api/v1"
TAG = "资源共享对接服务"
# HEAD is GET without the body (RFC 9110 §9.3.2): HTTP implies it, so the OpenAPI document leaves it out
GET_HEAD = [HttpMethod.GET, HttpMethod.HEAD]
Format = Literal["json", "csv", "parquet"]
LimitParam = Annotated[
    int | None, Parameter(ge=1, le=DockingLimits.max_limit, description="每页记录数；json 默认 1000")
]
CursorParam = Annotated[str | None, Parameter(max_length=CURSOR_MAX, description="上一页返回的 next_cursor")]
FormatParam = Annotated[
    Format, Parameter(description="json（分页）、csv 或 parquet（不带 limit 时为整表流式下载）")
]


def _errors(*statuses: int) -> dict[int, ResponseSpec]:
    said = {400: "参数有误", 401: "未提供、无效或已撤销的令牌", 403: "不在本部门可访问的范围内", 404: "资源目录中没有该资源",
            409: "读取期间授权范围已变化", 410: "游标所指的快照已不存在", 429: "请求过于频繁", 504: "查询超时"}  # fmt: skip
    return {s: ResponseSpec(ApiProblem, description=said[s], generate_examples=False) for s in statuses}


def _operation_id(name: str) -> Callable[..., str]:
    """The GET operation's id as it was before HEAD shared the handler (Litestar would prefix the method to both):
    clients generated from the document keep their names. HEAD's own is dropped with it (`openapi.py`)."""
    return lambda handler, method, path: name if method == HttpMethod.GET else f"{str(method).lower()}{name}"


def _config(request: Request) -> ApiConfig:
    return request.app.state["portal"].api


def _now(request: Request) -> dt.datetime:
    return request.app.state["portal"].now()


def _serve(
    request: Request,
    work: Callable[[Settings, ApiToken, Call, dt.datetime], Answer],
    known: tuple[str, ...] = (),
) -> Response:
    """Authenticate, answer, and record the call (errors are recorded by `api_error`; streams when they end).
    A query parameter outside `known` is refused: a misspelt `limt=5` silently ignored would read the whole table."""
    settings: Settings = request.app.state["settings"]
    call = Call(path=request.url.path, method=request.method)
    request.scope[CALL] = call  # type: ignore[literal-required]
    now = _now(request)
    try:
        call.token = docking.authenticate(settings, _authorization(request), now)
        if unknown := sorted(set(request.query_params) - set(known)):
            raise DockingError(400, "docking.bad_request", f"不认识的参数：{'、'.join(unknown)[:200]}"
                               f"（可用：{'、'.join(known) or '无'}）")  # fmt: skip
        answer = work(settings, call.token, call, now)
        if request.method == HttpMethod.HEAD:
            return _head(request, settings, answer, call)
        body = None if answer.chunks is None else _streamed(request, settings, answer, call)  # may be 429
    except DockingError as exc:  # recorded here, in the worker thread, before the refusal goes out
        record_refusal(settings, call, exc.status, exc.problem.code, presented_authorization(request))
        request.scope[RECORDED] = True  # type: ignore[literal-required]
        raise
    if body is None:
        call.bytes = len(answer.body or b"")
        docking.record_call(settings, call)
        return Response(answer.body, media_type=answer.media_type, headers=answer.headers)
    return Stream(body, media_type=answer.media_type, headers=answer.headers)


def _authorization(request: Request) -> str | None:
    """The one Authorization header. Two are refused (400, as RFC 6750 §3.1 has it), not resolved: a proxy that
    adds its own header in front of the consumer's would otherwise decide, unseen, which token the call runs as."""
    found = request.headers.getall("authorization", [])
    if len(found) > 1:
        raise DockingError(400, "docking.bad_request", f"请求带有 {len(found)} 个 Authorization 请求头：只能带一个，"
                           "即 Authorization: Bearer <令牌>（请检查对接系统或代理服务器是否另加了一个）")  # fmt: skip
    return found[0] if found else None


def _head(request: Request, settings: Settings, answer: Answer, call: Call) -> Response:
    """HEAD: GET's status and headers without its body, recorded as a call that sent no rows. A page was made as GET
    makes it (its X-Next-Cursor and length are in the headers); a whole-table download is never started — its
    DuckDB is opened by the first chunk — so HEAD costs it no more than the scope check, and, as for GET, no length."""
    call.rows = 0
    docking.record_call(settings, call)
    if answer.chunks is not None:
        answer.chunks.close()
        return Response(b"", media_type=answer.media_type, headers=answer.headers)
    return reply(request, answer.body or b"", media_type=answer.media_type, headers=answer.headers)


class Streams:
    """Whole-table downloads running per token in this process (each holds a DuckDB connection and its memory)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._running: dict[str, int] = {}

    def enter(self, token_id: str, most: int) -> Callable[[], None]:
        """Take a slot (429 when the token has `most` running); returns its release, safe to call more than once."""
        with self._lock:
            if self._running.get(token_id, 0) >= most:
                raise DockingError(
                    429,
                    "docking.too_many_streams",
                    f"同一令牌同时进行的整表下载不能超过 {most} 个，请等前面的下载完成",
                )
            self._running[token_id] = self._running.get(token_id, 0) + 1
        released = threading.Event()

        def release() -> None:
            with self._lock:
                if not released.is_set():
                    released.set()
                    self._running[token_id] -= 1

        return release

    def running(self, token_id: str) -> int:
        with self._lock:
            return self._running.get(token_id, 0)


def _streamed(request: Request, settings: Settings, answer: Answer, call: Call) -> AsyncIterator[bytes]:
    """The answer's chunks, read in a worker thread one at a time; however the stream ends (done, client gone, an
    error midway — then the connection is cut, so a truncated body is never taken for a whole one), the DuckDB
    connection is closed, the slot released and the call recorded."""
    assert answer.chunks is not None and call.token is not None
    chunks = answer.chunks
    release = request.app.state["api_streams"].enter(call.token.id, _config(request).streams_per_token)

    async def body() -> AsyncIterator[bytes]:
        finished = False
        try:
            while (chunk := await anyio.to_thread.run_sync(next, chunks, None)) is not None:
                yield chunk
                call.bytes += len(chunk)
            finished = True
        except Exception as exc:
            call.failed(504 if isinstance(exc, QueryTimeout) else 500, "docking.timeout" if isinstance(exc, QueryTimeout)
                        else "docking.failed")  # fmt: skip
            raise
        finally:
            call.complete = finished
            with anyio.CancelScope(shield=True):  # a client that went away still gets its call recorded
                await anyio.to_thread.run_sync(_end, chunks, settings, call, release)

    stream = body()
    weakref.finalize(stream, release)  # a stream dropped before its first chunk gives its slot back too
    return stream


def _end(chunks: Any, settings: Settings, call: Call, release: Callable[[], None]) -> None:
    try:
        chunks.close()
    finally:
        release()
        docking.record_call(settings, call)


def _today(now: dt.datetime) -> dt.date:
    return now.astimezone(BEIJING).date()


@route("/resources", http_method=GET_HEAD, operation_id=_operation_id("ApiV1ResourcesListResources"),
       sync_to_thread=True, summary="本部门可访问的资源",
       description="本部门自有资源、普遍共享的基础资源和生效中的共享授权：信息项、记录范围、授权编号、到期日、当前快照编号。",
       responses={200: ResponseSpec(ResourceList, generate_examples=False, description="可访问的资源"), **_errors(401, 403, 429)})  # fmt: skip
def list_resources(request: Request) -> Response[ResourceList]:
    def work(settings: Settings, token: ApiToken, call: Call, now: dt.datetime) -> Answer:
        from govhub.warehouse.wire import json_bytes

        # no data is read: the call uses no grant
        listing = docking.reachable(settings, catalog_of(settings), token, _today(now))
        return Answer("application/json", {}, body=json_bytes(listing))

    return _serve(request, work)


def _resource_call(
    request: Request, ask: Ask, answer: Callable[..., Answer], known: tuple[str, ...]
) -> Response:
    def work(settings: Settings, token: ApiToken, call: Call, now: dt.datetime) -> Answer:
        return answer(settings, catalog_of(settings), token, ask, call, now=now, today=_today(now),
                      limits=_config(request).limits)  # fmt: skip

    return _serve(request, work, known)


RESOURCE = "/resources/{agency:str}/{resource:str}"


@route(f"{RESOURCE}/rows", http_method=GET_HEAD, operation_id=_operation_id("ApiV1ResourcesAgencyRowsResourceRows"),
       sync_to_thread=True, summary="按授权读取资源记录",
       description="按主键顺序分页（cursor 固定在第一页的快照上，翻页期间发布新快照也不会混读）；"
                   "format=csv 或 parquet 且不带 limit 时流式返回整张表（快照的存储顺序）。只含授予的信息项和记录；"
                   "某信息项只对部分记录授权时（几项授权范围不同），其余记录的该项为 null（未授权，不是空值）。"
                   "未授予主键时，每条记录首列 _row 为本部门专用的记录标识（主键的加密摘要，各次读取和变化中一致）。",
       responses={200: ResponseSpec(RowsPage, generate_examples=False, description="一页记录（csv/parquet 见响应头 X-Next-Cursor）"),
                  **_errors(400, 401, 403, 404, 409, 410, 429, 504)})  # fmt: skip
def resource_rows(
    request: Request, agency: str, resource: str, format: FormatParam = "json", limit: LimitParam = None,
    cursor: CursorParam = None,
) -> Response[RowsPage]:  # fmt: skip
    ask = Ask(agency, resource, format, limit, cursor)
    return _resource_call(request, ask, docking.rows, ("format", "limit", "cursor"))


@route(f"{RESOURCE}/changes", http_method=GET_HEAD,
       operation_id=_operation_id("ApiV1ResourcesAgencyChangesResourceChanges"), sync_to_thread=True,
       summary="某快照之后的变化",
       description="since 快照之后到当前快照的新增、修改、删除（_change 列），只含授予的信息项和记录："
                   "移出授权范围的记录为删除，移入的为新增。",
       responses={200: ResponseSpec(ChangesPage, generate_examples=False, description="一页变化"),
                  **_errors(400, 401, 403, 404, 409, 410, 429, 504)})  # fmt: skip
def resource_changes(
    request: Request, agency: str, resource: str,
    since: Annotated[str | None, Parameter(max_length=SINCE_MAX, description="上次读取返回的 changes_since（快照编号及读取时的授权范围；"
                                             "授权范围已变化时答 409 docking.scope_changed），或一个快照编号")] = None,
    format: FormatParam = "json", limit: LimitParam = None, cursor: CursorParam = None,
) -> Response[ChangesPage]:  # fmt: skip
    ask = Ask(agency, resource, format, limit, cursor, since)
    return _resource_call(request, ask, docking.changes, ("since", "format", "limit", "cursor"))


@route(
    "/openapi.json", http_method=GET_HEAD, sync_to_thread=False, include_in_schema=False, opt=auth.public()
)
def openapi_document(request: Request) -> Response[dict[str, Any]]:
    import msgspec

    from govhub.portal.api.openapi import document

    return reply(request, msgspec.json.encode(document()), media_type="application/json")


def _per_token(request: Request) -> str:
    import hashlib

    presented = request.headers.get("authorization", "")
    return "token:" + hashlib.sha256(presented.encode()).hexdigest()[:32] if presented else "none"


def _per_address(request: Request) -> str:
    return "address:" + (request.client.host if request.client else "unknown")


def api_router(config: ApiConfig) -> Router:
    """The API as a router for `/api/v1` (the portal's app mounts it; the OpenAPI document is built from it too)."""
    token_limit = RateLimitConfig(rate_limit=("minute", config.per_token_per_minute), identifier_for_request=_per_token,
                                  store="api_rate_token", exclude=[f"{API_PATH}/openapi.json"])  # fmt: skip
    address_limit = RateLimitConfig(rate_limit=("minute", config.per_address_per_minute),
                                    identifier_for_request=_per_address, store="api_rate_address")  # fmt: skip
    return Router(
        path=API_PATH,
        route_handlers=[list_resources, resource_rows, resource_changes, openapi_document],
        middleware=[address_limit.middleware, token_limit.middleware],
        exception_handlers={Exception: api_error},
        opt=auth.bearer_token(),
        request_max_body_size=64 << 10,  # every call is a GET: no body worth the name
        security=[{"bearerAuth": []}],
        tags=[TAG],
    )
