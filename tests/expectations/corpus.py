"""Test data for the quality checks: identifiers made with the scalar check functions, and a licence table with
errors of every kind planted at known rows."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

import duckdb
import pyarrow as pa

from govhub.catalog.arrow import ROW_COLUMN, arrow_schema
from govhub.catalog.model import Resource
from govhub.expectations.identifiers_sql import known_county_codes, songjiang_towns
from govhub.identifiers import USCC_ALPHABET, cn_id_check_char, uscc_check_char


def _timeless_regions() -> list[str]:
    """Codes stdnum accepts for any birth year (its loc.dat gives no "[1998-]" validity window for them)."""
    from importlib import resources

    text = resources.files("stdnum").joinpath("cn/loc.dat").read_text(encoding="utf-8")
    out, province = [], ""
    for line in text.splitlines():
        if line[:1].isdigit():
            province = line.split()[0]
        elif line.startswith("  ") and "[" not in line:
            out.append(province + line.split()[0])
    return out


# stdnum checks a region against the birth year; govhub accepts any known code (its year windows are incomplete)
STABLE_REGIONS = _timeless_regions()


def make_cn_id(rng: random.Random, region: str | None = None, birth: dt.date | None = None) -> str:
    region = region or rng.choice(STABLE_REGIONS)
    birth = birth or dt.date(1930, 1, 1) + dt.timedelta(days=rng.randrange(0, 365 * 90))
    body = f"{region}{birth:%Y%m%d}{rng.randrange(1000):03d}"
    return body + cn_id_check_char(body)


def make_uscc(rng: random.Random, region: str = "310117") -> str:
    head = rng.choice("1591") + rng.choice("123")
    tail = "".join(rng.choice(USCC_ALPHABET) for _ in range(9))
    body = head + region + tail
    return body + uscc_check_char(body)


def wrong_last(value: str, alphabet: str) -> str:
    return value[:17] + next(c for c in alphabet if c != value[17])


BAD_CN_IDS = {
    "wrong check digit": lambda v: wrong_last(v, "0123456789X"),
    "impossible birth date": lambda v: _with_check("310117" + "19990230" + "123"),
    "future birth date": lambda v: _with_check("310117" + f"{dt.date.today().year + 1}0101" + "123"),
    "born before 1900": lambda v: _with_check("310117" + "18991231" + "123"),
    "unknown region": lambda v: _with_check("999999" + v[6:17]),
    "17 digits": lambda v: v[:17],
    "19 digits": lambda v: v + "1",
    "lowercase x": lambda v: _id_ending_in_x().lower(),
    "full-width X": lambda v: _id_ending_in_x()[:17] + "Ｘ",
    "letter inside": lambda v: v[:5] + "A" + v[6:],
    "spaces": lambda v: " " + v[:17],
    "full-width digits": lambda v: v.translate(str.maketrans("0123456789", "０１２３４５６７８９")),
}


def _id_ending_in_x() -> str:
    return next(i for i in (_with_check(f"31011719800101{n:03d}") for n in range(1000)) if i.endswith("X"))


def _with_check(body: str) -> str:
    return body + cn_id_check_char(body)


def _uscc_with(body: str) -> str:
    return body + uscc_check_char(body)


BAD_USCCS = {
    "wrong check character": lambda v: wrong_last(v, USCC_ALPHABET),
    "letter I": lambda v: v[:10] + "I" + v[11:],
    "letter O": lambda v: v[:10] + "O" + v[11:],
    "letter Z": lambda v: v[:10] + "Z" + v[11:],
    "letter S": lambda v: v[:10] + "S" + v[11:],
    "letter V": lambda v: v[:10] + "V" + v[11:],
    "letter in region": lambda v: _uscc_with(v[:2] + "31A117" + v[8:17]),
    "unknown region": lambda v: _uscc_with(v[:2] + "999999" + v[8:17]),
    "lowercase": lambda v: v.lower() if v.lower() != v else v[:17] + "a",
    "17 characters": lambda v: v[:17],
    "authority without that category": lambda v: _uscc_with("Y3" + v[2:17]),
    "no such authority": lambda v: _uscc_with("B1" + v[2:17]),
    "enterprise category 9": lambda v: _uscc_with("99" + v[2:17]),
    "full-width digits": lambda v: v.translate(str.maketrans("0123456789", "０１２３４５６７８９")),
}

# the GB 32100 head cases beyond the check character, with the start of the message each must give
USCC_HEAD_MESSAGES = {
    "authority without that category": "登记管理部门代码“Y”下没有机构类别“3”",
    "no such authority": "第1位登记管理部门代码“B”不存在",
    "enterprise category 9": "登记管理部门代码“9”下没有机构类别“9”",
}


def licence_resource(primary_key: list[str] | None = None) -> Resource:
    """A market-regulation licence register exercising every kind of generated expectation."""
    return Resource.model_validate(
        {
            "id": "licences",
            "code": "102001001/000001",
            "name": "食品经营许可信息",
            "summary": "松江区食品经营许可证发放信息",
            "agency": "scjgj",
            "class": "legal_entity",
            "share": {"type": "unconditional"},
            "cycle": "daily",
            "delivery": {"method": "sheet", "sheet": {}},
            "fields": [
                {"name": "permit_no", "label": "许可证编号", "required": True, "pattern": "^JY[0-9]{8}$"},
                {"name": "uscc", "label": "统一社会信用代码", "semantic": "uscc", "required": True},
                {
                    "name": "holder",
                    "label": "经营者名称",
                    "semantic": "org_name",
                    "required": True,
                    "max_length": 20,
                },
                {"name": "legal_person_id", "label": "法定代表人身份证号", "semantic": "cn_id"},
                {"name": "town_code", "label": "所属街镇", "semantic": "admin_division", "required": True},
                {"name": "mobile", "label": "联系手机", "semantic": "mobile"},
                {"name": "phone", "label": "联系电话", "semantic": "phone"},
                {"name": "email", "label": "电子邮箱", "semantic": "email"},
                {"name": "postal_code", "label": "邮政编码", "semantic": "postal_code"},
                {
                    "name": "category",
                    "label": "经营类别",
                    "semantic": "enum",
                    "enum": ["食品销售", "餐饮服务", "单位食堂"],
                },
                {"name": "staff", "label": "从业人数", "type": "integer", "min": 0, "max": 5000},
                {"name": "longitude", "label": "经度", "type": "number", "semantic": "longitude"},
                {"name": "issued_on", "label": "发证日期", "type": "date"},
                {"name": "updated_at", "label": "更新时间", "type": "datetime", "required": True},
            ],
            "primary_key": primary_key or ["permit_no"],
            "quality": {"max_bad_row_pct": 5},
        }
    )


def good_licence(rng: random.Random, i: int) -> dict[str, Any]:
    towns = sorted(songjiang_towns())
    return {
        "permit_no": f"JY{i:08d}",
        "uscc": make_uscc(rng),
        "holder": f"松江第{i}食品店",
        "legal_person_id": make_cn_id(rng),
        "town_code": rng.choice([*towns, "310117"]),
        "mobile": f"1{rng.choice('3456789')}{rng.randrange(10**9):09d}",
        "phone": rng.choice(["021-57821234", "57821234", "13912345678", "400-820-8820"]),
        "email": f"shop{i}@example.cn",
        "postal_code": "201600",
        "category": rng.choice(["食品销售", "餐饮服务", "单位食堂"]),
        "staff": rng.randrange(0, 200),
        "longitude": 121.2 + rng.random() / 10,
        "issued_on": dt.date(2020, 1, 1) + dt.timedelta(days=rng.randrange(1500)),
        "updated_at": dt.datetime(2026, 1, 1, 8, 0) + dt.timedelta(minutes=i),
    }


# kind of error -> (column, how to spoil a good row's value)
PLANTS: dict[str, tuple[str, Any]] = {
    "bad permit pattern": ("permit_no", lambda v, rng: v.replace("JY", "XK")),
    "missing uscc": ("uscc", lambda v, rng: None),
    "bad uscc": ("uscc", lambda v, rng: wrong_last(v, USCC_ALPHABET)),
    "holder too long": ("holder", lambda v, rng: "松江" * 11),
    "missing holder": ("holder", lambda v, rng: None),
    "bad id check": ("legal_person_id", lambda v, rng: wrong_last(v, "0123456789X")),
    "bad id date": ("legal_person_id", lambda v, rng: _with_check("310117" + "19990230" + "123")),
    "bad id region": ("legal_person_id", lambda v, rng: _with_check("999999" + v[6:17])),
    "id lower-case x": ("legal_person_id", lambda v, rng: _id_ending_in_x()[:17] + "x"),
    "id full-width": (
        "legal_person_id",
        lambda v, rng: v.translate(str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")),
    ),
    "uscc outside the table": ("uscc", lambda v, rng: _uscc_with("Y3" + v[2:17])),
    "unknown town": ("town_code", lambda v, rng: "310117999"),
    "bad mobile": ("mobile", lambda v, rng: "1" + v[1:] + "0"),
    "bad phone": ("phone", lambda v, rng: "phone?"),
    "bad email": ("email", lambda v, rng: "shop-at-example.cn"),
    "bad postal code": ("postal_code", lambda v, rng: "20160"),
    "bad category": ("category", lambda v, rng: "药品零售"),
    "staff out of range": ("staff", lambda v, rng: -3),
    "longitude out of range": ("longitude", lambda v, rng: 212.5),
    "missing updated_at": ("updated_at", lambda v, rng: None),
}


def planted_rows(n: int, seed: int = 7, every: int = 97) -> tuple[list[dict[str, Any]], dict[str, set[int]]]:
    """`n` good rows (source rows 2..n+1) with each kind of error planted on its own rows; returns where."""
    rng = random.Random(seed)
    rows = [good_licence(rng, i) for i in range(n)]
    where: dict[str, set[int]] = {kind: set() for kind in PLANTS}
    for k, (kind, (column, spoil)) in enumerate(PLANTS.items()):
        for i in range(k + 5, n, every):
            rows[i][column] = spoil(rows[i][column], rng)
            where[kind].add(i + 2)
    # a duplicated key: row 11's permit number reused on row 12
    rows[10]["permit_no"] = rows[9]["permit_no"]
    where["duplicate key"] = {11, 12}
    return rows, where


def load_rows(
    con: duckdb.DuckDBPyConnection, resource: Resource, rows: list[dict[str, Any]], name: str = "staged"
) -> str:
    """Register rows in the resource's Arrow schema (with __row__ = position + 2, as a sheet's rows) as a table."""
    schema = arrow_schema(resource, with_row=True)
    data = {ROW_COLUMN: [i + 2 for i in range(len(rows))]}
    for f in resource.fields:
        data[f.name] = [r.get(f.name) for r in rows]
    table = pa.Table.from_pydict(data, schema=schema)
    con.register(f"{name}_arrow", table)
    con.execute(f"CREATE OR REPLACE TABLE {name} AS SELECT * FROM {name}_arrow")
    con.unregister(f"{name}_arrow")
    return name


def all_county_codes() -> list[str]:
    return sorted(known_county_codes())


def identifier_corpus(seed: int = 17, n: int = 1500) -> tuple[list[str], list[str]]:
    """(ID numbers, USCCs) for value-by-value engine comparisons: valid ones, single-character mutations (lower
    case and full-width forms among them), every bad case above, and every USCC head (31 × 31 pairs and a few
    lower-case ones) with a correct check character."""
    rng = random.Random(seed)
    cn_ids: list[str] = [make(make_cn_id(rng)) for make in BAD_CN_IDS.values()]
    usccs: list[str] = [make(make_uscc(rng)) for make in BAD_USCCS.values()]
    for _ in range(n):
        v, u = make_cn_id(rng), make_uscc(rng)
        p, q = rng.randrange(18), rng.randrange(18) if rng.random() < 0.7 else rng.randrange(2)
        cn_ids += [v, v[:p] + rng.choice("0123456789XxＸ３") + v[p + 1 :]]
        usccs += [u, u[:q] + rng.choice(USCC_ALPHABET + "IOZSVxa３") + u[q + 1 :]]
    for head in (a + c for a in USCC_ALPHABET + "ny" for c in USCC_ALPHABET):
        body = head + "310117" + "".join(rng.choice(USCC_ALPHABET) for _ in range(9))
        usccs.append(body + (uscc_check_char(body) if set(body) <= set(USCC_ALPHABET) else "0"))
    return cn_ids, usccs
