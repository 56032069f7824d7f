"""A query's rows as a terminal table, CSV, JSON or Parquet — each carrying where they came from.

The provenance (who asked, under which grants, for what purpose, when — whatever the caller passes) travels with the
data: Parquet key-value metadata `govhub.provenance`, a key of the JSON document, a sidecar `<file>.meta.json` beside
a CSV (the CSV itself stays plain: no comment lines for spreadsheet programs to trip on). A truncated result says so
in all of them.
"""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import io
import json
import os
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.parquet as pq

from govhub.problems import GovhubError, Problem
from govhub.warehouse.sandbox import QueryResult

PROVENANCE_KEY = b"govhub.provenance"
FORMATS = ("table", "csv", "json", "parquet")


def provenance_of(result: QueryResult, provenance: dict[str, Any]) -> dict[str, Any]:
    """The caller's provenance plus what the result itself knows (rows, truncation, export time)."""
    return {
        **provenance,
        "rows": result.rows,
        "truncated": result.truncated,
        "row_cap": result.max_rows,
        "exported_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }


def _json_value(value: Any) -> Any:
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    return str(value)


def _dumps(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, default=_json_value, indent=1)


def _atomic_write(path: Path, write: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    try:
        with open(partial, "wb") as f:
            write(f)
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    return path


def sidecar_path(path: Path) -> Path:
    return path.with_name(path.name + ".meta.json")


def _has(t: pa.DataType, test: Any) -> bool:
    """Whether the type, or any type nested in it, passes `test`."""
    return test(t) or any(_has(t.field(i).type, test) for i in range(t.num_fields))


def _nested(t: pa.DataType) -> bool:
    return pa.types.is_nested(t) or pa.types.is_union(t)


def interval_text(value: Any) -> str:
    """An interval (`MonthDayNano`) as DuckDB writes one, which DuckDB reads back: "1 year 2 months 3 days 12:00:00"."""
    months, days, nanos = value.months, value.days, value.nanoseconds
    parts = []
    for amount, unit in (
        (int(months / 12), "year"),
        (months - int(months / 12) * 12, "month"),
        (days, "day"),
    ):
        if amount:
            parts.append(f"{amount} {unit}{'' if abs(amount) == 1 else 's'}")
    if nanos or not parts:
        parts.append(clock_text(nanos))
    return " ".join(parts)


def clock_text(nanos: int) -> str:
    """Nanoseconds as [-]HH:MM:SS[.ffffff] (hours past 24 kept, as DuckDB does)."""
    sign, nanos = ("-" if nanos < 0 else ""), abs(nanos)
    micros = nanos // 1000
    seconds, micros = divmod(micros, 1_000_000)
    minutes, seconds = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    return f"{sign}{hours:02d}:{minutes:02d}:{seconds:02d}" + (f".{micros:06d}" if micros else "")


def hex_text(value: bytes) -> str:
    r"""Bytes as `\x78\x79`: DuckDB's escapes for bytes, used for every byte (bytes need not be text)."""
    return "".join(f"\\x{b:02x}" for b in value)


def plain_value(value: Any, t: pa.DataType, *, zone: Any = None) -> Any:
    """A cell as a plain JSON-able value by its Arrow type: maps as objects, intervals as text, bytes as hex,
    moments with a zone as ISO text (in `zone` when given). Nested values are walked by their own types."""
    if value is None:
        return None
    if pa.types.is_map(t):
        return {_key(k, t.key_type): plain_value(v, t.item_type, zone=zone) for k, v in value}
    if pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_fixed_size_list(t):
        return [plain_value(v, t.value_type, zone=zone) for v in value]
    if pa.types.is_struct(t):
        return {f.name: plain_value(value.get(f.name), f.type, zone=zone) for f in t}
    if pa.types.is_union(t) or (pa.types.is_null(t) and isinstance(value, list | dict)):  # walked by kind
        if isinstance(value, list):
            return [plain_value(v, pa.null(), zone=zone) for v in value]
        if isinstance(value, dict):
            return {str(k): plain_value(v, pa.null(), zone=zone) for k, v in value.items()}
    if isinstance(value, pa.MonthDayNano) or pa.types.is_interval(t):
        return interval_text(value)
    if isinstance(value, bytes):
        return hex_text(value)
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        return (value.astimezone(zone) if zone is not None else value).isoformat(sep=" ")
    if isinstance(value, dt.date | dt.time | dt.timedelta | decimal.Decimal):
        return _json_value(value)
    return value


def _key(key: Any, t: pa.DataType) -> str:
    value = plain_value(key, t)
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=_json_value)


def json_text(value: Any, t: pa.DataType, *, zone: Any = None) -> str | None:
    """A nested cell as JSON text (Chinese kept as is, null for missing values); None stays None."""
    if value is None:
        return None
    return json.dumps(plain_value(value, t, zone=zone), ensure_ascii=False, default=_json_value)


def _as_text(column: pa.ChunkedArray, to_text: Any) -> pa.Array:
    return pa.array([None if v is None else to_text(v) for v in column.to_pylist()], pa.string())


def csv_ready(table: pa.Table) -> pa.Table:
    """The table with what the CSV writer cannot write made text: nested values (lists, structs, maps, unions)
    as JSON, intervals as DuckDB's interval text, bytes as hex escapes (`hex_text`: they need not be UTF-8)."""
    columns = []
    for column in table.columns:
        t = column.type
        if _nested(t):
            column = _as_text(column, lambda v, t=t: json_text(v, t))
        elif pa.types.is_interval(t):
            column = _as_text(column, interval_text)
        elif pa.types.is_binary(t) or pa.types.is_large_binary(t) or pa.types.is_fixed_size_binary(t):
            column = _as_text(column, hex_text)
        columns.append(column)
    return pa.table(columns, names=table.column_names)


def parquet_ready(table: pa.Table) -> pa.Table:
    """The table with what Parquet has no type for made text: intervals as DuckDB's interval text, and values
    with intervals or unions inside them as JSON. The rest keeps its types."""
    columns = []
    for column in table.columns:
        t = column.type
        if pa.types.is_interval(t):
            column = _as_text(column, interval_text)
        elif _has(t, lambda x: pa.types.is_interval(x) or pa.types.is_union(x)):
            column = _as_text(column, lambda v, t=t: json_text(v, t))
        columns.append(column)
    return pa.table(columns, names=table.column_names).replace_schema_metadata(table.schema.metadata)


def _unwritable(fmt: str, exc: Exception) -> GovhubError:
    """A type the writer still refuses: said to the analyst (the page shows it), never a traceback."""
    message = f"查询结果中有无法写入{fmt}文件的数据类型，请在查询中用 CAST(… AS VARCHAR) 转为文本后再下载"
    return GovhubError(Problem("sandbox.types", message, value=str(exc)[:200]))


def neutralised(table: pa.Table) -> pa.Table:
    """The table with every text cell that a spreadsheet would run as a formula made text (`reports.csv_cell`):
    for CSV handed to people (the portal's downloads). Numbers, dates and the like cannot carry a formula."""
    from govhub.warehouse.reports import csv_cell

    columns = []
    for column in table.columns:
        if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
            column = pa.array([None if v is None else csv_cell(v) for v in column.to_pylist()], pa.string())
        columns.append(column)
    return pa.table(columns, names=table.column_names)


def write_csv(
    result: QueryResult, path: Path, provenance: dict[str, Any], *, neutralise: bool = False
) -> Path:
    """UTF-8 with a byte-order mark (so spreadsheet programs read the Chinese), plus `<file>.meta.json`;
    `neutralise`: formula-like text cells made text (`neutralised`)."""
    meta = provenance_of(result, provenance)
    table = csv_ready(result.table)
    table = neutralised(table) if neutralise else table

    def write(f: io.BufferedWriter) -> None:
        f.write("\ufeff".encode())
        if table.num_columns:
            pcsv.write_csv(table, f)

    try:
        _atomic_write(path, write)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError) as exc:
        raise _unwritable("CSV", exc) from exc
    _atomic_write(sidecar_path(path), lambda f: f.write(_dumps(meta).encode()))
    return path


def row_keys(names: list[str]) -> list[str]:
    """Each column's key in a row object: its name, or — for a name an earlier column has (`SELECT a.id, b.id`) —
    the name with `_1`, `_2`… as DuckDB names such columns of a table, so no value is lost to a repeated key."""
    keys: list[str] = []
    taken = set(names)
    for name in names:
        key, n = name, 0
        while key in keys or (key != name and key in taken):
            n += 1
            key = f"{name}_{n}"
        keys.append(key)
    return keys


def row_objects(table: pa.Table) -> list[dict[str, Any]]:
    """The rows as objects keyed by `row_keys` (read by position: names may repeat)."""
    keys, columns = row_keys(table.column_names), [c.to_pylist() for c in table.columns]
    return [dict(zip(keys, values, strict=True)) for values in zip(*columns, strict=True)]


def write_json(result: QueryResult, path: Path, provenance: dict[str, Any]) -> Path:
    """One document: `provenance`, `columns` (name, its key in the rows, type) and `rows` (objects)."""
    keys = row_keys(result.table.column_names)
    doc = {
        "provenance": provenance_of(result, provenance),
        "columns": [
            {"name": f.name, "key": k, "type": str(f.type)}
            for f, k in zip(result.table.schema, keys, strict=True)
        ],
        "rows": row_objects(result.table),
    }
    return _atomic_write(path, lambda f: f.write(_dumps(doc).encode()))


def write_parquet(result: QueryResult, path: Path, provenance: dict[str, Any]) -> Path:
    meta = {**(result.table.schema.metadata or {}), PROVENANCE_KEY: _dumps(provenance_of(result, provenance))}
    table = parquet_ready(result.table).replace_schema_metadata(meta)
    try:
        return _atomic_write(path, lambda f: pq.write_table(table, f, compression="zstd"))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError) as exc:
        raise _unwritable("Parquet", exc) from exc


def read_provenance(path: Path) -> dict[str, Any]:
    """The provenance written with an export of any format."""
    if path.suffix == ".parquet":
        return json.loads(pq.read_schema(path).metadata[PROVENANCE_KEY])
    if path.suffix == ".json":
        return json.loads(path.read_text(encoding="utf-8"))["provenance"]
    return json.loads(sidecar_path(path).read_text(encoding="utf-8"))


def format_table(result: QueryResult, *, width: int = 160, max_rows: int = 50) -> str:
    """The rows as a text table for a terminal (Chinese characters count double), with a line on truncation."""
    from rich.console import Console
    from rich.table import Table

    shown = result.table.slice(0, max_rows)
    table = Table(*shown.column_names, show_lines=False)
    columns = [column.to_pylist() for column in shown.columns]  # by position: names may repeat
    for i in range(shown.num_rows):
        table.add_row(*("" if c[i] is None else str(c[i]) for c in columns))
    out = io.StringIO()
    Console(file=out, width=width, color_system=None, legacy_windows=False).print(table)
    notes = []
    if result.rows > shown.num_rows:
        notes.append(f"（仅显示前 {shown.num_rows} 行，共 {result.rows} 行）")
    if result.truncated:
        notes.append(f"（结果已截断：超过 {result.max_rows} 行的部分未返回）")
    return out.getvalue() + "".join(n + "\n" for n in notes)


def write_result(
    result: QueryResult, path: Path | None, fmt: str, provenance: dict[str, Any], *, neutralise: bool = False
) -> Path | str:
    """Dispatch on the format: `table` returns text, the others write `path` and return it."""
    if fmt == "table":
        return format_table(result)
    if path is None:
        raise ValueError(f"format {fmt} needs a file")
    writers = {"csv": write_csv, "json": write_json, "parquet": write_parquet}
    if fmt not in writers:
        raise ValueError(f"unknown format {fmt!r} (known: {', '.join(FORMATS)})")
    if fmt == "csv":
        return write_csv(result, path, provenance, neutralise=neutralise)
    return writers[fmt](result, path, provenance)
