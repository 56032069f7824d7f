"""`govhub status` (freshness of every feed) and `govhub zero-update CODE --by PERSON` (零更新申报)."""

from __future__ import annotations

import argparse
import datetime as dt
import sys

from govhub.cli.common import checked_agency

_COLOURS = {"fresh": "32", "due": "33", "overdue": "31", "stale": "1;31", "irregular": "2"}
_SEVERITY = {"fresh": 0, "due": 1, "overdue": 2, "stale": 3}  # irregular feeds owe nothing: never fail


def register(sub: argparse._SubParsersAction) -> None:
    from govhub.cli.common import iso_date

    s = sub.add_parser("status", help="每个资源的更新时效：最近一次更新或零更新、应报日期、状态")
    s.add_argument("--json", action="store_true", help="以 JSON 输出，每个资源一个对象（供脚本使用）")
    s.add_argument(
        "--as-of", metavar="YYYY-MM-DD", type=iso_date, help="按这一天评估（默认：今天，北京时间）"
    )
    s.add_argument("--agency", help="只看该机构的资源")
    s.add_argument(
        "--fail-on",
        choices=list(_SEVERITY)[1:],
        help="任一资源处于此状态或更差时退出码为 3（due 待报送 < overdue 逾期 < stale 陈旧），供脚本和监控使用",
    )
    s.set_defaults(handler=status)

    z = sub.add_parser("zero-update", help="申报某资源在一个周期内没有新数据（零更新）")
    z.add_argument("code", help="资源代码、机构/资源标识或资源 id")
    z.add_argument("--period", help="周期编号（默认：当前应报的周期），如 2026-W48、2026-11、2026-Q4")
    z.add_argument("--by", required=True, metavar="PERSON", help="申报的数据专管员（谁申报谁负责）")
    z.add_argument("--json", action="store_true")
    z.set_defaults(handler=zero_update)


def status(args: argparse.Namespace) -> int:
    from govhub.cli.common import settings_and_catalog
    from govhub.governance.alerts import evaluate_freshness
    from govhub.services.loads import reconcile
    from govhub.states import LoadStatus

    settings, catalog = settings_and_catalog(args)
    # loads a killed process left unrecorded are recorded before freshness is judged
    for resource in catalog.resources:
        for record in reconcile(settings, resource):
            status = LoadStatus(record["status"]).label
            print(
                f"{resource.agency}/{resource.id}：补记被中断的载入 {record['load_id']}（{status}）",
                file=sys.stderr,
            )
    rows = evaluate_freshness(settings, catalog, args.as_of)
    if checked_agency(args):
        rows = [r for r in rows if r.agency == args.agency]
    if args.json:
        from govhub.cli.output import print_json

        print_json([r.to_dict() for r in rows])
    else:
        _print_status(rows, colour=sys.stdout.isatty())
    if args.fail_on:
        from govhub.cli.main import EXIT_STALE

        worst = [r for r in rows if _SEVERITY.get(r.state.value, -1) >= _SEVERITY[args.fail_on]]
        if worst:
            print(f"有 {len(worst)} 项数据处于「{worst[0].state.label}」或更差的状态", file=sys.stderr)
            return EXIT_STALE
    return 0


def _print_status(rows: list, *, colour: bool) -> None:
    from govhub.cli.output import print_table

    def last(r) -> str:
        if r.last is None:
            return "—"

        from govhub.clock import beijing_date

        return f"{r.last.period} {r.last.state.label} {beijing_date(dt.datetime.fromisoformat(r.last.at))}"

    def state(r) -> str:
        text = r.state.label
        return f"\x1b[{_COLOURS[r.state.value]}m{text}\x1b[0m" if colour else text

    from govhub.catalog.model import UpdateCycle

    table = [
        (
            r.code,
            r.agency,
            r.name,
            UpdateCycle(r.cycle).label,
            last(r),
            r.period or "—",
            r.due_date or "—",
            state(r),
        )
        for r in rows
    ]
    print_table(
        ["资源代码", "机构", "名称", "更新周期", "最近更新（北京时间）", "应报期次", "截止日期", "状态"],
        table,
    )


def zero_update(args: argparse.Namespace) -> int:
    from govhub.cli.common import find_resource, settings_and_catalog
    from govhub.services.zero_update import declare_zero_update

    settings, catalog = settings_and_catalog(args)
    resource = find_resource(catalog, args.code)
    entry = declare_zero_update(settings, resource, actor=args.by, period=args.period)
    if args.json:
        from govhub.cli.output import print_json

        print_json(entry.to_dict())
    else:
        print(f"已登记零更新：{resource.name}（{resource.code}）{entry.period}，申报人 {entry.attested_by}")
    return 0
