import datetime as dt

import pytest

from govhub.problems import GovhubError
from govhub.warehouse.sandbox import run_query
from govhub.warehouse.scope import Between, RowFilter
from govhub.warehouse.stats import Grain, count_sql, group_counts_sql, time_series_sql

from .conftest import people_rows


def test_statistics_count_group_and_bucket_by_date(market):
    settings, path = market
    rows = people_rows(40)

    def run(sql):
        return run_query(settings, path, sql).raise_for_error().table.to_pylist()

    assert run(count_sql("market.firms")) == [{"count": 40}]
    assert run(count_sql("market.firms", RowFilter((Between("age", 20, 29),)))) == [{"count": 10}]
    by_age = run(group_counts_sql("market.firms", ["age"]))
    assert {r["age"]: r["count"] for r in by_age} == {a: 1 for a in range(20, 60)}
    yearly = run(time_series_sql("civil.people", "born", Grain.YEAR))
    assert yearly == [{"period": dt.date(1970, 1, 1), "count": 40}]
    daily = run(time_series_sql("civil.people", "born", Grain.DAY, RowFilter((Between("age", 20, 21),))))
    assert daily == [{"period": r["born"], "count": 1} for r in rows[:2]]
    monthly = run(time_series_sql("market.firms", "updated_at", Grain.MONTH))
    assert monthly == [{"period": dt.date(2026, 1, 1), "count": 40}]


@pytest.mark.parametrize(
    "table, field", [('market.firms"; DROP TABLE x; --', "age"), ("market.firms", "age; --")]
)
def test_statistics_refuse_names_that_are_not_identifiers(table, field):
    with pytest.raises(GovhubError):
        group_counts_sql(table, [field])
