"""Errors as values people can read: the one shape every layer (connectors, checks, loads, services) reports in.

A `Problem` names where (row, column), what was found (value), what was expected, and says it in Chinese for the
agency (message_zh). The CLI, the Dagster metadata, the annotated workbook and the portal all render this one type.

Every code is registered below (`CODES`, plus a few families such as `check.<rule>` and `api.http_<status>`): its
Chinese title, its category — which audit check it counts against (`AuditVerdict`) and how a report groups it — and
whether it blocks publishing unless the code site says otherwise. `tests/core/test_problems.py` fails on a code used
in the source but missing here.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

log = logging.getLogger(__name__)


class Category(StrEnum):
    """What a problem is about; the audit checks and reports group problems by it."""

    FILE = "file"  # the delivered file cannot be read as a sheet at all
    SCHEMA = "schema"  # columns or types do not match the catalog
    KEYS = "keys"  # the primary key is not unique
    ROWS = "rows"  # values in rows break the catalog's rules (quarantined row by row)
    VOLUME = "volume"  # how much arrived (empty, far fewer rows than before, too many bad rows)
    SOURCE = "source"  # an interface or database the hub pulls from failed
    CATALOG = "catalog"  # the catalog, calendar or suite overrides are wrong
    ACCESS = "access"  # who may do what (§16–§17)
    WORKFLOW = "workflow"  # a declaration or request that the rules refuse (zero updates, periods)
    QUERY = "query"  # an analyst's query over a workspace (§14) that gave no answer
    HUB = "hub"  # the hub itself: internal errors, views, backups

    @property
    def label(self) -> str:
        return {
            "file": "文件",
            "schema": "结构",
            "keys": "主键",
            "rows": "记录",
            "volume": "数据量",
            "source": "数据源",
            "catalog": "资源目录",
            "access": "权限",
            "workflow": "流程",
            "query": "查询",
            "hub": "平台",
        }[self.value]


@dataclass(frozen=True)
class CodeInfo:
    code: str
    title_zh: str
    category: Category
    blocking: bool = True  # the default when the code site does not say


def _codes(category: Category, *entries: tuple[str, str] | tuple[str, str, bool]) -> dict[str, CodeInfo]:
    return {e[0]: CodeInfo(e[0], e[1], category, *e[2:]) for e in entries}


C = Category
CODES: dict[str, CodeInfo] = {
    **_codes(
        C.FILE,
        ("sheet.no_upload", "没有上传文件"),
        ("sheet.empty_file", "文件为空"),
        ("sheet.encoding", "文件编码无法识别"),
        ("sheet.encrypted", "文件已加密"),
        ("sheet.not_csv", "不是CSV文件"),
        ("sheet.not_xlsx", "不是Excel文件"),
        ("sheet.wrong_type", "文件类型不受支持"),
        ("sheet.no_sheet", "找不到工作表"),
        ("sheet.empty_sheet", "工作表为空"),
        ("sheet.no_rows", "没有数据行"),
        ("sheet.too_large", "文件解压后过大"),
        ("sheet.too_costly", "读取文件超出时间或内存限制"),
        ("sheet.area_too_large", "工作表区域过大"),
        (
            "sheet.too_many_columns",
            "列数过多",
        ),  # a file's shape: not worth marking cell by cell (16k columns)
        ("sheet.cell_too_long", "单元格内容过长"),
        ("sheet.unidentified", "无法识别文件所属资源"),
        ("landing.no_file", "文件不存在"),
    ),
    **_codes(
        C.SCHEMA,
        ("sheet.missing_column", "缺少必填列"),
        ("sheet.missing_optional_column", "缺少非必填列", False),
        ("sheet.unknown_column", "目录中没有的列"),
        ("sheet.duplicate_header", "表头重复"),
        ("sheet.empty_header", "表头为空"),
        ("sheet.header_row", "表头行不对"),
        ("sheet.merged_header", "表头有合并单元格"),
        ("sheet.outdated_template", "模板版本过旧"),
        ("sheet.wrong_template", "模板与资源不符"),
        ("db.missing_column", "数据源缺少目录中的列"),
        ("db.extra_column", "数据源有目录未登记的列", False),
        ("load.schema_mismatch", "数据缺少目录中的信息项"),
        ("load.type_mismatch", "数据类型与目录不一致"),
        ("check.schema", "数据列与目录不一致"),
        ("check.schema_type", "列的数据类型与目录不一致"),
    ),
    **_codes(
        C.KEYS,
        ("load.duplicate_key", "主键重复"),
        ("check.duplicate_key", "主键重复"),
        ("check.unique", "值重复"),
    ),
    **_codes(
        C.ROWS,
        ("sheet.ragged_row", "行的列数不对"),
        ("sheet.blank_rows", "数据中间的空行（已跳过）", False),
        ("sheet.control_character", "含有控制字符"),
        ("sheet.formula", "公式单元格"),
        ("sheet.merged_cells", "合并单元格"),
        ("type.precision_lost", "数值精度丢失"),
        # a column's failing cells explained once (connectors/diagnosis.py): the cause and how to fix it
        ("diagnosis.number_stored", "代码被存成了数字", False),
        ("diagnosis.full_width", "含全角字符", False),
        ("diagnosis.spaces", "含空格或不可见字符", False),
        ("diagnosis.id_lowercase_x", "身份证号末位是小写x", False),
        ("diagnosis.id_15_digits", "15位旧身份证号", False),
        ("diagnosis.date_serial", "日期被存成了数字", False),
        ("diagnosis.date_text", "日期写成了无法识别的文字", False),
        ("diagnosis.number_with_unit", "数值带有单位或文字", False),
    ),
    **_codes(
        C.VOLUME,
        ("load.empty", "没有任何记录"),
        ("load.no_good_rows", "没有合格的记录"),
        ("load.too_many_bad_rows", "问题记录过多"),
        ("load.too_few_rows", "记录数骤减"),
    ),
    **_codes(
        C.SOURCE,
        ("api.not_configured", "未登记接口"),
        ("api.bad_url", "接口地址有误"),
        ("api.connection", "接口无法连接"),
        ("api.timeout", "接口超时"),
        ("api.unauthorized", "接口拒绝访问"),
        ("api.malformed_json", "接口返回的不是JSON"),
        ("api.wrong_shape", "接口返回的结构不对"),
        ("api.cursor_loop", "接口分页游标循环"),
        ("api.schema_changed", "接口在拉取中途改变了结构"),
        ("db.not_configured", "未登记数据库"),
        ("db.bad_url", "数据库地址有误"),
        ("db.connection", "数据库无法连接"),
        ("db.missing_table", "数据库中没有该表"),
        ("db.query_failed", "数据库查询失败"),
        ("db.read_failed", "数据库读取失败"),
        ("secret.missing", "缺少密钥"),
        ("secret.file_invalid", "密钥文件格式错误"),
    ),
    **_codes(
        C.CATALOG,
        ("catalog.drift", "资源目录未及时更新"),
        ("catalog_change.invalid", "目录变更未通过校验"),
        ("catalog_change.wrong_resource", "目录变更不属于该资源"),
        ("catalog_change.incomplete", "目录变更信息不完整"),
        ("catalog_change.unchanged", "目录变更与现行目录相同"),
        ("catalog_change.unknown", "没有该目录变更"),
        ("catalog_change.wrong_state", "目录变更已办结"),
        ("catalog_change.unknown_resource", "目录中没有该资源"),
        ("calendar.unreadable", "工作日历无法读取"),
        ("calendar.bad_date", "工作日历日期有误"),
        ("calendar.bad_policy", "工作日历设置有误"),
        ("calendar.conflict", "工作日历冲突"),
        ("calendar.uncovered", "工作日历未覆盖该年份"),
        ("expectations.override", "质量规则覆盖有误"),
        ("expectations.unsupported", "不支持的质量规则"),
        ("period.invalid", "报送周期有误"),
        ("period.irregular", "不定期资源没有报送周期"),
    ),
    **_codes(
        C.ACCESS,
        ("access.denied", "无权操作"),
        ("people.unknown_person", "不是登记在册的人员"),
        ("people.inactive", "账号已停用"),
        ("people.no_role", "没有所需角色"),
        ("people.other_agency", "不能代其他机构操作"),
        ("people.incomplete", "人员信息不完整"),
        ("people.unknown_agency", "机构不在目录中"),
        ("people.bad_email", "电子邮箱地址无效"),
        ("people.bad_webhook", "机器人Webhook地址无效"),
        ("inbox.unattributed", "收件箱文件未注明上传人"),
        ("people.weak_password", "密码不符合要求"),
        ("people.wrong_password", "当前密码不正确"),
        ("people.locked", "账号已锁定"),
        ("people.changed_meanwhile", "密码已被另行修改"),
        ("people.no_office", "第一位人员须为协调办公室"),
        ("people.exists", "登录名已登记"),
        ("people.bad_login", "登录名不可用"),
        ("people.last_office", "不能去掉最后一位协调办公室人员"),
    ),
    **_codes(
        C.WORKFLOW,
        ("zero_update.irregular", "不定期资源无需零更新"),
        ("zero_update.source_changed", "源数据已变化"),
        ("zero_update.future_period", "报送周期尚未开始"),
        ("zero_update.already_updated", "该周期已有记录"),
        ("zero_update.before_published", "报送周期早于资源发布"),
        ("notify.future_as_of", "催报日期不能晚于今天"),
        ("notify.before_in_service", "催报日期不能早于平台启用日期"),
    ),
    **_codes(
        C.WORKFLOW,
        ("sharing.bad_deadlines", "共享期限设置有误"),
        ("sharing.unknown_agency", "机构不在目录中"),
        ("sharing.own_resource", "本单位资源无需申请"),
        ("sharing.not_in_force", "资源尚未发布"),
        ("sharing.not_shared", "不共享类资源不能申请"),
        ("sharing.unknown_field", "资源没有该信息项"),
        ("sharing.field_not_shared", "不共享的信息项不能申请"),
        ("sharing.incomplete", "申请信息不完整"),
        ("sharing.duplicate", "相同的申请正在办理"),
        ("sharing.bad_period", "使用期限不合理"),
        ("sharing.unknown_request", "没有该共享申请"),
        ("sharing.wrong_state", "申请当前状态不允许此操作"),
        ("sharing.refusal_without_basis", "不同意须写明理由和依据"),
        ("sharing.wider_than_asked", "授权超出申请范围"),
        ("sharing.narrow_unchanged", "有条件同意但未作任何限定"),
        ("sharing.refusal_with_scope", "不同意却给出了授权范围"),
        ("sharing.own_request", "办理本人提出的申请"),
        ("sharing.text_too_long", "填写的文字过长"),
        ("sharing.control_character", "填写的文字含有控制字符"),
        ("sharing.needs_provider", "须转发提供方答复"),
        ("sharing.no_provider_needed", "普遍共享无需提供方答复"),
        ("sharing.already_disputed", "已提出过异议"),
        ("sharing.nothing_to_dispute", "无需异议"),
        ("sharing.leading_group", "须记录领导小组的决定"),
        ("sharing.unknown_grant", "没有该共享授权"),
        ("sharing.already_revoked", "授权已撤销"),
    ),
    **_codes(
        C.HUB,
        ("load.internal_error", "系统内部错误"),
        ("load.reader_unavailable", "读取文件的进程无法运行"),
        ("load.step_failed", "后续处理步骤出错", False),
        ("load.reconciled", "中断后补记的发布", False),
        ("load.interrupted", "载入被中断"),
        ("load.disk_full", "磁盘空间不足"),
        ("load.event_deferred", "事件日志待补记", False),
        ("load.waited", "排队等待另一次载入", False),
        ("load.not_annotated", "文件较大，未生成错误标注工作簿", False),
        ("hub.not_built", "数据中心视图尚未建立"),
        ("hub.sync_failed", "重建数据中心视图失败"),
        ("backup.not_a_backup", "不是备份文件"),
        ("backup.unreadable", "备份文件无法读取"),
        ("backup.damaged", "备份文件已损坏"),
        ("backup.missing_member", "备份缺少文件"),
        ("backup.unexpected_member", "备份中有多余文件"),
        ("backup.target_not_empty", "恢复目标不是空目录"),
        ("backup.store_not_empty", "恢复目标数据库不为空"),
        ("backup.chain_broken", "事件日志校验失败"),
        ("backup.newer_store", "备份来自更新版本的平台"),
        ("backup.partial", "备份未完成（中断时留下的文件）"),
        ("backup.truncated", "备份文件不完整"),
        ("backup.absolute_name", "备份成员使用绝对路径"),
        ("backup.parent_name", "备份成员路径含“..”"),
        ("backup.hard_link", "备份中有硬链接"),
        ("backup.special_file", "备份中有设备文件或管道"),
        ("backup.unsupported_member", "备份成员类型不受支持"),
        ("backup.link_escape", "备份中的链接指向数据目录之外"),
        ("backup.through_link", "备份成员位于链接之下"),
        ("backup.duplicate_member", "备份成员重复"),
        ("backup.filtered", "备份成员未通过安全过滤"),
        ("backup.target_link", "恢复目标中有符号链接"),
        ("workspace.bad_name", "工作区文件名有歧义"),
        ("store.unreachable", "工作流数据库无法连接"),
        ("storage.unreachable", "对象存储无法访问"),
        ("storage.busy", "对象存储中的资源锁被占用"),
        ("config.audit_retention", "审计日志保存期限过短"),
        ("config.bad_date", "平台启用日期有误"),
        ("events.prune_too_recent", "不能清理保存期限内的审计日志"),
        ("events.nothing_to_prune", "没有可清理的审计日志"),
        ("store.bad_url", "工作流数据库地址有误"),
        ("store.unknown_revision", "工作流数据库版本未知"),
        ("workspace.build_failed", "重建部门工作区失败"),
    ),
    **_codes(
        C.ACCESS,  # what a workspace may hold (§14): scopes and the grants merged into them
        ("scope.unknown_agency", "目录中没有该部门"),
        ("scope.unknown_field", "资源没有该信息项"),
        ("scope.bad_identifier", "名称不合法"),
        ("scope.bad_value", "筛选值有误"),
        ("scope.bad_condition", "筛选条件有误"),
        ("scope.no_columns", "未授予任何信息项"),
        ("scope.mixed_snapshots", "同一资源的授权读取了不同快照"),
        ("scope.no_files", "快照没有数据文件"),
        ("scope.filter_field_missing", "快照中没有筛选所用的信息项"),
    ),
    **_codes(
        C.ACCESS,  # the docking API (资源共享对接服务): its tokens, and what a token's agency may reach
        ("token.bad_system", "对接系统名称有误"),
        ("token.exists", "该系统已有有效令牌"),
        ("token.unknown", "没有该接口令牌"),
        ("token.already_revoked", "接口令牌已撤销"),
        ("docking.no_token", "未提供接口令牌"),
        ("docking.unknown_token", "接口令牌无效"),
        ("docking.revoked_token", "接口令牌已撤销"),
        ("docking.not_in_scope", "无权访问该资源"),
        ("docking.unknown_resource", "没有该资源"),
        ("docking.rate_limited", "请求过于频繁"),
        ("docking.too_many_streams", "同时下载过多"),
    ),
    **_codes(
        C.QUERY,  # what a docking API request asked for that cannot be answered as asked
        ("docking.bad_request", "请求参数有误"),
        ("docking.bad_cursor", "分页游标无效"),
        ("docking.cursor_expired", "分页游标已过期"),
        ("docking.scope_changed", "授权范围已变化"),
        ("docking.snapshot_gone", "快照已不存在"),
        ("docking.bad_since", "起始快照有误"),
        ("docking.not_found", "接口地址不存在"),
        ("docking.method", "请求方式有误"),
        ("docking.too_large", "请求过大"),
        ("docking.timeout", "查询超时"),
        ("docking.failed", "接口内部错误"),
    ),
    **_codes(
        C.QUERY,
        ("sandbox.no_workspace", "工作区尚未建立"),
        ("sandbox.unavailable", "查询服务无法启动"),
        ("sandbox.timeout", "查询超时"),
        ("sandbox.memory", "查询超出内存限制"),
        ("sandbox.crashed", "查询进程异常终止"),
        ("sandbox.forbidden", "无权访问文件或外部资源"),
        ("sandbox.locked", "不能修改查询环境的设置"),
        ("sandbox.read_only", "工作区只读"),
        ("sandbox.no_table", "表不存在"),
        ("sandbox.syntax", "SQL语法错误"),
        ("sandbox.many_statements", "多条查询语句只返回最后一条的结果"),
        ("sandbox.no_column", "信息项不存在或未共享"),
        ("sandbox.no_function", "函数不存在"),
        ("sandbox.types", "参数类型不匹配"),
        ("sandbox.group_by", "信息项须列入GROUP BY"),
        ("sandbox.conversion", "值无法转换类型"),
        ("sandbox.invalid", "查询有误"),
        ("sandbox.failed", "查询失败"),
        ("sandbox.empty", "未输入查询"),
    ),
}
# Families whose last part varies: `check.<rule>` (from the catalog's rules and semantic types), `type.<field type>`
# (a value that is not of its field's type) and `api.http_<status>`.
FAMILIES: dict[str, CodeInfo] = {
    "check.": CodeInfo("check.*", "值不符合目录规则", C.ROWS),
    "type.": CodeInfo("type.*", "值的类型不对", C.ROWS),
    "api.http_": CodeInfo("api.http_*", "接口返回错误状态", C.SOURCE),
}
UNKNOWN = CodeInfo("?", "其他问题", C.HUB)


def code_info(code: str) -> CodeInfo:
    """What the registry says about `code` (exact codes first, then the families)."""
    found = CODES.get(code)
    if found is not None:
        return found
    for prefix, info in FAMILIES.items():
        if code.startswith(prefix):
            return info
    return UNKNOWN


def is_registered(code: str) -> bool:
    return code_info(code) is not UNKNOWN


@dataclass(frozen=True)
class Problem:
    code: str  # a registered code, e.g. "sheet.missing_column", "api.timeout", "check.cn_id"
    message_zh: str  # for agency users, complete on its own
    row: int | None = None  # source row as the agency sees it (sheet row number; record ordinal for API/DB)
    column: str | None = None  # the column header as delivered (or the catalog label)
    value: str | None = None
    expected: str | None = None
    field: str | None = None  # catalog field name, when known
    blocking: bool | None = None  # False: only a warning; None: the code's registered default

    def __post_init__(self) -> None:
        info = code_info(self.code)
        if info is UNKNOWN:  # a bug, but never one that turns a user's error message into a crash
            log.warning("problem code %r is not registered in govhub.problems.CODES", self.code)
        if self.blocking is None:
            object.__setattr__(self, "blocking", info.blocking)

    @property
    def category(self) -> Category:
        return code_info(self.code).category

    @property
    def title_zh(self) -> str:
        return code_info(self.code).title_zh

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
        # the fields are plain values: no deep copy (asdict cost 90 µs a problem; a report may hold 100k+)
        return {k: v for k in self.__dataclass_fields__ if (v := getattr(self, k)) is not None}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Problem:
        return cls(**{k: data[k] for k in cls.__dataclass_fields__ if k in data})


class GovhubError(Exception):
    """A failure to report to a person, never as a traceback: carries one or more Problems."""

    def __init__(self, problems: list[Problem] | Problem, *, retryable: bool = False):
        self.problems = [problems] if isinstance(problems, Problem) else list(problems)
        self.retryable = retryable
        super().__init__("；".join(str(p) for p in self.problems[:20]))


class AccessDenied(GovhubError):
    """The registry says this person may not do this (§16); already recorded in the event log when raised."""


_OS_REASONS_ZH = {
    "EEXIST": "路径中有一段已是文件（不是文件夹）",
    "ENOTDIR": "路径中有一段是文件而不是文件夹",
    "EISDIR": "这是一个文件夹，请给出文件名",
    "ENOENT": "文件或文件夹不存在",
    "EACCES": "没有权限",
    "EPERM": "不允许这样操作",
    "EROFS": "文件系统是只读的",
    "ENOSPC": "磁盘空间不足",
    "EDQUOT": "磁盘配额已用完",
    "ENAMETOOLONG": "文件名太长",
    "EBUSY": "文件正被占用",
}


def os_error_zh(exc: OSError) -> str:
    """What the operating system refused, said in Chinese with the path it refused (never Python's own text):
    "无法写入或读取 /tmp/a.csv/x.csv：路径中有一段已是文件（不是文件夹）"."""
    import errno

    name = errno.errorcode.get(exc.errno or 0, "")
    reason = _OS_REASONS_ZH.get(name, f"系统错误 {name or exc.errno}")
    path = exc.filename2 or exc.filename or ""  # a move names where it went second
    if str(path).endswith(".partial"):  # the temporary file beside the one asked for: name its folder
        import os

        path = os.path.dirname(str(path)) or path
    return f"无法写入或读取 {path}：{reason}" if path else f"文件操作失败：{reason}"
