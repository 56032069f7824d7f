"""`govhub query` (§14) and `govhub workspace build|show|download`: analysts' grant-scoped SQL and their workspace.

`govhub query --as PERSON "SQL"` runs read-only SQL over the person's agency's workspace in a sandboxed process;
statistics without SQL: `--count agency.resource`, `--group-by agency.resource --by field[,field]`,
`--series agency.resource --date field --per day|month|year`. Exit 0 with rows, 1 when refused or failed (the
reason in Chinese), 2 for a usage mistake. The full hub.duckdb stays the engineers' and the office's.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from govhub.cli.common import at_least

MAX_TIMEOUT_S = 3600  # an hour: the sandbox's process and the analyst's terminal wait no longer
MAX_ROWS = 10_000_000  # what a query may send back (the sandbox keeps them in memory first, 1 GB at most)


def register(sub: argparse._SubParsersAction) -> None:
    from govhub.cli.common import iso_date
    from govhub.cli.ingest_cmd import add_actor

    q = sub.add_parser("query", help="在本机构工作区上执行只读 SQL 或统计查询（§14）")
    q.add_argument("sql", nargs="?", help='SQL，如 "SELECT town_code, count(*) FROM gaj.hjrk GROUP BY 1"')
    q.add_argument(
        "--as", dest="person", metavar="PERSON", help="分析人员（默认：$GOVHUB_USER 或当前登录名）"
    )
    q.add_argument("--format", choices=["table", "csv", "json", "parquet"],
                   help="table：在终端显示表格（默认）；配合 -o 时为 csv/json/parquet（默认：按文件扩展名）")  # fmt: skip
    q.add_argument("-o", "--output", type=Path, help="将结果写入此文件（csv/json/parquet，附出处说明）")
    q.add_argument("--timeout", type=at_least(0, whole=False, above=True, most=MAX_TIMEOUT_S), default=30.0,
                   help=f"超时秒数（默认：30；最长 {MAX_TIMEOUT_S}）")  # fmt: skip
    q.add_argument("--max-rows", type=at_least(1, most=MAX_ROWS), default=100_000,
                   help=f"最多返回的行数（默认：100000；最多 {MAX_ROWS}）")  # fmt: skip
    stats = q.add_mutually_exclusive_group()
    stats.add_argument("--count", metavar="TABLE", help="统计表（机构.资源）的行数")
    stats.add_argument(
        "--group-by", metavar="TABLE", help="按 --by 信息项的取值分组统计表（机构.资源）的行数"
    )
    stats.add_argument(
        "--series", metavar="TABLE", help="按 --date 日期和 --per 周期统计表（机构.资源）的行数"
    )
    q.add_argument("--by", help="--group-by 的分组信息项，逗号分隔")
    q.add_argument("--date", help="--series 的日期信息项")
    q.add_argument("--per", choices=["day", "month", "year"], default="month")
    q.add_argument("--json", action="store_true", help="以 JSON 在标准输出给出结果和数据行")
    q.set_defaults(handler=query)

    w = sub.add_parser("workspace", help="机构工作区：生成、查看内容、下载本机构的工作区")
    verbs = w.add_subparsers(dest="verb", required=True, metavar="VERB")
    b = verbs.add_parser("build", help="立即（重新）生成某机构的工作区")
    b.add_argument("agency")
    add_actor(b, "生成人：平台工程师、区科委或该机构的分析人员")
    b.set_defaults(handler=build)
    s = verbs.add_parser("show", help="查看某机构工作区中的表及其依据")
    s.add_argument("agency")
    add_actor(s, "查看人：平台工程师、区科委或该机构的分析人员（与可生成该工作区的人相同）")
    s.set_defaults(handler=show)
    d = verbs.add_parser("download", help="下载本机构工作区文件的副本（可用任何 DuckDB 客户端打开）")
    d.add_argument("-o", "--output", type=Path, required=True)
    d.add_argument("--as", dest="person", metavar="PERSON")
    d.set_defaults(handler=download)
    # grants are judged today wherever data leaves (a query, a build, a download): on a date of one's choosing an
    # expired grant would serve again, and the agency's shared workspace would be rebuilt to it
    s.add_argument("--as-of", type=iso_date, metavar="YYYY-MM-DD", help="显示这一天的数据范围")
    for v in (b, s, d):
        v.add_argument("--json", action="store_true")


def _person(args: argparse.Namespace) -> str:
    from govhub.cli.ingest_cmd import default_actor

    return args.person or default_actor()


def _statement(args: argparse.Namespace, catalog) -> str:  # type: ignore[no-untyped-def]
    from govhub.cli.common import CliError
    from govhub.warehouse import stats

    chosen = next(
        (f"--{o.replace('_', '-')}" for o in ("count", "group_by", "series") if getattr(args, o)), None
    )
    if chosen and args.sql:
        raise CliError(f"{chosen} 由平台生成统计查询，不能同时给出 SQL；请二选一", code=2)
    for option, needs in (("by", "--group-by"), ("date", "--series")):
        if getattr(args, option) and chosen != needs:
            raise CliError(f"--{option} 只用于 {needs}", code=2)
    if args.count:
        return stats.count_sql(args.count)
    if args.group_by:
        if not args.by:
            raise CliError("--group-by 需要 --by 信息项（逗号分隔）", code=2)
        return stats.group_counts_sql(args.group_by, [f.strip() for f in args.by.split(",") if f.strip()])
    if args.series:
        if not args.date:
            raise CliError("--series 需要 --date 日期信息项", code=2)
        _check_date_field(catalog, args.series, args.date)
        return stats.time_series_sql(args.series, args.date, stats.Grain(args.per))
    if not (args.sql or "").strip():  # "" and "   " alike: nothing was asked
        raise CliError("请给出 SQL，或 --count / --group-by / --series 之一", code=2)
    return args.sql


def _check_date_field(catalog, table: str, name: str) -> None:  # type: ignore[no-untyped-def]
    """`--series T --date F` counts by F's day, month or year: F must be a date or date-time field. Said before any SQL
    is made (the analyst wrote none, so DuckDB's words about date_trunc and CAST would be no help). A table or field
    the catalog does not hold is left to the sandbox, which says it is not in the workspace."""
    from govhub.catalog.model import FieldType
    from govhub.cli.common import CliError

    agency, _, resource_id = table.partition(".")
    try:
        field = catalog.resource(f"{agency}/{resource_id}").field(name)
    except KeyError:
        return
    dated = (FieldType.DATE, FieldType.DATETIME)
    if field.type in dated:
        return
    dates = [f.name for f in catalog.resource(f"{agency}/{resource_id}").fields if f.type in dated]
    hint = f"，{table} 中可用：{'、'.join(dates)}" if dates else f"；{table} 没有日期信息项"
    raise CliError(f"信息项“{name}”（{field.label}）是{field.type.label_zh}，不是日期：--series 需要按日期或日期时间"
                   f"信息项统计{hint}", code=2)  # fmt: skip


def _format(args: argparse.Namespace) -> str:
    """The rows' format: table on the terminal; a file's from --format or its name (q.csv, q.json, q.parquet)."""
    from govhub.cli.common import CliError

    files = ("csv", "json", "parquet")
    if args.output is None:
        if args.format in files and not (args.json and args.format == "json"):
            raise CliError(f"--format {args.format} 需要 -o 输出文件", code=2)
        return args.format or "table"
    chosen = args.format or args.output.suffix.lower().lstrip(".")
    if chosen not in files:
        raise CliError(f"无法写入“{args.output.name}”：请用 --format csv|json|parquet 指定文件格式（或以 .csv/.json/.parquet 结尾）",
                       code=2)  # fmt: skip
    return chosen


def query(args: argparse.Namespace) -> int:
    from govhub.cli.common import settings_and_catalog
    from govhub.cli.output import print_json
    from govhub.services.query import export, run_sql
    from govhub.warehouse.export import format_table, row_objects
    from govhub.warehouse.sandbox import QueryLimits

    args.format = _format(args)
    settings, catalog = settings_and_catalog(args)
    limits = QueryLimits(timeout_s=args.timeout, max_rows=args.max_rows)
    outcome = run_sql(settings, catalog, _statement(args, catalog), actor=_person(args), limits=limits)
    result = outcome.result
    if not result.ok:  # said by main, as every failure is (a JSON object on stdout under --json)
        from govhub.problems import GovhubError, Problem

        raise GovhubError(Problem(code=result.error.code, message_zh=result.error.message_zh))
    written = export(settings, outcome, args.output, args.format) if args.output else None
    if args.json:
        print_json({"rows": result.rows, "truncated": result.truncated, "duration_s": round(result.duration_s, 3),
                    "columns": result.table.column_names, "data": None if written else row_objects(result.table),
                    "written": str(written) if written else None, **outcome.provenance})  # fmt: skip
    elif written:
        print(f"已写入 {written}（{result.rows} 行{'，已截断' if result.truncated else ''}）")
    else:
        print(format_table(result), end="")
    return 0


def build(args: argparse.Namespace) -> int:
    from govhub.cli.common import checked_agency, settings_and_catalog
    from govhub.cli.ingest_cmd import actor_of
    from govhub.cli.output import print_json
    from govhub.services.workspaces import build as build_workspace

    settings, catalog = settings_and_catalog(args)
    checked_agency(args)
    done = build_workspace(settings, catalog, args.agency, actor=actor_of(args))
    if args.json:
        print_json({"agency": done.agency, "path": str(done.path), "tables": done.tables, "bytes": done.bytes,
                    "duration_s": round(done.duration_s, 3)})  # fmt: skip
    else:
        print(f"已生成 {done.agency} 的工作区：{done.path}（{len(done.tables)} 张表，{done.bytes / 1e6:.1f} MB，"
              f"{done.duration_s:.1f} 秒）")  # fmt: skip
    return 0


def show(args: argparse.Namespace) -> int:
    from govhub.cli.common import checked_agency, settings_and_catalog
    from govhub.cli.ingest_cmd import actor_of
    from govhub.cli.output import print_json, print_table
    from govhub.governance.sharing import describe_rows
    from govhub.services.workspaces import view_scope

    settings, catalog = settings_and_catalog(args)
    checked_agency(args)
    scope = view_scope(settings, catalog, args.agency, actor=actor_of(args), today=args.as_of)
    if args.json:
        print_json([{"table": t.name, "basis": t.basis.label, "columns": list(t.columns),
                     "rows": None if t.row_filter.everything else t.row_filter.to_list(),
                     "rows_zh": describe_rows(t.row_filter.to_list()), "grants": list(t.grant_ids)}
                    for t in scope.tables])  # fmt: skip
        return 0
    print_table(["表", "依据", "信息项", "记录范围", "授权"],
                [(t.name, t.basis.label, "、".join(t.columns), describe_rows(t.row_filter.to_list()),
                  "、".join(t.grant_ids)) for t in scope.tables])  # fmt: skip
    return 0


def download(args: argparse.Namespace) -> int:
    from govhub.cli.common import settings_and_catalog
    from govhub.cli.output import print_json
    from govhub.services.workspaces import download as download_workspace

    settings, catalog = settings_and_catalog(args)
    path, provenance = download_workspace(settings, catalog, args.output, actor=_person(args))
    if args.json:
        print_json({"path": str(path), **provenance})
    else:
        print(f"已下载 {provenance['agency']} 的工作区到 {path}（说明见 {path.name}.meta.json）")
    return 0
