"""Bring delivered Arrow data to the catalog's storage types before it is stored, hashed or compared.

Snapshots, diffs and fingerprints all work on normalised values, so a type-only difference (ms vs µs timestamps,
an integer phone number vs text, '' vs NULL, stray spaces) never looks like a data change.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from govhub.catalog.arrow import ARROW_TYPES, ROW_COLUMN, arrow_schema, row_numbers
from govhub.catalog.model import FieldType, Resource
from govhub.problems import GovhubError, Problem

LOCAL_TZ = "Asia/Shanghai"  # timezone-aware datetimes are stored as Beijing wall-clock time, like the rest

DUCKDB_TYPES: dict[FieldType, str] = {
    FieldType.STRING: "VARCHAR",
    FieldType.INTEGER: "BIGINT",
    FieldType.NUMBER: "DOUBLE",
    FieldType.BOOLEAN: "BOOLEAN",
    FieldType.DATE: "DATE",
    FieldType.DATETIME: "TIMESTAMP",
}


def _strings(arr: pa.Array) -> pa.Array:
    if not pa.types.is_string(arr.type):
        arr = pc.cast(arr, pa.string())
    arr = pc.utf8_trim_whitespace(arr)
    return pc.if_else(pc.equal(arr, ""), pa.scalar(None, pa.string()), arr)


def _timestamps(arr: pa.Array) -> pa.Array:
    if pa.types.is_timestamp(arr.type):
        if arr.type.tz is not None:
            arr = pc.local_timestamp(pc.cast(arr, pa.timestamp(arr.type.unit, tz=LOCAL_TZ)))
        return pc.cast(arr, pa.timestamp("us"), safe=False)  # ns → µs drops sub-µs digits on purpose
    if pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type):
        arr = _strings(arr)
    return pc.cast(arr, pa.timestamp("us"))


def normalise_column(arr: pa.Array, kind: FieldType) -> pa.Array:
    """One column in its catalog storage type; raises pyarrow errors for values that cannot be converted."""
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    if kind is FieldType.STRING:
        return _strings(arr)
    if kind is FieldType.DATETIME:
        return _timestamps(arr)
    if pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type):
        arr = _strings(arr)
    if kind is FieldType.DATE and pa.types.is_timestamp(arr.type):
        arr = _timestamps(arr)
    target = ARROW_TYPES[kind]
    return arr if arr.type == target else pc.cast(arr, target)


def normalise_batch(
    resource: Resource,
    batch: pa.RecordBatch | pa.Table,
    *,
    first_row: int = 1,
    allow_missing: bool = False,
) -> pa.RecordBatch:
    """A batch in `arrow_schema(resource, with_row=True)`: catalog columns in catalog order, plus `__row__`.

    A missing `__row__` is numbered from `first_row` (record ordinal). A missing catalog column is a schema mismatch
    (a GovhubError) unless `allow_missing`, then it is NULL. Columns the catalog does not know are dropped.
    """
    names = set(batch.schema.names)
    missing = [f for f in resource.fields if f.name not in names]
    if missing and not allow_missing:
        raise GovhubError(
            [
                Problem(
                    code="load.schema_mismatch",
                    message_zh=f"交付的数据缺少目录规定的信息项「{f.label}」({f.name})",
                    column=f.label,
                    field=f.name,
                    expected=f"包含信息项 {f.name}",
                )
                for f in missing
            ]
        )
    n = batch.num_rows
    rows = pc.cast(batch.column(ROW_COLUMN), pa.int64()) if ROW_COLUMN in names else row_numbers(first_row, n)
    columns: list[pa.Array] = [rows]
    for f in resource.fields:
        if f.name not in names:
            columns.append(pa.nulls(n, ARROW_TYPES[f.type]))
            continue
        try:
            columns.append(normalise_column(batch.column(f.name), f.type))
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
            raise GovhubError(
                Problem(
                    code="load.type_mismatch",
                    message_zh=f"信息项「{f.label}」的值无法转换为目录规定的类型",
                    column=f.label,
                    field=f.name,
                    value=str(exc)[:200],
                    expected=f.type.value,
                )
            ) from exc
    return pa.RecordBatch.from_arrays(columns, schema=arrow_schema(resource, with_row=True))


def conform_sql(resource: Resource, available: list[str], *, alias: str = "") -> str:
    """SELECT list casting each catalog column to its type (NULL when a snapshot predates the column)."""
    prefix = f"{alias}." if alias else ""
    parts = []
    for f in resource.fields:
        typ = DUCKDB_TYPES[f.type]
        src = f'{prefix}"{f.name}"' if f.name in available else "NULL"
        parts.append(f'CAST({src} AS {typ}) AS "{f.name}"')
    return ", ".join(parts)
