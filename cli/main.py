"""`govhub` — one command, sub-commands registered by small modules that import their heavy parts lazily.

Each module in COMMAND_MODULES exposes `register(subparsers)`; a sub-command's handler returns the exit code.
`govhub --help` must stay fast (benchmark W7): nothing heavy is imported here.
"""

from __future__ import annotations

import argparse
import importlib
import sys

COMMAND_MODULES = [
    "govhub.cli.catalog_cmd",  # catalog validate / list / show / draft
    "govhub.cli.demo_cmd",  # demo (generate the district, ingest, serve)
    "govhub.cli.ingest_cmd",  # ingest, upload
    "govhub.cli.template_cmd",  # template
    "govhub.cli.status_cmd",  # status, zero-update
    "govhub.cli.quality_cmd",  # quality suites, quality docs
    "govhub.cli.events_cmd",  # events, events verify
    "govhub.cli.backup_cmd",  # backup, restore
    "govhub.cli.scorecard_cmd",  # scorecard
    "govhub.cli.people_cmd",  # people add / list / deactivate
    "govhub.cli.request_cmd",  # request create / list / show / review / forward / answer / … / tick
    "govhub.cli.grant_cmd",  # grant list / show / revoke
    "govhub.cli.query_cmd",  # query; workspace build / show / download
    "govhub.cli.db_cmd",  # db upgrade / current (the workflow store's schema)
    "govhub.cli.portal_cmd",  # portal (the web portal, served by uvicorn)
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="govhub",
        description="政务数据资源共享平台 govhub: catalog, ingestion, quality, freshness and sharing.",
    )
    parser.add_argument("--home", help="data folder (default $GOVHUB_HOME or ./data)")
    parser.add_argument("--catalog", help="catalog folder (default $GOVHUB_CATALOG or ./catalog)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            continue  # a command module not written yet
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help()
        return 0
    from govhub.cli.common import CliError
    from govhub.config import get_settings
    from govhub.problems import GovhubError

    args.settings = get_settings(args.home, args.catalog)  # the one place the CLI reads its configuration
    try:
        return int(args.handler(args) or 0)
    except CliError as exc:
        print(exc, file=sys.stderr)
        return exc.code
    except GovhubError as exc:
        for problem in exc.problems:
            print(f"错误：{problem}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
