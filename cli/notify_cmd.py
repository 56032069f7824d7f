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


AS_OF_REFUSED = {"notify.future_as_of", "notify.before_in_service"}


def run(args: argparse.Namespace) -> int:
    from govhub.cli.common import CliError, settings_and_catalog
    from govhub.cli.ingest_cmd import actor_of
    from govhub.problems import GovhubError
    from govhub.services.notify import run_notifications

    settings, catalog = settings_and_catalog(args)
    try:
        report = run_notifications(settings, catalog, actor=actor_of(args), as_of=args.as_of)
    # the service's rule for --as-of: a day it refuses is a usage mistake here (exit 2)
    except GovhubError as exc:
        if exc.problems[0].code in AS_OF_REFUSED:
            raise CliError(exc.problems[0].message_zh, code=2, problem=exc.problems[0].code) from None
        raise
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
