"""Statistics over a workspace (Measures §14: 查询、统计、分析): counts, counts by fields, time series by a date.

Each helper returns SQL for `sandbox.run_query` over the tables' hub names (`agency.resource`), so the same statistic
runs on hub.duckdb and on any workspace. Every identifier is checked against the catalog's spelling and quoted;
filters are the scope's structured conditions, never text.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum

from govhub.warehouse.diff import quote
from govhub.warehouse.scope import RowFilter, check_identifier


class Grain(StrEnum):
    """The period a time series counts by."""

    DAY = "day"  # 日
    MONTH = "month"  # 月
    YEAR = "year"  # 年


def table_ref(table: str) -> str:
    """`agency.resource` as a quoted, checked SQL name."""
    parts = table.split(".")
    if len(parts) != 2:
        check_identifier(table, "表名（应为“部门.资源”）")
    return ".".join(quote(check_identifier(p, "表名")) for p in parts)


def _where(where: RowFilter | None) -> str:
    return "" if where is None or where.everything else f" WHERE {where.sql()}"


def count_sql(table: str, where: RowFilter | None = None) -> str:
    return f"SELECT count(*) AS count FROM {table_ref(table)}{_where(where)}"


def group_counts_sql(table: str, by: Sequence[str], where: RowFilter | None = None) -> str:
    """Rows per combination of `by` fields, most frequent first."""
    if not by:
        return count_sql(table, where)
    fields = ", ".join(quote(check_identifier(f, "信息项")) for f in by)
    return (
        f"SELECT {fields}, count(*) AS count FROM {table_ref(table)}{_where(where)} "
        f"GROUP BY ALL ORDER BY count DESC, {fields}"
    )


def time_series_sql(table: str, date_field: str, grain: Grain, where: RowFilter | None = None) -> str:
    """Rows per day, month or year of a date (or date-time) field, oldest first; rows without a date are left out."""
    field = quote(check_identifier(date_field, "信息项"))
    period = f"CAST(date_trunc('{Grain(grain).value}', {field}) AS DATE)"
    condition = f"{field} IS NOT NULL" + ("" if where is None or where.everything else f" AND {where.sql()}")
    return (
        f"SELECT {period} AS period, count(*) AS count FROM {table_ref(table)} WHERE {condition} "
        "GROUP BY period ORDER BY period"
    )
