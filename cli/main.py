# PYTHON_ARGCOMPLETE_OK
"""`govhub` — one command, sub-commands registered by small modules that import their heavy parts lazily.

Each module in COMMAND_MODULES exposes `register(subparsers)`; a sub-command's handler returns the exit code.
`govhub --help` must stay fast (benchmark W7): nothing heavy is imported here.

Exit codes, the same for every command (README, "Exit codes"): 0 done; 1 refused or failed; 2 usage (a bad option,
a resource, file or folder that does not exist); 3 `status --fail-on`: a feed at that state or worse; 130 Ctrl-C.
Under `--json` a failure is also a JSON object on stdout, said in one place (`main`): `{"ok": false, "code": …,
"message": …, "exit": …}` — `code` is the problem's registered code (govhub/problems.py), or "usage" (a usage
mistake), "failed", "file" (a path the system refused), "interrupted"; a GovhubError lists all its `problems`. The
Chinese message still goes to stderr for the person watching. Commands whose own report says how they failed (events
verify, catalog validate, ingest, upload, db current, notify run) print that report instead.
A command needs the data folder and the catalog to exist (`needs`, set per command: "hub", "catalog", "nothing"):
a mistyped --home is an error, never a new empty hub (`govhub init` makes one).
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_STALE, EXIT_INTERRUPTED = 0, 1, 2, 3, 130

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
    "govhub.cli.token_cmd",  # token create / list / revoke (the docking API's tokens)
    "govhub.cli.query_cmd",  # query; workspace build / show / download
    "govhub.cli.db_cmd",  # db upgrade / current (the workflow store's schema)
    "govhub.cli.portal_cmd",  # portal (the web portal, served by uvicorn)
    "govhub.cli.init_cmd",  # init (a new hub), completion (shell completion)
    "govhub.cli.notify_cmd",  # notify run (reminders, escalations, digests)
]


class _Version(argparse.Action):
    """--version, looked up only when asked (importlib.metadata costs milliseconds `govhub --help` need not pay)."""

    def __init__(self, option_strings: list[str], dest: str = argparse.SUPPRESS, **kwargs: object) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, help="显示版本号并退出")

    def __call__(self, parser: argparse.ArgumentParser, *args: object, **kwargs: object) -> None:
        from importlib.metadata import PackageNotFoundError, version

        try:
            found = version("govhub")
        except PackageNotFoundError:
            found = "unknown"
        print(f"govhub {found}")
        parser.exit()


def build_parser() -> argparse.ArgumentParser:
    from govhub.cli.parser import ChineseParser

    parser = ChineseParser(
        prog="govhub",
        description="政务数据资源共享平台 govhub：资源目录、数据汇聚、质量校验、更新时效与共享。",
    )
    parser.add_argument("--version", action=_Version)
    parser.add_argument("--home", help="数据文件夹（默认：$GOVHUB_HOME 或 ./data）")
    parser.add_argument("--catalog", help="资源目录文件夹（默认：$GOVHUB_CATALOG 或 ./catalog）")
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
    if "_ARGCOMPLETE" in os.environ:  # the shell asks for completions (govhub completion bash)
        import argcomplete

        argcomplete.autocomplete(parser)
    from govhub.cli.parser import UsageExit

    try:
        args = parser.parse_args(argv)
    except UsageExit as exc:
        if _json_asked(sys.argv[1:] if argv is None else argv):
            _print_failure("usage", exc.message, EXIT_USAGE)
        raise
    if not getattr(args, "handler", None):
        parser.print_help()
        return EXIT_OK
    from govhub.cli.common import CliError, require_folders
    from govhub.config import get_settings
    from govhub.problems import GovhubError

    as_json = bool(getattr(args, "json", False))
    try:
        args.settings = get_settings(args.home, args.catalog)  # the one place the CLI reads its configuration
        require_folders(args.settings, getattr(args, "needs", "hub"))
        code = int(args.handler(args) or 0)
        sys.stdout.flush()
        return code
    except BrokenPipeError:  # `govhub catalog list | head -1`: the reader has what it wanted
        _stdout_to_devnull()
        return EXIT_OK
    except CliError as exc:
        print(exc, file=sys.stderr)
        if as_json:
            _print_failure(exc.problem, str(exc), exc.code)
        return exc.code
    except GovhubError as exc:
        for problem in exc.problems:
            print(f"错误：{problem}", file=sys.stderr)
        if as_json:
            _print_failure(exc.problems[0].code, "；".join(str(p) for p in exc.problems), EXIT_FAILED,
                           problems=[p.to_dict() for p in exc.problems])  # fmt: skip
        return EXIT_FAILED
    # an output path that cannot be written (a file where a folder should be, a folder for a file, no permission)
    except OSError as exc:
        from govhub.problems import os_error_zh

        print(f"错误：{os_error_zh(exc)}", file=sys.stderr)
        if as_json:
            _print_failure("file", os_error_zh(exc), EXIT_FAILED)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print("已中断", file=sys.stderr)
        if as_json:
            _print_failure("interrupted", "已中断", EXIT_INTERRUPTED)
        return EXIT_INTERRUPTED


def _json_asked(argv: list[str]) -> bool:
    """Whether the command line asks for --json (before a "--" that ends the options)."""
    words = [str(a) for a in argv]
    return "--json" in (words[: words.index("--")] if "--" in words else words)


def _print_failure(code: str, message: str, exit_code: int, **more: object) -> None:
    """A failure as scripts read it under --json: one JSON object on stdout."""
    from govhub.cli.output import print_json

    try:
        print_json({"ok": False, "code": code, "message": message, "exit": exit_code, **more})
        sys.stdout.flush()
    except BrokenPipeError:
        _stdout_to_devnull()


def _stdout_to_devnull() -> None:
    """Point stdout at /dev/null so Python's final flush of what is still buffered cannot fail again."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


if __name__ == "__main__":
    sys.exit(main())
