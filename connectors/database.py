"""Pull a resource from an agency's database (§11 interface exchange) over any SQLAlchemy URL.

The catalog's fields are selected by name from a table (reflected) or a query, streamed with a server-side cursor in
chunks of `chunk_size` rows, landed chunk by chunk as Parquet, and typed to the catalog with `coerce_table`.

Incremental pulls follow an update column: the next pull asks for rows with `cursor_column > last value − overlap_s`.
The overlap window catches rows whose transaction committed after the previous pull with an older timestamp; the rows
read twice are harmless because the warehouse upserts by primary key.
"""

from __future__ import annotations

import datetime as dt
import decimal
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import sqlalchemy as sa
from sqlalchemy.engine import URL, make_url

from govhub.catalog.arrow import arrow_schema, row_numbers
from govhub.catalog.model import DatabaseDelivery, FieldType, Resource, expand_env
from govhub.config import Settings
from govhub.connectors.base import Extract, RawSink
from govhub.connectors.coerce import coerce_table
from govhub.connectors.secrets import redact
from govhub.problems import GovhubError, Problem

CURSOR_LABEL = "__cursor__"  # the update column, when it is not itself a catalog field
_PLAIN = (
    pa.types.is_string,
    pa.types.is_integer,
    pa.types.is_floating,
    pa.types.is_boolean,
    pa.types.is_temporal,
)


def safe_db_url(url: URL) -> str:
    """The URL for people and logs: the password replaced by ***."""
    return url.render_as_string(hide_password=True)


def read_database(
    settings: Settings, resource: Resource, *, since: dict[str, Any] | None = None, sink: RawSink
) -> Extract:
    """Pull `resource` from its database; the source is checked now, rows are streamed as the Extract is iterated.

    `since` is the previous pull's `Extract.cursor` (`{"cursor_column", "value", "pk"}`): only rows updated after
    `value − overlap_s` are read. `Extract.cursor` holds the new mark once every chunk has been read.
    """
    db = resource.delivery.database
    if db is None:
        raise GovhubError(
            Problem("db.not_configured", f"资源“{resource.name}”未在目录中登记数据库（delivery.database）")
        )
    url = _url(settings, db)
    engine = _engine(url)
    try:
        plan = _plan(engine, url, resource, db, since)
    except BaseException:
        engine.dispose()
        raise
    extract = Extract(batches=iter(()), mode="incremental" if plan.bound is not None else "full")
    extract.source = f"{safe_db_url(url)} {db.table or '(query)'}"
    if plan.extra_columns:
        extract.problems.append(
            Problem(
                "db.extra_column",
                f"数据源中有目录未登记的列：{'、'.join(plan.extra_columns)}；这些列未汇聚，请在2个工作日内更新资源目录",
                value="、".join(plan.extra_columns),
                expected="数据源的列与目录信息项一致",
                blocking=False,
            )
        )
    extract.batches = _stream(engine, url, resource, db, plan, sink, extract, since)
    return extract


# -- connecting ------------------------------------------------------------------------------------------------
def _url(settings: Settings, db: DatabaseDelivery) -> URL:
    try:
        raw = expand_env(db.url, settings.variables)
    except KeyError as exc:
        raise GovhubError(Problem("db.bad_url", f"数据库地址无法展开：{exc.args[0]}")) from None
    try:
        url = make_url(raw)
    except sa.exc.ArgumentError:
        raise GovhubError(
            Problem(
                "db.bad_url", "数据库地址格式错误，应为SQLAlchemy地址，如 postgresql://用户@主机:端口/库名"
            )
        ) from None
    sqlite_file = url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:")
    if sqlite_file and not url.database.startswith("file:") and not Path(url.database).is_file():
        raise GovhubError(Problem("db.connection", f"数据库文件不存在：{url.database}"))
    return url


def _engine(url: URL) -> sa.Engine:
    try:
        return sa.create_engine(url)
    except (sa.exc.NoSuchModuleError, sa.exc.ArgumentError, ImportError) as exc:
        raise GovhubError(
            Problem(
                "db.bad_url",
                f"不支持的数据库类型或驱动：{url.drivername}（{redact(str(exc), url.password)}）",
                value=safe_db_url(url),
            )
        ) from None


def _db_error(exc: Exception, url: URL, what: str) -> GovhubError:
    """A database failure in words, without the password; connection failures may pass and are retryable."""
    detail = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0][:300]
    detail = redact(detail, url.password)
    if isinstance(exc, sa.exc.OperationalError) and what == "connect":
        return GovhubError(
            Problem("db.connection", f"无法连接数据库 {safe_db_url(url)}：{detail}", value=safe_db_url(url)),
            retryable=True,
        )
    code = "db.query_failed" if what == "query" else "db.read_failed"
    return GovhubError(
        Problem(code, f"读取数据库 {safe_db_url(url)} 失败：{detail}"),
        retryable=isinstance(exc, sa.exc.OperationalError),
    )


# -- what to select ----------------------------------------------------------------------------------------
@dataclass
class _Plan:
    statement: sa.Select
    cursor_label: str | None  # column holding the update value in each chunk
    bound: Any  # rows after this value are read (None: full pull)
    extra_columns: list[str]  # source columns the catalog does not list: the catalog may be out of date (§10)


def _plan(
    engine: sa.Engine, url: URL, resource: Resource, db: DatabaseDelivery, since: dict[str, Any] | None
) -> _Plan:
    try:
        with engine.connect() as conn:
            source = _source(conn, url, db)
    except sa.exc.OperationalError as exc:
        raise _db_error(exc, url, "connect") from None
    except sa.exc.DBAPIError as exc:
        raise _db_error(exc, url, "query") from None
    columns = _match_columns(source, resource, db)
    selected = [columns[f.name].label(f.name) for f in resource.fields]
    cursor_label = None
    if db.cursor_column:
        cursor_col = columns[db.cursor_column]
        cursor_label = db.cursor_column if db.cursor_column in resource.field_names else CURSOR_LABEL
        if cursor_label == CURSOR_LABEL:
            selected.append(cursor_col.label(CURSOR_LABEL))
    statement = sa.select(*selected)
    bound = _bound(since, db, columns.get(db.cursor_column) if db.cursor_column else None)
    if bound is not None:
        statement = statement.where(columns[db.cursor_column] > bound)
    if db.cursor_column:  # a stable order, so the mark is the last row read
        statement = statement.order_by(columns[db.cursor_column], *[columns[k] for k in resource.primary_key])
    known = {n.lower() for n in [*resource.field_names, db.cursor_column or ""]}
    extra = [c.name for c in source.columns if c.name.lower() not in known]
    return _Plan(statement, cursor_label, bound, extra)


def _source(conn: sa.Connection, url: URL, db: DatabaseDelivery) -> sa.FromClause:
    if db.table:
        try:
            return sa.Table(db.table, sa.MetaData(), schema=db.schema_name, autoload_with=conn)
        except sa.exc.NoSuchTableError:
            where = f"{db.schema_name}.{db.table}" if db.schema_name else db.table
            raise GovhubError(
                Problem("db.missing_table", f"数据库 {safe_db_url(url)} 中没有表“{where}”", value=where)
            ) from None
    if not db.query:
        raise GovhubError(Problem("db.not_configured", "数据库交换需在目录中登记 table 或 query"))
    query = db.query.strip().rstrip(";")
    names = list(conn.execute(sa.text(f"SELECT * FROM ({query}) AS govhub_probe WHERE 1 = 0")).keys())
    return sa.text(query).columns(*[sa.column(n) for n in names]).subquery("govhub_src")


def _match_columns(
    source: sa.FromClause, resource: Resource, db: DatabaseDelivery
) -> dict[str, sa.ColumnElement]:
    """Catalog field (and update column) → source column, by name, ignoring case as databases do."""
    by_lower = {c.name.lower(): c for c in source.columns}
    wanted = [*resource.field_names, *([db.cursor_column] if db.cursor_column else [])]
    found: dict[str, sa.ColumnElement] = {}
    missing = []
    for name in wanted:
        col = source.columns.get(name) if name in source.columns else by_lower.get(name.lower())
        if col is None:
            missing.append(name)
        else:
            found[name] = col
    if missing:
        where = db.table or "查询结果"
        raise GovhubError(
            [
                Problem(
                    "db.missing_column",
                    f"数据源“{where}”中没有列“{name}”"
                    + (
                        f"（目录信息项“{resource.field(name).label}”）"
                        if name in resource.field_names
                        else "（更新时间列）"
                    ),
                    column=name,
                    field=name if name in resource.field_names else None,
                    expected="与目录信息项同名的列",
                )
                for name in dict.fromkeys(missing)
            ]
        )
    return found


def _bound(since: dict[str, Any] | None, db: DatabaseDelivery, column: sa.ColumnElement | None) -> Any:
    """The lower bound of an incremental pull: the last mark minus the overlap window (None: pull everything)."""
    if (
        not since
        or column is None
        or since.get("cursor_column") != db.cursor_column
        or since.get("value") is None
    ):
        return None
    value = since["value"]
    overlap = dt.timedelta(seconds=db.overlap_s)
    if isinstance(value, str):
        try:
            moment = dt.datetime.fromisoformat(value)
        except ValueError:
            return value  # a text version column: compare as is
        if isinstance(column.type, sa.Date) and not isinstance(column.type, sa.DateTime):
            return (moment - overlap).date()
        return moment - overlap
    if isinstance(value, (int, float)):
        return value - db.overlap_s
    return value


# -- streaming ---------------------------------------------------------------------------------------------
def _stream(
    engine: sa.Engine,
    url: URL,
    resource: Resource,
    db: DatabaseDelivery,
    plan: _Plan,
    sink: RawSink,
    extract: Extract,
    since: dict[str, Any] | None,
) -> Iterator[pa.RecordBatch]:
    schema = arrow_schema(resource, with_row=True)
    rows_read = 0
    mark: tuple[Any, list[Any]] | None = None
    try:
        with engine.connect() as conn:
            try:
                result = conn.execution_options(stream_results=True, yield_per=db.chunk_size).execute(
                    plan.statement
                )
                names = list(result.keys())
                for n, rows in enumerate(result.partitions(), start=1):
                    raw = _chunk_table(names, rows)
                    sink.write(f"chunk-{n:06d}.parquet", _parquet(raw))
                    numbers = row_numbers(rows_read + 1, raw.num_rows)
                    batch, problems = coerce_table(resource, _prepared(resource, raw), numbers)
                    extract.problems.extend(problems)
                    rows_read += raw.num_rows
                    if plan.cursor_label is not None:
                        mark = _last_mark(raw, plan.cursor_label, resource.primary_key) or mark
                    yield pa.RecordBatch.from_arrays(batch.columns, schema=schema)
            except sa.exc.DBAPIError as exc:
                raise _db_error(exc, url, "read") from None
    except sa.exc.OperationalError as exc:  # the connection itself failed
        raise _db_error(exc, url, "connect") from None
    finally:
        engine.dispose()
    if db.cursor_column:
        if mark is None:
            extract.cursor = since if plan.bound is not None else None
        else:
            extract.cursor = {"cursor_column": db.cursor_column, "value": mark[0], "pk": mark[1]}


def _chunk_table(names: list[str], rows: list[sa.Row]) -> pa.Table:
    columns = list(zip(*rows, strict=True)) if rows else [() for _ in names]
    return pa.table({name: _column(list(values)) for name, values in zip(names, columns, strict=True)})


def _column(values: list[Any]) -> pa.Array:
    """Driver values as Arrow; anything Arrow cannot hold plainly (JSON, bytes, UUID, intervals) as text."""
    try:
        arr = pa.array(values)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, OverflowError):
        arr = None
    if arr is None or pa.types.is_time(arr.type) or pa.types.is_duration(arr.type):
        return _texts(values)
    if pa.types.is_null(arr.type) or pa.types.is_decimal(arr.type) or any(t(arr.type) for t in _PLAIN):
        return arr
    return _texts(values)


def _texts(values: list[Any]) -> pa.Array:
    return pa.array(
        [
            None if v is None else (v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v))
            for v in values
        ],
        pa.string(),
    )


def _prepared(resource: Resource, raw: pa.Table) -> pa.Table:
    """Database types the coercion reads directly: decimals as floats, zoned times as local wall-clock times."""
    for f in resource.fields:
        values = raw.column(f.name)
        if pa.types.is_decimal(values.type) and f.type is FieldType.NUMBER:
            values = pc.cast(values, pa.float64())
        elif pa.types.is_timestamp(values.type) and values.type.tz is not None:
            values = pc.local_timestamp(values)
        else:
            continue
        raw = raw.set_column(raw.schema.get_field_index(f.name), f.name, values)
    return raw


def _parquet(table: pa.Table) -> bytes:
    out = io.BytesIO()
    pq.write_table(table, out, compression="zstd")
    return out.getvalue()


def _last_mark(raw: pa.Table, cursor_label: str, primary_key: list[str]) -> tuple[Any, list[Any]] | None:
    """(update value, primary key) of the chunk's last row with an update value: rows come ordered by both."""
    valid = pc.indices_nonzero(pc.is_valid(raw.column(cursor_label)))
    if len(valid) == 0:
        return None
    last = valid[-1].as_py()
    top = pc.max(raw.column(cursor_label)).as_py()
    return _json_safe(top), [_json_safe(raw.column(k)[last].as_py()) for k in primary_key]


def _json_safe(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value
