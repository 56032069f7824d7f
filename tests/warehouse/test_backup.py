"""Backup and restore: the demo hub restores to an identical hub (same snapshots, same rows through the views, the same
event log and ledger, its chain verified), across store backends; a damaged archive restores nothing."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

import pytest
from sqlalchemy import select

from govhub import store
from govhub.config import get_settings
from govhub.events import list_events, verify_chain
from govhub.governance.ledger import ledger_rows
from govhub.problems import GovhubError
from govhub.store.migrate import head_revision
from govhub.warehouse.backup import archived_tables, create_backup, restore_backup
from govhub.warehouse.hub import connect_readonly
from govhub.warehouse.snapshots import current_snapshot_id
from tests.conftest import DemoHub, deliver
from tests.warehouse.crafted_archives import CASES, SNAPSHOT, legit_members, write_archive

CODES = ["gaj/hjrk", "fgj/fwjbxx", "scjgj/qydj"]  # API, database, and a second pull


def _loaded(hub: DemoHub) -> None:
    for code in CODES:
        outcome = deliver(hub.settings, hub.resource(code))
        assert outcome.status == "published", (code, outcome.problems[:3])


def _rows(settings, hub: DemoHub, code: str) -> list[tuple]:
    r = hub.resource(code)
    with connect_readonly(settings) as con:
        return con.execute(f'SELECT * FROM "{r.agency}"."{r.id}" ORDER BY ALL').fetchall()


def _events(settings) -> list[tuple]:
    return [(e.id, e.kind, e.actor, e.subject, e.hash) for e in list_events(settings)]


def test_a_backup_restores_to_an_identical_hub(demo_hub: DemoHub, tmp_path: Path, monkeypatch) -> None:
    _loaded(demo_hub)
    archive = tmp_path / "backup.tar"
    summary = create_backup(demo_hub.settings, demo_hub.catalog, archive)
    assert summary.files > 10 and summary.event_head and summary.store_rows["events"] >= len(CODES)
    with tarfile.open(archive) as tar:
        names = tar.getnames()
    assert not any("secrets.yaml" in n or "_staging" in n or n.endswith("hub.duckdb") for n in names)

    home = tmp_path / "restored"
    monkeypatch.setenv("GOVHUB_HOME", str(home))
    target = get_settings(home, demo_hub.settings.catalog_dir)
    result = restore_backup(archive, target, demo_hub.catalog)
    assert result["event_head"] == summary.event_head
    assert verify_chain(target) == []
    assert _events(target) == _events(demo_hub.settings)
    assert ledger_rows(target) == ledger_rows(demo_hub.settings)
    for code in CODES:
        r = demo_hub.resource(code)
        assert current_snapshot_id(target, r) == current_snapshot_id(demo_hub.settings, r)
        assert _rows(target, demo_hub, code) == _rows(demo_hub.settings, demo_hub, code)
    # the restored hub keeps working: the next API pull is a zero update against the restored snapshot (the API
    # token is not in the archive: secrets come from the secret store, here the environment)
    from govhub.demo import DEMO_API_TOKEN

    target = target.with_variables(GOVHUB_SECRET_DEMO_API_TOKEN=DEMO_API_TOKEN)
    again = deliver(target, demo_hub.resource("gaj/hjrk"))
    assert again.status == "zero_update", again.problems[:3]


def test_a_sqlite_backup_restores_into_postgresql(demo_hub: DemoHub, tmp_path: Path, pg_settings) -> None:
    """pg_settings points GOVHUB_STATE_URL at a fresh PostgreSQL schema: the store is exported row by row."""
    import os

    state_url = os.environ.pop("GOVHUB_STATE_URL")  # the demo hub's own store is SQLite
    _loaded(demo_hub)
    archive = tmp_path / "backup.tar"
    create_backup(demo_hub.settings, demo_hub.catalog, archive)
    os.environ["GOVHUB_STATE_URL"] = state_url
    target = get_settings(tmp_path / "pg-home", demo_hub.settings.catalog_dir)
    assert target.state_url.startswith("postgresql")
    restore_backup(archive, target, demo_hub.catalog)
    assert verify_chain(target) == []
    assert len(list_events(target)) == len(list_events(demo_hub.settings))
    # new events and ledger rows continue the restored ones (ids and sequences moved on)
    from govhub.demo import DEMO_API_TOKEN

    outcome = deliver(
        target.with_variables(GOVHUB_SECRET_DEMO_API_TOKEN=DEMO_API_TOKEN), demo_hub.resource("gaj/hjrk")
    )
    assert outcome.status == "zero_update", outcome.problems[:3]
    assert verify_chain(target) == []


def test_a_damaged_archive_restores_nothing_and_names_the_file(demo_hub: DemoHub, tmp_path: Path) -> None:
    _loaded(demo_hub)
    archive = tmp_path / "backup.tar"
    create_backup(demo_hub.settings, demo_hub.catalog, archive)
    damaged = tmp_path / "damaged.tar"
    with tarfile.open(archive) as src, tarfile.open(damaged, "w") as dst:
        for info in src:
            data = src.extractfile(info).read() if info.isfile() else None
            if (
                data is not None
                and info.name.endswith("part-00000.parquet")
                and "damaged" not in info.pax_headers
            ):
                data = data[:-10] + b"\x00" * 10  # same size, other bytes
                info.pax_headers = {"damaged": "1"}
            dst.addfile(info, __import__("io").BytesIO(data) if data is not None else None)
    target = get_settings(tmp_path / "restored", demo_hub.settings.catalog_dir)
    with pytest.raises(GovhubError) as err:
        restore_backup(damaged, target, demo_hub.catalog)
    problem = err.value.problems[0]
    assert problem.code == "backup.damaged" and problem.value.endswith("part-00000.parquet")
    assert not (target.home / "hub").exists() and not (target.home / "landing").exists()


def test_restore_refuses_a_hub_that_exists_and_a_file_that_is_no_backup(
    demo_hub: DemoHub, tmp_path: Path
) -> None:
    _loaded(demo_hub)
    archive = tmp_path / "backup.tar"
    create_backup(demo_hub.settings, demo_hub.catalog, archive)
    with pytest.raises(GovhubError) as err:
        restore_backup(archive, demo_hub.settings, demo_hub.catalog)
    assert err.value.problems[0].code == "backup.target_not_empty"
    bogus = tmp_path / "bogus.tar"
    bogus.write_bytes(b"not a tar at all")
    with pytest.raises(GovhubError) as err:
        restore_backup(bogus, get_settings(tmp_path / "x", demo_hub.settings.catalog_dir), demo_hub.catalog)
    assert err.value.problems[0].code == "backup.unreadable"


def test_backup_and_restore_commands(demo_hub: DemoHub, tmp_path: Path, monkeypatch, capsys) -> None:
    from govhub.cli.main import main

    _loaded(demo_hub)
    archive = tmp_path / "b.tar"
    assert main(["backup", "-o", str(archive), "--json"]) == 0
    written = json.loads(capsys.readouterr().out)
    assert Path(written["path"]) == archive and written["event_head"]
    monkeypatch.setenv("GOVHUB_HOME", str(tmp_path / "fresh"))
    assert main(["restore", str(archive)]) == 0
    assert "事件日志已核验" in capsys.readouterr().out
    assert main(["restore", str(archive)]) == 1  # now the target holds a hub
    assert "恢复只能写入新的空目录" in capsys.readouterr().err


def test_a_hub_made_by_init_restores_with_its_catalog_and_settings_alone(
    tmp_path: Path, monkeypatch, capsys
) -> None:
    """`govhub init` keeps the catalog in the hub's folder and says so in its govhub.yaml: both travel in the backup,
    so the archive alone restores a hub every command can use, with no --catalog."""
    from govhub.cli.main import main

    monkeypatch.delenv("GOVHUB_CATALOG", raising=False)
    monkeypatch.delenv("GOVHUB_HOME", raising=False)
    home, restored, archive = tmp_path / "hub", tmp_path / "restored", tmp_path / "hub.tar"
    assert main(["init", "--home", str(home)]) == 0
    assert main(["--home", str(home), "backup", "-o", str(archive), "--by", "installer"]) == 0
    capsys.readouterr()
    assert main(["--home", str(restored), "restore", str(archive), "--by", "installer"]) == 0, (
        capsys.readouterr()
    )
    assert (restored / "govhub.yaml").read_bytes() == (home / "govhub.yaml").read_bytes()
    assert sorted(p.relative_to(restored / "catalog") for p in (restored / "catalog").rglob("*")) == sorted(
        p.relative_to(home / "catalog") for p in (home / "catalog").rglob("*")
    )
    capsys.readouterr()
    assert main(["--home", str(restored), "catalog", "list", "--json"]) == 0  # no --catalog needed
    assert json.loads(capsys.readouterr().out) == (main(["--home", str(home), "catalog", "list", "--json"]) or
                                                   json.loads(capsys.readouterr().out))  # fmt: skip


def test_a_catalog_kept_elsewhere_travels_too_and_is_written_where_the_restore_is_told(
    demo_hub: DemoHub, tmp_path: Path, monkeypatch, capsys
) -> None:
    from govhub.cli.main import main

    archive, catalog = tmp_path / "b.tar", tmp_path / "elsewhere" / "catalog"
    assert main(["backup", "-o", str(archive), "--by", "installer"]) == 0
    monkeypatch.setenv("GOVHUB_HOME", str(tmp_path / "fresh"))
    monkeypatch.setenv("GOVHUB_CATALOG", str(catalog))  # not there yet: the archive's copy is written there
    assert main(["restore", str(archive), "--by", "installer"]) == 0, capsys.readouterr().err
    source = demo_hub.settings.catalog_dir
    assert {p.relative_to(catalog): p.read_bytes() for p in catalog.rglob("*") if p.is_file()} == {
        p.relative_to(source): p.read_bytes()
        for p in source.rglob("*")
        if p.is_file() and ".lock" not in p.name
    }


def _store_rows(settings) -> dict[str, list[dict]]:
    with store.read_connection(settings) as conn:
        return {
            name: [dict(r) for r in conn.execute(select(t).order_by(*t.primary_key.columns)).mappings()]
            for name, t in archived_tables().items()
        }


def test_every_store_table_travels_into_a_fresh_postgresql_store_brought_to_head(
    tmp_path: Path, pg_settings, monkeypatch
) -> None:
    """A row in every table of the schema module (a drift flag's date included) leaves a SQLite store and lands in
    a PostgreSQL store that restore first migrates to head; Alembic's version table is not data and is not
    exported."""
    import datetime as dt

    from govhub.catalog.load import require_catalog
    from govhub.people import save_person
    from govhub.roles import Role
    from tests.conftest import REPO_CATALOG

    catalog = require_catalog(REPO_CATALOG)
    monkeypatch.delenv("GOVHUB_STATE_URL")
    source = get_settings(tmp_path / "source", REPO_CATALOG)
    save_person(source, "zhaoqiang", name="赵强", agency="kw", roles=[Role.OFFICE], by="admin")
    save_person(source, "wangmin", name="王敏", agency="mzj", roles=[Role.STEWARD], by="admin")
    with store.write_transaction(source) as conn:
        conn.execute(
            store.submissions.insert().values(
                agency="mzj",
                resource="dibao",
                period="2026-03",
                state="updated",
                at="2026-03-02T00:00:00.000000Z",
            )
        )
        conn.execute(
            store.alerts_sent.insert().values(
                agency="mzj",
                resource="dibao",
                period="2026-03",
                kind="stale",
                at="2026-03-02T00:00:00.000000Z",
            )
        )
        conn.execute(store.catalog_drift.insert().values(agency="mzj", resource="dibao", catalog_fingerprint="0" * 32,
                                                         detected_at="2026-03-02T00:00:00Z",
                                                         deadline=dt.date(2026, 3, 4), details="[]"))  # fmt: skip
        at = "2026-03-02T00:00:00.000000Z"
        conn.execute(store.sharing_requests.insert().values(
            id="SQ-20260302-0001", consumer="rsj", provider="mzj", resource="dibao", code="101001002/000003",
            share_type="conditional", fields='["name"]', row_scope="[]", purpose="核对", basis="职责",
            use_from=dt.date(2026, 3, 2), use_until=dt.date(2027, 3, 1), state="forwarded", created_by="张海峰",
            created_at=at, updated_at=at, deadline=dt.date(2026, 3, 16), deadline_step="answer"))  # fmt: skip
        conn.execute(store.request_transitions.insert().values(request_id="SQ-20260302-0001", action="create",
                                                               to_state="submitted", actor="张海峰", at=at,
                                                               details="{}"))  # fmt: skip
        conn.execute(store.grants.insert().values(
            id="GR-20260302-0001", consumer="rsj", provider="mzj", resource="dibao", fields='["name"]', row_scope="[]",
            purpose="核对", starts_on=dt.date(2026, 3, 2), expires_on=dt.date(2027, 3, 1), state="active",
            created_by="赵强", created_at=at))  # fmt: skip
        conn.execute(store.grant_use.insert().values(grant_id="GR-20260302-0001", queries=2, exports=0, api_calls=1,
                                                     api_rows=5_000_000_000, api_bytes=1 << 40, last_used_at=at))  # fmt: skip
        conn.execute(store.grant_use_mark.insert().values(id=1, through_id=0))
        conn.execute(store.api_tokens.insert().values(id="tok1", agency="rsj", system="就业系统", token_hash="h" * 64,
                                                      created_by="张海峰", created_at=at))  # fmt: skip
        conn.execute(
            store.credentials.insert().values(person="wangmin", password_hash="$argon2id$x", changed_at=at)
        )
        conn.execute(store.web_sessions.insert().values(key="k" * 64, data="{}", expires_at=at))
        conn.execute(store.contacts.insert().values(person="wangmin", email="w@example.org", updated_at=at))
        conn.execute(store.notices.insert().values(key="remind:x", person="wangmin", channel="email", subject="提醒",
                                                   sent_at=at, status="sent"))  # fmt: skip
        conn.execute(store.catalog_changes.insert().values(
            id="CC-20260302-0001", agency="mzj", resource="dibao", yaml_text="id: dibao\n", note="改名称",
            state="pending", proposed_by="王敏", proposed_by_id="wangmin", proposed_at=at, due=dt.date(2026, 3, 4)))  # fmt: skip
        # a prune that removed nothing: the chain still starts at GENESIS (events.verify_chain)
        conn.execute(store.event_checkpoints.insert().values(through_id=0, through_hash="0" * 64, through_at=at,
                                                             pruned=0, before=at, at=at, actor="赵强"))  # fmt: skip
    from govhub.events import record_event

    record_event(source, kind="events.pruned", actor="赵强", agency=None, subject="events",
                 payload={"through_id": 0, "through_hash": "0" * 64, "pruned": 0, "before": at})  # fmt: skip
    expected = _store_rows(source)
    assert all(expected.values())
    archive = tmp_path / "store.tar"
    create_backup(source, catalog, archive)
    with tarfile.open(archive) as tar:
        exported = {Path(n).name for n in tar.getnames() if "/store/" in n}
    assert exported == {f"{name}.jsonl" for name in store.metadata.tables if name != "web_sessions"}

    monkeypatch.setenv("GOVHUB_STATE_URL", pg_settings.state_url)
    target = get_settings(tmp_path / "target", REPO_CATALOG)
    restore_backup(archive, target, catalog)
    assert store.revision(target).current == head_revision()
    assert _store_rows(target) == expected

    # a backup from a store that a newer govhub migrated is refused before anything is written
    newer = tmp_path / "newer.tar"
    with tarfile.open(archive) as src, tarfile.open(newer, "w") as dst:
        for info in src:
            data = src.extractfile(info).read() if info.isfile() else b""
            if info.name.endswith("MANIFEST.json"):
                manifest = json.loads(data)
                assert manifest["store_revision"] == head_revision()
                data = json.dumps({**manifest, "store_revision": "0999_from_the_future"}).encode()
                info.size = len(data)
            dst.addfile(info, io.BytesIO(data))
    monkeypatch.delenv("GOVHUB_STATE_URL")  # an empty store again: a new SQLite file
    elsewhere = get_settings(tmp_path / "elsewhere", REPO_CATALOG)
    with pytest.raises(GovhubError) as err:
        restore_backup(newer, elsewhere, catalog)
    assert err.value.problems[0].code == "backup.newer_store" and not (elsewhere.home / "hub").exists()


# --- crafted archives: each refused with its message, nothing written to the target, the store or outside -----------


def _refused(settings, home: Path, archive: Path) -> list:
    from govhub.catalog.model import Catalog

    target = get_settings(home, settings.catalog_dir)
    with pytest.raises(GovhubError) as err:
        restore_backup(archive, target, Catalog(agencies={}, resources=[]))
    return target, err.value.problems


def _nothing_written(target, home: Path, outside: Path) -> None:
    from sqlalchemy import select

    from govhub import store

    assert not any(outside.iterdir()), list(outside.iterdir())
    # the target holds at most the (empty) store the restore opened to see whether it was empty
    assert {p.relative_to(home).parts[0] for p in home.rglob("*")} <= {"state"}
    with store.read_connection(target) as conn:
        assert not any(conn.execute(select(t).limit(1)).first() for t in store.metadata.tables.values())
    assert not list(home.parent.glob(".restore-*"))  # the scratch folder went with the refusal


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_crafted_archive_is_refused_naming_the_member_and_writes_nothing(
    settings, tmp_path: Path, case: str
) -> None:
    build, code, member = CASES[case]
    home, outside = tmp_path / "restored", tmp_path / "outside"
    outside.mkdir()
    archive = build(home, outside)
    target, problems = _refused(settings, home, archive)
    from govhub.problems import is_registered

    assert all(is_registered(p.code) for p in problems), [p.code for p in problems]
    named = [p for p in problems if p.code == code and member in (p.value or "")]
    assert named, [(p.code, p.value) for p in problems]
    # the Chinese message names the member itself, and no traceback or class name leaks into it
    assert all(member in p.message_zh and "Error" not in p.message_zh for p in named)
    _nothing_written(target, home, outside)


def test_the_legitimate_tree_of_the_crafted_corpus_restores_with_its_current_symlink(
    settings, tmp_path: Path
) -> None:
    """The corpus's base is a real hub's shape: it restores, `current -> snapshots/<id>` relative as it was."""
    import os

    from govhub.catalog.model import Catalog

    home = tmp_path / "restored"
    archive = write_archive(tmp_path / "legit.tar", legit_members())
    restore_backup(archive, get_settings(home, settings.catalog_dir), Catalog(agencies={}, resources=[]))
    current = home / "hub/civil/people/current"
    assert os.readlink(current) == f"snapshots/{SNAPSHOT}"
    assert (current / "part-00000.parquet").read_bytes() == legit_members()[0][1]
    assert (home / "landing/civil/people/ab/ab12.csv").read_text(encoding="utf-8").startswith("人员编号")


def test_restore_never_writes_through_a_link_already_in_the_target(settings, tmp_path: Path) -> None:
    """An operator's `reports -> elsewhere` link in the (otherwise empty) target is not merged into."""
    from tests.warehouse.crafted_archives import FILES, regular

    home, outside = tmp_path / "restored", tmp_path / "outside"
    outside.mkdir()
    home.mkdir()
    (home / "reports").symlink_to(outside)
    archive = write_archive(
        tmp_path / "b.tar", [*legit_members(), regular(f"{FILES}/reports/r.html", b"<p>")]
    )
    _, problems = _refused(settings, home, archive)
    assert problems[0].code == "backup.target_link" and "reports" in problems[0].message_zh
    assert not any(outside.iterdir()) and not (home / "hub").exists()


def test_the_restore_command_refuses_a_cut_archive_in_chinese_without_a_traceback(
    settings, tmp_path: Path, monkeypatch, capsys
) -> None:
    from govhub.cli.main import main

    home = tmp_path / "restored"
    monkeypatch.setenv("GOVHUB_HOME", str(home))
    for case in ("truncated inside a member", ".partial left by a killed backup"):
        archive = CASES[case][0](home, tmp_path)
        assert main(["restore", str(archive)]) == 1
        err = capsys.readouterr().err
        assert archive.name in err and ("不完整" in err or "未完成" in err)
        assert "Traceback" not in err and "ReadError" not in err
    assert not (home / "hub").exists() and not (home / "landing").exists()
