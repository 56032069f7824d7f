"""Planted secrets never leave where they belong: a database password and an API token (GOVHUB_SECRET_*), a portal
password, a docking-API token and the hub's API pepper are used — and refused — through real pulls, sign-ins, tokens,
a Dagster run and a backup; then every file of the hub (store, WAL, hub.duckdb, metadata, receipts, reports, the
backup archive, Dagster's storage), the event log, the log records, everything printed and the Dagster event log are
searched for each of them. Only their own homes may hold them: `secrets.yaml` (the operator's), `state/api.secret`
(the pepper) and the credentials table's argon2 hash (never the password)."""

from __future__ import annotations

import datetime as dt
import json
import logging
import secrets
from pathlib import Path

import pytest
import yaml

from govhub.events import list_events
from govhub.roles import Role
from tests.conftest import DemoHub, deliver

DB_CODE, API_CODE = "gaj/lhry", "gaj/hjrk"


def _plant_db_password(hub: DemoHub, password_var: str) -> None:
    """gaj/lhry read from a PostgreSQL URL whose password is a secret (nothing listens on port 1: it fails)."""
    path = hub.settings.catalog_dir / f"{DB_CODE}.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["delivery"]["database"]["url"] = f"postgresql+psycopg2://govhub:${{{password_var}}}@127.0.0.1:1/test"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    hub.reload_catalog()


def _files(home: Path, exclude: set[Path]) -> list[Path]:
    return [p for p in sorted(home.rglob("*")) if p.is_file() and not p.is_symlink() and p not in exclude]


def _found(secret: str, blobs: dict[str, bytes]) -> list[str]:
    needles = {secret.encode(), secret.encode("utf-16-le")}
    return [name for name, blob in blobs.items() if any(n in blob for n in needles)]


def test_planted_secrets_appear_nowhere_but_their_own_homes(
    demo_hub: DemoHub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
    govhub,
) -> None:  # fmt: skip
    from govhub.services.accounts import set_password, sign_in
    from govhub.services.backup import backup_hub
    from govhub.services.people import register_person
    from govhub.services.tokens import create_token, find_by_secret
    from tests.pipelines.conftest import materialize
    from tests.services.test_ingest import SHEET_CODE, clean_sheet

    caplog.set_level(logging.DEBUG)
    planted = {
        "db password": "pw-" + secrets.token_hex(12),
        "api token (wrong)": "tok-" + secrets.token_hex(12),
        "portal password": "Pass-" + secrets.token_hex(10),
        "portal password tried": "Wrong-" + secrets.token_hex(10),
    }
    hub = demo_hub
    s = hub.settings
    monkeypatch.setenv("GOVHUB_SECRET_PLANTED_DB", planted["db password"])
    s = hub.settings = s.with_variables(GOVHUB_SECRET_PLANTED_DB=planted["db password"])
    _plant_db_password(hub, "GOVHUB_SECRET_PLANTED_DB")
    known = set(hub.catalog.agencies)
    register_person(s, "zhaoqiang", name="赵强", agency="kw", roles=[Role.OFFICE], actor="installer",
                    known_agencies=known)  # fmt: skip
    register_person(s, "zhanghaifeng", name="张海峰", agency="rsj", roles=[Role.STEWARD], actor="zhaoqiang",
                    known_agencies=known)  # fmt: skip

    # used: a good pull (the real token), a pull with a wrong token, a database that refuses, an upload
    assert deliver(s, hub.resource(API_CODE), actor="zhaoqiang").status == "published"
    wrong = s.with_variables(GOVHUB_SECRET_DEMO_API_TOKEN=planted["api token (wrong)"])
    refused = deliver(wrong, hub.resource(API_CODE), actor="zhaoqiang")
    assert refused.status == "failed" and "api.unauthorized" in [p.code for p in refused.problems]
    failed_db = deliver(s, hub.resource(DB_CODE), actor="zhaoqiang")
    assert failed_db.status == "failed"
    messages = [p.message_zh for o in (refused, failed_db) for p in o.problems]
    sheet = clean_sheet(hub, tmp_path / "就业登记.xlsx")
    assert deliver(s, hub.resource(SHEET_CODE), sheet, actor="zhanghaifeng").status == "published"
    # the portal password set, used, and a wrong one tried; a docking token issued and looked up
    set_password(s, "zhanghaifeng", planted["portal password"], actor="zhaoqiang")
    now = dt.datetime.now(dt.UTC)
    assert sign_in(s, "zhanghaifeng", planted["portal password"], at=now) is not None
    assert sign_in(s, "zhanghaifeng", planted["portal password tried"], at=now) is None
    issued = create_token(s, hub.catalog, agency="rsj", system="就业系统", actor="zhanghaifeng")
    planted["docking token"] = issued.secret
    assert find_by_secret(s, issued.secret) is not None
    planted["api pepper"] = (s.state_dir / "api.secret").read_text().strip()
    # the CLI with the wrong token, and a Dagster run with it
    monkeypatch.setenv("GOVHUB_SECRET_DEMO_API_TOKEN", planted["api token (wrong)"])
    cli = govhub("ingest", "--resource", API_CODE, "--by", "zhaoqiang")
    assert cli.code == 1
    with __import__("dagster").instance_for_test() as instance:
        run = materialize(s.with_variables(GOVHUB_SECRET_DEMO_API_TOKEN=planted["api token (wrong)"]),
                          hub.catalog, [API_CODE], instance=instance)  # fmt: skip
        dagster_log = "\n".join(str(e) for e in instance.all_logs(run.run_id))
    monkeypatch.delenv("GOVHUB_SECRET_DEMO_API_TOKEN")
    archive = tmp_path / "backup.tar"
    backup_hub(s, hub.catalog, archive, actor="zhaoqiang")

    # where each may live, and nowhere else
    homes = {s.secrets_file, s.state_dir / "api.secret"}
    blobs = {str(p.relative_to(s.home)): p.read_bytes() for p in _files(s.home, homes)}
    blobs["backup.tar"] = archive.read_bytes()
    blobs["events"] = json.dumps([e.to_dict() for e in list_events(s)], ensure_ascii=False).encode()
    blobs["log records"] = "\n".join(r.getMessage() + str(r.exc_text or "") for r in caplog.records).encode()
    blobs["printed"] = (cli.out + cli.err).encode()
    blobs["outcome messages"] = "\n".join(messages).encode()
    blobs["dagster event log"] = dagster_log.encode()
    assert len(blobs) > 50 and any(b"gaj.db" in b or b"hjrk" in b for b in blobs.values())  # it really looked
    # the search bites: each secret is found where it is meant to be
    assert _found(planted["api pepper"], {"own": (s.state_dir / "api.secret").read_bytes()}) == ["own"]
    assert _found(planted["db password"], {"env": planted["db password"].encode()}) == ["env"]
    leaks = {name: where for name, value in planted.items() if (where := _found(value, blobs))}
    assert leaks == {}
    print(
        f"secrets: {len(planted)} planted; {len(blobs)} places, {sum(map(len, blobs.values())):,} bytes searched"
    )
    assert blobs["events"].decode().count('"load.failed"') >= 3  # the refusals themselves are on the record


def test_a_postgresql_stores_password_is_used_and_shown_nowhere(
    pg_settings, govhub, tmp_path, monkeypatch, caplog
):
    """GOVHUB_STATE_URL with a password (the local server trusts 127.0.0.1, so it is accepted): people, status, the
    event log and a backup work through it, and an unreachable server is said in Chinese — the password appears in
    nothing printed, logged, archived or written under the hub, nor in any row of the store's own tables."""
    import shutil
    import tarfile

    from sqlalchemy import create_engine, inspect, text

    from govhub import store
    from tests.cli.test_exit_codes import ADD_OFFICE
    from tests.conftest import REPO_CATALOG
    from tests.servers import PG_URL

    password = "pg-" + secrets.token_hex(12)
    url = pg_settings.state_url.replace("postgres@", f"postgres:{password}@")
    assert password in url
    monkeypatch.setenv("GOVHUB_STATE_URL", url)
    shutil.rmtree(pg_settings.catalog_dir)
    shutil.copytree(REPO_CATALOG, pg_settings.catalog_dir)
    monkeypatch.setenv("GOVHUB_CATALOG", str(pg_settings.catalog_dir))
    caplog.set_level(logging.DEBUG)
    runs = [
        govhub("db", "upgrade"),
        govhub(*ADD_OFFICE),
        govhub("status", "--json"),
        govhub("events", "--json", "--by", "zhaoqiang"),
        govhub("events", "verify", "--by", "zhaoqiang"),
        govhub("backup", "-o", tmp_path / "hub.tar", "--by", "zhaoqiang"),
    ]
    assert [r.code for r in runs[:2]] == [0, 0] and runs[4].code == 0 and runs[5].code == 0, [
        r.err for r in runs
    ]
    assert "赵强" in runs[3].out  # the registration went through the store the password opens
    monkeypatch.setenv("GOVHUB_STATE_URL", url.replace("127.0.0.1:5432", "127.0.0.1:1"))
    store.dispose_engines()
    down = govhub("people", "list")
    assert down.code == 1 and "无法连接工作流数据库" in down.err and "postgres:***@127.0.0.1:1" in down.err
    runs.append(down)
    store.dispose_engines()

    blobs = {str(p): p.read_bytes() for p in _files(pg_settings.home, set())}
    with tarfile.open(tmp_path / "hub.tar") as archive:
        blobs |= {f"hub.tar:{m.name}": archive.extractfile(m).read() for m in archive if m.isfile()}
    blobs["printed"] = "\n".join(r.out + r.err for r in runs).encode()
    blobs["logs"] = caplog.text.encode()
    schema = url.split("search_path%3D")[1]
    admin = create_engine(PG_URL)
    try:
        with admin.connect() as conn:
            for table in inspect(conn).get_table_names(schema=schema):
                rows = conn.execute(text(f'SELECT * FROM "{schema}"."{table}"')).all()
                blobs[f"store:{table}"] = repr(rows).encode()
    finally:
        admin.dispose()
    assert any(
        b"zhaoqiang" in blob for name, blob in blobs.items() if name.startswith("store:")
    )  # the search bites
    assert len([n for n in blobs if n.startswith("hub.tar:")]) >= 1
    assert _found(password, blobs) == []
