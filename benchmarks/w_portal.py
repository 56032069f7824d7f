"""W11: the portal under load on loopback — 50 simulated people browsing and 5 stewards uploading 200-row sheets for
60 s: p95 page ≤ 300 ms, p95 upload-to-outcome ≤ 1 s, zero errors, nothing lost (every upload landed and recorded).

`python -m benchmarks.w_portal [--seconds 60] [--browsers 50] [--uploaders 5] [--workers N]` (N portal processes,
`govhub portal --workers N`). The load tool is httpx in threads
(already a dependency; no locust/gevent): one client per simulated person, each signed in with its own session,
thinking 0.5–1.5 s between pages. The portal runs as `govhub portal` in its own process, on a fresh demo hub.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from benchmarks.harness import Case

REPO = Path(__file__).resolve().parents[1]
GOVHUB = Path(sys.executable).with_name("govhub")
UPLOAD_RESOURCES = [("mzj", "shjz"), ("fgj", "clfjy"), ("jyj", "xxjbxx"), ("rsj", "jydj"), ("scjgj", "spjy")]
ROWS = 200


@dataclass
class Tally:
    pages: list[float] = field(default_factory=list)
    uploads: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    uploaded: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, kind: str, seconds: float) -> None:
        with self.lock:
            (self.pages if kind == "page" else self.uploads).append(seconds)

    def error(self, text: str) -> None:
        with self.lock:
            self.errors.append(text)


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[18] if len(values) >= 20 else max(values, default=0.0)


def build_hub(root: Path, scale: float = 1.0) -> tuple[Path, Path, dict[tuple[str, str], list[Path]]]:
    """A fresh demo hub with its people (demo passwords) and, per upload resource, two 200-row variants of its
    clean sheet (rows 1–200 and 2–201: each upload publishes a small diff, never the same file twice in a row)."""
    import openpyxl

    from govhub.catalog.load import require_catalog
    from govhub.config import get_settings
    from govhub.demo.generate import generate_district
    from govhub.demo.people import register_demo_people
    from govhub.warehouse.hub import sync_hub

    catalog_dir = root / "catalog"
    shutil.copytree(REPO / "catalog", catalog_dir)
    home = root / "home"
    settings = get_settings(home, catalog_dir, env={})
    catalog = require_catalog(catalog_dir)
    generate_district(settings, catalog, scale=scale)
    register_demo_people(settings, catalog)
    sync_hub(settings, catalog)
    sheets: dict[tuple[str, str], list[Path]] = {}
    for agency, resource in UPLOAD_RESOURCES:
        source = openpyxl.load_workbook(home / "demo" / "sheets" / agency / f"{resource}.xlsx")
        rows = list(source.worksheets[0].iter_rows(values_only=True))
        variants = []
        for start in (1, 2):
            wb = openpyxl.Workbook()
            ws = wb.active
            ws.title = source.worksheets[0].title
            for row in [rows[0], *rows[start : start + ROWS]]:
                ws.append(list(row))
            path = root / "sheets" / f"{agency}-{resource}-{start}.xlsx"
            path.parent.mkdir(parents=True, exist_ok=True)
            wb.save(path)
            variants.append(path)
        sheets[(agency, resource)] = variants
    return home, catalog_dir, sheets


def sign_in(url: str, login: str) -> httpx.Client:
    c = httpx.Client(base_url=url, timeout=30)
    c.get("/signin")
    r = c.post(
        "/signin",
        data={"login": login, "password": "Songjiang-2016!", "_csrf_token": c.cookies["govhub_csrf"]},
    )
    if r.status_code != 303:
        raise RuntimeError(f"{login} could not sign in: {r.status_code}")
    return c


def browse(url: str, login: str, pages: list[str], until: float, tally: Tally, seed: int) -> None:
    rng = random.Random(seed)
    c = sign_in(url, login)
    while time.monotonic() < until:
        path = rng.choice(pages)
        started = time.perf_counter()
        try:
            r = c.get(path)
            ok = r.status_code == 200
        except httpx.HTTPError as exc:
            ok, r = False, exc
        tally.add("page", time.perf_counter() - started)
        if not ok:
            tally.error(f"GET {path}: {getattr(r, 'status_code', r)}")
        time.sleep(rng.uniform(0.5, 1.5))
    c.close()


def upload(
    url: str, login: str, agency: str, resource: str, variants: list[Path], until: float, tally: Tally
) -> None:
    c = sign_in(url, login)
    n = 0
    while time.monotonic() < until:
        sheet = variants[n % 2]
        n += 1
        started = time.perf_counter()
        try:
            r = c.post(f"/agencies/{agency}/resources/{resource}/upload",
                       files={"sheet": (sheet.name, sheet.read_bytes(), "application/octet-stream")},
                       headers={"x-csrftoken": c.cookies["govhub_csrf"], "hx-request": "true"})  # fmt: skip
            ok = r.status_code == 200 and "status-published" in r.text
        except httpx.HTTPError as exc:
            ok, r = False, exc
        tally.add("upload", time.perf_counter() - started)
        if ok:
            with tally.lock:
                tally.uploaded += 1
        else:
            tally.error(
                f"upload {agency}/{resource}: {getattr(r, 'status_code', r)} {getattr(r, 'text', '')[:200]}"
            )
        time.sleep(0.2)
    c.close()


def run(seconds: float, browsers: int, uploaders: int, workers: int = 1, scale: float = 1.0) -> dict:
    from govhub.catalog.load import require_catalog
    from govhub.config import get_settings
    from govhub.demo.people import demo_people
    from govhub.events import list_events
    from govhub.roles import Role

    root = Path(tempfile.mkdtemp(prefix="govhub-w11-"))
    try:
        home, catalog_dir, sheets = build_hub(root, scale)
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        server = subprocess.Popen([str(GOVHUB), "--home", str(home), "--catalog", str(catalog_dir), "portal",
                                   "--port", str(port), "--workers", str(workers)], stdout=subprocess.DEVNULL)  # fmt: skip
        try:
            wait_for(url)
            catalog = require_catalog(catalog_dir)
            people = demo_people(catalog)
            stewards = {p.agency: p.id for p in people if Role.STEWARD in p.roles}
            readers = [
                p for p in people if Role.STEWARD not in p.roles or p.agency not in dict(UPLOAD_RESOURCES)
            ]
            common = [
                "/",
                "/catalog",
                "/catalog?share=conditional",
                *(f"/catalog/{r.agency}/{r.id}" for r in catalog.resources),
            ]
            tally = Tally()
            until = time.monotonic() + seconds
            threads = []
            for i in range(browsers):
                p = readers[i % len(readers)]
                pages = list(common)
                if Role.OFFICE in p.roles:
                    pages += ["/office/freshness", "/office/scorecards", "/office/events"]
                if Role.STEWARD in p.roles:
                    pages += [f"/agencies/{p.agency}/feeds"]
                threads.append(threading.Thread(target=browse, args=(url, p.id, pages, until, tally, i)))
            for agency, resource in UPLOAD_RESOURCES[:uploaders]:
                threads.append(threading.Thread(target=upload, args=(url, stewards[agency], agency, resource,
                                                                     sheets[(agency, resource)], until, tally)))  # fmt: skip
            for t in threads:
                t.start()
            for t in threads:
                t.join()
        finally:
            server.terminate()
            server.wait(timeout=30)
        settings = get_settings(home, catalog_dir, env={})
        recorded = [e for e in list_events(settings, kind="load.*") if e.payload.get("trigger") == "portal"]
        landed = sum(1 for _ in (home / "landing").rglob("*.xlsx"))
        return {
            "workload": "W11",
            "seconds": seconds,
            "browsers": browsers,
            "uploaders": uploaders,
            "workers": workers,
            "load_average_1m": round(os.getloadavg()[0], 2),  # the machine was shared: say how busy it was
            "pages": len(tally.pages),
            "page_p50_ms": round(1000 * statistics.median(tally.pages), 1) if tally.pages else None,
            "page_p95_ms": round(1000 * p95(tally.pages), 1),
            "uploads": len(tally.uploads),
            "upload_p50_ms": round(1000 * statistics.median(tally.uploads), 1) if tally.uploads else None,
            "upload_p95_ms": round(1000 * p95(tally.uploads), 1),
            "errors": len(tally.errors),
            "first_errors": tally.errors[:5],
            "uploads_published": tally.uploaded,
            "uploads_recorded": len(recorded),
            "distinct_files_landed": landed,
            "targets": {"page_p95_ms": 300, "upload_p95_ms": 1000, "errors": 0},
            "met": p95(tally.pages) <= 0.3
            and p95(tally.uploads) <= 1.0
            and not tally.errors
            and len(recorded) == len(tally.uploads),
        }
    finally:
        shutil.rmtree(root, ignore_errors=True)


# (seconds, browsing people, uploading stewards, demo scale) per benchmark profile; `full` is the W11
LOAD = {"full": (60, 50, 5, 1.0), "quick": (20, 50, 5, 1.0), "tiny": (3, 3, 1, 0.1)}
WORKERS = 2  # `govhub portal --workers` for `make bench` (docs/PERFORMANCE.md "W11": measured with 1 and 2)


class W11Govhub(Case):
    """W11 for `make bench`: one run (its own fresh hub and portal process); the judgement is the run's `met`."""

    workload, side = "W11", "govhub"
    title = (
        "50 people browsing + 5 stewards uploading 200-row sheets for 60 s against govhub portal on loopback"
    )

    def repeats(self) -> int:
        return 0  # one 60-second run is the measurement (its pages and uploads are the samples)

    def rows(self) -> int:
        return 0

    def run(self) -> dict:
        seconds, browsers, uploaders, scale = LOAD[self.ctx.profile.name]
        return run(seconds, browsers, uploaders, WORKERS, scale)


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            httpx.get(f"{url}/signin", timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.2)
    raise RuntimeError("the portal did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--browsers", type=int, default=50)
    parser.add_argument("--uploaders", type=int, default=5)
    parser.add_argument("--workers", type=int, default=1, help="portal processes (govhub portal --workers)")
    args = parser.parse_args()
    result = run(args.seconds, args.browsers, args.uploaders, args.workers)
    out = REPO / "benchmarks" / "results" / "w11-latest.json"
    out.write_text(json.dumps(result, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(json.dumps(result, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
