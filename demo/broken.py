"""Fill-in sheets with the mistakes agencies really make, each described in `_broken/README.json`.

Every broken sheet starts from clean demo data and breaks it in one known way, listing the sheet rows (header is
row 1) and the column it broke, so tests — and the connectors' and checks' authors — can verify each is caught.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa

from govhub.catalog.model import Catalog, Resource
from govhub.demo.identities import rng_for
from govhub.demo.sources import sheet_cells, write_csv, write_xlsx
from govhub.identifiers import CN_ID_CHECK

BROKEN_DIR = "_broken"
BROKEN_ROWS = 200  # each broken sheet is a small delivery


@dataclass(frozen=True)
class BrokenSheet:
    """One deliberately broken sheet: what is wrong, where."""

    file: str
    resource: str  # agency/resource
    problem: str  # machine code, e.g. bad_cn_id_check_digit
    description_zh: str
    column: str  # the header (Chinese label) concerned
    rows: list[int] = field(default_factory=list)  # sheet rows (header = row 1); empty when the whole column
    details: dict[str, Any] = field(default_factory=dict)


def _labelled(resource: Resource, table: pa.Table) -> tuple[list[str], list[list[Any]]]:
    return [f.label for f in resource.fields], sheet_cells(resource, table)


def _pick_rows(key: str, n: int, share: float, seed: int) -> list[int]:
    rng = rng_for(seed, "broken", key)
    count = max(3, round(n * share))
    return sorted(int(i) for i in rng.choice(n, size=count, replace=False))


def _bad_check_digits(resource: Resource, table: pa.Table, out: Path, seed: int) -> BrokenSheet:
    headers, columns = _labelled(resource, table)
    col = resource.field_names.index("id_number")
    rows = _pick_rows("check", len(table), 0.03, seed)
    for i in rows:
        value = columns[col][i]
        wrong = CN_ID_CHECK[(CN_ID_CHECK.index(value[17]) + 1) % 11]
        columns[col][i] = value[:17] + wrong
    name = f"{resource.agency}_{resource.id}_bad_check_digits.xlsx"
    write_xlsx(resource, headers, columns, out / name)
    return BrokenSheet(
        name, f"{resource.agency}/{resource.id}", "bad_cn_id_check_digit",
        "约3%的公民身份号码校验码错误（末位被改动）", headers[col], [i + 2 for i in rows],
    )  # fmt: skip


def _missing_column(resource: Resource, table: pa.Table, out: Path, seed: int) -> BrokenSheet:
    headers, columns = _labelled(resource, table)
    col = resource.field_names.index("valid_until")
    dropped = headers.pop(col)
    columns.pop(col)
    name = f"{resource.agency}_{resource.id}_missing_column.xlsx"
    write_xlsx(resource, headers, columns, out / name)
    return BrokenSheet(
        name,
        f"{resource.agency}/{resource.id}",
        "missing_column",
        f"缺少必填列「{dropped}」（使用了旧版模板）",
        dropped,
    )


_IMPOSSIBLE_DATES = ("2025-02-30", "2025-13-05", "2024-06-31", "二〇二五年三月", "2025.4.")


def _wrong_dates(resource: Resource, table: pa.Table, out: Path, seed: int) -> BrokenSheet:
    headers, columns = _labelled(resource, table)
    col = resource.field_names.index("registered_on")
    rows = _pick_rows("dates", len(table), 0.05, seed)
    for k, i in enumerate(rows):
        columns[col][i] = _IMPOSSIBLE_DATES[k % len(_IMPOSSIBLE_DATES)]
    name = f"{resource.agency}_{resource.id}_wrong_dates.csv"
    write_csv(headers, columns, out / name, encoding="gb18030")
    return BrokenSheet(
        name, f"{resource.agency}/{resource.id}", "invalid_date",
        "约5%的登记日期不是有效日期（2月30日、13月、只写到月份等）", headers[col], [i + 2 for i in rows],
        {"values": sorted(set(_IMPOSSIBLE_DATES))},
    )  # fmt: skip


def _utf8_claimed_gbk(resource: Resource, table: pa.Table, out: Path, seed: int) -> BrokenSheet:
    headers, columns = _labelled(resource, table)
    name = f"{resource.agency}_{resource.id}_utf8_claimed_gbk.csv"
    write_csv(headers, columns, out / name, encoding="utf-8")
    return BrokenSheet(
        name, f"{resource.agency}/{resource.id}", "wrong_declared_encoding",
        "报送单位声明文件为GBK编码，实际为UTF-8（无BOM）；按GBK读取会得到乱码", "(file)",
        details={"declared_encoding": "gbk", "actual_encoding": "utf-8"},
    )  # fmt: skip


def _duplicate_keys(resource: Resource, table: pa.Table, out: Path, seed: int) -> BrokenSheet:
    headers, columns = _labelled(resource, table)
    key = resource.field_names.index(resource.primary_key[0])
    pairs = [2 * i for i in _pick_rows("dupes", (len(table) - 1) // 2, 0.04, seed)]
    rows = [i + 1 for i in pairs]
    for i in pairs:  # the row below repeats this row's key (copied and pasted, then edited)
        columns[key][i + 1] = columns[key][i]
    name = f"{resource.agency}_{resource.id}_duplicate_keys.xlsx"
    write_xlsx(resource, headers, columns, out / name)
    return BrokenSheet(
        name, f"{resource.agency}/{resource.id}", "duplicate_key",
        "部分行的主键（统一社会信用代码）与上一行重复", headers[key], [i + 2 for i in rows],
    )  # fmt: skip


_UNKNOWN_SCHOOL_TYPES = ("高中", "职校", "幼稚园")


def _bad_enum(resource: Resource, table: pa.Table, out: Path, seed: int) -> BrokenSheet:
    headers, columns = _labelled(resource, table)
    col = resource.field_names.index("school_type")
    rows = _pick_rows("enum", len(table), 0.04, seed)
    for k, i in enumerate(rows):
        columns[col][i] = _UNKNOWN_SCHOOL_TYPES[k % len(_UNKNOWN_SCHOOL_TYPES)]
    name = f"{resource.agency}_{resource.id}_bad_enum.csv"
    write_csv(headers, columns, out / name, encoding="gb18030")
    return BrokenSheet(
        name, f"{resource.agency}/{resource.id}", "enum_value",
        "部分行的学校类型不在目录规定的取值范围内（使用了简称）", headers[col], [i + 2 for i in rows],
        {"values": list(_UNKNOWN_SCHOOL_TYPES)},
    )  # fmt: skip


def _ids_as_numbers(resource: Resource, table: pa.Table, out: Path, seed: int) -> BrokenSheet:
    headers, columns = _labelled(resource, table)
    col = resource.field_names.index("buyer_id")
    rows = [i for i, v in enumerate(columns[col]) if v and v[-1] != "X"]
    for i in rows:  # what Excel does to an 18-digit number typed into a General cell: 15 significant digits
        columns[col][i] = float(f"{float(columns[col][i]):.15g}")
    name = f"{resource.agency}_{resource.id}_ids_as_numbers.xlsx"
    write_xlsx(resource, headers, columns, out / name)
    return BrokenSheet(
        name, f"{resource.agency}/{resource.id}", "precision_lost",
        "受让人身份证号被存成了数字，后三位精度丢失（Excel常规格式）", headers[col], [i + 2 for i in rows],
    )  # fmt: skip


# (resource, how it is broken): each resource exists in the demo catalog with the field the breaker touches.
# The first is the demo's example of a rejected delivery: a missing required column blocks the whole load.
BREAKERS: list[tuple[str, Callable[[Resource, pa.Table, Path, int], BrokenSheet]]] = [
    ("scjgj/spjy", _missing_column),
    ("rsj/jydj", _bad_check_digits),
    ("mzj/hydj", _wrong_dates),
    ("mzj/shjz", _utf8_claimed_gbk),
    ("mzj/shzz", _duplicate_keys),
    ("jyj/xxjbxx", _bad_enum),
    ("fgj/clfjy", _ids_as_numbers),
]


def write_broken_sheets(
    catalog: Catalog, tables: dict[str, pa.Table], sheets_dir: Path, seed: int
) -> list[BrokenSheet]:
    """Write each broken sheet whose resource is in the catalog, and README.json describing them."""
    out = sheets_dir / BROKEN_DIR
    out.mkdir(parents=True, exist_ok=True)
    found = []
    for key, breaker in BREAKERS:
        if key not in tables:
            continue
        table = tables[key].slice(0, BROKEN_ROWS)
        found.append(breaker(catalog.resource(key), table, out, seed))
    readme = {
        "about": "故意制造错误的报送表格，用于演示校验和退回；rows为表格行号（表头为第1行）",
        "files": [asdict(b) for b in found],
    }
    (out / "README.json").write_text(
        json.dumps(readme, ensure_ascii=False, indent=2, sort_keys=True) + "\n", encoding="utf-8"
    )
    return found
