"""Deterministic benchmark inputs: the people table (seeded, vectorised), its 1%-changed version, and its files.

Everything is a pure function of (rows, seed), built from the demo district's identity generators, so two runs on
two machines measure the same bytes. Changed versions update 0.8%, delete 0.1% and insert 0.1% of the rows.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv
import pyarrow.parquet as pq

from benchmarks.resources import PEOPLE_FIELDS
from govhub.demo import identities as ids

SEED = 20160601  # the Measures took effect in 2016
UPDATED_SHARE, DELETED_SHARE, INSERTED_SHARE = 0.008, 0.001, 0.001
COMPANY_POOL = 50_000


def people_table(rows: int, seed: int = SEED, *, salt: str = "people") -> pa.Table:
    """`rows` valid people in the benchmark resource's schema (catalog types), unique ID numbers."""
    rng = ids.rng_for(seed, "bench", salt)
    births = ids.birth_dates(rng, rows, first="1950-01-01", last="2006-12-31")
    male = rng.random(rows) < 0.51
    employers = ids.uscc_numbers(ids.rng_for(seed, "bench", "employers"), COMPANY_POOL)
    towns = ids.town_indexes(rng, rows)
    registered = births + (rng.random(rows) * 365 * 16).astype("timedelta64[D]")
    base = np.datetime64("2026-01-05T08:00:00", "s")
    updated = base + (rng.random(rows) * 86400 * 300).astype("timedelta64[s]")
    mobile = ids.mobile_numbers(rng, rows)
    no_mobile = pa.array(rng.random(rows) < 0.05)
    return pa.table(
        {
            "id_number": ids.cn_ids(rng, births, male),
            "name": ids.person_names(rng, male, rare_share=0.0),  # GBK has no room for the rare characters
            "sex": pc.if_else(pa.array(male), "男", "女"),
            "birth_date": pa.array(births.astype("datetime64[D]"), pa.date32()),
            "employer_uscc": employers.take(pa.array(rng.integers(0, COMPANY_POOL, rows))),
            "mobile": pc.if_else(no_mobile, pa.scalar(None, pa.string()), mobile),
            "town_code": ids.town_codes(towns),
            "registered_on": pa.array(registered.astype("datetime64[D]"), pa.date32()),
            "monthly_wage": _amounts(rng.lognormal(8.9, 0.5, rows)),
            "updated_at": pa.array(updated.astype("datetime64[us]"), pa.timestamp("us")),
        }
    )


def _amounts(values: np.ndarray | pa.ChunkedArray) -> pa.Array:
    """Yuan amounts to the cent: the double nearest each 2-decimal amount (whole cents divided by 100)."""
    x = values.to_numpy() if isinstance(values, pa.ChunkedArray) else np.asarray(values, dtype=np.float64)
    return pa.array(np.rint(x * 100) / 100)


def changed_version(table: pa.Table, seed: int = SEED) -> pa.Table:
    """The next delivery: 0.8% of rows updated (wage, mobile, update time), 0.1% deleted, 0.1% new people."""
    n = table.num_rows
    rng = ids.rng_for(seed, "bench", "changes", str(n))
    pick = rng.random(n)
    deleted = pick < DELETED_SHARE
    updated = (pick >= DELETED_SHARE) & (pick < DELETED_SHARE + UPDATED_SHARE)
    upd = pa.array(updated)
    wage = pc.if_else(upd, _amounts(pc.multiply(table["monthly_wage"], 1.05)), table["monthly_wage"])
    stamp = pc.if_else(upd, pa.scalar(np.datetime64("2026-11-02T09:30:00", "us")), table["updated_at"])
    kept = table.set_column(table.schema.get_field_index("monthly_wage"), "monthly_wage", wage)
    kept = kept.set_column(kept.schema.get_field_index("updated_at"), "updated_at", stamp)
    kept = kept.filter(pa.array(~deleted))
    inserted = max(1, int(n * INSERTED_SHARE))
    fresh = people_table(inserted, seed, salt=f"inserted-{n}")
    fresh = _without_keys(fresh, table["id_number"])
    return pa.concat_tables([kept, fresh.cast(kept.schema)])


def _without_keys(fresh: pa.Table, existing: pa.ChunkedArray) -> pa.Table:
    """New people whose ID number happens to exist already are dropped (inserts must be inserts)."""
    return fresh.filter(pc.invert(pc.is_in(fresh["id_number"], value_set=existing.combine_chunks())))


def type_variant(table: pa.Table) -> pa.Table:
    """The same content in other physical types (ms timestamps, dates as timestamps): not a data change."""
    return table.set_column(
        table.schema.get_field_index("updated_at"),
        "updated_at",
        pc.cast(table["updated_at"], pa.timestamp("ms")),
    ).set_column(
        table.schema.get_field_index("birth_date"),
        "birth_date",
        pc.cast(pc.cast(table["birth_date"], pa.timestamp("s")), pa.timestamp("s")),
    )


# --- files as agencies deliver them ------------------------------------------------------------------------

LABELS = {f["name"]: f["label"] for f in PEOPLE_FIELDS}


def as_sheet_text(table: pa.Table) -> pa.Table:
    """Columns as agencies type them: Chinese headers, dates as YYYY-MM-DD, times to the second."""
    columns = []
    for name in table.column_names:
        col = table[name]
        if pa.types.is_timestamp(col.type):
            col = pc.strftime(pc.cast(col, pa.timestamp("s")), format="%Y-%m-%d %H:%M:%S")
        elif pa.types.is_date(col.type):
            col = pc.strftime(col, format="%Y-%m-%d")
        columns.append(col)
    return pa.table(columns, names=[LABELS[n] for n in table.column_names])


def write_gbk_csv(table: pa.Table, path: Path) -> Path:
    """A CSV in GBK, as exported by a Chinese Excel: Chinese headers, no BOM."""
    buffer = io.BytesIO()
    pcsv.write_csv(as_sheet_text(table), buffer, pcsv.WriteOptions(quoting_style="needed"))
    path.write_bytes(buffer.getvalue().decode("utf-8").encode("gbk"))
    return path


def write_xlsx(table: pa.Table, path: Path) -> Path:
    """A fill-in workbook: one sheet, Chinese header row, text cells (how templates keep ID numbers intact)."""
    import xlsxwriter

    text = as_sheet_text(table)
    numeric = [pa.types.is_floating(table[n].type) for n in table.column_names]
    columns = [
        (table[n] if num else text.column(i)).to_pylist()
        for i, (n, num) in enumerate(zip(table.column_names, numeric, strict=True))
    ]
    workbook = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    sheet = workbook.add_worksheet("数据")
    sheet.write_row(0, 0, text.column_names)
    for r, row in enumerate(zip(*columns, strict=True), start=1):
        for c, value in enumerate(row):
            if value is None:
                continue
            if numeric[c]:
                sheet.write_number(r, c, value)
            else:
                sheet.write_string(r, c, value)
    workbook.close()
    return path


def write_parquet(table: pa.Table, path: Path) -> Path:
    pq.write_table(table, path, compression="zstd", row_group_size=128_000)
    return path


# --- the scale benchmark: up to 100M people, generated while the load streams -------------------------------

_SPAN_DAYS = int((np.datetime64("2006-12-31", "D") - np.datetime64("1950-01-01", "D")).astype(np.int64)) + 1
_ALWAYS_VALID = np.array(
    [i for i, (_, lo, hi, _g) in enumerate(ids._REGION_LIST) if lo is None and hi is None]
)


def enumerated_people(start: int, rows: int, seed: int = SEED) -> pa.Table:
    """Rows `start … start+rows` of a people table whose ID numbers are unique over any range by construction
    (the k-th person's region, birth day and sequence number are digits of k), for loads of up to ~500M rows;
    the other columns as in `people_table`. Birth date and sex agree with the ID number."""
    k = np.arange(start, start + rows, dtype=np.int64)
    region = _ALWAYS_VALID[k % len(_ALWAYS_VALID)]
    rest = k // len(_ALWAYS_VALID)
    births = np.datetime64("1950-01-01", "D") + (rest % _SPAN_DAYS).astype("timedelta64[D]")
    sequence = rest // _SPAN_DAYS  # 0…999: the 3-digit order code, its parity the sex
    if sequence.max(initial=0) > 999:
        raise ValueError("more people than valid ID numbers in the always-valid regions")
    chars = np.empty((rows, 18), dtype=np.uint8)
    chars[:, :6] = ids._REGION_CHARS[region]
    ids._put_digits(chars, 6, ids._ymd(births), 8)
    ids._put_digits(chars, 14, sequence, 3)
    chars[:, 17] = ids.cn_id_check_digits(chars)
    male = sequence % 2 == 1
    table = people_table(rows, seed, salt=f"scale-{start}")
    replaced = {
        "id_number": ids.ascii_strings(chars),
        "sex": pc.if_else(pa.array(male), "男", "女"),
        "birth_date": pa.array(births, pa.date32()),
    }
    for name, column in replaced.items():
        table = table.set_column(table.schema.get_field_index(name), name, column)
    return table
