"""The demo agencies' source systems on disk: Parquet behind the paged API, SQLite databases, fill-in sheets.

Every writer is deterministic (no timestamps, fixed file metadata), so the same data gives byte-identical files.
"""

from __future__ import annotations

import csv
import datetime as dt
import sqlite3
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from govhub.catalog.model import FieldType, Resource

_FIXED_CREATED = dt.datetime(2016, 9, 1)  # the Measures' year; keeps workbook metadata reproducible
_SQL_TYPES = {
    FieldType.STRING: "TEXT",
    FieldType.INTEGER: "INTEGER",
    FieldType.NUMBER: "REAL",
    FieldType.BOOLEAN: "BOOLEAN",
    FieldType.DATE: "DATE",
    FieldType.DATETIME: "DATETIME",
}


def write_parquet(table: pa.Table, path: Path) -> None:
    """The records the paged demo API serves."""
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path, compression="zstd", row_group_size=256_000)


def write_sqlite(path: Path, tables: Iterable[tuple[Resource, pa.Table]]) -> None:
    """One agency's source database: a table per resource (columns named as the fields, primary key, cursor index).

    Dates are stored as ISO text (`2024-01-31`, `2024-01-31 08:30:00`) under DATE/DATETIME column types, as
    SQLAlchemy's SQLite dialect reads them back.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    con = sqlite3.connect(path)
    try:
        for resource, table in tables:
            name = resource.delivery.database.table
            columns = ", ".join(
                f'"{f.name}" {_SQL_TYPES[f.type]}' + (" NOT NULL" if f.required else "")
                for f in resource.fields
            )
            key = ", ".join(f'"{k}"' for k in resource.primary_key)
            con.execute(f'CREATE TABLE "{name}" ({columns}, PRIMARY KEY ({key}))')
            cursor = resource.delivery.database.cursor_column
            if cursor:
                con.execute(f'CREATE INDEX "{name}_{cursor}" ON "{name}" ("{cursor}")')
            marks = ", ".join("?" * len(resource.fields))
            con.executemany(f'INSERT INTO "{name}" VALUES ({marks})', _sql_rows(resource, table))
        con.commit()
    finally:
        con.close()


def _sql_rows(resource: Resource, table: pa.Table) -> Iterator[tuple[Any, ...]]:
    columns = [_as_text_dates(table.column(f.name), f.type) for f in resource.fields]
    for batch in pa.table(columns, names=resource.field_names).to_batches(50_000):
        yield from zip(*(col.to_pylist() for col in batch.columns), strict=True)


def _as_text_dates(column: pa.ChunkedArray, kind: FieldType) -> pa.ChunkedArray:
    if kind is FieldType.DATE:
        return pc.strftime(column, format="%Y-%m-%d")
    if kind is FieldType.DATETIME:
        return pc.strftime(column, format="%Y-%m-%d %H:%M:%S")
    return column


def sheet_cells(resource: Resource, table: pa.Table) -> list[list[Any]]:
    """Columns as Python values the way an agency fills a sheet: dates as dates, booleans as 是/否."""
    out = []
    for f in resource.fields:
        values = table.column(f.name).to_pylist()
        if f.type is FieldType.BOOLEAN:
            values = [None if v is None else ("是" if v else "否") for v in values]
        out.append(values)
    return out


def write_xlsx(resource: Resource, headers: list[str], columns: list[list[Any]], path: Path) -> None:
    """A fill-in workbook: Chinese labels as headers, identifiers and codes as TEXT cells (18 digits survive)."""
    import xlsxwriter  # only the sheet writers need it

    path.parent.mkdir(parents=True, exist_ok=True)
    workbook = xlsxwriter.Workbook(str(path), {"constant_memory": True, "strings_to_numbers": False})
    workbook.set_properties({"created": _FIXED_CREATED, "author": resource.agency, "title": resource.name})
    text = workbook.add_format({"num_format": "@"})
    date = workbook.add_format({"num_format": "yyyy-mm-dd"})
    stamp = workbook.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
    bold = workbook.add_format({"bold": True})
    sheet = workbook.add_worksheet(
        resource.delivery.sheet.sheet_name
        if resource.delivery.sheet and resource.delivery.sheet.sheet_name
        else resource.name[:31]
    )
    for c, header in enumerate(headers):
        sheet.write_string(0, c, header, bold)
        sheet.set_column(c, c, max(10, 2 * len(header) + 2), text if _is_text(columns[c]) else None)
    for r, row in enumerate(zip(*columns, strict=True), start=1):
        for c, value in enumerate(row):
            if value is None:
                continue
            if isinstance(value, str):
                sheet.write_string(r, c, value, text)
            elif isinstance(value, dt.datetime):
                sheet.write_datetime(r, c, value, stamp)
            elif isinstance(value, dt.date):
                sheet.write_datetime(r, c, dt.datetime.combine(value, dt.time()), date)
            else:
                sheet.write_number(r, c, value)
    workbook.close()


def _is_text(values: list[Any]) -> bool:
    return any(isinstance(v, str) for v in values[:50])


def write_csv(headers: list[str], columns: list[list[Any]], path: Path, *, encoding: str = "gb18030") -> None:
    """A CSV the way agencies' office software saves it: Chinese headers, GB18030 unless told otherwise."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding=encoding, newline="") as out:
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(headers)
        for row in zip(*columns, strict=True):
            writer.writerow([_csv_text(v) for v in row])


def _csv_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float):
        return f"{value:.10g}"
    return str(value)
