"""Row scopes → the request filters: JSON (as requests and grants store them) and the CLI's `--rows` text parsed by
`warehouse.scope.RowFilter`, compiled to SQL and run in DuckDB against the resource's columns. A filter that parses
must compile to SQL DuckDB runs (a literal that breaks out of its quotes, or SQL that does not parse, is a finding)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import atheris

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
with atheris.instrument_imports(include=["govhub"]):
    import duckdb
    import pyarrow as pa

    from govhub.catalog.arrow import arrow_schema
    from govhub.cli.request_cmd import row_condition
    from govhub.problems import GovhubError
    from govhub.warehouse.scope import RowFilter

from fuzz.harness import fuzz, resource

RESOURCE = resource("fgj/clfjy")  # text, number, date and enum fields
CON = duckdb.connect()
CON.register("t", pa.table({f.name: pa.array([], type=f.type) for f in arrow_schema(RESOURCE)}))


def scope_from(data: bytes) -> list[object] | None:
    text = data[1:].decode("utf-8", errors="replace")
    if data[:1] == b"j":  # JSON, as stored
        try:
            loaded = json.loads(text)
        except (ValueError, RecursionError):
            return None
        return loaded if isinstance(loaded, list) else [loaded]
    try:
        return [row_condition(line) for line in text.splitlines() if line.strip()]
    except argparse.ArgumentTypeError:
        return None


def test_one_input(data: bytes) -> None:
    scope = scope_from(data)
    if scope is None:
        return
    try:
        row_filter = RowFilter.parse(RESOURCE, scope)  # type: ignore[arg-type]
    except GovhubError:
        return
    sql = row_filter.sql()
    CON.execute(f"SELECT count(*) FROM t WHERE {sql}").fetchall()
    assert RowFilter.parse(RESOURCE, row_filter.to_list()).sql() == sql  # stored form reads back the same


if __name__ == "__main__":
    fuzz(test_one_input)
