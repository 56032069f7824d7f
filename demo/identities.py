"""Synthetic but valid identities for the demo district, generated column-wise with numpy (10M rows in seconds).

- ID numbers (GB 11643) with real birth dates, a region code that existed in the birth year (python-stdnum checks
  that too: Songjiang was 松江县 310227 until 1998 and is 松江区 310117 since), unique order codes, odd for men;
- unified social credit codes (GB 32100) whose organisation code carries its GB 11714 check character;
- mobile and fixed phone numbers, Chinese names (a few with characters outside GBK, inside GB18030), organisation
  names, addresses on Songjiang roads, postal codes and coordinates per town.

Every function takes a seeded `numpy.random.Generator`, so the same seed gives the same values.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from govhub.demo.places import SONGJIANG_TOWNS, TOWN_CODES, TOWN_PLACES, TOWN_WEIGHTS
from govhub.identifiers import CN_ID_CHECK, CN_ID_WEIGHTS, USCC_ALPHABET, USCC_WEIGHTS


def rng_for(seed: int, *names: str) -> np.random.Generator:
    """An independent generator per (seed, names): adding a resource never changes another's data."""
    digest = hashlib.sha256("/".join([str(seed), *names]).encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:16], "big"))


# --- fixed-width ASCII strings -------------------------------------------------------------------------------


def ascii_strings(chars: np.ndarray) -> pa.StringArray:
    """An (n, width) uint8 matrix of ASCII codes as an Arrow string array, without a Python loop."""
    n, width = chars.shape
    offsets = np.arange(0, (n + 1) * width, width, dtype=np.int32)
    data = np.ascontiguousarray(chars, dtype=np.uint8)
    return pa.StringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(data))


def _digits(values: np.ndarray, width: int) -> np.ndarray:
    """Non-negative integers as an (n, width) matrix of decimal digits (most significant first)."""
    powers = 10 ** np.arange(width - 1, -1, -1, dtype=np.int64)
    return (values.astype(np.int64)[:, None] // powers) % 10


def _text_codes(codes: Sequence[str]) -> np.ndarray:
    """Equal-length ASCII codes as a (k, width) uint8 matrix."""
    return np.frombuffer("".join(codes).encode("ascii"), dtype=np.uint8).reshape(len(codes), -1)


def unique_numbers(rng: np.random.Generator, n: int, width: int) -> np.ndarray:
    """n distinct numbers below 10**width in a scrambled order (an affine permutation of 0..n-1)."""
    space = 10**width
    if n > space:
        raise ValueError(f"cannot make {n} unique {width}-digit numbers")
    step = int(rng.integers(1, min(space, 4 * 10**8))) | 1
    while step % 5 == 0:
        step += 2  # coprime with 10**width, so i -> step*i + start is a permutation
    start = int(rng.integers(0, space))
    return (np.arange(n, dtype=np.int64) * step + start) % space


def serial_codes(rng: np.random.Generator, n: int, prefix: str, *, width: int = 10) -> pa.StringArray:
    """Unique codes `prefix + width digits`, e.g. FW0384712956."""
    numbers = unique_numbers(rng, n, width)
    chars = np.concatenate(
        [np.tile(_text_codes([prefix]), (n, 1)), _digits(numbers, width) + ord("0")], axis=1
    )
    return ascii_strings(chars)


# --- ID numbers (GB 11643) ----------------------------------------------------------------------------------

# Region codes with the years they were valid (inclusive, None = open), as in python-stdnum's cn/loc.dat.
# Groups: Songjiang itself, the rest of Shanghai, and the home counties of many people who moved to Shanghai.
CN_ID_REGIONS: dict[str, list[tuple[str, int | None, int | None]]] = {
    "songjiang": [("310207", None, 1982), ("310227", 1982, 1998), ("310117", 1998, None)],
    "shanghai": [
        ("310101", None, None),
        ("310104", None, None),
        ("310105", None, None),
        ("310107", None, None),
        ("310110", None, None),
        ("310112", 1981, None),
        ("310115", 1992, None),
        ("310209", None, 1982),
        ("310229", 1982, 1999),
        ("310118", 1999, None),
    ],
    "migrant": [
        ("342122", None, 1996),  # 临泉县, 安徽
        ("341221", 1996, None),
        ("342123", None, 1996),  # 太和县
        ("341222", 1996, None),
        ("413026", None, 1998),  # 固始县, 河南
        ("411525", 1998, None),
        ("322322", None, 1983),  # 滨海县, 江苏
        ("320922", 1983, None),
        ("432622", None, 1986),  # 隆回县, 湖南
        ("430524", 1986, None),
        ("512922", None, 1993),  # 南部县, 四川
        ("511321", 1993, None),
        ("362626", None, 1983),  # 德安县, 江西
        ("360426", 1983, None),
    ],
}
HUKOU_MIX = {"songjiang": 0.78, "shanghai": 0.17, "migrant": 0.05}  # 户籍人口: mostly born here
MIGRANT_MIX = {"migrant": 1.0}  # 来沪人员

_REGION_LIST = [(code, lo, hi, group) for group, rows in CN_ID_REGIONS.items() for code, lo, hi in rows]
_REGION_CHARS = _text_codes([code for code, *_ in _REGION_LIST])


def _region_weights(year: int, mix: dict[str, float]) -> np.ndarray:
    valid = np.array(
        [(lo is None or year >= lo) and (hi is None or year <= hi) for _, lo, hi, _ in _REGION_LIST],
        dtype=float,
    )
    weights = valid * np.array([mix.get(group, 0.0) for *_, group in _REGION_LIST])
    if weights.sum() == 0:
        raise ValueError(f"no region code valid in {year} for mix {mix}")
    return weights / weights.sum()


def region_indexes(rng: np.random.Generator, years: np.ndarray, mix: dict[str, float]) -> np.ndarray:
    """Per person, an index into the region table valid in their birth year (looping over years, not people)."""
    order = np.argsort(years.astype(np.int16), kind="stable")  # radix sort on small integers
    sorted_years = years[order]
    out = np.empty(len(years), dtype=np.int64)
    for year in np.unique(sorted_years):
        lo, hi = np.searchsorted(sorted_years, [year, year + 1])
        out[order[lo:hi]] = rng.choice(len(_REGION_LIST), size=hi - lo, p=_region_weights(int(year), mix))
    return out


def birth_dates(
    rng: np.random.Generator, n: int, *, first: str = "1940-01-01", last: str = "2024-12-31"
) -> np.ndarray:
    """Birth dates (datetime64[D]) weighted towards working age, between `first` and `last`."""
    lo, hi = np.datetime64(first, "D"), np.datetime64(last, "D")
    span = int((hi - lo).astype(np.int64))
    ages = rng.beta(2.2, 2.0, size=n)  # fewer very old and very young people than in the middle
    return hi - (ages * span).astype(np.int64).astype("timedelta64[D]")


def _ymd(dates: np.ndarray) -> np.ndarray:
    """Dates as integers YYYYMMDD, by integer arithmetic (days to civil date; numpy's calendar casts are slow)."""
    z = dates.astype("datetime64[D]").astype(np.int64) + 719_468
    era = z // 146_097
    doe = z - era * 146_097
    yoe = (doe - doe // 1460 + doe // 36_524 - doe // 146_096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    day = doy - (153 * mp + 2) // 5 + 1
    month = np.where(mp < 10, mp + 3, mp - 9)
    year = yoe + era * 400 + (month <= 2)
    return year * 10_000 + month * 100 + day


def _order_numbers(rng: np.random.Generator, keys: np.ndarray) -> np.ndarray:
    """Per row, a number 0..499 unique among rows with the same key (region + birth date + sex)."""
    order = np.argsort(keys)
    sorted_keys = keys[order]
    starts = np.flatnonzero(np.r_[True, sorted_keys[1:] != sorted_keys[:-1]])
    group = np.cumsum(np.r_[True, sorted_keys[1:] != sorted_keys[:-1]]) - 1
    rank = np.arange(len(keys)) - starts[group]
    sizes = np.diff(np.r_[starts, len(keys)])
    base = (rng.random(len(starts)) * np.maximum(500 - sizes + 1, 1)).astype(np.int64)
    out = np.empty(len(keys), dtype=np.int64)
    out[order] = (base[group] + rank) % 500
    return out


def _put_digits(chars: np.ndarray, column: int, values: np.ndarray, width: int) -> None:
    """Write integers as `width` ASCII digits into chars[:, column:column+width], one column at a time."""
    for k in range(width):
        chars[:, column + k] = (values // 10 ** (width - 1 - k)) % 10 + ord("0")


def cn_id_check_digits(chars: np.ndarray) -> np.ndarray:
    """GB 11643 check characters (ASCII codes) for an (n, ≥17) matrix of ASCII digits."""
    total = np.zeros(len(chars), dtype=np.int64)
    for k, weight in enumerate(CN_ID_WEIGHTS):
        total += (chars[:, k].astype(np.int64) - ord("0")) * weight
    return np.frombuffer(CN_ID_CHECK.encode(), dtype=np.uint8)[total % 11]


def cn_ids(
    rng: np.random.Generator, births: np.ndarray, male: np.ndarray, *, mix: dict[str, float] = HUKOU_MIX
) -> pa.StringArray:
    """Unique, valid 18-character ID numbers for people with these birth dates and sexes."""
    ymd = _ymd(births)
    region = region_indexes(rng, ymd // 10000, mix)
    days = births.astype("datetime64[D]").astype(np.int64) + 40_000  # ≥ 0 from 1860 on
    order = _order_numbers(rng, ((region * 100_000 + days) * 2 + male).astype(np.int32))
    chars = np.empty((len(births), 18), dtype=np.uint8)
    chars[:, :6] = _REGION_CHARS[region]
    _put_digits(chars, 6, ymd, 8)
    _put_digits(chars, 14, order * 2 + male, 3)
    chars[:, 17] = cn_id_check_digits(chars)
    return ascii_strings(chars)


# --- unified social credit codes (GB 32100) -----------------------------------------------------------------

# 登记管理部门码 + 机构类别码: 91 enterprise (市场监管), 92 individual business, 12 public institution (编办),
# 51/52/53 social organisation / private non-enterprise / foundation (民政), 11 government body.
USCC_KINDS = {
    "company": "91",
    "individual": "92",
    "institution": "12",
    "association": "51",
    "private_nonprofit": "52",
    "foundation": "53",
    "government": "11",
}
_ORG_WEIGHTS = np.array([3, 7, 9, 10, 5, 8, 4, 2], dtype=np.int64)  # GB 11714 organisation code


def uscc_numbers(
    rng: np.random.Generator, n: int, *, kind: str | np.ndarray = "company", region: str = "310117"
) -> pa.StringArray:
    """Unique, valid USCCs: kind prefix, region, a GB 11714 organisation code, GB 32100 check character.

    `kind` is one of USCC_KINDS or an array of 2-character prefixes, one per row.
    """
    if isinstance(kind, str):
        prefix = np.tile(_text_codes([USCC_KINDS[kind]]), (n, 1))
    else:
        prefix = _text_codes(list(kind))
    body = _digits(unique_numbers(rng, n, 8), 8)
    org_check = (11 - (body @ _ORG_WEIGHTS) % 11) % 11  # 10 is written X
    org_char = np.where(org_check == 10, ord("X"), org_check + ord("0"))
    chars = np.concatenate(
        [prefix, np.tile(_text_codes([region]), (n, 1)), body + ord("0"), org_char[:, None]], axis=1
    ).astype(np.uint8)
    lookup = np.full(128, -1, dtype=np.int64)
    lookup[np.frombuffer(USCC_ALPHABET.encode(), dtype=np.uint8)] = np.arange(len(USCC_ALPHABET))
    total = lookup[chars] @ np.array(USCC_WEIGHTS, dtype=np.int64)
    check = np.frombuffer(USCC_ALPHABET.encode(), dtype=np.uint8)[(31 - total % 31) % 31]
    return ascii_strings(np.concatenate([chars, check[:, None]], axis=1))


# --- phones -------------------------------------------------------------------------------------------------

MOBILE_PREFIXES = tuple(
    str(p)
    for p in [
        *range(130, 140),
        150,
        151,
        152,
        153,
        155,
        156,
        157,
        158,
        159,
        166,
        173,
        175,
        176,
        177,
        178,
        *range(180, 190),
        191,
        193,
        195,
        198,
        199,
    ]
)
# Songjiang fixed lines: 021 + 8 digits, exchanges around the old town, the new city and 九亭.
FIXED_EXCHANGES = (
    "5774",
    "5776",
    "5777",
    "5778",
    "5781",
    "5782",
    "5783",
    "5784",
    "6760",
    "6769",
    "3761",
    "3762",
)


def mobile_numbers(rng: np.random.Generator, n: int) -> pa.StringArray:
    prefix = _text_codes(MOBILE_PREFIXES)[rng.integers(0, len(MOBILE_PREFIXES), n)]
    rest = _digits(rng.integers(0, 10**8, n), 8) + ord("0")
    return ascii_strings(np.concatenate([prefix, rest], axis=1))


def fixed_phones(rng: np.random.Generator, n: int) -> pa.StringArray:
    area = np.tile(_text_codes(["021-"]), (n, 1))
    exchange = _text_codes(FIXED_EXCHANGES)[rng.integers(0, len(FIXED_EXCHANGES), n)]
    rest = _digits(rng.integers(0, 10**4, n), 4) + ord("0")
    return ascii_strings(np.concatenate([area, exchange, rest], axis=1))


# --- names --------------------------------------------------------------------------------------------------

_SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾"
    "夏韦方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严武戴莫孔汤"
)
SURNAMES: tuple[str, ...] = (*_SURNAMES, "欧阳", "司马", "诸葛", "上官")
# Zipf-like: 王李张刘陈 are far more common than the tail.
_SURNAME_P = 1 / np.arange(1, len(SURNAMES) + 1) ** 0.9
_SURNAME_P /= _SURNAME_P.sum()
MALE_GIVEN = tuple(
    "伟强磊军勇杰涛斌超明刚平辉鹏华飞鑫波宇浩凯健俊帆帅旭宁龙林欣晨阳楠峰昊轩睿博文建国志海东亮成"
)
FEMALE_GIVEN = tuple("芳娜敏静丽艳娟霞秀玲桂英红梅琳雪颖倩婷慧佳琪妍欣怡萱雨晨思涵蕾燕萍丹洁璐瑶悦岚薇")
# Characters used in real given names that GBK lacks but GB18030 encodes (CJK extensions A and B+).
RARE_GIVEN = ("䶮", "㛃", "𬱖", "𫖮", "𬀩", "𬍤", "𬌗", "𫍽")


def pick(rng: np.random.Generator, choices: Sequence[str], n: int, p: np.ndarray | None = None) -> pa.Array:
    """n values drawn from `choices` (with probabilities `p`), as an Arrow string array."""
    return pa.array(choices, pa.string()).take(pa.array(rng.choice(len(choices), size=n, p=p)))


def _join(*parts: pa.Array) -> pa.Array:
    return pc.binary_join_element_wise(*parts, "")


def person_names(rng: np.random.Generator, male: np.ndarray, *, rare_share: float = 0.003) -> pa.StringArray:
    """Surname + one or two given-name characters by sex; `rare_share` of names need GB18030."""
    n = len(male)
    surname = pick(rng, SURNAMES, n, _SURNAME_P)
    first = pc.if_else(pa.array(male), pick(rng, MALE_GIVEN, n), pick(rng, FEMALE_GIVEN, n))
    second = pc.if_else(pa.array(male), pick(rng, MALE_GIVEN, n), pick(rng, FEMALE_GIVEN, n))
    # a quarter have one-character names
    second = pc.if_else(pa.array(rng.random(n) < 0.25), pa.scalar(""), second)
    rare = pa.array(rng.random(n) < rare_share)
    first = pc.if_else(rare, pick(rng, RARE_GIVEN, n), first)
    return _join(surname, first, second)


_TRADE_FIRST = tuple("松茸云华佘泖九广申沪鑫恒宏瑞丰浦新东益华永嘉盛汇通达联泰隆金")
_TRADE_SECOND = tuple("江城间亭峰河山邦源远达信诚通盛泰瑞发兴鸿辉创力科德和安")
_INDUSTRIES = (
    "科技", "实业", "贸易", "建筑工程", "电子", "机械制造", "餐饮管理", "物流", "信息技术", "生物医药",
    "新材料", "商贸", "汽车零部件", "环保科技", "物业管理", "文化传媒", "食品", "装饰工程",
)  # fmt: skip
_COMPANY_FORMS = ("有限公司", "有限公司", "有限公司", "股份有限公司")


def trade_names(rng: np.random.Generator, n: int) -> pa.Array:
    """Two-character 字号 such as 云峰, 茸信."""
    return _join(pick(rng, _TRADE_FIRST, n), pick(rng, _TRADE_SECOND, n))


def company_names(rng: np.random.Generator, n: int) -> pa.StringArray:
    """上海 + 字号 + 行业 + 组织形式, e.g. 上海云峰信息技术有限公司."""
    return _join(
        pa.array(["上海"] * n), trade_names(rng, n), pick(rng, _INDUSTRIES, n), pick(rng, _COMPANY_FORMS, n)
    )


def emails(rng: np.random.Generator, n: int) -> pa.StringArray:
    user = ascii_strings(rng.integers(ord("a"), ord("z") + 1, size=(n, 6)).astype(np.uint8))
    number = pc.cast(pa.array(rng.integers(10, 9999, n)), pa.string())
    domain = pick(rng, ("163.com", "126.com", "qq.com", "sina.com", "songjiang.example"), n)
    return _join(user, number, pa.array(["@"] * n), domain)


# --- places -------------------------------------------------------------------------------------------------

_TOWN_P = np.array([TOWN_WEIGHTS[c] for c in TOWN_CODES], dtype=float)
_TOWN_P /= _TOWN_P.sum()


def town_indexes(rng: np.random.Generator, n: int) -> np.ndarray:
    """Indexes into `places.TOWN_CODES`, weighted by population."""
    return rng.choice(len(TOWN_CODES), size=n, p=_TOWN_P)


def town_codes(towns: np.ndarray) -> pa.Array:
    return pa.array(TOWN_CODES, pa.string()).take(pa.array(towns))


def addresses(rng: np.random.Generator, towns: np.ndarray, *, homes: bool = True) -> pa.StringArray:
    """上海市松江区 + town + road + number [+ 弄/号/室 for homes], on a road of that town."""
    n = len(towns)
    roads_per_town = [TOWN_PLACES[c][3] for c in TOWN_CODES]
    counts = np.array([len(r) for r in roads_per_town])
    starts = np.r_[0, np.cumsum(counts)[:-1]]
    table = pa.array([road for roads in roads_per_town for road in roads], pa.string())
    road = table.take(pa.array(starts[towns] + (rng.random(n) * counts[towns]).astype(np.int64)))
    town = pa.array(list(SONGJIANG_TOWNS.values()), pa.string()).take(pa.array(towns))
    number = pc.cast(pa.array(rng.integers(1, 1200, n)), pa.string())
    parts = [pa.array(["上海市松江区"] * n), town, road, number]
    if homes:
        building = pc.cast(pa.array(rng.integers(1, 40, n)), pa.string())
        room = pc.cast(pa.array(rng.integers(1, 30, n) * 100 + rng.integers(1, 5, n)), pa.string())
        parts += [pa.array(["弄"] * n), building, pa.array(["号"] * n), room, pa.array(["室"] * n)]
    else:
        parts.append(pa.array(["号"] * n))
    return _join(*parts)


def postal_codes(towns: np.ndarray) -> pa.Array:
    return pa.array([TOWN_PLACES[c][0] for c in TOWN_CODES], pa.string()).take(pa.array(towns))


def coordinates(
    rng: np.random.Generator, towns: np.ndarray, *, spread: float = 0.012
) -> tuple[np.ndarray, np.ndarray]:
    """(longitude, latitude) scattered around each town's centre, rounded to 6 decimals (≈0.1 m)."""
    centres = np.array([TOWN_PLACES[c][1:3] for c in TOWN_CODES])
    lon = centres[towns, 0] + rng.normal(0, spread, len(towns))
    lat = centres[towns, 1] + rng.normal(0, spread, len(towns))
    return np.round(lon, 6), np.round(lat, 6)
