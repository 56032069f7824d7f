"""`govhub ingest` and `govhub upload`: the catalog's Dagster assets, run in-process."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

OK_STATUSES = {"published", "zero_update", "no_upload"}
STATUS_ZH = {
    "published": "已发布",
    "zero_update": "零更新（内容未变）",
    "rejected": "已拒收",
    "failed": "失败",
    "no_upload": "无待处理上传",
}


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("ingest", help="pull or load resources now (the same Dagster assets, in-process)")
    which = p.add_mutually_exclusive_group()
    which.add_argument("--agency", help="every resource of this agency")
    which.add_argument("--resource", help="one resource (code, agency/resource or id)")
    which.add_argument("--all", action="store_true", help="every resource (the default)")
    p.add_argument(
        "--json", action="store_true", help="per resource: status, rows, inserted, updated, deleted, …"
    )
    p.add_argument("--by", default="cli", help="who runs the load (recorded with it)")
    p.set_defaults(handler=ingest)

    u = sub.add_parser("upload", help="land and load one fill-in sheet; exit 0 if published")
    u.add_argument("file", type=Path)
    u.add_argument("--resource", required=True, help="resource code, agency/resource or id")
    u.add_argument("--by", default="cli", help="who uploads (the agency's steward)")
    u.add_argument("--json", action="store_true")
    u.set_defaults(handler=upload)


def _setup():
    from govhub.config import get_settings
    from govhub.pipelines.definitions import load_valid_catalog
    from govhub.warehouse.hub import sync_hub

    settings = get_settings()
    catalog = load_valid_catalog(settings)
    sync_hub(settings, catalog)
    return settings, catalog


def _progress(total: int):
    done = [0]
    tty = sys.stderr.isatty()

    def step(resource, outcome: dict[str, Any]) -> None:
        done[0] += 1
        width = 30
        filled = width * done[0] // total
        bar = "█" * filled + "·" * (width - filled)
        line = f"[{bar}] {done[0]}/{total} {resource.agency}/{resource.id}: {STATUS_ZH.get(outcome['status'], outcome['status'])}"
        print(
            ("\r\x1b[2K" if tty else "") + line, end="" if tty and done[0] < total else "\n", file=sys.stderr
        )

    return step


def render_outcomes(outcomes: list[dict[str, Any]]) -> None:
    from govhub.cli.output import print_table

    headers = [
        "resource",
        "status",
        "rows",
        "inserted",
        "updated",
        "deleted",
        "quarantined",
        "held",
        "snapshot",
    ]
    rows = [
        [
            f"{o['agency']}/{o['resource']}",
            STATUS_ZH.get(o["status"], o["status"]),
            o.get("rows", ""),
            o.get("inserted", ""),
            o.get("updated", ""),
            o.get("deleted", ""),
            o.get("quarantined", ""),
            o.get("held", ""),
            o.get("snapshot_id") or "",
        ]
        for o in outcomes
    ]
    print_table(headers, rows)
    for o in outcomes:
        problems = o.get("problems") or [{"message_zh": e} for e in o.get("errors", [])]
        if o["status"] not in OK_STATUSES or o.get("quarantined"):
            print(
                f"\n{o['agency']}/{o['resource']} ({o.get('code', '')}): {STATUS_ZH.get(o['status'], o['status'])}"
            )
            for p in problems[:20]:
                print(f"  - {_problem_text(p)}")
            if len(problems) > 20:
                print(f"  … {len(problems) - 20} more")
            for key in ("report_path", "annotated_path"):
                if o.get(key):
                    print(f"  {key}: {o[key]}")


def _problem_text(p: dict[str, Any]) -> str:
    from govhub.problems import Problem

    fields = {k: p.get(k) for k in Problem.__dataclass_fields__}
    fields["code"] = fields["code"] or ""
    fields["message_zh"] = fields["message_zh"] or ""
    return str(Problem(**{k: v for k, v in fields.items() if v is not None or k in ("code", "message_zh")}))


def ingest(args: argparse.Namespace) -> int:
    from govhub.cli.common import find_resource
    from govhub.pipelines.run import materialize_many

    settings, catalog = _setup()
    if args.resource:
        resources = [find_resource(catalog, args.resource)]
    elif args.agency:
        resources = catalog.of_agency(args.agency)
        if not resources:
            print(f"no resources for agency {args.agency!r}", file=sys.stderr)
            return 2
    else:
        resources = list(catalog.resources)
    outcomes = materialize_many(
        settings, catalog, resources, actor=args.by, on_done=_progress(len(resources))
    )
    if args.resource and outcomes[0]["status"] == "no_upload":
        outcomes[0]["status"] = "failed"
        outcomes[0]["errors"] = ["填报类资源没有待处理的上传文件：请用 govhub upload FILE --resource CODE"]
    if args.json:
        from govhub.cli.output import print_json

        print_json(outcomes)
    else:
        render_outcomes(outcomes)
    return 0 if all(o["status"] in OK_STATUSES for o in outcomes) else 1


def upload(args: argparse.Namespace) -> int:
    from govhub.cli.common import find_resource
    from govhub.pipelines.run import materialize_resource

    if not args.file.is_file():
        print(f"{args.file}: 文件不存在", file=sys.stderr)
        return 2
    settings, catalog = _setup()
    resource = find_resource(catalog, args.resource)
    # Loaded straight from where it is (landing keeps its bytes); the inbox is for the sensor.
    from govhub.people import authorize
    from govhub.roles import Role

    actor = authorize(settings, args.by, Role.STEWARD, resource.agency, action_zh="上传填报文件")
    outcome = materialize_resource(settings, catalog, resource, upload=args.file.resolve(), actor=actor)
    if args.json:
        from govhub.cli.output import print_json

        print_json(outcome)
    else:
        render_outcomes([outcome])
    return 0 if outcome["status"] in ("published", "zero_update") else 1
