"""`govhub people add|list|deactivate|password`: who may act, for which agency, in which roles (§16–§17)."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    from govhub.roles import Role

    p = sub.add_parser(
        "people", help="people and roles: stewards, reviewers, the office, analysts, engineers"
    )
    psub = p.add_subparsers(dest="verb", required=True)
    a = psub.add_parser("add", help="register a person, or change their name, agency or roles")
    a.add_argument("id", help="login name, e.g. zhangmin")
    a.add_argument("--name", required=True, help="姓名, as recorded with every action")
    a.add_argument("--agency", required=True, help="agency id from the catalog")
    a.add_argument(
        "--role", action="append", required=True, choices=[r.value for r in Role], help="repeatable"
    )
    a.add_argument("--by", required=True, metavar="PERSON", help="who registers them (recorded)")
    a.add_argument(
        "--update",
        action="store_true",
        help="change a registered person (refused without it: a typo must not)",
    )
    a.add_argument("--json", action="store_true")
    a.set_defaults(handler=add)
    ls = psub.add_parser("list", help="everyone registered")
    ls.add_argument("--agency")
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(handler=list_cmd)
    d = psub.add_parser("deactivate", help="a person who left: their history stays, they can no longer act")
    d.add_argument("id")
    d.add_argument("--by", required=True, metavar="PERSON")
    d.add_argument("--json", action="store_true")
    d.set_defaults(handler=deactivate_cmd)
    pw = psub.add_parser(
        "password", help="set or reset a person's portal password (the office; lifts a lock-out)"
    )
    pw.add_argument("id")
    pw.add_argument("--by", required=True, metavar="PERSON", help="the office person who sets it (recorded)")
    pw.add_argument("--stdin", action="store_true", help="read the password from standard input (scripts)")
    pw.add_argument("--json", action="store_true")
    pw.set_defaults(handler=password_cmd)
    c = psub.add_parser(
        "contact", help="how to reach a person for reminders (催报): e-mail, phone, robot webhook"
    )
    c.add_argument("id")
    c.add_argument("--email", help="e-mail address (reminders by SMTP)")
    c.add_argument("--phone", help="phone number (shown to people who call)")
    c.add_argument("--webhook", help="a WeCom/DingTalk group robot's webhook URL")
    c.add_argument("--by", required=True, metavar="PERSON", help="the office person who records it")
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
    from govhub.cli.output import print_json, print_table
    from govhub.people import list_people

    people = list_people(args.settings, agency=args.agency)
    if args.json:
        print_json([p.to_dict() for p in people])
        return 0
    rows = [
        (p.id, p.name, p.agency, "、".join(r.label for r in p.roles), "在用" if p.active else "已停用")
        for p in people
    ]
    print_table(["id", "姓名", "机构", "角色", "状态"], rows)
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

    from govhub.cli.common import CliError
    from govhub.services.accounts import set_password

    if args.stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        import getpass

        password = getpass.getpass(f"{args.id} 的新密码：")
        if getpass.getpass("再输入一次：") != password:
            raise CliError("两次输入的密码不一致，未修改", code=1)
    person = set_password(args.settings, args.id, password, actor=args.by)
    if args.json:
        return _json({"id": person.id, "name": person.name, "password_set": True})
    print(f"已设置门户密码：{person.name}（{person.id}）")
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
