"""The resources the benchmarks load, built in code: the demo catalog has no 10-column resource holding ID
numbers, USCCs and dates together, which is the shape issue 5 asks W1 to measure."""

from __future__ import annotations

from govhub.catalog.model import Agency, Catalog, Resource, Steward

AGENCY = "bench"
# 10 fields: ID number (key), name, sex, birth date, employer USCC, mobile, town code, registration date, wage, update
PEOPLE_FIELDS = [
    {"name": "id_number", "label": "公民身份号码", "semantic": "cn_id", "required": True},
    {"name": "name", "label": "姓名", "semantic": "person_name", "required": True, "max_length": 30},
    {"name": "sex", "label": "性别", "semantic": "enum", "enum": ["男", "女"], "required": True},
    {"name": "birth_date", "label": "出生日期", "type": "date", "semantic": "date", "required": True},
    {"name": "employer_uscc", "label": "就业单位统一社会信用代码", "semantic": "uscc", "required": True},
    {"name": "mobile", "label": "联系电话", "semantic": "mobile"},
    {"name": "town_code", "label": "所属街镇代码", "semantic": "admin_division", "required": True},
    {"name": "registered_on", "label": "登记日期", "type": "date", "semantic": "date"},
    {
        "name": "monthly_wage",
        "label": "月工资",
        "type": "number",
        "semantic": "amount",
        "min": 0,
        "max": 1000000,
    },
    {"name": "updated_at", "label": "更新时间", "type": "datetime", "semantic": "datetime", "required": True},
]


def people_resource(
    resource_id: str = "jyry",
    *,
    agency: str = AGENCY,
    method: str = "sheet",
    api_url: str | None = None,
    page_size: int = 1000,
) -> Resource:
    """就业人员登记 (employed persons): the benchmark resource, delivered by sheet or by a paged API."""
    delivery: dict = {"method": method}
    if method == "sheet":
        delivery["sheet"] = {"formats": ["xlsx", "csv"], "encoding": "auto"}
    elif method == "api":
        delivery["api"] = {
            "url": api_url or "http://127.0.0.1:1/api/bench/jyry",
            "records_path": "data",
            "pagination": {"style": "page", "page_size": page_size},
        }
    return Resource.model_validate(
        {
            "id": resource_id,
            "code": "101001001/900001",
            "name": "就业人员登记信息（基准测试）",
            "summary": "基准测试用资源：身份号码、就业单位信用代码、日期等10个信息项。",
            "agency": agency,
            "class": "population",
            "share": {"type": "conditional", "conditions": "基准测试"},
            "cycle": "daily",
            "delivery": delivery,
            "fields": PEOPLE_FIELDS,
            "primary_key": ["id_number"],
            "status": "published",
            "quality": {"max_bad_row_pct": 1, "min_rows_ratio": 0.5},
        }
    )


def agency(agency_id: str = AGENCY) -> Agency:
    return Agency(
        id=agency_id,
        name=f"基准测试单位{agency_id}",
        uscc="11310117MB0000000X",
        steward=Steward(name="基准", phone="021-57740000"),
    )


def bench_catalog(resources: list[Resource]) -> Catalog:
    """A catalog holding exactly these resources (for the hub views of W6)."""
    return Catalog(agencies={a: agency(a) for a in {r.agency for r in resources}}, resources=resources)
