"""`govhub request create|list|show|review|forward|answer|execute|dispute|refer|decide|withdraw|tick` (§12–§13).

Every verb calls one function of `govhub.services.requests`, which authorizes `--by` itself; `--json` prints the
request as stored. Row scopes are given as `--rows "FIELD in A,B,C"` or `--rows "FIELD between LOW HIGH"`
(repeatable, combined with AND) — structured conditions, never SQL.
"""

from __future__ import annotations

import argparse
from typing import Any

from govhub.cli.common import checked_agency
from govhub.cli.ingest_cmd import actor_of
from govhub.clock import beijing_text, stored_moment, today_in_beijing
from govhub.states import REQUEST_ACTION_LABELS, RequestState


def row_condition(text: str) -> dict[str, Any]:
    """An argparse type: "town in 310117101,310117102" or "reg_date between 2026-01-01 2026-06-30"."""
    from govhub.governance.sharing import parse_row_condition
    from govhub.problems import GovhubError

    try:
        return parse_row_condition(text)
    except GovhubError as exc:
        raise argparse.ArgumentTypeError(exc.problems[0].message_zh) from None


def _csv(text: str) -> list[str]:
    """`--fields a,b`: at least one name (leaving the option out is what asks for every field that may be shared)."""
    names = [v.strip() for v in text.replace("，", ",").split(",") if v.strip()]
    if not names:
        raise argparse.ArgumentTypeError(
            "请列出信息项的名称，以逗号分隔（不写 --fields 即申请全部可共享的信息项）"
        )
    return names


def register(sub: argparse._SubParsersAction) -> None:
    from govhub.cli.common import iso_date
    from govhub.cli.ingest_cmd import add_actor
    from govhub.states import Decision, RequestState

    p = sub.add_parser("request", help="共享申请（§13）：提出、审核、答复、异议、决定、撤回")
    verbs = p.add_subparsers(dest="verb", required=True, metavar="VERB")

    def verb(name: str, help_text: str, handler: Any, *, request_id: bool = True) -> argparse.ArgumentParser:
        v = verbs.add_parser(name, help=help_text)
        if request_id:
            v.add_argument("id", help="申请编号，如 SQ-20261127-0001")
        # no --as-of: a transition happens today, on the record (a date of one's choosing would backdate answers,
        # move deadlines and escalate early); the services take `today` for tests and the demo's history
        add_actor(v, "操作人，记录在案，并按其角色和机构核查权限")
        v.add_argument("--json", action="store_true")
        v.set_defaults(handler=handler)
        return v

    def scope(v: argparse.ArgumentParser, fields_help: str) -> None:
        v.add_argument("--fields", type=_csv, help=fields_help)
        v.add_argument("--rows", type=row_condition, action="append", default=None,
                       help='记录条件，可多次给出："FIELD in A,B" 或 "FIELD between LOW HIGH"')  # fmt: skip

    c = verb("create", "就一个资源提出共享申请（信息项、记录范围、用途、依据、使用期限）", create,
             request_id=False)  # fmt: skip
    c.add_argument("resource", help="资源代码、机构/资源标识或 id")
    scope(c, "申请的信息项，逗号分隔（默认：全部可共享的信息项）")
    c.add_argument("--purpose", required=True, help="用途：数据用来做什么（§12：仅限履行本机构职责）")
    c.add_argument("--basis", required=True, help="业务依据或法律依据")
    c.add_argument("--from", dest="use_from", type=iso_date, help="使用期限起始日（默认：今天）")
    c.add_argument("--until", dest="use_until", type=iso_date, required=True, help="使用期限截止日")
    c.add_argument("--consumer", help="申请单位（默认：本机构）")

    ls = verb("list", "列出你可查看的申请（本机构的；区科委可看全部）", list_cmd, request_id=False)
    ls.add_argument("--agency")
    ls.add_argument("--state", action="append", choices=[s.value for s in RequestState], metavar="STATE",
                    help="只看处于此状态的申请，可多次给出：" + "、".join(s.value for s in RequestState))  # fmt: skip
    verb("show", "查看一项申请及其办理经过", show)

    r = verb("review", "区科委：同意无条件共享的申请，或说明理由退回申请", review)
    r.add_argument("--approve", action="store_true")
    r.add_argument("--return", dest="returned", action="store_true")
    r.add_argument("--reason")
    verb("forward", "区科委：将有条件共享的申请转给提供方，须在 10 个工作日内答复",
         forward)  # fmt: skip

    decisions = [d.value for d in Decision]
    a = verb(
        "answer",
        "提供方答复：approve 同意、narrow 有条件同意（附条件或缩减信息项、记录）、refuse 不同意（须说明依据）",
        answer,
    )
    a.add_argument("decision", choices=decisions)
    scope(a, "授权的信息项，逗号分隔（默认：与申请相同）")
    a.add_argument("--conditions", help="使用条件")
    a.add_argument("--reason")
    a.add_argument("--legal-basis")
    verb("execute", "区科委：执行提供方的答复（授权或不同意）", execute)
    d = verb("dispute", "申请方：对不同意或有条件同意提出异议", dispute)
    d.add_argument("--reason", required=True)
    f = verb("refer", "区科委：将异议报请领导小组", refer)
    f.add_argument("--note", required=True)
    x = verb("decide", "区科委：对逾期未答复或有异议的申请作决定（或记录领导小组决定）",
             decide)  # fmt: skip
    x.add_argument("decision", choices=decisions)
    scope(x, "授权的信息项，逗号分隔（默认：与申请相同）")
    x.add_argument("--conditions")
    x.add_argument("--reason")
    x.add_argument("--legal-basis")
    x.add_argument("--leading-group", action="store_true", help="此决定由领导小组作出")
    w = verb("withdraw", "申请方：撤回未办结的申请（停止计时）", withdraw)
    w.add_argument("--reason", default="")
    verb(
        "tick",
        "立即运行共享时限检查：逾期未答复的升级、发送提醒、到期授权失效",
        tick,
        request_id=False,
    )


def _print(args: argparse.Namespace, request: Any, history: list[dict[str, Any]] | None = None) -> int:
    from govhub.cli.output import print_json

    if args.json:
        print_json({**request.to_dict(), **({"history": history} if history is not None else {})})
        return 0
    print(f"{request.id}  {request.key}  {request.consumer} → {request.provider}  「{request.state.label}」")
    print(f"  信息项：{'、'.join(request.fields)}")
    if request.row_scope:
        from govhub.governance.sharing import describe_rows

        print(f"  记录范围：{describe_rows(request.row_scope)}")
    print(
        f"  用途：{request.purpose}；依据：{request.basis}；使用期限：{request.use_from} ～ {request.use_until}"
    )
    if request.deadline:
        print(f"  待办：{request.deadline_step.label}，期限 {request.deadline}（工作日计）")
    if request.answer:
        from govhub.governance.sharing import describe_rows

        a = request.answer
        by = f"领导小组决定，{a.by}记录" if a.leading_group else a.by
        print(f"  答复/决定：{a.decision.label}（{by}）" + (f"，理由：{a.reason}" if a.reason else "")
              + (f"，依据：{a.legal_basis}" if a.legal_basis else "") + (f"，条件：{a.conditions}" if a.conditions else ""))  # fmt: skip
        if a.fields and a.fields != request.fields:
            print(f"  授权信息项：{'、'.join(a.fields)}")
        if a.fields and a.row_scope != request.row_scope:  # what the grant covers, not what was asked
            print(f"  授权记录范围：{describe_rows(a.row_scope) if a.row_scope else '全部记录'}")
    if request.answered_late:
        print("  提供方逾期答复（计入考核）")
    if request.grant_id:
        from govhub.governance.grants import get_grant

        # an approved request's grant may be revoked or over
        grant = get_grant(args.settings, request.grant_id)
        print(f"  共享授权：{request.grant_id}（{grant.status_label(today_in_beijing())}）")
    for h in history or []:
        was = RequestState(h["from_state"]).label if h["from_state"] else "—"
        print(f"  {beijing_text(stored_moment(h['at']))}  {REQUEST_ACTION_LABELS.get(h['action'], h['action'])}："
              f"{was} → {RequestState(h['to_state']).label}  {h['actor']}")  # fmt: skip
    return 0


def create(args: argparse.Namespace) -> int:
    from govhub.cli.common import find_resource, settings_and_catalog
    from govhub.services.requests import file_request

    settings, catalog = settings_and_catalog(args)
    request = file_request(settings, catalog, find_resource(catalog, args.resource), actor=actor_of(args),
                           fields=args.fields or [], row_scope=args.rows or [], purpose=args.purpose, basis=args.basis,
                           use_from=args.use_from or today_in_beijing(), use_until=args.use_until,
                           consumer=args.consumer)  # fmt: skip
    return _print(args, request)


def list_cmd(args: argparse.Namespace) -> int:
    from govhub.cli.output import print_json, print_table
    from govhub.services.requests import visible_requests
    from govhub.states import RequestState

    states = [RequestState(s) for s in args.state] if args.state else None
    found = visible_requests(args.settings, actor=actor_of(args), agency=checked_agency(args), states=states)
    if args.json:
        print_json([r.to_dict() for r in found])
        return 0
    from govhub.governance.grants import list_grants

    today = today_in_beijing()
    grants = {g.id: g for g in list_grants(args.settings)} if any(r.grant_id for r in found) else {}

    def grant_text(grant_id: str | None) -> str:
        grant = grants.get(grant_id or "")
        return f"{grant_id}（{grant.status_label(today)}）" if grant else (grant_id or "")

    rows = [
        (r.id, r.key, r.consumer, r.state.label, r.deadline or "—", grant_text(r.grant_id)) for r in found
    ]
    print_table(["申请编号", "资源", "申请单位", "状态", "期限", "授权"], rows)
    return 0


def show(args: argparse.Namespace) -> int:
    from govhub.services.requests import show_request

    request, history = show_request(args.settings, args.id, actor=actor_of(args))
    return _print(args, request, history)


def review(args: argparse.Namespace) -> int:
    from govhub.cli.common import CliError, settings_and_catalog
    from govhub.services.requests import review as review_request

    if args.approve == args.returned:
        raise CliError("请选择 --approve（同意）或 --return --reason 理由（退回）之一", code=2)
    settings, catalog = settings_and_catalog(args)
    return _print(args, review_request(settings, catalog, args.id, actor=actor_of(args), approve=args.approve,
                                       reason=args.reason))  # fmt: skip


def forward(args: argparse.Namespace) -> int:
    from govhub.services.requests import forward as forward_request

    return _print(args, forward_request(args.settings, args.id, actor=actor_of(args)))


def answer(args: argparse.Namespace) -> int:
    from govhub.cli.common import settings_and_catalog
    from govhub.services.requests import answer as answer_request
    from govhub.states import Decision

    settings, catalog = settings_and_catalog(args)
    return _print(args, answer_request(settings, catalog, args.id, actor=actor_of(args), decision=Decision(args.decision),
                                       fields=args.fields, row_scope=args.rows, conditions=args.conditions,
                                       reason=args.reason, legal_basis=args.legal_basis))  # fmt: skip


def execute(args: argparse.Namespace) -> int:
    from govhub.cli.common import settings_and_catalog
    from govhub.services.requests import execute as execute_request

    settings, catalog = settings_and_catalog(args)
    return _print(args, execute_request(settings, catalog, args.id, actor=actor_of(args)))


def dispute(args: argparse.Namespace) -> int:
    from govhub.services.requests import dispute as dispute_request

    return _print(args, dispute_request(args.settings, args.id, actor=actor_of(args), reason=args.reason))  # fmt: skip


def refer(args: argparse.Namespace) -> int:
    from govhub.services.requests import refer as refer_request

    return _print(args, refer_request(args.settings, args.id, actor=actor_of(args), note=args.note))


def decide(args: argparse.Namespace) -> int:
    from govhub.cli.common import settings_and_catalog
    from govhub.services.requests import decide as decide_request
    from govhub.states import Decision

    settings, catalog = settings_and_catalog(args)
    return _print(args, decide_request(settings, catalog, args.id, actor=actor_of(args), decision=Decision(args.decision),
                                       fields=args.fields, row_scope=args.rows, conditions=args.conditions,
                                       reason=args.reason, legal_basis=args.legal_basis,
                                       leading_group=args.leading_group))  # fmt: skip


def withdraw(args: argparse.Namespace) -> int:
    from govhub.services.requests import withdraw as withdraw_request

    return _print(args, withdraw_request(args.settings, args.id, actor=actor_of(args), reason=args.reason))  # fmt: skip


def tick(args: argparse.Namespace) -> int:
    from govhub.cli.common import settings_and_catalog
    from govhub.cli.output import print_json
    from govhub.services.sharing_clock import tick as run_clock

    settings, catalog = settings_and_catalog(args)
    report = run_clock(settings, catalog, actor=actor_of(args))
    if args.json:
        print_json(report.to_dict())
    else:
        print(f"升级 {len(report.escalated)} 件，提醒 {len(report.reminded)} 件，超期提示 {len(report.overdue)} 件，"
              f"授权到期 {len(report.expired)} 项")  # fmt: skip
    return 0
