"""Escape attempts by an analyst of market (市场监管), whose workspace holds market.firms, civil.people without phone
and two grants (civil.benefits' ages 30–39; civil.people's phone for ages 25–26). Every attempt must fail: an error,
or — for metadata that may be read — nothing of the hub. The secrets are values the workspace does not hold:
benefits' other rows, phones, the registry, a landing file, civil's own workspace.

Each case names the channel it tries; the list grows with every bypass anyone finds (FACTS: "Grant-scoped DuckDB").
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pytest

from govhub.config import get_settings
from govhub.warehouse.sandbox import QueryLimits, run_query
from govhub.warehouse.scope import base_scope
from govhub.warehouse.snapshots import resource_paths
from govhub.warehouse.workspace import build_workspace

from .conftest import build_sharing_hub, marker, people_rows
from .test_workspace import market_scope

FORBIDDEN = {"sandbox.forbidden"}
LOCKED = {"sandbox.locked"}
READ_ONLY = {"sandbox.read_only"}
MEMORY = {"sandbox.memory", "sandbox.crashed"}  # DuckDB's limit, or the OS's when DuckDB does not count it


@dataclass
class Arena:
    settings: object
    market: Path
    civil: Path
    paths: dict[str, str]
    secrets: list[str]
    out: Path


@pytest.fixture(scope="module")
def arena(tmp_path_factory) -> Arena:
    home = tmp_path_factory.mktemp("escapes")
    settings = get_settings(home, home / "catalog")
    hub = build_sharing_hub(settings)
    market = build_workspace(settings, market_scope(hub)).path
    civil = build_workspace(settings, base_scope(settings, hub.catalog, "civil")).path
    landing = settings.landing_dir / "civil" / "benefits" / "ab" / "abcdef.csv"
    landing.parent.mkdir(parents=True)
    secret_landing = marker("landing", 0)
    landing.write_text(f"person_id,name\nP1,{secret_landing}\n", encoding="utf-8")
    benefits = resource_paths(settings, hub.resource("civil/benefits"))
    snapshot_file = next(benefits.current.resolve().glob("*.parquet"))
    rows = people_rows(hub.rows)
    secrets = [secret_landing]
    secrets += [marker("benefitsname", i) for i, r in enumerate(rows) if not 30 <= r["age"] <= 39]
    secrets += [marker("peoplephone", i) for i, r in enumerate(rows) if r["age"] not in (25, 26)]
    secrets += [
        marker(k, i) for k in ("benefitsphone", "registryname", "registryphone") for i in range(hub.rows)
    ]
    out = home / "outside"
    out.mkdir()
    paths = {
        "home": str(home),
        "hub": str(settings.hub_dir),
        "hub_db": str(settings.hub_db),
        "snapshot": str(snapshot_file),
        "current_glob": str(benefits.current / "*.parquet"),
        "landing": str(landing),
        "civil_ws": str(civil),
        "market_ws": str(market),
        "market_dir": str(market.parent),
        "meta": str(settings.hub_dir / "_meta"),
        "out": str(out / "stolen.csv"),
        "out_dir": str(out / "export"),
        "parent_pid": str(os.getpid()),
    }
    return Arena(settings, market, civil, paths, secrets, out)


# (case id, SQL — {name} is an absolute path of the hub, expected error codes; None: may succeed, must leak nothing)
ESCAPES: list[tuple[str, str, set[str] | None]] = [
    # files of the hub, read directly
    ("read_parquet-snapshot", "SELECT * FROM read_parquet('{snapshot}')", FORBIDDEN),
    ("read_parquet-current-glob", "SELECT * FROM read_parquet('{current_glob}')", FORBIDDEN),
    ("read_parquet-hub-recursive-glob", "SELECT * FROM read_parquet('{hub}/**/*.parquet')", FORBIDDEN),
    ("read_parquet-file-url", "SELECT * FROM read_parquet('file://{snapshot}')", FORBIDDEN),
    ("from-file-replacement-scan", "SELECT * FROM '{snapshot}'", FORBIDDEN),
    ("read_csv-landing", "SELECT * FROM read_csv('{landing}')", FORBIDDEN),
    ("read_csv_auto-landing", "SELECT * FROM read_csv_auto('{landing}')", FORBIDDEN),
    ("read_text-landing", "SELECT content FROM read_text('{landing}')", FORBIDDEN),
    ("read_json-meta-records", "SELECT * FROM read_json_auto('{meta}/*/*.json')", FORBIDDEN),
    ("read_blob-other-workspace", "SELECT content FROM read_blob('{civil_ws}')", FORBIDDEN),
    (
        "copy-from-landing",
        "CREATE TEMP TABLE t (a VARCHAR, b VARCHAR); COPY t FROM '{landing}'; FROM t",
        FORBIDDEN,
    ),
    # metadata functions
    ("glob-hub", "SELECT * FROM glob('{home}/**')", FORBIDDEN),
    ("parquet_metadata-min-max", "SELECT * FROM parquet_metadata('{snapshot}')", FORBIDDEN),
    ("parquet_schema", "SELECT * FROM parquet_schema('{snapshot}')", FORBIDDEN),
    ("parquet_file_metadata", "SELECT * FROM parquet_file_metadata('{snapshot}')", FORBIDDEN),
    ("parquet_kv_metadata", "SELECT * FROM parquet_kv_metadata('{snapshot}')", FORBIDDEN),
    ("sniff_csv-landing", "SELECT * FROM sniff_csv('{landing}')", FORBIDDEN),
    ("duckdb_settings-disclose-nothing", "SELECT name, value FROM duckdb_settings()", None),
    ("duckdb_databases-disclose-nothing", "SELECT * FROM duckdb_databases()", None),
    ("duckdb_tables-only-own", "SELECT * FROM duckdb_tables()", None),
    # the process's environment
    ("getenv", "SELECT getenv('HOME')", {"sandbox.no_function"}),
    ("proc-self-environ", "SELECT * FROM read_csv('/proc/self/environ')", FORBIDDEN),
    ("proc-parent-environ", "SELECT content FROM read_text('/proc/{parent_pid}/environ')", FORBIDDEN),
    ("proc-self-fd", "SELECT content FROM read_blob('/proc/self/fd/*')", FORBIDDEN),
    ("python-replacement-scan", "SELECT * FROM request", {"sandbox.no_table"}),
    # other databases
    ("attach-hub-duckdb", "ATTACH '{hub_db}' AS h (READ_ONLY); SELECT * FROM h.civil.benefits", FORBIDDEN),
    (
        "attach-other-workspace",
        "ATTACH '{civil_ws}' AS c (READ_ONLY); SELECT * FROM c.civil.benefits",
        FORBIDDEN,
    ),
    (
        "attach-memory-then-copy",
        "ATTACH ':memory:' AS m; CREATE TABLE m.t AS FROM read_parquet('{snapshot}'); FROM m.t",
        READ_ONLY | FORBIDDEN,
    ),
    (
        "attach-detach-reattach",
        "ATTACH ':memory:' AS m; DETACH m; ATTACH '{civil_ws}' AS c; FROM c.civil.benefits",
        READ_ONLY | FORBIDDEN,
    ),
    ("attach-new-file", "ATTACH '{out_dir}.duckdb' AS n; CREATE TABLE n.t AS FROM civil.people", FORBIDDEN),
    # writing out
    ("copy-to-file", "COPY (SELECT * FROM civil.people) TO '{out}'", FORBIDDEN),
    ("copy-to-workspace-folder", "COPY market.firms TO '{market_dir}/x.parquet' (FORMAT parquet)", FORBIDDEN),
    (
        "copy-over-own-workspace",
        "COPY market.firms TO '{market_ws}' (FORMAT csv)",
        {"sandbox.invalid", *FORBIDDEN},
    ),
    (
        "copy-into-own-wal",
        "COPY market.firms TO '{market_ws}.wal' (FORMAT csv)",
        {"sandbox.invalid", *FORBIDDEN},
    ),
    ("export-database", "EXPORT DATABASE '{out_dir}'", FORBIDDEN),
    (
        "persistent-secret",
        "CREATE PERSISTENT SECRET s (TYPE s3, KEY_ID 'a', SECRET 'b')",
        FORBIDDEN | {"sandbox.invalid"},
    ),
    # extensions
    ("install-httpfs", "INSTALL httpfs", FORBIDDEN),
    ("load-httpfs", "LOAD httpfs", FORBIDDEN),
    ("load-from-path", "LOAD '{home}/evil.duckdb_extension'", FORBIDDEN),
    # settings: each is locked, and so is the lock
    ("set-external-access", "SET enable_external_access = true; FROM read_parquet('{snapshot}')", LOCKED),
    ("reset-external-access", "RESET enable_external_access; FROM read_parquet('{snapshot}')", LOCKED),
    ("pragma-external-access", "PRAGMA enable_external_access = true", LOCKED),
    ("unlock-configuration", "SET lock_configuration = false", LOCKED),
    ("reset-lock", "RESET lock_configuration", LOCKED),
    ("allowed-directories", "SET allowed_directories = ['{hub}']; FROM read_parquet('{snapshot}')", LOCKED),
    ("allowed-paths", "SET allowed_paths = ['{snapshot}']; FROM read_parquet('{snapshot}')", LOCKED),
    ("temp-directory", "SET temp_directory = '{out_dir}'", LOCKED),
    ("memory-limit", "SET memory_limit = '100GB'", LOCKED),
    ("pragma-memory-limit", "PRAGMA memory_limit = '100GB'", LOCKED),
    ("reset-memory-limit", "RESET memory_limit", LOCKED),
    ("threads", "SET threads = 64", LOCKED),
    ("lift-time-limit", "SET max_execution_time = 0", LOCKED),
    ("python-replacements-on", "SET python_enable_replacements = true", LOCKED),
    ("autoload-extensions", "SET autoload_known_extensions = true", LOCKED),
    ("profiling-output", "SET profiling_output = '{out}'", LOCKED),
    ("pragma-enable-profiling", "PRAGMA enable_profiling = 'json'", LOCKED),
    ("log-query-path", "SET log_query_path = '{out}'", LOCKED),
    ("secret-directory", "SET secret_directory = '{out_dir}'", LOCKED),
    # temp-directory trick: a sort bigger than memory may not spill (the temp folder is off)
    (
        "spill-to-temp",
        "SELECT count(*) FROM (SELECT repeat('x', 100) || range AS s FROM range(30000000) ORDER BY s)",
        MEMORY,
    ),
    # writes to the workspace itself
    ("create-table", "CREATE TABLE civil.copy AS SELECT * FROM civil.people", READ_ONLY),
    ("insert", "INSERT INTO market.firms SELECT * FROM market.firms", READ_ONLY),
    ("update", "UPDATE market.firms SET age = 0", READ_ONLY),
    ("delete", "DELETE FROM civil.people", READ_ONLY),
    ("drop", "DROP TABLE market.firms", READ_ONLY),
    ("alter", "ALTER TABLE civil.people ADD COLUMN phone VARCHAR", READ_ONLY),
    ("create-view", "CREATE VIEW civil.mine AS SELECT * FROM civil.people", READ_ONLY),
    (
        "create-view-naming-a-file",
        "CREATE VIEW civil.leak AS FROM read_parquet('{snapshot}')",
        READ_ONLY | FORBIDDEN,
    ),
    ("create-macro", "CREATE MACRO civil.twice(x) AS x * 2", READ_ONLY),
    (
        "create-macro-naming-a-file",
        "CREATE MACRO civil.leak() AS TABLE FROM read_parquet('{snapshot}')",
        READ_ONLY | FORBIDDEN,
    ),
]


def _leaks(arena: Arena, result, sql: str) -> list[str]:
    """Secret values in the answer, and paths of the hub the question did not already name (errors quote it)."""
    answer = repr(result.table.to_pylist())
    if result.error:
        answer += result.error.detail + result.error.message_zh
    found = [s for s in arena.secrets if s in answer]
    for name in ("hub", "hub_db", "landing", "civil_ws", "snapshot"):
        if arena.paths[name] in answer and arena.paths[name] not in sql:
            found.append(f"path {name}")
    return found


def _files(root: Path) -> set[Path]:
    return {p for p in root.rglob("*") if ".lock" not in p.name}


def test_there_are_at_least_30_escape_attempts():
    assert len(ESCAPES) >= 30 and len({c[0] for c in ESCAPES}) == len(ESCAPES)


@pytest.mark.parametrize("case, sql, codes", ESCAPES, ids=[c[0] for c in ESCAPES])
def test_escape_attempt_fails(arena, case, sql, codes):
    before = _files(Path(arena.paths["home"]))
    sql = sql.format(**arena.paths)
    result = run_query(arena.settings, arena.market, sql, QueryLimits(memory_mb=256, timeout_s=4))
    assert _leaks(arena, result, sql) == [], case
    if codes is None:
        assert result.ok, result.error
    else:
        assert not result.ok and result.error.code in codes, (case, result.error)
    assert _files(Path(arena.paths["home"])) == before, "nothing may be written anywhere in the hub"


def test_a_path_disclosed_by_duckdb_databases_leads_nowhere(arena):
    own = run_query(arena.settings, arena.market, "SELECT path FROM duckdb_databases() WHERE NOT internal")
    disclosed = own.table.column("path").to_pylist()
    assert disclosed == [arena.paths["market_ws"]]  # its own file: the data folder's layout is no secret…
    home = Path(disclosed[0]).parents[2]
    for guess in (home / "hub.duckdb", home / "workspaces" / "civil" / "workspace.duckdb", home / "hub"):
        attempt = run_query(
            arena.settings, arena.market, f"SELECT * FROM glob('{guess}/**') UNION ALL SELECT '{guess}'"
        )
        assert attempt.error.code == "sandbox.forbidden"  # …because nothing beside it can be reached


def test_a_runaway_recursive_query_is_stopped_by_the_time_limit(arena):
    endless = "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) SELECT max(n) FROM r"
    result = run_query(arena.settings, arena.market, endless, QueryLimits(timeout_s=1))
    assert result.error.code == "sandbox.timeout"


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT repeat('x', 1000000000) AS x",  # 1e9 characters in one value
        "SELECT repeat('x', 200000000) AS x FROM range(12)",  # Arrow's buffers, which DuckDB does not count
        "SELECT list(range) FROM range(1000000000)",  # a big range gathered
        "SELECT count(*) FROM range(1000000000) a, range(1000000000) b",  # a big range crossed: the clock stops it
    ],
)
def test_huge_allocations_stop_in_the_child_and_leave_the_parent_alone(arena, sql):
    before = _rss_mb()
    result = run_query(arena.settings, arena.market, sql, QueryLimits(memory_mb=256, timeout_s=4))
    assert result.error.code in MEMORY | {"sandbox.timeout"}, result.error
    assert _rss_mb() - before < 50  # the parent never held the rows
    assert run_query(
        arena.settings, arena.market, "SELECT count(*) AS n FROM market.firms"
    ).table.to_pylist() == [{"n": 40}]


def test_the_analyst_reaches_exactly_the_workspace(arena):
    tables = run_query(
        arena.settings, arena.market, "SELECT schema_name, table_name FROM duckdb_tables() ORDER BY ALL"
    )
    assert tables.table.to_pylist() == [
        {"schema_name": "civil", "table_name": "benefits"},
        {"schema_name": "civil", "table_name": "people"},
        {"schema_name": "main", "table_name": "_scope"},
        {"schema_name": "market", "table_name": "firms"},
    ]
