"""Chinese Data Docs renderers for govhub's custom expectations (see `ge_custom.py`).

Without them GE prints a custom expectation as `expect_column_values_to_be_valid_uscc(**{'batch_id': …})`. Each
check gets a prescriptive renderer (the rule, on suite and validation pages; legacy and atomic) and diagnostic ones
(what was found: the unexpected statement, the sample table's header, the observed value), all in Chinese. The
built-in expectations the catalog's suites use (`BUILTIN_RULES`) get the same Chinese renderers in place of GE's
English ones (`register_builtin_renderers`). Importing this module imports GE: only `ge_custom.register()` does.
"""

from __future__ import annotations

import types
from collections.abc import Callable
from typing import Any

from great_expectations.expectations.expectation import Expectation, render_suite_parameter_string
from great_expectations.expectations.registry import get_expectation_impl, register_renderer
from great_expectations.render import (
    LegacyDiagnosticRendererType,
    LegacyRendererType,
    RenderedStringTemplateContent,
)
from great_expectations.render.renderer.renderer import renderer
from great_expectations.render.renderer_configuration import RendererConfiguration, RendererValueType
from great_expectations.render.util import num_to_str

# GE's English headers of the sample table of unexpected values
_TABLE_HEADERS = {
    "Sampled Unexpected Values": "不符合的值（样例）",
    "Unexpected Value": "不符合的值",
    "Count": "出现次数",
    "Index": "行号",
}


def _mostly_pct(kwargs: dict[str, Any]) -> str | None:
    mostly = kwargs.get("mostly")
    if isinstance(mostly, int | float) and mostly < 1.0:
        return num_to_str(mostly * 100, no_scientific=True)
    return None


def _rule_template(rule: str, include_column_name: bool, mostly_pct: str | None) -> str:
    template = f"$column 列：{rule}" if include_column_name else rule
    return template + ("，至少 $mostly_pct% 的非空值符合" if mostly_pct else "（空值不检查）")


def _join(values: Any) -> str:
    return "、".join(str(v) for v in values or [])


def _bounds(kwargs: dict[str, Any], unit: str = "") -> str:
    low, high = kwargs.get("min_value"), kwargs.get("max_value")
    if low is not None and high is not None:
        return f"在 {low} 至 {high}{unit} 之间"
    if low is not None:
        return f"不小于 {low}{unit}"
    return f"不大于 {high}{unit}" if high is not None else "不限"


# The GE built-in expectations `suites.py` writes, as the rule reads in Chinese ($names: `_builtin_params`).
BUILTIN_RULES = {
    "expect_column_values_to_not_be_null": "不得为空",
    "expect_column_values_to_be_in_type_list": "数据类型为 $type_list_zh 之一",
    "expect_column_values_to_be_in_set": "取值为以下之一：$value_set_zh",
    "expect_column_values_to_be_between": "取值$bounds_zh",
    "expect_column_value_lengths_to_be_between": "长度$length_bounds_zh",
    "expect_column_values_to_match_regex": "符合格式（正则表达式 $regex）",
    "expect_column_values_to_be_unique": "取值不重复",
    "expect_compound_columns_to_be_unique": "$column_list_zh 的组合不重复",
    "expect_table_columns_to_match_set": "表的列与资源目录一致：$column_set_zh",
}
_NOT_PER_COLUMN = {"expect_compound_columns_to_be_unique", "expect_table_columns_to_match_set"}


def _builtin_params(kwargs: dict[str, Any]) -> dict[str, Any]:
    """The values a built-in rule names, as text (a regex's `$` stays a value, never a placeholder)."""
    return {"type_list_zh": _join(kwargs.get("type_list")), "value_set_zh": _join(kwargs.get("value_set")),
            "bounds_zh": _bounds(kwargs), "length_bounds_zh": _bounds(kwargs, " 个字符"),
            "column_list_zh": _join(kwargs.get("column_list")), "column_set_zh": _join(kwargs.get("column_set")),
            "regex": kwargs.get("regex")}  # fmt: skip


def _builtin_template(kind: str) -> Callable[[dict[str, Any], bool, str | None], str]:
    rule = BUILTIN_RULES[kind]

    def template(params: dict[str, Any], include_column_name: bool, mostly_pct: str | None) -> str:
        if kind in _NOT_PER_COLUMN:
            return rule
        if kind == "expect_column_values_to_not_be_null":  # nulls are what it checks
            head = f"$column 列：{rule}" if include_column_name else rule
            return head + ("，至少 $mostly_pct% 的行不为空" if mostly_pct else "")
        return _rule_template(rule, include_column_name, mostly_pct)

    return template


def register_builtin_renderers() -> None:
    """Render the built-in expectations of `BUILTIN_RULES` in Chinese: the rule (suite and validation pages) and,
    for the column checks, what was found. GE looks renderers up by expectation type, so ours replace its own."""
    for kind in BUILTIN_RULES:
        cls = get_expectation_impl(kind)
        found = _renderers(_builtin_template(kind), _builtin_params)
        names = ["_prescriptive_renderer"] if kind == "expect_table_columns_to_match_set" else list(found)
        for name in names:  # the table check's observed value (the columns found) stays GE's: a list of names
            register_renderer(
                object_name=kind, parent_class=cls, renderer_fn=types.MethodType(found[name].__func__, cls)
            )


def _string(template: str, params: dict[str, Any], styling: dict | None = None, **extra: Any) -> Any:
    return RenderedStringTemplateContent(
        content_block_type="string_template",
        string_template={"template": template, "params": params, "styling": styling, **extra},
    )


def _exception_message(result: Any) -> str | None:
    """GE's message when checking raised (the traceback stays out of the page: nobody reading it can act on it)."""
    info = result.exception_info or {}
    if "raised_exception" not in info:  # keyed by metric: take the first
        info = next(iter(info.values()), {}) if info else {}
    return info.get("exception_message") if info.get("raised_exception") else None


def chinese_renderers(rule: str) -> dict[str, Any]:
    """The renderer classmethods of a custom expectation whose rule reads `rule` (e.g. 公民身份号码格式与校验码正确),
    to put in its class body: GE registers every attribute carrying a renderer type when the class is created."""

    def prescriptive_template(
        cls: Any, renderer_configuration: RendererConfiguration
    ) -> RendererConfiguration:
        renderer_configuration.add_param(name="column", param_type=RendererValueType.STRING)
        renderer_configuration.add_param(name="mostly", param_type=RendererValueType.NUMBER)
        pct = _mostly_pct(renderer_configuration.kwargs)
        if pct:
            renderer_configuration = cls._add_mostly_pct_param(renderer_configuration=renderer_configuration)
        renderer_configuration.template_str = _rule_template(
            rule, renderer_configuration.include_column_name, pct
        )
        return renderer_configuration

    return {
        "_prescriptive_template": classmethod(prescriptive_template),
        **_renderers(
            lambda _params, with_column, pct: _rule_template(rule, with_column, pct), lambda _kw: {}
        ),
    }


def _renderers(
    template_of: Callable[[dict[str, Any], bool, str | None], str],
    params_of: Callable[[dict[str, Any]], dict[str, Any]],
) -> dict[str, Any]:
    """The legacy renderers (rule; what was found) as classmethods: the rule's template from its params, whether the
    column is named and the `mostly` percentage; `params_of` adds the params a template names beyond the kwargs."""

    def prescriptive(
        cls: Any,
        configuration: Any = None,
        result: Any = None,
        runtime_configuration: dict | None = None,
        **kwargs: Any,
    ) -> list[Any]:
        runtime_configuration = runtime_configuration or {}
        config = configuration or (result.expectation_config if result is not None else None)
        params = dict(config.kwargs) if config is not None else {}
        params["mostly_pct"] = _mostly_pct(params)
        params.update(params_of(params))
        include_column_name = runtime_configuration.get("include_column_name") is not False
        template = template_of(params, include_column_name, params["mostly_pct"])
        return [_string(template, params, runtime_configuration.get("styling"))]

    def unexpected_statement(
        cls: Any, configuration: Any = None, result: Any = None, runtime_configuration: dict | None = None
    ) -> list[Any]:
        if result is None:
            return []
        message = _exception_message(result)
        if message:
            return [
                _string(
                    "校验时出错：$message", {"message": message}, {"classes": ["text-danger"]}, tag="strong"
                )
            ]
        found = result.result or {}
        if result.success or not found.get("unexpected_count"):
            return []
        params = {
            "unexpected_count": num_to_str(found["unexpected_count"], use_locale=True, precision=20),
            "unexpected_percent": f"{num_to_str(found.get('unexpected_percent') or 0, precision=4)}%",
            "element_count": num_to_str(found.get("element_count") or 0, use_locale=True, precision=20),
        }
        template = "\n\n发现 $unexpected_count 个不符合的值，占非空值的 $unexpected_percent（共 $element_count 行）。"
        return [_string(template, params, {"classes": ["text-danger"]}, tag="strong")]

    def unexpected_table(
        cls: Any, configuration: Any = None, result: Any = None, runtime_configuration: dict | None = None
    ) -> list[Any] | None:
        blocks = Expectation._diagnostic_unexpected_table_renderer.__func__(
            cls, configuration=configuration, result=result, runtime_configuration=runtime_configuration
        )
        for block in blocks or []:
            if getattr(block, "header_row", None):
                block.header_row = [_TABLE_HEADERS.get(h, h) for h in block.header_row]
        return blocks

    def observed_value(
        cls: Any, configuration: Any = None, result: Any = None, runtime_configuration: dict | None = None
    ) -> str:
        found = (result.result if result is not None else None) or {}
        percent = found.get("unexpected_percent")
        if percent is None:  # an aggregate check (a column's type): what it observed
            observed = found.get("observed_value")
            return "--" if observed is None else str(observed)
        if not found.get("unexpected_count"):
            return "全部符合"
        return f"{num_to_str(percent, precision=5)}% 不符合"

    return {
        "_prescriptive_renderer": classmethod(
            renderer(renderer_type=LegacyRendererType.PRESCRIPTIVE)(
                render_suite_parameter_string(prescriptive)
            )
        ),
        "_diagnostic_unexpected_statement_renderer": classmethod(
            renderer(renderer_type=LegacyDiagnosticRendererType.UNEXPECTED_STATEMENT)(unexpected_statement)
        ),
        "_diagnostic_unexpected_table_renderer": classmethod(
            renderer(renderer_type=LegacyDiagnosticRendererType.UNEXPECTED_TABLE)(unexpected_table)
        ),
        "_diagnostic_observed_value_renderer": classmethod(
            renderer(renderer_type=LegacyDiagnosticRendererType.OBSERVED_VALUE)(observed_value)
        ),
    }
