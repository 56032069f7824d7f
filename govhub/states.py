"""The states things are in, with their Chinese labels — the one place every layer takes them from.

A load's outcome (`LoadStatus`), a period's entry in the submission ledger (`LedgerState`), a feed's freshness
(`FreshnessState`), a sharing request's state, the step it waits on and the decisions on it (`RequestState`, `Step`,
`Decision`; the rules that move them are `governance.sharing`). The CLI, Dagster metadata, reports and the portal show `.label`; nobody spells a label again.
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


class RequestState(StrEnum):
    SUBMITTED = "submitted"  # waiting for the office's review (unconditional) or forwarding (conditional)
    FORWARDED = "forwarded"  # waiting for the provider's answer (10 working days)
    ESCALATED = "escalated"  # the provider missed the deadline: the office decides
    ANSWERED = "answered"  # the provider answered: the office executes the answer
    DISPUTED = "disputed"  # the requester disputes the outcome: the office coordinates
    REFERRED = "referred"  # referred to the leading group
    APPROVED = "approved"  # granted (a grant exists)
    REFUSED = "refused"
    RETURNED = "returned"  # returned by the office with a reason (the requester may file again)
    WITHDRAWN = "withdrawn"

    @property
    def label(self) -> str:
        return _STATE_LABELS[self]

    @property
    def open(self) -> bool:
        """Someone still has to act (the request can be withdrawn)."""
        return self in _OPEN


_STATE_LABELS = {
    RequestState.SUBMITTED: "待审核",
    RequestState.FORWARDED: "待提供方答复",
    RequestState.ESCALATED: "逾期未答复，已提交区科委",
    RequestState.ANSWERED: "提供方已答复，待区科委执行",
    RequestState.DISPUTED: "异议协调中",
    RequestState.REFERRED: "已报领导小组",
    RequestState.APPROVED: "已同意（已授权）",
    RequestState.REFUSED: "未同意",
    RequestState.RETURNED: "已退回",
    RequestState.WITHDRAWN: "已撤回",
}
_OPEN = {
    RequestState.SUBMITTED,
    RequestState.FORWARDED,
    RequestState.ESCALATED,
    RequestState.ANSWERED,
    RequestState.DISPUTED,
    RequestState.REFERRED,
}


class Step(StrEnum):
    """What the pending deadline is for (who has to act)."""

    REVIEW = "review"  # the office reviews or forwards a new request
    ANSWER = "answer"  # the provider answers (§13: 10 working days)
    EXECUTE = "execute"  # the office executes the provider's answer
    DECIDE = "decide"  # the office decides an escalated or disputed request (or records the leading group's)

    @property
    def label(self) -> str:
        return {
            "review": "区科委审核",
            "answer": "提供方答复",
            "execute": "区科委执行",
            "decide": "区科委决定",
        }[self.value]


class Decision(StrEnum):
    """An answer or a decision on a request."""

    APPROVE = "approve"  # as requested
    NARROW = "narrow"  # approved with conditions, or with fewer fields or rows than requested
    REFUSE = "refuse"  # with a reason and its legal basis

    @property
    def label(self) -> str:
        return {"approve": "同意", "narrow": "有条件同意", "refuse": "不同意"}[self.value]

    @property
    def grants(self) -> bool:
        return self is not Decision.REFUSE


# a sharing request's transitions as people read them (its history, in the portal and `govhub request show`)
REQUEST_ACTION_LABELS = {"create": "提出申请", "review": "审核", "forward": "转发提供方", "answer": "提供方答复",
                         "execute": "执行答复", "dispute": "提出异议", "refer": "报请领导小组", "decide": "作出决定",
                         "withdraw": "撤回", "escalate": "逾期升级"}  # fmt: skip


class ChangeState(StrEnum):
    """A catalog change a steward proposed (§10): pending until the office approves or returns it."""

    PENDING = "pending"
    APPROVED = "approved"
    RETURNED = "returned"

    @property
    def label(self) -> str:
        return _CHANGE_LABELS[self]


_CHANGE_LABELS = {
    ChangeState.PENDING: "待审核",
    ChangeState.APPROVED: "已批准",
    ChangeState.RETURNED: "已退回",
}
