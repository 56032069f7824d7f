"""`govhub ingest` and `govhub upload`: the same services as the inbox, Dagster and the portal, called directly.

No Dagster in this process: a load is recorded by the service (load record, event log, ledger) and the Dagster code
location's `hub_events_sensor` shows it on the asset, with its checks, within a tick.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from govhub.catalog.model import Resource
    from govhub.warehouse.load import LoadOutcome

SHOWN_PROBLEMS = 20


def default_actor() -> str:
    """Who is at the terminal: $GOVHUB_USER, else the login name (a registered hub checks it like any other)."""
    import getpass
    import os

    return os.environ.get("GOVHUB_USER") or getpass.getuser()


def actor_of(args: argparse.Namespace) -> str:
    """Who acts: `--by`, else whoever is at the terminal (`default_actor`)."""
    return args.by or default_actor()


def add_actor(parser: argparse.ArgumentParser, help_text: str) -> None:
    parser.add_argument(
        "--by", default=None, metavar="PERSON", help=f"{help_text}（默认：$GOVHUB_USER 或当前登录名）"
    )


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("ingest", help="立即拉取接口汇聚的资源，并载入收件箱中待处理的填报文件")
    which = p.add_mutually_exclusive_group()
    which.add_argument("--agency", help="该机构的全部资源")
    which.add_argument("--resource", help="一个资源（资源代码、机构/资源标识或 id）")
    which.add_argument("--all", action="store_true", help="全部资源（默认）")
    p.add_argument(
        "--json",
        action="store_true",
        help="以 JSON 输出每个资源的 status、rows、inserted、updated、deleted 等",
    )
    add_actor(p, "执行人：平台工程师、区科委或该机构的数据专管员")
    p.set_defaults(handler=ingest)

    u = sub.add_parser("upload", help="上传并载入一份填报文件；发布成功时退出码为 0")
    u.add_argument("file", type=Path)
    u.add_argument("--resource", help="资源代码、机构/资源标识或 id（默认：模板所属的资源）")
    add_actor(u, "上传人，须为该资源所属机构的数据专管员")
    u.add_argument("--json", action="store_true")
    u.set_defaults(handler=upload)


def _progress(total: int):  # type: ignore[no-untyped-def]
    done = [0]
    tty = sys.stderr.isatty()

    def step(resource: Resource, outcomes: list[LoadOutcome]) -> None:
        done[0] += 1
        width = 30
        filled = width * done[0] // total
        bar = "█" * filled + "·" * (width - filled)
        states = "、".join(o.status.label for o in outcomes)
        line = f"[{bar}] {done[0]}/{total} {resource.agency}/{resource.id}: {states}"
        print(
            ("\r\x1b[2K" if tty else "") + line, end="" if tty and done[0] < total else "\n", file=sys.stderr
        )

    return step


def outcome_json(outcome: LoadOutcome, code: str) -> dict[str, Any]:
    return {**outcome.to_dict(), "code": code}


def render_outcomes(outcomes: list[LoadOutcome]) -> None:
    from govhub.cli.output import print_table

    headers = ["资源", "结果", "行数", "新增", "更新", "删除", "隔离", "保留旧值", "快照"]
    rows = [
        [f"{o.agency}/{o.resource}", o.status.label, o.rows, o.inserted, o.updated, o.deleted, o.quarantined, o.held,
         o.snapshot_id or ""]
        for o in outcomes
    ]  # fmt: skip
    print_table(headers, rows)
    for o in outcomes:
        if o.status.ok and not o.quarantined and not o.problems:
            continue
        print(f"\n{o.agency}/{o.resource}: {o.status.label}")
        shown = o.problems[:SHOWN_PROBLEMS]
        for p in shown:
            print(f"  - {p}")
        if o.problem_count > len(shown):
            print(f"  … 另有 {o.problem_count - len(shown)} 个问题（逐行列在问题报告和错误标注工作簿中）")
        if o.report_path:
            print(f"  问题报告：{o.report_path}")
        if o.annotated_path:
            print(f"  错误标注工作簿：{o.annotated_path}")


def _sync(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    from govhub.cli.common import pyarrow_without_pandas_detection, settings_and_catalog
    from govhub.warehouse.hub import ensure_hub

    pyarrow_without_pandas_detection()
    settings, catalog = settings_and_catalog(args)
    ensure_hub(settings, catalog)
    return settings, catalog


def ingest(args: argparse.Namespace) -> int:
    from govhub.cli.common import CliError, find_resource
    from govhub.services.ingest import ingest as ingest_all
    from govhub.states import LoadStatus

    settings, catalog = _sync(args)
    if args.resource:
        resources = [find_resource(catalog, args.resource)]
    elif args.agency:
        resources = catalog.of_agency(args.agency)
        if not resources:
            raise CliError(f"目录中没有机构“{args.agency}”的资源", code=2)
    else:
        resources = list(catalog.resources)
    outcomes = ingest_all(settings, resources, actor=actor_of(args), on_done=_progress(len(resources)))
    codes = {(r.agency, r.id): r.code for r in resources}
    asked_for_a_sheet = args.resource and [o.status for o in outcomes] == [LoadStatus.NO_UPLOAD]
    if args.json:
        from govhub.cli.output import print_json

        print_json([outcome_json(o, codes[(o.agency, o.resource)]) for o in outcomes])
    else:
        render_outcomes(outcomes)
    if asked_for_a_sheet:  # asked to load a sheet-fed resource that has nothing waiting
        print(f"「{resources[0].name}」为填报类资源，收件箱中没有待处理的文件：请用 govhub upload FILE --resource "
              f"{resources[0].code} 上传", file=sys.stderr if args.json else sys.stdout)  # fmt: skip
        return 1
    return 0 if all(o.status.ok for o in outcomes) else 1


def upload(args: argparse.Namespace) -> int:
    from govhub.cli.common import CliError, find_resource
    from govhub.services.templates import identify_sheet
    from govhub.services.upload import upload_sheet

    if not args.file.is_file():
        raise CliError(f"{args.file}: 文件不存在", code=2)
    settings, catalog = _sync(args)
    path = args.file.resolve()
    given = find_resource(catalog, args.resource) if args.resource else None
    origin = identify_sheet(settings, catalog, path, resource=given)
    if given is None:
        how = "模板" if origin.found_by == "template" else "表头"
        print(f"按{how}识别为「{origin.resource.name}」（{origin.resource.code}）", file=sys.stderr)
    resource = origin.resource
    outcome = upload_sheet(settings, resource, path, actor=actor_of(args), origin=origin)
    if args.json:
        from govhub.cli.output import print_json

        print_json(outcome_json(outcome, resource.code))
    else:
        render_outcomes([outcome])
    return 0 if outcome.status.current_confirmed else 1
