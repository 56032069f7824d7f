"""The Arrow schema a resource's data is stored in: one place that maps catalog types to storage types.

Snapshots, diffs and fingerprints all normalise to this schema first (µs timestamps, text identifiers, NULL for
empty), so that a type-only difference is never mistaken for a data change.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from govhub.catalog.model import FieldType, Resource

ROW_COLUMN = "__row__"  # source row number carried alongside the data until publish, for error reports

ARROW_TYPES: dict[FieldType, pa.DataType] = {
    FieldType.STRING: pa.string(),
    FieldType.INTEGER: pa.int64(),
    FieldType.NUMBER: pa.float64(),
    FieldType.BOOLEAN: pa.bool_(),
    FieldType.DATE: pa.date32(),
    FieldType.DATETIME: pa.timestamp("us"),
}


def arrow_schema(resource: Resource, *, with_row: bool = False) -> pa.Schema:
    """The catalog's fields as an Arrow schema, in catalog order (optionally with the source-row column first)."""
    fields = [pa.field(f.name, ARROW_TYPES[f.type], nullable=True) for f in resource.fields]
    if with_row:
        fields.insert(0, pa.field(ROW_COLUMN, pa.int64(), nullable=False))
    return pa.schema(fields)


def row_numbers(first: int, n: int) -> pa.Array:
    """`n` source row numbers from `first` on, as the `__row__` column (int64; a Python range would cost 70 ms per
    million rows)."""
    return pa.array(np.arange(first, first + n, dtype=np.int64))


def string_buffers(values: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """A string or binary array's value offsets (len + 1, starting at 0) and the bytes they index, as NumPy views
    of its Arrow buffers: vectorised work on text without a Python object per value."""
    offsets = np.frombuffer(values.buffers()[1], np.int32, count=len(values) + 1, offset=values.offset * 4)
    body = values.buffers()[2]
    data = np.frombuffer(body, np.uint8) if body is not None else np.zeros(0, np.uint8)
    return offsets - offsets[0], data[offsets[0] : offsets[-1]]
