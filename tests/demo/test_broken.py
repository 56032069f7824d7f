"""The broken sheets really contain the mistakes their README.json claims, and nothing else is broken."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from pathlib import Path
from typing import Any

import pytest
from python_calamine import CalamineWorkbook
from stdnum.cn import ric

from govhub.catalog.load import load_catalog
from govhub.catalog.model import Catalog
from govhub.demo.broken import BREAKERS, BROKEN_ROWS, write_broken_sheets
from govhub.demo.generate import generate_tables

CATALOG_DIR = Path(__file__).resolve().parents[2] / "catalog"


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog(CATALOG_DIR)[0]


@pytest.fixture(scope="module")
def broken(
    catalog: Catalog, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, dict[str, dict[str, Any]]]:
    sheets = tmp_path_factory.mktemp("sheets")
    write_broken_sheets(catalog, generate_tables(catalog, seed=2016, scale=0.4), sheets, seed=2016)
    readme = json.loads((sheets / "_broken" / "README.json").read_text(encoding="utf-8"))
    return sheets / "_broken", {entry["problem"]: entry for entry in readme["files"]}


def _xlsx(path: Path) -> list[list[Any]]:
    return CalamineWorkbook.from_path(path).get_sheet_by_index(0).to_python()


def _csv(path: Path, encoding: str = "gb18030") -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_bytes().decode(encoding))))


def _column(rows: list[list[Any]], label: str) -> dict[int, Any]:
    """Sheet row number (header = 1) → value of the column with this header."""
    col = rows[0].index(label)
    return {i + 1: row[col] for i, row in enumerate(rows) if i > 0}


def test_readme_describes_one_sheet_per_breaker(broken) -> None:
    folder, entries = broken
    assert len(entries) == len(BREAKERS)
    for entry in entries.values():
        assert (folder / entry["file"]).is_file()
        assert entry["description_zh"] and entry["resource"] and entry["column"]


def test_bad_check_digits_are_exactly_the_listed_rows(broken) -> None:
    folder, entries = broken
    entry = entries["bad_cn_id_check_digit"]
    ids = _column(_xlsx(folder / entry["file"]), entry["column"])
    assert len(ids) == BROKEN_ROWS
    invalid = sorted(row for row, value in ids.items() if not ric.is_valid(value))
    assert invalid == entry["rows"]
    assert 0.02 <= len(invalid) / len(ids) <= 0.04
    assert all(len(ids[row]) == 18 and ids[row][:17].isdigit() for row in invalid), (
        "only the check digit is wrong"
    )


def test_missing_column_sheet_lacks_only_that_column(broken, catalog: Catalog) -> None:
    folder, entries = broken
    entry = entries["missing_column"]
    resource = catalog.resource(entry["resource"])
    header = _xlsx(folder / entry["file"])[0]
    assert entry["column"] not in header
    assert header == [f.label for f in resource.fields if f.label != entry["column"]]
    assert resource.fields[[f.label for f in resource.fields].index(entry["column"])].required


def test_wrong_dates_are_exactly_the_listed_rows(broken) -> None:
    folder, entries = broken
    entry = entries["invalid_date"]
    dates = _column(_csv(folder / entry["file"]), entry["column"])
    unreadable = sorted(row for row, value in dates.items() if not _is_iso_date(value))
    assert unreadable == entry["rows"]
    assert {dates[row] for row in unreadable} <= set(entry["details"]["values"])


def _is_iso_date(text: str) -> bool:
    try:
        dt.date.fromisoformat(text)
    except ValueError:
        return False
    return True


def test_utf8_file_claimed_as_gbk_is_utf8_and_garbled_as_gbk(broken, catalog: Catalog) -> None:
    folder, entries = broken
    entry = entries["wrong_declared_encoding"]
    assert entry["details"] == {"declared_encoding": "gbk", "actual_encoding": "utf-8"}
    raw = (folder / entry["file"]).read_bytes()
    text = raw.decode("utf-8")
    assert not raw.startswith(b"\xef\xbb\xbf"), "no BOM to give the encoding away"
    assert text.splitlines()[0].split(",") == [f.label for f in catalog.resource(entry["resource"]).fields]
    assert raw.decode("gbk", errors="replace") != text


def test_duplicate_keys_repeat_the_row_above(broken, catalog: Catalog) -> None:
    folder, entries = broken
    entry = entries["duplicate_key"]
    keys = _column(_xlsx(folder / entry["file"]), entry["column"])
    repeated = sorted(row for row in keys if row > 2 and keys[row] == keys[row - 1])
    assert repeated == entry["rows"] and repeated
    assert len(set(keys.values())) == len(keys) - len(repeated)


def test_enum_values_outside_the_catalog_are_exactly_the_listed_rows(broken, catalog: Catalog) -> None:
    folder, entries = broken
    entry = entries["enum_value"]
    allowed = next(f.enum for f in catalog.resource(entry["resource"]).fields if f.label == entry["column"])
    values = _column(_csv(folder / entry["file"]), entry["column"])
    assert sorted(row for row, v in values.items() if v not in allowed) == entry["rows"]


def test_ids_stored_as_numbers_lost_their_last_digits(broken) -> None:
    folder, entries = broken
    entry = entries["precision_lost"]
    ids = _column(_xlsx(folder / entry["file"]), entry["column"])
    as_numbers = sorted(row for row, v in ids.items() if isinstance(v, float))
    assert as_numbers == entry["rows"]
    assert all(str(v).isdigit() is False for v in (ids[r] for r in as_numbers))
    assert any(not ric.is_valid(f"{int(ids[r]):d}") for r in as_numbers), "digits were lost"
