"""The 10M-row hub: L10M (loads through `run_load`), W3 (keyed diff), W4 (zero update), W6 (query via hub views).

L10M/first publishes the previous version, L10M/next the 1%-changed one (so the hub holds two snapshots), both
streamed from Parquet in 128k-row batches through write-audit-publish with the full validation suite. They run
once each (a second run would be a different load) and leave the hub that W3, W4 and W6 read.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from benchmarks.harness import Case
from benchmarks.prepare_inputs import type_variant_path
from benchmarks.w_sheets import CURRENT, PREVIOUS, outcome_counts, parquet_path

DUCKDB_MEMORY = "2GB"  # what govhub's loads allow DuckDB (GOVHUB_DUCKDB_MEMORY_LIMIT's default)


def hub_home(ctx) -> Path:
    return ctx.work / "scratch" / "hub10m"


def _resource():
    from benchmarks.resources import people_resource

    return people_resource()


def _connect(ctx):
    import duckdb

    con = duckdb.connect()
    con.execute(f"SET memory_limit = '{DUCKDB_MEMORY}'")
    con.execute(f"SET temp_directory = '{ctx.scratch('duckdb-spill')}'")
    return con


def _snapshots(ctx) -> tuple[Any, Any, Any, Any]:
    """(settings, resource, current info, previous info) of the 10M hub."""
    from benchmarks.hubs import settings_for
    from govhub.warehouse.snapshots import current_info, snapshot_info

    settings, resource = settings_for(hub_home(ctx)), _resource()
    new = current_info(settings, resource)
    if new is None or new.previous_id is None:
        raise RuntimeError("the 10M hub needs two snapshots: run L10M first")
    return settings, resource, new, snapshot_info(settings, resource, new.previous_id)


class _Load(Case):
    workload = "L10M"
    version = PREVIOUS

    def rows(self) -> int:
        return self.ctx.profile.snapshot_rows

    def repeats(self) -> int:
        return 0

    def prepare(self) -> None:
        from benchmarks.hubs import work_around_open_result

        self.workaround = work_around_open_result()

    def run(self) -> dict[str, Any]:
        from benchmarks.hubs import load_parquet, settings_for

        path = parquet_path(self.ctx.inputs, self.rows(), self.version)
        outcome = load_parquet(settings_for(hub_home(self.ctx)), _resource(), path)
        return outcome_counts(outcome) | {"workaround_open_result": self.workaround}


class L10MFirst(_Load):
    side = "first"
    title = "first load of the resource: stream, validate (full suite), hash, publish"

    def prepare(self) -> None:
        super().prepare()
        shutil.rmtree(hub_home(self.ctx), ignore_errors=True)


class L10MNext(_Load):
    side = "next"
    title = "next load, 1% changed: stream, validate, hash, diff, publish"
    version = CURRENT


class L10MReload(_Load):
    side = "reload"
    title = "identical re-delivery in other physical types (ms timestamps…) end to end → zero update"

    def run(self) -> dict[str, Any]:
        from benchmarks.hubs import load_parquet, settings_for

        path = type_variant_path(self.ctx.inputs, self.rows())
        outcome = load_parquet(settings_for(hub_home(self.ctx)), _resource(), path)
        return {
            "zero_update": outcome.status == "zero_update",
            "status": outcome.status,
            "rows": outcome.rows,
            "unchanged": outcome.unchanged,
        }


# --- W3: keyed diff of two snapshots ------------------------------------------------------------------------


class W3Govhub(Case):
    workload, side = "W3", "govhub"
    title = "keyed diff of two snapshots in DuckDB (stored row hashes, full outer join)"

    def rows(self) -> int:
        return self.ctx.profile.snapshot_rows

    def prepare(self) -> None:
        self.settings, self.resource, self.new, self.old = _snapshots(self.ctx)
        self.changes = self.ctx.scratch("W3") / "changes.parquet"

    def run(self) -> dict[str, Any]:
        from govhub.warehouse.diff import diff_hashes, snapshot_hashes
        from govhub.warehouse.snapshots import resource_paths

        paths = resource_paths(self.settings, self.resource)
        with _connect(self.ctx) as con:  # two snapshot folders compared, as a load compares new with current
            counts = diff_hashes(
                con,
                self.resource,
                snapshot_hashes(con, self.resource, paths.snapshot(self.new.id), self.new),
                snapshot_hashes(con, self.resource, paths.snapshot(self.old.id), self.old),
                self.changes,
            )
        return {"inserted": counts.inserted, "updated": counts.updated, "deleted": counts.deleted}


class W3GovhubRehash(W3Govhub):
    side = "govhub-rehash"
    title = "the same diff with every row hash recomputed from the snapshots' data"

    def run(self) -> dict[str, Any]:
        from govhub.warehouse.diff import columns_of, diff_hashes, key_select_sql, row_hash_sql, sql_str
        from govhub.warehouse.snapshots import data_glob, resource_paths

        paths = resource_paths(self.settings, self.resource)
        with _connect(self.ctx) as con:
            relations = []
            for info in (self.new, self.old):
                data = f"read_parquet({sql_str(data_glob(paths.snapshot(info.id)))})"
                cols = columns_of(con, data)
                relations.append(
                    f"(SELECT {key_select_sql(self.resource, cols)}, {row_hash_sql(self.resource, cols)} AS row_hash "
                    f"FROM {data})"
                )
            counts = diff_hashes(con, self.resource, relations[0], relations[1], self.changes)
        return {"inserted": counts.inserted, "updated": counts.updated, "deleted": counts.deleted}


class W3Baseline(Case):
    workload, side = "W3", "baseline"
    title = "pandas read_parquet ×2 + merge(indicator=True) + column compare"
    slow = True

    def rows(self) -> int:
        return self.ctx.profile.snapshot_rows

    def prepare(self) -> None:
        self.resource = _resource()
        self.new = parquet_path(self.ctx.inputs, self.rows(), CURRENT)
        self.old = parquet_path(self.ctx.inputs, self.rows(), PREVIOUS)

    def run(self) -> dict[str, Any]:
        import pandas as pd

        from benchmarks.naive import diff_pandas

        counts = diff_pandas(self.resource, pd.read_parquet(self.new), pd.read_parquet(self.old))
        return {k: counts[k] for k in ("inserted", "updated", "deleted")}


# --- W4: identical re-delivery → zero update -----------------------------------------------------------------


class W4Govhub(Case):
    workload, side = "W4", "govhub"
    title = "identical re-delivery (other physical types) recognised by fingerprint vs the stored one"

    def rows(self) -> int:
        return self.ctx.profile.snapshot_rows

    def prepare(self) -> None:
        self.settings, self.resource, self.current, _ = _snapshots(self.ctx)
        self.delivery = type_variant_path(self.ctx.inputs, self.rows())

    def run(self) -> dict[str, Any]:
        from govhub.warehouse.diff import snapshot_fingerprint, sql_str, table_fingerprint
        from govhub.warehouse.snapshots import resource_paths

        folder = resource_paths(self.settings, self.resource).snapshot(self.current.id)
        with _connect(self.ctx) as con:
            delivered = table_fingerprint(con, self.resource, f"read_parquet({sql_str(self.delivery)})")
            stored = snapshot_fingerprint(con, self.resource, folder, self.current)
        return {"zero_update": delivered == stored, "fingerprint": delivered}


class W4Baseline(W4Govhub):
    side = "baseline"
    title = "full keyed diff of the re-delivery (hash every row, join with the stored hashes)"

    def run(self) -> dict[str, Any]:
        from govhub.warehouse.diff import (
            columns_of,
            diff_hashes,
            key_select_sql,
            row_hash_sql,
            snapshot_hashes,
            sql_str,
        )
        from govhub.warehouse.snapshots import resource_paths

        folder = resource_paths(self.settings, self.resource).snapshot(self.current.id)
        with _connect(self.ctx) as con:
            data = f"read_parquet({sql_str(self.delivery)})"
            cols = columns_of(con, data)
            new = f"(SELECT {key_select_sql(self.resource, cols)}, {row_hash_sql(self.resource, cols)} AS row_hash FROM {data})"
            old = snapshot_hashes(con, self.resource, folder, self.current)
            counts = diff_hashes(con, self.resource, new, old, self.ctx.scratch("W4") / "changes.parquet")
        return {"zero_update": counts.identical}


# --- W6: group-by through the hub's views --------------------------------------------------------------------

GROUP_BY = (
    "SELECT town_code, count(*) AS people, avg(monthly_wage) AS avg_wage, min(birth_date) AS oldest, "
    "max(updated_at) AS last_update FROM {source} GROUP BY town_code ORDER BY town_code"
)


class W6Govhub(Case):
    workload, side = "W6", "govhub"
    title = "group-by over the resource through hub.duckdb's view (read-only connection)"

    def rows(self) -> int:
        return self.ctx.profile.snapshot_rows

    def repeats(self) -> int:
        # W6 judges a ratio of two ≈0.25 s medians, and other work on a shared machine moves single runs by ±40%
        return max(11, self.ctx.profile.repeats)

    def prepare(self) -> None:
        from benchmarks.resources import bench_catalog
        from govhub.warehouse.hub import sync_hub

        self.settings, self.resource, self.current, _ = _snapshots(self.ctx)
        if not self.settings.hub_db.exists():
            sync_hub(self.settings, bench_catalog([self.resource]))

    def run(self) -> dict[str, Any]:
        from govhub.warehouse.hub import connect_readonly

        with connect_readonly(self.settings) as con:
            rows = con.execute(GROUP_BY.format(source='bench."jyry"')).fetchall()
        return {"groups": len(rows), "people": sum(r[1] for r in rows)}


class W6Baseline(W6Govhub):
    side = "baseline"
    title = "the same SQL in plain DuckDB on the current snapshot's Parquet"

    def run(self) -> dict[str, Any]:
        import duckdb

        from govhub.warehouse.diff import sql_str
        from govhub.warehouse.snapshots import data_glob, resource_paths

        folder = resource_paths(self.settings, self.resource).snapshot(self.current.id)
        with duckdb.connect() as con:
            rows = con.execute(
                GROUP_BY.format(source=f"read_parquet({sql_str(data_glob(folder))})")
            ).fetchall()
        return {"groups": len(rows), "people": sum(r[1] for r in rows)}
