"""Synthetic data for any catalog resource, column by column, driven by each field's type, semantic type and name.

Fields that describe the same person (`id_number` + `name`, `buyer_id` + `buyer_name`, `legal_rep_id` + `legal_rep`)
or the same organisation (`employer_uscc` + `employer_name`) share a stem and are filled from one draw, so a row is
coherent; with a `DistrictPools` the people and companies come from the district's registers, so the population
register's residents are the ones in the social-security records, and penalised companies are registered companies.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from govhub.catalog.arrow import arrow_schema
from govhub.catalog.model import CatalogField, FieldType, Resource, SemanticType
from govhub.demo import identities as ids
from govhub.demo.places import TOWN_CODES, town_short_name

AS_OF = "2026-10-31"  # the demo's "today": data never depends on the clock, so runs are reproducible
OPTIONAL_NULL_SHARE = 0.04  # how often an optional field is left empty

_PERSON_SUFFIXES = ("id_number", "_id_number", "_id", "_name")
_ORG_SUFFIXES = ("_uscc", "_name")
_FEMALE_STEMS = {"female", "mother", "wife"}
_MALE_STEMS = {"male", "father", "husband"}
_SONGJIANG_HOSPITALS = (
    "上海市松江区中心医院",
    "上海市第一人民医院（南部）",
    "上海市松江区妇幼保健院",
    "上海市松江区方塔中医医院",
    "上海市松江区泗泾医院",
    "上海市松江区九亭医院",
    "上海市松江区乐都医院",
)
_TEXT_BY_NAME = {
    "business_scope": (
        "技术开发、技术咨询、技术服务；软件开发；计算机系统服务",
        "食品销售；日用百货销售；五金产品零售",
        "货物进出口；技术进出口；机械设备销售",
        "建设工程施工；住宅室内装饰装修",
        "餐饮服务；食品经营（销售预包装食品）",
        "普通货物仓储服务；道路货物运输（不含危险货物）",
        "汽车零部件及配件制造；金属制品加工",
    ),
}
# Per date field name (token): the span values are drawn from.
_DATE_SPANS = {
    "birth": ("1940-01-01", "2024-12-31"),
    "completed": ("1978-01-01", "2025-12-31"),
    "established": ("1992-01-01", AS_OF),
    "born": ("2024-01-01", AS_OF),
    "updated": ("2025-01-01", AS_OF),
}
_DEFAULT_DATE_SPAN = ("2008-01-01", AS_OF)
_ENUM_LEADER_SHARE = {"ethnicity": 0.92}  # 汉族 is the great majority; other enums follow a gentler skew


@dataclass
class DistrictPools:
    """What later resources draw on: the population register's people, the company register, shared codes."""

    people: pa.Table | None = None  # id_number, name (the Songjiang hukou register)
    companies: pa.Table | None = None  # uscc, org_name (the enterprise register)
    codes: dict[str, pa.Array] = field(default_factory=dict)  # e.g. house_id → the housing register's codes


@dataclass
class _Draw:
    """Everything drawn for one table: shared per-row context (town, sex) and columns by field name."""

    seed: int
    rng: np.random.Generator
    n: int
    towns: np.ndarray
    columns: dict[str, pa.Array] = field(default_factory=dict)
    male: np.ndarray | None = None  # the row's person's sex (the `性别` column)
    births: np.ndarray | None = None  # the row's person's birth date, when the row is about one person
    latest_birth: np.ndarray | None = None  # the youngest person's birth date in the row (events come after)
    adults: bool = (
        False  # the row's people act as adults (marry, buy, work), so its events are 18+ years later
    )
    _coords: tuple[np.ndarray, np.ndarray] | None = None

    def coordinates(self) -> tuple[np.ndarray, np.ndarray]:
        """One (longitude, latitude) draw per row, shared by both columns."""
        if self._coords is None:
            self._coords = ids.coordinates(self.rng, self.towns)
        return self._coords


def _stem(name: str, suffixes: tuple[str, ...]) -> str:
    if name in ("id_number", "name", "uscc", "org_name"):
        return ""
    for suffix in suffixes:
        if name.endswith(suffix):
            return name.removesuffix(suffix)
    return name


def synthetic_table(
    resource: Resource,
    rows: int,
    *,
    seed: int,
    pools: DistrictPools | None = None,
    newcomers: bool = False,
) -> pa.Table:
    """`rows` rows of believable data in `arrow_schema(resource)`, the same for the same seed.

    `pools` links people, companies and codes to registers generated before; `newcomers` draws people from outside
    Shanghai (来沪人员) instead of from the hukou register. Primary keys are unique.
    """
    pools = pools or DistrictPools()
    rng = ids.rng_for(seed, resource.agency, resource.id)
    composite = len(resource.primary_key) > 1
    n = math.ceil(rows * 1.3) + 10 if composite else rows
    draw = _Draw(seed, rng, n, ids.town_indexes(rng, n))
    _fill_people(draw, resource, pools, newcomers)
    _fill_organisations(draw, resource, pools)
    for f in resource.fields:
        if f.name not in draw.columns:
            draw.columns[f.name] = _column(draw, resource, f, pools)
    table = pa.table(
        {f.name: _with_nulls(draw, resource, f) for f in resource.fields}, schema=arrow_schema(resource)
    )
    if composite:
        table = _unique_keys(table, resource.primary_key)
    return table.slice(0, rows)


# --- people -------------------------------------------------------------------------------------------------


def _fill_people(draw: _Draw, resource: Resource, pools: DistrictPools, newcomers: bool) -> None:
    """One draw of people per stem (id + name fields); the stem-less person also gives the row's sex and birth."""
    stems: dict[str, dict[str, CatalogField]] = {}
    for f in resource.fields:
        if f.semantic in (SemanticType.CN_ID, SemanticType.PERSON_NAME):
            stems.setdefault(_stem(f.name, _PERSON_SUFFIXES), {})[f.semantic.value] = f
    sex_field = next((f for f in resource.fields if f.label == "性别" and f.enum), None)
    # people with an ID number first: a stem-less one sets the row's sex, which name-only people then follow
    for stem, group in sorted(stems.items(), key=lambda kv: ("cn_id" not in kv[1], kv[0] != "")):
        id_field, name_field = group.get("cn_id"), group.get("person_name")
        want = True if stem in _MALE_STEMS else False if stem in _FEMALE_STEMS else None
        if id_field is None:  # a name only (a newborn, a legal representative): fresh, with the row's sex
            if draw.male is None:
                draw.male = draw.rng.random(draw.n) < 0.5
            male = draw.male if sex_field else draw.rng.random(draw.n) < 0.5
            draw.columns[name_field.name] = ids.person_names(draw.rng, male)
            continue
        unique = resource.primary_key == [id_field.name]
        pool = None if newcomers else pools.people
        people = _people(draw, pool, unique=unique, male=want, newcomers=newcomers, stem=stem)
        draw.adults |= pools.people is not None and not newcomers
        births = people["birth"]
        draw.latest_birth = births if draw.latest_birth is None else np.maximum(draw.latest_birth, births)
        draw.columns[id_field.name] = people["id"]
        if name_field:
            draw.columns[name_field.name] = people["name"]
        if stem == "":
            draw.male, draw.births = people["male"], people["birth"]
    if draw.male is None:
        draw.male = draw.rng.random(draw.n) < 0.5


# Birth years of people in a role, where the role implies an age (a mother of a newborn is 20 to 45).
_BIRTH_YEARS_BY_STEM = {"mother": (1981, 2005)}
_ADULT_BORN_BY = 2008


def _people(
    draw: _Draw, pool: pa.Table | None, *, unique: bool, male: bool | None, newcomers: bool, stem: str
) -> dict[str, Any]:
    rng, n = draw.rng, draw.n
    if pool is not None and unique and n > len(pool):
        pool = None  # too few registered people for distinct keys: make new ones rather than repeat a key
    if pool is None or len(pool) == 0:
        first, last = ("1930-01-01", AS_OF) if unique and not newcomers else ("1950-01-01", "2006-12-31")
        if stem in _BIRTH_YEARS_BY_STEM:
            first, last = (f"{year}-01-01" for year in _BIRTH_YEARS_BY_STEM[stem])
        births = ids.birth_dates(rng, n, first=first, last=last)
        sexes = np.full(n, male) if male is not None else rng.random(n) < 0.5
        mix = ids.MIGRANT_MIX if newcomers else ids.HUKOU_MIX
        return {
            "id": ids.cn_ids(rng, births, sexes, mix=mix),
            "name": ids.person_names(rng, sexes),
            "male": sexes,
            "birth": births,
        }
    pool_ids = pool.column("id_number").combine_chunks()
    years = pc.cast(pc.utf8_slice_codeunits(pool_ids, 6, 10), pa.int32()).to_numpy()
    pool_male = pc.cast(pc.utf8_slice_codeunits(pool_ids, 16, 17), pa.int32()).to_numpy() % 2 == 1
    born_from, born_by = _BIRTH_YEARS_BY_STEM.get(stem, (0, _ADULT_BORN_BY))
    ok = (years >= born_from) & (years <= born_by)  # people who buy, marry, work or apply are adults
    if male is not None:
        ok &= pool_male == male
    candidates = np.flatnonzero(ok)
    if unique and n > len(candidates):
        candidates = np.arange(len(pool))  # not enough adults: anyone registered, still each once
    idx = rng.choice(candidates, size=n, replace=not unique)
    births_text = pc.utf8_slice_codeunits(pool_ids.take(pa.array(idx)), 6, 14)
    births = pc.strptime(births_text, format="%Y%m%d", unit="s").to_numpy().astype("datetime64[D]")
    take = pa.array(idx)
    return {
        "id": pool_ids.take(take),
        "name": pool.column("name").take(take),
        "male": pool_male[idx],
        "birth": births,
    }


# --- organisations ------------------------------------------------------------------------------------------


def _fill_organisations(draw: _Draw, resource: Resource, pools: DistrictPools) -> None:
    stems: dict[str, dict[str, CatalogField]] = {}
    for f in resource.fields:
        if f.semantic in (SemanticType.USCC, SemanticType.ORG_NAME):
            stems.setdefault(_stem(f.name, _ORG_SUFFIXES), {})[f.semantic.value] = f
    names_only = [stem for stem, group in stems.items() if "uscc" not in group]
    if "org_name" not in stems.get("", {"org_name": None}) and len(names_only) == 1:
        stems[""]["org_name"] = stems.pop(names_only[0])["org_name"]  # uscc + school_name: one school
    kinds = _organisation_kinds(draw, resource)
    for stem, group in stems.items():
        code_field, name_field = group.get("uscc"), group.get("org_name")
        in_key = code_field is not None and code_field.name in resource.primary_key
        if stem == "hospital" and code_field is None:
            draw.columns[name_field.name] = ids.pick(draw.rng, _SONGJIANG_HOSPITALS, draw.n)
            continue
        if pools.companies is not None and not in_key and kinds is None:
            idx = pa.array(draw.rng.integers(0, len(pools.companies), draw.n))
            codes, names = (
                pools.companies.column("uscc").take(idx),
                pools.companies.column("org_name").take(idx),
            )
        elif kinds is not None and (in_key or len(stems) == 1):
            codes = ids.uscc_numbers(draw.rng, draw.n, kind=kinds[0])
            names = kinds[1]
        else:
            codes = ids.uscc_numbers(draw.rng, draw.n, kind="company")
            names = ids.company_names(draw.rng, draw.n)
        if code_field:
            draw.columns[code_field.name] = codes
        if name_field:
            draw.columns[name_field.name] = names


# Organisations that are not companies, recognised by the values of one of the resource's enums:
# enum value → (USCC prefix, name pattern); {town} is the town's short name, {trade} a 字号.
_ORG_FLAVOURS: dict[str, tuple[str, str]] = {
    "幼儿园": ("12", "上海市松江区{town}{trade}幼儿园"),
    "小学": ("12", "上海市松江区{town}{trade}小学"),
    "初级中学": ("12", "上海市松江区{town}{trade}初级中学"),
    "九年一贯制学校": ("12", "上海市松江区{town}{trade}学校"),
    "高级中学": ("12", "上海市松江区{town}{trade}高级中学"),
    "完全中学": ("12", "上海市松江区{town}{trade}中学"),
    "中等职业学校": ("12", "上海市松江区{trade}职业技术学校"),
    "综合医院": ("12", "上海市松江区{town}医院"),
    "中医医院": ("12", "上海市松江区{trade}中医医院"),
    "专科医院": ("91", "上海{trade}专科医院有限公司"),
    "社区卫生服务中心": ("12", "上海市松江区{town}社区卫生服务中心"),
    "门诊部": ("91", "上海{trade}门诊部有限公司"),
    "诊所": ("92", "上海松江{trade}诊所"),
    "社会团体": ("51", "上海市松江区{trade}行业协会"),
    "民办非企业单位": ("52", "上海市松江区{trade}社区服务中心"),
    "基金会": ("53", "上海市松江区{trade}慈善基金会"),
}


def _organisation_kinds(draw: _Draw, resource: Resource) -> tuple[np.ndarray, pa.Array] | None:
    """(USCC prefixes, names) when an enum of the resource says what kind of organisation each row is."""
    for f in resource.fields:
        if f.enum and any(v in _ORG_FLAVOURS for v in f.enum):
            values = np.array(f.enum)[draw.rng.integers(0, len(f.enum), draw.n)]
            draw.columns[f.name] = pa.array(values, pa.string())
            prefixes = np.array([_ORG_FLAVOURS.get(v, ("91", ""))[0] for v in values])
            trades = ids.trade_names(draw.rng, draw.n).to_pylist()
            towns = [town_short_name(TOWN_CODES[t]) for t in draw.towns]
            names = [
                _ORG_FLAVOURS.get(v, ("91", "上海{trade}有限公司"))[1].format(town=town, trade=trade)
                for v, town, trade in zip(values, towns, trades, strict=True)
            ]
            return prefixes, pa.array(names, pa.string())
    return None


# --- one column ---------------------------------------------------------------------------------------------


def _column(draw: _Draw, resource: Resource, f: CatalogField, pools: DistrictPools) -> pa.Array:
    rng, n, sem = draw.rng, draw.n, f.semantic
    if f.enum:
        return _enum(draw, f)
    if f.name == "birth_date" and draw.births is not None:
        return pa.array(draw.births, pa.date32())
    if sem is SemanticType.ADMIN_DIVISION:
        return ids.town_codes(draw.towns)
    if sem is SemanticType.ADDRESS:
        about_people = any(x.semantic is SemanticType.CN_ID for x in resource.fields)
        return ids.addresses(rng, draw.towns, homes=about_people)
    if sem is SemanticType.POSTAL_CODE:
        return ids.postal_codes(draw.towns)
    if sem in (SemanticType.LONGITUDE, SemanticType.LATITUDE):
        lon, lat = draw.coordinates()
        return pa.array(lon if sem is SemanticType.LONGITUDE else lat, pa.float64())
    if sem is SemanticType.MOBILE:
        return ids.mobile_numbers(rng, n)
    if sem is SemanticType.PHONE:
        return pc.if_else(pa.array(rng.random(n) < 0.7), ids.fixed_phones(rng, n), ids.mobile_numbers(rng, n))
    if sem is SemanticType.EMAIL:
        return ids.emails(rng, n)
    if sem is SemanticType.PERSON_NAME:
        return ids.person_names(rng, rng.random(n) < 0.5)
    if sem is SemanticType.ORG_NAME:
        return ids.company_names(rng, n)
    if sem is SemanticType.USCC:
        return ids.uscc_numbers(rng, n)
    if sem is SemanticType.CN_ID:
        return ids.cn_ids(rng, ids.birth_dates(rng, n), rng.random(n) < 0.5)
    return _by_type(draw, resource, f, pools)


def _by_type(draw: _Draw, resource: Resource, f: CatalogField, pools: DistrictPools) -> pa.Array:
    rng, n = draw.rng, draw.n
    if f.type is FieldType.DATE:
        return pa.array(_dates(draw, resource, f), pa.date32())
    if f.type is FieldType.DATETIME:
        first, last = _span(f.name, _DEFAULT_DATE_SPAN)
        seconds = rng.integers(0, int((last - first) / np.timedelta64(1, "s")) + 86_400, n)
        return pa.array(first.astype("datetime64[us]") + seconds.astype("timedelta64[s]"), pa.timestamp("us"))
    if f.type is FieldType.INTEGER:
        return pa.array(_integers(rng, n, f), pa.int64())
    if f.type is FieldType.NUMBER:
        lo = f.min if f.min is not None else 0.0
        hi = f.max if f.max is not None else lo + 10_000
        return pa.array(np.round(lo + (hi - lo) * rng.beta(1.3, 7.0, n), 2), pa.float64())
    if f.type is FieldType.BOOLEAN:
        return pa.array(rng.random(n) < 0.85, pa.bool_())
    if f.name in pools.codes and f.name not in resource.primary_key:
        known = pools.codes[f.name]
        return known.take(pa.array(rng.integers(0, len(known), n)))
    if f.semantic is SemanticType.TEXT or f.name in _TEXT_BY_NAME:
        return ids.pick(rng, _TEXT_BY_NAME.get(f.name, (f"{f.label}说明",)), n)
    # Identifiers without a semantic type: agency letters + 10 digits, e.g. FGJ0384712956.
    codes_rng = ids.rng_for(draw.seed, resource.agency, resource.id, f.name)  # independent of other columns
    return ids.serial_codes(codes_rng, n, resource.agency.upper()[:6])


def _span(name: str, default: tuple[str, str]) -> tuple[np.datetime64, np.datetime64]:
    for token, span in _DATE_SPANS.items():
        if token in name:
            return np.datetime64(span[0], "D"), np.datetime64(span[1], "D")
    return np.datetime64(default[0], "D"), np.datetime64(default[1], "D")


def _dates(draw: _Draw, resource: Resource, f: CatalogField) -> np.ndarray:
    rng, n = draw.rng, draw.n
    if "valid_until" in f.name or "expire" in f.name:
        # valid for five years from the row's first date (issue, registration), else from a recent day
        other = next(
            (x for x in resource.fields if x.type is FieldType.DATE and x.name in draw.columns), None
        )
        if other is not None:
            start = draw.columns[other.name].to_numpy(zero_copy_only=False).astype("datetime64[D]")
        else:
            start = np.datetime64(AS_OF, "D") - rng.integers(0, 4 * 365, n).astype("timedelta64[D]")
        return start + np.timedelta64(5 * 365 + 1, "D")
    first, last = _span(f.name, _DEFAULT_DATE_SPAN)
    if (
        draw.births is not None
        and f.name in ("registered_on",)
        and any(x.name == "birth_date" for x in resource.fields)
    ):
        first = np.maximum(draw.births, first)  # registered no earlier than born
    span = (last - first).astype(np.int64)
    return first + (rng.random(n) * (span + 1)).astype(np.int64).astype("timedelta64[D]")


def _integers(rng: np.random.Generator, n: int, f: CatalogField) -> np.ndarray:
    lo = int(f.min) if f.min is not None else 0
    hi = int(f.max) if f.max is not None else lo + 1000
    if "weight" in f.name:
        return np.clip(np.round(rng.normal(3300, 450, n)), lo, hi).astype(np.int64)
    centre, spread = lo + (hi - lo) * 0.25, (hi - lo) * 0.15
    return np.clip(np.round(rng.normal(centre, spread, n)), lo, hi).astype(np.int64)


def _enum(draw: _Draw, f: CatalogField) -> pa.Array:
    values = f.enum or []
    if f.label == "性别" and draw.male is not None and values == ["男", "女"]:
        return pa.array(np.where(draw.male, "男", "女"), pa.string())
    if len(values) <= 2:
        p = np.full(len(values), 1 / len(values))
    elif f.name in _ENUM_LEADER_SHARE:
        lead = _ENUM_LEADER_SHARE[f.name]
        p = np.r_[lead, np.full(len(values) - 1, (1 - lead) / (len(values) - 1))]
    else:
        p = 1 / np.arange(1, len(values) + 1) ** 1.2
        p /= p.sum()
    return ids.pick(draw.rng, values, draw.n, p)


def _with_nulls(draw: _Draw, resource: Resource, f: CatalogField) -> pa.Array:
    values = draw.columns[f.name]
    if f.required or f.name in resource.primary_key:
        return values
    empty = pa.array(draw.rng.random(draw.n) < OPTIONAL_NULL_SHARE)
    return pc.if_else(empty, pa.scalar(None, values.type), values)


def _unique_keys(table: pa.Table, key: list[str]) -> pa.Table:
    """First row of each primary-key value, in the original order."""
    numbered = table.append_column("__i", pa.array(np.arange(len(table))))
    first = numbered.group_by(key, use_threads=False).aggregate([("__i", "min")]).column("__i_min")
    keep = np.sort(first.to_numpy())
    return table.take(pa.array(keep))


def people_pool(resource: Resource, table: pa.Table) -> pa.Table:
    """The (id_number, name) of the register's people, for other resources to draw on."""
    id_field = next(f.name for f in resource.fields if f.semantic is SemanticType.CN_ID)
    name_field = next(f.name for f in resource.fields if f.semantic is SemanticType.PERSON_NAME)
    return pa.table({"id_number": table.column(id_field), "name": table.column(name_field)})


def company_pool(resource: Resource, table: pa.Table) -> pa.Table:
    """The (uscc, org_name) of the register's companies."""
    code = next(f.name for f in resource.fields if f.semantic is SemanticType.USCC)
    name = next(f.name for f in resource.fields if f.semantic is SemanticType.ORG_NAME)
    return pa.table({"uscc": table.column(code), "org_name": table.column(name)})
