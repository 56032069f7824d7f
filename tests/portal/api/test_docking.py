"""The docking API on a running portal (uvicorn on 127.0.0.1) over a demo hub with real loads: a consumer system
reads exactly what its agency may reach — granted fields and rows, set-equal to hub.duckdb — in every format, pages
stay on one snapshot across a publish, changes never leak a row outside the scope, an expired or revoked grant or
token stops at once, and every call is one event."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import re

import httpx
import openpyxl
import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.parquet as pq
import pytest

from govhub.events import list_events
from govhub.portal.api.config import ApiConfig
from govhub.portal.app import create_app
from govhub.portal.config import PortalConfig
from govhub.services.grants import revoke
from govhub.services.tokens import create_token, get_token, revoke_token
from govhub.services.workspaces import api_copies
from govhub.warehouse.snapshots import current_snapshot_id
from tests.conftest import deliver
from tests.portal.api.conftest import TOWN, Api, grant
from tests.portal.conftest import serve, stop

ROWS = "/api/v1/resources/{}/rows"
CHANGES = "/api/v1/resources/{}/changes"


def walk(
    c: httpx.Client, code: str, limit: int, *, changes: str | None = None, **params: object
) -> list[httpx.Response]:
    """Every page of a JSON walk, first to last."""
    path = (CHANGES if changes else ROWS).format(code)
    pages: list[httpx.Response] = []
    cursor = None
    while True:
        query = {
            "limit": limit,
            **params,
            **({"since": changes} if changes else {}),
            **({"cursor": cursor} if cursor else {}),
        }
        r = c.get(path, params=query)
        assert r.status_code == 200, r.text
        pages.append(r)
        cursor = r.json()["next_cursor"]
        if cursor is None:
            return pages


def rows_of(pages: list[httpx.Response], key: str = "rows") -> list[dict]:
    return [row for p in pages for row in p.json()[key]]


def as_set(rows: list[dict], columns: list[str]) -> set[tuple]:
    def value(v: object) -> object:
        return dt.date.fromisoformat(v) if isinstance(v, str) and len(v) == 10 and v[4] == "-" else v

    return {tuple(value(r[c]) for c in columns) for r in rows}


def test_a_consumer_reads_exactly_the_granted_fields_and_rows(api: Api) -> None:
    c = api.client()
    # a grant with its key: id_number, name, birth_date of one town's people, in key order across pages
    pages = walk(c, "gaj/hjrk", 17)
    got = rows_of(pages)
    assert pages[0].json()["columns"] == ["id_number", "name", "birth_date"]
    ids = [r["id_number"] for r in got]
    assert ids == sorted(ids) and len(ids) == len(set(ids))
    expected = api.hub_rows("SELECT id_number, name, birth_date FROM gaj.hjrk WHERE town_code = ?", TOWN)
    assert as_set(got, ["id_number", "name", "birth_date"]) == expected and len(expected) > 17
    # a grant without its key (contract_no): ordered by it, never shown — not even inside the cursor
    pages = walk(c, "fgj/clfjy", 40)
    cols = ["house_id", "buyer_name", "deal_type", "registered_on"]
    assert pages[0].json()["columns"] == ["_row", *cols]  # a pseudonymous row key stands in for the key
    row_ids = [r["_row"] for r in rows_of(pages)]
    assert len(set(row_ids)) == len(row_ids) and all(re.fullmatch(r"[0-9a-f]{32}", r) for r in row_ids)
    unsalted = {
        hashlib.sha256(str(k).encode()).hexdigest()
        for (k,) in api.hub_rows("SELECT contract_no FROM fgj.clfjy")
    }
    assert not unsalted & set(
        row_ids
    )  # keyed with the consumer's own secret: not a hash anyone can recompute
    assert as_set(rows_of(pages), cols) == api.hub_rows(
        f"SELECT {', '.join(cols)} FROM fgj.clfjy WHERE deal_type = '买卖'"
    )
    hidden = {r[0] for r in api.hub_rows("SELECT contract_no FROM fgj.clfjy")} | {
        r[0] for r in api.hub_rows("SELECT buyer_id FROM fgj.clfjy")}  # fmt: skip
    for page in pages:
        assert not any(value in page.text for value in hidden)
    # a base resource (unconditional fields, every row) merged with a grant of one conditional field for one town
    r = c.get(ROWS.format("scjgj/qydj"), params={"format": "csv"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    table = list(csv.DictReader(io.StringIO(r.text)))
    assert "legal_rep_id" in table[0]
    shown = {(row["uscc"], row["legal_rep_id"] or None) for row in table}
    assert shown == api.hub_rows(
        "SELECT uscc, CASE WHEN town_code = ? THEN legal_rep_id END FROM scjgj.qydj", TOWN
    )
    assert any(v for _, v in shown) and any(v is None for _, v in shown)
    # its own resource whole; what it was not granted: 403 (the catalog is public), unknown: 404
    own = c.get(ROWS.format("mzj/hydj"), params={"limit": 5}).json()
    assert own["columns"] == [f.name for f in api.hub.resource("mzj/hydj").fields]
    for code, status, error in [("gaj/lhry", 403, "docking.not_in_scope"), ("gaj/wfjl", 403, "docking.not_in_scope"),
                                ("gaj/nosuch", 404, "docking.unknown_resource"), ("kw/hjrk", 404, "docking.unknown_resource")]:  # fmt: skip
        r = c.get(ROWS.format(code))
        assert (r.status_code, r.json()["code"]) == (status, error), r.text
        assert "lhry" not in code or "没有生效的共享授权" in r.json()["message"]


def test_the_resource_list_says_what_is_reachable_on_what_basis_until_when(api: Api) -> None:
    listing = api.client().get("/api/v1/resources").json()
    by_code = {f"{r['agency']}/{r['resource']}": r for r in listing["resources"]}
    assert listing["agency"] == "mzj" and listing["system"] == "社会救助管理系统"
    assert {"gaj/hjrk", "fgj/clfjy", "scjgj/qydj", "mzj/hydj", "mzj/shjz"} <= set(by_code)
    assert "gaj/lhry" not in by_code and "gaj/wfjl" not in by_code
    hjrk = by_code["gaj/hjrk"]
    (access,) = hjrk["access"]
    assert access["basis"] == "grant" and access["grant_id"] == api.grants["gaj/hjrk"]
    assert access["rows"] == [{"field": "town_code", "in": [TOWN]}] and access["fields"] == [
        "id_number",
        "name",
        "birth_date",
    ]
    assert access["expires_on"] == (api.today + dt.timedelta(days=10)).isoformat()
    assert hjrk["snapshot_id"] == current_snapshot_id(api.settings, api.hub.resource("gaj/hjrk"))
    assert [f["name"] for f in hjrk["fields"]] == ["id_number", "name", "birth_date"]
    qydj = by_code["scjgj/qydj"]
    assert sorted(a["basis"] for a in qydj["access"]) == ["base", "grant"]
    assert "legal_rep_id" not in next(a for a in qydj["access"] if a["basis"] == "base")["fields"]
    assert by_code["mzj/hydj"]["access"][0]["basis"] == "own"


def test_formats_round_trip(api: Api) -> None:
    c = api.client()
    cols = ["house_id", "buyer_name", "deal_type", "registered_on"]
    pages = as_set(rows_of(walk(c, "fgj/clfjy", 1000)), cols)
    whole = c.get(ROWS.format("fgj/clfjy"), params={"format": "parquet"})
    assert whole.status_code == 200 and whole.headers["content-type"] == "application/vnd.apache.parquet"
    assert "attachment" in whole.headers["content-disposition"]
    table = pq.read_table(io.BytesIO(whole.content))
    assert table.column_names == ["_row", *cols] and table.schema.field("registered_on").type == pa.date32()
    assert {tuple(r[k] for k in cols) for r in table.to_pylist()} == pages
    by_row = {r["_row"]: r["house_id"] for r in rows_of(walk(c, "fgj/clfjy", 1000))}
    assert {r["_row"]: r["house_id"] for r in table.to_pylist()} == by_row  # the same row key everywhere
    provenance = json.loads(table.schema.metadata[b"govhub.provenance"])
    assert provenance["grants"] == [api.grants["fgj/clfjy"]] and provenance["agency"] == "mzj"
    assert provenance["snapshot_id"] == whole.headers["x-snapshot-id"] and provenance["token"] == api.token_id
    as_csv = c.get(ROWS.format("fgj/clfjy"), params={"format": "csv"})
    parsed = pcsv.read_csv(io.BytesIO(as_csv.content))
    assert parsed.column_names == ["_row", *cols]
    assert {tuple(r[k] for k in cols) for r in parsed.to_pylist()} == pages
    # a page as CSV or Parquet: its cursor in a header, the same rows as the JSON pages
    seen: set[tuple] = set()
    cursor = None
    for fmt in ("csv", "parquet", "csv", "parquet", "csv", "parquet", "csv", "parquet"):
        r = c.get(
            ROWS.format("fgj/clfjy"),
            params={"format": fmt, "limit": 30, **({"cursor": cursor} if cursor else {})},
        )
        assert r.status_code == 200
        part = pcsv.read_csv(io.BytesIO(r.content)) if fmt == "csv" else pq.read_table(io.BytesIO(r.content))
        seen |= {tuple(row[k] for k in cols) for row in part.to_pylist()}
        cursor = r.headers.get("x-next-cursor")
        if cursor is None:
            break
    assert seen <= pages and len(seen) == min(len(pages), 8 * 30)


def test_paging_stays_on_one_snapshot_across_a_publish_in_the_middle(api: Api) -> None:
    from tests.services.test_ingest import touched_api_table

    c = api.client()
    resource = api.hub.resource("gaj/hjrk")
    before = current_snapshot_id(api.settings, resource)
    first = c.get(ROWS.format("gaj/hjrk"), params={"limit": 10}).json()
    # the agency renames people (in every town) and the hub publishes while the consumer is on page 1
    table, _ = touched_api_table(api.hub, "gaj/hjrk", "name", 600)
    api.hub.server.add_dataset("/api/gaj/hjrk", table, style="any", updated_field="updated_at")
    assert deliver(api.settings, resource, actor="lujianhua").status == "published"
    after = current_snapshot_id(api.settings, resource)
    assert after != before
    rest = walk(c, "gaj/hjrk", 10, cursor=first["next_cursor"])
    got = first["rows"] + rows_of(rest)
    assert {p.json()["snapshot_id"] for p in rest} == {before}
    cols = ["id_number", "name", "birth_date"]
    old = api.hub_rows(
        f"SELECT {', '.join(cols)} FROM gaj.hjrk__history WHERE snapshot_id = ? AND town_code = ?",
        before,
        TOWN,
    )
    assert as_set(got, cols) == old and len(got) == len(old)
    assert not any("（变更）" in r["name"] for r in got)
    fresh = rows_of(walk(c, "gaj/hjrk", 1000))  # a new walk reads the new snapshot
    assert all("（变更）" in r["name"] for r in fresh)
    assert as_set(fresh, cols) == api.hub_rows(
        f"SELECT {', '.join(cols)} FROM gaj.hjrk WHERE town_code = ?", TOWN
    )


def _edit_sheet(api: Api, tmp_path) -> tuple[dict, dict, dict[str, str]]:  # type: ignore[no-untyped-def]
    """A new delivery of 存量房交易 with one case of every kind; the rows before and after by contract_no, and which
    contract is which case."""
    manifest = json.loads((api.settings.demo_dir / "manifest.json").read_text(encoding="utf-8"))
    source = api.settings.demo_dir / manifest["resources"]["fgj/clfjy"]["path"]
    wb = openpyxl.load_workbook(source)
    ws = wb.worksheets[0]
    data = [r for r in ws.iter_rows(min_row=2) if r[0].value]
    before = {r[0].value: [c.value for c in r] for r in data}
    inside = [r for r in data if r[4].value == "买卖"]
    outside = [r for r in data if r[4].value != "买卖"]
    case = {"deleted_in": inside[0][0].value, "deleted_out": outside[0][0].value, "renamed_in": inside[1][0].value,
            "left": inside[2][0].value, "entered": outside[1][0].value, "renamed_out": outside[2][0].value,
            "price_only": inside[3][0].value, "new_in": "FGJ9000000001", "new_out": "FGJ9000000002"}  # fmt: skip
    inside[1][2].value = "改名甲"
    inside[2][4].value = "赠与"
    outside[1][4].value = "买卖"
    outside[2][2].value = "改名乙"
    inside[3][5].value = (inside[3][5].value or 0) + 1
    for number, kind, name in (("FGJ9000000001", "买卖", "新增甲"), ("FGJ9000000002", "继承", "新增乙")):
        ws.append([number, "FGJ9999999999", name, data[5][3].value, kind, None, dt.datetime(2026, 1, 2)])
    for row in sorted((inside[0][0].row, outside[0][0].row), reverse=True):
        ws.delete_rows(row)
    path = tmp_path / "clfjy.xlsx"
    wb.save(path)
    after = {r[0]: list(r) for r in ws.iter_rows(min_row=2, values_only=True) if r[0]}
    assert deliver(api.settings, api.hub.resource("fgj/clfjy"), path, actor="guzhenyu").status == "published"
    return before, after, case


def test_changes_since_a_snapshot_never_leak_a_row_outside_the_scope(api: Api, tmp_path) -> None:  # type: ignore[no-untyped-def]
    c = api.client()
    # the token a consumer keeps (the scope lacks the key: a bare snapshot id would be refused)
    since = c.get(ROWS.format("fgj/clfjy"), params={"limit": 1}).json()["changes_since"]
    assert since.startswith(current_snapshot_id(api.settings, api.hub.resource("fgj/clfjy")) + "~")
    before, after, case = _edit_sheet(api, tmp_path)

    def granted(row: list) -> tuple:  # house_id, buyer_name, deal_type, registered_on
        day = row[6].date() if isinstance(row[6], dt.datetime) else row[6]
        return (row[1], row[2], row[4], day)

    expected = {("delete", *granted(before[case["deleted_in"]])), ("update", *granted(after[case["renamed_in"]])),
                ("delete", *granted(before[case["left"]])), ("insert", *granted(after[case["entered"]])),
                ("insert", *granted(after[case["new_in"]]))}  # fmt: skip
    pages = walk(c, "fgj/clfjy", 2, changes=since)
    cols = ["_change", "house_id", "buyer_name", "deal_type", "registered_on"]
    assert pages[0].json()["columns"] == ["_change", "_row", *cols[1:]]
    assert pages[0].json()["since"] == since.split("~")[0]  # the snapshot the changes are counted from
    assert as_set(rows_of(pages, "changes"), cols) == expected
    # each change names its row as the copy does: an update or delete applies to the row read before
    now = {r["_row"] for r in rows_of(walk(c, "fgj/clfjy", 1000))}
    for change in rows_of(pages, "changes"):
        assert (change["_row"] in now) == (change["_change"] != "delete"), change
    streamed = c.get(CHANGES.format("fgj/clfjy"), params={"since": since, "format": "parquet"})
    streamed_rows = pq.read_table(io.BytesIO(streamed.content)).to_pylist()
    assert {tuple(r[k] for k in cols) for r in streamed_rows} == expected
    as_csv = c.get(CHANGES.format("fgj/clfjy"), params={"since": since, "format": "csv"})
    assert len(list(csv.DictReader(io.StringIO(as_csv.text)))) == len(expected)
    leaks = [
        "改名乙",
        "新增乙",
        before[case["deleted_out"]][2],
        before[case["renamed_out"]][2],
        *after,
        *before,
    ]
    for text in [p.text for p in pages] + [
        as_csv.text,
        json.dumps(pq.read_table(io.BytesIO(streamed.content)).to_pylist(), default=str, ensure_ascii=False),
    ]:
        assert not [v for v in leaks if v and v in text], (
            "a value outside the scope (or the key) left the hub"
        )
    latest = c.get(ROWS.format("fgj/clfjy"), params={"limit": 1}).json()["changes_since"]
    assert c.get(CHANGES.format("fgj/clfjy"), params={"since": latest}).json()["changes"] == []
    for bad in ("20000101T000000000000Z", "x' OR 1=1 --", "../../etc"):
        r = c.get(CHANGES.format("fgj/clfjy"), params={"since": bad})
        assert (r.status_code, r.json()["code"]) == (400, "docking.bad_since")
    assert c.get(CHANGES.format("fgj/clfjy")).json()["code"] == "docking.bad_since"


def test_an_expired_or_revoked_grant_stops_at_once(api: Api) -> None:
    c = api.client()
    assert c.get(ROWS.format("gaj/hjrk"), params={"limit": 1}).status_code == 200
    api.clock.advance(dt.timedelta(days=11))  # the grant ran until today + 10
    try:
        expired = c.get(ROWS.format("gaj/hjrk"), params={"limit": 1})
        assert expired.status_code == 403 and expired.json()["code"] == "docking.not_in_scope"
        assert "gaj/hjrk" not in {
            f"{r['agency']}/{r['resource']}" for r in c.get("/api/v1/resources").json()["resources"]
        }
    finally:
        api.clock.advance(dt.timedelta(days=-11))
    page = c.get(ROWS.format("gaj/hjrk"), params={"limit": 1}).json()
    assert page["count"] == 1
    gid = api.grants["gaj/hjrk"]
    revoke(api.settings, gid, actor="lujianhua", reason="核验完成")
    try:
        gone = c.get(ROWS.format("gaj/hjrk"), params={"cursor": page["next_cursor"]})
        assert gone.status_code == 403, "a walk begun under the grant stops with it"
        assert c.get(ROWS.format("gaj/hjrk"), params={"format": "parquet"}).status_code == 403
        refused = list_events(
            api.settings, kind="api.failed", subject="gaj/hjrk", newest_first=True, limit=1
        )[0]
        assert refused.payload["status"] == 403 and refused.payload["error"] == "docking.not_in_scope"
    finally:  # the other tests read this resource: grant it again
        api.grants["gaj/hjrk"] = grant(api.hub, "gaj/hjrk", fields=["id_number", "name", "birth_date"],
                                       rows=[{"field": "town_code", "in": [TOWN]}], until=api.today + dt.timedelta(days=10),
                                       today=api.today)  # fmt: skip


def test_unknown_revoked_or_missing_tokens_are_refused_and_recorded(api: Api) -> None:
    other = create_token(
        api.settings, api.hub.catalog, agency="mzj", system="即将撤销的系统", actor="wangjingyi"
    )
    c = api.client(other.secret)
    assert c.get("/api/v1/resources").status_code == 200
    revoke_token(api.settings, other.token.id, actor="wangjingyi")
    cases = [({}, "docking.no_token"), ({"Authorization": "Basic eDp5"}, "docking.no_token"),
             ({"Authorization": "Bearer"}, "docking.no_token"), ({"Authorization": "Bearer ghub_" + "A" * 43}, "docking.unknown_token"),
             ({"Authorization": "Bearer " + "x" * 5000}, "docking.unknown_token"),
             ({"Authorization": f"Bearer {other.secret}"}, "docking.revoked_token")]  # fmt: skip
    for headers, code in cases:
        r = httpx.get(api.url + ROWS.format("mzj/hydj"), headers=headers)
        assert r.status_code == 401 and r.json()["code"] == code, (headers, r.text)
        assert r.headers["www-authenticate"].startswith("Bearer") and "Traceback" not in r.text
    revoked = list_events(
        api.settings, kind="api.failed", actor=f"api:{other.token.id}", newest_first=True, limit=1
    )[0]
    assert revoked.payload["status"] == 401 and revoked.payload["error"] == "docking.revoked_token"
    anonymous = list_events(api.settings, kind="api.failed", actor="api:anonymous")
    assert len([e for e in anonymous if e.payload["status"] == 401]) >= 5


def test_bad_cursors_formats_and_limits_are_400_in_chinese(api: Api) -> None:
    c = api.client()
    page = c.get(ROWS.format("fgj/clfjy"), params={"limit": 2}).json()
    cursor = page["next_cursor"]
    tampered = cursor[:-6] + ("AAAAAA" if not cursor.endswith("AAAAAA") else "BBBBBB")
    cases = [({"cursor": tampered}, "docking.bad_cursor"), ({"cursor": "not-a-cursor"}, "docking.bad_cursor"),
             ({"limit": 0}, "docking.bad_request"), ({"limit": 10_001}, "docking.bad_request"),
             ({"limit": "ten"}, "docking.bad_request"), ({"format": "xml"}, "docking.bad_request"),
             ({"cursor": "x" * 5000}, "docking.bad_request")]  # fmt: skip
    for params, code in cases:
        r = c.get(ROWS.format("fgj/clfjy"), params=params)
        assert (r.status_code, r.json()["code"]) == (400, code), (params, r.text)
        assert any("\u4e00" <= ch <= "\u9fff" for ch in r.json()["message"])
    elsewhere = c.get(ROWS.format("mzj/hydj"), params={"cursor": cursor})  # a cursor of another resource
    assert (elsewhere.status_code, elsewhere.json()["code"]) == (400, "docking.bad_cursor")
    other_agency = create_token(
        api.settings, api.hub.catalog, agency="fgj", system="房管自用", actor="guzhenyu"
    )
    r = api.client(other_agency.secret).get(ROWS.format("fgj/clfjy"), params={"cursor": cursor})
    # not another agency's walk either
    assert (r.status_code, r.json()["code"]) == (400, "docking.bad_cursor")
    api.clock.advance(dt.timedelta(hours=25))
    try:
        r = c.get(ROWS.format("fgj/clfjy"), params={"cursor": cursor})
        assert (r.status_code, r.json()["code"]) == (400, "docking.cursor_expired")
    finally:
        api.clock.advance(dt.timedelta(hours=-25))
    r = c.post(ROWS.format("fgj/clfjy"))
    assert r.status_code in (403, 405) and r.headers["content-type"].startswith("application/json")
    for path in (
        "/api/v1",
        "/api/v2/resources",
        "/api",
        "/api/v1/nosuch",
    ):  # no route: the API's JSON, not a page
        r = c.get(path)
        assert r.status_code == 404 and r.json()["code"] == "docking.not_found", (path, r.text)


def test_a_client_leaving_mid_stream_is_recorded_as_incomplete_and_its_slot_comes_back(api: Api) -> None:
    """A consumer system drops the connection after the first bytes of a whole-table CSV (a reset, as a killed
    process leaves it): the stream stops there, the call is recorded as incomplete with the bytes that went out —
    fewer than the whole — and the token's one stream slot is free again for its next download."""
    import socket
    import struct
    import time

    from govhub.demo.sources import sheet_cells, write_csv
    from govhub.demo.synthetic import DistrictPools, synthetic_table
    from govhub.services.docking import DockingLimits

    own = api.hub.resource("mzj/shjz")  # mzj's own: its token streams all of it
    table = synthetic_table(own, 6000, seed=11, pools=DistrictPools())
    sheet = api.settings.home / "shjz-6000.csv"
    write_csv([f.label for f in own.fields], sheet_cells(own, table), sheet, encoding="utf-8")
    outcome = deliver(api.settings, own, sheet, actor="wangjingyi")
    assert outcome.status == "published", outcome.problems
    limits = DockingLimits(batch_rows=100)  # many chunks: the stream is still running when the client goes
    config = PortalConfig(clock=api.clock, api=ApiConfig(per_token_per_minute=100_000, per_address_per_minute=100_000,
                                                         streams_per_token=1, limits=limits))  # fmt: skip
    app = create_app(api.settings, config)
    served = serve(app, send_buffer=4096)
    path = ROWS.format("mzj/shjz") + "?format=csv"
    try:
        auth = {"Authorization": f"Bearer {api.secret}"}
        whole = httpx.get(served.url + path, headers=auth, timeout=60)
        assert whole.status_code == 200 and len(whole.content) > 256 * 1024, len(
            whole.content
        )  # beyond the buffers
        mark = list_events(api.settings, newest_first=True, limit=1)[0].id
        port = int(served.url.rsplit(":", 1)[1])
        with socket.socket() as sock:
            # before connecting: the window it offers is that small from the start
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            sock.connect(("127.0.0.1", port))
            sock.sendall(
                f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {api.secret}\r\n\r\n".encode()
            )
            first = sock.recv(4096)
            assert first.startswith(b"HTTP/1.1 200"), first[:200]
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # close = reset
        deadline = time.monotonic() + 30
        while not (calls := list_events(api.settings, kind="api.call", after_id=mark)):
            assert time.monotonic() < deadline, "the dropped stream was never recorded"
            time.sleep(0.05)
        (call,) = calls
        p = call.payload
        assert p["status"] == 200 and p["complete"] is False and p["format"] == "csv"
        assert 0 < p["bytes"] < len(whole.content) and p["rows"] < whole.text.count("\n") - 1
        assert app.state["api_streams"].running(api.token_id) == 0
        again = httpx.get(served.url + path, headers=auth, timeout=60)  # one slot per token: it came back
        assert again.status_code == 200 and again.content == whole.content
    finally:
        stop(served)


def test_both_parties_see_how_a_grant_was_used_through_the_api(
    api: Api, capsys: pytest.CaptureFixture[str]
) -> None:
    """`grant show` says how many calls, rows and bytes went out through the grant, and when last (§15)."""
    from govhub.cli.main import main
    from govhub.problems import AccessDenied
    from govhub.services.grants import show_grant, used

    grant_id = api.grants["scjgj/qydj"]
    grant = show_grant(api.settings, grant_id, actor="shenxiaoyan")
    before = used(api.settings, [grant], actor="shenxiaoyan")[grant_id]  # the provider
    c = api.client()
    whole = c.get(ROWS.format("scjgj/qydj"), params={"format": "parquet"})
    page = c.get(ROWS.format("scjgj/qydj"), params={"limit": 3})
    after = used(api.settings, [grant], actor="wangjingyi")[grant_id]  # the consumer
    assert after.api_calls - before.api_calls == 2 and after.queries == before.queries
    assert after.api_rows - before.api_rows == pq.read_table(io.BytesIO(whole.content)).num_rows + 3
    assert after.api_bytes - before.api_bytes == len(whole.content) + len(page.content)
    assert after.last_used_at and after.last_used_at > (before.last_used_at or "")
    with pytest.raises(AccessDenied):
        used(api.settings, [grant], actor="lujianhua")  # a steward of neither party
    main(["--home", str(api.settings.home), "--catalog", str(api.settings.catalog_dir), "grant", "show", grant_id,
          "--by", "shenxiaoyan"])  # fmt: skip
    out = capsys.readouterr().out
    assert f"接口调用 {after.api_calls} 次（{after.api_rows:,} 条，" in out and "最近使用 " in out


def test_every_call_is_one_event_and_the_token_remembers_its_last_use(api: Api) -> None:
    c = api.client()
    mark = list_events(api.settings, newest_first=True, limit=1)[0].id
    r = c.get(ROWS.format("scjgj/qydj"), params={"format": "parquet"})
    rows = pq.read_table(io.BytesIO(r.content)).num_rows
    (event,) = list_events(api.settings, kind="api.call", after_id=mark)
    assert event.actor == f"api:{api.token_id}" and event.agency == "mzj" and event.subject == "scjgj/qydj"
    p = event.payload
    assert p["rows"] == rows and p["format"] == "parquet" and p["complete"] and p["status"] == 200
    assert p["bytes"] == len(r.content)  # what went out, streamed chunk by chunk
    page = c.get(ROWS.format("scjgj/qydj"), params={"limit": 2})
    (paged,) = list_events(api.settings, kind="api.call", after_id=event.id)
    assert paged.payload["bytes"] == len(page.content) and paged.payload["rows"] == 2
    assert p["grants"] == [api.grants["scjgj/qydj"]] and p["purposes"] == ["scjgj/qydj 对接核验"]
    assert p["bases"] == ["base", "grant"] and p["system"] == "社会救助管理系统" and p["duration_s"] >= 0
    assert get_token(api.settings, api.token_id).last_used_at is not None
    assert len(list_events(api.settings, after_id=mark)) == 2, "nothing else written per call"
    # the scorecard counts it as data used through the grant (§18)
    from govhub.governance.sharing_measures import sharing_measures
    from govhub.governance.workdays import WorkdayCalendar

    today = api.today
    used = sharing_measures(api.settings, today, today, WorkdayCalendar(), today)["mzj"].use[
        api.grants["scjgj/qydj"]
    ]
    assert used.api_calls >= 1 and used.api_rows >= rows


def test_a_token_over_its_rate_limit_gets_429_and_another_token_does_not(api: Api) -> None:
    config = PortalConfig(clock=api.clock, api=ApiConfig(per_token_per_minute=3, per_address_per_minute=1000))
    served = serve(create_app(api.settings, config))
    try:
        other = create_token(
            api.settings, api.hub.catalog, agency="mzj", system="限流测试", actor="wangjingyi"
        )
        mark = list_events(api.settings, newest_first=True, limit=1)[0].id
        headers = {"Authorization": f"Bearer {api.secret}"}
        codes = [httpx.get(served.url + "/api/v1/resources", headers=headers).status_code for _ in range(4)]
        assert codes == [200, 200, 200, 429]
        r = httpx.get(served.url + "/api/v1/resources", headers=headers)
        assert r.json()["code"] == "docking.rate_limited" and int(r.headers["retry-after"]) > 0
        assert (
            httpx.get(
                served.url + "/api/v1/resources", headers={"Authorization": f"Bearer {other.secret}"}
            ).status_code
            == 200
        )
        # refused floods write nothing
        assert len(list_events(api.settings, kind="api.*", after_id=mark)) == 4
        assert httpx.get(served.url + "/api/v1/openapi.json").status_code == 200
    finally:
        stop(served)


def test_concurrent_streams_per_token_are_bounded_and_slots_come_back() -> None:
    from govhub.portal.api.routes import Streams
    from govhub.services.docking import DockingError

    streams = Streams()
    first, second = streams.enter("TK-1", 2), streams.enter("TK-1", 2)
    with pytest.raises(DockingError) as refused:
        streams.enter("TK-1", 2)
    assert refused.value.status == 429 and refused.value.problem.code == "docking.too_many_streams"
    streams.enter("TK-2", 2)  # another token is not affected
    first()
    first()  # released twice (stream end and finaliser): counted once
    assert streams.running("TK-1") == 1
    second()
    assert streams.running("TK-1") == 0


def test_changes_since_a_scope_that_no_longer_holds_are_refused_until_read_again(api: Api) -> None:
    """A consumer keeps a copy of what it read under its scope; when a grant widens or narrows it, rows entering or
    leaving the scope are in no change feed. `changes_since` (snapshot and scope) says so with 409; a plain
    snapshot id still reads changes under today's scope."""
    c = api.client()
    first = c.get(ROWS.format("gaj/hjrk"), params={"limit": 5}).json()
    token = first["changes_since"]
    assert token.startswith(first["snapshot_id"] + "~")
    listed = {(r["agency"], r["resource"]): r for r in c.get("/api/v1/resources").json()["resources"]}
    assert listed[("gaj", "hjrk")]["changes_since"] == token
    assert c.get(CHANGES.format("gaj/hjrk"), params={"since": token}).json()["count"] == 0
    today = api.clock().astimezone(dt.timezone(dt.timedelta(hours=8))).date()
    wider = grant(api.hub, "gaj/hjrk", fields=["id_number", "name", "birth_date"],
                  rows=[{"field": "town_code", "in": ["310117003"]}], until=today + dt.timedelta(days=5),
                  today=today)  # fmt: skip
    try:
        r = c.get(CHANGES.format("gaj/hjrk"), params={"since": token})
        assert (r.status_code, r.json()["code"]) == (409, "docking.scope_changed"), r.text
        assert "整表重新读取" in r.json()["message"]
        plain = c.get(CHANGES.format("gaj/hjrk"), params={"since": first["snapshot_id"]})
        assert plain.status_code == 200  # a bare snapshot id: changes under today's scope, as before
        again = c.get(ROWS.format("gaj/hjrk"), params={"limit": 5})
        assert again.headers["X-Changes-Since"] == again.json()["changes_since"] != token
        assert (
            c.get(CHANGES.format("gaj/hjrk"), params={"since": again.json()["changes_since"]}).status_code
            == 200
        )
        copies = api_copies(api.settings, "mzj")
        assert list(copies.glob("gaj.hjrk.*.parquet"))  # the walks' sorted copies, beside mzj's workspace
    finally:
        revoke(api.settings, wider, actor="lujianhua", reason="测试结束")
    assert not list(copies.glob("gaj.hjrk.*.parquet"))  # a revoked grant leaves none of its rows on disk
    assert (
        c.get(CHANGES.format("gaj/hjrk"), params={"since": token}).status_code == 200
    )  # the scope it was read in


def test_the_openapi_document_says_the_headers_consumers_page_by_and_shows_a_real_error(api: Api) -> None:
    from govhub.problems import CODES

    doc = httpx.get(api.url + "/api/v1/openapi.json").json()
    for path in ("rows", "changes"):
        ok = doc["paths"][f"/api/v1/resources/{{agency}}/{{resource}}/{path}"]["get"]["responses"]["200"]
        assert {"X-Next-Cursor", "X-Snapshot-Id", "X-Changes-Since"} <= set(ok["headers"])
    (example,) = doc["components"]["schemas"]["ApiProblem"]["examples"]
    assert example["code"] in CODES and 400 <= example["status"] < 600
    generated = [name for name, schema in doc["components"]["schemas"].items() if name != "ApiProblem" and
                 "examples" in json.dumps(schema)]  # fmt: skip
    assert generated == []  # no random strings passed off as examples


def test_revoking_a_grant_that_showed_nothing_more_does_not_stop_a_walk(api: Api) -> None:
    """A second grant of what a live one already gives adds nothing: granting or revoking it mid-walk leaves what
    the consumer sees unchanged, so its cursor goes on (a revocation that narrows the scope still stops it: 409)."""
    c = api.client()
    first = c.get(ROWS.format("scjgj/qydj"), params={"limit": 3})
    cursor = first.json()["next_cursor"]
    today = api.clock().astimezone(dt.timezone(dt.timedelta(hours=8))).date()
    redundant = grant(api.hub, "scjgj/qydj", fields=["legal_rep_id"], rows=[{"field": "town_code", "in": [TOWN]}],
                      until=today + dt.timedelta(days=5), today=today)  # fmt: skip
    nxt = c.get(ROWS.format("scjgj/qydj"), params={"limit": 3, "cursor": cursor})
    assert nxt.status_code == 200, nxt.text  # granted: nothing more shown, the walk goes on
    revoke(api.settings, redundant, actor="shenxiaoyan", reason="重复授权")
    after = c.get(ROWS.format("scjgj/qydj"), params={"limit": 3, "cursor": nxt.json()["next_cursor"]})
    assert after.status_code == 200, after.text
    assert after.json()["changes_since"] == first.json()["changes_since"]


def test_a_keyless_scope_takes_changes_only_since_a_token_that_names_how_rows_are_keyed(api: Api) -> None:
    """Rows of a scope without the primary key are known by `_row`; a bare snapshot id says nothing of how `_row`
    was made when the consumer read it (it changed once), so only the `changes_since` token is taken there."""
    c = api.client()
    first = c.get(ROWS.format("fgj/clfjy"), params={"limit": 5}).json()
    assert first["columns"][0] == "_row"
    bare = c.get(CHANGES.format("fgj/clfjy"), params={"since": first["snapshot_id"]})
    assert (bare.status_code, bare.json()["code"]) == (409, "docking.scope_changed")
    assert "X-Changes-Since" in bare.json()["message"]
    assert c.get(CHANGES.format("fgj/clfjy"), params={"since": first["changes_since"]}).status_code == 200
    # a token from before `_row` was 128 bits names another make of the keys: refused as a changed scope
    old = first["changes_since"].split("~")[0] + "~" + "0" * 16
    assert c.get(CHANGES.format("fgj/clfjy"), params={"since": old}).status_code == 409


def test_a_since_that_no_changes_since_could_be_is_400_and_says_what_was_given(api: Api) -> None:
    """Only a published snapshot (with, from `changes_since`, its scope's fingerprint) is a `since`; anything else is
    malformed (400 `docking.bad_since`, quoting it), never a scope that changed (409) "since snapshot None"."""
    c = api.client()
    snapshot = c.get(ROWS.format("gaj/hjrk"), params={"limit": 1}).json()["snapshot_id"]
    for bad in ("~xyz", "~", "abc~xyz", "abc~0123456789abcdef", f"{snapshot}~xyz", f"{snapshot}~"):
        r = c.get(CHANGES.format("gaj/hjrk"), params={"since": bad})
        assert (r.status_code, r.json()["code"]) == (400, "docking.bad_since"), (bad, r.text)
        message = r.json()["message"]
        assert f"since“{bad}”" in message and "None" not in message, message
    # a published snapshot read under another scope than today's: that is the 409
    r = c.get(CHANGES.format("gaj/hjrk"), params={"since": f"{snapshot}~{'0' * 16}"})
    assert (r.status_code, r.json()["code"]) == (409, "docking.scope_changed")
    assert f"自快照 {snapshot} 以来" in r.json()["message"]


def test_a_bad_parameter_is_named_alone_with_what_was_given(api: Api) -> None:
    """Each wrong parameter, and only those, is said with what it should be and what was sent."""
    c = api.client()
    limit, fmt = "limit 应为 1 到 10000 之间的整数，收到", "format 应为 json、csv、parquet 之一，收到"
    said = {
        "limit=0": {f"{limit}“0”"},
        "limit=10001": {f"{limit}“10001”"},
        "limit=ten": {f"{limit}“ten”"},
        "limit=": {f"{limit}空值"},
        "format=xml": {f"{fmt}“xml”"},
        "limit=0&format=xml": {f"{limit}“0”", f"{fmt}“xml”"},
    }
    for query, parts in said.items():
        r = c.get(f"{ROWS.format('fgj/clfjy')}?{query}")
        assert (r.status_code, r.json()["code"]) == (400, "docking.bad_request"), query
        assert set(r.json()["message"].split("；")) == parts, (query, r.json()["message"])
    long = c.get(ROWS.format("fgj/clfjy"), params={"cursor": "x" * 5000}).json()["message"]
    assert long.startswith("cursor 应为上一页返回的 next_cursor") and "（共 5000 个字符）" in long, long
    assert len(long) < 200 and "limit" not in long and "format" not in long


def test_head_answers_as_get_without_a_body_and_never_starts_a_download(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """HEAD is GET's status and headers without the body (RFC 9110): a page's length and next cursor; a whole-table
    download's type and file name — without opening its DuckDB. It is recorded as a call that sent no rows."""
    from govhub.warehouse import docking as reading

    c = api.client()
    listing = c.get("/api/v1/resources")
    head = c.head("/api/v1/resources")
    assert (head.status_code, head.content) == (200, b"")
    assert head.headers["content-type"] == "application/json"
    assert int(head.headers["content-length"]) == len(listing.content)
    page = c.head(ROWS.format("gaj/hjrk"), params={"limit": 5})
    assert page.status_code == 200 and page.content == b"" and page.headers["x-next-cursor"]
    assert page.headers["x-snapshot-id"] == current_snapshot_id(api.settings, api.hub.resource("gaj/hjrk"))
    opened: list[object] = []
    real = reading.reader
    monkeypatch.setattr(reading, "reader", lambda *a, **k: opened.append(a) or real(*a, **k))
    mark = list_events(api.settings, newest_first=True, limit=1)[0].id
    whole = c.head(ROWS.format("scjgj/qydj"), params={"format": "parquet"})
    assert (whole.status_code, whole.content) == (200, b"")
    assert whole.headers["content-type"] == "application/vnd.apache.parquet"
    assert "attachment" in whole.headers["content-disposition"] and whole.headers["x-changes-since"]
    assert opened == [], "a HEAD started the download it only describes"
    (event,) = list_events(api.settings, kind="api.call", after_id=mark)
    p = event.payload
    assert (p["method"], p["rows"], p["bytes"], p["status"]) == ("HEAD", 0, 0, 200)
    assert c.get(ROWS.format("scjgj/qydj"), params={"format": "parquet"}).status_code == 200 and opened
    # a refusal too: its status and headers, no body
    refused = httpx.head(api.url + ROWS.format("gaj/hjrk"))
    assert (refused.status_code, refused.content) == (401, b"")
    assert refused.headers["www-authenticate"].startswith("Bearer")
    assert httpx.head(api.url + "/api/v1/openapi.json").status_code == 200


def test_options_says_which_methods_each_address_allows(api: Api) -> None:
    """OPTIONS (no token needed) answers 204 with `Allow`, HEAD included now that each GET has one."""
    for path in (
        "/api/v1/resources",
        ROWS.format("gaj/hjrk"),
        CHANGES.format("gaj/hjrk"),
        "/api/v1/openapi.json",
    ):
        r = httpx.options(api.url + path)
        assert r.status_code == 204, (path, r.text)
        assert {m.strip() for m in r.headers["allow"].split(",")} == {"GET", "HEAD", "OPTIONS"}, path


def test_two_authorization_headers_are_refused_not_resolved(api: Api) -> None:
    """Which of two tokens would the call run as? Neither: 400, as RFC 6750 has it, and recorded as no one's."""
    other = create_token(api.settings, api.hub.catalog, agency="mzj", system="第二个系统", actor="wangjingyi")
    mark = list_events(api.settings, newest_first=True, limit=1)[0].id
    for second in ("Bearer ghub_" + "A" * 43, f"Bearer {other.secret}", f"Bearer {api.secret}"):
        headers = [("Authorization", f"Bearer {api.secret}"), ("Authorization", second)]
        r = httpx.get(api.url + "/api/v1/resources", headers=headers)
        assert (r.status_code, r.json()["code"]) == (400, "docking.bad_request"), r.text
        assert "2 个 Authorization 请求头" in r.json()["message"]
        assert 'error="invalid_request"' in r.headers["www-authenticate"]
    refused = list_events(api.settings, kind="api.*", after_id=mark)
    assert [(e.kind, e.actor) for e in refused] == [("api.failed", "api:anonymous")] * 3


def test_control_characters_sent_are_never_echoed_back(api: Api) -> None:
    """A NUL or a terminal escape in the path or a parameter comes back as "�": the message quotes what was sent
    without letting it act on the consumer's logs or terminal."""
    import unicodedata

    c = api.client()
    for path, status in [
        ("/api/v1/resources/gaj%00%1b[31m/hjrk/rows", 404),
        ("/api/v1/resources/gaj/hj%07rk%7f/changes?since=x", 404),
        ("/api/v1/resources?%00x%1b=1", 400),
        (CHANGES.format("gaj/hjrk") + "?since=%00%1b[2J", 400),
        (ROWS.format("gaj/hjrk") + "?format=%1b[31m", 400),
    ]:
        r = c.get(path)
        message = r.json()["message"]
        assert r.status_code == status, (path, r.text)
        assert not [ch for ch in message if unicodedata.category(ch)[0] == "C"], (path, message)
        assert "\ufffd" in message, (path, message)
