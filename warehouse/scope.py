"""What an agency's analysts may reach (Measures §14), as data: the tables of a workspace.

A `WorkspaceScope` lists `ScopedTable`s: one resource's snapshot files, the fields that may leave it and the rows, each
with the basis it is reached on — the agency's own data, a base resource shared unconditionally, or a grant (with the
grant's ids and purposes). Several tables of one resource (a base share and a grant, two grants) are merged by the
workspace builder cell by cell: a value is visible when some table grants its field *and* its row.

Row filters are structured, never SQL text: conditions `field in [values]` and `field between low and high`, combined
with AND, checked against the catalog's field names and types and compiled here with quoted literals.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Any

from govhub.catalog.model import Catalog, FieldType, Resource, ShareType
from govhub.config import Settings
from govhub.problems import GovhubError, Problem
from govhub.warehouse.diff import quote
from govhub.warehouse.snapshots import current_snapshot_id, ensure_initial, resource_paths

Scalar = str | int | float | Decimal | dt.date | dt.datetime
IDENTIFIER = re.compile(r"^[a-z][a-z0-9_]*$")  # the catalog's SLUG: agencies, resources, fields
MAX_DIGITS = 38  # a number filter's magnitude: DuckDB's widest DECIMAL

# Python types a field of each catalog type accepts as a filter value (bool is an int: refused explicitly).
_ACCEPTS: dict[FieldType, tuple[type, ...]] = {
    FieldType.STRING: (str,),
    FieldType.INTEGER: (int,),
    FieldType.NUMBER: (int, float, Decimal),
    FieldType.DATE: (dt.date,),
    FieldType.DATETIME: (dt.datetime, dt.date),
    FieldType.BOOLEAN: (),  # a yes/no field is not a row filter
}


class Basis(StrEnum):
    """Why a workspace holds a table."""

    OWN = "own"  # 本单位资源
    BASE = "base"  # 基础资源（普遍共享）
    GRANT = "grant"  # 共享授权

    @property
    def label(self) -> str:
        return {"own": "本单位资源", "base": "基础资源（普遍共享）", "grant": "共享授权"}[self.value]


def _scope_error(code: str, message_zh: str, **where: Any) -> GovhubError:
    return GovhubError(Problem(code=code, message_zh=message_zh, **where))


def check_identifier(name: str, what: str = "名称") -> str:
    """An agency, resource or field name as the catalog spells it; anything else is refused before it meets SQL."""
    if not isinstance(name, str) or not IDENTIFIER.match(name):
        raise _scope_error("scope.bad_identifier", f"{what}“{name}”不合法（应为小写字母、数字和下划线）")
    return name


def literal(value: Scalar) -> str:
    """A typed SQL literal; strings have their quotes doubled (DuckDB has no backslash escapes)."""
    if isinstance(value, bool):
        raise _scope_error("scope.bad_value", f"筛选值不能是布尔值：{value}")
    if isinstance(value, str):
        if "\x00" in value:
            raise _scope_error("scope.bad_value", "筛选值含有空字符")
        return "'" + value.replace("'", "''") + "'"
    if isinstance(value, dt.datetime):
        return f"TIMESTAMP '{value.replace(tzinfo=None).isoformat(sep=' ')}'"
    if isinstance(value, dt.date):
        return f"DATE '{value.isoformat()}'"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float | Decimal):
        if isinstance(value, float) and not math.isfinite(value):
            raise _scope_error("scope.bad_value", f"筛选值不是有限数：{value}")
        if isinstance(value, Decimal) and (not value.is_finite() or abs(value.adjusted()) > MAX_DIGITS):
            # NaN/Infinity are no SQL literal; "1E+999999999" would be written out as a billion digits
            raise _scope_error("scope.bad_value", f"筛选值不是有限数或位数过多：{value}")
        return repr(float(value)) if isinstance(value, float) else f"{value:f}"
    raise _scope_error("scope.bad_value", f"不支持的筛选值类型：{type(value).__name__}")


@dataclass(frozen=True)
class InValues:
    """`field in [values]`."""

    field: str
    values: tuple[Scalar, ...]

    def sql(self) -> str:
        if not self.values:
            return "false"  # an empty list admits no row
        return f"{quote(self.field)} IN ({', '.join(literal(v) for v in self.values)})"

    def to_dict(self) -> dict[str, Any]:
        return {"field": self.field, "in": [_plain(v) for v in self.values]}


@dataclass(frozen=True)
class Between:
    """`field between low and high` (both ends included)."""

    field: str
    low: Scalar
    high: Scalar

    def sql(self) -> str:
        return f"{quote(self.field)} BETWEEN {literal(self.low)} AND {literal(self.high)}"

    def to_dict(self) -> dict[str, Any]:
        return {"field": self.field, "between": [_plain(self.low), _plain(self.high)]}


Condition = InValues | Between


def _implies(narrow: Condition, wide: Condition) -> bool:
    """Whether every row `narrow` admits, `wide` admits too (values of one field, converted to its catalog type)."""
    if narrow.field != wide.field:
        return False
    try:
        if isinstance(wide, InValues):
            return isinstance(narrow, InValues) and set(narrow.values) <= set(wide.values)
        if isinstance(narrow, InValues):
            return all(wide.low <= v <= wide.high for v in narrow.values)  # type: ignore[operator]
        return wide.low <= narrow.low and narrow.high <= wide.high  # type: ignore[operator]
    except TypeError:  # values of different types: not shown to be inside
        return False


def _plain(value: Scalar) -> Any:
    return (
        value.isoformat()
        if isinstance(value, dt.date)
        else str(value)
        if isinstance(value, Decimal)
        else value
    )


@dataclass(frozen=True)
class RowFilter:
    """Conditions combined with AND; no condition = every row."""

    conditions: tuple[Condition, ...] = ()

    @property
    def everything(self) -> bool:
        return not self.conditions

    @property
    def fields(self) -> list[str]:
        return [c.field for c in self.conditions]

    def sql(self) -> str:
        """The compiled predicate (`true` for no condition)."""
        for c in self.conditions:
            check_identifier(c.field, "信息项")
        return " AND ".join(f"({c.sql()})" for c in self.conditions) or "true"

    def to_list(self) -> list[dict[str, Any]]:
        return [c.to_dict() for c in self.conditions]

    def widens(self, asked: RowFilter) -> list[str]:
        """The fields of `asked`'s conditions that this filter does not keep (so it may admit rows `asked` does not):
        every condition asked for must be implied by one of these on the same field — values among those asked, a
        range inside the range asked. Conditions on further fields only narrow."""
        return [a.field for a in asked.conditions if not any(_implies(c, a) for c in self.conditions)]

    @classmethod
    def parse(cls, resource: Resource, items: Iterable[Mapping[str, Any]]) -> RowFilter:
        """A filter from plain data (`{"field": f, "in": [...]}` / `{"field": f, "between": [lo, hi]}`), values
        converted to the field's catalog type (ISO text for dates): the form grants are stored in."""
        conditions: list[Condition] = []
        for item in items:
            # stored data from elsewhere (found by fuzz_row_filter: a bare string)
            if not isinstance(item, Mapping):
                raise _scope_error("scope.bad_condition", f"筛选条件应为“信息项 + in/between”：{item!r:.200}")
            name = str(item.get("field", ""))
            kind = _field_type(resource, name)
            if "in" in item and isinstance(item["in"], list | tuple):
                conditions.append(InValues(name, tuple(_coerce(resource, kind, name, v) for v in item["in"])))
            elif (
                "between" in item and isinstance(item["between"], list | tuple) and len(item["between"]) == 2
            ):
                low, high = (_coerce(resource, kind, name, v) for v in item["between"])
                if low > high:  # no row could match: a grant of nothing, or a typo
                    raise _scope_error("scope.bad_condition", f"筛选条件 {name} between 的下限 {low} 大于上限 {high}",
                                       field=name)  # fmt: skip
                conditions.append(Between(name, low, high))
            else:
                raise _scope_error(
                    "scope.bad_condition", f"筛选条件应为 in 或 between（两个值）：{dict(item)}", field=name
                )
        return checked_filter(resource, cls(tuple(conditions)))


def _field_type(resource: Resource, name: str) -> FieldType:
    try:
        return resource.field(name).type
    except KeyError:
        raise _scope_error(
            "scope.unknown_field",
            f"资源“{resource.name}”（{resource.agency}/{resource.id}）没有信息项“{name}”",
            field=name,
        ) from None


_INTEGER = re.compile(r"^[+-]?[0-9]{1,38}$")


def _coerce(resource: Resource, kind: FieldType, name: str, value: Any) -> Scalar:
    """A filter value as the field's catalog type: text as people type it (the CLI, the portal, stored JSON) read
    as a date, a time, an integer or a number; a time with a UTC offset as Beijing wall-clock time, as the hub
    stores times (no offset), so times written either way compare."""
    try:
        if kind is FieldType.DATE and isinstance(value, str):
            return dt.date.fromisoformat(value)
        if kind is FieldType.DATETIME and isinstance(value, str | dt.date):
            return _wall_clock(dt.datetime.fromisoformat(value) if isinstance(value, str) else value)
        if kind is FieldType.INTEGER and isinstance(value, str):
            if not _INTEGER.match(value.strip()):
                raise ValueError(value)
            return int(value.strip())
        if kind is FieldType.NUMBER and isinstance(value, str):
            return Decimal(value)
    except (ValueError, ArithmeticError):  # Decimal("1,5") raises InvalidOperation, an ArithmeticError
        raise _scope_error(
            "scope.bad_value", f"信息项“{name}”的筛选值“{value}”无法识别为{kind.label_zh}", field=name
        ) from None
    return value


def _kind_of(value: Any) -> str:
    """What a filter value is, named as the field types are (文本, 整数, …)."""
    kinds = ((bool, FieldType.BOOLEAN), (str, FieldType.STRING), (int, FieldType.INTEGER),
             (dt.datetime, FieldType.DATETIME), (dt.date, FieldType.DATE), (float | Decimal, FieldType.NUMBER))  # fmt: skip
    return next((kind.label_zh for python, kind in kinds if isinstance(value, python)), "其他")


def _wall_clock(value: dt.date) -> dt.datetime:
    """A date or time as Beijing wall-clock time without an offset (a date: its midnight). A time with an offset
    is that instant: "…T00:00Z" is 08:00 in the hub — in grants stored before this rule too, which now cover the
    instant their provider wrote down."""
    from govhub.clock import BEIJING

    if not isinstance(value, dt.datetime):
        return dt.datetime.combine(value, dt.time())
    return value.astimezone(BEIJING).replace(tzinfo=None) if value.tzinfo is not None else value


def checked_filter(resource: Resource, row_filter: RowFilter) -> RowFilter:
    """The filter, once every field is one of the resource's and every value fits its type."""
    for c in row_filter.conditions:
        kind = _field_type(resource, c.field)
        values = c.values if isinstance(c, InValues) else (c.low, c.high)
        for v in values:
            if isinstance(v, bool) or not isinstance(v, _ACCEPTS[kind]):
                raise _scope_error(
                    "scope.bad_value",
                    f"信息项“{c.field}”（{kind.label_zh}）不能按{_kind_of(v)}值“{v}”筛选",
                    field=c.field,
                )
            literal(v)  # refuses NaN, NUL…
    return row_filter


def checked_input(resource: Resource, row_filter: RowFilter) -> RowFilter:
    """The rules for rows people ask for or grant now (a request, an answer, a decision), beyond what any stored
    filter must satisfy: a grant approved earlier stays readable whatever these say (its empty list admits no row,
    an enum value removed since matches none) — one such grant must not break its agency's whole scope."""
    for c in row_filter.conditions:
        if not isinstance(c, InValues):
            continue
        if not c.values:  # no row could match: a grant of nothing, or values lost on the way
            raise _scope_error("scope.bad_condition", f"筛选条件 {c.field} in 没有给出任何值", field=c.field)
        allowed = resource.field(c.field).enum
        unknown = [str(v)[:50] for v in c.values if allowed and v not in allowed][:10]
        if unknown:
            raise _scope_error("scope.bad_value", f"信息项“{c.field}”的取值只能是"
                               f"{'、'.join(map(str, allowed or []))}，没有“{'、'.join(unknown)}”", field=c.field)  # fmt: skip
    return row_filter


@dataclass(frozen=True)
class SnapshotSource:
    """The Parquet files of one published snapshot (immutable: read by id, not through `current`)."""

    snapshot_id: str
    files: tuple[Path, ...]


def current_source(settings: Settings, resource: Resource) -> SnapshotSource:
    """The current snapshot of a resource; a resource never delivered gets its empty initial snapshot first."""
    snapshot_id = current_snapshot_id(settings, resource) or ensure_initial(settings, resource)
    folder = resource_paths(settings, resource).snapshot(snapshot_id)
    return SnapshotSource(snapshot_id, tuple(sorted(folder.glob("*.parquet"))))


@dataclass(frozen=True)
class ScopedTable:
    """One resource as a workspace may hold it: which fields, which rows, from which snapshot, on what basis."""

    agency: str
    resource: str
    columns: tuple[str, ...]
    source: SnapshotSource
    row_filter: RowFilter = RowFilter()
    basis: Basis = Basis.OWN
    grant_ids: tuple[str, ...] = ()
    purposes: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        """`agency.resource`: the name the table has in hub.duckdb and in every workspace."""
        return f"{self.agency}.{self.resource}"


def scoped_table(
    resource: Resource,
    source: SnapshotSource,
    *,
    columns: Sequence[str] | None = None,
    row_filter: RowFilter | None = None,
    basis: Basis = Basis.OWN,
    grant_ids: Sequence[str] = (),
    purposes: Sequence[str] = (),
) -> ScopedTable:
    """A `ScopedTable` checked against the catalog: every column and filter field is one of the resource's fields
    (`columns=None`: all of them, in catalog order)."""
    names = resource.field_names
    wanted = list(names if columns is None else columns)
    for c in wanted:
        if c not in names:
            _field_type(resource, c)  # raises the catalog's message
    if not wanted:
        raise _scope_error("scope.no_columns", f"资源“{resource.name}”未授予任何信息项")
    return ScopedTable(
        agency=check_identifier(resource.agency, "部门"),
        resource=check_identifier(resource.id, "资源"),
        columns=tuple(sorted(set(wanted), key=names.index)),
        source=source,
        row_filter=checked_filter(resource, row_filter or RowFilter()),
        basis=basis,
        grant_ids=tuple(grant_ids),
        purposes=tuple(purposes),
    )


@dataclass(frozen=True)
class WorkspaceScope:
    """Everything one agency's analysts may reach."""

    agency: str
    tables: tuple[ScopedTable, ...] = field(default_factory=tuple)

    def with_tables(self, *tables: ScopedTable) -> WorkspaceScope:
        """This scope plus more tables (grants merged in); a resource may appear more than once."""
        return WorkspaceScope(self.agency, self.tables + tuple(tables))

    def by_resource(self) -> dict[tuple[str, str], list[ScopedTable]]:
        groups: dict[tuple[str, str], list[ScopedTable]] = {}
        for t in self.tables:
            groups.setdefault((t.agency, t.resource), []).append(t)
        return groups


def shared_fields(resource: Resource) -> list[str]:
    """Fields whose effective share type is unconditional: a field's own `share` overrides the resource's."""
    return [f.name for f in resource.fields if (f.share or resource.share.type) is ShareType.UNCONDITIONAL]


def base_scope(settings: Settings, catalog: Catalog, agency: str) -> WorkspaceScope:
    """What an agency reaches without any grant (§14): all of its own resources with every field, and other
    agencies' base resources (人口, 法人, 房屋, 空间地理) shared unconditionally — only their unconditional fields
    (a not-shared field never leaves its agency)."""
    if agency not in catalog.agencies:
        raise _scope_error("scope.unknown_agency", f"目录中没有部门“{agency}”")
    tables = []
    for resource in catalog.resources:
        if resource.agency == agency:
            tables.append(scoped_table(resource, current_source(settings, resource), basis=Basis.OWN))
        elif (
            resource.resource_class.is_base
            and resource.status.in_force
            and resource.share.type is ShareType.UNCONDITIONAL
            and (columns := shared_fields(resource))
        ):
            source = current_source(settings, resource)
            tables.append(scoped_table(resource, source, columns=columns, basis=Basis.BASE))
    return WorkspaceScope(check_identifier(agency, "部门"), tuple(tables))
