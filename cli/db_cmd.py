"""`govhub db upgrade|current`: the workflow store's schema revision (Alembic migrations shipped with govhub).

Every govhub process upgrades the store on its first use anyway; `db upgrade` does it on purpose (before starting
the services of a new release, say), and `db current` only looks: it changes nothing, not even creating a new store.
"""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    d = sub.add_parser("db", help="工作流数据库的表结构：升级，或查看版本")
    verbs = d.add_subparsers(dest="verb", required=True)
    u = verbs.add_parser("upgrade", help="将工作流数据库升级到最新版本（尚未建立时新建）")
    u.add_argument("--json", action="store_true")
    u.set_defaults(handler=upgrade_cmd)
    c = verbs.add_parser(
        "current",
        help="显示数据库 URL、当前版本和最新版本；待升级时退出码为 1（不作任何改动）",
    )
    c.add_argument("--json", action="store_true")
    c.set_defaults(handler=current_cmd)


def upgrade_cmd(args: argparse.Namespace) -> int:
    from govhub.cli.output import print_json
    from govhub.store import upgrade

    done = upgrade(args.settings)
    url = done.url
    if args.json:
        print_json({**done.__dict__, "changed": done.changed})
    elif not done.changed:
        print(f"工作流数据库已是最新版本 {done.after}：{url}")
    elif done.adopted:
        print(f"已识别迁移之前建立的工作流数据库，记录全部保留，版本标记并升级为 {done.after}：{url}")
    elif done.before is None:
        print(f"已创建工作流数据库（版本 {done.after}）：{url}")
    else:
        print(f"已升级工作流数据库：{done.before} → {done.after}：{url}")
    return 0


def current_cmd(args: argparse.Namespace) -> int:
    from govhub.cli.output import print_json
    from govhub.store import revision

    state = revision(args.settings)
    if args.json:
        print_json({**state.__dict__, "pending": state.pending, "ahead": state.ahead})
        return 1 if state.pending or state.ahead else 0
    if not state.exists:
        current = "（尚未建立）"
    elif state.legacy:
        current = "（无版本记录：迁移之前建立的数据库，升级时识别并保留全部记录）"
    else:
        current = state.current or "（无）"
    if not state.exists:
        verdict = "待建立（govhub db upgrade；govhub 命令首次使用数据库时也会自动建立）"
    elif state.ahead:
        verdict = "数据库版本比本程序新：请使用相同或更新版本的 govhub"
    elif state.pending:
        verdict = "待升级（govhub db upgrade；govhub 命令首次使用数据库时也会自动升级）"
    else:
        verdict = "已是最新"
    print(f"工作流数据库：{state.url}")
    print(f"当前版本：{current}")
    print(f"最新版本：{state.head}")
    print(f"状态：{verdict}")
    return 1 if state.pending or state.ahead else 0
