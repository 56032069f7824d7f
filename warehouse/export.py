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
    table = neutralised(result.table) if neutralise else result.table

    def write(f: io.BufferedWriter) -> None:
        f.write("\ufeff".encode())
        if table.num_columns:
            pcsv.write_csv(table, f)

    _atomic_write(path, write)
    _atomic_write(sidecar_path(path), lambda f: f.write(_dumps(meta).encode()))
    return path


def write_json(result: QueryResult, path: Path, provenance: dict[str, Any]) -> Path:
    """One document: `provenance`, `columns` (name and type) and `rows` (objects)."""
    doc = {
        "provenance": provenance_of(result, provenance),
        "columns": [{"name": f.name, "type": str(f.type)} for f in result.table.schema],
        "rows": result.table.to_pylist(),
    }
    return _atomic_write(path, lambda f: f.write(_dumps(doc).encode()))


def write_parquet(result: QueryResult, path: Path, provenance: dict[str, Any]) -> Path:
    meta = {**(result.table.schema.metadata or {}), PROVENANCE_KEY: _dumps(provenance_of(result, provenance))}
    table = result.table.replace_schema_metadata(meta)
    return _atomic_write(path, lambda f: pq.write_table(table, f, compression="zstd"))


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
    for row in shown.to_pylist():
        table.add_row(*("" if v is None else str(v) for v in row.values()))
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
