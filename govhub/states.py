"""The states things are in, with their Chinese labels — the one place every layer takes them from.

A load's outcome (`LoadStatus`), a period's entry in the submission ledger (`LedgerState`) and a feed's freshness
(`FreshnessState`). The CLI, Dagster metadata, reports and the portal show `.label`; nobody spells a label again.
"""

from __future__ import annotations

from enum import StrEnum


class LoadStatus(StrEnum):
    """How one delivery (an uploaded sheet, a pull) ended."""

    PUBLISHED = "published"  # a new snapshot is current
    ZERO_UPDATE = "zero_update"  # content identical to the current snapshot: an automatic zero update
    REJECTED = "rejected"  # the agency's delivery failed its checks (the previous snapshot stays)
    FAILED = "failed"  # the hub could not complete the load (source unreachable, internal error)
    NO_UPLOAD = "no_upload"  # nothing was delivered: a sheet-fed resource with an empty inbox

    @property
    def label(self) -> str:
        return _LOAD_LABELS[self]

    @property
    def ok(self) -> bool:
        """Nothing for anyone to fix: published, confirmed as unchanged, or nothing to load."""
        return self in (LoadStatus.PUBLISHED, LoadStatus.ZERO_UPDATE, LoadStatus.NO_UPLOAD)

    @property
    def current_confirmed(self) -> bool:
        """The delivery's content is what is current now (a publish or an automatic zero update)."""
        return self in (LoadStatus.PUBLISHED, LoadStatus.ZERO_UPDATE)


_LOAD_LABELS = {
    LoadStatus.PUBLISHED: "已发布",
    LoadStatus.ZERO_UPDATE: "零更新（内容未变）",
    LoadStatus.REJECTED: "已拒收",
    LoadStatus.FAILED: "失败",
    LoadStatus.NO_UPLOAD: "无待处理上传",
}


class LedgerState(StrEnum):
    """What an agency delivered (or declared) for one period of one resource (§11)."""

    UPDATED = "updated"
    ZERO_UPDATE_DECLARED = "zero_update_declared"
    ZERO_UPDATE_AUTO = "zero_update_auto"
    REJECTED = "rejected"
    AMENDED = "amended"
    LATE = "late"
    MISSING = "missing"

    @property
    def satisfies(self) -> bool:
        return self not in (LedgerState.REJECTED, LedgerState.MISSING)

    @property
    def label(self) -> str:
        return _LEDGER_LABELS[self]


_LEDGER_LABELS = {
    LedgerState.UPDATED: "已更新",
    LedgerState.ZERO_UPDATE_DECLARED: "零更新（申报）",
    LedgerState.ZERO_UPDATE_AUTO: "零更新（自动）",
    LedgerState.REJECTED: "被退回",
    LedgerState.AMENDED: "已更正",
    LedgerState.LATE: "逾期更新",
    LedgerState.MISSING: "未报送",
}


class FreshnessState(StrEnum):
    """A feed's standing on the working-day calendar (§11)."""

    FRESH = "fresh"
    DUE = "due"
    OVERDUE = "overdue"
    STALE = "stale"
    IRREGULAR = "irregular"

    @property
    def label(self) -> str:
        return _FRESHNESS_LABELS[self]

    @property
    def passing(self) -> bool:
        return self in (FreshnessState.FRESH, FreshnessState.IRREGULAR)


_FRESHNESS_LABELS = {
    FreshnessState.FRESH: "按时",
    FreshnessState.DUE: "待报送",
    FreshnessState.OVERDUE: "逾期",
    FreshnessState.STALE: "陈旧",
    FreshnessState.IRREGULAR: "不定期",
}
