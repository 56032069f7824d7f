"""`govhub catalog validate | list | show | draft`, and `catalog change …` (catalog_change_cmd)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from govhub.cli.common import checked_agency


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("catalog", help="资源目录：校验、列出、查看、导出、起草")
    csub = p.add_subparsers(dest="catalog_command", metavar="ACTION", required=True)

    v = csub.add_parser("validate", help="检查资源目录；有误时列出全部问题，退出码为 1")
    v.add_argument("path", nargs="?", help="资源目录文件夹（默认：$GOVHUB_CATALOG 或 ./catalog）")
    v.add_argument(
        "--json", action="store_true", help="以 JSON 输出是否有效、各项计数和每个问题（文件、资源、信息项）"
    )
    v.set_defaults(handler=validate, needs="nothing")  # checks the folder it is given itself

    ls = csub.add_parser("list", help="列出资源，每个资源一行")
    ls.add_argument("--json", action="store_true", help="以 JSON 输出，每个资源一个对象（供脚本使用）")
    ls.add_argument("--agency", help="只列出该机构的资源")
    ls.set_defaults(handler=list_resources, needs="catalog")

    sh = csub.add_parser("show", help="查看一个资源的完整信息")
    sh.add_argument("code", help="资源代码、机构/资源标识或资源 id")
    sh.add_argument("--json", action="store_true")
    sh.set_defaults(handler=show, needs="catalog")

    x = csub.add_parser("export", help="将资源目录导出为 DCAT-AP JSON-LD（仅生效中的资源）")
    x.add_argument("-o", "--output", help="要写入的文件（默认或 -：标准输出）")
    x.add_argument(
        "--with-snapshots", action="store_true", help="将各资源的当前快照作为分发（distribution）一并导出"
    )
    x.set_defaults(handler=export, needs="catalog")

    d = csub.add_parser("draft", help="根据机构数据库的表起草目录条目（系统对接，§9）")
    d.add_argument("--from-db", required=True, metavar="URL", help="机构数据库的 SQLAlchemy URL")
    d.add_argument("--agency", required=True, help="草稿所属机构的 id")
    d.add_argument("-o", "--output", help="写入的资源目录文件夹（默认：当前资源目录文件夹）")
    d.add_argument("--json", action="store_true", help="以 JSON 列出写入的文件")
    d.set_defaults(handler=draft, needs="catalog")

    from govhub.cli.catalog_change_cmd import register as register_changes

    register_changes(csub)  # catalog change propose / current / list / show / approve / return


def _catalog_dir(args: argparse.Namespace, path: str | None = None) -> Path:
    return Path(path) if path else args.settings.catalog_dir


def _catalog_or_exit(args: argparse.Namespace):
    from govhub.catalog.load import load_catalog

    catalog, problems = load_catalog(_catalog_dir(args))
    for p in problems:
        print(f"目录问题（该条目未列出）：{p}", file=sys.stderr)
    return catalog


def validate(args: argparse.Namespace) -> int:
    from govhub.catalog.load import load_catalog
    from govhub.cli.common import CliError

    root = _catalog_dir(args, args.path)
    if not root.is_dir():
        raise CliError(f"资源目录文件夹 {root} 不存在")
    catalog, problems = load_catalog(root)
    if args.json:
        from govhub.cli.output import print_json

        print_json({"valid": not problems, "folder": str(root), "agencies": len(catalog.agencies),
                    "resources": len(catalog.resources), "version": catalog.version,
                    "problems": [p.__dict__ for p in problems]})  # fmt: skip
        return 1 if problems else 0
    if problems:
        for p in problems:
            print(p)
        print(f"\n{root} 中有 {len(problems)} 个问题", file=sys.stderr)
        return 1
    print(
        f"资源目录有效：{len(catalog.agencies)} 个机构，{len(catalog.resources)} 个资源（版本 {catalog.version}）"
    )
    return 0


def _summary(r) -> dict:
    return {
        "code": r.code,
        "key": f"{r.agency}/{r.id}",
        "agency": r.agency,
        "name": r.name,
        "class": r.resource_class.value,
        "share_type": r.share.type.value,
        "delivery": r.delivery.method.value,
        "cycle": r.cycle.value,
        "status": r.status.value,
        "fields": len(r.fields),
    }


def list_resources(args: argparse.Namespace) -> int:
    from govhub.cli.output import print_json, print_table

    catalog = _catalog_or_exit(args)
    checked_agency(args)
    rows = [_summary(r) for r in catalog.resources if not args.agency or r.agency == args.agency]
    if args.json:
        print_json(rows)
        return 0
    labels = {r.code: r for r in catalog.resources}
    table = [
        [row["code"], row["key"], row["name"], labels[row["code"]].resource_class.label,
         labels[row["code"]].share.type.label, labels[row["code"]].delivery.method.label,
         labels[row["code"]].cycle.label, _STATUS_LABELS[row["status"]]]
        for row in rows
    ]  # fmt: skip
    print_table(["资源代码", "标识", "名称", "类别", "共享类型", "汇聚方式", "更新周期", "状态"], table)
    return 0


_STATUS_LABELS = {"draft": "草稿", "published": "已发布", "changed": "已变更待发布", "retired": "已停用"}


def show(args: argparse.Namespace) -> int:
    import yaml

    from govhub.catalog.model import model_dump_yaml_ready
    from govhub.cli.common import find_resource
    from govhub.cli.output import print_json

    catalog = _catalog_or_exit(args)
    r = find_resource(catalog, args.code)
    data = model_dump_yaml_ready(r)
    data["fingerprint"] = r.fingerprint
    if args.json:
        print_json(data)
    else:
        print(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), end="")
    return 0


def export(args: argparse.Namespace) -> int:
    import json

    from govhub.catalog.dcat import catalog_jsonld
    from govhub.cli.common import settings_and_catalog

    settings, catalog = settings_and_catalog(args)  # only a valid catalog is published
    snapshots = _snapshot_distributions(settings, catalog) if args.with_snapshots else None
    text = json.dumps(catalog_jsonld(catalog, snapshots=snapshots), ensure_ascii=False, indent=2) + "\n"
    if args.output and args.output != "-":  # "-": standard output, as the help and every Unix tool say
        Path(args.output).write_text(text, encoding="utf-8")
        print(f"已导出 DCAT-AP 目录：{args.output}")
    else:
        sys.stdout.write(text)
    return 0


def _snapshot_distributions(settings, catalog) -> dict:
    from govhub.catalog.dcat import distribution
    from govhub.warehouse.snapshots import current_info, resource_paths

    out = {}
    for r in catalog.resources:
        info = current_info(settings, r)
        if info is None or info.initial:
            continue
        folder = resource_paths(settings, r).snapshot(info.id)
        size = sum(p.stat().st_size for p in folder.glob("*.parquet"))
        out[r.key] = distribution(r, info.id, rows=info.rows, size=size, created_at=info.created_at)
    return out


def draft(args: argparse.Namespace) -> int:
    import sqlalchemy as sa

    from govhub.catalog.draft import draft_resources, write_drafts

    try:
        drafts = draft_resources(args.from_db, args.agency)
    except (sa.exc.SQLAlchemyError, ValueError) as exc:
        from govhub.cli.common import CliError

        said = f"无法读取数据库 {args.from_db.split('@')[-1]} 的表结构：{type(exc).__name__}: {exc}"
        raise CliError(said.splitlines()[0], code=1) from None
    written = write_drafts(drafts, Path(args.output) if args.output else _catalog_dir(args))
    if args.json:
        from govhub.cli.output import print_json

        print_json({"written": [str(p) for p in written]})
        return 0
    for path in written:
        print(f"已写入草稿：{path}")
    print("请填写每个 TODO，然后运行 govhub catalog validate")
    return 0
