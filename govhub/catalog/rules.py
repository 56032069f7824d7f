"""The rules a catalog must keep beyond its schema (§7–§10), each stated in plain words."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from govhub.catalog.model import (
    Catalog,
    DeliveryMethod,
    FieldType,
    Resource,
    ResourceClass,
    SemanticType,
    ShareType,
)
from govhub.identifiers import uscc_problem

if TYPE_CHECKING:
    pass

# 类(1) 项(2) 目(3) [细目(3)] / 顺序码(6), e.g. 101001001/000001
RESOURCE_CODE = re.compile(r"^(\d)(\d{2})(\d{3})(\d{3})?/(\d{6})$")

# Storage types a semantic type is compatible with.
_SEMANTIC_TYPES: dict[SemanticType, set[FieldType]] = {
    SemanticType.CN_ID: {FieldType.STRING},
    SemanticType.USCC: {FieldType.STRING},
    SemanticType.ADMIN_DIVISION: {FieldType.STRING},
    SemanticType.PHONE: {FieldType.STRING},
    SemanticType.MOBILE: {FieldType.STRING},
    SemanticType.EMAIL: {FieldType.STRING},
    SemanticType.POSTAL_CODE: {FieldType.STRING},
    SemanticType.DATE: {FieldType.DATE},
    SemanticType.DATETIME: {FieldType.DATETIME},
    SemanticType.LONGITUDE: {FieldType.NUMBER},
    SemanticType.LATITUDE: {FieldType.NUMBER},
    SemanticType.AMOUNT: {FieldType.NUMBER, FieldType.INTEGER},
}


def _resource_rules(r: Resource) -> Iterator[tuple[str, str]]:
    """(element, message) for each rule a single resource breaks."""
    m = RESOURCE_CODE.match(r.code)
    if not m:
        yield (
            "code",
            f"“{r.code}”不是“类项目[细目]/顺序码”形式的资源代码（如 101001001/000001）",
        )
    elif not (r.code.startswith(r.resource_class.code_digits)):
        yield (
            "code",
            f"{r.resource_class.label}（{r.resource_class.value}）的资源代码应以 {r.resource_class.code_digits} 开头，"
            f"而不是 {r.code[:3]}",
        )

    if r.share.type is ShareType.CONDITIONAL and not (r.share.conditions or "").strip():
        yield "share.conditions", "按需共享的资源须写明共享条件"
    if r.share.type is ShareType.NOT_SHARED and not (r.share.legal_basis or "").strip():
        yield (
            "share.legal_basis",
            "不共享的资源须写明禁止共享的法律、法规或规章依据",
        )

    names = [f.name for f in r.fields]
    if not r.fields:
        yield "fields", "资源至少要有一个信息项"
    seen: set[str] = set()
    for i, f in enumerate(r.fields):
        if f.name in seen:
            yield f"fields[{i}].name", f"信息项名称“{f.name}”重复"
        seen.add(f.name)
        if f.semantic is SemanticType.ENUM and not f.enum:
            yield f"fields[{i}].enum", f"信息项“{f.name}”的语义类型为枚举（enum），但没有列出可选值"
        allowed = _SEMANTIC_TYPES.get(f.semantic) if f.semantic else None
        if allowed and f.type not in allowed:
            yield (
                f"fields[{i}].type",
                f"信息项“{f.name}”的语义类型为 {f.semantic.value}，数据类型应为 "
                f"{' 或 '.join(sorted(t.value for t in allowed))}，而不是 {f.type.value}",
            )
        if f.share and f.share.openness > r.share.type.openness:
            yield (
                f"fields[{i}].share",
                f"信息项“{f.name}”的共享范围（{f.share.value}）不能比所属资源（{r.share.type.value}）更宽",
            )
        if f.min is not None and f.max is not None and f.min > f.max:
            yield f"fields[{i}].min", f"信息项“{f.name}”的最小值 {f.min} 大于最大值 {f.max}"
        if f.pattern:
            try:
                re.compile(f.pattern)
            except (
                re.error,
                OverflowError,
                RecursionError,
            ) as exc:  # a{99999999999}: OverflowError (fuzz_catalog)
                yield f"fields[{i}].pattern", f"信息项“{f.name}”的格式规则（正则表达式）有误：{exc}"

    if not r.primary_key:
        yield "primary_key", "资源须有主键（一个或多个信息项），用于识别数据变化"
    for i, k in enumerate(r.primary_key):
        if k not in names:
            yield f"primary_key[{i}]", f"主键中的“{k}”不是本资源的信息项（信息项：{'、'.join(names)}）"
        elif not r.field(k).required:
            yield f"primary_key[{i}]", f"主键信息项“{k}”必须为必填"

    method = r.delivery.method
    section = {DeliveryMethod.API: r.delivery.api, DeliveryMethod.DATABASE: r.delivery.database}.get(method)
    if method is not DeliveryMethod.SHEET and section is None:
        yield (
            f"delivery.{method.value}",
            f"汇聚方式 {method.value} 须在 delivery.{method.value} 下填写连接设置",
        )
    db = r.delivery.database
    if method is DeliveryMethod.DATABASE and db is not None and not (db.table or db.query):
        yield "delivery.database.table", "数据库汇聚须写明表名（table）或查询语句（query）"
    api = r.delivery.api
    if (
        method is DeliveryMethod.API
        and api is not None
        and api.incremental_field
        and api.incremental_field not in names
    ):
        yield (
            "delivery.api.incremental_field",
            f"增量字段“{api.incremental_field}”不是本资源的信息项",
        )
    if method is DeliveryMethod.SHEET and r.delivery.sheet is not None:
        bad_formats = set(r.delivery.sheet.formats) - {"xlsx", "csv"}
        if bad_formats:
            yield (
                "delivery.sheet.formats",
                f"不支持的表格格式 {'、'.join(sorted(bad_formats))}；可选：xlsx、csv",
            )

    if r.published_on and r.changed_on and r.changed_on < r.published_on:
        yield "changed_on", f"最近变更日期（{r.changed_on}）早于首次发布日期（{r.published_on}）"
    if r.resource_class is ResourceClass.THEMATIC and r.code.startswith("1"):
        yield "class", "以1开头的代码属于基础资源；主题资源的代码应以2开头"


def check_catalog(catalog: Catalog, problem: Callable[..., Any]) -> list[Any]:
    """Rules across the whole catalog plus each resource's own rules, as `problem(file, resource, element, message)`."""
    out = []
    for i, a in enumerate(catalog.agencies.values()):
        why = uscc_problem(a.uscc)
        if why:
            out.append(
                problem(
                    "agencies.yaml",
                    "-",
                    f"agencies[{i}].uscc",
                    f"机构 {a.id} 的统一社会信用代码“{a.uscc}”有误：{why}",
                )
            )

    by_code: dict[str, str] = {}
    by_key: dict[tuple[str, str], str] = {}
    for r in catalog.resources:
        file = str(r.source_file.relative_to(r.source_file.parent.parent)) if r.source_file else "-"
        for element, message in _resource_rules(r):
            out.append(problem(file, r.code, element, message))
        if r.agency not in catalog.agencies:
            out.append(
                problem(
                    file,
                    r.code,
                    "agency",
                    f"机构“{r.agency}”不在 agencies.yaml 中",
                )
            )
        elif r.source_file and r.source_file.parent.name != r.agency:
            out.append(
                problem(
                    file,
                    r.code,
                    "agency",
                    f"机构“{r.agency}”的资源应放在文件夹“{r.agency}”中，而不是“{r.source_file.parent.name}”",
                )
            )
        if r.code in by_code:
            out.append(problem(file, r.code, "code", f"资源代码 {r.code} 已被 {by_code[r.code]} 使用"))
        by_code.setdefault(r.code, file)
        if r.key in by_key:
            out.append(
                problem(
                    file,
                    r.code,
                    "id",
                    f"资源标识“{r.id}”在机构 {r.agency} 中重复（另见 {by_key[r.key]}）",
                )
            )
        by_key.setdefault(r.key, file)
    return out
