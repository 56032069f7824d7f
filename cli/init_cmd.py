"""`govhub init [--home H] [--catalog C]` (a new hub) and `govhub completion bash|zsh|fish` (shell completion)."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    from govhub.cli.common import iso_date

    i = sub.add_parser("init", help="新建平台：数据文件夹、工作流数据库和资源目录（示例目录或现有目录）")
    i.add_argument(
        "--home",
        dest="init_home",
        metavar="H",
        help="要创建的数据文件夹（默认：--home，未给出时为 ./data）",
    )
    i.add_argument("--catalog", dest="init_catalog", metavar="C",
                   help="要使用的现有资源目录文件夹，或写入示例目录的位置（默认：H/catalog）")  # fmt: skip
    i.add_argument("--in-service-since", dest="in_service_since", type=iso_date, metavar="DATE",
                   help="平台启用日期：考核不计此前（含当天）到期的报送周期（默认：新建平台为今天，已有平台保持原设置）")  # fmt: skip
    i.add_argument("--json", action="store_true")
    i.set_defaults(handler=init, needs="nothing")

    c = sub.add_parser("completion", help='打印 shell 补全脚本：eval "$(govhub completion bash)"')
    c.add_argument("shell", choices=["bash", "zsh", "fish"], nargs="?", default="bash")
    c.set_defaults(handler=completion, needs="nothing")


def init(args: argparse.Namespace) -> int:
    from govhub.config import get_settings
    from govhub.services.init_hub import init_hub

    settings = args.settings
    if args.init_home:
        settings = get_settings(args.init_home, settings.catalog_dir)
    done = init_hub(
        settings,
        Path(args.init_catalog) if args.init_catalog else None,
        in_service_since=args.in_service_since,
    )
    if args.json:
        from govhub.cli.output import print_json

        print_json(done.to_dict())
        return 0
    print(
        f"{'已有平台，已检查' if done.already_a_hub else '已新建平台'}：数据文件夹 {done.home}（工作流数据库版本 {done.store_revision}）"
    )
    if done.catalog_created:
        print(f"已写入示例资源目录：{done.catalog}（请按本区实际修改，然后运行 govhub catalog validate）")
    else:
        print(f"使用现有资源目录：{done.catalog}（{done.resources} 个有效资源）")
    if done.in_service_since:
        print(
            f"平台启用日期：{done.in_service_since}（考核不计此前及当天到期的报送周期；可用 --in-service-since 更正）"
        )
    print(
        f"之后的命令用 --home {done.home} 或 GOVHUB_HOME={done.home}；资源目录已记入 {done.home / 'govhub.yaml'}"
    )
    return 0


def completion(args: argparse.Namespace) -> int:
    import argcomplete

    print(argcomplete.shellcode(["govhub"], shell=args.shell), end="")
    return 0
