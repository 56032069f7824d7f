"""The API connector against a real paged HTTP server on 127.0.0.1, with the failures agency APIs really have."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import socket
import time

import httpx
import pyarrow as pa
import pytest

from govhub.catalog.arrow import arrow_schema
from govhub.connectors.api import RetryPolicy, read_api
from govhub.demo.api_server import PagedApiServer
from govhub.problems import GovhubError

TOKEN = "tok-9f8e7d6c5b4a-secret"
PATH = "/api/mzj/person"
FAST = RetryPolicy(backoff_s=0.01, max_backoff_s=0.05)


def people(n: int) -> list[dict]:
    start = dt.datetime(2024, 3, 1, 8, 0, 0)
    return [
        {
            "id_number": f"31011719{i:010d}",
            "name": f"居民{i}号·张",
            "household_size": i % 6 + 1,
            "subsidy": round(i * 12.5, 2),
            "is_resident": i % 3 != 0,
            "birth_date": dt.date(1950, 1, 1) + dt.timedelta(days=i * 7),
            "updated_at": start + dt.timedelta(minutes=i),
        }
        for i in range(n)
    ]


@pytest.fixture
def server():
    with PagedApiServer(TOKEN) as srv:
        yield srv


SECRET_VAR = "GOVHUB_SECRET_TEST_API_TOKEN"


@pytest.fixture
def settings(settings):
    """The hub's settings with the test API's token, as the environment would give it at the edge."""
    return settings.with_variables(**{SECRET_VAR: TOKEN})


def without_token(settings):
    return dataclasses.replace(
        settings, variables={k: v for k, v in settings.variables.items() if k != SECRET_VAR}
    )


@pytest.fixture
def api_resource(server, resource_with):
    """A resource on the test server; keyword arguments override the catalog's api settings."""

    def build(style: str = "page", page_size: int = 100, **api):
        pagination = {"style": style, "page_size": page_size, **api.pop("pagination", {})}
        delivery = {
            "url": server.url + PATH,
            "token_secret": "test_api_token",
            "pagination": pagination,
            **api,
        }
        return resource_with({"method": "api", "api": delivery})

    return build


def pull(settings, resource, sink, since=None):
    extract = read_api(settings, resource, since=since, sink=sink, retry=FAST)
    table = pa.Table.from_batches(list(extract.batches), schema=arrow_schema(resource, with_row=True))
    return extract, table


@pytest.mark.parametrize("style", ["page", "offset", "cursor"])
def test_each_pagination_style_reads_every_record_once_in_catalog_types(
    server, api_resource, settings, sink, style
):
    server.add_dataset(PATH, people(1234), style=style)
    resource = api_resource(style=style, page_size=100)
    extract, table = pull(settings, resource, sink)
    assert table.num_rows == 1234
    assert table.column("__row__").to_pylist() == list(range(1, 1235))
    assert table.column("id_number").to_pylist() == [r["id_number"] for r in people(1234)]
    first = table.slice(7, 1).to_pylist()[0]
    assert first == {"__row__": 8, **people(8)[7]}
    assert extract.problems == [] and extract.mode == "full" and extract.cursor is None
    assert len(sink.pieces) == 13


def test_offset_paging_with_a_custom_size_parameter_survives_a_server_capping_page_size(
    server, api_resource, settings, sink
):
    server.add_dataset(PATH, people(950), style="offset", max_page_size=200)
    resource = api_resource(style="offset", page_size=500, pagination={"size_param": "limit"})
    _, table = pull(settings, resource, sink)
    assert table.column("id_number").to_pylist() == [r["id_number"] for r in people(950)]
    landed = [json.loads(b) for b in sink.pieces.values()]
    assert [len(p["data"]) for p in landed] == [200, 200, 200, 200, 150]
    assert {r.params["limit"] for r in server.requests_to(PATH)} == {"500"}


def test_raw_pages_are_landed_byte_for_byte_in_order(server, api_resource, settings, sink):
    server.add_dataset(PATH, people(250), style="page")
    _, table = pull(settings, api_resource(page_size=100), sink)
    assert list(sink.pieces) == ["page-000001.json", "page-000002.json", "page-000003.json"]
    with httpx.Client(headers={"Authorization": f"Bearer {TOKEN}"}) as client:
        for n, name in enumerate(sink.pieces, start=1):
            direct = client.get(server.url + PATH, params={"page_size": 100, "page": n}).content
            assert sink.pieces[name] == direct
    assert table.num_rows == 250


def test_rate_limit_waits_as_long_as_retry_after_asks(server, api_resource, settings, sink):
    server.add_dataset(PATH, people(50), style="page")
    server.inject(PATH, "429", times=1, retry_after=1)
    _, table = pull(settings, api_resource(), sink)
    assert table.num_rows == 50
    first, second = server.requests_to(PATH)[:2]
    assert first.status == 429 and second.status == 200
    assert second.at - first.at >= 0.95  # FAST backoff alone would retry after ~0.01 s


def test_server_errors_are_retried_until_the_page_comes(server, api_resource, settings, sink):
    server.add_dataset(PATH, people(250), style="page")
    server.inject(PATH, "500", times=2, after=1)
    server.inject(PATH, "503", times=1)
    _, table = pull(settings, api_resource(), sink)
    assert table.num_rows == 250
    assert [r.status for r in server.requests_to(PATH)][:5] == [200, 500, 500, 503, 200]
    assert len(sink.pieces) == 3  # failed attempts are not pages


def test_persistent_server_error_fails_with_a_clear_retryable_error(server, api_resource, settings, sink):
    server.add_dataset(PATH, people(50), style="page")
    server.inject(PATH, "500", times=100)
    extract = read_api(settings, api_resource(max_retries=2), sink=sink, retry=FAST)
    with pytest.raises(GovhubError) as err:
        list(extract.batches)
    problem = err.value.problems[0]
    assert problem.code == "api.http_500"
    assert (
        "HTTP 500" in problem.message_zh and "重试2次" in problem.message_zh and "第1页" in problem.message_zh
    )
    assert err.value.retryable
    assert len(server.requests_to(PATH)) == 3


def test_a_stalled_server_times_out_is_retried_then_reported(server, api_resource, settings, sink):
    server.add_dataset(PATH, people(30), style="page")
    server.inject(PATH, "timeout", times=1, delay_s=1.0)
    resource = api_resource(timeout_s=0.3, max_retries=1)
    _, table = pull(settings, resource, sink)
    assert table.num_rows == 30

    server.inject(PATH, "timeout", times=2, delay_s=1.0)
    with pytest.raises(GovhubError) as err:
        pull(settings, resource, type(sink)())
    assert err.value.problems[0].code == "api.timeout"
    assert "0.3秒内未响应" in err.value.problems[0].message_zh


def test_dropped_connections_are_retried(server, api_resource, settings, sink):
    server.add_dataset(PATH, people(120), style="page")
    server.inject(PATH, "drop_connection", times=2, after=1)
    _, table = pull(settings, api_resource(), sink)
    assert table.num_rows == 120


def test_malformed_json_names_the_page_and_keeps_what_was_received(server, api_resource, settings, sink):
    server.add_dataset(PATH, people(350), style="page")
    server.inject(PATH, "malformed_json", after=2)
    extract = read_api(settings, api_resource(), sink=sink, retry=FAST)
    batches = extract.batches
    with pytest.raises(GovhubError) as err:
        list(batches)
    problem = err.value.problems[0]
    assert problem.code == "api.malformed_json" and "第3页" in problem.message_zh
    assert "第1行第" in problem.message_zh and "Error" not in problem.message_zh  # where, not a class name
    body = sink.pieces["page-000003.json"]  # landed before it was parsed
    with pytest.raises(json.JSONDecodeError):
        json.loads(body)


def test_a_cursor_that_never_advances_is_detected(server, api_resource, settings, sink):
    server.add_dataset(PATH, people(500), style="cursor")
    server.inject(PATH, "loop_cursor", times=50)
    with pytest.raises(GovhubError) as err:
        pull(settings, api_resource(style="cursor"), sink)
    assert err.value.problems[0].code == "api.cursor_loop"
    assert len(server.requests_to(PATH)) == 2


def test_a_body_without_the_records_path_is_a_wrong_shape(server, api_resource, settings, sink):
    server.add_dataset(PATH, people(10), style="page")
    server.inject(PATH, "wrong_shape")
    with pytest.raises(GovhubError) as err:
        pull(settings, api_resource(), sink)
    assert err.value.problems[0].code == "api.wrong_shape"
    assert "“data”" in err.value.problems[0].message_zh


def test_a_wrong_token_is_unauthorized_and_the_token_appears_nowhere(
    server, api_resource, settings, sink, monkeypatch
):
    server.add_dataset(PATH, people(10), style="page")
    resource = api_resource()
    settings = settings.with_variables(**{SECRET_VAR: "wrong-token-should-stay-hidden"})
    extract = read_api(settings, resource, sink=sink, retry=FAST)
    with pytest.raises(GovhubError) as err:
        list(extract.batches)
    assert err.value.problems[0].code == "api.unauthorized"
    assert "test_api_token" in str(err.value)  # names the secret…
    for text in (str(err.value), extract.source, repr(err.value.problems)):
        assert "wrong-token-should-stay-hidden" not in text  # …never its value
    assert server.requests_to(PATH)[0].status == 401 and len(server.requests_to(PATH)) == 1


def test_token_from_the_secrets_file(server, api_resource, settings, sink, monkeypatch):
    server.add_dataset(PATH, people(10), style="page")
    resource = api_resource()
    settings = without_token(settings)
    settings.secrets_file.write_text(f"other: x\ntest_api_token: {TOKEN}\n", encoding="utf-8")
    _, table = pull(settings, resource, sink)
    assert table.num_rows == 10


def test_a_missing_secret_is_named(server, api_resource, settings, sink, monkeypatch):
    resource = api_resource()
    with pytest.raises(GovhubError) as err:
        read_api(without_token(settings), resource, sink=sink)
    assert err.value.problems[0].code == "secret.missing"
    assert "test_api_token" in str(err.value) and "GOVHUB_SECRET_TEST_API_TOKEN" in str(err.value)


def test_incremental_pull_sends_the_cursor_and_returns_the_new_one(server, api_resource, settings, sink):
    records = people(300)
    server.add_dataset(PATH, records, style="page", updated_field="updated_at")
    resource = api_resource(incremental_field="updated_at")
    first, table = pull(settings, resource, sink)
    assert first.mode == "full" and table.num_rows == 300
    assert first.cursor == {"field": "updated_at", "value": "2024-03-01 12:59:00"}
    assert all("updated_since" not in r.params for r in server.requests_to(PATH))

    server.add_dataset(PATH, [*records, *people(305)[300:]], style="page", updated_field="updated_at")
    second, table = pull(settings, resource, type(sink)(), since=first.cursor)
    assert second.mode == "incremental"
    assert server.requests_to(PATH)[-1].params["updated_since"] == "2024-03-01 12:59:00"
    assert table.column("id_number").to_pylist() == [r["id_number"] for r in people(305)[299:]]
    assert second.cursor == {"field": "updated_at", "value": "2024-03-01 13:04:00"}


def test_cursor_is_only_known_when_the_pull_completes(server, api_resource, settings, sink):
    server.add_dataset(PATH, people(300), style="page", updated_field="updated_at")
    extract = read_api(settings, api_resource(incremental_field="updated_at"), sink=sink, batch_rows=100)
    batches = iter(extract.batches)
    next(batches)
    assert extract.cursor is None
    list(batches)
    assert extract.cursor["value"] == "2024-03-01 12:59:00"


def test_cells_that_cannot_be_typed_become_problems_on_their_record(server, api_resource, settings, sink):
    records = people(5)
    records[3]["household_size"] = "三口"
    records[4]["birth_date"] = "2023-02-29"
    as_text = [
        {**r, "household_size": str(r["household_size"]), "birth_date": str(r["birth_date"])} for r in records
    ]
    server.add_dataset(PATH, as_text)
    extract, table = pull(settings, api_resource(), sink)
    assert table.num_rows == 5
    found = {(p.row, p.field, p.value) for p in extract.problems}
    assert found == {(4, "household_size", "三口"), (5, "birth_date", "2023-02-29")}
    assert table.column("household_size").to_pylist() == [1, 2, 3, None, 5]


def test_an_unreachable_server_is_a_connection_error(api_resource, settings, sink):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    resource = api_resource(url=f"http://127.0.0.1:{port}/api/none", max_retries=1)
    started = time.monotonic()
    with pytest.raises(GovhubError) as err:
        pull(settings, resource, sink)
    assert err.value.problems[0].code == "api.connection"
    assert (
        "无法建立连接" in err.value.problems[0].message_zh
        and "ConnectError" not in err.value.problems[0].message_zh
    )
    assert time.monotonic() - started < 5


def test_a_field_renamed_mid_pull_stops_the_pull_naming_the_page_and_the_field(
    server, api_resource, settings, sink
):
    server.add_dataset(PATH, people(350), style="page")
    server.inject(PATH, "schema_change", after=2)  # page 3 calls `name` `name_new`
    with pytest.raises(GovhubError) as err:
        pull(settings, api_resource(), sink)
    problem = err.value.problems[0]
    assert problem.code == "api.schema_changed"
    assert "第3页" in problem.message_zh and "(name)" in problem.message_zh
    assert b'"name_new"' in sink.pieces["page-000003.json"]  # landed as received
