"""Writing the seeded inputs once per run under `<work>/inputs/` (groups are written on first need)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from benchmarks import inputs as gen
from benchmarks.profiles import Profile
from benchmarks.w_sheets import CURRENT, PREVIOUS, parquet_path, sheet_path


def _pair(inputs: Path, rows: int) -> pa.Table:
    """Previous and current versions of `rows` people as Parquet; returns the current one."""
    previous = gen.people_table(rows)
    current = gen.changed_version(previous)
    gen.write_parquet(previous, parquet_path(inputs, rows, PREVIOUS))
    gen.write_parquet(current, parquet_path(inputs, rows, CURRENT))
    return current


def sheets(inputs: Path, profile: Profile) -> None:
    gen.write_gbk_csv(_pair(inputs, profile.csv_rows), sheet_path(inputs, "csv", profile.csv_rows))
    gen.write_xlsx(_pair(inputs, profile.xlsx_rows), sheet_path(inputs, "xlsx", profile.xlsx_rows))


def snapshots(inputs: Path, profile: Profile) -> None:
    current = _pair(inputs, profile.snapshot_rows)
    gen.write_parquet(gen.type_variant(current), type_variant_path(inputs, profile.snapshot_rows))


def type_variant_path(inputs: Path, rows: int) -> Path:
    return inputs / f"people-{rows}-new-typevariant.parquet"


def api(inputs: Path, profile: Profile) -> None:
    folder = api_root(inputs) / "bench"
    folder.mkdir(parents=True, exist_ok=True)
    gen.write_parquet(gen.people_table(profile.api_rows, salt="api"), folder / "jyry.parquet")


def api_root(inputs: Path) -> Path:
    return inputs / "api"


def small(inputs: Path, profile: Profile) -> None:
    """`small_sheets` uploads spread over `small_agencies` agencies: each agency's k-th sheet raises one wage."""
    folder = inputs / "small"
    folder.mkdir(parents=True, exist_ok=True)
    agencies = [f"b{a:02d}" for a in range(1, profile.small_agencies + 1)]
    bases = {a: gen.people_table(profile.small_sheet_rows, salt=f"small-{a}") for a in agencies}
    wage = bases[agencies[0]].schema.get_field_index("monthly_wage")
    for i in range(profile.small_sheets):
        agency = agencies[i % len(agencies)]
        k = i // len(agencies)
        base = bases[agency]
        bump = pc.equal(pa.array(range(base.num_rows)), k % base.num_rows)
        table = base.set_column(
            wage,
            "monthly_wage",
            pc.if_else(bump, pc.add(base["monthly_wage"], float(k)), base["monthly_wage"]),
        )
        if agencies.index(agency) % 2 == 0:
            gen.write_xlsx(table, folder / f"{agency}-{i:05d}.xlsx")
        else:
            gen.write_gbk_csv(table, folder / f"{agency}-{i:05d}.csv")


GROUPS: dict[str, Callable[[Path, Profile], None]] = {
    "sheets": sheets,
    "snapshots": snapshots,
    "api": api,
    "small": small,
}


def ensure(inputs: Path, profile: Profile, group: str, log: Callable[[str], None] = print) -> None:
    """Write an input group unless this run already did (a marker file records it)."""
    marker = inputs / f".done-{group}"
    if marker.exists():
        return
    inputs.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    GROUPS[group](inputs, profile)
    marker.write_text(f"{time.perf_counter() - start:.1f}\n")
    log(f"  inputs {group}: {time.perf_counter() - start:.1f} s")
