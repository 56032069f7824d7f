"""Workbooks are read in a process of their own, stopped past a time or memory bound (warehouse/sheet_guard.py): the
same rows, problems and refusals as a read in the calling process; a read that goes past its bound ends as a
refusal in Chinese, the input landed, the previous snapshot current, and the next upload reads normally."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import openpyxl
import pyarrow as pa
import pytest

from govhub.catalog.model import DeliveryMethod
from govhub.connectors.sheet import read_sheet
from govhub.problems import GovhubError
from govhub.warehouse.sheet_guard import read_sheet_bounded
from govhub.warehouse.snapshots import current_snapshot_id
from tests.conftest import DemoHub, deliver


def _sheets(hub: DemoHub) -> list[tuple]:
    manifest = json.loads((hub.settings.demo_dir / "manifest.json").read_text(encoding="utf-8"))
    found = []
    for resource in hub.catalog.resources:
        if resource.delivery.method is DeliveryMethod.SHEET:
            path = hub.settings.demo_dir / manifest["resources"][f"{resource.agency}/{resource.id}"]["path"]
            if path.suffix == ".xlsx":
                found.append((resource, path))
    return found


def _edited(path: Path, dest: Path, edit) -> Path:
    book = openpyxl.load_workbook(path)
    edit(book.worksheets[0])
    book.save(dest)
    return dest


def _table(extract) -> pa.Table:
    return pa.Table.from_batches(list(extract.batches))


def test_a_bounded_read_gives_what_a_read_in_process_gives(demo_hub: DemoHub, tmp_path: Path) -> None:
    sheets = _sheets(demo_hub)
    assert len(sheets) >= 3
    for resource, path in sheets:
        inside, bounded = read_sheet(resource, path), read_sheet_bounded(demo_hub.settings, resource, path)
        assert _table(bounded).equals(_table(inside), check_metadata=True), resource.code
        assert (bounded.problems, bounded.source, bounded.mode) == (
            inside.problems,
            inside.source,
            inside.mode,
        )
    resource, path = sheets[0]
    broken = _edited(
        path, tmp_path / "missing-column.xlsx", lambda ws: ws.delete_cols(1)
    )  # a required column gone
    with pytest.raises(GovhubError) as inside:
        read_sheet(resource, broken)
    with pytest.raises(GovhubError) as bounded:
        read_sheet_bounded(demo_hub.settings, resource, broken)
    assert bounded.value.problems == inside.value.problems and bounded.value.problems


@pytest.mark.parametrize(("bound", "said"), [({"sheet_read_memory_mb": 1}, "占用内存超过 1 MB"),
                                              ({"sheet_read_timeout_s": 0.0}, "超过 0 秒")])  # fmt: skip
def test_a_read_past_its_bound_is_refused_in_chinese_and_the_snapshot_stays(
    demo_hub: DemoHub, tmp_path: Path, bound: dict, said: str
) -> None:
    resource, path = _sheets(demo_hub)[0]
    settings = demo_hub.settings
    assert deliver(settings, resource, path).status == "published"
    before = current_snapshot_id(settings, resource)
    shorter = _edited(path, tmp_path / "shorter.xlsx", lambda ws: ws.delete_rows(ws.max_row))  # a new file
    outcome = deliver(dataclasses.replace(settings, **bound), resource, shorter)
    assert outcome.status == "rejected" and [p.code for p in outcome.problems] == ["sheet.too_costly"]
    message = outcome.problems[0].message_zh
    assert (
        said in message
        and "shorter.xlsx" in message
        and re.search(r"[A-Za-z]+Error|Traceback", message) is None
    )
    assert current_snapshot_id(settings, resource) == before  # nothing published
    landed = [
        p for p in (settings.home / "landing").rglob("*.xlsx") if p.read_bytes() == shorter.read_bytes()
    ]
    assert landed  # the input, kept as received
    again = deliver(settings, resource, shorter)  # within bounds: read and published
    assert again.status == "published" and current_snapshot_id(settings, resource) != before


def test_a_reader_that_cannot_start_or_dies_is_a_refusal_not_a_traceback(
    demo_hub: DemoHub, monkeypatch
) -> None:
    import os
    import signal

    from govhub.warehouse import sandbox, sheet_guard

    resource, path = _sheets(demo_hub)[0]
    settings = demo_hub.settings
    original = sheet_guard.spawn

    def killed_at_once(module):
        pid, outbox, inbox = original(module)
        os.kill(pid, signal.SIGKILL)
        return pid, outbox, inbox

    monkeypatch.setattr(sheet_guard, "spawn", killed_at_once)
    with pytest.raises(GovhubError) as died:
        read_sheet_bounded(settings, resource, path)
    assert [p.code for p in died.value.problems] == ["sheet.too_costly"]
    assert "读取进程异常终止" in died.value.problems[0].message_zh
    monkeypatch.setattr(sheet_guard, "spawn", original)
    monkeypatch.setattr(sandbox.sys, "executable", "/nonexistent/python")  # no reader process can start
    monkeypatch.setattr(sandbox, "_ZYGOTES", {})
    with pytest.raises(GovhubError) as unavailable:
        read_sheet_bounded(settings, resource, path)
    assert [p.code for p in unavailable.value.problems] == ["load.reader_unavailable"]
    assert "请稍后重新上传" in unavailable.value.problems[0].message_zh
    monkeypatch.undo()
    assert _table(read_sheet_bounded(settings, resource, path)).num_rows > 0  # started again when it can
