"""`govhub token create|list|revoke`: the docking API's tokens, one per consumer system of an agency (§13).

The secret is printed once, by `create`; the hub keeps only its hash.
"""

from __future__ import annotations

import argparse

from govhub.cli.common import checked_agency
from govhub.cli.ingest_cmd import actor_of


def register(sub: argparse._SubParsersAction) -> None:
    from govhub.cli.ingest_cmd import add_actor

    p = sub.add_parser("token", help="对接令牌（资源共享对接服务）：签发、列出、撤销")
    verbs = p.add_subparsers(dest="verb", required=True, metavar="VERB")
    create = verbs.add_parser("create", help="为某机构的一个对接系统签发令牌（令牌只显示这一次）")
    create.add_argument(
        "--agency", required=True, help="对接系统所属机构（系统可读取的即该机构获得授权的数据）"
    )
    create.add_argument("--system", required=True, metavar="NAME", help="对接系统名称，如 社会救助管理系统")
    create.set_defaults(handler=create_cmd)
    ls = verbs.add_parser("list", help="列出你管理的令牌（本机构的；区科委可看全部机构的）")
    ls.add_argument("--agency")
    ls.set_defaults(handler=list_cmd)
    rv = verbs.add_parser("revoke", help="立即撤销令牌（此后携带它的调用都会被拒绝）")
    rv.add_argument("id")
    rv.set_defaults(handler=revoke_cmd)
    for v in (create, ls, rv):
        add_actor(v, "操作人：该机构的数据专管员或区科委，记录在案")
        v.add_argument("--json", action="store_true")


def create_cmd(args: argparse.Namespace) -> int:
    from govhub.cli.common import settings_and_catalog
    from govhub.cli.output import print_json
    from govhub.services.tokens import create_token

    settings, catalog = settings_and_catalog(args)
    checked_agency(args)  # an agency the catalog does not hold is a usage error (2), as on token list
    issued = create_token(settings, catalog, agency=args.agency, system=args.system, actor=actor_of(args))
    if args.json:
        print_json({**issued.token.to_dict(), "secret": issued.secret})
        return 0
    print(f"已签发接口令牌 {issued.token.id}（{issued.token.agency} · {issued.token.system}）")
    print(f"令牌（只显示这一次，请交给对接系统妥善保存）：{issued.secret}")
    print("调用方式：Authorization: Bearer <令牌>，接口地址 /api/v1/（说明：/api/v1/openapi.json）")
    return 0


def list_cmd(args: argparse.Namespace) -> int:
    from govhub.cli.output import print_json, print_table
    from govhub.services.tokens import list_tokens

    found = list_tokens(args.settings, actor=actor_of(args), agency=checked_agency(args))
    if args.json:
        print_json([t.to_dict() for t in found])
        return 0
    from govhub.clock import beijing_text

    rows = [(t.id, t.agency, t.system, t.status_label, t.created_by, beijing_text(t.created_at, zone=False),
             beijing_text(t.last_used_at, zone=False)) for t in found]  # fmt: skip
    print_table(
        ["令牌编号", "部门", "对接系统", "状态", "签发人", "签发时间（北京时间）", "最近使用（北京时间）"],
        rows,
    )
    return 0


def revoke_cmd(args: argparse.Namespace) -> int:
    from govhub.cli.output import print_json
    from govhub.services.tokens import revoke_token

    token = revoke_token(args.settings, args.id, actor=actor_of(args))
    if args.json:
        print_json(token.to_dict())
    else:
        print(f"已撤销接口令牌 {token.id}（{token.agency} · {token.system}）")
    return 0
