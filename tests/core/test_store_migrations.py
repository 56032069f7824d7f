"""The workflow store's migrations, on SQLite and PostgreSQL: the schema module and the revisions agree, the
baseline is exactly the schema stores had before migrations, such a store is adopted with every row, a new store
comes up at head, processes starting at once do not race, and checking "at head?" stays cheap."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Column, MetaData, String, Table, create_engine, inspect, select, text

from govhub import store
from govhub.config import Settings
from govhub.events import chain_head, record_event, verify_chain
from govhub.governance.ledger import ledger_rows
from govhub.people import list_people
from govhub.problems import GovhubError
from govhub.store.connect import open_engine
from govhub.store.migrate import alembic_config, head_revision, revisions
from tests.core import legacy_store
from tests.servers import PG_URL

REPO = Path(__file__).resolve().parents[2]
BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


@pytest.fixture(params=BACKENDS)
def any_settings(request: pytest.FixtureRequest) -> Settings:
    """The hub's settings with its store on SQLite, then on a fresh PostgreSQL schema."""
    return request.getfixturevalue("settings" if request.param == "sqlite" else "pg_settings")


@pytest.fixture
def other_store_url(any_settings: Settings, tmp_path: Path) -> Iterator[str]:
    """A second, empty store on the same backend (another SQLite file, another PostgreSQL schema)."""
    if not any_settings.state_url.startswith("postgresql"):
        yield f"sqlite:///{tmp_path / 'other.db'}"
        return
    schema = f"govhub_t_{os.getpid()}_other_{tmp_path.name.lower().replace('-', '_')[-30:]}"
    admin = create_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    yield f"{PG_URL}?options=-csearch_path%3D{schema}"
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


def describe(url: str) -> set[tuple]:
    """Every table, column, constraint, index and sequence of the store at `url`, as the database reports them
    (Alembic's own version table left out)."""
    eng = create_engine(url)
    try:
        with eng.connect() as conn:
            if eng.dialect.name == "sqlite":
                found = conn.execute(
                    text(
                        "SELECT type, name, tbl_name, sql FROM sqlite_master WHERE tbl_name != 'alembic_version'"
                    )
                )
                return {tuple(r) for r in found}
            schema = conn.execute(text("SELECT current_schema()")).scalar()
            queries = {
                "column": "SELECT table_name, column_name, ordinal_position, data_type, character_maximum_length,"
                " is_nullable, column_default FROM information_schema.columns WHERE table_schema = :s",
                "constraint": "SELECT conrelid::regclass::text, conname, contype, pg_get_constraintdef(oid)"
                " FROM pg_constraint WHERE connamespace = CAST(:s AS regnamespace)",
                "index": "SELECT tablename, indexname, replace(indexdef, :s || '.', '') FROM pg_indexes"
                " WHERE schemaname = :s",
                "sequence": "SELECT sequence_name, data_type, start_value, increment FROM"
                " information_schema.sequences WHERE sequence_schema = :s",
            }
            return {
                (kind, *r)
                for kind, sql in queries.items()
                for r in conn.execute(text(sql), {"s": schema})
                if "alembic_version" not in r[0] and "alembic_version" not in str(r[1])
            }
    finally:
        eng.dispose()


def test_each_revision_is_named_by_its_file_and_the_history_is_one_line() -> None:
    """What lets a process find the head by listing versions/ instead of importing Alembic."""
    from alembic.script import ScriptDirectory

    scripts = ScriptDirectory.from_config(alembic_config())
    walked = list(reversed(list(scripts.walk_revisions())))  # oldest first
    assert [s.revision for s in walked] == revisions()
    for before, script in zip([None, *revisions()], walked, strict=False):
        assert Path(script.path).stem == script.revision, "a revision's id must be its file name (NNNN_what)"
        assert len(script.revision) <= 32, "alembic_version.version_num holds 32 characters"
        assert script.down_revision == before, f"{script.revision} must follow {before}: one line of history"
    assert scripts.get_heads() == [head_revision()]


def test_the_schema_module_and_the_migrations_agree(any_settings: Settings) -> None:
    """Alembic's autogenerate comparison of the migrated store with `store.metadata` finds nothing to do — and a
    table or column added to the schema without a revision is caught."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    with store.engine(any_settings).connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, store.metadata) == []

        ahead = MetaData(naming_convention=store.metadata.naming_convention)
        for table in store.metadata.tables.values():
            table.to_metadata(ahead)
        Table("added_without_a_revision", ahead, Column("id", String(100), primary_key=True))
        ahead.tables["people"].append_column(Column("email_added_without_a_revision", String(200)))
        found = {
            (d[0], d[1].name if d[0] == "add_table" else d[3].name) for d in compare_metadata(context, ahead)
        }
        assert found == {
            ("add_table", "added_without_a_revision"),
            ("add_column", "email_added_without_a_revision"),
        }


def test_a_new_store_is_created_by_the_migrations_at_head(any_settings: Settings) -> None:
    assert store.revision(any_settings).exists is False
    eng = store.engine(any_settings)
    assert set(inspect(eng).get_table_names()) == {*store.metadata.tables, "alembic_version"}
    with eng.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all() == [
            head_revision()
        ]
    now = store.revision(any_settings)
    assert (now.current, now.pending, now.legacy) == (head_revision(), False, False)


def test_the_baseline_is_exactly_the_schema_stores_had_before_migrations(
    any_settings: Settings, other_store_url: str
) -> None:
    """Tables, columns, types, nullability, defaults, keys, unique constraints, indexes and sequences, by name:
    a store migrated to 0001_baseline (whatever revisions come later) against one made as 0e11c27 made it."""
    from alembic import command

    legacy_store.create(other_store_url).dispose()
    eng = open_engine(any_settings.state_url)
    with eng.begin() as conn:
        command.upgrade(alembic_config(conn), "0001_baseline")
    eng.dispose()
    assert describe(any_settings.state_url) == describe(other_store_url)


@pytest.mark.parametrize("with_drift", [True, False], ids=["all-tables", "before-catalog-drift"])
def test_a_store_made_before_migrations_is_adopted_keeping_every_row(
    any_settings: Settings, with_drift: bool
) -> None:
    """Built and filled as commit 0e11c27 did (a store opened before governance.drift was imported has no
    catalog_drift table); opened by this code, it is stamped, completed and upgraded, every row kept."""
    old = legacy_store.create(any_settings.state_url, with_drift=with_drift)
    before = legacy_store.fill(old, with_drift=with_drift)
    old.dispose()
    found = store.revision(any_settings)
    assert (found.legacy, found.current, found.pending) == (True, None, True)

    eng = store.engine(any_settings)
    assert store.revision(any_settings).current == head_revision()
    assert set(inspect(eng).get_table_names()) == {*store.metadata.tables, "alembic_version"}
    assert legacy_store.rows(eng, with_drift=with_drift) == before
    assert verify_chain(any_settings) == []
    assert chain_head(any_settings) == f"5:{before['events'][-1]['hash']}"
    assert [(p.id, p.name, p.active) for p in list_people(any_settings)] == [
        ("zhaozr", "赵主任", False),
        ("wangmin", "王敏", True),
    ]
    assert [(e.period, e.state.value) for e in ledger_rows(any_settings)] == [
        ("2026-02", "updated"),
        ("2026-03", "zero_update_declared"),
        ("2026-W09", "missing"),
    ]
    # the store goes on: the chain continues, and serial ids continue after the old rows (PostgreSQL sequences)
    record_event(any_settings, kind="store.checked", actor="tester", agency=None, subject="store", payload={})
    assert verify_chain(any_settings) == [] and chain_head(any_settings).startswith("6:")
    with store.write_transaction(any_settings) as conn:
        conn.execute(
            store.submissions.insert().values(
                agency="mzj", resource="dibao", period="2026-04", state="updated", at="2026-04-01T00:00:00Z"
            )
        )
        assert (
            conn.execute(
                select(store.submissions.c.id).where(store.submissions.c.period == "2026-04")
            ).scalar()
            == 4
        )
        conn.execute(
            store.catalog_drift.insert().values(
                agency="mzj", resource="dibao", catalog_fingerprint="1" * 32, detected_at="x", deadline=dt.date(2026, 4, 2),
                details="[]",
            )
        )  # fmt: skip


CHILD = textwrap.dedent(
    """
    import json, os, sys, time
    from pathlib import Path
    from govhub import store
    from govhub.config import get_settings
    from govhub.events import record_event

    folder, n = Path(sys.argv[1]), sys.argv[2]
    (folder / f"ready-{n}").touch()
    while not (folder / "go").exists():
        time.sleep(0.005)
    started = time.perf_counter()
    store.engine(get_settings())
    took = time.perf_counter() - started
    record_event(get_settings(), kind="test.started", actor=f"process {n}", agency=None, subject="store",
                 payload={"n": n})
    print(json.dumps({"n": n, "seconds": took, "alembic": "alembic" in sys.modules}))
    """
)


def test_processes_opening_a_new_store_at_once_all_succeed(any_settings: Settings, tmp_path: Path) -> None:
    """Four processes start together on a store that does not exist yet: one creates it, the others wait for it
    (SQLite: lock file + BEGIN IMMEDIATE; PostgreSQL: advisory lock) and find it at head."""
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", CHILD, str(tmp_path), str(n)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=REPO,
            env={**os.environ, "GOVHUB_HOME": str(any_settings.home)},
        )
        for n in range(4)
    ]
    deadline = time.monotonic() + 120
    while len(list(tmp_path.glob("ready-*"))) < 4 and time.monotonic() < deadline:
        time.sleep(0.01)
    (tmp_path / "go").touch()
    results = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0] * 4, [err[-2000:] for _, err in results]
    reports = [json.loads(out) for out, _ in results]
    assert sum(r["alembic"] for r in reports) >= 1  # someone migrated; who did varies
    assert store.revision(any_settings).current == head_revision()
    assert verify_chain(any_settings) == []
    assert chain_head(any_settings).startswith("4:")


def test_a_process_finding_the_store_at_head_does_not_import_alembic(any_settings: Settings) -> None:
    store.engine(any_settings)
    probe = "import sys; from govhub import store; from govhub.config import get_settings; "
    probe += "store.engine(get_settings()); print('alembic' in sys.modules)"
    run = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        cwd=REPO,
        env={**os.environ, "GOVHUB_HOME": str(any_settings.home)},
        timeout=120,
    )
    assert (run.returncode, run.stdout.strip()) == (0, "False"), run.stderr[-2000:]


def test_a_store_upgraded_by_a_newer_govhub_is_refused_in_chinese(any_settings: Settings) -> None:
    with store.engine(any_settings).begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0999_from_the_future'"))
    store.dispose_engines()
    with pytest.raises(GovhubError) as err:
        store.engine(any_settings)
    problem = err.value.problems[0]
    assert problem.code == "store.unknown_revision" and "更新版本" in problem.message_zh
    assert store.revision(any_settings).ahead


def test_an_unreachable_store_is_a_message_not_a_traceback(settings: Settings) -> None:
    settings = dataclasses.replace(
        settings, state_url="postgresql+psycopg2://postgres:s3cret@127.0.0.1:1/test"
    )
    with pytest.raises(GovhubError) as err:
        store.engine(settings)
    problem = err.value.problems[0]
    assert problem.code == "store.unreachable" and "无法连接" in problem.message_zh
    assert "s3cret" not in problem.message_zh


def test_a_non_editable_install_ships_the_migrations() -> None:
    """`pip install .` copies only the listed packages and package data: every folder of the store package (env.py
    and versions/ included) must be listed, and Alembic's non-Python files with them."""
    import tomllib

    config = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    package_root = REPO / "govhub" / "store"
    folders = {p.parent for p in package_root.rglob("*.py") if "__pycache__" not in p.parts}
    for folder in folders:
        assert (folder / "__init__.py").exists(), f"{folder} needs an __init__.py to be installed"
        name = ".".join(folder.relative_to(REPO).parts)
        assert name in config["packages"], f"pyproject.toml's packages must list {name}"
    shipped = config["package-data"]["govhub.store.migrations"]
    assert {"alembic.ini", "script.py.mako"} <= set(shipped)


def test_requests_filed_before_0008_learn_their_applicants_login_where_the_name_is_unique(
    any_settings: Settings,
) -> None:
    """Revision 0008 fills `created_by_id` from the registry: a name one person has gives their login; a name two
    people share, or no one has any more, stays NULL (the request is then judged by name, as before)."""
    from alembic import command

    eng = open_engine(any_settings.state_url)
    with eng.begin() as conn:
        command.upgrade(alembic_config(conn), "0007_grant_use")
        conn.execute(text("INSERT INTO people (id, name, agency, roles, active, updated_at) VALUES "
                          "('wangmin', '王敏', 'mzj', 'steward', 1, 'x'), ('lilei', '李雷', 'kw', 'office', 1, 'x'),"
                          " ('lilei2', '李雷', 'gaj', 'analyst', 1, 'x')"))  # fmt: skip
        for n, name in enumerate(["王敏", "李雷", "离职者"]):
            conn.execute(text(
                "INSERT INTO sharing_requests (id, consumer, provider, resource, code, share_type, fields, row_scope,"
                " purpose, basis, use_from, use_until, state, created_by, created_at, updated_at, answered_late,"
                f" disputed) VALUES ('SQ-{n}', 'kw', 'mzj', 'dibao', 'c', 'unconditional', '[]', '[]', 'p', 'b',"
                f" '2026-01-01', '2026-12-31', 'submitted', '{name}', 'x', 'x', 0, 0)"))  # fmt: skip
        command.upgrade(alembic_config(conn), "head")
        filled = conn.execute(text("SELECT id, created_by_id FROM sharing_requests ORDER BY id")).all()
    eng.dispose()
    assert [tuple(r) for r in filled] == [("SQ-0", "wangmin"), ("SQ-1", None), ("SQ-2", None)]
