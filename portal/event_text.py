"""Events and their details in words: the audit log and a request's history as the office and agencies read them.

The event log stores kinds (`request.answer`) and payloads with English keys, as every tool reads them
(`govhub events --json`, the hash chain); people read Chinese. One table of labels for the keys, one reading of each
kind (its family's word and, for loads, ledgers and requests, the state it names), values in words: agencies by
name, states and decisions by their labels, lists joined, row scopes as conditions. A key or kind no label knows is
shown as stored — the audit log never hides what happened.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Mapping
from typing import Any

from govhub.catalog.model import Agency, ShareType
from govhub.clock import beijing_text
from govhub.roles import Role
from govhub.states import REQUEST_ACTION_LABELS, Decision, LedgerState, LoadStatus, RequestState, Step

# the words for payload keys, in the order they are shown (what it is about, then what happened, then the rest)
KEY_LABELS = {
    "resource": "资源", "agency": "机构", "consumer": "申请方", "provider": "提供方", "name": "姓名",
    "roles": "角色", "state": "状态", "status": "结果", "decision": "意见", "approve": "审核通过",
    "fields": "信息项", "rows": "记录范围", "row_scope": "记录范围", "purpose": "用途", "purposes": "用途",
    "share_type": "共享类型", "conditions": "条件", "reason": "理由", "legal_basis": "依据", "note": "说明",
    "late": "逾期", "missed": "原答复期限", "leading_group": "领导小组决定", "deadline": "期限", "step": "环节",
    "on": "办理日", "by": "办理人", "at": "时间", "id": "编号", "request_id": "申请编号", "grants": "所用授权",
    "bases": "访问依据", "starts_on": "起始日", "expires_on": "到期日", "created_by": "办理人",
    "created_at": "办理时间", "period": "期间", "trigger": "触发方式", "verdict": "校验结论",
    "inserted": "新增行", "updated": "修改行", "deleted": "删除行", "unchanged": "未变行", "quarantined": "隔离行",
    "held": "暂存行", "problem_count": "问题数", "problems": "问题", "problems_truncated": "问题未列全",
    "sql": "查询语句", "truncated": "结果已截断", "format": "格式", "via": "途径", "token": "令牌",
    "system": "对接系统", "path": "路径", "since": "变化起点", "error": "错误", "complete": "完整送达",
    "tables": "表及行数", "bytes": "字节数", "files": "文件数", "duration_s": "用时（秒）", "client": "客户端",
    "failures": "连续失败次数", "until": "锁定至", "sessions": "结束的会话数", "kept_own": "保留本会话",
    "channels": "联系方式", "subject": "主题", "action": "操作", "code": "代码", "pruned": "清理条数",
    "through_id": "清理至编号", "before": "变更前", "snapshot_id": "快照", "previous_snapshot_id": "上一快照",
    "load_id": "载入编号", "landing_sha256": "文件摘要（SHA-256）", "report_path": "校验报告",
    "annotated_path": "批注工作簿", "event_head": "日志链头", "backed_up_at": "备份时间", "method": "请求方式",
    "to": "收件人",
    "note_zh": "说明", "passed": "通过", "change_id": "变更编号", "due": "目录更新期限",
}  # fmt: skip
# a moment as the store keeps it (UTC `…Z`, or with its offset): shown in Beijing time, as every page shows moments
_MOMENT = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})")
_ORDER = {key: i for i, key in enumerate(KEY_LABELS)}
_REPEATS = {"problems_shown"}  # said by problem_count and problems_truncated
_COUNTS = {
    "inserted",
    "updated",
    "deleted",
    "unchanged",
    "quarantined",
    "held",
    "problem_count",
}  # 0: not said
_FLAGS = {"problems_truncated", "truncated"}  # said only when true

# an event kind's family (the audit log's filter offers each as `family.*`), and the kinds read whole
KIND_FAMILIES = {
    "load": "载入", "ledger": "报送台账", "request": "共享申请", "grant": "共享授权", "notice": "催报通知",
    "session": "登录", "people": "人员", "token": "接口令牌", "api": "对接接口", "query": "查询",
    "export": "导出", "workspace": "工作区", "backup": "备份", "events": "审计日志", "catalog": "资源目录",
    "zero_update": "零更新", "access": "访问",
}  # fmt: skip
_KINDS = {
    "access.denied": "拒绝越权操作", "api.call": "对接接口调用", "api.failed": "对接接口调用被拒或失败",
    "backup.created": "备份数据中心", "backup.restored": "恢复数据中心", "catalog.drift": "资源目录与报送不一致",
    "events.pruned": "清理过期审计日志", "export.written": "导出查询结果", "grant.issued": "授予共享权限",
    "grant.revoked": "撤销共享授权", "grant.expired": "共享授权到期", "people.registered": "登记或变更人员",
    "people.deactivated": "停用人员", "people.contact_changed": "变更联系方式", "people.password_set": "设置门户密码",
    "people.password_changed": "修改本人密码", "people.password_change_refused": "修改密码被拒（原密码错误）",
    "query.run": "查询工作区", "query.failed": "查询失败或被拒", "request.reminded": "共享申请到期提醒",
    "session.signed_in": "登录", "session.sign_in_failed": "登录失败", "session.locked_out": "账号锁定",
    "session.signed_out": "退出登录", "session.ended": "结束其他会话", "token.created": "签发接口令牌",
    "token.revoked": "撤销接口令牌", "workspace.built": "生成工作区", "workspace.downloaded": "下载工作区",
    "zero_update.declared": "申报零更新", "notice.remind": "截止前提醒", "notice.escalate": "逾期通知",
    "notice.digest": "每日待办汇总", "load.reconciled": "补记已发布的载入",
    "catalog.change_proposed": "提出资源目录变更", "catalog.change_approved": "批准资源目录变更",
    "catalog.change_returned": "退回资源目录变更",
}  # fmt: skip
_STATE_OF_FAMILY: dict[str, Any] = {"load": LoadStatus, "ledger": LedgerState}


def kind_label(kind: str) -> str:
    """An event kind in words (`request.answer` → 共享申请：提供方答复); an unknown kind as stored."""
    if kind in _KINDS:
        return _KINDS[kind]
    family, _, rest = kind.partition(".")
    if family == "request" and rest in REQUEST_ACTION_LABELS:
        return f"共享申请：{REQUEST_ACTION_LABELS[rest]}"
    states = _STATE_OF_FAMILY.get(family)
    if states is not None and rest in states.__members__.values():
        return f"{KIND_FAMILIES[family]}：{states(rest).label}"
    return f"{KIND_FAMILIES[family]}：{rest}" if family in KIND_FAMILIES and rest else kind


def value_text(key: str, value: Any, agencies: Mapping[str, Agency]) -> str:
    """One payload value in words, by what its key says it is."""
    from govhub.governance.sharing import describe_rows

    if isinstance(value, bool):
        return "是" if value else "否"
    if key in ("rows", "row_scope") and isinstance(value, list):
        return describe_rows(value)
    # a load's three checks, each a sentence (warehouse.verdict)
    if key == "verdict" and isinstance(value, dict):
        checks = [value.get(name) for name in ("schema", "keys", "rows")]
        return "；".join(str(c["note_zh"]) for c in checks if isinstance(c, dict) and "note_zh" in c)
    if key in ("agency", "consumer", "provider") and isinstance(value, str) and value in agencies:
        agency = agencies[value]
        return agency.display_name
    enum = _ENUMS_OF.get(key)
    if enum is not None and isinstance(value, str) and value in enum.__members__.values():
        return str(enum(value).label)
    if key == "roles" and isinstance(value, str):
        return "、".join(
            Role(r).label if r in Role.__members__.values() else r for r in value.split(",") if r
        )
    if key == "problems" and isinstance(value, list):
        return "；".join(p.get("message_zh", json.dumps(p, ensure_ascii=False)) if isinstance(p, dict) else str(p)
                        for p in value)  # fmt: skip
    if isinstance(value, list):
        return "、".join(v if isinstance(v, str) else json.dumps(v, ensure_ascii=False) for v in value)
    if isinstance(value, dict):  # nested keys in words too, each value read by its own key
        return "，".join(
            f"{KEY_LABELS.get(str(k), k)}：{value_text(str(k), v, agencies)}" for k, v in value.items()
        )
    if isinstance(value, str) and _MOMENT.fullmatch(value):
        return beijing_text(value, seconds=True)
    return str(value)


# keys whose values are one of our states (a load's `status`, a request's `state`, …)
_ENUMS_OF: dict[str, Any] = {"state": RequestState, "status": LoadStatus, "decision": Decision, "step": Step,
                             "share_type": ShareType}  # fmt: skip


def payload_items(
    payload: Mapping[str, Any], agencies: Mapping[str, Agency], *, keys: Collection[str] | None = None
) -> list[tuple[str, str]]:
    """The payload as (label, text) pairs in a fixed order, empty values left out. `keys` keeps those keys alone and
    leaves out what is false (a request's history); without it every key is shown, unknown ones under their stored
    name (the audit log)."""
    shown = [k for k in payload if k not in _REPEATS and (keys is None or k in keys)]
    shown.sort(key=lambda k: (_ORDER.get(k, len(_ORDER)), k))
    items = []
    for key in shown:
        value = payload[key]
        if (
            value is None
            or value == ""
            or value == []
            or value == {}
            or (keys is not None and value is False)
        ):
            continue
        if (value == 0 and key in _COUNTS) or (value is False and key in _FLAGS):
            continue
        label = "行数" if key == "rows" and isinstance(value, int) else KEY_LABELS.get(key, key)
        items.append((label, value_text(key, value, agencies)))
    return items
