"""Read the catalog folder and say precisely what is wrong with it.

`load_catalog` never raises on a bad entry: it returns the catalog of the entries that parsed plus every problem, each
naming file, resource and element in plain words. `require_catalog` is for callers that need a valid one.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from govhub.catalog.model import Agency, Catalog, Resource
from govhub.catalog.rules import check_catalog

_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
# what reading a YAML file can raise: PyYAML's own errors, and its timestamp constructor's ValueError on a date that
# does not exist (published_on: 2018-13-09; found by fuzz/fuzz_catalog.py), deep nesting, bytes not UTF-8
YAML_ERRORS = (yaml.YAMLError, UnicodeDecodeError, ValueError, OverflowError, RecursionError)

TODO = "TODO"


@dataclass(frozen=True)
class CatalogProblem:
    file: str
    resource: str  # resource code (or id, or "-" for agency entries)
    element: str  # dotted path of the catalog element, e.g. share.conditions or fields[2].semantic
    message: str

    def __str__(self) -> str:
        return f"{self.file}：{self.resource}：{self.element}：{self.message}"


class CatalogInvalid(Exception):
    def __init__(self, problems: list[CatalogProblem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


def _element(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(entry)"


def _todo_paths(data: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Paths of values a draft left for the agency to decide ("TODO…")."""
    if isinstance(data, dict):
        return [p for k, v in data.items() for p in _todo_paths(v, (*prefix, k))]
    if isinstance(data, list):
        return [p for i, v in enumerate(data) for p in _todo_paths(v, (*prefix, i))]
    if isinstance(data, str) and data.strip().upper().startswith(TODO):
        return [prefix]
    return []


def _pydantic_message(err: dict[str, Any]) -> str:
    kind = err["type"]
    if kind == "enum":
        allowed = err.get("ctx", {}).get("expected", "")
        return f"取值“{err['input']}”无效；可选：{allowed}"
    if kind == "missing":
        return "必填，但没有填写"
    if kind == "extra_forbidden":
        return f"不是目录元素（值为“{err['input']}”）：请检查拼写"
    if kind == "string_pattern_mismatch":
        return f"“{err['input']}”不是有效的名称：请用小写字母、数字和下划线，并以字母开头"
    return f"取值有误：{err['msg']}（值为“{err.get('input')}”）"


class SharedNodes(yaml.YAMLError):
    """A catalog file whose anchors and aliases (&a … *a) make one part stand in several places: never needed by an
    entry, and nested a few levels deep (a "billion laughs") they expand into more values than anything could check."""

    def __str__(self) -> str:
        return "使用了锚点和别名（& 与 *）：目录条目中的每一项都应直接写出"


def load_yaml_text(text: str) -> Any:
    """A catalog file's YAML, refused (`SharedNodes`) when a list or mapping appears in two places: checked on the
    loaded objects, each visited once, before anything walks them whole."""
    # libyaml's loader when present: 10x the pure-Python one, which cost a CLI command ≈0.25 s per catalog
    data = yaml.load(text, Loader=_SAFE_LOADER)
    seen: set[int] = set()
    stack = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, dict | list):
            if id(item) in seen:
                raise SharedNodes()
            seen.add(id(item))
            stack.extend(item.values() if isinstance(item, dict) else item)
    return data


# what the YAML parser says went wrong (its English), as a steward reads it
_YAML_PROBLEMS_ZH = [
    ("did not find expected ',' or ']'", "方括号 [ ] 没有闭合，或其中的值之间缺少逗号"),
    ("did not find expected ',' or '}'", "花括号 { } 没有闭合，或其中的键值之间缺少逗号"),
    ("found unexpected end of stream", "引号没有闭合"),
    ("mapping values are not allowed", "此处不能出现冒号：键值写法有误，或缩进不齐；值里的冒号须加引号"),
    ("cannot start any token", "此处的字符不能开头（如 Tab 缩进、@、`）：缩进请用空格，这样的值须加引号"),
    ("could not find expected ':'", "缺少冒号（应为“键: 值”）"),
    ("found character '\\t'", "不能用 Tab 缩进，请改用空格"),
    ("did not find expected key", "缩进不齐：同一层的键应对齐"),
    ("did not find expected '-' indicator", "缩进不齐：列表的各项应对齐"),
    ("found undefined alias", "用了未定义的别名（*）"),
    ("found duplicate anchor", "锚点（&）重复"),
    ("special characters are not allowed", "含有不能出现在文本中的控制字符"),
    ("unacceptable character", "含有不能出现在文本中的控制字符"),
    ("did not find expected", "缺少应有的符号（括号、逗号、冒号或列表的“-”），或缩进不齐"),
]


def yaml_problem_zh(exc: BaseException) -> str:
    """Why a text is not YAML a catalog can read, in Chinese, with the line and column the parser stopped at."""
    if isinstance(exc, SharedNodes):
        return str(exc)
    if not isinstance(
        exc, yaml.YAMLError
    ):  # constructed values: a date that does not exist, a number too big, depth
        return "有不存在的日期（如13月）、超出范围的值或嵌套过深"
    text = str(exc)
    why = next((zh for en, zh in _YAML_PROBLEMS_ZH if en in text), "格式有误")
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    return f"第{mark.line + 1}行第{mark.column + 1}列附近：{why}" if mark is not None else why


def _read_yaml(path: Path, root: Path, problems: list[CatalogProblem]) -> Any:
    rel = str(path.relative_to(root)) if path.is_relative_to(root) else str(path)
    try:
        return load_yaml_text(path.read_text(encoding="utf-8"))
    except YAML_ERRORS as exc:
        problems.append(CatalogProblem(rel, "-", "(file)", f"不是有效的 YAML 文件：{yaml_problem_zh(exc)}"))
        return None


def parse_resource(data: Any, file: str) -> tuple[Resource | None, list[CatalogProblem]]:
    """One resource entry from its YAML data, or the problems that keep it from being one."""
    if not isinstance(data, dict):
        return None, [CatalogProblem(file, "-", "(file)", "资源文件的内容应为目录元素的映射（键: 值）")]
    ref = str(data.get("code") or data.get("id") or "-")
    todos = _todo_paths(data)
    problems = [CatalogProblem(file, ref, _element(p), "仍为 TODO：发布前须由机构确定该元素") for p in todos]
    try:
        resource = Resource.model_validate(data)
    except ValidationError as exc:
        for err in exc.errors():
            if tuple(err["loc"]) in todos:
                continue
            problems.append(CatalogProblem(file, ref, _element(tuple(err["loc"])), _pydantic_message(err)))
        return None, problems
    return (resource, problems) if not problems else (None, problems)


def load_agencies(root: Path) -> tuple[dict[str, Agency], list[CatalogProblem]]:
    """`agencies.yaml` alone, and its problems (a command filtering by agency reads no resource file)."""
    problems: list[CatalogProblem] = []
    agencies: dict[str, Agency] = {}
    agencies_file = root / "agencies.yaml"
    if not agencies_file.exists():
        problems.append(CatalogProblem("agencies.yaml", "-", "(file)", f"在 {root} 中找不到"))
    else:
        data = _read_yaml(agencies_file, root, problems) or {}
        for i, entry in enumerate(data.get("agencies", []) if isinstance(data, dict) else []):
            try:
                agency = Agency.model_validate(entry)
            except ValidationError as exc:
                for err in exc.errors():
                    loc = ("agencies", i, *err["loc"])
                    problems.append(
                        CatalogProblem("agencies.yaml", "-", _element(loc), _pydantic_message(err))
                    )
                continue
            if agency.id in agencies:
                problems.append(
                    CatalogProblem("agencies.yaml", "-", f"agencies[{i}].id", f"机构标识“{agency.id}”重复")
                )
            agencies[agency.id] = agency
    return agencies, problems


def load_catalog(root: Path) -> tuple[Catalog, list[CatalogProblem]]:
    """Every agency and resource under `root` and every problem found; entries with problems are left out."""
    root = Path(root)
    agencies, problems = load_agencies(root)

    resources: list[Resource] = []
    for path in sorted(root.glob("*/*.yaml")) + sorted(root.glob("*/*.yml")):
        rel = str(path.relative_to(root))
        data = _read_yaml(path, root, problems)
        if data is None and not path.read_bytes().strip():
            problems.append(CatalogProblem(rel, "-", "(file)", "是空文件"))
            continue
        resource, found = parse_resource(data, rel)
        problems.extend(found)
        if resource is not None:
            resource._source = path
            resources.append(resource)

    catalog = Catalog(agencies=agencies, resources=resources)
    problems.extend(check_catalog(catalog, CatalogProblem))
    bad = {(p.file, p.resource) for p in problems}
    catalog.resources[:] = [
        r for r in catalog.resources if (str(r.source_file.relative_to(root)), r.code) not in bad
    ]
    return catalog, problems


def require_catalog(root: Path) -> Catalog:
    catalog, problems = load_catalog(root)
    if problems:
        raise CatalogInvalid(problems)
    return catalog


def load_valid_catalog(root: Path) -> Catalog:
    """The catalog's valid entries; invalid ones are logged and left out (a long-running server — the Dagster code
    location, the portal — keeps serving the rest rather than going down)."""
    import logging

    catalog, problems = load_catalog(root)
    for p in problems:
        logging.getLogger(__name__).warning("catalog problem (entry left out): %s", p)
    return catalog
