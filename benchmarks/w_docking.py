"""W10: the docking API streams a granted resource of `csv_rows` rows (1M at full size) to a consumer system — W10 as
Parquet (≥ 1M rows/s), W10C as CSV (≥ 300k rows/s) — with the server's memory bounded. W10R: the same stream for a
grant WITHOUT the primary key, so every row carries `_row`, a SHA-256 pseudonymous key (the consumer's own salt over
the key's values); its baseline is W10's keyed stream in the same run, so the ratio is what the hashing costs.

The hub: the repo's catalog plus the benchmark resource (就业人员登记, 10 fields) under 人社局, published through the
real load path; 民政局 granted 6 of its 10 fields for every row through the sharing services (request, forward,
answer, execute), and a token issued to its system. The server is `govhub portal` in its own process (the API runs
in the portal's process); the measuring process is the consumer: one GET without `limit`, the body streamed to a
local file, as a real client saves a download. The server's peak RSS (VmHWM) is read after the first and after the
last run: "flat" means the later streams did not raise it by more than 64 MB (and it stays under 1 GB).

Baseline (each format): DuckDB `COPY (SELECT <the granted fields> FROM <the snapshot's Parquet>) TO <local file>` in
the measuring process — the same projection written by DuckDB's own writer, with no HTTP, no scope, no token.
"""

from __future__ import annotations

import atexit
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks.harness import REPO, Case

GRANTED = ["id_number", "name", "sex", "birth_date", "town_code", "monthly_wage"]
KEYLESS = GRANTED[1:]  # W10R: no primary key granted, so each row gets `_row`
PROVIDER, CONSUMER, RESOURCE = "rsj", "mzj", "jyry"
KEYLESS_CONSUMER = "gaj"
PEOPLE = [("zhaoqiang", "赵强", "kw", "office"), ("zhanghaifeng", "张海峰", "rsj", "steward"),
          ("wangjingyi", "王静怡", "mzj", "steward"), ("lujianhua", "陆建华", "gaj", "steward")]  # fmt: skip
HUB_VERSION = 2  # a hub.json of an earlier layout is rebuilt
FLAT_MB = 64


def _server_hwm_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def hub_for(ctx: Any, rows: int) -> dict[str, Any]:
    """The hub W10 reads, built once per run by a process of its own (the 1M-row load's memory is not the
    consumer's); its description is kept in `hub.json`."""
    from benchmarks.w_sheets import CURRENT, parquet_path

    folder = ctx.scratch("W10") / "hub"
    marker = folder / "hub.json"
    if not marker.exists() or json.loads(marker.read_text()).get("version") != HUB_VERSION:
        subprocess.run([sys.executable, "-m", "benchmarks.w_docking", str(folder),
                        str(parquet_path(ctx.inputs, rows, CURRENT))], cwd=REPO, check=True)  # fmt: skip
    return json.loads((folder / "hub.json").read_text())


def build_hub(folder: Path, rows_file: Path) -> dict[str, Any]:
    """Build the hub: catalog, the published resource, the grant through the sharing services, the token."""
    import yaml

    from benchmarks.hubs import load_parquet
    from benchmarks.resources import people_resource
    from govhub.catalog.load import require_catalog
    from govhub.catalog.model import model_dump_yaml_ready
    from govhub.clock import today_in_beijing
    from govhub.config import get_settings
    from govhub.roles import Role
    from govhub.services import requests as svc
    from govhub.services.people import register_person
    from govhub.services.tokens import create_token
    from govhub.states import Decision

    marker = folder / "hub.json"
    shutil.rmtree(folder, ignore_errors=True)
    catalog_dir, home = folder / "catalog", folder / "home"
    shutil.copytree(REPO / "catalog", catalog_dir)
    resource = people_resource(RESOURCE, agency=PROVIDER)
    (catalog_dir / PROVIDER / f"{RESOURCE}.yaml").write_text(
        yaml.safe_dump(model_dump_yaml_ready(resource), allow_unicode=True, sort_keys=False), encoding="utf-8"
    )
    settings = get_settings(home, catalog_dir, env={})
    catalog = require_catalog(catalog_dir)
    outcome = load_parquet(settings, catalog.resource(f"{PROVIDER}/{RESOURCE}"), rows_file)
    assert outcome.status == "published", outcome.problems
    for i, (pid, name, agency, role) in enumerate(PEOPLE):
        register_person(settings, pid, name=name, agency=agency, roles=[Role(role)],
                        actor="installer" if i == 0 else "zhaoqiang", known_agencies=set(catalog.agencies))  # fmt: skip
    today = today_in_beijing()
    import datetime as dt

    resource = catalog.resource(f"{PROVIDER}/{RESOURCE}")

    def granted(steward: str, fields: list[str], purpose: str) -> str:
        r = svc.file_request(settings, catalog, resource, actor=steward, fields=fields, purpose=purpose,
                             basis="《社会救助暂行办法》", use_from=today, use_until=today + dt.timedelta(days=30),
                             today=today)  # fmt: skip
        svc.forward(settings, r.id, actor="zhaoqiang", today=today)
        svc.answer(settings, catalog, r.id, actor="zhanghaifeng", decision=Decision.APPROVE, today=today)
        return svc.execute(settings, catalog, r.id, actor="zhaoqiang", today=today).grant_id or ""

    grant = granted("wangjingyi", GRANTED, "就业困难人员救助核对")
    keyless = granted("lujianhua", KEYLESS, "流动人口就业情况统计")
    issued = create_token(settings, catalog, agency=CONSUMER, system="社会救助管理系统", actor="wangjingyi")
    other = create_token(
        settings, catalog, agency=KEYLESS_CONSUMER, system="流动人口管理系统", actor="lujianhua"
    )
    info = {"home": str(home), "catalog": str(catalog_dir), "secret": issued.secret, "grant": grant,
            "secret_keyless": other.secret, "grant_keyless": keyless, "snapshot": outcome.snapshot_id,
            "version": HUB_VERSION}  # fmt: skip
    marker.write_text(json.dumps(info))
    return info


class _Stream(Case):
    """One whole-table download through the API (`format`), the server in its own process."""

    format = "parquet"
    token = "secret"  # the hub.json entry of the token used: W10R's reads the grant without the key

    def rows(self) -> int:
        return self.ctx.profile.csv_rows

    def prepare(self) -> None:
        import httpx

        self.hub = hub_for(self.ctx, self.rows())
        self.out = self.ctx.scratch(f"{self.workload}-{self.side}") / f"download.{self.format}"
        from benchmarks.run import _free_port

        port = _free_port()
        self.url = f"http://127.0.0.1:{port}"
        log = open(self.ctx.work / "logs" / f"{self.workload}-{self.side}-server.log", "w")  # noqa: SIM115 - the server's
        self.server = subprocess.Popen([str(Path(sys.executable).with_name("govhub")), "--home", self.hub["home"],
                                        "--catalog", self.hub["catalog"], "portal", "--port", str(port)],
                                       stdout=log, stderr=log)  # fmt: skip
        atexit.register(self.finish)  # should the process end before the harness calls it
        self.client = httpx.Client(base_url=self.url, headers={"Authorization": f"Bearer {self.hub[self.token]}"},
                                   timeout=300)  # fmt: skip
        deadline = time.monotonic() + 60
        while True:
            try:
                if self.client.get("/api/v1/resources").status_code == 200:  # warm: imports, catalog, store
                    break
            except httpx.HTTPError:
                pass
            if self.server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("govhub portal did not start (see logs/W10-*-server.log)")
            time.sleep(0.2)
        self.hwm_ready = _server_hwm_mb(self.server.pid)
        self.hwm_first: float | None = None

    def finish(self) -> None:
        self.client.close()
        if self.server.poll() is None:
            self.server.terminate()
            self.server.wait(timeout=30)

    def reset(self) -> None:
        self.out.unlink(missing_ok=True)

    def run(self) -> dict[str, Any]:
        path = f"/api/v1/resources/{PROVIDER}/{RESOURCE}/rows"
        written = 0
        with self.client.stream("GET", path, params={"format": self.format}) as r, open(self.out, "wb") as f:
            r.raise_for_status()
            for chunk in r.iter_raw(1 << 20):
                f.write(chunk)
                written += len(chunk)
        hwm = _server_hwm_mb(self.server.pid)
        self.hwm_first = self.hwm_first if self.hwm_first is not None else hwm
        return {"bytes": written, "rows": self._rows(), "columns": self._columns(), "server_hwm_ready_mb": round(self.hwm_ready),
                "server_hwm_after_first_mb": round(self.hwm_first), "server_hwm_mb": round(hwm),
                "server_memory_flat": hwm - self.hwm_first <= FLAT_MB and hwm < 1024}  # fmt: skip

    def _columns(self) -> list[str]:
        if self.format != "parquet":
            import csv

            with self.out.open(encoding="utf-8-sig", newline="") as fh:
                return next(csv.reader(fh))
        import pyarrow.parquet as pq

        return pq.read_schema(self.out).names

    def _rows(self) -> int:
        """Rows the server said it sent (its api.call event), checked against the file for Parquet."""
        from govhub.config import get_settings
        from govhub.events import list_events

        settings = get_settings(self.hub["home"], self.hub["catalog"], env={})
        (event,) = list_events(settings, kind="api.call", newest_first=True, limit=1)
        if self.format == "parquet":
            import pyarrow.parquet as pq

            assert pq.read_metadata(self.out).num_rows == event.payload["rows"]
        return event.payload["rows"]


class W10Govhub(_Stream):
    workload, side, format = "W10", "govhub", "parquet"
    title = (
        "GET …/rows?format=parquet of a 6-of-10-field grant, whole table streamed by govhub portal to a file"
    )


class W10RGovhub(_Stream):
    workload, side, format, token = "W10R", "govhub", "parquet", "secret_keyless"
    title = "GET …/rows?format=parquet of a 5-field grant without the key: each row gets _row (keyed SHA-256, 128 bits), streamed"


class W10RBaseline(_Stream):
    workload, side, format = "W10R", "baseline", "parquet"
    title = "the keyed stream (W10's 6-field grant, the ID number granted: no _row), same server, same run"


class W10CGovhub(_Stream):
    workload, side, format = "W10C", "govhub", "csv"
    title = "GET …/rows?format=csv of the same grant, whole table streamed by govhub portal to a file"


class _Copy(Case):
    """DuckDB COPY of the same projection from the snapshot's Parquet to a local file."""

    format = "parquet"

    def rows(self) -> int:
        return self.ctx.profile.csv_rows

    def prepare(self) -> None:
        hub = hub_for(self.ctx, self.rows())
        snapshot = Path(hub["home"]) / "hub" / PROVIDER / RESOURCE / "snapshots" / hub["snapshot"]
        self.files = sorted(snapshot.glob("*.parquet"))
        self.out = self.ctx.scratch(f"W10-baseline-{self.format}") / f"copy.{self.format}"

    def reset(self) -> None:
        self.out.unlink(missing_ok=True)

    def run(self) -> dict[str, Any]:
        import duckdb

        from govhub.warehouse.diff import quote, sql_str

        listed = ", ".join(sql_str(f) for f in self.files)
        options = (
            "FORMAT parquet, COMPRESSION zstd, COMPRESSION_LEVEL 1"
            if self.format == "parquet"
            else "FORMAT csv, HEADER"
        )
        with duckdb.connect() as con:
            con.execute(f"COPY (SELECT {', '.join(quote(c) for c in GRANTED)} FROM read_parquet([{listed}])) "
                        f"TO {sql_str(self.out)} ({options})")  # fmt: skip
        return {"bytes": self.out.stat().st_size}


class W10Baseline(_Copy):
    workload, side, format = "W10", "baseline", "parquet"
    title = "DuckDB COPY of the same 6 fields from the snapshot's Parquet to a local Parquet file (no HTTP)"


class W10CBaseline(_Copy):
    workload, side, format = "W10C", "baseline", "csv"
    title = "DuckDB COPY of the same 6 fields from the snapshot's Parquet to a local CSV file (no HTTP)"


if __name__ == "__main__":
    build_hub(Path(sys.argv[1]), Path(sys.argv[2]))
