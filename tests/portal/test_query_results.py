"""The analysts' SQL page shows each result cell under its own header and as people read it (columns by position
even when names repeat; booleans, intervals, moments in Beijing time, bytes, lists and structs as text a person
reads), downloads nested and interval values instead of failing, and the statistics view names the resource and
field in Chinese — all on the running portal, as 民政局's analyst."""

from __future__ import annotations

import csv
import html
import io
import json
import re
import zipfile

import httpx
import pyarrow.parquet as pq
import pytest

from govhub.services.upload import upload_sheet
from tests.portal.conftest import ANALYST, SHEET_RESOURCE, STEWARD, Portal, csrf

QUERY = "/agencies/mzj/query"


@pytest.fixture(scope="module")
def analyst(portal: Portal) -> httpx.Client:
    c = portal.sign_in(ANALYST)
    assert c.get(QUERY).status_code == 200
    return c


def run(c: httpx.Client, sql: str) -> httpx.Response:
    r = c.post(QUERY, data={"_csrf_token": csrf(c), "sql": sql})
    assert r.status_code == 200, r.text[:500]
    return r


def result_of(r: httpx.Response) -> tuple[list[str], list[list[str | None]]]:
    """(headers, rows) of the result table; a NULL cell (marked `data-null`) as None."""
    table = re.search(r'<table class="table card-table table-sm" id="result">(.*?)</table>', r.text, re.S)
    assert table, re.search(r'id="query-problems".*?</div>', r.text, re.S) or r.text[:2000]
    head, body = re.search(r"<thead>(.*?)</thead>.*?<tbody>(.*?)</tbody>", table.group(1), re.S).groups()
    headers = [html.unescape(h) for h in re.findall(r"<th scope=\"col\">(.*?)</th>", head, re.S)]
    rows = []
    for row in re.findall(r"<tr>(.*?)</tr>", body, re.S):
        cells = re.findall(r"<td( [^>]*)?>(.*?)</td>", row, re.S)
        rows.append([None if "data-null" in (attrs or "") else html.unescape(text) for attrs, text in cells])
    return headers, rows


def test_columns_of_the_same_name_each_show_their_own_values(analyst: httpx.Client) -> None:
    headers, rows = result_of(run(analyst, "SELECT 1 AS a, 2 AS a, 3 AS b"))
    assert headers == ["a", "a", "b"]
    assert rows == [["1", "2", "3"]]


@pytest.fixture(scope="module")
def shjz(portal: Portal) -> str:
    """社会救助 (mzj/shjz, sheet-fed) published by its steward: a table of the analyst's scope with rows."""
    agency, rid = SHEET_RESOURCE
    sheet = portal.settings.home / "demo" / "sheets" / agency / f"{rid}.xlsx"
    resource = portal.catalog.resource(f"{agency}/{rid}")
    assert upload_sheet(portal.settings, resource, sheet, actor=STEWARD, via="test").status == "published"
    return f"{agency}.{rid}"


def test_a_join_of_tables_sharing_column_names_shows_a_cell_under_every_header(
    analyst: httpx.Client, shjz: str
) -> None:
    """A table joined with itself, `*`: as many cells as headers, each value under its own column."""
    one = f"(SELECT * FROM {shjz} LIMIT 1)"
    headers, rows = result_of(run(analyst, f"SELECT * FROM {one} x, {one} y"))
    assert rows and len(headers) % 2 == 0 and len(set(headers)) == len(headers) // 2
    half = len(headers) // 2
    for row in rows:
        assert len(row) == len(headers)
        assert row[:half] == row[half:]  # the same record on both sides: each value under its own header


def test_cells_show_what_people_read_not_python_text(analyst: httpx.Client) -> None:
    sql = (
        "SELECT INTERVAL '1 day 12 hours' AS i, INTERVAL '14 months' AS m, "
        "TIMESTAMPTZ '2026-01-01 00:00:00+00' AS tz, 'x'::BLOB AS b, [NULL, '甲'] AS l, "
        "{'名': '王', 'n': NULL} AS s, MAP {'k': 1} AS mp, true AS yes, false AS no, NULL::INTEGER AS nothing, "
        "1.50::DECIMAL(10, 2) AS d, DATE '2026-01-02' AS day"
    )
    headers, rows = result_of(run(analyst, sql))
    shown = dict(zip(headers, rows[0], strict=True))
    assert shown == {
        "i": "1 天 12:00:00",
        "m": "1 年 2 个月",
        "tz": "2026-01-01 08:00:00+08:00",
        "b": "\\x78",
        "l": '[null, "甲"]',
        "s": '{"名": "王", "n": null}',
        "mp": '{"k": 1}',
        "yes": "是",
        "no": "否",
        "nothing": None,
        "d": "1.50",
        "day": "2026-01-02",
    }


def download(c: httpx.Client, sql: str, fmt: str) -> httpx.Response:
    return c.post(f"{QUERY}/download", data={"_csrf_token": csrf(c), "sql": sql, "format": fmt})


NESTED = (
    "SELECT [1, 2] AS l, {'a': 1, '名': '王'} AS s, MAP {'k': 1} AS m, INTERVAL '1 day 12 hours' AS i, "
    "[INTERVAL '1 hour'] AS li, '=1+1' AS f"
)


def test_csv_downloads_write_nested_values_as_json_and_intervals_as_text(analyst: httpx.Client) -> None:
    r = download(analyst, NESTED, "csv")
    assert r.status_code == 200 and "attachment" in r.headers["content-disposition"], r.text[:500]
    with zipfile.ZipFile(io.BytesIO(r.content)) as package:  # the CSV with its provenance beside it
        (name,) = [n for n in package.namelist() if n.endswith(".csv")]
        content = package.read(name)
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    assert rows[0] == ["l", "s", "m", "i", "li", "f"]
    lst, s, m, i, li, f = rows[1]
    assert json.loads(lst) == [1, 2] and json.loads(s) == {"a": 1, "名": "王"} and json.loads(m) == {"k": 1}
    assert "名" in s  # Chinese as is, not \\u escapes
    assert i == "1 day 12:00:00" and json.loads(li) == ["01:00:00"]
    assert f == "'=1+1"  # still neutralised


def test_parquet_downloads_write_intervals_as_text_and_keep_nested_types(
    analyst: httpx.Client, tmp_path
) -> None:
    r = download(analyst, NESTED, "parquet")
    assert r.status_code == 200 and "attachment" in r.headers["content-disposition"], r.text[:500]
    path = tmp_path / "q.parquet"
    path.write_bytes(r.content)
    table = pq.read_table(path)
    assert b"govhub.provenance" in table.schema.metadata
    row = table.to_pylist()[0]
    assert row["l"] == [1, 2] and row["s"] == {"a": 1, "名": "王"} and row["m"] == [("k", 1)]
    assert row["i"] == "1 day 12:00:00" and json.loads(row["li"]) == ["01:00:00"]


def test_statistics_name_the_resource_and_field_in_chinese(
    analyst: httpx.Client, portal: Portal, shjz: str
) -> None:
    name = shjz
    agency, rid = name.split(".", 1)
    resource = portal.catalog.resource(f"{agency}/{rid}")
    field = next(f for f in resource.fields if f.label and f.label != f.name and "{" not in f.label)
    r = analyst.get(f"/agencies/mzj/statistics?table={name}&column={field.name}")
    assert r.status_code == 200 and 'data-chart="counts"' in r.text, r.text[:2000]
    chart = json.loads(html.unescape(re.search(r'data-chart-data="([^"]*)"', r.text).group(1)))
    assert chart["title"] == f"{resource.name} 按 {field.label} 统计"
    assert name not in chart["title"] and field.name not in chart["title"]
    title = re.search(r'<h2 class="card-title" id="chart-title">(.*?)</h2>', r.text).group(1)
    assert html.unescape(title).startswith(f"{resource.name} 按 {field.label}")


def test_a_type_a_file_cannot_hold_is_said_on_the_page_not_a_server_error(
    analyst: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Should the writer still refuse a type (here: intervals, with their conversion to text taken away), the
    analyst reads why on the query page, in Chinese, and no file is sent."""
    from govhub.warehouse import export

    monkeypatch.setattr(export, "parquet_ready", lambda table: table)
    r = download(analyst, "SELECT INTERVAL '1 day' AS i", "parquet")
    assert r.status_code == 200 and "attachment" not in r.headers.get("content-disposition", "")
    problems = re.search(r'id="query-problems">(.*?)</div>', r.text, re.S)
    assert problems and "无法写入Parquet文件的数据类型" in problems.group(1)
