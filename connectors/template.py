"""Fill-in templates (填报模板): the xlsx an agency fills in, made from the catalog entry.

The data sheet has the Chinese labels as headers (required ones marked *), text-formatted columns for identifiers so
Excel cannot turn an 18-digit ID number into 3.1E+17, date formats, drop-downs for enumerations and a comment on each
header with its format rules. A 说明 sheet explains every field. A very hidden sheet `_govhub` records the catalog
version the template was made from (`Resource.fingerprint` and the field list); reading an upload made from an older
template then says exactly what changed (`sheet.outdated_template`).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from govhub.catalog.model import CatalogField, FieldType, Resource, SemanticType
from govhub.identifiers import cn_id_check_char, uscc_check_char

META_SHEET = "_govhub"
META_KEY = "govhub_template"
DATA_SHEET = "填报数据"
INFO_SHEET = "说明"
META_VERSION = 1
PROPS_PART = (
    "docProps/custom.xml"  # the workbook's custom document properties: govhub_code, govhub_fingerprint
)

TEXT_SEMANTICS = {
    SemanticType.CN_ID,
    SemanticType.USCC,
    SemanticType.ADMIN_DIVISION,
    SemanticType.PHONE,
    SemanticType.MOBILE,
    SemanticType.POSTAL_CODE,
}
_SEMANTIC_RULES = {
    SemanticType.CN_ID: "18位公民身份号码，末位可为X（大写）；请按文本填写",
    SemanticType.USCC: "18位统一社会信用代码；请按文本填写",
    SemanticType.ADMIN_DIVISION: "6位或9位行政区划代码；请按文本填写",
    SemanticType.PHONE: "固定电话或手机号码；请按文本填写",
    SemanticType.MOBILE: "11位手机号码；请按文本填写",
    SemanticType.POSTAL_CODE: "6位邮政编码；请按文本填写",
    SemanticType.EMAIL: "电子邮箱，如 name@example.gov.cn",
}


def _example_id() -> str:
    first17 = "31011719900307002"
    return first17 + cn_id_check_char(first17)


def _example_uscc() -> str:
    first17 = "11310117MB2F12345"
    return first17 + uscc_check_char(first17)


def field_rules(f: CatalogField) -> str:
    """The format rules of one field, in Chinese, for header comments and the 说明 sheet."""
    rules = [f"类型：{f.type.label_zh}", "必填" if f.required else "可为空"]
    if f.semantic in _SEMANTIC_RULES:
        rules.append(_SEMANTIC_RULES[f.semantic])
    if f.type is FieldType.DATE:
        rules.append("格式：2024-01-31")
    if f.type is FieldType.DATETIME:
        rules.append("格式：2024-01-31 08:30:00")
    if f.enum:
        rules.append("可选值：" + "、".join(f.enum))
    if f.min is not None:
        rules.append(f"最小值：{f.min:g}")
    if f.max is not None:
        rules.append(f"最大值：{f.max:g}")
    if f.max_length:
        rules.append(f"最多{f.max_length}个字")
    if f.pattern:
        rules.append(f"格式规则（正则）：{f.pattern}")
    return "；".join(rules)


def field_example(f: CatalogField) -> str:
    if f.enum:
        return f.enum[0]
    by_semantic = {
        SemanticType.CN_ID: _example_id(),
        SemanticType.USCC: _example_uscc(),
        SemanticType.ADMIN_DIVISION: "310117",
        SemanticType.PHONE: "021-57780000",
        SemanticType.MOBILE: "13800000000",
        SemanticType.POSTAL_CODE: "201600",
        SemanticType.EMAIL: "name@example.gov.cn",
        SemanticType.PERSON_NAME: "张三",
        SemanticType.ORG_NAME: "上海市松江区某某有限公司",
        SemanticType.ADDRESS: "上海市松江区中山中路1号",
    }
    if f.semantic in by_semantic:
        return by_semantic[f.semantic]
    return {
        FieldType.INTEGER: "12",
        FieldType.NUMBER: "12.5",
        FieldType.BOOLEAN: "是",
        FieldType.DATE: "2024-01-31",
        FieldType.DATETIME: "2024-01-31 08:30:00",
    }.get(f.type, "")


def header_text(f: CatalogField) -> str:
    return f"*{f.label}" if f.required else f.label


# ---------------------------------------------------------------- catalog version carried by the template


def template_meta(resource: Resource) -> dict[str, Any]:
    """What a template records about the catalog entry it was made from."""
    return {
        META_KEY: META_VERSION,
        "code": resource.code,
        "agency": resource.agency,
        "resource": resource.id,
        "fingerprint": resource.fingerprint,
        "made_on": dt.date.today().isoformat(),
        "fields": [
            {"name": f.name, "label": f.label, "type": f.type.value, "required": f.required, "enum": f.enum}
            for f in resource.fields
        ],
    }


def parse_meta(cells: list[list[object]]) -> dict[str, Any] | None:
    """The template record from the `_govhub` sheet's cells (A1 = key, B1 = JSON), or None if it is not ours."""
    if not cells or len(cells[0]) < 2 or cells[0][0] != META_KEY:
        return None
    try:
        meta = json.loads(str(cells[0][1]))
    except json.JSONDecodeError:
        return None
    return meta if isinstance(meta, dict) and isinstance(meta.get("fields"), list) else None


def template_props(path: Path) -> dict[str, str]:
    """The govhub_* custom document properties of an xlsx made by `write_template` ({} for any other file), without
    opening a sheet: Excel and WPS keep custom properties when the agency saves, and the part is a few hundred bytes
    (opening the workbook would parse its shared strings, the size of the data)."""
    import zipfile
    from xml.etree import ElementTree

    from govhub.connectors.workbook_guard import ZIP_ERRORS

    try:
        with zipfile.ZipFile(path) as zf:
            # ours are a few hundred bytes; never unpack a bomb
            if zf.getinfo(PROPS_PART).file_size > 64 << 10:
                return {}
            root = ElementTree.fromstring(zf.read(PROPS_PART))
    except (KeyError, ElementTree.ParseError, *ZIP_ERRORS):
        return {}
    found = {}
    for prop in root:
        name = prop.get("name") or ""
        if name.startswith("govhub_") and len(prop) and prop[0].text:
            found[name.removeprefix("govhub_")] = prop[0].text.strip()
    return found


def template_headers(meta: dict[str, Any]) -> list[str]:
    """The header row a template version wrote (required fields marked *)."""
    return [f"*{f['label']}" if f.get("required") else str(f["label"]) for f in meta["fields"]]


def template_changes(meta: dict[str, Any], resource: Resource) -> list[str]:
    """What changed in the catalog since the template in `meta` was made, in Chinese (empty when current)."""
    if meta.get("fingerprint") == resource.fingerprint:
        return []
    old = {f["name"]: f for f in meta["fields"] if isinstance(f, dict) and "name" in f}
    new = {f.name: f for f in resource.fields}
    changes = [
        f"新增字段「{new[n].label}」" + ("（必填）" if new[n].required else "") for n in new if n not in old
    ]
    changes += [f"删除字段「{old[n].get('label', n)}」" for n in old if n not in new]
    for n in (n for n in new if n in old):
        was, now = old[n], new[n]
        if was.get("label") != now.label:
            changes.append(f"字段「{was.get('label')}」更名为「{now.label}」")
        if was.get("type") != now.type.value:
            before = {t.value: t.label_zh for t in FieldType}.get(was.get("type"), was.get("type"))
            changes.append(f"字段「{now.label}」类型由{before}改为{now.type.label_zh}")
        if bool(was.get("required")) != now.required:
            changes.append(f"字段「{now.label}」改为{'必填' if now.required else '非必填'}")
        if (was.get("enum") or None) != (now.enum or None):
            changes.append(f"字段「{now.label}」的可选值改为：{'、'.join(now.enum or []) or '不限'}")
    if not changes:
        changes.append("主键或字段顺序有调整")
    return changes


# ---------------------------------------------------------------- writing


def write_template(resource: Resource, dest: Path, *, agency_name: str | None = None) -> Path:
    """Write the xlsx fill-in template for `resource` to `dest`."""
    import xlsxwriter

    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    sheet_cfg = resource.delivery.sheet
    header_row = (sheet_cfg.header_row if sheet_cfg else 1) - 1
    data_name = (sheet_cfg.sheet_name if sheet_cfg and sheet_cfg.sheet_name else DATA_SHEET)[:31]
    wb = xlsxwriter.Workbook(str(dest))
    try:
        wb.set_properties({"title": f"{resource.name}（{resource.code}）填报模板", "author": "govhub"})
        wb.set_custom_property("govhub_code", resource.code)
        wb.set_custom_property("govhub_fingerprint", resource.fingerprint)
        data = wb.add_worksheet(data_name)
        info = wb.add_worksheet(INFO_SHEET)
        meta = wb.add_worksheet(META_SHEET)
        _write_data_sheet(wb, data, resource, header_row)
        _write_info_sheet(wb, info, resource, agency_name, data_name)
        _write_meta_sheet(meta, resource)
        data.activate()
    finally:
        wb.close()
    return dest


def _write_data_sheet(wb: Any, ws: Any, resource: Resource, header_row: int) -> None:
    required = wb.add_format({"bold": True, "bg_color": "#FCE4D6", "font_color": "#C00000", "border": 1})
    optional = wb.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1})
    text = wb.add_format({"num_format": "@"})
    date = wb.add_format({"num_format": "yyyy-mm-dd"})
    datetime = wb.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
    if header_row > 0:
        ws.write_string(0, 0, f"{resource.name}（{resource.code}）")
    for col, f in enumerate(resource.fields):
        fmt = None
        if f.type is FieldType.DATE:
            fmt = date
        elif f.type is FieldType.DATETIME:
            fmt = datetime
        elif f.type is FieldType.STRING:
            fmt = text  # all text columns: a leading zero or a long number must survive as typed
        width = max(12, min(40, 2 * len(f.label) + 4))
        if f.semantic in (SemanticType.CN_ID, SemanticType.USCC):
            width = max(width, 22)
        ws.set_column(col, col, width, fmt)
        ws.write_string(header_row, col, header_text(f), required if f.required else optional)
        ws.write_comment(
            header_row, col, f"{f.label}（{f.name}）\n{field_rules(f)}", {"x_scale": 2, "y_scale": 2}
        )
        if f.enum:
            _enum_validation(ws, header_row, col, f)
        elif f.type is FieldType.INTEGER:
            ws.data_validation(header_row + 1, col, 1_048_575, col, {
                "validate": "integer", "criteria": "between",
                "minimum": int(f.min) if f.min is not None else -(2**31),
                "maximum": int(f.max) if f.max is not None else 2**31 - 1,
                "error_title": "格式错误", "error_message": f"「{f.label}」应为整数",
            })  # fmt: skip
    ws.freeze_panes(header_row + 1, 0)


def _enum_validation(ws: Any, header_row: int, col: int, f: CatalogField) -> None:
    options = f.enum or []
    source: Any = options
    if len(",".join(options)) > 250:  # Excel's limit for an inline list; point at the hidden sheet instead
        letter = _col_letter(col)
        source = f"='{META_SHEET}'!${letter}$3:${letter}${2 + len(options)}"
    ws.data_validation(header_row + 1, col, 1_048_575, col, {
        "validate": "list", "source": source,
        "error_title": "不在可选值中", "error_message": f"「{f.label}」只能填：{'、'.join(options)[:200]}",
    })  # fmt: skip


def _col_letter(index: int) -> str:
    from govhub.connectors.headers import column_letter

    return column_letter(index)


def _write_info_sheet(wb: Any, ws: Any, resource: Resource, agency_name: str | None, data_name: str) -> None:
    bold = wb.add_format({"bold": True})
    head = wb.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True})
    wrap = wb.add_format({"text_wrap": True, "valign": "top"})
    text = wb.add_format({"num_format": "@", "valign": "top"})
    lines = [
        ("资源名称", resource.name),
        ("资源代码", resource.code),
        ("提供部门", agency_name or resource.agency),
        ("更新周期", resource.cycle.label),
        ("模板版本", resource.fingerprint),
        ("填写要求", f"请在「{data_name}」工作表中逐行填写，不要修改表头、合并单元格或使用公式；"
                    "标*的列必填；身份证号等代码列已设为文本格式，请勿改为数值。"),
    ]  # fmt: skip
    for r, (k, v) in enumerate(lines):
        ws.write_string(r, 0, k, bold)
        ws.write_string(r, 1, v, wrap)
    top = len(lines) + 1
    for c, h in enumerate(["列名", "字段名", "类型", "是否必填", "格式要求", "可选值", "示例"]):
        ws.write_string(top, c, h, head)
    for r, f in enumerate(resource.fields, start=top + 1):
        row = [header_text(f), f.name, f.type.label_zh, "是" if f.required else "否", field_rules(f),
               "、".join(f.enum or []), field_example(f)]  # fmt: skip
        for c, v in enumerate(row):
            ws.write_string(r, c, v, text if c == 6 else wrap)
    ws.set_column(0, 0, 18)
    ws.set_column(1, 3, 12)
    ws.set_column(4, 4, 60)
    ws.set_column(5, 6, 24)


def _write_meta_sheet(ws: Any, resource: Resource) -> None:
    ws.write_string(0, 0, META_KEY)
    ws.write_string(0, 1, json.dumps(template_meta(resource), ensure_ascii=False))
    for col, f in enumerate(resource.fields):  # enumeration lists for long drop-downs, from row 3
        for i, option in enumerate(f.enum or []):
            ws.write_string(2 + i, col, option)
    ws.very_hidden()


def write_csv_template(resource: Resource, dest: Path) -> Path:
    """A CSV template: the header line only, UTF-8 with BOM so Excel shows the Chinese headers."""
    import csv
    import io

    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerow([header_text(f) for f in resource.fields])
    dest.write_bytes(buf.getvalue().encode("utf-8-sig"))
    return dest
