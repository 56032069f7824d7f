"""`govhub notify run [--as-of DATE]`: send today's reminders, escalations and digests (催报), retry failed ones."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    from govhub.cli.common import iso_date
    from govhub.cli.ingest_cmd import add_actor

    n = sub.add_parser("notify", help="催报：截止前提醒、逾期后通知、每日待办汇总")
    verbs = n.add_subparsers(dest="verb", required=True)
    r = verbs.add_parser("run", help="发送今天应发的通知（每条只发一次），并重发此前未送达的")
    r.add_argument(
        "--as-of", type=iso_date, metavar="YYYY-MM-DD", help="按这一天运行（默认：今天，北京时间）"
    )
    r.add_argument("--json", action="store_true")
    add_actor(r, "运行人：平台工程师；Dagster 传感器以 system:sensor 身份运行")
    r.set_defaults(handler=run)


def _check_day(settings, day) -> None:  # type: ignore[no-untyped-def]
    """`--as-of` re-runs a day the hub has lived through (a missed run): not one before it went into service — the
    notices would go out now, for deadlines nobody owed then, and be kept as sent — nor one still to come."""
    if day is None:
        return
    from govhub.cli.common import CliError
    from govhub.clock import today_in_beijing

    since, today = settings.in_service_since, today_in_beijing()
    if since is not None and day < since:
        raise CliError(
            f"不能按 {day} 发送催报：早于平台启用日期 {since}（--as-of 只用于补发平台启用以来某天的通知）"
        )
    if day > today:
        raise CliError(
            f"不能按未来日期 {day} 发送催报：通知会立即发出并记为已发送，到期当天不再发送（今天是 {today}）"
        )


def run(args: argparse.Namespace) -> int:
    from govhub.cli.common import settings_and_catalog
    from govhub.cli.ingest_cmd import default_actor
    from govhub.services.notify import run_notifications

    settings, catalog = settings_and_catalog(args)
    _check_day(settings, args.as_of)
    report = run_notifications(settings, catalog, actor=args.by or default_actor(), as_of=args.as_of)
    if args.json:
        from govhub.cli.output import print_json

        print_json(report.to_dict())
        return 0 if report.ok else 1
    print(f"催报（{report.as_of}）：提醒 {len(report.reminded)} 项，逾期通知 {len(report.escalated)} 项，"
          f"每日待办 {len(report.digests)} 份；重发成功 {len(report.retried)} 条")  # fmt: skip
    for key in report.reminded + report.escalated:
        print(f"  - {report.subjects.get(key, key)}")
    if report.undelivered:
        print(f"有 {len(report.undelivered)} 条通知未能送达（已记录原因，下次运行时重发）：")
        for key in report.undelivered:
            print(f"  - {key}")
    if report.given_up:
        print(
            f"有 {len(report.given_up)} 条通知已多次发送失败，不再重发：请核对联系方式（govhub people contact）："
        )
        for key in report.given_up:
            print(f"  - {key}")
    return 0 if report.ok else 1
