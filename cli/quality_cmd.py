"""`govhub quality suites | docs`: the Great Expectations suites derived from the catalog, and their Data Docs."""

from __future__ import annotations

import argparse
import sys

from govhub.cli.common import find_resource, settings_and_catalog


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("quality", help="由资源目录生成的校验套件及其 Data Docs")
    q = p.add_subparsers(dest="quality_command", metavar="ACTION", required=True)
    s = q.add_parser("suites", help="将各资源的 GE 校验套件（JSON，已应用规则覆盖文件）写入数据文件夹")
    s.add_argument("--json", action="store_true", help="以 JSON 列出写入的校验套件")
    s.set_defaults(handler=suites)
    d = q.add_parser(
        "docs",
        help="用 Great Expectations 校验当前快照并生成 Data Docs（进度输出到 stderr）",
    )
    d.add_argument(
        "--resource",
        action="append",
        metavar="CODE",
        help="只处理此资源（资源代码、机构/资源标识或 id；可多次给出）：其他资源的页面保持不变",
    )
    d.add_argument("--json", action="store_true", help="以 JSON 输出本次生成的摘要")
    d.set_defaults(handler=docs)


def suites(args: argparse.Namespace) -> int:
    from govhub.expectations.suites import write_suites

    settings, catalog = settings_and_catalog(args)
    paths = write_suites(settings, catalog)
    if args.json:
        from govhub.cli.output import print_json

        print_json({"written": [str(p) for p in paths]})
        return 0
    print(f"已写出 {len(paths)} 个校验套件：{settings.home / 'expectations' / 'suites'}")
    return 0


def _print_progress(done: int, total: int, outcome) -> None:
    print(f"[{done}/{total}] {outcome.summary_zh()}", file=sys.stderr, flush=True)


def docs(args: argparse.Namespace) -> int:
    from govhub.services.reports_index import render_data_docs

    settings, catalog = settings_and_catalog(args)
    resources = [find_resource(catalog, ref) for ref in args.resource] if args.resource else None
    print("正在载入 Great Expectations（约 4 秒）……", file=sys.stderr, flush=True)
    build = render_data_docs(settings, catalog, resources, _print_progress)
    if args.json:
        from govhub.cli.output import print_json

        print_json(build.to_dict())
    else:
        for name in build.removed:
            print(f"已移除（资源已不在目录中）：{name}")
        print(f"Data Docs：{build.index}（{len(build.resources)} 个资源，{build.seconds:g} 秒）")
        print(f"报告首页：{build.reports_index}")
    return 1 if any(r.status == "failed" for r in build.resources) else 0
