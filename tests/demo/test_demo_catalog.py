"""The committed demo catalog: a believable Songjiang district that exercises every catalog element."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from govhub.catalog.load import load_catalog
from govhub.catalog.model import (
    Catalog,
    DeliveryMethod,
    ResourceClass,
    SemanticType,
    ShareType,
    expand_env,
)

CATALOG_DIR = Path(__file__).resolve().parents[2] / "catalog"


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    catalog, problems = load_catalog(CATALOG_DIR)
    assert problems == [], "\n".join(str(p) for p in problems)
    return catalog


def test_catalog_loads_with_zero_problems_and_is_district_sized(catalog: Catalog) -> None:
    assert len(catalog.agencies) >= 6
    assert len(catalog.resources) >= 15
    assert {"gaj", "scjgj", "fgj", "ghzyj", "rsj", "mzj"} <= set(catalog.agencies)
    providers = [a for a in catalog.agencies.values() if not a.coordinator]
    assert all(catalog.of_agency(a.id) for a in providers), "every agency provides at least one resource"
    (office,) = [a for a in catalog.agencies.values() if a.coordinator]  # 区科委 coordinates, holds none
    assert office.id == "kw" and not catalog.of_agency(office.id)


def test_agencies_are_songjiang_government_bodies_with_stewards(catalog: Catalog) -> None:
    for agency in catalog.agencies.values():
        assert agency.uscc.startswith("11310117"), agency.id
        assert "松江" in agency.name
        assert agency.steward.name and agency.steward.phone and agency.steward.email


def test_catalog_covers_every_class_share_type_and_delivery_method(catalog: Catalog) -> None:
    assert {r.resource_class for r in catalog.resources} == set(ResourceClass)
    assert {r.share.type for r in catalog.resources} == set(ShareType)
    assert {r.delivery.method for r in catalog.resources} == set(DeliveryMethod)
    assert len({r.cycle for r in catalog.resources}) >= 5


def test_conditional_and_not_shared_resources_say_why(catalog: Catalog) -> None:
    for r in catalog.resources:
        if r.share.type is ShareType.CONDITIONAL:
            assert len(r.share.conditions or "") > 10
        if r.share.type is ShareType.NOT_SHARED:
            assert "《" in (r.share.legal_basis or ""), "a legal basis cites a law by name"


def test_fields_use_every_semantic_type_and_some_field_level_sharing(catalog: Catalog) -> None:
    fields = [f for r in catalog.resources for f in r.fields]
    assert {f.semantic for f in fields if f.semantic} == set(SemanticType)
    assert sum(1 for f in fields if f.share is not None) >= 3
    enums = {f.label: f.enum for f in fields if f.enum}
    assert enums["性别"] == ["男", "女"]
    assert "已婚" in enums["婚姻状况"]
    assert "有限责任公司" in enums["企业类型"]
    assert "住宅" in enums["房屋用途"]


def test_api_resources_spread_pagination_styles_and_use_the_demo_token(catalog: Catalog) -> None:
    apis = [r for r in catalog.resources if r.delivery.method is DeliveryMethod.API]
    assert {r.delivery.api.pagination.style for r in apis} == {"page", "offset", "cursor"}
    for r in apis:
        url = expand_env(r.delivery.api.url, {"GOVHUB_DEMO_API": "http://h:1"})
        assert url == f"http://h:1/api/{r.agency}/{r.id}"
        assert r.delivery.api.token_secret == "demo_api_token"
        assert r.delivery.api.records_path == "data"
    incremental = [r for r in apis if r.delivery.api.incremental_field]
    assert incremental
    for r in incremental:
        assert r.field(r.delivery.api.incremental_field).type.value == "datetime"


def test_database_resources_point_at_the_agency_source_file(catalog: Catalog) -> None:
    dbs = [r for r in catalog.resources if r.delivery.method is DeliveryMethod.DATABASE]
    for r in dbs:
        url = expand_env(r.delivery.database.url, {"GOVHUB_HOME": "/h"})
        assert url == f"sqlite:////h/demo/sources/{r.agency}.db"
        assert r.delivery.database.table
    with_cursor = [r for r in dbs if r.delivery.database.cursor_column]
    assert with_cursor
    for r in with_cursor:
        assert r.delivery.database.cursor_column in r.field_names


def test_lifecycle_dates_include_overdue_annual_reviews(catalog: Catalog) -> None:
    reviewed = [r.reviewed_on for r in catalog.resources if r.reviewed_on]
    assert len(reviewed) == len(catalog.resources)
    assert any(d < dt.date(2025, 11, 1) for d in reviewed), "some reviews are older than a year"
    assert any(r.quality.max_bad_row_pct > 0 for r in catalog.resources)
    assert any(r.changed_on for r in catalog.resources)
