"""Match the headers an agency delivered to the catalog's fields.

A header matches a field by its Chinese label or its field name, whatever the agency did to it in Excel: spaces
around or inside, full-width letters and brackets (NFKC), line breaks (Alt+Enter), a `*` required marker, a
"(必填)"/"(选填)" suffix. Everything else is reported in Chinese with the column letter and the header as written.

Unknown columns follow the resource's quality policy: with `block_on_schema_mismatch` (the default) they block the
load — a mistyped header would otherwise silently drop the data the agency believes it delivered — and the message
suggests the closest catalog label; without it they are a warning and the column is ignored. A missing required
column always blocks; a missing optional column is a warning (the field is loaded as empty).
"""

from __future__ import annotations

import difflib
import functools
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field

from govhub.catalog.model import Resource
from govhub.problems import Problem

_MARKERS = re.compile(r"[(\[【](必填|必填项|选填|可选|非必填)[)\]】]|^\*+|\*+$")
_SPACES = re.compile(r"\s+")
# invisible formatting characters: a BOM left in a cell by joined files, zero-width spaces, direction marks
_INVISIBLE = re.compile("[\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]")


def column_letter(index: int) -> str:
    """Excel's column letter for a 0-based column index (0 → A, 26 → AA)."""
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def normalise_header(value: object) -> str:
    """A header reduced to what identifies it: NFKC, no spaces or line breaks, no required markers, lower case."""
    if value is None:
        return ""
    text = unicodedata.normalize("NFKC", str(value))
    text = _INVISIBLE.sub("", _SPACES.sub("", text))
    previous = None
    while previous != text:  # "*姓名(必填)" has two markers
        previous, text = text, _MARKERS.sub("", text)
    return text.lower()


@dataclass
class HeaderMatch:
    """Which column holds which field, and what was wrong with the header row."""

    columns: dict[str, int] = field(default_factory=dict)  # field name → 0-based column index
    written: dict[str, str] = field(default_factory=dict)  # field name → header exactly as delivered
    ignored: list[int] = field(default_factory=list)  # columns not loaded (unknown or blank)
    problems: list[Problem] = field(default_factory=list)

    @property
    def blocking(self) -> list[Problem]:
        return [p for p in self.problems if p.blocking]


def _lookup(resource: Resource) -> dict[str, str]:
    """Normalised header → field name (a sheet's header row is scored against it ≈10 times while it is located)."""
    return _lookup_of(tuple((f.name, f.label) for f in resource.fields))


@functools.lru_cache(maxsize=256)
def _lookup_of(names_and_labels: tuple[tuple[str, str], ...]) -> dict[str, str]:
    table: dict[str, str] = {}
    for name, _ in names_and_labels:
        table.setdefault(normalise_header(name), name)
    for name, label in names_and_labels:  # labels win over a field name spelled the same
        table[normalise_header(label)] = name
    return table


def _where(row: int, index: int, text: object) -> str:
    return f"第{row}行{column_letter(index)}列「{'' if text is None else shown(str(text).strip())}」"


def shown(text: str) -> str:
    """Text from a file as it may be shown: control and invisible formatting characters (a terminal escape, a
    right-to-left override that disguises an extension) replaced by "�"."""
    return "".join("\ufffd" if unicodedata.category(ch)[0] == "C" else ch for ch in text)


def match_headers(
    resource: Resource,
    headers: Sequence[object],
    *,
    row: int = 1,
    column_has_data: Sequence[bool] | None = None,
) -> HeaderMatch:
    """Match one header row (`row` as Excel numbers it) against the resource's fields."""
    lookup = _lookup(resource)
    match = HeaderMatch()
    seen: dict[str, int] = {}
    unknown: list[tuple[int, str]] = []
    for i, raw in enumerate(headers):
        key = normalise_header(raw)
        if not key:
            match.ignored.append(i)
            if column_has_data is None or column_has_data[i]:
                match.problems.append(_empty_header(row, i))
            continue
        name = lookup.get(key)
        if name is None:
            match.ignored.append(i)
            unknown.append((i, str(raw).strip()))
        elif name in seen:
            match.ignored.append(i)
            match.problems.append(_duplicate(resource, row, name, seen[name], i, headers))
        else:
            seen[name] = i
            match.columns[name] = i
            match.written[name] = str(raw).strip()
    if unknown:
        match.problems.append(_unknown(resource, row, unknown))
    match.problems.extend(_missing(resource, row, match.columns))
    return match


def match_score(resource: Resource, headers: Sequence[object]) -> int:
    """How many distinct fields a row of cells names (to find a header row that is not where it should be)."""
    lookup = _lookup(resource)
    return len({lookup[k] for k in map(normalise_header, headers) if k in lookup})


def _empty_header(row: int, index: int) -> Problem:
    return Problem(
        code="sheet.empty_header",
        message_zh=f"第{row}行{column_letter(index)}列的表头为空，但该列有数据；请填写表头或删除该列",
        row=row,
        column=column_letter(index),
        expected="目录中的字段名称",
    )


def _duplicate(
    resource: Resource, row: int, name: str, first: int, again: int, headers: Sequence[object]
) -> Problem:
    label = resource.field(name).label
    return Problem(
        code="sheet.duplicate_header",
        message_zh=(
            f"表头重复：{_where(row, first, headers[first])}和{_where(row, again, headers[again])}"
            f"都对应字段「{label}」；请删除或改正其中一列"
        ),
        row=row,
        column=str(headers[again]).strip(),
        value=str(headers[again]).strip(),
        expected=f"每个字段只出现一次（「{label}」）",
        field=name,
    )


def _unknown(resource: Resource, row: int, unknown: list[tuple[int, str]]) -> Problem:
    labels = [f.label for f in resource.fields]
    parts = []
    for i, text in unknown:
        near = difflib.get_close_matches(text, labels, n=1, cutoff=0.4)
        parts.append(_where(row, i, text) + (f"（是否应为「{near[0]}」？）" if near else ""))
    blocking = resource.quality.block_on_schema_mismatch
    tail = "请改为目录中的字段名称或删除这些列" if blocking else "这些列不会被导入"
    return Problem(
        code="sheet.unknown_column",
        message_zh=f"目录中没有以下列：{'、'.join(parts)}；{tail}",
        row=row,
        column=unknown[0][1],
        value="、".join(t for _, t in unknown),
        expected="、".join(labels),
        blocking=blocking,
    )


def _missing(resource: Resource, row: int, found: dict[str, int]) -> list[Problem]:
    absent = [f for f in resource.fields if f.name not in found]
    required = [f for f in absent if f.required]
    optional = [f for f in absent if not f.required]
    problems = []
    if required:
        names = "、".join(f"「{f.label}」" for f in required)
        problems.append(
            Problem(
                code="sheet.missing_column",
                message_zh=f"第{row}行表头缺少必填列：{names}；请使用最新模板并补齐这些列",
                row=row,
                column=required[0].label,
                expected=names,
                field=required[0].name,
            )
        )
    if optional:
        names = "、".join(f"「{f.label}」" for f in optional)
        problems.append(
            Problem(
                code="sheet.missing_optional_column",
                message_zh=f"第{row}行表头缺少非必填列：{names}；这些字段将按空值导入",
                row=row,
                column=optional[0].label,
                expected=names,
                field=optional[0].name,
                blocking=False,
            )
        )
    return problems
