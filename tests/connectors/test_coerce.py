"""Typing delivered values to the catalog (the lead's coerce module): what becomes NULL and which cell is named."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa

from govhub.catalog.model import CatalogField
from govhub.connectors.coerce import coerce_column, coerce_table
from tests.connectors.test_sheet import sheet_resource

ROWS = pa.array([2, 3, 4, 5], pa.int64())


def col(values, **field):
    return coerce_column(pa.array(values), CatalogField(name="f", label="字段", **field), ROWS)


def test_dates_in_the_spellings_agencies_use():
    values, problems = col(["2024/1/5", "2024年1月5日", "20240105", "2024.01.05"], type="date")
    assert values.to_pylist() == [dt.date(2024, 1, 5)] * 4 and problems == []


def test_impossible_date_is_a_problem_not_the_first_of_march():
    values, [p] = col(["2023-02-28", "2023-02-29", None, ""], type="date")
    assert values.to_pylist() == [dt.date(2023, 2, 28), None, None, None]
    assert (p.code, p.row, p.value, p.column) == ("type.date", 3, "2023-02-29", "字段")


def test_integers_accept_excel_floats_and_refuse_fractions():
    values, problems = col(["3", "3.0", " 12 ", "3.5"], type="integer")
    assert values.to_pylist() == [3, 3, 12, None]
    assert [(p.row, p.value) for p in problems] == [(5, "3.5")]


def test_numbers_accept_thousands_separators():
    values, problems = col(["1,200.50", "-3", "1e3", "十"], type="number")
    assert values.to_pylist() == [1200.5, -3.0, 1000.0, None]
    assert [p.value for p in problems] == ["十"]


def test_booleans_in_chinese_and_english():
    values, problems = col(["是", "否", "Y", "也许"], type="boolean")
    assert values.to_pylist() == [True, False, True, None] and [p.value for p in problems] == ["也许"]


def test_datetimes_with_and_without_seconds():
    values, problems = col(["2024-01-05 08:30", "2024-01-05T08:30:15", "2024-01-05", "8点"], type="datetime")
    assert values.to_pylist()[:3] == [
        dt.datetime(2024, 1, 5, 8, 30),
        dt.datetime(2024, 1, 5, 8, 30, 15),
        dt.datetime(2024, 1, 5),
    ]
    assert [p.row for p in problems] == [5]


def test_integral_float_text_columns_lose_the_point_zero_and_long_ones_are_flagged():
    values, problems = col([13800000001.0, 2024.0, 3.101171990010112e17, None])
    assert values.to_pylist()[:2] == ["13800000001", "2024"]
    [p] = problems
    assert p.code == "type.precision_lost" and p.row == 4


def test_coerce_table_fills_missing_fields_and_names_columns_as_delivered():
    resource = sheet_resource()
    table = pa.table({"id_number": ["1", "2", "3", "4"], "household_size": ["1", "x", "2", "3"]})
    batch, [p] = coerce_table(resource, table, ROWS, columns={"household_size": "户内 人数"})
    assert batch.schema.names[0] == "__row__" and batch.column("name").null_count == 4
    assert (p.row, p.column, p.field) == (3, "户内 人数", "household_size")
