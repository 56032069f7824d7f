"""`govhub events` (the hash-chained event log: who did what, when) and `govhub events verify` (is it intact?).

`verify` walks the whole chain and prints its head (last id and hash). Write the head down somewhere else (a ticket,
a printed report): `verify --head ID:HASH` later proves that event still stands where it stood, which a chain alone
cannot prove when its newest rows were cut off.
"""

from __future__ import annotations

import argparse
import datetime as dt

from govhub.clock import BEIJING, beijing_text


def register(sub: argparse._SubParsersAction) -> None:
    from govhub.cli.ingest_cmd import add_actor

    e = sub.add_parser("events", help="the event log (audit trail); `events verify` checks its hash chain")
    e.add_argument("--kind", help='event kind, or a prefix ending in "*" (e.g. "load.*", "zero_update.*")')
    e.add_argument("--agency", help="only this agency's events")
    e.add_argument("--actor", help="only this person's (or system's) events")
    e.add_argument("--subject", help="only events about this subject (e.g. mzj/dibao)")
    e.add_argument("--person", help="only what this person did (login or name; either is matched)")
    e.add_argument(
        "--resource", help="every event about a resource (agency/resource): loads, requests, grants, queries"
    )
    e.add_argument(
        "--grant", help="a grant's events: issued, revoked, and each query, export or API call through it"
    )
    e.add_argument(
        "--since",
        type=_day_or_time,
        metavar="WHEN",
        help="from this date/time on (ISO 8601; Beijing time unless it names its zone)",
    )
    e.add_argument("--after", type=int, metavar="ID", help="only events after this id (a reader's cursor)")
    e.add_argument(
        "--limit", type=int, default=50, help="at most this many, newest first (default 50; 0: all)"
    )
    e.add_argument(
        "--json",
        action="store_true",
        help="{events: full events with payload and hashes (UTC), oldest first; truncated: more than --limit}",
    )
    add_actor(e, "who reads the trail (the office, once people are registered)")
    e.set_defaults(handler=list_cmd)
    verbs = e.add_subparsers(dest="verb")
    v = verbs.add_parser("verify", help="check every link of the hash chain; print its head")
    v.add_argument(
        "--head", metavar="ID:HASH", help="a head written down earlier: it must still be in the chain"
    )
    v.add_argument("--json", action="store_true")
    add_actor(v, "who verifies it (the office, once people are registered)")
    v.set_defaults(handler=verify_cmd)
    p = verbs.add_parser(
        "prune",
        help="remove events older than a date, never younger than the retention (≥180 days, 网络安全法 Art. 21); "
        "the chain still verifies from a checkpoint and the prune is itself an event",
    )
    p.add_argument(
        "--before", required=True, type=_day_or_time, metavar="WHEN", help="remove events before this"
    )
    p.add_argument("--by", required=True, metavar="PERSON", help="who prunes (the office)")
    p.set_defaults(handler=prune_cmd)


def _day_or_time(text: str) -> dt.datetime:
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"“{text}”不是日期或时间（应为 ISO 8601，如 2026-11-27 09:00）"
        ) from None
    return value if value.tzinfo else value.replace(tzinfo=BEIJING)  # people mean Beijing time


def _reader(args: argparse.Namespace) -> None:
    """The audit trail is the office's to read (§16), as on the portal's events page: `--by` is checked."""
    from govhub.access import Action, authorize
    from govhub.cli.ingest_cmd import default_actor

    authorize(args.settings, args.by or default_actor(), Action.AUDIT)


def list_cmd(args: argparse.Namespace) -> int:
    from govhub.cli.output import print_json, print_table
    from govhub.events import list_events

    _reader(args)
    from govhub.people import names_of

    actors = names_of(args.settings, args.person) if args.person else None
    limit = args.limit or None
    events = list_events(
        args.settings,
        kind=args.kind,
        actor=args.actor,
        actors=actors,
        resource=args.resource,
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


def _summary(payload: dict, width: int = 60) -> str:
    text = ", ".join(f"{k}={v}" for k, v in payload.items() if not isinstance(v, dict | list))
    return text if len(text) <= width else text[: width - 1] + "…"


def prune_cmd(args: argparse.Namespace) -> int:
    from govhub.access import Action, authorize
    from govhub.events import prune_events

    who = authorize(args.settings, args.by, Action.PRUNE_AUDIT)
    done = prune_events(args.settings, before=args.before, actor=who.name)
    print(
        f"已清理 {done.count} 条 {done.before[:10]} 之前的审计日志；链从检查点 {done.through_id}:{done.through_hash} 起仍可校验"
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
