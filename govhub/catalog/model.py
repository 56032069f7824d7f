"""The resource catalog (资源目录, Measures §7–§10) as typed models.

One YAML file per agency list (`catalog/agencies.yaml`) and one per resource (`catalog/<agency>/<resource>.yaml`).
Everything downstream — assets, checks, schedules, templates, grants — is built from these models.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Mapping
from enum import StrEnum
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr

SLUG = r"^[a-z][a-z0-9_]*$"


class ResourceClass(StrEnum):
    """§7: base resources (基础资源类) and thematic resources (行业专题资源类)."""

    POPULATION = "population"  # 人口
    LEGAL_ENTITY = "legal_entity"  # 法人
    HOUSING = "housing"  # 房屋
    SPATIAL = "spatial"  # 空间地理
    THEMATIC = "thematic"  # 行业专题

    @property
    def is_base(self) -> bool:
        return self is not ResourceClass.THEMATIC

    @property
    def label(self) -> str:
        return _CLASS_LABELS[self]

    @property
    def code_digits(self) -> str:
        """The 类+项 prefix (3 digits) a resource code of this class starts with."""
        return _CLASS_CODE_PREFIX[self]


_CLASS_LABELS = {
    ResourceClass.POPULATION: "基础·人口",
    ResourceClass.LEGAL_ENTITY: "基础·法人",
    ResourceClass.HOUSING: "基础·房屋",
    ResourceClass.SPATIAL: "基础·空间地理",
    ResourceClass.THEMATIC: "行业专题",
}
# GB/T 21063-style: 类 1 = base resources with 项 01..04; 类 2 = thematic resources (项 is the domain, any 2 digits).
_CLASS_CODE_PREFIX = {
    ResourceClass.POPULATION: "101",
    ResourceClass.LEGAL_ENTITY: "102",
    ResourceClass.HOUSING: "103",
    ResourceClass.SPATIAL: "104",
    ResourceClass.THEMATIC: "2",
}


class ShareType(StrEnum):
    """§8: 普遍共享 / 按需共享 / 不共享."""

    UNCONDITIONAL = "unconditional"
    CONDITIONAL = "conditional"
    NOT_SHARED = "not_shared"

    @property
    def label(self) -> str:
        return {"unconditional": "普遍共享", "conditional": "按需共享", "not_shared": "不共享"}[self.value]

    @property
    def openness(self) -> int:
        """How widely a share type lets data travel; a field may not travel wider than its resource."""
        return {"not_shared": 0, "conditional": 1, "unconditional": 2}[self.value]


class OpenAttribute(StrEnum):
    """开放属性: whether the resource may be opened to the public."""

    OPEN = "open"  # 无条件开放
    CONDITIONAL = "conditional"  # 有条件开放
    CLOSED = "closed"  # 不予开放


class UpdateCycle(StrEnum):
    """更新周期."""

    REALTIME = "realtime"  # 实时
    DAILY = "daily"  # 每日
    WEEKLY = "weekly"  # 每周
    MONTHLY = "monthly"  # 每月
    QUARTERLY = "quarterly"  # 每季度
    HALF_YEARLY = "half_yearly"  # 每半年
    YEARLY = "yearly"  # 每年
    IRREGULAR = "irregular"  # 不定期

    @property
    def label(self) -> str:
        return {
            "realtime": "实时",
            "daily": "每日",
            "weekly": "每周",
            "monthly": "每月",
            "quarterly": "每季度",
            "half_yearly": "每半年",
            "yearly": "每年",
            "irregular": "不定期",
        }[self.value]


class DeliveryMethod(StrEnum):
    """§11: interface exchange first (api, database), fill-in sheets otherwise."""

    API = "api"
    DATABASE = "database"
    SHEET = "sheet"

    @property
    def label(self) -> str:
        return {"api": "接口交换", "database": "数据库对接", "sheet": "填报"}[self.value]


class FieldType(StrEnum):
    STRING = "string"
    INTEGER = "integer"
    NUMBER = "number"
    BOOLEAN = "boolean"
    DATE = "date"
    DATETIME = "datetime"

    @property
    def label_zh(self) -> str:
        """As the fill-in templates and messages name it: 文本, 整数, 数字, 是/否, 日期, 日期时间."""
        return _FIELD_TYPE_ZH[self]


_FIELD_TYPE_ZH = {
    FieldType.STRING: "文本",
    FieldType.INTEGER: "整数",
    FieldType.NUMBER: "数字",
    FieldType.BOOLEAN: "是/否",
    FieldType.DATE: "日期",
    FieldType.DATETIME: "日期时间",
}


class SemanticType(StrEnum):
    """What a field's values mean, beyond their storage type; drives checks, templates and demo data."""

    CN_ID = "cn_id"  # 公民身份号码 (GB 11643)
    USCC = "uscc"  # 统一社会信用代码 (GB 32100)
    ADMIN_DIVISION = "admin_division"  # 行政区划代码 (6 or 9 digits)
    PHONE = "phone"  # 固定电话或手机
    MOBILE = "mobile"  # 手机号码
    EMAIL = "email"
    POSTAL_CODE = "postal_code"
    DATE = "date"
    DATETIME = "datetime"
    ENUM = "enum"  # values listed in `enum`
    PERSON_NAME = "person_name"
    ORG_NAME = "org_name"
    ADDRESS = "address"
    LONGITUDE = "longitude"
    LATITUDE = "latitude"
    AMOUNT = "amount"
    TEXT = "text"


class LifecycleStatus(StrEnum):
    """§10: draft → published → changed → published …; retired resources stay for history."""

    DRAFT = "draft"
    PUBLISHED = "published"
    CHANGED = "changed"
    RETIRED = "retired"

    @property
    def in_force(self) -> bool:
        """Published (or changed and awaiting re-publication): owed deliveries, exported, scored."""
        return self in (LifecycleStatus.PUBLISHED, LifecycleStatus.CHANGED)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, use_enum_values=False)


class Steward(_Model):
    """The person an agency designates for its catalog and sharing work (§10, §15)."""

    name: str
    phone: str | None = None
    email: str | None = None


class Agency(_Model):
    """行政机构: a provider and consumer of data resources."""

    id: str = Field(pattern=SLUG)
    name: str
    uscc: str
    steward: Steward
    short_name: str | None = None
    # the coordinating office (区科委, §5): runs the platform, reviews and coordinates; holds no resources of its own
    coordinator: bool = False

    @property
    def display_name(self) -> str:
        """How people name the agency on pages and in messages: its short name, else its full name."""
        return self.short_name or self.name


class CatalogField(_Model):
    """信息项: one column of a resource."""

    name: str = Field(pattern=SLUG)
    label: str
    type: FieldType = FieldType.STRING
    semantic: SemanticType | None = None
    required: bool = False
    enum: list[str] | None = None
    min: float | None = None
    max: float | None = None
    max_length: int | None = None
    pattern: str | None = None
    share: ShareType | None = None
    description: str | None = None


class ShareSpec(_Model):
    type: ShareType
    conditions: str | None = None
    legal_basis: str | None = None


class Pagination(_Model):
    """How an API pages: by page number, by offset, or by an opaque cursor returned with each page."""

    style: str = Field(pattern=r"^(page|offset|cursor)$")
    page_size: int = Field(default=1000, gt=0)
    page_param: str = "page"
    size_param: str = "page_size"
    offset_param: str = "offset"
    cursor_param: str = "cursor"
    next_cursor_path: str = "next_cursor"
    first_page: int = 1


class ApiDelivery(_Model):
    url: str
    records_path: str = "data"
    pagination: Pagination = Pagination(style="page")
    token_secret: str | None = None  # name looked up in $GOVHUB_SECRETS_FILE or the environment
    timeout_s: float = Field(default=30, gt=0)
    max_retries: int = Field(default=5, ge=0)
    incremental_field: str | None = None  # record field whose maximum becomes the next pull's cursor
    incremental_param: str = "updated_since"


class DatabaseDelivery(_Model):
    url: str  # any SQLAlchemy URL; ${VAR} expanded from the environment
    table: str | None = None
    query: str | None = None
    schema_name: str | None = Field(default=None, alias="schema")
    cursor_column: str | None = None  # update column for incremental pulls
    overlap_s: int = Field(default=300, ge=0)
    chunk_size: int = Field(default=50_000, gt=0)


class SheetDelivery(_Model):
    formats: list[str] = ["xlsx", "csv"]
    encoding: str = "auto"  # auto | utf-8 | utf-8-sig | gb18030 (gbk is read as gb18030)
    sheet_name: str | None = None
    header_row: int = Field(default=1, ge=1)


class Delivery(_Model):
    method: DeliveryMethod
    api: ApiDelivery | None = None
    database: DatabaseDelivery | None = None
    sheet: SheetDelivery | None = None


class FreshnessSettings(_Model):
    """When a period's delivery is owed (§11): its due date is the period's last day plus `grace_working_days` PRC
    working days; a feed is stale when the next period was missed too, or overdue by more than
    `stale_after_working_days` working days when that is set."""

    grace_working_days: int = Field(default=2, ge=0, le=60)
    stale_after_working_days: int | None = Field(default=None, ge=1, le=250)


class QualityPolicy(_Model):
    """What blocks publishing and what only warns (write, audit, publish)."""

    max_bad_row_pct: float = Field(default=0.0, ge=0, le=100)
    block_on_schema_mismatch: bool = True
    block_on_duplicate_keys: bool = True
    min_rows_ratio: float = Field(default=0.5, ge=0, le=1)  # a load far smaller than the last is an anomaly


class Resource(_Model):
    """信息资源: one catalog entry."""

    id: str = Field(pattern=SLUG)
    code: str
    name: str
    summary: str
    agency: str
    resource_class: ResourceClass = Field(alias="class")
    share: ShareSpec
    open: OpenAttribute = OpenAttribute.CLOSED
    cycle: UpdateCycle
    delivery: Delivery
    fields: list[CatalogField]
    primary_key: list[str]
    status: LifecycleStatus = LifecycleStatus.DRAFT
    published_on: dt.date | None = None
    changed_on: dt.date | None = None
    reviewed_on: dt.date | None = None
    quality: QualityPolicy = QualityPolicy()
    freshness: FreshnessSettings = FreshnessSettings()
    tags: list[str] = []

    _source: Path | None = PrivateAttr(default=None)

    @property
    def key(self) -> tuple[str, str]:
        """(agency, resource): the asset key and the hub path."""
        return (self.agency, self.id)

    @property
    def source_file(self) -> Path | None:
        return self._source

    def field(self, name: str) -> CatalogField:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)

    @property
    def field_names(self) -> list[str]:
        return [f.name for f in self.fields]

    @property
    def fingerprint(self) -> str:
        """A short hash of the elements a delivered file must match (fields and key): the template version."""
        shape = [(f.name, f.label, f.type.value, f.required, f.enum) for f in self.fields]
        blob = json.dumps({"fields": shape, "pk": self.primary_key}, ensure_ascii=False, sort_keys=True)
        return hashlib.sha256(blob.encode()).hexdigest()[:12]


class Catalog(_Model):
    agencies: dict[str, Agency]
    resources: list[Resource]

    def resource(self, ref: str) -> Resource:
        """Look a resource up by code, `agency/resource` key or bare id (when unique)."""
        for r in self.resources:
            if ref in (r.code, f"{r.agency}/{r.id}"):
                return r
        matches = [r for r in self.resources if r.id == ref]
        if len(matches) == 1:
            return matches[0]
        raise KeyError(f"no resource {ref!r} in the catalog")

    def of_agency(self, agency: str) -> list[Resource]:
        return [r for r in self.resources if r.agency == agency]

    @property
    def version(self) -> str:
        blob = "|".join(sorted(f"{r.code}:{r.fingerprint}" for r in self.resources))
        return hashlib.sha256(blob.encode()).hexdigest()[:12]


_ENV = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


def expand_env(value: str, variables: Mapping[str, str]) -> str:
    """Expand ${VAR} and ${VAR:-default} in connection settings from `variables` (`Settings.variables`: the
    environment as captured at the edge, the hub's own `govhub.yaml`, GOVHUB_HOME), so no host or path is baked into
    the catalog."""

    def sub(m: re.Match[str]) -> str:
        name, default = m.group(1), m.group(2)
        found = variables.get(name) or None
        if found is None and default is None:
            raise KeyError(f"variable {name} is not set (needed by {value!r})")
        return found if found is not None else default

    return _ENV.sub(sub, value)


def model_dump_yaml_ready(model: BaseModel) -> dict[str, Any]:
    """A model as plain data in catalog YAML spelling (aliases, enums as strings, no defaults)."""
    return model.model_dump(mode="json", by_alias=True, exclude_defaults=True, exclude_none=True)
