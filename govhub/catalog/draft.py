"""System docking (系统对接, §9): draft catalog entries from an agency's database tables.

The platform reflects the tables (SQLAlchemy) and proposes fields, types, primary keys and semantic types; the elements
only the agency can decide — share type and conditions, update cycle, Chinese labels it has not commented — are left as
explicit TODOs, which validation refuses until they are filled.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import yaml

from govhub.catalog.model import FieldType, SemanticType
from govhub.identifiers import cn_id_problem, uscc_problem

SAMPLE_ROWS = 200

_NAME_HINTS: list[tuple[str, SemanticType]] = [
    (r"(id_?(card|number|no)|sfz|citizen_id|身份证)", SemanticType.CN_ID),
    (r"(uscc|credit_code|tyshxydm|信用代码)", SemanticType.USCC),
    (r"(mobile|sjhm|cellphone|手机)", SemanticType.MOBILE),
    (r"(phone|tel|dh|电话)", SemanticType.PHONE),
    (r"(division|xzqh|region_code|area_code|town_code|区划)", SemanticType.ADMIN_DIVISION),
    (r"(email|mail)", SemanticType.EMAIL),
    (r"(postcode|postal|zip|yzbm)", SemanticType.POSTAL_CODE),
    (r"(longitude|lng|lon$|经度)", SemanticType.LONGITUDE),
    (r"(latitude|lat$|纬度)", SemanticType.LATITUDE),
    (r"(address|addr|dz$|地址)", SemanticType.ADDRESS),
]

_VALUE_TESTS: list[tuple[SemanticType, Any]] = [
    (SemanticType.CN_ID, lambda v: len(v) == 18 and cn_id_problem(v) is None),
    (SemanticType.USCC, lambda v: len(v) == 18 and uscc_problem(v) is None),
    (SemanticType.MOBILE, lambda v: re.fullmatch(r"1[3-9]\d{9}", v) is not None),
    (SemanticType.ADMIN_DIVISION, lambda v: re.fullmatch(r"[1-6]\d{5}(\d{3})?", v) is not None),
]


def field_type(column_type: sa.types.TypeEngine[Any]) -> FieldType:
    """The catalog type for a reflected column type."""
    checks: list[tuple[type, FieldType]] = [
        (sa.Boolean, FieldType.BOOLEAN),
        (sa.DateTime, FieldType.DATETIME),
        (sa.Date, FieldType.DATE),
        (sa.Integer, FieldType.INTEGER),
        (sa.Numeric, FieldType.NUMBER),
        (sa.Float, FieldType.NUMBER),
    ]
    for cls, ftype in checks:
        if isinstance(column_type, cls):
            if ftype is FieldType.NUMBER and getattr(column_type, "scale", None) == 0:
                return FieldType.INTEGER
            return ftype
    return FieldType.STRING


def guess_semantic(name: str, ftype: FieldType, sample: Iterable[Any]) -> SemanticType | None:
    """A semantic type from the column's name, confirmed (or found) by the values it holds."""
    if ftype is FieldType.DATE:
        return SemanticType.DATE
    if ftype is FieldType.DATETIME:
        return SemanticType.DATETIME
    values = [str(v).strip() for v in sample if v is not None and str(v).strip()]
    if ftype is FieldType.STRING and values:
        for semantic, test in _VALUE_TESTS:
            if all(test(v) for v in values):
                return semantic
    for pattern, semantic in _NAME_HINTS:
        if re.search(pattern, name, re.IGNORECASE):
            if semantic in (SemanticType.LONGITUDE, SemanticType.LATITUDE) and ftype is not FieldType.NUMBER:
                continue
            if (
                semantic not in (SemanticType.LONGITUDE, SemanticType.LATITUDE)
                and ftype is not FieldType.STRING
            ):
                continue
            return semantic
    return None


def _slug(name: str) -> str:
    slug = re.sub(r"[^a-z0-9_]", "_", str(name).lower()).strip("_") or "col"
    return slug if slug[0].isalpha() else f"t_{slug}"


def _safe_url(url: sa.engine.URL) -> str:
    """The URL to write into the catalog: a password never lands in YAML; it comes from the environment."""
    if url.password:
        var = f"{(url.database or 'SOURCE').upper()}_DB_PASSWORD"
        rendered = url.set(password="PASSWORD_PLACEHOLDER").render_as_string(hide_password=False)
        return rendered.replace("PASSWORD_PLACEHOLDER", "${" + re.sub(r"\W", "_", var) + "}")
    return url.render_as_string(hide_password=False)


def draft_resources(url: str, agency: str, *, first_sequence: int = 1) -> list[dict[str, Any]]:
    """One draft resource (as YAML-ready data) per table in the database at `url`."""
    engine = sa.create_engine(url)
    try:
        meta = sa.MetaData()
        meta.reflect(bind=engine)
        drafts = []
        with engine.connect() as conn:
            for n, table in enumerate(sorted(meta.tables.values(), key=lambda t: t.name)):
                rows = conn.execute(sa.select(table).limit(SAMPLE_ROWS)).mappings().all()
                drafts.append(_draft_table(table, rows, agency, first_sequence + n, engine.url))
        return drafts
    finally:
        engine.dispose()


def _draft_table(
    table: sa.Table, rows: list[Any], agency: str, seq: int, url: sa.engine.URL
) -> dict[str, Any]:
    pk = [c.name for c in table.primary_key.columns]
    fields = []
    for col in table.columns:
        ftype = field_type(col.type)
        entry: dict[str, Any] = {
            "name": _slug(col.name),
            "label": col.comment or f"TODO: 信息项中文名称（列 {col.name}）",
            "type": ftype.value,
        }
        semantic = guess_semantic(col.name, ftype, (r[col.name] for r in rows))
        if semantic:
            entry["semantic"] = semantic.value
        if not col.nullable or col.name in pk:
            entry["required"] = True
        length = getattr(col.type, "length", None)
        if ftype is FieldType.STRING and length:
            entry["max_length"] = int(length)
        fields.append(entry)
    return {
        "id": _slug(table.name),
        "code": f"299{seq % 1000:03d}/{seq:06d}",
        "name": table.comment or f"TODO: 资源名称（表 {table.name}）",
        "summary": table.comment or f"TODO: 资源摘要（表 {table.name}）",
        "agency": agency,
        "class": "thematic",
        "share": {
            "type": "TODO: unconditional | conditional | not_shared",
            "conditions": "TODO: 按需共享时填写共享条件",
        },
        "open": "closed",
        "cycle": "TODO: realtime | daily | weekly | monthly | quarterly | half_yearly | yearly | irregular",
        "delivery": {"method": "database", "database": {"url": _safe_url(url), "table": str(table.name)}},
        "fields": fields,
        "primary_key": [_slug(k) for k in pk] or ["TODO: 主键字段"],
        "status": "draft",
    }


def write_drafts(drafts: list[dict[str, Any]], catalog_dir: Path) -> list[Path]:
    """Write drafts to `<catalog>/<agency>/<id>.yaml`, never overwriting an existing entry."""
    written = []
    for d in drafts:
        path = catalog_dir / d["agency"] / f"{d['id']}.yaml"
        if path.exists():
            path = path.with_name(f"{d['id']}.draft.yaml")
        path.parent.mkdir(parents=True, exist_ok=True)
        header = "# Draft from system docking (§9): fill in every TODO, then set status to published.\n"
        path.write_text(header + yaml.safe_dump(d, allow_unicode=True, sort_keys=False), encoding="utf-8")
        written.append(path)
    return written
