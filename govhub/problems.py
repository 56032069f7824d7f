"""Errors as values people can read: the one shape every layer (connectors, checks, loads) reports problems in.

A `Problem` names where (row, column), what was found (value), what was expected, and says it in Chinese for the
agency (message_zh). The CLI, the Dagster metadata, the annotated workbook and the portal all render this one type.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class Problem:
    code: str  # stable machine code, e.g. "sheet.missing_column", "api.timeout", "check.cn_id"
    message_zh: str  # for agency users, complete on its own
    row: int | None = None  # source row as the agency sees it (sheet row number; record ordinal for API/DB)
    column: str | None = None  # the column header as delivered (or the catalog label)
    value: str | None = None
    expected: str | None = None
    field: str | None = None  # catalog field name, when known
    blocking: bool = True  # False: only a warning

    def __str__(self) -> str:
        """One line for people: where, what, found, expected — each said once, even if the message says it too."""
        msg = self.message_zh
        where = "".join(
            [f"第{self.row}行" if self.row is not None else "", f"「{self.column}」列" if self.column else ""]
        )
        if self.row is not None and msg.startswith(f"第{self.row}行"):
            where = ""  # the message already opens with its location
        extra = "".join(
            [
                f"，值为“{self.value}”"
                if self.value not in (None, "") and str(self.value) not in msg
                else "",
                f"，应为{self.expected}" if self.expected and self.expected not in msg else "",
            ]
        )
        return f"{where + '：' if where else ''}{msg}{extra}"

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None}


class GovhubError(Exception):
    """A failure to report to a person, never as a traceback: carries one or more Problems."""

    def __init__(self, problems: list[Problem] | Problem, *, retryable: bool = False):
        self.problems = [problems] if isinstance(problems, Problem) else list(problems)
        self.retryable = retryable
        super().__init__("；".join(str(p) for p in self.problems[:20]))
