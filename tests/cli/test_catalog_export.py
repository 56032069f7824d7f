"""`govhub catalog export` writes the DCAT-AP JSON-LD document (read back as RDF)."""

from __future__ import annotations

import json
from pathlib import Path

from rdflib import Graph, Namespace
from rdflib.namespace import RDF

REPO_CATALOG = Path(__file__).resolve().parents[2] / "catalog"
DCAT = Namespace("http://www.w3.org/ns/dcat#")


def test_catalog_export_command_writes_the_document(tmp_path, monkeypatch, govhub) -> None:
    monkeypatch.setenv("GOVHUB_HOME", str(tmp_path / "home"))
    out = tmp_path / "catalog.jsonld"
    run = govhub("--catalog", str(REPO_CATALOG), "catalog", "export", "--with-snapshots", "-o", str(out))
    assert run.code == 0 and "已导出" in run.out
    graph = Graph().parse(data=out.read_text(encoding="utf-8"), format="json-ld")
    assert len(set(graph.subjects(RDF.type, DCAT.Dataset))) >= 15
    assert json.loads(out.read_text(encoding="utf-8"))["@type"] == "dcat:Catalog"
    invalid = tmp_path / "bad"
    invalid.mkdir()
    refused = govhub("--catalog", str(invalid), "catalog", "export")
    assert refused.code == 1 and "agencies.yaml" in refused.err  # an invalid catalog is never published


def test_catalog_export_to_dash_writes_standard_output_not_a_file_named_dash(
    tmp_path, monkeypatch, govhub
) -> None:
    monkeypatch.setenv("GOVHUB_HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)
    run = govhub("--catalog", str(REPO_CATALOG), "catalog", "export", "-o", "-")
    assert run.code == 0 and json.loads(run.out)["@type"] == "dcat:Catalog"
    assert not (tmp_path / "-").exists() and "已导出" not in run.out
