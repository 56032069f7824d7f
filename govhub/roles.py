"""The roles a person can hold (§16: access control by role). Kept apart so the CLI can list them cheaply."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    STEWARD = "steward"
    REVIEWER = "reviewer"
    OFFICE = "office"
    ANALYST = "analyst"
    ENGINEER = "engineer"

    @property
    def label(self) -> str:
        return {
            "steward": "数据专管员",
            "reviewer": "审核人",
            "office": "协调办公室",
            "analyst": "分析人员",
            "engineer": "平台工程师",
        }[self.value]
