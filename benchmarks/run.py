"""`make bench` = `python -m benchmarks.run [--quick] [--only W1,W3]`: inputs, every case, the results table.

Order: W7 (no inputs), W1, W2, W4F, W8 (sheets), W5 (API server in its own process), W10, W10C, W10R (the docking API:
govhub portal in its own process), L10M (two 10M-row loads that build the hub), W3, W4, W6, W6O, W9, W9G (read that hub),
W11 (the portal under load: its own hub and portal processes), W12 (grant use on a long event log). Inputs are generated once per run under
benchmarks/.work/<profile>/.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

from benchmarks import prepare_inputs, report
from benchmarks.harness import REPO, Context, Measurement, measure_case
from benchmarks.profiles import PROFILES
from benchmarks.registry import INPUTS, case_class, cases_of

ORDER = [
    "W7",
    "W8C",
    "W1",
    "W2",
    "W4F",
    "W8",
    "W5",
    "W10",
    "W10C",
    "W10R",
    "L10M",
    "W3",
    "W4",
    "W6",
    "W6O",
    "W9",
    "W9G",
    "W11",
    "W12",
]
NEEDS_HUB = {"W3", "W4", "W6", "W6O", "W9", "W9G"}
WORK = Path(__file__).resolve().parent / ".work"


def selected(only: str | None) -> list[str]:
    if not only:
        return list(ORDER)
    wanted = {w.strip().upper() for w in only.split(",") if w.strip()}
    unknown = wanted - set(ORDER)
    if unknown:
        raise SystemExit(f"unknown workloads: {', '.join(sorted(unknown))} (known: {', '.join(ORDER)})")
    if wanted & NEEDS_HUB:
        wanted.add("L10M")  # the hub they read is built by the 10M-row loads
    return [w for w in ORDER if w in wanted]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ApiServer:
    """The demo's paged API server in its own process, so the client's measurement is the client's alone."""

    def __init__(self, ctx: Context):
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = open(ctx.work / "logs" / "api-server.log", "w")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "govhub.demo.api_server", "--root", str(prepare_inputs.api_root(ctx.inputs)),
             "--port", str(self.port), "--page-size", str(ctx.profile.api_page)],
            cwd=REPO, stdout=self.log, stderr=self.log,
        )  # fmt: skip
        self._wait_ready(ctx.profile.api_page)

    def _wait_ready(self, size: int) -> None:
        deadline = time.monotonic() + 60
        while True:
            try:  # the first page also makes the server read its Parquet file, outside any measurement
                with urllib.request.urlopen(
                    f"{self.url}/api/bench/jyry?page=1&page_size={size}", timeout=30
                ) as r:
                    r.read()
                return
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"API server did not start (see {self.log.name})") from None
                time.sleep(0.2)

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


def per_item(m: Measurement) -> Measurement:
    """W8: the headline is the median time per sheet (first sheet = cold), the row unit one sheet."""
    items = m.facts.pop("item_seconds", None)
    if not items:
        return m
    m.facts["total_s"] = sum(items)
    m.facts["sheets"] = len(items)
    m.facts["p90_s"] = statistics.quantiles(items, n=10)[-1] if len(items) >= 2 else items[0]
    m.cold_s, m.warm_s, m.rows = items[0], items[1:] or items, 1
    m.note = f"per sheet, median of {len(items)} sheets, total {sum(items):.1f} s"
    return m


def run_workload(workload: str, ctx: Context, log: Callable[[str], None]) -> list[Measurement]:
    for group in INPUTS[workload]:
        prepare_inputs.ensure(ctx.inputs, ctx.profile, group, log)
    if workload in ("W7", "W8C"):
        from benchmarks.w_cli import measure_cli, measure_upload

        out = measure_cli(ctx) if workload == "W7" else measure_upload(ctx)
        for m in out:
            log(f"  {m.key}: {m.error or report._fmt_s(m.seconds)}")
        return out
    server = ApiServer(ctx) if workload == "W5" else None
    if server is not None:
        ctx.extra["api_url"] = server.url
    try:
        out = []
        for key in cases_of(workload):
            start, load = time.perf_counter(), os.getloadavg()[0]
            m = per_item(measure_case(key, ctx, case_class(key).title))
            m.facts["loadavg_before"] = load  # other work on the machine skews figures: keep the evidence
            out.append(m)
            state = m.error or f"{report._fmt_s(m.seconds)}, {m.peak_rss_mb or 0:.0f} MB"
            log(f"  {key}: {state} [{time.perf_counter() - start:.0f} s]")
        return out
    finally:
        if server is not None:
            server.stop()


def run_benchmarks(
    profile: str,
    only: str | None = None,
    work: Path | None = None,
    out: Path = report.RESULTS,
    *,
    reuse_inputs: bool = False,
    log: Callable[[str], None] = print,
) -> list[Measurement]:
    started = time.perf_counter()
    work = (work or WORK / profile).resolve()
    if not reuse_inputs and work.exists():
        shutil.rmtree(work)
    (work / "logs").mkdir(parents=True, exist_ok=True)
    ctx = Context(work, PROFILES[profile])
    measurements: list[Measurement] = []
    for workload in selected(only):
        log(f"{workload}:")
        measurements += run_workload(workload, ctx, log)
    # a partial run (--only) is filed under its workloads, so it never replaces the last whole run's latest.*
    label = profile if not only else "-".join([profile, *selected(only)])
    stamp = dt.datetime.now().strftime("%Y%m%dT%H%M") if profile == "full" else None
    md = report.write(measurements, label, time.perf_counter() - started, out, stamp)
    log(f"results: {md} ({(time.perf_counter() - started) / 60:.1f} min)")
    return measurements


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes (profile `quick`)")
    parser.add_argument("--profile", choices=sorted(PROFILES), help="full (default), quick or tiny")
    parser.add_argument("--only", help="comma-separated workloads, e.g. W1,W3")
    parser.add_argument("--work", type=Path, help="scratch folder (default benchmarks/.work/<profile>)")
    parser.add_argument("--reuse-inputs", action="store_true", help="keep the inputs of the previous run")
    parser.add_argument("--out", type=Path, default=report.RESULTS, help="results folder")
    args = parser.parse_args(argv)
    profile = args.profile or ("quick" if args.quick else "full")
    measurements = run_benchmarks(profile, args.only, args.work, args.out, reuse_inputs=args.reuse_inputs)
    return 1 if any(m.error for m in measurements) else 0


if __name__ == "__main__":
    sys.exit(main())
