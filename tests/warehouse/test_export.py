import json

import pyarrow.parquet as pq

from govhub.warehouse.export import format_table, read_provenance, write_csv, write_json, write_parquet
from govhub.warehouse.sandbox import QueryLimits, run_query


def test_exports_carry_their_provenance(market, tmp_path):
    settings, path = market
    result = run_query(
        settings, path, "SELECT person_id, name, born FROM civil.people ORDER BY 1", QueryLimits(max_rows=5)
    )
    provenance = {
        "who": "李四",
        "agency": "market",
        "grants": ["g-1"],
        "purpose": "企业核查",
        "date": "2026-11-27",
    }
    csv = write_csv(result, tmp_path / "out.csv", provenance)
    assert csv.read_bytes().startswith("\ufeff".encode() + b'"person_id","name","born"')
    assert len(csv.read_text(encoding="utf-8-sig").splitlines()) == 6  # header + 5 rows, no comment lines
    js = write_json(result, tmp_path / "out.json", provenance)
    doc = json.loads(js.read_text(encoding="utf-8"))
    assert doc["rows"][0] == {
        "person_id": "P0000000",
        "name": result.table.column("name")[0].as_py(),
        "born": "1970-01-01",
    }
    pa_file = write_parquet(result, tmp_path / "out.parquet", provenance)
    assert pq.read_table(pa_file).num_rows == 5
    for written in (csv, js, pa_file):
        found = read_provenance(written)
        assert {k: found[k] for k in provenance} == provenance, written
        assert found["truncated"] is True and found["row_cap"] == 5 and found["rows"] == 5
    text = format_table(result)
    assert "person_id" in text and "P0000004" in text and "结果已截断" in text


def test_a_json_export_keeps_every_column_when_names_repeat(market, tmp_path):
    settings, path = market
    sql = "SELECT person_id, name, person_id, 1 AS person_id_1 FROM civil.people ORDER BY 1 LIMIT 1"
    result = run_query(settings, path, sql, QueryLimits(max_rows=5))
    assert result.table.column_names == ["person_id", "name", "person_id", "person_id_1"]
    doc = json.loads(write_json(result, tmp_path / "out.json", {"who": "李四"}).read_text(encoding="utf-8"))
    assert [c["key"] for c in doc["columns"]] == ["person_id", "name", "person_id_2", "person_id_1"]
    assert doc["rows"][0]["person_id"] == doc["rows"][0]["person_id_2"] == "P0000000"
    assert doc["rows"][0]["person_id_1"] == 1 and len(doc["rows"][0]) == 4
