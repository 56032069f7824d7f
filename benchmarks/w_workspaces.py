"""Grant-scoped query over the 10M-row hub: W6/sandbox (a group-by through the sandbox), W6O (what the sandbox adds
per query, against opening the workspace in-process) and W9 (rebuilding a workspace after a publish while queries run
against it).

W6/sandbox queries a workspace holding a grant of four of the resource's ten fields (all rows, so its answer equals
the baseline's): the same SQL as W6/baseline, which runs in-process over the snapshot's Parquet. The workspace is built
untimed; the sandbox's zygote is started untimed too (a service starts it once, `sandbox.warm_up()`).

W9/govhub rebuilds the workspace of the resource's own agency (all ten fields, 10M rows) alternately from the current
and the previous snapshot, so every run is a rebuild after "a publish", while a separate process queries the
workspace in a loop and logs what it saw (`_scope`'s snapshot id) or the error. W9/baseline is the same CREATE TABLE
AS in plain DuckDB into a new file: no lock, no fsync, no rename, DuckDB 2.0's own storage format.

W9G builds the workspace of an agency holding THREE grants of the resource — different fields, overlapping rows (two
town lists, a wage range) — so the table is their merge (a value kept where some grant gives its field and its row)
and `_scope.rows` counts what each grant admits (one more, column-pruned pass). W9G/baseline is the same merged
SELECT by plain CREATE TABLE AS, as W9's, without that count.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from benchmarks.harness import REPO, Case
from benchmarks.w_snapshots import GROUP_BY, _snapshots

GRANTED = ["birth_date", "town_code", "monthly_wage", "updated_at"]  # what GROUP_BY reads
ANALYST = "analyst"
LOOP_SQL = (
    "SELECT (SELECT snapshot_id FROM _scope WHERE table_name = 'bench.jyry') AS snapshot_id, "
    "count(*) AS n FROM bench.jyry"
)


class W6Sandbox(Case):
    workload, side = "W6", "sandbox"
    title = "the same group-by through the sandbox over a workspace holding a grant of 4 of the 10 fields"

    def rows(self) -> int:
        return self.ctx.profile.snapshot_rows

    def repeats(self) -> int:
        # W6 judges a ratio of two ≈0.25 s medians, and other work on a shared machine moves single runs by ±40%
        return max(11, self.ctx.profile.repeats)

    def prepare(self) -> None:
        from govhub.warehouse.sandbox import warm_up
        from govhub.warehouse.scope import Basis, WorkspaceScope, current_source, scoped_table
        from govhub.warehouse.workspace import build_workspace

        self.settings, resource, _, _ = _snapshots(self.ctx)
        table = scoped_table(
            resource,
            current_source(self.settings, resource),
            columns=GRANTED,
            basis=Basis.GRANT,
            grant_ids=["w6"],
        )
        self.path = build_workspace(self.settings, WorkspaceScope(ANALYST, (table,))).path
        warm_up()

    def run(self) -> dict[str, Any]:
        from govhub.warehouse.sandbox import QueryLimits, run_query

        sql = GROUP_BY.format(source='bench."jyry"')
        result = run_query(self.settings, self.path, sql, QueryLimits(timeout_s=60)).raise_for_error()
        people = result.table.column("people").to_pylist()
        return {"groups": len(people), "people": sum(people)}


class W6OSandbox(W6Sandbox):
    workload, side = "W6O", "sandbox"
    title = "per-query overhead: SELECT 1 through the sandbox (fork, open read-only, lock down, Arrow back)"

    def rows(self) -> int:
        return 1

    def repeats(self) -> int:
        return max(30, self.ctx.profile.repeats)

    def run(self) -> dict[str, Any]:
        from govhub.warehouse.sandbox import run_query

        return {
            "answer": run_query(self.settings, self.path, "SELECT 1 AS one")
            .raise_for_error()
            .table.to_pylist()
        }


class W6OBaseline(W6OSandbox):
    side = "baseline"
    title = "SELECT 1 on the same workspace in-process: open read-only, query, Arrow, close"

    def run(self) -> dict[str, Any]:
        import duckdb

        with duckdb.connect(str(self.path), read_only=True) as con:
            return {"answer": con.sql("SELECT 1 AS one").to_arrow_table().to_pylist()}


def _own_scope(settings, resource, snapshot_id: str):
    """The resource's agency's own scope, reading the given snapshot (as if it had just been published)."""
    from benchmarks.resources import bench_catalog
    from govhub.warehouse.scope import SnapshotSource, WorkspaceScope, base_scope
    from govhub.warehouse.snapshots import resource_paths

    scope = base_scope(settings, bench_catalog([resource]), resource.agency)
    folder = resource_paths(settings, resource).snapshot(snapshot_id)
    source = SnapshotSource(snapshot_id, tuple(sorted(folder.glob("*.parquet"))))
    return WorkspaceScope(scope.agency, tuple(replace(t, source=source) for t in scope.tables))


class W9Govhub(Case):
    workload, side = "W9", "govhub"
    title = (
        "rebuild the owner's workspace (10 fields) after a publish, a query loop running against it meanwhile"
    )

    def rows(self) -> int:
        return self.ctx.profile.snapshot_rows

    def prepare(self) -> None:
        from govhub.warehouse.workspace import build_workspace

        self.settings, self.resource, current, previous = _snapshots(self.ctx)
        self.ids = [current.id, previous.id]
        self.turn = 0
        self.path = build_workspace(self.settings, _own_scope(self.settings, self.resource, previous.id)).path
        self.log = self.ctx.scratch("W9") / "loop.jsonl"

    def reset(self) -> None:
        """Untimed: start the query loop and wait for its first answer."""
        self.log.unlink(missing_ok=True)
        self.loop = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "benchmarks.w_workspaces",
                str(self.settings.home),
                str(self.path),
                str(self.log),
            ],
            cwd=REPO,
        )
        while not self.log.exists() or not self.log.read_text().strip():
            if self.loop.poll() is not None:
                raise RuntimeError("W9's query loop ended before its first answer")
            time.sleep(0.05)
        self.read = len(self.log.read_text().splitlines())

    def run(self) -> dict[str, Any]:
        from govhub.warehouse.workspace import build_workspace

        before, target = self.ids[(self.turn + 1) % 2], self.ids[self.turn % 2]
        self.turn += 1
        cpu = time.process_time()
        try:
            build = build_workspace(self.settings, _own_scope(self.settings, self.resource, target))
        finally:
            self.loop.terminate()  # the answers logged so far are those given while the rebuild ran
            self.loop.wait()
        lines = self.log.read_text().splitlines()[self.read :]
        if lines and not lines[-1].endswith("}"):
            lines.pop()  # the loop was stopped while writing its last answer
        seen = [json.loads(line) for line in lines]
        errors = [o["error"] for o in seen if "error" in o]
        ids = {o["snapshot_id"] for o in seen if "snapshot_id" in o}
        return {
            "rows": build.tables["bench.jyry"],
            "bytes": build.bytes,
            "cpu_s": round(
                time.process_time() - cpu, 2
            ),  # all threads: a busy machine stretches wall time, not this
            "queries_meanwhile": len(seen),
            "query_errors": errors[:3],
            "queries_clean": not errors and ids <= {before, target},
        }


class _PlainBuild(Case):
    """A baseline: the tables `group()` scopes, by plain CREATE TABLE AS into a new file (no lock, fsync or rename;
    DuckDB 2.0's own storage format)."""

    def rows(self) -> int:
        return self.ctx.profile.snapshot_rows

    def group(self, settings: Any, resource: Any, current: Any) -> list:
        raise NotImplementedError

    def prepare(self) -> None:
        settings, resource, current, _ = _snapshots(self.ctx)
        self.tables = self.group(settings, resource, current)
        self.path = self.ctx.scratch(self.workload) / "plain.duckdb"

    def reset(self) -> None:
        self.path.unlink(missing_ok=True)
        self.path.with_name(self.path.name + ".wal").unlink(missing_ok=True)

    def run(self) -> dict[str, Any]:
        import duckdb

        from govhub.warehouse.workspace import table_select

        cpu = time.process_time()
        with duckdb.connect(str(self.path)) as con:
            con.execute("CREATE SCHEMA bench")
            con.execute(f"CREATE TABLE bench.jyry AS {table_select(con, self.tables)}")
            rows = con.execute("SELECT count(*) FROM bench.jyry").fetchall()[0][0]
        return {"rows": rows, "bytes": self.path.stat().st_size, "cpu_s": round(time.process_time() - cpu, 2)}


class W9Baseline(_PlainBuild):
    workload, side = "W9", "baseline"
    title = (
        "the same tables by plain CREATE TABLE AS into a new file (no lock, fsync or rename; 2.0's format)"
    )

    def group(self, settings: Any, resource: Any, current: Any) -> list:
        return list(_own_scope(settings, resource, current.id).tables)


def _three_grants(settings, resource, current) -> tuple:
    """W9G's scope: three grants of one resource, different fields and overlapping rows (untimed)."""
    import duckdb

    from govhub.warehouse.scope import Basis, Between, InValues, RowFilter, SnapshotSource, scoped_table
    from govhub.warehouse.snapshots import resource_paths
    from govhub.warehouse.workspace import parquet_files

    folder = resource_paths(settings, resource).snapshot(current.id)
    source = SnapshotSource(current.id, tuple(sorted(folder.glob("*.parquet"))))
    with duckdb.connect() as con:
        towns = [r[0] for r in con.execute(f"SELECT DISTINCT town_code FROM {parquet_files(source.files)} "
                                           "ORDER BY 1").fetchall()]  # fmt: skip
    half = len(towns) // 2
    grants = [  # (fields, rows): the first two overlap on the middle towns, the third cuts across both
        (["birth_date", "town_code", "monthly_wage"], InValues("town_code", tuple(towns[: half + 2]))),
        (["name", "sex", "town_code"], InValues("town_code", tuple(towns[half - 2 :]))),
        (["town_code", "monthly_wage", "updated_at"], Between("monthly_wage", 3000, 8000)),
    ]
    return tuple(
        scoped_table(
            resource,
            source,
            columns=fields,
            row_filter=RowFilter((rows,)),
            basis=Basis.GRANT,
            grant_ids=[f"w9g-{i}"],
            purposes=[f"W9G grant {i}"],
        )
        for i, (fields, rows) in enumerate(grants, 1)
    )


class W9GGovhub(Case):
    workload, side = "W9G", "govhub"
    title = "build a workspace from three grants of the resource (different fields, overlapping rows): merge + counts"

    def rows(self) -> int:
        return self.ctx.profile.snapshot_rows

    def prepare(self) -> None:
        from govhub.warehouse.scope import WorkspaceScope

        self.settings, resource, current, _ = _snapshots(self.ctx)
        self.scope = WorkspaceScope("w9g", _three_grants(self.settings, resource, current))

    def run(self) -> dict[str, Any]:
        import duckdb

        from govhub.warehouse.workspace import build_workspace

        cpu = time.process_time()
        build = build_workspace(self.settings, self.scope)
        cpu_s = round(time.process_time() - cpu, 2)
        with duckdb.connect(str(build.path), read_only=True) as con:
            admitted = [r[0] for r in con.execute("SELECT rows FROM _scope ORDER BY grant_ids").fetchall()]
        return {"rows": build.tables["bench.jyry"], "bytes": build.bytes, "cpu_s": cpu_s,
                "admitted": admitted}  # fmt: skip


class W9GBaseline(_PlainBuild):
    workload, side = "W9G", "baseline"
    title = "the same merged SELECT by plain CREATE TABLE AS into a new file (no per-grant counts, lock, fsync, rename)"

    def group(self, settings: Any, resource: Any, current: Any) -> list:
        return list(_three_grants(settings, resource, current))


def query_loop(home: str, workspace: str, log: str) -> None:
    """W9's reader, in its own process: query the workspace until terminated, one JSON line per answer."""
    from govhub.config import get_settings
    from govhub.warehouse.sandbox import QueryLimits, run_query

    settings = get_settings(home, REPO / "catalog")
    with open(log, "a", buffering=1) as out:
        while True:
            result = run_query(settings, Path(workspace), LOOP_SQL, QueryLimits(timeout_s=60))
            line = (
                {"snapshot_id": result.table.column("snapshot_id")[0].as_py()}
                if result.ok
                else {"error": f"{result.error.code}: {result.error.detail}"}
            )
            out.write(json.dumps(line) + "\n")


if __name__ == "__main__":
    query_loop(*sys.argv[1:4])
