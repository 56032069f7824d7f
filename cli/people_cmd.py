"""`govhub people add|list|deactivate|password|sessions|sign-out|contact`: who may act, for which agency, in which roles (§16–§17)."""

from __future__ import annotations

import argparse

from govhub.cli.common import at_least, checked_agency


def register(sub: argparse._SubParsersAction) -> None:
    from govhub.roles import Role

    p = sub.add_parser("people", help="人员与角色：登记、列出、停用、门户密码、联系方式")
    psub = p.add_subparsers(dest="verb", required=True)
    a = psub.add_parser("add", help="登记人员，或修改其姓名、机构、角色")
    a.add_argument("id", help="登录名，如 zhangmin")
    a.add_argument("--name", required=True, help="姓名，随每次操作记录")
    a.add_argument("--agency", required=True, help="资源目录中的机构 id")
    a.add_argument(
        "--role", action="append", required=True, choices=[r.value for r in Role], help="角色，可多次给出"
    )
    a.add_argument("--by", required=True, metavar="PERSON", help="登记人（记录在案）")
    a.add_argument(
        "--update",
        action="store_true",
        help="修改已登记的人员时须加此项（以免输错 id 误改他人）",
    )
    a.add_argument("--json", action="store_true")
    a.set_defaults(handler=add)
    ls = psub.add_parser("list", help="列出全部已登记人员，及其最近一次登录门户的时间")
    ls.add_argument("--agency")
    ls.add_argument(
        "--idle-days",
        type=at_least(0),
        metavar="N",
        help="只列出在用、且 N 天内没有登录门户的人员（含从未登录的），以便及时停用多余账号；"
        "登录记录只在审计日志留存期内可查",
    )
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(handler=list_cmd)
    d = psub.add_parser("deactivate", help="停用离开的人员：历史记录保留，此后不能再操作")
    d.add_argument("id")
    d.add_argument("--by", required=True, metavar="PERSON")
    d.add_argument("--json", action="store_true")
    d.set_defaults(handler=deactivate_cmd)
    pw = psub.add_parser("password", help="设置或重置某人的门户密码（区科委；同时解除锁定）")
    pw.add_argument("id")
    pw.add_argument("--by", required=True, metavar="PERSON", help="设置密码的区科委人员（记录在案）")
    pw.add_argument("--stdin", action="store_true", help="从标准输入读取密码（供脚本使用）")
    pw.add_argument("--json", action="store_true")
    pw.set_defaults(handler=password_cmd)
    ss = psub.add_parser("sessions", help="某人在门户的登录：登录时间、最近使用、地址、浏览器")
    ss.add_argument("id")
    ss.add_argument("--by", required=True, metavar="PERSON", help="查看人：本人或区科委人员")
    ss.add_argument("--json", action="store_true")
    ss.set_defaults(handler=sessions_cmd)
    so = psub.add_parser("sign-out", help="结束某人在门户的全部登录（如电脑丢失）；本人或区科委")
    so.add_argument("id")
    so.add_argument("--by", required=True, metavar="PERSON", help="操作人（记录在案）")
    so.add_argument("--json", action="store_true")
    so.set_defaults(handler=sign_out_cmd)
    c = psub.add_parser("contact", help="登记催报联系方式：电子邮件、电话、群机器人 webhook")
    c.add_argument("id")
    c.add_argument("--email", help="电子邮件地址（通过 SMTP 发送提醒）")
    c.add_argument("--phone", help="电话号码（显示给需要电话联系的人）")
    c.add_argument("--webhook", help="企业微信/钉钉群机器人的 webhook URL")
    c.add_argument("--by", required=True, metavar="PERSON", help="登记联系方式的区科委人员")
    c.add_argument("--json", action="store_true")
    c.set_defaults(handler=contact_cmd)


def add(args: argparse.Namespace) -> int:
    from govhub.cli.common import settings_and_catalog
    from govhub.roles import Role
    from govhub.services.people import register_person

    settings, catalog = settings_and_catalog(args)
    saved = register_person(settings, args.id, name=args.name, agency=args.agency,
                            roles=[Role(r) for r in args.role], actor=args.by,
                            known_agencies=set(catalog.agencies), update=args.update)  # fmt: skip
    person = saved.person
    if args.json:
        return _json({**person.to_dict(), "created": saved.before is None, "changes": saved.changes_zh})
    if saved.before is None:
        print(
            f"已登记：{person.name}（{person.id}），{person.agency}，{'、'.join(r.label for r in person.roles)}"
        )
    elif saved.changes_zh:
        print(f"已修改：{person.name}（{person.id}）已登记过；" + "；".join(saved.changes_zh))
    else:
        print(f"未改变：{person.name}（{person.id}）已按此登记")
    return 0


def list_cmd(args: argparse.Namespace) -> int:
    import datetime as dt

    from govhub.cli.output import print_json, print_table
    from govhub.clock import beijing_text
    from govhub.events import latest_by_subject, utc_stamp
    from govhub.people import list_people

    people = list_people(args.settings, agency=checked_agency(args))
    signed_in = latest_by_subject(args.settings, "session.signed_in")
    last = {p.id: signed_in.get(f"person/{p.id}") for p in people}
    if args.idle_days is not None:
        since = utc_stamp(dt.datetime.now(dt.UTC) - dt.timedelta(days=args.idle_days))
        people = [p for p in people if p.active and (last[p.id] or "") < since]
    if args.json:
        print_json([{**p.to_dict(), "last_signed_in_at": last[p.id]} for p in people])
        return 0
    rows = [(p.id, p.name, p.agency, "、".join(r.label for r in p.roles), "在用" if p.active else "已停用",
             beijing_text(last[p.id], zone=False) if last[p.id] else "无登录记录") for p in people]  # fmt: skip
    print_table(["id", "姓名", "机构", "角色", "状态", "最近登录（北京时间）"], rows)
    return 0


def deactivate_cmd(args: argparse.Namespace) -> int:
    from govhub.services.people import deactivate_person

    person = deactivate_person(args.settings, args.id, actor=args.by)
    if args.json:
        return _json(person.to_dict())
    print(f"已停用：{person.name}（{person.id}）")
    return 0


def password_cmd(args: argparse.Namespace) -> int:
    import sys

    from govhub.access import Action, authorize
    from govhub.cli.common import CliError
    from govhub.services.accounts import set_password

    authorize(args.settings, args.by, Action.MANAGE_PEOPLE)  # before anyone types a password in vain
    if args.stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        import getpass

        try:
            password = getpass.getpass(f"{args.id} 的新密码：")
            again = getpass.getpass("再输入一次：")
        except EOFError:
            raise CliError(
                "没有读到密码（输入已结束）：请在终端中运行，或用 --stdin 从标准输入传入", code=2
            ) from None
        if again != password:
            raise CliError("两次输入的密码不一致，未修改", code=1)
    person = set_password(args.settings, args.id, password, actor=args.by)
    if args.json:
        return _json({"id": person.id, "name": person.name, "password_set": True})
    print(f"已设置门户密码：{person.name}（{person.id}）")
    return 0


def sessions_cmd(args: argparse.Namespace) -> int:
    import datetime as dt

    from govhub.cli.output import print_json, print_table
    from govhub.clock import beijing_text
    from govhub.services.sessions import open_sessions

    sessions = open_sessions(args.settings, args.id, actor=args.by, at=dt.datetime.now(dt.UTC))
    if args.json:
        print_json([s.to_dict() for s in sessions])
        return 0
    if not sessions:
        print(f"{args.id} 目前没有登录门户")
        return 0
    rows = [(s.key[:12], beijing_text(s.signed_in_at, zone=False), beijing_text(s.seen_at, zone=False),
             s.client or "—", s.browser) for s in sessions]  # fmt: skip
    print_table(["会话", "登录时间（北京时间）", "最近使用（北京时间）", "地址", "浏览器"], rows)
    return 0


def sign_out_cmd(args: argparse.Namespace) -> int:
    import datetime as dt

    from govhub.services.sessions import end_sessions

    ended = end_sessions(args.settings, args.id, actor=args.by, at=dt.datetime.now(dt.UTC))
    if args.json:
        return _json({"id": args.id, "sessions_ended": ended})
    print(f"已结束 {args.id} 在门户的 {ended} 处登录" if ended else f"{args.id} 目前没有登录门户，无需结束")
    return 0


def contact_cmd(args: argparse.Namespace) -> int:
    from govhub.cli.common import CliError
    from govhub.people import Contact
    from govhub.services.people import set_contact

    if not (args.email or args.phone or args.webhook):
        raise CliError("请至少给出 --email、--phone 或 --webhook 之一")
    found = set_contact(args.settings, Contact(args.id, args.email, args.phone, args.webhook), actor=args.by)
    if args.json:
        return _json(found.to_dict())
    channels = "、".join(
        x for x, v in (("邮件", found.email), ("电话", found.phone), ("机器人", found.webhook)) if v
    )
    print(f"已登记联系方式：{found.person}（{channels}）")
    return 0


def _json(data: dict) -> int:
    from govhub.cli.output import print_json

    print_json(data)
    return 0
