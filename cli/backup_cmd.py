"""`govhub backup -o FILE` and `govhub restore FILE` (§16): the whole hub in one verifiable archive."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    from govhub.cli.ingest_cmd import add_actor

    b = sub.add_parser(
        "backup", help="write the hub (inputs, snapshots, reports, event log, ledger) to one archive"
    )
    b.add_argument("-o", "--output", required=True, help="archive to write, e.g. govhub-20261125.tar")
    b.add_argument(
        "--include-secrets", action="store_true", help="also archive secrets.yaml (off by default)"
    )
    b.add_argument("--json", action="store_true")
    add_actor(b, "who makes the backup (an engineer or the office)")
    b.set_defaults(handler=backup)

    r = sub.add_parser(
        "restore", help="restore an archive into an empty data folder ($GOVHUB_HOME) and store"
    )
    r.add_argument("archive", help="a file written by `govhub backup`")
    r.add_argument("--json", action="store_true")
    add_actor(r, "who restores (recorded)")
    # restores into a new data folder; the catalog may come from the archive (checked once it is in place)
    r.set_defaults(handler=restore, needs="nothing")


def backup(args: argparse.Namespace) -> int:
    from govhub.cli.common import settings_and_catalog
    from govhub.cli.ingest_cmd import default_actor
    from govhub.cli.output import print_json
    from govhub.services.backup import backup_hub

    settings, catalog = settings_and_catalog(args)
    summary = backup_hub(settings, catalog, Path(args.output), actor=args.by or default_actor(),
                         include_secrets=args.include_secrets)  # fmt: skip
    if args.json:
        print_json({**summary.__dict__, "path": str(summary.path)})
    else:
        print(f"已备份：{summary.path}（{summary.files} 项，文件共 {summary.bytes / 1e6:.1f} MB）")
        print(f"工作流数据库 {_rows(summary.store_rows)} 行；事件日志链头 {summary.event_head or '（空）'}")
    return 0


def restore(args: argparse.Namespace) -> int:
    from govhub.cli.common import CliError, require_folders, settings_and_catalog
    from govhub.cli.ingest_cmd import default_actor
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
    summary = restore_hub(settings, catalog, Path(args.archive), actor=args.by or default_actor())
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
