"""Administrative-division reference data the hub checks against (统计用区划代码, public facts, embedded so that
nothing reads reference files at run time). County-level codes come from python-stdnum; the district's own
9-digit town and street codes are listed here: `SONGJIANG_TOWNS` is the one table of them.
"""

from __future__ import annotations

SONGJIANG_DISTRICT = "310117"

SONGJIANG_TOWNS: dict[str, str] = {
    "310117001": "岳阳街道",
    "310117002": "永丰街道",
    "310117003": "方松街道",
    "310117004": "中山街道",
    "310117005": "广富林街道",
    "310117006": "九里亭街道",
    "310117102": "泗泾镇",
    "310117103": "佘山镇",
    "310117104": "车墩镇",
    "310117105": "新桥镇",
    "310117106": "洞泾镇",
    "310117107": "九亭镇",
    "310117109": "泖港镇",
    "310117116": "石湖荡镇",
    "310117117": "新浜镇",
    "310117120": "叶榭镇",
    "310117121": "小昆山镇",
    "310117501": "松江工业区",
    "310117504": "佘山度假区",
    "310117507": "上海松江出口加工区",
}
