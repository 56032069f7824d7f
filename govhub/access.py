"""Who may do what, for which agency (§16 access control; §17 whoever acts is responsible).

Every service calls `authorize(settings, actor, Action.X, agency)` before it acts: one rule table, one place, whatever
the entry point (CLI, inbox, Dagster, portal). A refusal is written to the event log (`access.denied`, with the
reason) and raised as `AccessDenied` with a Chinese message; an allowed actor comes back with the name to record.

A hub whose registry is still empty runs open (a first installation): actions are recorded under the name given.
Once anyone is registered, the actor must be a registered, active person holding one of the action's roles, acting
for their own agency where the action is agency-bound; the office (区科委) acts for any agency. System actors (the
scheduler, Dagster launches) may only do what their rule says — they never deliver an agency's sheet.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum

from govhub.config import Settings
from govhub.people import Person, find_person, list_people
from govhub.problems import AccessDenied, Problem
from govhub.roles import Role

# System actors: name as recorded → who it is. Never registered people; never an agency's steward.
SYSTEM_ACTORS = {
    "system:schedule": "定时调度",  # a Dagster schedule pulling an interface-fed resource
    "system:dagster": "Dagster 手动运行",  # an engineer launching a run from the Dagster UI
    "system:sensor": "系统传感器",  # freshness/escalation sensors
}
# A sheet dropped into the inbox outside any person's folder: delivered as this on an open hub, refused otherwise.
UNATTRIBUTED = "inbox"


@dataclass(frozen=True)
class Rule:
    action_zh: str
    roles: frozenset[Role]  # roles that may do it for their own agency
    any_agency: frozenset[Role] = frozenset()  # roles that may do it for any agency
    system: bool = False  # system actors may do it
    office: bool = True  # the office may do it for any agency (not: answer a request in the provider's stead)


def _rule(
    action_zh: str, *roles: Role, any_agency: tuple[Role, ...] = (), system: bool = False, office: bool = True
) -> Rule:
    return Rule(action_zh, frozenset(roles), frozenset(any_agency), system, office)


class Action(StrEnum):
    UPLOAD = "upload"  # deliver a fill-in sheet (§11)
    ZERO_UPDATE = "zero_update"  # declare 零更新 for a period (§11)
    PULL = "pull"  # pull an interface- or database-fed resource now
    BACKUP = "backup"  # write the whole hub to an archive (§16)
    RESTORE = "restore"  # restore an archive into an empty hub (§16)
    MANAGE_PEOPLE = "manage_people"  # register, change or deactivate people (§16)
    OVERSEE = "oversee"  # watch every agency's feeds, freshness and scorecards (§18)
    AUDIT = "audit"  # read the audit trail and verify its chain (§16)
    PRUNE_AUDIT = "prune_audit"  # remove events past their retention (≥ 6 months, 网络安全法 Art. 21)
    REQUEST_SHARING = "request_sharing"  # file a sharing request for one's agency (§13)
    DISPUTE_SHARING = "dispute_sharing"  # dispute the answer to one's agency's request (§13)
    WITHDRAW_SHARING = "withdraw_sharing"  # withdraw one's agency's request (its clock stops)
    COORDINATE_SHARING = "coordinate_sharing"  # review, forward, execute, decide, refer (the office, §13)
    ANSWER_SHARING = "answer_sharing"  # answer a request for one's agency's resource (the provider, §13)
    REVOKE_GRANT = "revoke_grant"  # revoke a grant of one's agency's resource (§12)
    VIEW_SHARING = "view_sharing"  # see the requests and grants one's agency is party to
    RUN_SHARING_CLOCK = "run_sharing_clock"  # escalate, remind and expire on the sharing clock (§13)
    QUERY = "query"  # query one's agency's workspace (§14: own data, base resources, live grants)
    DOWNLOAD_WORKSPACE = "download_workspace"  # take a copy of one's agency's workspace file
    BUILD_WORKSPACE = "build_workspace"  # rebuild an agency's workspace now
    VIEW_WORKSPACE = "view_workspace"  # see what an agency's workspace holds (tables, fields, rows, grants)
    MANAGE_TOKENS = "manage_tokens"  # issue, list and revoke the docking API's tokens of one's agency (§13)
    PROPOSE_CATALOG_CHANGE = "propose_catalog_change"  # propose one's agency's catalog entries (§10)
    REVIEW_CATALOG_CHANGE = "review_catalog_change"  # approve or return them (the office, §10)

    @property
    def rule(self) -> Rule:
        return RULES[self]


RULES: dict[Action, Rule] = {
    Action.UPLOAD: _rule("上传填报文件", Role.STEWARD),
    Action.ZERO_UPDATE: _rule("申报零更新", Role.STEWARD),
    Action.PULL: _rule("汇聚接口/数据库数据", Role.STEWARD, any_agency=(Role.ENGINEER,), system=True),
    Action.BACKUP: _rule("备份数据中心", any_agency=(Role.ENGINEER,)),
    Action.RESTORE: _rule("恢复数据中心", any_agency=(Role.ENGINEER,)),
    Action.MANAGE_PEOPLE: _rule("管理人员和角色"),  # the office only
    Action.OVERSEE: _rule("查看全区报送与考核情况", any_agency=(Role.ENGINEER,)),
    Action.AUDIT: _rule("查看审计日志"),  # the office only
    Action.PRUNE_AUDIT: _rule("清理过期审计日志"),  # the office only
    Action.REQUEST_SHARING: _rule("提出共享申请", Role.STEWARD, Role.REVIEWER, Role.ANALYST),
    Action.DISPUTE_SHARING: _rule("对共享申请的答复提出异议", Role.STEWARD, Role.REVIEWER, Role.ANALYST),
    Action.WITHDRAW_SHARING: _rule("撤回共享申请", Role.STEWARD, Role.REVIEWER, Role.ANALYST),
    Action.COORDINATE_SHARING: _rule("审核和协调共享申请"),  # the office only
    Action.ANSWER_SHARING: _rule("答复共享申请", Role.STEWARD, Role.REVIEWER, office=False),
    Action.REVOKE_GRANT: _rule("撤销共享授权", Role.STEWARD, Role.REVIEWER),
    Action.VIEW_SHARING: _rule("查看共享申请和授权", *Role),
    Action.RUN_SHARING_CLOCK: _rule("运行共享时限检查", any_agency=(Role.ENGINEER,), system=True),
    # the full hub.duckdb is the engineers' and the office's; analysts query what their agency may reach
    Action.QUERY: _rule("查询本部门工作区", Role.ANALYST, office=False),
    Action.DOWNLOAD_WORKSPACE: _rule("下载本部门工作区", Role.ANALYST, office=False),
    Action.BUILD_WORKSPACE: _rule("重建工作区", Role.ANALYST, any_agency=(Role.ENGINEER,), system=True),
    # what a workspace holds names another agency's grants and their rows: for who may build it, no one else
    Action.VIEW_WORKSPACE: _rule("查看工作区范围", Role.ANALYST, any_agency=(Role.ENGINEER,)),
    # a token reads what the agency may reach: its steward answers for the systems holding one (§17)
    Action.MANAGE_TOKENS: _rule("管理本部门接口令牌", Role.STEWARD),
    # §10: the agency's steward keeps its entries current; the office publishes the catalog
    Action.PROPOSE_CATALOG_CHANGE: _rule("提出资源目录变更", Role.STEWARD),
    Action.REVIEW_CATALOG_CHANGE: _rule("审核资源目录变更"),  # the office only
}


@dataclass(frozen=True)
class Actor:
    """Someone allowed to act: the name recorded with their actions, and who they are."""

    name: str
    person: Person | None = None  # None: a system actor, or anyone on an open hub
    system: bool = False

    @property
    def agency(self) -> str | None:
        return self.person.agency if self.person else None

    def has(self, role: Role) -> bool:
        return self.person is not None and role in self.person.roles


def _deny(settings: Settings, ref: str, action: Action, agency: str | None, problem: Problem) -> AccessDenied:
    from govhub.events import record_event

    record_event(
        settings,
        kind="access.denied",
        actor=ref or "(无)",
        agency=agency,
        subject=f"action/{action.value}",
        payload={"action": action.value, "reason": problem.message_zh, "code": problem.code},
    )
    return AccessDenied(problem)


def decide(
    people: list[Person], ref: str, action: Action, agency: str | None, names: Mapping[str, str] | None = None
) -> Actor | Problem:
    """The rule table applied to the registry (pure: no events); an `Actor`, or the `Problem` saying why not
    (agencies in it by their `names` when given, else by id)."""
    rule = action.rule
    what = rule.action_zh
    if ref in SYSTEM_ACTORS:
        if rule.system:
            return Actor(ref, system=True)
        return Problem("access.denied", f"{SYSTEM_ACTORS[ref]}不能{what}，需由具体人员操作", value=ref)
    if not ref.strip():
        return Problem(
            "people.unknown_person", f"{what}必须由具体人员操作（谁操作谁负责）", expected="登录名"
        )
    if not people:
        return Actor(ref)
    if ref == UNATTRIBUTED:
        return Problem("inbox.unattributed", f"收件箱中的文件没有放在上传人的文件夹里（inbox/机构/资源/登录名/），无法确认由谁{what}",
                       expected="放入本人登录名的文件夹")  # fmt: skip
    person = find_person(people, ref)
    if person is None:
        return Problem("people.unknown_person", f"“{ref}”不是登记在册的人员，不能{what}", value=ref)
    if not person.active:
        return Problem(
            "people.inactive", f"{person.name}（{person.id}）的账号已停用，不能{what}", value=person.id
        )
    held = set(person.roles)
    if (rule.office and Role.OFFICE in held) or rule.any_agency & held:
        return Actor(person.name, person)
    if not rule.roles & held:
        need = "或".join(
            r.label for r in [*sorted(rule.roles | rule.any_agency), *([Role.OFFICE] if rule.office else [])]
        )
        return Problem("people.no_role", f"{person.name}的角色为{'、'.join(r.label for r in person.roles)}，"
                       f"{what}需要{need}角色", value=person.id, expected=need)  # fmt: skip
    if agency is not None and person.agency != agency:
        named = names or {}
        return Problem("people.other_agency",
                       f"{person.name}属于{named.get(person.agency or '', person.agency)}，不能为{named.get(agency, agency)}{what}",
                       value=person.id, expected=agency)  # fmt: skip
    return Actor(person.name, person)


def authorize(settings: Settings, ref: str, action: Action, agency: str | None = None) -> Actor:
    """`ref` (login id, or a name unique in the registry, or a system actor) doing `action` for `agency`; raises
    `AccessDenied` — already recorded as `access.denied` — when the registry says no."""
    verdict = decide(list_people(settings), ref, action, agency, _NamesWhenAsked(settings))
    if isinstance(verdict, Problem):
        raise _deny(settings, ref, action, agency, verdict)
    return verdict


class _NamesWhenAsked(Mapping[str, str]):
    """Agency names read from agencies.yaml only if a refusal needs them; none (ids shown) if it cannot be read —
    a refusal is recorded whether or not the names can be."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._names: dict[str, str] | None = None

    def _read(self) -> dict[str, str]:
        if self._names is None:
            try:
                self._names = agency_names(self._settings)
            except Exception:
                self._names = {}
        return self._names

    def __getitem__(self, key: str) -> str:
        return self._read()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._read())

    def __len__(self) -> int:
        return len(self._read())


def agency_names(settings: Settings) -> dict[str, str]:
    """Each agency's short name (or name) by id, from the catalog's agencies.yaml; {} when it cannot be read."""
    from govhub.catalog.load import load_agencies

    agencies, _ = load_agencies(settings.catalog_dir)
    return {a.id: a.display_name for a in agencies.values()}
