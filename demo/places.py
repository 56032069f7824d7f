"""Songjiang's towns and streets (乡级行政区划), the roads addresses lie on, and where they are.

Embedded here (public facts, 统计用区划代码) so that neither the demo nor the quality checks read reference files at
run time. The valid 9-digit division codes themselves live in `govhub.divisions`.
"""

from __future__ import annotations

from govhub.divisions import SONGJIANG_DISTRICT, SONGJIANG_TOWNS  # noqa: F401  (re-exported for the demo)

# Per town: postal code, approximate centre (longitude, latitude, CGCS2000) and a few of its roads.
# Streets of the old town and the new city (新城) are the most populous, hence listed first.
TOWN_PLACES: dict[str, tuple[str, float, float, tuple[str, ...]]] = {
    "310117001": ("201600", 121.228, 31.006, ("中山中路", "人民南路", "乐都路", "西林南路", "荣乐中路")),
    "310117002": ("201600", 121.196, 31.012, ("玉树路", "西林北路", "荣乐西路", "松汇西路")),
    "310117003": ("201620", 121.219, 31.036, ("文诚路", "三新北路", "新松江路", "思贤路", "谷阳北路")),
    "310117004": ("201600", 121.256, 31.010, ("中山东路", "荣乐东路", "茸梅路", "松卫北路")),
    "310117005": ("201620", 121.206, 31.061, ("广富林路", "龙源路", "三新北路", "龙腾路")),
    "310117006": ("201615", 121.331, 31.128, ("沪亭北路", "九亭大街", "涞寅路")),
    "310117102": ("201601", 121.262, 31.120, ("泗陈公路", "江川北路", "鼓浪路")),
    "310117103": ("201602", 121.192, 31.098, ("外青松公路", "佘天昆公路", "林荫新路")),
    "310117104": ("201611", 121.310, 30.998, ("车亭公路", "北松公路", "虬长路")),
    "310117105": ("201612", 121.321, 31.058, ("新南路", "春九路", "新格路")),
    "310117106": ("201619", 121.236, 31.092, ("沈砖公路", "洞薛路", "长兴东路")),
    "310117107": ("201615", 121.321, 31.136, ("沪亭南路", "九新公路", "涞寅路")),
    "310117109": ("201607", 121.151, 30.953, ("叶新公路", "中南路")),
    "310117116": ("201617", 121.131, 30.981, ("新姚路", "叶新公路")),
    "310117117": ("201605", 121.055, 30.948, ("胡曹路", "新浜镇中心路")),
    "310117120": ("201609", 121.283, 30.933, ("叶旺路", "叶新公路")),
    "310117121": ("201614", 121.121, 31.040, ("玉阳路", "文翔路")),
    "310117501": ("201613", 121.262, 31.030, ("荣乐东路", "民益路", "联阳路")),
    "310117504": ("201602", 121.182, 31.090, ("林湖路", "林荫新路")),
    "310117507": ("201611", 121.233, 30.992, ("沪松公路", "松汇中路")),
}

# Relative population weights of the towns (the new city and the eastern towns are the largest).
TOWN_WEIGHTS: dict[str, float] = {
    "310117001": 6,
    "310117002": 8,
    "310117003": 12,
    "310117004": 8,
    "310117005": 7,
    "310117006": 7,
    "310117102": 10,
    "310117103": 5,
    "310117104": 7,
    "310117105": 8,
    "310117106": 4,
    "310117107": 12,
    "310117109": 2,
    "310117116": 2,
    "310117117": 2,
    "310117120": 3,
    "310117121": 2,
    "310117501": 1,
    "310117504": 0.5,
    "310117507": 0.5,
}

TOWN_CODES: tuple[str, ...] = tuple(SONGJIANG_TOWNS)


def town_short_name(code: str) -> str:
    """岳阳街道 → 岳阳, 泗泾镇 → 泗泾: how a school or clinic is named after its town."""
    name = SONGJIANG_TOWNS[code]
    for suffix in ("街道", "镇"):
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name.removeprefix("上海")
