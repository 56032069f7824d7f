"""Type incoming values to the catalog's schema, vectorised, naming every cell that will not fit.

Sources deliver text (CSV), loosely typed cells (xlsx, JSON) or database types. `coerce_table` casts each column to
`arrow_schema(resource)` with pyarrow compute; a value that cannot be read becomes NULL and a `Problem` with its row,
column, value and what was expected, so the load can quarantine that row instead of failing the whole delivery.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from govhub.catalog.arrow import ARROW_TYPES, ROW_COLUMN, arrow_schema
from govhub.catalog.model import CatalogField, FieldType, Resource
from govhub.problems import Problem

MAX_PROBLEMS_PER_COLUMN = 10_000

_EXPECTED = {
    FieldType.INTEGER: "整数",
    FieldType.NUMBER: "数字",
    FieldType.BOOLEAN: "是/否",
    FieldType.DATE: "日期，如2024-01-31",
    FieldType.DATETIME: "日期时间，如2024-01-31 08:30:00",
}

_INT = r"^[+-]?\d+(\.0+)?$"
_NUM = r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$"
_TRUE = ["是", "true", "True", "TRUE", "1", "Y", "y", "yes", "Yes", "有"]
_FALSE = ["否", "false", "False", "FALSE", "0", "N", "n", "no", "No", "无"]


def _clean_text(arr: pa.Array) -> pa.Array:
    """Text with surrounding (also full-width) whitespace stripped and empty cells as NULL."""
    if not pa.types.is_string(arr.type) and not pa.types.is_large_string(arr.type):
        arr = _to_text(arr)
    arr = pc.utf8_trim_whitespace(arr)  # Unicode whitespace: also U+3000 and NBSP; 4x faster than utf8_trim
    return pc.if_else(pc.equal(arr, ""), pa.scalar(None, pa.string()), arr).cast(pa.string())


def _to_text(arr: pa.Array) -> pa.Array:
    """Any array as text; integral floats lose their '.0' (an xlsx number cell 2024 is the text '2024')."""
    if pa.types.is_floating(arr.type):
        integral = pc.equal(pc.floor(arr), arr)
        as_int = pc.cast(pc.if_else(integral, arr, pa.scalar(None, arr.type)), pa.int64(), safe=False)
        return pc.if_else(integral, pc.cast(as_int, pa.string()), pc.cast(arr, pa.string()))
    if pa.types.is_null(arr.type):
        return pa.nulls(len(arr), pa.string())
    if pa.types.is_timestamp(arr.type):
        return pc.strftime(arr, format="%Y-%m-%d %H:%M:%S")
    if pa.types.is_date(arr.type):
        return pc.strftime(arr, format="%Y-%m-%d")
    return pc.cast(arr, pa.string())


def _normalise_date_text(text: pa.Array) -> pa.Array:
    """2024/1/5, 2024.1.5, 2024年1月5日, 20240105 → 2024-01-05 (time part kept)."""
    t = pc.replace_substring_regex(text, r"^(\d{4})(\d{2})(\d{2})$", r"\1-\2-\3")
    t = pc.replace_substring_regex(t, r"^(\d{4})[年/.](\d{1,2})[月/.](\d{1,2})日?", r"\1-\2-\3")
    t = pc.replace_substring_regex(t, r"^(\d{4})-(\d)-", r"\1-0\2-")
    t = pc.replace_substring_regex(t, r"^(\d{4})-(\d{2})-(\d)(\D|$)", r"\1-\2-0\3\4")
    return pc.replace_substring(t, "T", " ")


def _parse(text: pa.Array, field: CatalogField) -> pa.Array:
    """Text → the field's type; unreadable values become NULL (callers compare null masks to find them)."""
    kind = field.type
    if kind is FieldType.STRING:
        return text
    if kind is FieldType.INTEGER:
        ok = pc.match_substring_regex(text, _INT)
        whole = pc.replace_substring_regex(pc.if_else(ok, text, pa.scalar(None, pa.string())), r"\.0+$", "")
        return pc.cast(pc.replace_substring(whole, "+", ""), pa.int64())  # not via float: exact beyond 2**53
    if kind is FieldType.NUMBER:
        plain = pc.replace_substring(text, ",", "")
        ok = pc.match_substring_regex(plain, _NUM)
        return pc.cast(pc.if_else(ok, plain, pa.scalar(None, pa.string())), pa.float64())
    if kind is FieldType.BOOLEAN:
        yes, no = pc.is_in(text, pa.array(_TRUE)), pc.is_in(text, pa.array(_FALSE))
        return pc.if_else(yes, True, pc.if_else(no, False, pa.scalar(None, pa.bool_())))
    if kind in (FieldType.DATE, FieldType.DATETIME):
        canonical = _canonical_cast(text, ARROW_TYPES[kind])
        if canonical is not None:
            return canonical
    if kind is FieldType.DATE:
        if not _all_match(text, r"^\d{4}-\d{2}-\d{2}$"):
            text = pc.replace_substring_regex(
                _normalise_date_text(text), r"^(\d{4}-\d{2}-\d{2}) 00:00(:00)?(\.0+)?$", r"\1"
            )
        return pc.cast(_strict_strptime(text, "%Y-%m-%d"), pa.date32())
    # datetime: with or without seconds / fractions; a bare date means midnight.
    if _all_match(text, r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$"):
        return _strict_strptime(text, "%Y-%m-%d %H:%M:%S")
    norm = _normalise_date_text(text)
    norm = pc.replace_substring_regex(norm, r"^(\d{4}-\d{2}-\d{2})$", r"\1 00:00:00")
    norm = pc.replace_substring_regex(norm, r"^(\d{4}-\d{2}-\d{2} \d{2}:\d{2})$", r"\1:00")
    whole = pc.replace_substring_regex(norm, r"\.\d+$", "")
    parsed = _strict_strptime(whole, "%Y-%m-%d %H:%M:%S")
    fraction = pc.utf8_slice_codeunits(pc.extract_regex(norm, r"\.(?P<f>\d{1,6})\d*$").field("f"), 0, 6)
    micros = pc.cast(pc.utf8_rpad(fraction, 6, "0"), pa.int64())
    micros = pc.if_else(pc.is_null(micros), 0, micros)
    return pc.add(parsed, pc.cast(micros, pa.duration("us")))


_CANONICAL = {pa.date32(): 10, pa.timestamp("us"): 19}  # YYYY-MM-DD, YYYY-MM-DD hh:mm:ss


def _canonical_cast(text: pa.Array, target: pa.DataType) -> pa.Array | None:
    """The common case in one step: every value written exactly YYYY-MM-DD (dates) or YYYY-MM-DD hh:mm:ss
    (date-times). Arrow's cast validates calendar dates and times (2023-02-29 and 24:00:00 fail) but also takes
    other ISO 8601 forms, hence the length check (what remains at 19 characters, a 'T' for the space, means the
    same to the tolerant path; offsets fail the cast); anything else returns None for the tolerant path below,
    which names each bad value."""
    width = _CANONICAL[target]
    extent = pc.min_max(pc.binary_length(text))
    if extent["min"].as_py() != width or extent["max"].as_py() != width:
        return None
    try:
        return pc.cast(text, target)
    except pa.ArrowInvalid:
        return None


def _all_match(text: pa.Array, pattern: str) -> bool:
    """Whether every non-empty value already has the canonical form (the common case skips normalising)."""
    return bool(pc.all(pc.match_substring_regex(text, pattern), skip_nulls=True).as_py() is not False)


def _strict_strptime(text: pa.Array, fmt: str) -> pa.Array:
    """strptime that refuses impossible dates: Arrow rolls 2023-02-29 over to 1 March, so the parsed day of month
    must equal the day written (text is YYYY-MM-DD… here, so the day is characters 8–9)."""
    parsed = pc.strptime(text, format=fmt, unit="us", error_is_null=True)
    day_text = pc.utf8_slice_codeunits(text, 8, 10)
    day_text = pc.if_else(pc.ascii_is_decimal(day_text), day_text, pa.scalar(None, pa.string()))
    written_day = pc.cast(day_text, pa.int64())
    same = pc.fill_null(pc.equal(pc.day(parsed), written_day), False)
    return pc.if_else(same, parsed, pa.scalar(None, parsed.type))


def _precision_losses(
    values: pa.Array, field: CatalogField, rows: pa.Array, column: str | None
) -> list[Problem]:
    """A text column stored as numbers with more than 15 digits has lost digits (an ID number shown as 3.1E+17)."""
    lost = pc.fill_null(pc.greater_equal(pc.abs(values), 1e15), False)
    idx = pc.indices_nonzero(lost)
    return [
        Problem(
            code="type.precision_lost",
            message_zh="该单元格以数值存储，超过15位的数字已丢失精度，请将该列设置为文本格式后重新填写",
            row=row,
            column=column or field.label,
            value=f"{val:.15g}",
            expected="文本格式的完整号码",
            field=field.name,
        )
        for row, val in zip(pc.take(rows, idx).to_pylist(), pc.take(values, idx).to_pylist(), strict=True)
    ]


def coerce_column(
    values: pa.Array | pa.ChunkedArray, field: CatalogField, rows: pa.Array, *, column: str | None = None
) -> tuple[pa.Array, list[Problem]]:
    """One column in the field's Arrow type, plus a Problem for every non-empty value that could not be read."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    target = ARROW_TYPES[field.type]
    if values.type == target and field.type is not FieldType.STRING:
        return values, []
    if field.type is FieldType.DATETIME and pa.types.is_timestamp(values.type):
        return pc.cast(values, target), []
    if field.type is FieldType.DATE and (pa.types.is_timestamp(values.type) or pa.types.is_date(values.type)):
        return pc.cast(values, target), []
    if field.type is FieldType.NUMBER and (
        pa.types.is_integer(values.type) or pa.types.is_floating(values.type)
    ):
        return pc.cast(values, target), []
    if field.type is FieldType.INTEGER and pa.types.is_integer(values.type):
        return pc.cast(values, target), []
    problems: list[Problem] = []
    if field.type is FieldType.STRING and pa.types.is_floating(values.type):
        problems.extend(_precision_losses(values, field, rows, column))
    text = _clean_text(values)
    parsed = _parse(text, field)
    failed = pc.and_(pc.is_valid(text), pc.is_null(parsed))
    if field.type is not FieldType.STRING and pc.any(failed).as_py():
        idx = pc.indices_nonzero(failed)
        bad_rows = pc.take(rows, idx).to_pylist()
        bad_vals = pc.take(text, idx).to_pylist()
        label = column or field.label
        for row, val in list(zip(bad_rows, bad_vals, strict=True))[:MAX_PROBLEMS_PER_COLUMN]:
            problems.append(
                Problem(
                    code=f"type.{field.type.value}",
                    message_zh=f"无法识别为{_EXPECTED[field.type].split('，')[0]}",
                    row=row,
                    column=label,
                    value=str(val),
                    expected=_EXPECTED[field.type],
                    field=field.name,
                )
            )
    return parsed, problems


def coerce_table(
    resource: Resource, table: pa.Table, rows: pa.Array, *, columns: dict[str, str] | None = None
) -> tuple[pa.RecordBatch, list[Problem]]:
    """`table` (columns named by field name; missing ones become NULL) typed to `arrow_schema(resource, with_row=True)`.

    `rows` are the source row numbers; `columns` maps field name → the header as the agency wrote it, for messages.
    """
    arrays: list[pa.Array] = [rows.cast(pa.int64())]  # never null: every delivered row has a number
    names = [ROW_COLUMN]
    problems: list[Problem] = []
    for f in resource.fields:
        if f.name in table.column_names:
            arr, found = coerce_column(table.column(f.name), f, rows, column=(columns or {}).get(f.name))
            problems.extend(found)
        else:
            arr = pa.nulls(table.num_rows, ARROW_TYPES[f.type])
        arrays.append(arr)
        names.append(f.name)
    schema = arrow_schema(resource, with_row=True)
    return pa.RecordBatch.from_arrays(arrays, schema=schema), problems
