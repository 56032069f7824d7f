"""`govhub catalog change propose|current|list|show|approve|return` (§10): catalog changes from the command line.

Every verb calls `govhub.services.catalog_changes`, as the portal's pages do: the service authorizes `--by` itself
(proposing is the steward's of the resource's own agency, approving and returning the office's), checks the entry as
`govhub catalog validate` checks the folder and, on approval, replaces the resource's file. A steward edits the entry
`current` prints and proposes it with `--file` (or `-`: standard input); `--json` prints the change as stored.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from govhub.cli.ingest_cmd import actor_of

if TYPE_CHECKING:
    from govhub.services.catalog_changes import CatalogChange


def register(csub: argparse._SubParsersAction) -> None:
    """The `change` group under `govhub catalog` (called by catalog_cmd.register)."""
    from govhub.cli.ingest_cmd import add_actor
    from govhub.states import ChangeState

    p = csub.add_parser("change", help="资源目录变更（§10）：数据专管员提出，区科委批准或退回")
    verbs = p.add_subparsers(dest="change_verb", metavar="VERB", required=True)

    def verb(name: str, help_text: str, handler: Any, *, change_id: bool = True) -> argparse.ArgumentParser:
        v = verbs.add_parser(name, help=help_text)
        if change_id:
            v.add_argument("id", help="目录变更编号，如 CC-20261129-0001")
        add_actor(v, "操作人，记录在案，并按其角色和机构核查权限")
        v.add_argument("--json", action="store_true", help="以 JSON 输出目录变更（供脚本使用）")
        v.set_defaults(handler=handler, needs="hub")
        return v

    pr = verb("propose", "数据专管员：提出本机构资源的新目录条目（YAML），待区科委审核", propose,
              change_id=False)  # fmt: skip
    pr.add_argument("resource", help="资源代码、机构/资源标识或 id")
    pr.add_argument("--file", required=True, metavar="PATH",
                    help="新的完整目录条目（YAML 文件；- 表示从标准输入读取）")  # fmt: skip
    pr.add_argument("--note", required=True, help="变更说明：改了什么、为什么改")

    cur = verbs.add_parser("current", help="输出资源现行的目录条目（YAML），供修改后提出变更")
    cur.add_argument("resource", help="资源代码、机构/资源标识或 id")
    cur.add_argument("--json", action="store_true", help="以 JSON 输出资源、条目文件和条目文本")
    cur.set_defaults(handler=current, needs="catalog")

    ls = verb("list", "列出你可查看的目录变更（本机构的；区科委可看全部）", list_cmd, change_id=False)
    ls.add_argument("--agency", help="只看该机构的目录变更")
    ls.add_argument("--state", action="append", choices=[s.value for s in ChangeState], metavar="STATE",
                    help="只看处于此状态的目录变更，可多次给出："
                    + "、".join(f"{s.value}（{s.label}）" for s in ChangeState))  # fmt: skip

    sh = verb("show", "查看一项目录变更：说明、状态、提出的条目（YAML）、退回理由", show)
    sh.add_argument("--diff", action="store_true", help="只列出与现行目录条目的差异（而非完整条目）")

    verb("approve", "区科委：批准目录变更，新条目写入资源目录", approve)
    r = verb("return", "区科委：说明理由退回目录变更，资源目录不变", return_cmd)
    r.add_argument("--reason", required=True, help="退回理由")


def _read_entry(where: str) -> str:
    """The proposed entry from a file (or standard input for "-"): a file that is not there is a usage error (2);
    one that is not UTF-8 text, or longer than any entry may be, is refused (1) — never read whole into memory."""
    from govhub.cli.common import CliError
    from govhub.services.catalog_changes import MAX_YAML

    if where == "-":
        text, said = sys.stdin.read(MAX_YAML + 1), "标准输入"
    else:
        path = Path(where)
        if not path.is_file():
            what = "是一个文件夹，不是文件" if path.is_dir() else "文件不存在"
            raise CliError(f"{where}：{what}")
        try:
            with open(path, encoding="utf-8-sig") as f:  # a BOM (Windows editors) is no part of the entry
                text = f.read(MAX_YAML + 1)
        except UnicodeDecodeError:
            raise CliError(f"{where}：不是 UTF-8 编码的文本，请以 UTF-8 保存目录条目", code=1,
                           problem="catalog_change.invalid") from None  # fmt: skip
        said = where
    if len(text) > MAX_YAML:
        raise CliError(f"{said}：目录条目不能超过 {MAX_YAML} 个字", code=1, problem="catalog_change.invalid")
    return text


def _due(args: argparse.Namespace, change: CatalogChange) -> str | None:
    """The §10 clock against today, while the change waits (a decided change's clock no longer runs)."""
    from govhub.clock import today_in_beijing
    from govhub.services.catalog_changes import due_text
    from govhub.states import ChangeState

    if change.state is not ChangeState.PENDING:
        return None
    return due_text(args.settings, change, today_in_beijing())


def _print(
    args: argparse.Namespace,
    change: CatalogChange,
    headline: str,
    *,
    entry: str | None = None,
    title: str = "",
) -> int:
    """The change: JSON as stored, or its headline, details and (for `show`) the entry or its diff."""
    from govhub.cli.output import print_json
    from govhub.clock import beijing_text, stored_moment
    from govhub.states import ChangeState

    if args.json:
        print_json(change.to_dict())
        return 0
    print(headline)
    by = f"{change.proposed_by}（{change.proposed_by_id}）" if change.proposed_by_id else change.proposed_by
    print(f"  资源：{change.key}；提出人：{by}；提出时间：{beijing_text(stored_moment(change.proposed_at))}")
    print(f"  变更说明：{change.note}")
    due = _due(args, change)
    if due:
        print(f"  {due}")
    if change.state is ChangeState.PENDING:
        print("  待区科委审核（批准或说明理由退回）")
    elif change.decided_at:
        print(
            f"  审核：{change.decided_by}，{beijing_text(stored_moment(change.decided_at))}「{change.state.label}」"
        )
    if change.reason:
        print(f"  退回理由：{change.reason}")
    if entry is not None:
        print(f"\n{title}")
        print(entry, end="" if entry.endswith("\n") else "\n")
    return 0


def _headline(change: CatalogChange) -> str:
    return f"{change.id}  {change.key}  「{change.state.label}」"


def propose(args: argparse.Namespace) -> int:
    from govhub.cli.common import find_resource, settings_and_catalog
    from govhub.services.catalog_changes import propose as propose_change

    yaml_text = _read_entry(args.file)
    settings, catalog = settings_and_catalog(args)
    resource = find_resource(catalog, args.resource)
    change = propose_change(settings, catalog, f"{resource.agency}/{resource.id}", actor=actor_of(args),
                            yaml_text=yaml_text, note=args.note)  # fmt: skip
    return _print(args, change, f"已提出目录变更 {change.id}（{change.key}）「{change.state.label}」")


def current(args: argparse.Namespace) -> int:
    from govhub.cli.common import CliError, find_resource, settings_and_catalog
    from govhub.services.catalog_changes import current_yaml, resource_file

    settings, catalog = settings_and_catalog(args)
    resource = find_resource(catalog, args.resource)
    text = current_yaml(settings, resource)
    if not text:
        raise CliError(
            f"无法读取资源「{resource.code}」的目录条目 {resource_file(settings, resource)}", code=1
        )
    if args.json:
        from govhub.cli.output import print_json

        path = resource_file(settings, resource)
        print_json({"resource": f"{resource.agency}/{resource.id}", "code": resource.code,
                    "file": path.relative_to(settings.catalog_dir).as_posix(), "yaml_text": text})  # fmt: skip
        return 0
    sys.stdout.write(text if text.endswith("\n") else text + "\n")
    return 0


def list_cmd(args: argparse.Namespace) -> int:
    from govhub.cli.common import checked_agency
    from govhub.cli.output import print_json, print_table
    from govhub.clock import beijing_text, stored_moment
    from govhub.services.catalog_changes import list_changes
    from govhub.states import ChangeState

    states = [ChangeState(s) for s in args.state] if args.state else None
    found = list_changes(args.settings, actor=actor_of(args), agency=checked_agency(args), states=states)
    if args.json:
        print_json([c.to_dict() for c in found])
        return 0
    rows = [
        (c.id, c.key, c.proposed_by, beijing_text(stored_moment(c.proposed_at), zone=False), c.state.label,
         (_due(args, c) or "—").removeprefix("目录更新期限："))
        for c in found
    ]  # fmt: skip
    print_table(["编号", "资源", "提出人", "提出时间（北京时间）", "状态", "期限"], rows)
    return 0


def show(args: argparse.Namespace) -> int:
    """One change, for whoever may see its agency's changes (its stewards, the office) — as on the portal."""
    from govhub.services.catalog_changes import show_change

    change = show_change(args.settings, args.id, actor=actor_of(args))
    if args.json:
        return _print(args, change, "")
    if args.diff:
        return _print(
            args, change, _headline(change), entry=_diff(args, change), title="与现行目录条目的差异："
        )
    return _print(args, change, _headline(change), entry=change.yaml_text, title="提出的目录条目（YAML）：")


def _diff(args: argparse.Namespace, change: CatalogChange) -> str:
    from govhub.catalog.load import load_catalog
    from govhub.services.catalog_changes import diff_to_current

    catalog, _ = load_catalog(args.settings.catalog_dir)
    return "\n".join(diff_to_current(args.settings, catalog, change)) or "（与现行目录条目相同）"


def approve(args: argparse.Namespace) -> int:
    from govhub.services.catalog_changes import approve as approve_change

    change = approve_change(args.settings, args.id, actor=actor_of(args))
    return _print(args, change, f"已批准目录变更 {change.id}：{change.key} 的新条目已写入资源目录")


def return_cmd(args: argparse.Namespace) -> int:
    from govhub.services.catalog_changes import return_change

    change = return_change(args.settings, args.id, actor=actor_of(args), reason=args.reason)
    return _print(args, change, f"已退回目录变更 {change.id}（{change.key}），资源目录不变")
