"""`govhub upload` killed (SIGKILL) at the steps where the hub's record of a load can be cut off: after the new
snapshot went live but before its load record, and after the record but before its event. The next upload — of the
very same file — or `govhub status` records the publish with the person who made it before anything else; the
re-upload is then a zero update of a recorded publish, never the only trace of it. And deliveries at once: an upload
while the schedule pulls another feed."""

from __future__ import annotations

from pathlib import Path

import pytest

from govhub.events import list_events, verify_chain
from govhub.warehouse.journal import journal_path
from govhub.warehouse.snapshots import current_info
from tests.commands import kill_command_at
from tests.conftest import DemoHub
from tests.services import test_upload
from tests.services.test_ingest import SHEET_CODE, clean_sheet
from tests.services.test_upload import STEWARD

registered = test_upload.registered  # the demo's people, registered (a fixture)


def _ledger(hub: DemoHub) -> dict:
    from govhub import store
    from govhub.governance.ledger import rows_for

    with store.read_connection(hub.settings) as conn:
        return rows_for(conn, "rsj", "jydj")


@pytest.mark.parametrize(
    ("point", "journal"),
    [
        ("after_switch", "kept"),
        ("before_record", "kept"),
        ("before_event", "kept"),
        ("before_record", "lost"),
    ],
)
def test_a_publish_cut_off_by_a_kill_is_recorded_with_its_steward_before_the_same_file_counts_as_zero_update(
    registered: DemoHub,
    govhub,
    tmp_path: Path,
    point: str,
    journal: str,
) -> None:
    """`lost`: a power cut took the journal too (its `begun` entry is not fsynced): the snapshot's own entry says who
    published what, and the ledger still credits the publish."""
    s, resource = registered.settings, registered.resource(SHEET_CODE)
    sheet = clean_sheet(registered, tmp_path / "就业登记.xlsx")
    kill_command_at(point, "upload", sheet, "--resource", SHEET_CODE, "--by", STEWARD, marker_dir=tmp_path)
    live = current_info(s, resource)
    assert live.rows == 100 and not live.initial  # the publish went through whole
    assert journal_path(s, resource).exists()
    if journal == "lost":
        journal_path(s, resource).unlink()
    assert list_events(s, kind="load.*") == []  # … and nothing says so yet

    run = govhub("upload", sheet, "--resource", SHEET_CODE, "--by", STEWARD)
    assert run.code == 0 and "Traceback" not in run.out + run.err
    published, again = list_events(s, kind="load.*")
    assert published.kind == "load.published" and published.actor == "张海峰"
    assert published.payload["snapshot_id"] == live.id and published.payload["inserted"] == 100
    assert published.payload["reconciled"] is True
    assert again.kind == "load.zero_update" and again.payload["snapshot_id"] == live.id
    assert current_info(s, resource).id == live.id
    assert not journal_path(s, resource).exists() and verify_chain(s) == []
    (entry,) = _ledger(registered).values()  # the period was delivered — by the publish, not the zero update
    assert entry.satisfies and entry.load_id == published.payload["load_id"]


def test_govhub_status_records_a_publish_cut_off_by_a_kill(
    registered: DemoHub, govhub, tmp_path: Path
) -> None:
    s = registered.settings
    sheet = clean_sheet(registered, tmp_path / "就业登记.xlsx")
    kill_command_at(
        "before_event", "upload", sheet, "--resource", SHEET_CODE, "--by", STEWARD, marker_dir=tmp_path
    )
    run = govhub("status", "--agency", "rsj")
    assert run.code == 0 and "rsj/jydj" in run.err and "补记被中断的载入" in run.err
    (published,) = list_events(s, kind="load.*")
    assert published.kind == "load.published" and published.actor == "张海峰"
    assert "rsj/jydj" not in govhub("status", "--agency", "rsj").err  # recorded once


def test_an_upload_during_a_scheduled_pull_both_publish_and_the_chain_holds(
    demo_hub: DemoHub, tmp_path: Path
) -> None:
    """A steward's upload while the schedule pulls another feed (the shared event chain and ledger, two writers)."""
    import threading

    from tests.conftest import deliver

    sheet = clean_sheet(demo_hub, tmp_path / "就业登记.xlsx")
    outcomes: dict[str, object] = {}
    jobs = {
        "pull": lambda: deliver(demo_hub.settings, demo_hub.resource("gaj/hjrk"), actor="system:schedule",
                                via="schedule"),
        "upload": lambda: deliver(demo_hub.settings, demo_hub.resource(SHEET_CODE), sheet, actor="tester"),
    }  # fmt: skip
    threads = [
        threading.Thread(target=lambda k=k, f=f: outcomes.__setitem__(k, f())) for k, f in jobs.items()
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert {k: o.status for k, o in outcomes.items()} == {"pull": "published", "upload": "published"}
    kinds = sorted((e.subject, e.kind) for e in list_events(demo_hub.settings, kind="load.*"))
    assert kinds == [("gaj/hjrk", "load.published"), ("rsj/jydj", "load.published")]
    assert verify_chain(demo_hub.settings) == []
