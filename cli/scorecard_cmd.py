"""`govhub scorecard [--from DATE] [--to DATE] [--json]`: per-agency scorecards (§18) and rectification (§19)."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    from govhub.cli.common import iso_date

    s = sub.add_parser("scorecard", help="各机构某期间的考核评分，附整改通知（§18–19）")
    s.add_argument(
        "--from",
        dest="start",
        type=iso_date,
        metavar="YYYY-MM-DD",
        help="起始日（默认：本季度第一天，北京时间）",
    )
    s.add_argument(
        "--to",
        dest="end",
        type=iso_date,
        metavar="YYYY-MM-DD",
        help="截止日（默认：今天，北京时间）",
    )
    s.add_argument("--json", action="store_true")
    s.add_argument("--html", action="store_true", help="同时在 reports/scorecards/ 下写出报告页面")
    s.set_defaults(handler=scorecard)  # fmt: skip


def scorecard(args: argparse.Namespace) -> int:
    from govhub.cli.common import CliError, settings_and_catalog
    from govhub.cli.output import print_json, print_table
    from govhub.governance.scorecard import agency_scores, in_service_note, percent_text, scorecard_window

    settings, catalog = settings_and_catalog(args)
    start, end = scorecard_window(args.start, args.end)
    if start > end:
        raise CliError(f"考核区间有误：--from {start} 晚于 --to {end}（区间最晚到今天）")
    scores = agency_scores(settings, catalog, start, end)
    if args.html:
        from govhub.governance.scorecard_report import write_scorecard_report

        page = write_scorecard_report(settings, scores, start, end)
        if not args.json:
            print(f"考核报告：{page}")
    if args.json:
        print_json(
            {"from": start.isoformat(), "to": end.isoformat(), "agencies": [s.to_dict() for s in scores]}
        )
        return 0

    print(f"政务数据资源共享考核 {start} 至 {end}")
    if note := in_service_note(scores, start):
        print(note)
    rows = []
    for s in scores:
        r = s.rates
        rows.append([s.agency, s.name, f"{s.in_force}/{s.catalogued}", percent_text(r["catalog_up_to_date"]),
                     percent_text(r["annual_review"]), percent_text(r["aggregated"]),
                     f"{s.on_time}/{s.periods_owed}" + (f"（逾期{s.late}）" if s.late else ""),
                     percent_text(r["requests_answered_on_time"]),
                     "—" if s.median_answer_days is None else f"{s.median_answer_days:g}", s.escalations,
                     s.data_used, percent_text(s.score, "")])  # fmt: skip
    print_table(["机构", "名称", "目录", "目录及时", "年度维护", "已归集", "按期更新", "需求答复", "答复用时",
                 "逾期升级", "数据使用", "得分"], rows)  # fmt: skip
    notices = [(s, s.rectification) for s in scores if s.rectification]
    for s, todo in notices:
        print(f"\n整改通知 {s.name}：" + "；".join(todo))
    return 0
