"""The demo district's paged API server: paging, token, update filter, folder mounting and injected failures."""

from __future__ import annotations

import datetime as dt
import json
import socket
import subprocess
import sys
import time

import httpx
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from govhub.demo.api_server import PagedApiServer

TOKEN = "demo-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def records(n: int) -> pa.Table:
    return pa.table(
        {
            "uscc": [f"91310117MA1G{i:06d}" for i in range(n)],
            "org_name": [f"上海松江第{i}号有限公司" for i in range(n)],
            "capital": [i * 10.5 for i in range(n)],
            "established_on": [dt.date(2010, 1, 1) + dt.timedelta(days=i) for i in range(n)],
            "updated_at": [dt.datetime(2024, 5, 1, 8, 0) + dt.timedelta(hours=i) for i in range(n)],
        }
    )


@pytest.fixture
def server():
    with PagedApiServer(TOKEN) as srv:
        srv.add_dataset(
            "/api/scjgj/qydj", records(25), style="any", max_page_size=10, updated_field="updated_at"
        )
        yield srv


@pytest.fixture
def client(server):
    with httpx.Client(base_url=server.url, headers=AUTH, timeout=5) as c:
        yield c


def test_pages_by_number_with_total_and_dates_as_iso_text(client):
    body = client.get("/api/scjgj/qydj", params={"page": 3, "page_size": 10}).json()
    assert body["total"] == 25 and body["page"] == 3
    assert [r["uscc"] for r in body["data"]] == [f"91310117MA1G{i:06d}" for i in range(20, 25)]
    assert body["data"][0]["established_on"] == "2010-01-21"
    assert body["data"][0]["updated_at"] == "2024-05-02 04:00:00"
    assert body["data"][0]["org_name"] == "上海松江第20号有限公司"


def test_page_size_is_capped_and_offset_and_cursor_paging_cover_every_record_once(client):
    first = client.get("/api/scjgj/qydj", params={"offset": 5, "limit": 1000}).json()
    assert len(first["data"]) == 10 and first["data"][0]["uscc"].endswith("000005")
    seen, cursor = [], None
    while True:
        body = client.get("/api/scjgj/qydj", params={"cursor": cursor} if cursor else {}).json()
        seen += [r["uscc"] for r in body["data"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == records(25).column("uscc").to_pylist()


def test_a_declared_style_ignores_other_paging_parameters(server, client):
    server.add_dataset("/api/x/cursor_only", records(5), style="cursor", max_page_size=2)
    body = client.get("/api/x/cursor_only", params={"page": 3, "offset": 4}).json()
    assert [r["uscc"][-1] for r in body["data"]] == ["0", "1"] and body["next_cursor"]


def test_requests_without_the_right_token_get_a_json_401(server):
    for headers in ({}, {"Authorization": "Bearer nope"}):
        resp = httpx.get(server.url + "/api/scjgj/qydj", headers=headers)
        assert resp.status_code == 401 and resp.json()["error"] == "unauthorized"
        assert TOKEN not in resp.text


def test_updated_since_keeps_records_updated_at_or_after_it(client):
    body = client.get("/api/scjgj/qydj", params={"updated_since": "2024-05-01T23:00:00"}).json()
    assert body["total"] == 10 and body["data"][0]["updated_at"] == "2024-05-01 23:00:00"
    bad = client.get("/api/scjgj/qydj", params={"updated_since": "yesterday"})
    assert bad.status_code == 400


def test_unknown_paths_and_bad_cursors_are_json_errors(client):
    assert client.get("/api/none/here").status_code == 404
    resp = client.get("/api/scjgj/qydj", params={"cursor": "!!garbage"})
    assert resp.status_code == 400 and "cursor" in resp.json()["message"]


def test_serve_directory_mounts_every_agency_resource_parquet(tmp_path):
    (tmp_path / "gaj").mkdir()
    (tmp_path / "mzj").mkdir()
    pq.write_table(records(3), tmp_path / "gaj" / "hjrk.parquet")
    pq.write_table(records(4).drop_columns(["updated_at"]), tmp_path / "mzj" / "shzz.parquet")
    with PagedApiServer(None) as srv:
        assert srv.serve_directory(tmp_path) == ["/api/gaj/hjrk", "/api/mzj/shzz"]
        assert httpx.get(srv.url + "/api/gaj/hjrk").json()["total"] == 3
        since = {"updated_since": "2024-05-01 09:00:00"}
        assert httpx.get(srv.url + "/api/gaj/hjrk", params=since).json()["total"] == 2
        assert httpx.get(srv.url + "/api/mzj/shzz", params=since).json()["total"] == 4  # no update field


def test_rate_limit_and_server_error_faults_then_normal_service(server, client):
    server.inject("/api/scjgj/qydj", "429", retry_after=2)
    server.inject("/api/scjgj/qydj", "503")
    limited = client.get("/api/scjgj/qydj")
    assert limited.status_code == 429 and limited.headers["Retry-After"] == "2"
    assert client.get("/api/scjgj/qydj").status_code == 503
    assert client.get("/api/scjgj/qydj").status_code == 200
    assert [r.status for r in server.requests_to("/api/scjgj/qydj")] == [429, 503, 200]


def test_faults_that_spoil_the_body(server, client):
    server.inject("/api/scjgj/qydj", "malformed_json")
    with pytest.raises(json.JSONDecodeError):
        json.loads(client.get("/api/scjgj/qydj").content)
    server.inject("/api/scjgj/qydj", "wrong_shape")
    assert "data" not in client.get("/api/scjgj/qydj").json()
    server.inject("/api/scjgj/qydj", "loop_cursor", times=2)
    first = client.get("/api/scjgj/qydj").json()["next_cursor"]
    again = client.get("/api/scjgj/qydj", params={"cursor": first}).json()["next_cursor"]
    assert first == again


def test_faults_that_break_the_connection(server, client):
    server.inject("/api/scjgj/qydj", "drop_connection", after=1)
    assert client.get("/api/scjgj/qydj").status_code == 200  # `after` lets one through first
    with pytest.raises(httpx.RemoteProtocolError):
        client.get("/api/scjgj/qydj")
    server.inject("/api/scjgj/qydj", "timeout", delay_s=0.6)
    with pytest.raises(httpx.ReadTimeout):
        client.get("/api/scjgj/qydj", timeout=0.2)
    assert client.get("/api/scjgj/qydj").status_code == 200


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_module_command_serves_a_folder_until_terminated(tmp_path):
    (tmp_path / "gaj").mkdir()
    pq.write_table(records(7), tmp_path / "gaj" / "hjrk.parquet")
    port = _free_port()
    cmd = [sys.executable, "-m", "govhub.demo.api_server", "--root", str(tmp_path), "--port", str(port)]
    proc = subprocess.Popen(
        [*cmd, "--token", TOKEN], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                resp = httpx.get(f"http://127.0.0.1:{port}/api/gaj/hjrk", headers=AUTH)
                break
            except httpx.ConnectError:
                assert proc.poll() is None, proc.stderr.read()
                assert time.monotonic() < deadline, "server did not start"
                time.sleep(0.1)
        assert resp.json()["total"] == 7
    finally:
        proc.terminate()
        out, err = proc.communicate(timeout=10)
    assert proc.returncode == 0, err
    assert "serving 1 datasets" in out


def test_keep_alive_pages_do_not_wait_for_the_clients_delayed_ack():
    """Nagle's algorithm would hold each response's body ≈40 ms for the client's delayed ACK (≤ 25 pages/s)."""
    import http.client

    with PagedApiServer() as srv:
        srv.add_dataset("/api/bench/big", records(2000), max_page_size=100)
        host, port = srv.url.removeprefix("http://").split(":")
        conn = http.client.HTTPConnection(host, int(port), timeout=5)
        seconds = []
        for page in range(1, 21):
            started = time.perf_counter()
            conn.request("GET", f"/api/bench/big?page={page}&page_size=100")
            response = conn.getresponse()
            assert len(json.loads(response.read())["data"]) == 100
            seconds.append(time.perf_counter() - started)
        conn.close()
    seconds.sort()
    assert seconds[len(seconds) // 2] < 0.03, f"median page took {seconds[len(seconds) // 2] * 1000:.0f} ms"
