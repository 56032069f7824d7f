"""YAML → the catalog loader: a resource file parsed, validated by the pydantic models and checked against the
repo's agencies and the rules (`check_catalog`); every fault must come back as a CatalogProblem, never raise."""

from __future__ import annotations

import sys
from pathlib import Path

import atheris

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
with atheris.instrument_imports(include=["govhub"]):
    from govhub.catalog.load import YAML_ERRORS, CatalogProblem, load_yaml_text, parse_resource
    from govhub.catalog.model import Catalog
    from govhub.catalog.rules import check_catalog

from fuzz.harness import CATALOG as CATALOG_DIR
from fuzz.harness import catalog, fuzz

AGENCIES = catalog().agencies


def test_one_input(data: bytes) -> None:
    try:
        loaded = load_yaml_text(data.decode("utf-8"))
    except YAML_ERRORS:
        return  # the loader reports these as "不是有效的 YAML 文件" (catalog/load.py `load_yaml_text`, `_read_yaml`)
    resource, problems = parse_resource(loaded, "fuzz/x.yaml")
    assert all(p.message for p in problems)
    if resource is not None:
        resource._source = CATALOG_DIR / resource.agency / "x.yaml"
        found = check_catalog(Catalog(agencies=dict(AGENCIES), resources=[resource]), CatalogProblem)
        assert all(p.message for p in found)


if __name__ == "__main__":
    fuzz(test_one_input)
