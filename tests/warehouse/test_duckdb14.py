"""Analysts' tools lag behind the hub's DuckDB: a DuckDB 1.4 client (its own virtualenv, `make duckdb14`, from PyPI)
opens hub.duckdb and a workspace and reads their tables and views."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from govhub.warehouse.scope import base_scope
from govhub.warehouse.workspace import build_workspace

from .test_workspace import market_scope

REPO = Path(__file__).resolve().parents[2]
PYTHON14 = REPO / ".venv-duckdb14" / "bin" / "python"

READ = """
import json, sys, duckdb
out = {"version": duckdb.__version__}
for path in sys.argv[1:]:
    con = duckdb.connect(path, read_only=True)
    names = [f"{s}.{n}" for s, n in con.execute(
        "SELECT schema_name, table_name FROM duckdb_tables() UNION ALL "
        "SELECT schema_name, view_name FROM duckdb_views() WHERE NOT internal ORDER BY ALL").fetchall()]
    out[path] = {name: con.execute(f"SELECT count(*) FROM {name}").fetchall()[0][0] for name in names}
    con.close()
print(json.dumps(out))
"""


@pytest.fixture(scope="session")
def duckdb14() -> Path:
    """The DuckDB 1.4 interpreter; created here when `make test` has not made it yet."""
    if not (PYTHON14.parent.parent / ".installed").exists():
        done = subprocess.run(["make", "-s", "duckdb14"], cwd=REPO, capture_output=True, text=True)
        assert done.returncode == 0, f"make duckdb14 failed (needs PyPI): {done.stdout}{done.stderr}"
    return PYTHON14


def test_duckdb_1_4_opens_hub_duckdb_and_a_workspace(sharing_hub, duckdb14):
    settings = sharing_hub.settings
    market = build_workspace(settings, market_scope(sharing_hub)).path
    civil = build_workspace(settings, base_scope(settings, sharing_hub.catalog, "civil")).path
    paths = [str(settings.hub_db), str(market), str(civil)]
    done = subprocess.run([str(duckdb14), "-c", READ, *paths], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout)
    assert found["version"].startswith("1.4.")
    assert found[str(market)] == {
        "civil.benefits": 10,
        "civil.people": 40,
        "main._scope": 4,
        "market.firms": 40,
    }
    assert found[str(civil)] == {
        "civil.benefits": 40,
        "civil.people": 40,
        "civil.registry": 40,
        "main._scope": 3,
    }
    hub = found[str(settings.hub_db)]
    assert hub["civil.people"] == 40 and hub["civil.people__history"] == 40 and hub["housing.houses"] == 0
    assert hub["meta.snapshots"] == 5 and hub["meta.loads"] == 4  # 4 loads + houses' empty initial snapshot
