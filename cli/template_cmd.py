"""`govhub template CODE -o FILE [--format xlsx|csv]`: the fill-in template for one catalog resource."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("template", help="写出某资源的填报模板")
    p.add_argument("code", help="资源代码、机构/资源标识或资源 id")
    p.add_argument("-o", "--output", required=True, help="要写入的文件（如 低保名册.xlsx）")
    p.add_argument("--format", choices=["xlsx", "csv"], help="文件格式（默认：按文件扩展名，否则为 xlsx）")
    p.add_argument("--json", action="store_true", help="以 JSON 输出写入的文件、所属资源和模板版本")
    p.set_defaults(handler=template, needs="catalog")


def template(args: argparse.Namespace) -> int:
    from govhub.cli.common import find_resource, settings_and_catalog
    from govhub.services.templates import issue_template

    settings, catalog = settings_and_catalog(args)
    resource = find_resource(catalog, args.code)
    out = Path(args.output)
    fmt = args.format or ("csv" if out.suffix.lower() == ".csv" else "xlsx")
    if out.suffix.lower() != f".{fmt}":
        out = out.with_name(out.name + f".{fmt}") if not out.suffix else out.with_suffix(f".{fmt}")
    issue_template(settings, catalog, resource, out, fmt=fmt)  # a path it cannot write: said by `main`
    if args.json:
        from govhub.cli.output import print_json

        print_json({"path": str(out), "code": resource.code, "format": fmt, "version": resource.fingerprint})
        return 0
    print(f"已生成「{resource.name}」（{resource.code}）的填报模板：{out}（模板版本 {resource.fingerprint}）")
    return 0
