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
            f"{r.code!r} is not a resource code of the form 类项目[细目]/顺序码, e.g. 101001001/000001",
        )
    elif not (r.code.startswith(r.resource_class.code_digits)):
        yield (
            "code",
            f"class {r.resource_class.value} ({r.resource_class.label}) needs a code starting with "
            f"{r.resource_class.code_digits}, not {r.code[:3]}",
        )

    if r.share.type is ShareType.CONDITIONAL and not (r.share.conditions or "").strip():
        yield "share.conditions", "a conditional (按需共享) resource must state its sharing conditions"
    if r.share.type is ShareType.NOT_SHARED and not (r.share.legal_basis or "").strip():
        yield (
            "share.legal_basis",
            "a not-shared (不共享) resource must cite the law, regulation or rule that forbids sharing",
        )

    names = [f.name for f in r.fields]
    if not r.fields:
        yield "fields", "a resource needs at least one field"
    seen: set[str] = set()
    for i, f in enumerate(r.fields):
        if f.name in seen:
            yield f"fields[{i}].name", f"field name {f.name!r} is used twice"
        seen.add(f.name)
        if f.semantic is SemanticType.ENUM and not f.enum:
            yield f"fields[{i}].enum", f"field {f.name!r} has semantic type enum but lists no values"
        allowed = _SEMANTIC_TYPES.get(f.semantic) if f.semantic else None
        if allowed and f.type not in allowed:
            yield (
                f"fields[{i}].type",
                f"field {f.name!r} of semantic type {f.semantic.value} must be "
                f"{' or '.join(sorted(t.value for t in allowed))}, not {f.type.value}",
            )
        if f.share and f.share.openness > r.share.type.openness:
            yield (
                f"fields[{i}].share",
                f"field {f.name!r} cannot be shared more widely ({f.share.value}) than its resource ({r.share.type.value})",
            )
        if f.min is not None and f.max is not None and f.min > f.max:
            yield f"fields[{i}].min", f"field {f.name!r} has min {f.min} greater than max {f.max}"
        if f.pattern:
            try:
                re.compile(f.pattern)
            except re.error as exc:
                yield f"fields[{i}].pattern", f"field {f.name!r} has an invalid regular expression: {exc}"

    if not r.primary_key:
        yield "primary_key", "a resource needs a primary key (one or more fields) for change detection"
    for i, k in enumerate(r.primary_key):
        if k not in names:
            yield f"primary_key[{i}]", f"primary key names unknown field {k!r}; fields are {', '.join(names)}"
        elif not r.field(k).required:
            yield f"primary_key[{i}]", f"primary key field {k!r} must be required"

    method = r.delivery.method
    section = {DeliveryMethod.API: r.delivery.api, DeliveryMethod.DATABASE: r.delivery.database}.get(method)
    if method is not DeliveryMethod.SHEET and section is None:
        yield (
            f"delivery.{method.value}",
            f"delivery method {method.value} needs its connection settings under delivery.{method.value}",
        )
    db = r.delivery.database
    if method is DeliveryMethod.DATABASE and db is not None and not (db.table or db.query):
        yield "delivery.database.table", "a database delivery names a table or a query"
    api = r.delivery.api
    if (
        method is DeliveryMethod.API
        and api is not None
        and api.incremental_field
        and api.incremental_field not in names
    ):
        yield (
            "delivery.api.incremental_field",
            f"incremental field {api.incremental_field!r} is not a field of the resource",
        )
    if method is DeliveryMethod.SHEET and r.delivery.sheet is not None:
        bad_formats = set(r.delivery.sheet.formats) - {"xlsx", "csv"}
        if bad_formats:
            yield (
                "delivery.sheet.formats",
                f"unknown sheet format(s) {sorted(bad_formats)}; allowed: xlsx, csv",
            )

    if r.published_on and r.changed_on and r.changed_on < r.published_on:
        yield "changed_on", f"last changed ({r.changed_on}) is before first published ({r.published_on})"
    if r.resource_class is ResourceClass.THEMATIC and r.code.startswith("1"):
        yield "class", "codes starting with 1 are base resources; a thematic resource starts with 2"


def check_catalog(catalog: Catalog, problem: Callable[..., Any]) -> list[Any]:
    """Rules across the whole catalog plus each resource's own rules, as `problem(file, resource, element, message)`."""
    out = []
    for i, a in enumerate(catalog.agencies.values()):
        why = uscc_problem(a.uscc)
        if why:
            out.append(
                problem("agencies.yaml", "-", f"agencies[{i}].uscc", f"agency {a.id} USCC {a.uscc!r}: {why}")
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
                    f"unknown agency {r.agency!r}; agencies are listed in agencies.yaml",
                )
            )
        elif r.source_file and r.source_file.parent.name != r.agency:
            out.append(
                problem(
                    file,
                    r.code,
                    "agency",
                    f"resource of agency {r.agency!r} lies in folder {r.source_file.parent.name!r}",
                )
            )
        if r.code in by_code:
            out.append(
                problem(file, r.code, "code", f"resource code {r.code} is also used by {by_code[r.code]}")
            )
        by_code.setdefault(r.code, file)
        if r.key in by_key:
            out.append(
                problem(
                    file,
                    r.code,
                    "id",
                    f"resource id {r.id!r} is used twice in agency {r.agency} ({by_key[r.key]})",
                )
            )
        by_key.setdefault(r.key, file)
    return out
