"""The demo district generated from the catalog: real files per delivery method, valid data, reproducible."""

from __future__ import annotations

import csv
import io
import json
import re
import sqlite3
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
import sqlalchemy as sa
from python_calamine import CalamineWorkbook
from stdnum.cn import ric, uscc

from govhub.catalog.arrow import arrow_schema
from govhub.catalog.load import load_catalog
from govhub.catalog.model import Catalog, DeliveryMethod, FieldType, Resource, SemanticType, expand_env
from govhub.config import get_settings
from govhub.demo import DEMO_API_TOKEN
from govhub.demo.generate import DemoManifest, demo_rows, generate_district, generate_tables
from govhub.demo.places import SONGJIANG_TOWNS
from govhub.demo.synthetic import synthetic_table

CATALOG_DIR = Path(__file__).resolve().parents[2] / "catalog"


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    catalog, problems = load_catalog(CATALOG_DIR)
    assert problems == []
    return catalog


@pytest.fixture(scope="module")
def district(catalog: Catalog, tmp_path_factory: pytest.TempPathFactory) -> tuple[DemoManifest, float]:
    home = tmp_path_factory.mktemp("home")
    started = time.perf_counter()
    manifest = generate_district(get_settings(home, CATALOG_DIR), catalog)
    return manifest, time.perf_counter() - started


@pytest.fixture(scope="module")
def tables(catalog: Catalog) -> dict[str, pa.Table]:
    return generate_tables(catalog, seed=2016)


def test_whole_demo_generates_a_source_per_resource(district, catalog: Catalog) -> None:
    manifest, _ = district  # (its time is the demo's part of `make run`, not asserted here)
    assert {f"{s.agency}/{s.resource}" for s in manifest.sources} == {
        f"{r.agency}/{r.id}" for r in catalog.resources
    }
    for source in manifest.sources:
        assert source.rows == demo_rows(catalog.resource(f"{source.agency}/{source.resource}"))
        for rel in source.files:
            assert (manifest.demo_dir / rel).is_file(), rel
    written = json.loads((manifest.demo_dir / "manifest.json").read_text(encoding="utf-8"))
    assert written["seed"] == 2016 and len(written["resources"]) == len(catalog.resources)
    assert written["resources"]["gaj/hjrk"]["path"] == "api/gaj/hjrk.parquet", (
        "the file holds no absolute paths"
    )
    in_process = manifest.to_dict()
    for entry in [*in_process["resources"].values(), *in_process["broken"]]:
        assert Path(entry["path"]).is_file(), entry
    assert in_process["broken"][0]["what"]


def test_api_resources_are_parquet_in_the_catalog_schema(district, catalog: Catalog) -> None:
    manifest, _ = district
    for r in catalog.resources:
        if r.delivery.method is DeliveryMethod.API:
            source = manifest.source(f"{r.agency}/{r.id}")
            assert source.api_path == f"/api/{r.agency}/{r.id}"
            assert (
                expand_env(r.delivery.api.url, {"GOVHUB_DEMO_API": "http://h"})
                == "http://h" + source.api_path
            )
            table = pq.read_table(manifest.demo_dir / source.path)
            assert table.schema == arrow_schema(r)
            assert len(table) == source.rows


def test_database_resources_are_sqlite_tables_readable_through_sqlalchemy(district, catalog: Catalog) -> None:
    manifest, _ = district
    home = manifest.demo_dir.parent
    for r in catalog.resources:
        if r.delivery.method is not DeliveryMethod.DATABASE:
            continue
        engine = sa.create_engine(expand_env(r.delivery.database.url, {"GOVHUB_HOME": str(home)}))
        table = sa.Table(r.delivery.database.table, sa.MetaData(), autoload_with=engine)
        assert [c.name for c in table.columns] == r.field_names
        assert [c.name for c in table.primary_key.columns] == r.primary_key
        with engine.connect() as con:
            rows = con.execute(sa.select(table)).mappings().all()
        engine.dispose()
        assert len(rows) == manifest.source(f"{r.agency}/{r.id}").rows
        for f in r.fields:
            sample = next((row[f.name] for row in rows if row[f.name] is not None), None)
            if f.type is FieldType.DATE:
                assert sample.isoformat() == str(sample)  # a date object, read back by the dialect
            if f.type is FieldType.DATETIME:
                assert sample.hour is not None
    with sqlite3.connect(manifest.demo_dir / "sources" / "fgj.db") as con:
        indexes = [row[1] for row in con.execute("PRAGMA index_list('fw_jbxx')")]
    assert "fw_jbxx_updated_at" in indexes, "the cursor column is indexed for incremental pulls"


def test_sheets_have_chinese_headers_text_ids_and_gb18030_csv(district, catalog: Catalog) -> None:
    manifest, _ = district
    for r in catalog.resources:
        if r.delivery.method is not DeliveryMethod.SHEET:
            continue
        labels = [f.label for f in r.fields]
        rows = (
            CalamineWorkbook.from_path(manifest.demo_dir / f"sheets/{r.agency}/{r.id}.xlsx")
            .get_sheet_by_index(0)
            .to_python()
        )
        assert rows[0] == labels
        assert len(rows) - 1 == manifest.source(f"{r.agency}/{r.id}").rows
        raw = (manifest.demo_dir / f"sheets/{r.agency}/{r.id}.csv").read_bytes()
        records = list(csv.reader(io.StringIO(raw.decode("gb18030"))))
        assert records[0] == labels
        for f in r.fields:
            if f.semantic in (SemanticType.CN_ID, SemanticType.USCC):
                col = labels.index(f.label)
                assert all(
                    isinstance(row[col], str) and len(row[col]) == 18 for row in rows[1:] if row[col] != ""
                )
                assert all(len(rec[col]) == 18 for rec in records[1:] if rec[col])


def test_csv_sheets_need_gb18030_when_names_use_rare_characters(district) -> None:
    manifest, _ = district
    clean = [p for p in (manifest.demo_dir / "sheets").glob("*/*.csv") if p.parent.name != "_broken"]
    texts = [p.read_bytes().decode("gb18030") for p in clean]
    assert any(not _encodes(t, "gbk") for t in texts), "some names need GB18030 beyond GBK"


def _encodes(text: str, encoding: str) -> bool:
    try:
        text.encode(encoding)
    except UnicodeEncodeError:
        return False
    return True


def test_generated_data_satisfies_its_catalog_entry(tables: dict[str, pa.Table], catalog: Catalog) -> None:
    for r in catalog.resources:
        table = tables[f"{r.agency}/{r.id}"]
        assert table.schema == arrow_schema(r), r.key
        assert len(table) == demo_rows(r)
        keys = table.select(r.primary_key).group_by(r.primary_key).aggregate([])
        assert len(keys) == len(table), f"{r.key}: primary key values are unique"
        for f in r.fields:
            _assert_field(r, f, table.column(f.name))


def _assert_field(r: Resource, f, column: pa.ChunkedArray) -> None:
    where = f"{r.agency}/{r.id}.{f.name}"
    if f.required or f.name in r.primary_key:
        assert column.null_count == 0, where
    values = column.drop_null()
    if f.enum:
        assert set(values.to_pylist()) <= set(f.enum), where
    if f.min is not None:
        assert pc.min(values).as_py() >= f.min, where
    if f.max is not None:
        assert pc.max(values).as_py() <= f.max, where
    if f.max_length:
        assert pc.max(pc.utf8_length(values)).as_py() <= f.max_length, where
    if f.pattern:
        assert pc.all(pc.match_substring_regex(values, f.pattern)).as_py(), where
    text = values.to_pylist() if f.type is FieldType.STRING else []
    checks = {
        SemanticType.CN_ID: ric.is_valid,
        SemanticType.USCC: uscc.is_valid,
        SemanticType.ADMIN_DIVISION: SONGJIANG_TOWNS.__contains__,
        SemanticType.MOBILE: lambda v: re.fullmatch(r"1[3-9]\d{9}", v),
        SemanticType.PHONE: lambda v: re.fullmatch(r"021-\d{8}|1[3-9]\d{9}", v),
        SemanticType.POSTAL_CODE: lambda v: re.fullmatch(r"2016\d\d", v),
        SemanticType.EMAIL: lambda v: re.fullmatch(r"[a-z]+\d+@[a-z0-9.]+", v),
        SemanticType.ADDRESS: lambda v: v.startswith("上海市松江区"),
    }
    check = checks.get(f.semantic)
    if check:
        bad = [v for v in text if not check(v)]
        assert bad == [], f"{where}: {bad[:5]}"


def test_people_and_companies_are_consistent_across_agencies(tables: dict[str, pa.Table]) -> None:
    residents = set(tables["gaj/hjrk"].column("id_number").to_pylist())
    for key, column in [
        ("rsj/sbcb", "id_number"),
        ("rsj/jydj", "id_number"),
        ("mzj/hydj", "male_id"),
        ("wjw/csyx", "mother_id"),
    ]:
        assert set(tables[key].column(column).to_pylist()) <= residents, key
    names = dict(
        zip(
            tables["gaj/hjrk"].column("id_number").to_pylist(),
            tables["gaj/hjrk"].column("name").to_pylist(),
            strict=True,
        )
    )
    sbcb = tables["rsj/sbcb"]
    assert all(
        names[i] == n
        for i, n in zip(sbcb.column("id_number").to_pylist(), sbcb.column("name").to_pylist(), strict=True)
    )
    companies = set(tables["scjgj/qydj"].column("uscc").to_pylist())
    assert set(tables["scjgj/xzcf"].column("uscc").to_pylist()) <= companies
    assert set(tables["rsj/sbcb"].column("employer_uscc").to_pylist()) <= companies
    houses = set(tables["fgj/fwjbxx"].column("house_id").to_pylist())
    assert set(tables["fgj/clfjy"].column("house_id").to_pylist()) <= houses
    assert not [i for i in tables["gaj/lhry"].column("id_number").to_pylist() if i.startswith("31")], (
        "来沪人员 come from elsewhere"
    )


def test_rows_about_one_person_agree_with_the_id_number(tables: dict[str, pa.Table]) -> None:
    hjrk = tables["gaj/hjrk"].to_pylist()
    for row in hjrk:
        assert ric.get_birth_date(row["id_number"]) == row["birth_date"]
        assert row["sex"] == ("男" if int(row["id_number"][16]) % 2 else "女")
        if row["registered_on"] is not None:
            assert row["registered_on"] >= row["birth_date"]
    for row in tables["mzj/hydj"].to_pylist():
        assert int(row["male_id"][16]) % 2 == 1 and int(row["female_id"][16]) % 2 == 0
    for row in tables["wjw/csyx"].to_pylist():
        assert 2026 - 46 <= int(row["mother_id"][6:10]) <= 2026 - 20


def test_organisations_are_named_by_their_kind(tables: dict[str, pa.Table]) -> None:
    schools = tables["jyj/xxjbxx"].to_pylist()
    assert all(r["school_name"].endswith(("幼儿园", "小学", "中学", "学校")) for r in schools)
    assert {r["uscc"][:2] for r in tables["mzj/shzz"].to_pylist()} <= {"51", "52", "53"}


def test_same_seed_writes_byte_identical_files(district, catalog: Catalog, tmp_path: Path) -> None:
    manifest, _ = district
    again = generate_district(get_settings(tmp_path, CATALOG_DIR), catalog)
    first = sorted(p.relative_to(manifest.demo_dir) for p in manifest.demo_dir.rglob("*") if p.is_file())
    second = sorted(p.relative_to(again.demo_dir) for p in again.demo_dir.rglob("*") if p.is_file())
    assert first == second
    for rel in first:
        assert (manifest.demo_dir / rel).read_bytes() == (again.demo_dir / rel).read_bytes(), rel


def test_another_seed_gives_other_data(catalog: Catalog) -> None:
    r = catalog.resource("gaj/hjrk")
    assert synthetic_table(r, 50, seed=1).column("id_number") != synthetic_table(r, 50, seed=2).column(
        "id_number"
    )


def test_scale_multiplies_row_counts(catalog: Catalog) -> None:
    r = catalog.resource("fgj/fwjbxx")
    assert demo_rows(r, 1000) == 1000 * demo_rows(r)
    assert len(synthetic_table(r, demo_rows(r, 2.5), seed=1)) == 2.5 * demo_rows(r)


def test_demo_api_token_is_written_once_to_the_secrets_file(
    district, catalog: Catalog, tmp_path: Path
) -> None:
    manifest, _ = district
    secrets = manifest.demo_dir.parent / "secrets.yaml"
    assert secrets.read_text(encoding="utf-8").strip() == f"demo_api_token: {DEMO_API_TOKEN}"
    own = tmp_path / "secrets.yaml"
    own.write_text("demo_api_token: mine\n", encoding="utf-8")
    generate_district(get_settings(tmp_path, CATALOG_DIR), catalog, scale=0.05)
    assert own.read_text(encoding="utf-8") == "demo_api_token: mine\n"


@pytest.mark.slow
def test_a_million_rows_of_a_ten_column_resource_have_unique_keys(catalog: Catalog) -> None:
    r = catalog.resource("fgj/fwjbxx")
    table = synthetic_table(r, 1_000_000, seed=5)
    assert len(table) == 1_000_000 and len(set(table.column("house_id").to_pylist())) == 1_000_000


def test_a_small_register_never_repeats_a_key(catalog: Catalog) -> None:
    from govhub.demo.synthetic import DistrictPools, people_pool

    register = catalog.resource("gaj/hjrk")
    pools = DistrictPools(people=people_pool(register, synthetic_table(register, 50, seed=1)))
    jydj = synthetic_table(catalog.resource("rsj/jydj"), 200, seed=1, pools=pools)
    assert len(set(jydj.column("id_number").to_pylist())) == 200
