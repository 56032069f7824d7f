"""Generate the demo district's source systems from the catalog, deterministically.

For each resource, by its delivery method:
- api:      `demo/api/<agency>/<resource>.parquet`, the records the paged demo API (`govhub.demo.api_server`) serves;
- database: a table in `demo/sources/<agency>.db` (SQLite), named as in the catalog;
- sheet:    `demo/sheets/<agency>/<resource>.xlsx` and `.csv` (GB18030), clean fill-in sheets with Chinese headers;
plus broken sheets under `demo/sheets/_broken/` and `demo/manifest.json`. The same seed gives byte-identical files.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa

from govhub.catalog.model import Catalog, DeliveryMethod, Resource, ResourceClass
from govhub.config import Settings
from govhub.demo import DEMO_API_TOKEN, DEMO_API_TOKEN_SECRET
from govhub.demo.broken import BROKEN_DIR, BrokenSheet, write_broken_sheets
from govhub.demo.sources import sheet_cells, write_csv, write_parquet, write_sqlite, write_xlsx
from govhub.demo.synthetic import DistrictPools, company_pool, people_pool, synthetic_table

# Rows per resource at scale 1: small enough that the whole district generates in seconds.
DEFAULT_ROWS = {
    ResourceClass.POPULATION: 2000,
    ResourceClass.LEGAL_ENTITY: 800,
    ResourceClass.HOUSING: 1500,
    ResourceClass.SPATIAL: 1200,
    ResourceClass.THEMATIC: 600,
}
ROW_OVERRIDES = {
    ("gaj", "hjrk"): 3000
}  # the population register is the pool other resources draw people from

XLSX_MAX_DATA_ROWS = 1_048_575  # Excel's row limit, less the header

# The district's master registers; other resources draw their people and companies from these.
PEOPLE_REGISTER = ("gaj", "hjrk")
COMPANY_REGISTER = ("scjgj", "qydj")
NEWCOMER_RESOURCES = {("gaj", "lhry")}  # 来沪人员 are, by definition, not in the hukou register


@dataclass(frozen=True)
class DemoSource:
    """Where one resource's demo data lives, relative to the demo folder."""

    agency: str
    resource: str
    code: str
    method: str
    rows: int
    path: str  # file (Parquet, SQLite database or xlsx) relative to the demo folder
    table: str | None = None  # database table
    api_path: str | None = None  # /api/<agency>/<resource> on the demo API
    files: list[str] = field(default_factory=list)  # every file written for the resource


@dataclass(frozen=True)
class DemoManifest:
    seed: int
    scale: float
    demo_dir: Path
    sources: list[DemoSource]
    broken: list[BrokenSheet]

    def source(self, key: str) -> DemoSource:
        """The source of `agency/resource`."""
        for s in self.sources:
            if f"{s.agency}/{s.resource}" == key:
                return s
        raise KeyError(key)

    def to_dict(self, *, absolute: bool = True) -> dict[str, Any]:
        """Plain data: `resources` keyed `agency/resource`, `broken` sheets with what is wrong in each.

        `path` is absolute (for callers in this process) or relative to the demo folder (in manifest.json, so that
        two data folders generated from one seed hold byte-identical manifests).
        """

        def where(rel: str) -> str:
            return str(self.demo_dir / rel) if absolute else rel

        resources = {
            f"{s.agency}/{s.resource}": {
                **asdict(s),
                "path": where(s.path),
                "files": [where(f) for f in s.files],
            }
            for s in self.sources
        }
        broken = [
            {**asdict(b), "path": where(f"sheets/{BROKEN_DIR}/{b.file}"), "what": b.description_zh}
            for b in self.broken
        ]
        return {"seed": self.seed, "scale": self.scale, "resources": resources, "broken": broken}


def demo_rows(resource: Resource, scale: float = 1.0) -> int:
    """How many rows the demo generates for a resource at a scale (`--scale 1000` → millions for benchmarks)."""
    base = ROW_OVERRIDES.get(resource.key, DEFAULT_ROWS[resource.resource_class])
    return max(1, math.ceil(base * scale))


def generation_order(catalog: Catalog) -> list[Resource]:
    """Registers first, then resources whose keys others refer to (houses before house sales), then the rest."""
    referenced = {
        f.name
        for r in catalog.resources
        for f in r.fields
        if f.name not in r.primary_key and f.semantic is None and f.type.value == "string"
    }

    def rank(r: Resource) -> int:
        if r.key == PEOPLE_REGISTER:
            return 0
        if r.key == COMPANY_REGISTER:
            return 1
        return 2 if len(r.primary_key) == 1 and r.primary_key[0] in referenced else 3

    return sorted(catalog.resources, key=rank)  # stable: catalog order within a rank


def generate_tables(catalog: Catalog, *, seed: int = 2016, scale: float = 1.0) -> dict[str, pa.Table]:
    """Every resource's synthetic data, keyed `agency/resource`, consistent across resources."""
    pools = DistrictPools()
    tables: dict[str, pa.Table] = {}
    for r in generation_order(catalog):
        table = synthetic_table(
            r, demo_rows(r, scale), seed=seed, pools=pools, newcomers=r.key in NEWCOMER_RESOURCES
        )
        tables[f"{r.agency}/{r.id}"] = table
        if r.key == PEOPLE_REGISTER:
            pools.people = people_pool(r, table)
        elif r.key == COMPANY_REGISTER:
            pools.companies = company_pool(r, table)
        elif len(r.primary_key) == 1 and r.field(r.primary_key[0]).semantic is None:
            pools.codes.setdefault(r.primary_key[0], table.column(r.primary_key[0]).combine_chunks())
    return tables


def generate_district(
    settings: Settings, catalog: Catalog, *, seed: int = 2016, scale: float = 1.0
) -> DemoManifest:
    """Write the demo district's source systems under `settings.demo_dir` and describe them in the manifest."""
    demo = settings.demo_dir
    tables = generate_tables(catalog, seed=seed, scale=scale)
    sources: list[DemoSource] = []
    by_database: dict[str, list[tuple[Resource, pa.Table]]] = {}
    for r in catalog.resources:
        table = tables[f"{r.agency}/{r.id}"]
        if r.delivery.method is DeliveryMethod.API:
            rel = f"api/{r.agency}/{r.id}.parquet"
            write_parquet(table, demo / rel)
            sources.append(_source(r, table, rel, api_path=f"/api/{r.agency}/{r.id}", files=[rel]))
        elif r.delivery.method is DeliveryMethod.DATABASE:
            rel = f"sources/{r.agency}.db"
            by_database.setdefault(rel, []).append((r, table))
            sources.append(_source(r, table, rel, table_name=r.delivery.database.table, files=[rel]))
        else:
            files = _write_sheets(r, table, demo)
            sources.append(_source(r, table, files[0], files=files))
    for rel, entries in by_database.items():
        write_sqlite(demo / rel, entries)
    broken = write_broken_sheets(catalog, tables, demo / "sheets", seed)
    manifest = DemoManifest(seed, scale, demo, sources, broken)
    (demo / "manifest.json").write_text(
        json.dumps(manifest.to_dict(absolute=False), ensure_ascii=False, indent=2, sort_keys=True) + "\n",
        encoding="utf-8",
    )
    _write_demo_secret(settings.secrets_file)
    return manifest


def _source(
    r: Resource,
    table: pa.Table,
    rel: str,
    *,
    files: list[str],
    table_name: str | None = None,
    api_path: str | None = None,
) -> DemoSource:
    return DemoSource(
        r.agency, r.id, r.code, r.delivery.method.value, len(table), rel, table_name, api_path, files
    )


def _write_sheets(r: Resource, table: pa.Table, demo: Path) -> list[str]:
    headers, columns = [f.label for f in r.fields], sheet_cells(r, table)
    formats = r.delivery.sheet.formats if r.delivery.sheet else ["xlsx", "csv"]
    if len(table) > XLSX_MAX_DATA_ROWS and "csv" in formats:
        formats = ["csv"]  # a benchmark-sized sheet does not fit a worksheet: CSV only
    files = []
    for fmt in formats:
        rel = f"sheets/{r.agency}/{r.id}.{fmt}"
        if fmt == "xlsx":
            write_xlsx(r, headers, columns, demo / rel)
        else:
            write_csv(headers, columns, demo / rel, encoding="gb18030")
        files.append(rel)
    return files


def _write_demo_secret(path: Path) -> None:
    """The demo API token for the API connector, unless a secrets file is already there (never overwritten)."""
    if path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"{DEMO_API_TOKEN_SECRET}: {DEMO_API_TOKEN}\n", encoding="utf-8")
