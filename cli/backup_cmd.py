"""`govhub backup -o FILE` and `govhub restore FILE` (§16): the whole hub in one verifiable archive."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    from govhub.cli.ingest_cmd import add_actor

    b = sub.add_parser(
        "backup", help="将整个平台（报送文件、快照、报告、事件日志、报送台账）写入一个归档文件"
    )
    b.add_argument("-o", "--output", required=True, help="要写入的归档文件，如 govhub-20261125.tar")
    b.add_argument("--include-secrets", action="store_true", help="同时归档 secrets.yaml（默认不归档）")
    b.add_argument("--json", action="store_true")
    add_actor(b, "备份人：平台工程师或区科委")
    b.set_defaults(handler=backup)

    r = sub.add_parser("restore", help="将归档文件恢复到空的数据文件夹（$GOVHUB_HOME）和空的工作流数据库")
    r.add_argument("archive", help="由 govhub backup 写出的归档文件")
    r.add_argument("--json", action="store_true")
    add_actor(r, "恢复人，记录在案")
    # restores into a new data folder; the catalog may come from the archive (checked once it is in place)
    r.set_defaults(handler=restore, needs="nothing")


def backup(args: argparse.Namespace) -> int:
    from govhub.cli.common import settings_and_catalog
    from govhub.cli.ingest_cmd import actor_of
    from govhub.cli.output import print_json
    from govhub.services.backup import backup_hub

    settings, catalog = settings_and_catalog(args)
    summary = backup_hub(settings, catalog, Path(args.output), actor=actor_of(args),
                         include_secrets=args.include_secrets)  # fmt: skip
    if args.json:
        print_json({**summary.__dict__, "path": str(summary.path)})
    else:
        print(f"已备份：{summary.path}（{summary.files} 项，文件共 {summary.bytes / 1e6:.1f} MB）")
        print(f"工作流数据库 {_rows(summary.store_rows)} 行；事件日志链头 {summary.event_head or '（空）'}")
    return 0


def restore(args: argparse.Namespace) -> int:
    from govhub.cli.common import CliError, require_folders, settings_and_catalog
    from govhub.cli.ingest_cmd import actor_of
    from govhub.cli.output import print_json
    from govhub.services.backup import restore_hub

    if not Path(args.archive).is_file():
        raise CliError(f"备份文件 {args.archive} 不存在")
    from govhub.config import get_settings
    from govhub.services.backup import prepare_restore

    # a new folder: the hub's settings and catalog come from the archive (unless --catalog names one that exists)
    prepare_restore(
        Path(args.archive), args.settings.home, lambda: get_settings(args.home, args.catalog).catalog_dir
    )
    args.settings = get_settings(args.home, args.catalog)
    require_folders(args.settings, "catalog")
    settings, catalog = settings_and_catalog(args)
    summary = restore_hub(settings, catalog, Path(args.archive), actor=actor_of(args))
    if args.json:
        print_json(summary)
    else:
        print(
            f"已恢复到 {summary['home']}：{summary['files']} 个文件，工作流数据库 {_rows(summary['store_rows'])} 行"
        )
        print(
            f"事件日志已核验，链头 {summary['event_head'] or '（空）'}（备份于 {_beijing(summary['backed_up_at'])}）"
        )
    return 0


def _rows(counts: object) -> object:
    """Rows in the store: the total of the per-table counts a backup reports."""
    return sum(counts.values()) if isinstance(counts, dict) else counts


def _beijing(stamp: str) -> str:
    from govhub.clock import beijing_text

    try:
        return beijing_text(stamp)
    except ValueError:
        return str(stamp)
