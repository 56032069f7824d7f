"""`govhub events` (the hash-chained event log: who did what, when) and `govhub events verify` (is it intact?).

`verify` walks the whole chain and prints its head (last id and hash). Write the head down somewhere else (a ticket,
a printed report): `verify --head ID:HASH` later proves that event still stands where it stood, which a chain alone
cannot prove when its newest rows were cut off.
"""

from __future__ import annotations

import argparse

from govhub.cli.common import STORE_INT_MAX, at_least, checked_agency, day_or_time
from govhub.clock import beijing_text


def register(sub: argparse._SubParsersAction) -> None:
    from govhub.cli.ingest_cmd import add_actor

    e = sub.add_parser("events", help="事件日志（审计日志）；events verify 校验其哈希链")
    e.add_argument("--kind", help='事件类型，或以 "*" 结尾的前缀（如 "load.*"、"zero_update.*"）')
    e.add_argument("--agency", help="只看该机构的事件")
    e.add_argument("--actor", help="只看该操作人（或系统）的事件")
    e.add_argument("--subject", help="只看关于该对象的事件（如 mzj/dibao）")
    e.add_argument("--person", help="只看此人所做的操作（登录名或姓名均可）")
    e.add_argument("--resource", help="某资源（机构/资源）的全部事件：汇聚、申请、授权、查询")
    e.add_argument("--grant", help="某项共享授权的事件：签发、撤销，以及经由它的每次查询、导出和接口调用")
    e.add_argument(
        "--since",
        type=day_or_time,
        metavar="WHEN",
        help="从此日期/时间起（ISO 8601；未注明时区即为北京时间）",
    )
    e.add_argument("--after", type=at_least(0, most=STORE_INT_MAX), metavar="ID",
                   help="只看编号大于此值的事件（供读取方接续）")  # fmt: skip
    e.add_argument("--limit", type=at_least(0, most=10**9), default=50,
                   help="最多列出的条数，最新的在前（默认：50；0：全部）")  # fmt: skip
    e.add_argument(
        "--json",
        action="store_true",
        help="以 JSON 输出 {events：完整事件，含 payload 和哈希（UTC），最早的在前；truncated：多于 --limit 条}",
    )
    add_actor(e, "查看人：平台登记人员后须为区科委人员")
    e.set_defaults(handler=list_cmd)
    verbs = e.add_subparsers(dest="verb")
    v = verbs.add_parser("verify", help="逐条校验哈希链，打印链头")
    v.add_argument("--head", metavar="ID:HASH", help="之前记下的链头（编号:哈希），须仍在链中")
    v.add_argument("--json", action="store_true")
    add_actor(v, "校验人：平台登记人员后须为区科委人员")
    v.set_defaults(handler=verify_cmd)
    p = verbs.add_parser(
        "prune",
        help="清理早于指定时间的事件，留存期（至少 180 天，网络安全法第二十一条）内的不清理；"
        "清理后哈希链仍可从检查点起校验，清理本身也记为一条事件",
    )
    p.add_argument("--before", required=True, type=day_or_time, metavar="WHEN", help="清理此时间之前的事件")
    p.add_argument("--by", required=True, metavar="PERSON", help="清理人（区科委）")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=prune_cmd)


def _reader(args: argparse.Namespace) -> None:
    """The audit trail is the office's to read (§16), as on the portal's events page: `--by` is checked."""
    from govhub.access import Action, authorize
    from govhub.cli.ingest_cmd import actor_of

    authorize(args.settings, actor_of(args), Action.AUDIT)


def list_cmd(args: argparse.Namespace) -> int:
    from govhub.cli.output import print_json, print_table
    from govhub.events import list_events

    _reader(args)
    from govhub.people import names_of

    actors = names_of(args.settings, args.person) if args.person else None
    checked_agency(args)
    resource = _checked_resource(args)
    _check_grant(args)
    limit = args.limit or None
    events = list_events(
        args.settings,
        kind=args.kind,
        actor=args.actor,
        actors=actors,
        resource=resource,
        grant=args.grant,
        agency=args.agency,
        subject=args.subject,
        since=args.since,
        after_id=args.after,
        limit=limit + 1 if limit else None,  # one more than shown: says whether the list was cut
        newest_first=not args.json,
    )
    truncated = limit is not None and len(events) > limit
    events = events[:limit] if limit else events
    if args.json:
        print_json({"events": [e.__dict__ for e in events], "truncated": truncated, "limit": limit})
        return 0
    rows = [
        (
            e.id,
            beijing_text(e.at, seconds=True, zone=False),
            e.kind,
            e.actor,
            e.agency or "—",
            e.subject,
            _summary(e.payload),
        )
        for e in events
    ]
    print_table(["编号", "时间（北京时间）", "事件", "操作人", "机构", "对象", "内容"], rows)
    if truncated:
        print(f"（只列出最近 {limit} 条；--limit 0 列出全部）")
    return 0


def _checked_resource(args: argparse.Namespace) -> str | None:
    """`--resource` as the log names it (agency/resource), given by code, key or id; one the catalog does not hold is
    a usage error (2), as an unknown --agency is — an empty table for a typo would read as "nothing happened"."""
    if args.resource is None:
        return None
    from govhub.cli.common import find_resource, settings_and_catalog

    _, catalog = settings_and_catalog(args)
    found = find_resource(catalog, args.resource)
    return f"{found.agency}/{found.id}"


def _check_grant(args: argparse.Namespace) -> None:
    """`--grant` must name a grant the store holds (2 otherwise, as above)."""
    if args.grant is None:
        return
    from govhub.cli.common import CliError
    from govhub.governance.grants import get_grant
    from govhub.problems import GovhubError

    try:
        get_grant(args.settings, args.grant)
    except GovhubError as exc:
        if exc.problems[0].code != "sharing.unknown_grant":
            raise
        raise CliError(f"没有编号为“{args.grant}”的共享授权（govhub grant list 可查看）", code=2,
                       problem="sharing.unknown_grant") from None  # fmt: skip


def _summary(payload: dict, width: int = 60) -> str:
    text = ", ".join(f"{k}={v}" for k, v in payload.items() if not isinstance(v, dict | list))
    return text if len(text) <= width else text[: width - 1] + "…"


def prune_cmd(args: argparse.Namespace) -> int:
    from govhub.cli.output import print_json
    from govhub.clock import beijing_date, stored_moment
    from govhub.problems import GovhubError
    from govhub.services.audit import prune

    try:
        done = prune(args.settings, before=args.before, actor=args.by)
    except GovhubError as exc:  # nothing that old: a fact, not a failure (a scheduled prune is not an error)
        if exc.problems[0].code != "events.nothing_to_prune":
            raise
        if args.json:
            print_json({"pruned": 0, "before": str(beijing_date(args.before))})
        else:
            print(exc.problems[0].message_zh)
        return 0
    day = beijing_date(stored_moment(done.before))
    if args.json:
        print_json(
            {"pruned": done.count, "before": str(day), "checkpoint": f"{done.through_id}:{done.through_hash}"}
        )
        return 0
    print(
        f"已清理 {done.count} 条 {day}（北京时间）之前的审计日志；链从检查点 {done.through_id}:{done.through_hash} 起仍可校验"
    )
    return 0


def verify_cmd(args: argparse.Namespace) -> int:
    from govhub.cli.output import print_json
    from govhub.events import chain_head, verify_chain

    _reader(args)
    settings = args.settings
    problems = verify_chain(settings)
    head = chain_head(settings)
    if args.head:
        problems += _head_problems(settings, args.head)
    if args.json:
        print_json({"intact": not problems, "head": head, "problems": problems})
    else:
        for p in problems:
            print(f"断链  {p}")
        verdict = "完整" if not problems else "不完整（已被改动）"
        print(f"事件日志{verdict}：链头 {head or '（日志为空）'}")
    return 1 if problems else 0


def _head_problems(settings, head: str) -> list[str]:
    from govhub.cli.common import CliError
    from govhub.events import list_events

    number, _, digest = head.partition(":")
    if not number.isdigit() or not digest:
        raise CliError(f"--head 应为 govhub events verify 打印的“编号:哈希”，而不是“{head}”")
    found = list_events(settings, after_id=int(number) - 1, limit=1)
    if not found or found[0].id != int(number):
        return [f"事件 {number}：记下的链头已不存在（日志被截短）"]
    if found[0].hash != digest:
        return [f"事件 {number}：哈希与记下的链头不同（日志被改写）"]
    return []
