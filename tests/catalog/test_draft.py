"""System docking (§9): drafts reflected from a database fail validation only on the agency's TODOs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy as sa
import yaml

from govhub.catalog.draft import draft_resources, write_drafts
from govhub.catalog.load import load_catalog
from govhub.identifiers import cn_id_check_char, uscc_check_char

from .conftest import write_catalog


def _source_db(path: Path) -> str:
    url = f"sqlite:///{path}"
    engine = sa.create_engine(url)
    meta = sa.MetaData()
    people = sa.Table(
        "insured_person",
        meta,
        sa.Column("id_number", sa.String(18), primary_key=True),
        sa.Column("name", sa.String(50), nullable=False),
        sa.Column("mobile", sa.String(11)),
        sa.Column("town_code", sa.String(9)),
        sa.Column("monthly_base", sa.Numeric(12, 2)),
        sa.Column("insured_since", sa.Date),
        sa.Column("updated_at", sa.DateTime, nullable=False),
    )
    employers = sa.Table(
        "employer",
        meta,
        sa.Column("credit_code", sa.String(18), primary_key=True),
        sa.Column("employees", sa.Integer),
    )
    meta.create_all(engine)
    import datetime as dt

    body = "31011719800101123"
    uscc_body = "91310117MA1G12345"
    with engine.begin() as conn:
        conn.execute(
            people.insert(),
            [
                {
                    "id_number": body + cn_id_check_char(body),
                    "name": "张三",
                    "mobile": "13912345678",
                    "town_code": "310117102",
                    "monthly_base": 7310.5,
                    "insured_since": dt.date(2020, 1, 1),
                    "updated_at": dt.datetime(2026, 11, 1, 9, 0),
                }
            ],
        )
        conn.execute(
            employers.insert(), [{"credit_code": uscc_body + uscc_check_char(uscc_body), "employees": 12}]
        )
    engine.dispose()
    return url


def _fill_todos(data: dict[str, Any]) -> None:
    data["share"] = {"type": "conditional", "conditions": "仅用于社保待遇核定"}
    data["cycle"] = "monthly"
    data["name"] = data["name"].replace("TODO: ", "")
    data["summary"] = data["summary"].replace("TODO: ", "")
    for f in data["fields"]:
        if f["label"].startswith("TODO"):
            f["label"] = f["name"]


def test_drafts_guess_types_keys_and_semantics(tmp_path: Path) -> None:
    drafts = {d["id"]: d for d in draft_resources(_source_db(tmp_path / "rsj.db"), "gaj")}
    person = drafts["insured_person"]
    fields = {f["name"]: f for f in person["fields"]}
    assert person["primary_key"] == ["id_number"]
    assert fields["id_number"]["semantic"] == "cn_id" and fields["id_number"]["required"] is True
    assert fields["mobile"]["semantic"] == "mobile"
    assert fields["town_code"]["semantic"] == "admin_division"
    assert fields["monthly_base"]["type"] == "number"
    assert fields["insured_since"]["type"] == "date"
    assert fields["updated_at"]["type"] == "datetime"
    assert {f["name"]: f.get("semantic") for f in drafts["employer"]["fields"]}["credit_code"] == "uscc"


def test_drafts_fail_only_on_todos_and_pass_once_filled(tmp_path: Path) -> None:
    catalog_dir = write_catalog(tmp_path / "catalog")
    written = write_drafts(draft_resources(_source_db(tmp_path / "rsj.db"), "gaj"), catalog_dir)
    assert len(written) == 2

    _, problems = load_catalog(catalog_dir)
    draft_problems = [p for p in problems if p.file != "gaj/household.yaml"]
    assert draft_problems, "drafts must not validate before the agency decides"
    assert all("仍为 TODO" in p.message for p in draft_problems), [str(p) for p in draft_problems]
    assert {p.element for p in draft_problems} >= {"share.type", "share.conditions", "cycle"}

    for path in written:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        _fill_todos(data)
        path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    catalog, problems = load_catalog(catalog_dir)
    assert problems == []
    assert {r.id for r in catalog.resources} == {"household", "insured_person", "employer"}


def test_draft_never_writes_a_database_password(tmp_path: Path) -> None:
    from govhub.catalog.draft import _safe_url

    url = sa.engine.make_url("postgresql://steward:s3cret@db.example:5432/rsj")
    assert "s3cret" not in _safe_url(url)
    assert "${RSJ_DB_PASSWORD}" in _safe_url(url)


def test_drafts_from_the_demo_database_fail_only_on_todos_and_pass_once_filled(tmp_path: Path) -> None:
    import shutil

    from govhub.catalog.load import require_catalog
    from govhub.config import get_settings
    from govhub.demo.generate import generate_district

    repo_catalog = Path(__file__).resolve().parents[2] / "catalog"
    settings = get_settings(home=tmp_path / "home", catalog=repo_catalog)
    generate_district(settings, require_catalog(repo_catalog))
    catalog_dir = tmp_path / "catalog"
    catalog_dir.mkdir()
    shutil.copy(repo_catalog / "agencies.yaml", catalog_dir / "agencies.yaml")

    url = f"sqlite:///{settings.demo_dir / 'sources' / 'fgj.db'}"
    written = write_drafts(draft_resources(url, "fgj"), catalog_dir)
    assert written
    _, problems = load_catalog(catalog_dir)
    assert problems and all("仍为 TODO" in p.message for p in problems), [str(p) for p in problems]

    for path in written:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        _fill_todos(data)
        path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    catalog, problems = load_catalog(catalog_dir)
    assert problems == [], [str(p) for p in problems]
    fields = {f.name: f for r in catalog.resources for f in r.fields}
    assert any(f.semantic is not None and f.semantic.value == "admin_division" for f in fields.values())
