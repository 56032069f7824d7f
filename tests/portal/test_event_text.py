"""The audit log's words: every kind the services record has a reading, values in words, nothing hidden."""

from __future__ import annotations

import re
from pathlib import Path

from govhub.catalog.load import load_agencies
from govhub.portal.event_text import kind_label, payload_items

ROOT = Path(__file__).resolve().parents[2]
AGENCIES, _ = load_agencies(ROOT / "catalog")  # the demo district's


def recorded_kinds() -> set[str]:
    """The event kinds the code records by name (`kind="…"`, or a grant's kind returned with its payload)."""
    kinds = set()
    for folder in ("services", "governance", "warehouse", "govhub", "portal"):
        for path in (ROOT / folder).rglob("*.py"):
            text = path.read_text(encoding="utf-8")
            kinds |= set(re.findall(r'kind="([a-z_]+\.[a-z_]+)"', text))
            kinds |= set(re.findall(r'"(grant\.[a-z_]+)"', text))  # returned with their payload
    return kinds


def test_every_recorded_kind_reads_in_chinese() -> None:
    kinds = recorded_kinds()
    assert {"session.signed_in", "grant.issued", "grant.revoked", "query.run"} <= kinds  # the scan finds them
    for kind in kinds | {"load.published", "load.rejected", "ledger.zero_update_auto", "request.answer",
                         "notice.remind"}:  # fmt: skip
        label = kind_label(kind)
        assert label != kind and not re.search(r"[a-z]{3}", label), (kind, label)


def test_unknown_kinds_and_keys_are_shown_as_stored() -> None:
    assert kind_label("something.new") == "something.new"
    assert kind_label("load.other") == "载入：other"
    items = dict(payload_items({"consumer": "gaj", "mystery": 3, "state": "forwarded"}, AGENCIES))
    assert items == {"申请方": "松江区公安分局", "状态": "待提供方答复", "mystery": "3"}


def test_values_in_words() -> None:
    payload = {"rows": 1500, "inserted": 0, "updated": 2, "problems_truncated": False, "late": False,
               "decision": "narrow", "fields": ["name", "id_number"],
               "row_scope": [{"field": "town_code", "in": ["310117101"]}],
               "verdict": {"rows": {"note_zh": "已发布"}, "schema": {"note_zh": "数据列与目录一致"}, "bad_row_pct": 0.0}}  # fmt: skip
    items = payload_items(payload, AGENCIES)
    assert [label for label, _ in items] == [
        "意见",
        "信息项",
        "行数",
        "记录范围",
        "逾期",
        "校验结论",
        "修改行",
    ]
    text = dict(items)
    assert text["意见"] == "有条件同意" and text["信息项"] == "name、id_number" and text["逾期"] == "否"
    assert text["校验结论"] == "数据列与目录一致；已发布" and "310117101" in text["记录范围"]
    # a request's history keeps the keys it names and leaves out what is false
    assert payload_items(payload, AGENCIES, keys=("decision", "late")) == [("意见", "有条件同意")]


def test_nested_keys_are_in_words_and_moments_in_beijing_time() -> None:
    payload = {"method": "GET", "until": "2026-11-28T16:30:00Z",
               "before": {"name": "王敏", "agency": "mzj", "at": "2026-01-01T00:00:00+00:00"}}  # fmt: skip
    text = dict(payload_items(payload, AGENCIES))
    assert text["请求方式"] == "GET" and text["锁定至"] == "2026-11-29 00:30:00（北京时间）"
    assert text["变更前"] == "姓名：王敏，机构：松江区民政局，时间：2026-01-01 08:00:00（北京时间）"
    assert dict(payload_items({"period": "2026-11", "since": "2026-11-01"}, AGENCIES)) == {
        "期间": "2026-11",
        "变化起点": "2026-11-01",
    }  # not moments: as stored
