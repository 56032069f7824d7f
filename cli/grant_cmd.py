"""`govhub grant list|show|revoke` (§12): what each agency may reach by grant, and taking a grant back."""

from __future__ import annotations

import argparse

from govhub.cli.common import checked_agency
from govhub.cli.ingest_cmd import actor_of
from govhub.clock import beijing_text


def register(sub: argparse._SubParsersAction) -> None:
    from govhub.cli.common import iso_date
    from govhub.cli.ingest_cmd import add_actor

    p = sub.add_parser("grant", help="共享授权（§12）：列出、查看、撤销")
    verbs = p.add_subparsers(dest="verb", required=True, metavar="VERB")
    ls = verbs.add_parser("list", help="列出你可查看的授权（本机构作为申请方或提供方的；区科委可看全部）")
    ls.add_argument("--agency")
    ls.add_argument("--live", action="store_true", help="只列出今天（或 --as-of 当天）有效的授权")
    ls.set_defaults(handler=list_cmd)
    show = verbs.add_parser("show", help="查看一项授权")
    show.add_argument("id")
    show.set_defaults(handler=show_cmd)
    rv = verbs.add_parser("revoke", help="提供方或区科委：立即撤销一项授权")
    rv.add_argument("id")
    rv.add_argument("--reason", required=True)
    rv.set_defaults(handler=revoke_cmd)
    for v in (ls, show, rv):
        add_actor(v, "操作人，记录在案，并按其角色和机构核查权限")
        v.add_argument("--as-of", type=iso_date, metavar="YYYY-MM-DD", help="按这一天判断授权是否有效")
        v.add_argument("--json", action="store_true")


def _today(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    from govhub.clock import today_in_beijing

    return args.as_of or today_in_beijing()


def list_cmd(args: argparse.Namespace) -> int:
    from govhub.cli.output import print_json, print_table
    from govhub.services.grants import visible_grants

    today = _today(args)
    checked_agency(args)
    found = visible_grants(
        args.settings, actor=actor_of(args), agency=args.agency, live_on=today if args.live else None
    )
    if args.json:
        print_json([g.to_dict(today) for g in found])
        return 0
    rows = [(g.id, g.key, g.consumer, "、".join(g.fields), f"{g.starts_on}～{g.expires_on}", g.status_label(today))
            for g in found]  # fmt: skip
    print_table(["授权编号", "资源", "使用单位", "信息项", "期限", "状态"], rows)
    return 0


def show_cmd(args: argparse.Namespace) -> int:
    from govhub.cli.output import print_json
    from govhub.services.grants import show_grant, used

    grant = show_grant(args.settings, args.id, actor=actor_of(args))
    use = used(args.settings, [grant], actor=actor_of(args))[grant.id]
    today = _today(args)
    if args.json:
        print_json({**grant.to_dict(today), "use": use.to_dict()})
        return 0
    print(
        f"{grant.id}  {grant.key} → {grant.consumer}  「{grant.status_label(today)}」（申请 {grant.request_id}）"
    )
    from govhub.governance.sharing import describe_rows

    print(f"  信息项：{'、'.join(grant.fields)}；记录范围：{describe_rows(grant.row_scope)}")
    print(
        f"  用途：{grant.purpose}；期限：{grant.starts_on} ～ {grant.expires_on}"
        + (f"；条件：{grant.conditions}" if grant.conditions else "")
    )
    if grant.revoked_at:
        print(f"  已由 {grant.revoked_by} 于 {beijing_text(grant.revoked_at)} 撤销：{grant.revoke_reason}")
    print(f"  使用情况：{use.summary_zh}")
    return 0


def revoke_cmd(args: argparse.Namespace) -> int:
    from govhub.cli.output import print_json
    from govhub.services.grants import revoke

    grant = revoke(args.settings, args.id, actor=actor_of(args), reason=args.reason)
    if args.json:
        print_json(grant.to_dict(_today(args)))
    else:
        print(f"已撤销共享授权 {grant.id}（{grant.key} → {grant.consumer}）")
    return 0
