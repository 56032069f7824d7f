"""The DCAT-AP export is real RDF: read back with rdflib's JSON-LD parser and queried, it says what the catalog says."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.namespace import RDF

from govhub.catalog.dcat import catalog_jsonld, distribution
from govhub.catalog.load import require_catalog
from govhub.catalog.model import LifecycleStatus

REPO_CATALOG = Path(__file__).resolve().parents[2] / "catalog"
CSVW = Namespace("http://www.w3.org/ns/csvw#")
DCAT = Namespace("http://www.w3.org/ns/dcat#")  # (rdflib's closed namespaces make pytest's collection warn)
DCTERMS = Namespace("http://purl.org/dc/terms/")
EU = "http://publications.europa.eu/resource/authority/"


@pytest.fixture(scope="module")
def catalog():
    return require_catalog(REPO_CATALOG)


def _graph(doc: dict) -> Graph:
    return Graph().parse(data=json.dumps(doc, ensure_ascii=False), format="json-ld")


def test_every_resource_in_force_is_a_dataset_with_code_title_publisher_and_frequency(catalog) -> None:
    g = _graph(catalog_jsonld(catalog))
    datasets = set(g.subjects(RDF.type, DCAT.Dataset))
    in_force = [
        r for r in catalog.resources if r.status in (LifecycleStatus.PUBLISHED, LifecycleStatus.CHANGED)
    ]
    assert len(datasets) == len(in_force) >= 15
    for r in in_force:
        node = URIRef(f"https://govhub.example/ns#resource/{r.agency}/{r.id}")
        assert (node, DCTERMS.identifier, Literal(r.code)) in g
        assert (node, DCTERMS.title, Literal(r.name, lang="zh")) in g
        publisher = g.value(node, DCTERMS.publisher)
        assert g.value(publisher, DCTERMS.identifier) == Literal(catalog.agencies[r.agency].uscc)
        frequency = str(g.value(node, DCTERMS.accrualPeriodicity))
        assert frequency.startswith(f"{EU}frequency/")
        assert str(g.value(node, DCTERMS.accessRights)).startswith(f"{EU}access-right/")


def test_the_data_dictionary_is_a_csvw_schema_with_types_and_the_key(catalog) -> None:
    r = catalog.resource("gaj/hjrk")
    g = _graph(catalog_jsonld(catalog))
    node = URIRef(f"https://govhub.example/ns#resource/{r.agency}/{r.id}")
    schema = g.value(node, DCTERMS.conformsTo)
    columns = {str(g.value(c, CSVW.name)): c for c in g.objects(schema, CSVW.column)}
    assert set(columns) == {f.name for f in r.fields}
    id_field = r.field(r.primary_key[0])
    assert g.value(columns[id_field.name], CSVW.title) == Literal(id_field.label, lang="zh")
    assert g.value(columns[id_field.name], CSVW.required).toPython() is True
    assert {str(k) for k in g.objects(schema, CSVW.primaryKey)} == set(r.primary_key)


def test_drafts_are_not_exported_and_a_snapshot_becomes_a_distribution(catalog) -> None:
    r = catalog.resources[0]
    draft = r.model_copy(update={"status": LifecycleStatus.DRAFT})
    trimmed = catalog.model_copy(update={"resources": [draft, *catalog.resources[1:]]})
    g = _graph(catalog_jsonld(trimmed))
    assert (URIRef(f"https://govhub.example/ns#resource/{r.agency}/{r.id}"), None, None) not in g
    snap = distribution(r, "s0002", rows=42, size=1234, created_at="2026-11-24T08:00:00Z")
    g = _graph(catalog_jsonld(catalog, snapshots={r.key: snap}))
    (dist,) = g.objects(URIRef(f"https://govhub.example/ns#resource/{r.agency}/{r.id}"), DCAT.distribution)
    assert g.value(dist, DCAT.byteSize).toPython() == 1234
    assert str(g.value(dist, DCTERMS["format"])) == f"{EU}file-type/PARQUET"
