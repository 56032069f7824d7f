"""Results as Markdown and JSON under benchmarks/results/ (latest.* and a dated copy)."""

from __future__ import annotations

import json
import platform
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

from benchmarks.harness import Measurement
from benchmarks.targets import TARGETS, baseline_of, check, speedup

RESULTS = Path(__file__).resolve().parent / "results"
LIBRARIES = (
    "pyarrow",
    "duckdb",
    "pandas",
    "numpy",
    "great-expectations",
    "python-calamine",
    "fastexcel",
    "openpyxl",
    "httpx",
    "requests",
)


def machine() -> dict[str, Any]:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    mem_kb = next(
        int(line.split()[1])
        for line in Path("/proc/meminfo").read_text().splitlines()
        if line.startswith("MemTotal")
    )
    versions = {}
    for lib in LIBRARIES:
        try:
            versions[lib] = metadata.version(lib)
        except metadata.PackageNotFoundError:
            versions[lib] = None
    return {
        "nproc": len(__import__("os").sched_getaffinity(0)),
        "memory_gb": round(mem_kb / 1024 / 1024, 1),
        "cpu": cpu,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "libraries": versions,
        "git": _git_head(),
    }


def _git_head() -> str | None:
    try:
        return subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None


def _fmt_s(s: float | None) -> str:
    if s is None:
        return "—"
    return f"{s * 1000:.0f} ms" if s < 1 else f"{s:.2f} s"


def _fmt_rate(r: float | None) -> str:
    if not r:
        return "—"
    return f"{r / 1e6:.2f}M/s" if r >= 1e6 else f"{r / 1e3:.1f}k/s" if r >= 1e3 else f"{r:.1f}/s"


def _loads(table: list[dict[str, Any]]) -> str:
    loads = [r["facts"].get("loadavg_before") for r in table if r["facts"].get("loadavg_before") is not None]
    return f"min {min(loads):.1f}, max {max(loads):.1f}" if loads else "not recorded"


def rows(measurements: list[Measurement]) -> list[dict[str, Any]]:
    out = []
    for m in measurements:
        base = baseline_of(m, measurements) if m.side != "baseline" else None
        met, gaps = check(m, base)
        ratio = speedup(m, base)
        target = TARGETS.get(m.key)
        out.append(
            m.to_dict()
            | {
                "speedup_vs_baseline": ratio,
                "target": target.text if target else None,
                "met": met,
                "gaps": gaps,
            }
        )
    return out


def markdown(table: list[dict[str, Any]], info: dict[str, Any], profile: str, elapsed_s: float) -> str:
    lib = ", ".join(f"{k} {v}" for k, v in info["libraries"].items() if v)
    lines = [
        f"# govhub benchmarks — profile `{profile}`",
        "",
        f"Machine: {info['nproc']} cores ({info['cpu']}), {info['memory_gb']} GB RAM, Python {info['python']}; {lib}. "
        f"Commit {info['git']}. Whole run {elapsed_s / 60:.1f} min.",
        "",
        f"Load average (1 min) before the cases: {_loads(table)} — on {info['nproc']} cores, anything above "
        f"≈1 means other processes competed with the measurement.",
        "",
        "Headline = median of the warm runs (after one cold run in the same fresh process; W7: median of fresh "
        "processes; W8: median per sheet). Peak RSS of the measuring process. Speed-up = baseline ÷ govhub.",
        "",
        "| W | case | what | rows | cold | headline (n) | rows/s | peak RSS | vs baseline | target | met |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|---|---|",
    ]
    for r in table:
        if r["error"]:
            lines.append(
                f"| {r['workload']} | {r['side']} | {r['title']} | — | — | error: {r['error'][:160]} | | | | {r['target'] or ''} | ✗ |"
            )
            continue
        ratio = f"{r['speedup_vs_baseline']:.1f}×" if r["speedup_vs_baseline"] else ""
        met = {True: "✓", False: "✗ " + "; ".join(r["gaps"]), None: ""}[r["met"]]
        rss = f"{r['peak_rss_mb']:.0f} MB" if r["peak_rss_mb"] else "—"
        n = f" ({r['repeats']})" if r["repeats"] else " (1)"
        lines.append(
            f"| {r['workload']} | {r['side']} | {r['title']}{' — ' + r['note'] if r['note'] else ''} | {r['rows']:,} | "
            f"{_fmt_s(r['cold_s'])} | {_fmt_s(r['seconds'])}{n} | {_fmt_rate(r['rows_per_s'])} | {rss} | {ratio} | "
            f"{r['target'] or ''} | {met} |"
        )
    return "\n".join(lines) + "\n"


def write(
    measurements: list[Measurement],
    profile: str,
    elapsed_s: float,
    out: Path = RESULTS,
    stamp: str | None = None,
) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    info = machine()
    table = rows(measurements)
    payload = {"profile": profile, "elapsed_s": elapsed_s, "machine": info, "results": table}
    name = f"latest-{profile}" if profile != "full" else "latest"
    (out / f"{name}.json").write_text(json.dumps(payload, ensure_ascii=False, indent=1, default=str))
    md = out / f"{name}.md"
    md.write_text(markdown(table, info, profile, elapsed_s))
    if stamp:
        (out / f"{stamp}-{profile}.json").write_text(
            json.dumps(payload, ensure_ascii=False, indent=1, default=str)
        )
    return md
