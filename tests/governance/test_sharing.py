"""Row conditions as people type them (CLI `--rows`, the portal's forms) become structured filters, never SQL."""

from __future__ import annotations

import argparse

import pytest

from govhub.cli.request_cmd import row_condition
from govhub.governance.sharing import parse_row_condition
from govhub.problems import GovhubError


def test_in_and_between_conditions_become_structured_filters() -> None:
    assert parse_row_condition(" town_code in 310117101, 310117102 ") == {
        "field": "town_code",
        "in": ["310117101", "310117102"],
    }
    assert parse_row_condition(
        "school_name in 第一中学，第二中学、第三中学"
    ) == {  # as Chinese lists are typed
        "field": "school_name",
        "in": ["第一中学", "第二中学", "第三中学"],
    }
    assert parse_row_condition("reg_date between 2026-01-01 2026-06-30") == {
        "field": "reg_date",
        "between": ["2026-01-01", "2026-06-30"],
    }


@pytest.mark.parametrize(
    "text",
    [
        "town_code = 1",
        "1=1; DROP TABLE x",
        "Town in 1",
        "reg_date between 2026-01-01",
        "town_code like '%'",
        "school_name in ,,，",
    ],
)
def test_anything_else_is_refused_in_chinese_by_both_entry_points(text: str) -> None:
    with pytest.raises(GovhubError) as caught:
        parse_row_condition(text)
    problem = caught.value.problems[0]
    assert (
        problem.code == "scope.bad_condition" and text in problem.message_zh
    )  # says which condition, in Chinese
    with pytest.raises(argparse.ArgumentTypeError):
        row_condition(text)


def test_a_grants_use_reads_as_people_say_it() -> None:
    from govhub.governance.sharing_measures import GrantUse, size_text

    assert [size_text(n) for n in (0, 980, 12_600, 1_572_864, 2_190_000_000, 40 << 30)] == [
        "0 B", "980 B", "12.3 KB", "1.5 MB", "2.04 GB", "40.0 GB"
    ]  # fmt: skip
    assert GrantUse().summary_zh == "尚未使用"
    use = GrantUse(
        queries=2, api_calls=3, api_rows=1200, api_bytes=1_572_864, last_used_at="2026-11-28T06:05:00Z"
    )
    assert (
        use.summary_zh
        == "查询 2 次、接口调用 3 次（1,200 条，1.5 MB）；最近使用 2026-11-28 14:05（北京时间）"
    )
