"""The audit's verdict on one load, computed once when the load ends and only displayed elsewhere.

Three checks a person reads on every load (the Dagster asset checks, the portal, the CLI's JSON): do the delivered
columns match the catalog, is the primary key unique, and are the bad rows within the resource's quality policy (the
delivery is current now). Each counts the problems of its category from the problem registry, so a refusal for a
missing column fails `schema` whichever layer found it (sheet header, database reflection, staging, the suite).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from govhub.problems import Category, Problem
from govhub.states import LoadStatus


@dataclass(frozen=True)
class CheckVerdict:
    passed: bool
    blocking: bool  # a failure that kept the delivery from being published (else only a warning)
    problems: int  # problems counted against this check
    note_zh: str

    @classmethod
    def of(cls, problems: list[Problem], ok_note: str, bad_note: str) -> CheckVerdict:
        if not problems:
            return cls(True, False, 0, ok_note)
        return cls(False, any(p.blocking for p in problems), len(problems), bad_note)


@dataclass(frozen=True)
class AuditVerdict:
    schema: CheckVerdict  # delivered columns match the catalog's fields
    keys: CheckVerdict  # the primary key is unique
    rows: CheckVerdict  # bad rows within the quality policy; the delivery is what is current now
    bad_row_pct: float

    @classmethod
    def of(
        cls,
        status: LoadStatus,
        problems: list[Problem],
        *,
        rows: int,
        quarantined: int,
        max_bad_row_pct: float,
    ) -> AuditVerdict:
        by = {c: [p for p in problems if p.category is c] for c in (Category.SCHEMA, Category.KEYS)}
        pct = round(100.0 * quarantined / rows, 3) if rows else 0.0
        unread = status is LoadStatus.REJECTED and rows == 0 and not by[Category.SCHEMA]
        schema = CheckVerdict.of(by[Category.SCHEMA], "数据列与目录一致", "数据列与目录不一致")
        if unread:  # refused before any column was read: nothing matched the catalog
            schema = CheckVerdict(False, True, 0, "文件未能读取，无法核对数据列")
        keys = CheckVerdict.of(by[Category.KEYS], "主键唯一", "主键重复")
        if unread:  # no row was read: uniqueness was never checked, and "主键唯一" would say it held
            keys = CheckVerdict(False, False, 0, "文件未能读取，未核对主键")
        if status.current_confirmed:
            rows_check = CheckVerdict(
                True, False, quarantined, f"问题记录占{pct:g}%，在允许的{max_bad_row_pct:g}%以内"
            )
        else:
            rows_check = CheckVerdict(False, True, quarantined, f"本次交付未发布（{status.label}）")
        return cls(schema, keys, rows_check, pct)

    def to_dict(self) -> dict[str, Any]:
        """Plain values only (`asdict`'s deep copy, three times per load, cost more than the record's writing)."""
        return {
            "schema": dict(vars(self.schema)),
            "keys": dict(vars(self.keys)),
            "rows": dict(vars(self.rows)),
            "bad_row_pct": self.bad_row_pct,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AuditVerdict:
        return cls(
            **{k: CheckVerdict(**data[k]) for k in ("schema", "keys", "rows")},
            bad_row_pct=data["bad_row_pct"],
        )
