"""Chinese Data Docs renderers for govhub's custom expectations (see `ge_custom.py`).

Without them GE prints a custom expectation as `expect_column_values_to_be_valid_uscc(**{'batch_id': …})`. Each
check gets a prescriptive renderer (the rule, on suite and validation pages; legacy and atomic) and diagnostic ones
(what was found: the unexpected statement, the sample table's header, the observed value), all in Chinese. GE's
built-in expectations keep GE's own rendering. Importing this module imports GE: only `ge_custom.register()` does.
"""

from __future__ import annotations

from typing import Any

from great_expectations.expectations.expectation import Expectation, render_suite_parameter_string
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
        include_column_name = runtime_configuration.get("include_column_name") is not False
        template = _rule_template(rule, include_column_name, params["mostly_pct"])
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
        if percent is None:
            return "--"
        if not found.get("unexpected_count"):
            return "全部符合"
        return f"{num_to_str(percent, precision=5)}% 不符合"

    return {
        "_prescriptive_template": classmethod(prescriptive_template),
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
