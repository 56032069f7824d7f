"""A paged JSON API like the ones agencies expose, for the demo district and for the API connector's tests.

Datasets are Arrow tables served at a path (`/api/<agency>/<resource>`) by page number, offset or opaque cursor, as
`{"data": [...], "total": n, "page": p, "next_cursor": "..." | null}` behind a bearer token. A page is encoded by
DuckDB straight from a zero-copy Arrow slice (`to_json(list(row))`), so serving stays far faster than any client.

Tests inject the failures real agency APIs have (`inject(path, kind, times)`): rate limits with `Retry-After`, 5xx,
stalls longer than the client's timeout, truncated JSON, a cursor that never advances, a body of the wrong shape and
dropped connections.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import datetime as dt
import json
import signal
import sys
import threading
import time
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

STYLES = ("page", "offset", "cursor", "any")
FAULT_KINDS = (
    "429",
    "500",
    "503",
    "timeout",
    "malformed_json",
    "loop_cursor",
    "wrong_shape",
    "drop_connection",
    "schema_change",
)
SIZE_PARAMS = ("page_size", "limit", "size", "per_page", "pageSize")
_FILTER_CACHE = 8


@dataclass
class Fault:
    """The next `times` requests to a path (after skipping `after` of them) fail this way."""

    kind: str
    times: int = 1
    after: int = 0
    retry_after: float = 1.0  # seconds, for 429
    delay_s: float = 5.0  # for timeout: how long the server stalls before answering


@dataclass
class ServedRequest:
    """What a client asked for (never its token), so tests can check retries, waits and parameters."""

    path: str
    params: dict[str, str]
    at: float
    status: int = 0


@dataclass
class _Dataset:
    style: str
    max_page_size: int
    updated_field: str | None
    source: Path | None = None
    table: pa.Table | None = None
    _filtered: dict[str, pa.Table] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def rows(self, since: str | None) -> pa.Table:
        """The table, or the rows updated at or after `since` (cached: every page of one pull asks the same)."""
        with self._lock:
            if self.table is None:
                assert self.source is not None
                self.table = pq.read_table(self.source)
            if since is None or self.updated_field is None:
                return self.table
            if since not in self._filtered:
                if len(self._filtered) >= _FILTER_CACHE:
                    self._filtered.pop(next(iter(self._filtered)))
                self._filtered[since] = _updated_since(self.table, self.updated_field, since)
            return self._filtered[since]


class _BadRequest(Exception):
    pass


def _updated_since(table: pa.Table, column: str, since: str) -> pa.Table:
    try:
        moment = dt.datetime.fromisoformat(since.replace("Z", "+00:00")).replace(tzinfo=None)
    except ValueError as exc:
        raise _BadRequest(f"updated_since is not an ISO date/time: {since!r}") from exc
    values = table.column(column)
    if pa.types.is_date(values.type):
        bound = pa.scalar(moment.date(), values.type)
    elif pa.types.is_timestamp(values.type):
        bound = pa.scalar(moment, pa.timestamp("us")).cast(values.type)
    else:
        bound = pa.scalar(since, values.type)
    return table.filter(pc.fill_null(pc.greater_equal(values, bound), False))


def _to_table(records: pa.Table | list[dict[str, Any]] | Path | str) -> pa.Table:
    if isinstance(records, pa.Table):
        return records
    if isinstance(records, (str, Path)):
        return pq.read_table(records)
    return pa.Table.from_pylist(records)


def encode_cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"o:{offset}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        if not text.startswith("o:"):
            raise ValueError(text)
        return int(text[2:])
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise _BadRequest(f"invalid cursor {cursor!r}") from exc


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hangs up (after its timeout, or dropping a page it no longer needs) is not an error."""
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


class PagedApiServer:
    """A threaded HTTP server on 127.0.0.1 serving paged datasets; use as a context manager or start()/stop()."""

    def __init__(self, token: str | None = None, host: str = "127.0.0.1", port: int = 0):
        self.token = token
        self._datasets: dict[str, _Dataset] = {}
        self._faults: dict[str, list[Fault]] = {}
        self._lock = threading.Lock()
        self.requests: list[ServedRequest] = []
        self._local = threading.local()
        self._httpd = _QuietServer((host, port), _handler_for(self))
        self._httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------------------------------
    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> PagedApiServer:
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="paged-api", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def serve_forever(self) -> None:
        self._httpd.serve_forever()

    def __enter__(self) -> PagedApiServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- content ---------------------------------------------------------------------------------------------
    def add_dataset(
        self,
        path: str,
        records: pa.Table | list[dict[str, Any]] | Path | str,
        *,
        style: str = "page",
        max_page_size: int = 1000,
        updated_field: str | None = None,
    ) -> None:
        """Serve `records` at `path`; `style` restricts which paging parameters are honoured ("any": all)."""
        if style not in STYLES:
            raise ValueError(f"style must be one of {STYLES}")
        table = _to_table(records)
        if updated_field is not None and updated_field not in table.column_names:
            raise ValueError(f"no column {updated_field!r} to filter updates on")
        self._datasets[_norm(path)] = _Dataset(style, max_page_size, updated_field, table=table)

    def serve_directory(
        self,
        api_root: Path,
        *,
        style: str = "any",
        max_page_size: int = 1000,
        updated_field: str = "updated_at",
    ) -> list[str]:
        """Mount every `<agency>/<resource>.parquet` under `api_root` at `/api/<agency>/<resource>` (read lazily)."""
        mounted = []
        for file in sorted(Path(api_root).glob("*/*.parquet")):
            path = f"/api/{file.parent.name}/{file.stem}"
            names = pq.read_schema(file).names
            self._datasets[path] = _Dataset(
                style, max_page_size, updated_field if updated_field in names else None, source=file
            )
            mounted.append(path)
        return mounted

    def inject(
        self,
        path: str,
        kind: str,
        times: int = 1,
        *,
        after: int = 0,
        retry_after: float = 1.0,
        delay_s: float = 5.0,
    ) -> None:
        """Make the next `times` requests to `path` (after `after` good ones) fail with `kind` (see FAULT_KINDS)."""
        if kind not in FAULT_KINDS:
            raise ValueError(f"fault kind must be one of {FAULT_KINDS}")
        with self._lock:
            self._faults.setdefault(_norm(path), []).append(Fault(kind, times, after, retry_after, delay_s))

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def requests_to(self, path: str) -> list[ServedRequest]:
        with self._lock:
            return [r for r in self.requests if r.path == _norm(path)]

    # -- request handling (called from handler threads) -------------------------------------------------------
    def _take_fault(self, path: str) -> Fault | None:
        with self._lock:
            for fault in self._faults.get(path, []):
                if fault.after > 0:
                    fault.after -= 1
                    return None
                if fault.times > 0:
                    fault.times -= 1
                    return fault
            return None

    def _record(self, path: str, params: dict[str, str]) -> ServedRequest:
        served = ServedRequest(path, params, time.monotonic())
        with self._lock:
            self.requests.append(served)
        return served

    def _encode_rows(self, rows: pa.Table) -> bytes:
        """The rows as a JSON array, encoded by DuckDB from Arrow (dates and times as ISO text)."""
        if rows.num_rows == 0:
            return b"[]"
        con = getattr(self._local, "duckdb", None)
        if con is None:
            import duckdb

            con = self._local.duckdb = duckdb.connect()
        page_rows = rows  # noqa: F841 — found by DuckDB's replacement scan (cheaper than register/unregister)
        return con.execute("SELECT to_json(list(p)) FROM page_rows p").fetchall()[0][0].encode()

    def _page(self, path: str, params: dict[str, str], fault: Fault | None) -> bytes:
        data = self._datasets[path]
        rows = data.rows(params.get("updated_since"))
        total = rows.num_rows
        size = _int_param(params, SIZE_PARAMS, data.max_page_size)
        size = max(1, min(size, data.max_page_size))
        offset, page = _start(data.style, params, size)
        chunk = rows.slice(offset, size) if offset < total else rows.slice(0, 0)
        if fault is not None and fault.kind == "schema_change":  # the source renamed a field mid-pull
            renamed = chunk.column_names[1]
            chunk = chunk.rename_columns([f"{n}_new" if n == renamed else n for n in chunk.column_names])
        end = offset + chunk.num_rows
        next_cursor = encode_cursor(end) if end < total and data.style in ("cursor", "any") else None
        if fault is not None and fault.kind == "loop_cursor":
            next_cursor = encode_cursor(offset)
        key = "items" if fault is not None and fault.kind == "wrong_shape" else "data"
        tail = {"total": total, "page": page, "page_size": size, "next_cursor": next_cursor}
        return b'{"' + key.encode() + b'":' + self._encode_rows(chunk) + b"," + json.dumps(tail).encode()[1:]


def _norm(path: str) -> str:
    return "/" + path.strip("/")


def _int_param(params: dict[str, str], names: tuple[str, ...], default: int) -> int:
    for name in names:
        if name in params:
            try:
                return int(params[name])
            except ValueError as exc:
                raise _BadRequest(f"{name} must be an integer") from exc
    return default


def _start(style: str, params: dict[str, str], size: int) -> tuple[int, int]:
    """(offset, page number) from whichever paging parameters the dataset's style honours."""
    if style in ("cursor", "any") and params.get("cursor"):
        offset = decode_cursor(params["cursor"])
    elif style in ("offset", "any") and "offset" in params:
        offset = _int_param(params, ("offset",), 0)
    elif style in ("page", "any") and "page" in params:
        offset = (_int_param(params, ("page",), 1) - 1) * size
    else:
        offset = 0
    if offset < 0:
        raise _BadRequest("page/offset out of range")
    return offset, offset // size + 1


def _handler_for(server: PagedApiServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive: a pull reuses one connection
        server_version = "govhub-demo-api"
        # TCP_NODELAY: with Nagle's algorithm a keep-alive response's last segment waits for the client's delayed
        # ACK (≈40 ms per page), capping any client at ≈25 pages/s.
        disable_nagle_algorithm = True

        def log_message(self, format: str, *args: Any) -> None:  # quiet: tests and the demo log elsewhere
            return None

        def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(body)

        def _error(self, status: int, code: str, message: str, headers: dict[str, str] | None = None) -> None:
            body = json.dumps({"error": code, "message": message}, ensure_ascii=False).encode()
            self._send(status, body, headers)

        def do_GET(self) -> None:
            try:
                self._serve()
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True  # the client gave up (e.g. after its timeout)

        def _serve(self) -> None:
            split = urlsplit(self.path)
            path = _norm(split.path)
            params = {k: v[-1] for k, v in parse_qs(split.query).items()}
            served = server._record(path, params)
            if server.token is not None and self.headers.get("Authorization") != f"Bearer {server.token}":
                served.status = 401
                self._error(
                    401, "unauthorized", "missing or invalid bearer token", {"WWW-Authenticate": "Bearer"}
                )
                return
            if path not in server._datasets:
                served.status = 404
                self._error(404, "not_found", f"no dataset at {path}")
                return
            fault = server._take_fault(path)
            if fault is not None and self._fail(fault, served):
                return
            try:
                body = server._page(path, params, fault)
            except _BadRequest as exc:
                served.status = 400
                self._error(400, "bad_request", str(exc))
                return
            if fault is not None and fault.kind == "malformed_json":
                body = body[: max(1, len(body) // 2)]
            served.status = 200
            self._send(200, body)

        def _fail(self, fault: Fault, served: ServedRequest) -> bool:
            """Answer with the fault; False when the fault only alters the page (served afterwards)."""
            kind = fault.kind
            if kind == "429":
                served.status = 429
                self._error(
                    429, "rate_limited", "too many requests", {"Retry-After": f"{fault.retry_after:g}"}
                )
            elif kind in ("500", "503"):
                served.status = int(kind)
                self._error(int(kind), "server_error", HTTPStatus(int(kind)).phrase)
            elif kind == "timeout":
                time.sleep(fault.delay_s)
                return False
            elif kind == "drop_connection":
                served.status = -1
                self.close_connection = True
            else:
                return False
            return True

    return Handler


def main(argv: list[str] | None = None) -> None:
    """Serve every `<agency>/<resource>.parquet` under --root at /api/<agency>/<resource> until stopped."""
    parser = argparse.ArgumentParser(prog="python -m govhub.demo.api_server", description=main.__doc__)
    parser.add_argument("--root", type=Path, required=True, help="folder holding <agency>/<resource>.parquet")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=18765)
    parser.add_argument("--token", default=None, help="bearer token clients must send (none: open)")
    parser.add_argument("--page-size", type=int, default=1000, help="largest page served")
    args = parser.parse_args(argv)
    server = PagedApiServer(args.token, args.host, args.port)
    mounted = server.serve_directory(args.root, max_page_size=args.page_size)
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server._httpd.shutdown).start())
    print(f"serving {len(mounted)} datasets at {server.url}/api/", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server._httpd.server_close()


if __name__ == "__main__":
    main()
