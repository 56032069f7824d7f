"""Issue 5's targets, checked against a run's measurements (ratios from the same run)."""

from __future__ import annotations

from dataclasses import dataclass

from benchmarks.harness import Measurement

GB = 1024.0


@dataclass(frozen=True)
class Target:
    text: str
    max_s: float | None = None  # headline seconds of the govhub case (per item for W8)
    min_speedup: float | None = None  # baseline seconds / govhub seconds
    max_ratio: float | None = None  # govhub seconds / baseline seconds (W6: the scope costs almost nothing)
    max_rss_mb: float | None = None
    min_rows_per_s: float | None = None
    fact: str | None = None  # a fact the govhub run must report as true (W4: zero_update)


TARGETS: dict[str, Target] = {
    "W1/govhub": Target("≤ 3 s, ≥ 4× B1, ≤ 1.5 GB", max_s=3.0, min_speedup=4, max_rss_mb=1.5 * GB),
    "W2/govhub": Target("≤ 2.5 s, ≥ 10× B2", max_s=2.5, min_speedup=10),
    "W3/govhub": Target("≤ 2.5 s, ≥ 10× B3, ≤ 2 GB", max_s=2.5, min_speedup=10, max_rss_mb=2 * GB),
    "W4/govhub": Target("≤ 0.5 s, type-only difference is no change", max_s=0.5, fact="zero_update"),
    "W4F/govhub": Target("≤ 0.5 s, identical file is a zero update", max_s=0.5, fact="zero_update"),
    "W5/govhub": Target(
        "≥ 150k records/s, bounded memory (≤ 0.5 GB)", min_rows_per_s=150_000, max_rss_mb=512
    ),
    "W6/govhub": Target("≤ 1.2× plain DuckDB", max_ratio=1.2),
    "W6/sandbox": Target("≤ 1.1× plain DuckDB", max_ratio=1.1),
    "W7/govhub-help": Target("≤ 1.0 s", max_s=1.0),
    "W7/govhub-status": Target("≤ 1.0 s", max_s=1.0),
    "W8c/govhub": Target("≤ 1.0 s fresh process", max_s=1.0),
    "W8/govhub": Target("≤ 100 ms per sheet, ≥ 5× naive", max_s=0.1, min_speedup=5),
    "W9/govhub": Target(
        "≤ 6 s, queries meanwhile see the old or the new workspace, never an error",
        max_s=6.0,
        fact="queries_clean",
    ),
    # the per-grant count (`_scope.rows`) is one more pass over the filter columns, which the baseline does not make
    "W9G/govhub": Target("≤ 1.25× the plain CREATE TABLE AS of the merged grants", max_ratio=1.25),
    "W10/govhub": Target(
        "≥ 1M rows/s as Parquet, server memory flat", min_rows_per_s=1_000_000, fact="server_memory_flat"
    ),
    "W10R/govhub": Target(
        "≥ 1M rows/s with _row, ≤ 1.5× the keyed stream, server memory flat",
        min_rows_per_s=1_000_000,
        max_ratio=1.5,
        fact="server_memory_flat",
    ),
    "W10C/govhub": Target(
        "≥ 300k rows/s as CSV, server memory flat", min_rows_per_s=300_000, fact="server_memory_flat"
    ),
    "W12/govhub": Target(
        "≤ 50 ms with an hour's new use on a year's log, ≥ 100× the recount", max_s=0.05, min_speedup=100
    ),
    "W11/govhub": Target(
        "p95 page ≤ 300 ms, p95 upload-to-outcome ≤ 1 s, zero errors, nothing lost", fact="met"
    ),
    "L10M/first": Target("10M-row load ≤ 2 GB RSS", max_rss_mb=2 * GB),
    "L10M/next": Target("10M-row load ≤ 2 GB RSS", max_rss_mb=2 * GB),
    "L10M/reload": Target("zero update, ≤ 2 GB RSS", max_rss_mb=2 * GB, fact="zero_update"),
}


def baseline_of(m: Measurement, measurements: list[Measurement]) -> Measurement | None:
    """The baseline this case is compared with: the same workload's `baseline` (W7: the GE import)."""
    for other in measurements:
        if other.workload == m.workload and other.side == "baseline" and other is not m:
            return other
    return None


def speedup(m: Measurement, base: Measurement | None) -> float | None:
    if base is None or not m.seconds or not base.seconds or m.error or base.error:
        return None
    return base.seconds / m.seconds


def check(m: Measurement, base: Measurement | None) -> tuple[bool | None, list[str]]:
    """Whether the target is met, and the parts that are not (None when there is no target or no figure)."""
    target = TARGETS.get(m.key)
    if target is None:
        return None, []
    if m.error:
        return False, ["did not run"]
    gaps = []
    s, ratio = m.seconds, speedup(m, base)
    if target.max_s is not None and (s is None or s > target.max_s):
        gaps.append(f"{s:.3g} s > {target.max_s:g} s")
    if target.min_speedup is not None and (ratio is None or ratio < target.min_speedup):
        gaps.append(f"{ratio:.2g}× < {target.min_speedup:g}×" if ratio else "no baseline figure")
    if target.max_ratio is not None and (ratio is None or 1 / ratio > target.max_ratio):
        gaps.append(f"{1 / ratio:.2f}× baseline > {target.max_ratio:g}×" if ratio else "no baseline figure")
    if target.max_rss_mb is not None and (m.peak_rss_mb or 0) > target.max_rss_mb:
        gaps.append(f"{m.peak_rss_mb:.0f} MB > {target.max_rss_mb:.0f} MB")
    if target.min_rows_per_s is not None and (m.rows_per_s or 0) < target.min_rows_per_s:
        gaps.append(f"{(m.rows_per_s or 0):,.0f}/s < {target.min_rows_per_s:,.0f}/s")
    if target.fact is not None and m.facts.get(target.fact) is not True:
        gaps.append(f"{target.fact} is {m.facts.get(target.fact)!r}")
    return not gaps, gaps
