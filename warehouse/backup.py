"""Backup and restore of a hub (§16): one tar archive that restores to an identical, verifiable hub.

What a backup holds, under `govhub-backup/`:

- `files/…` — landing (every input as received), hub snapshots and their metadata, problem reports and Data Docs
  (with GE's stores they are built from, under expectations/), pending inbox sheets: each resource's folder is
  copied under its load lock, so a load running meanwhile is either wholly in or wholly out; snapshots and landing
  blobs are immutable anyway;
- `files/govhub.yaml` and the catalog — under `files/` when it lives in the data folder (as `govhub init` makes it),
  else under `catalog/`; `restore` writes them first where the target has none (`unpack_setup`), so the archive
  alone restores a hub every command can use;
- `store/<table>.jsonl` — every table of the workflow store's schema (event log with its hashes, submission ledger,
  alerts sent, people, catalog drift) exported row by row, so a backup of SQLite restores into PostgreSQL and back;
  Alembic's version table is not data: the manifest records the store's revision instead;
- `MANIFEST.json` — every member's size and sha256, the store's row counts and revision, and the event log's head
  (id:hash).

Not included: hub.duckdb (views, rebuilt on restore), Dagster's run history, DuckDB spill and staging folders,
landing's `.incoming/` partial copies (swept first when their writer is gone), and `secrets.yaml` (credentials belong in the secret store, not in archives; `include_secrets=True` overrides).

`restore` refuses a target that already holds a hub, an unfinished (`.partial`) or truncated archive, and any member
that could write outside the data folder (judged from its header before anything is written: `backup_members.py`);
then checks every member against the manifest (a damaged archive is named file by file and restores nothing),
brings the target store to head (its first use does) and imports the rows (a backup from a newer store revision is
refused), verifies the event chain and its head against the manifest, and rebuilds the DuckDB views.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import os
import shutil
import tarfile
import tempfile
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select

from govhub import store
from govhub.catalog.model import Catalog
from govhub.config import HUB_FILE, Settings
from govhub.problems import GovhubError, Problem
from govhub.store.migrate import head_revision, revisions
from govhub.warehouse.backup_members import manifest_problems, member_problems, write_members
from govhub.warehouse.meta import sweep_meta

ROOT = "govhub-backup"
CATALOG = f"{ROOT}/catalog"  # a catalog kept outside the data folder
FORMAT = 1
SKIPPED_DIRS = {"_staging", "_spill", ".incoming"}  # scratch: staging, DuckDB spill, landing's partial copies
TRANSIENT_TABLES = {"web_sessions"}  # signed-in browsers: a restored hub starts with everyone signed out
SKIPPED_FILES = {".lock"}


@dataclass
class BackupSummary:
    path: Path
    files: int
    bytes: int
    store_rows: dict[str, int]
    event_head: str | None


class _HashingReader:
    """A file object that hashes what tarfile reads from it: the manifest's sha256 is of exactly the bytes
    archived, read once (a file replaced meanwhile cannot make the two disagree)."""

    def __init__(self, fh: Any):
        self.fh, self.digest = fh, hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        data = self.fh.read(size)
        self.digest.update(data)
        return data


def _archive(tar: tarfile.TarFile, path: Path, name: str) -> dict[str, Any]:
    """Add `path` to the archive as `name`; returns its manifest entry."""
    info = tar.gettarinfo(str(path), arcname=name)
    if info.issym():
        tar.addfile(info)
        return {"symlink": info.linkname}
    with path.open("rb") as fh:
        reader = _HashingReader(fh)
        tar.addfile(info, reader)
    return {"size": info.size, "sha256": reader.digest.hexdigest()}


def _walk(folder: Path) -> Iterator[Path]:
    """Files and symlinks under `folder`, skipping scratch folders and lock files, in a stable order."""
    if not folder.exists():
        return
    for path in sorted(folder.iterdir()):
        if path.name in SKIPPED_DIRS or path.name in SKIPPED_FILES or path.suffix == ".lock":
            continue
        # a record or link half-written by a killed process
        if path.name.startswith(".") and path.suffix == ".tmp":
            continue
        if path.is_symlink() or path.is_file():
            yield path
        elif path.is_dir():
            yield from _walk(path)


def archived_tables() -> dict[str, Any]:
    """The store's tables a backup carries: all but the transient ones."""
    return {n: t for n, t in store.metadata.tables.items() if n not in TRANSIENT_TABLES}


def _one_moment(conn: Any) -> Any:
    """The connection reading every table as of one moment: PostgreSQL's READ COMMITTED gives each query its own
    (a fold of grant use committed between `events` and `grant_use` would not match the events exported); SQLite's
    transaction is one snapshot already."""
    if conn.dialect.name == "postgresql":
        conn.execution_options(isolation_level="REPEATABLE READ")
    return conn


def _export_store(settings: Settings, folder: Path) -> tuple[dict[str, int], str | None]:
    """Each store table as JSON lines in `folder`, streamed in one read transaction; (row counts, event head).
    The head is the last exported event, so it matches the export even if events are appended meanwhile."""
    counts: dict[str, int] = {}
    head = None
    with store.read_connection(settings) as conn, _one_moment(conn).begin():
        for name, table in sorted(archived_tables().items()):
            n = 0
            with (folder / f"{name}.jsonl").open("w", encoding="utf-8") as out:
                query = select(table).order_by(*table.primary_key.columns).execution_options(yield_per=5000)
                for row in conn.execute(query).mappings():
                    out.write(json.dumps(dict(row), ensure_ascii=False, sort_keys=True, default=_iso) + "\n")
                    n += 1
                    if name == store.events.name:
                        head = f"{row['id']}:{row['hash']}"
            counts[name] = n
    return counts, head


def _iso(value: Any) -> str:
    """Dates (a drift flag's deadline) as ISO text; `_import_rows` turns them back by the column's type."""
    if isinstance(value, dt.date):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not exported")


def create_backup(
    settings: Settings, catalog: Catalog, dest: Path, *, include_secrets: bool = False
) -> BackupSummary:
    """Write the hub at `settings.home` into the tar archive `dest` (written beside, then renamed into place)."""
    from govhub.warehouse.landing import Landing
    from govhub.warehouse.snapshots import resource_lock, resource_paths

    home = settings.home
    members: dict[str, dict[str, Any]] = {}
    dest.parent.mkdir(parents=True, exist_ok=True)
    Landing(settings).sweep()  # partial copies of killed uploads; never archived either way
    sweep_meta(settings)  # and half-written records
    partial = dest.with_name(dest.name + ".partial")
    with tarfile.open(partial, "w") as tar:

        def add(path: Path) -> None:
            name = f"{ROOT}/files/{path.relative_to(home).as_posix()}"
            members[name] = _archive(tar, path, name)

        locked_roots = set()
        for resource in catalog.resources:
            root = resource_paths(settings, resource).root
            locked_roots.add(root)
            with resource_lock(settings, resource):  # a running load is wholly in or wholly out
                for path in _walk(root):
                    add(path)
        for top in (
            settings.hub_dir,
            settings.landing_dir,
            settings.reports_dir,
            settings.inbox_dir,
            settings.expectations_dir,  # with GE's stores the Data Docs index is built from
        ):
            for path in _walk(top):
                if not any(root in path.parents for root in locked_roots):
                    add(path)
        alerts_log = settings.state_dir / "alerts.log"
        if alerts_log.exists():
            add(alerts_log)
        # the hub's own settings and its catalog: a hub `govhub init` made keeps its catalog in its folder, and
        # neither is worth anything restored without the other; a catalog kept elsewhere goes under catalog/
        hub_file = home / HUB_FILE
        if hub_file.is_file():
            add(hub_file)
        catalog_dir = settings.catalog_dir.resolve()
        inside = catalog_dir.is_relative_to(home)
        catalog_member = f"{ROOT}/files/{catalog_dir.relative_to(home).as_posix()}" if inside else CATALOG
        for path in _walk(catalog_dir):
            if inside:
                add(path)
            else:
                name = f"{CATALOG}/{path.relative_to(catalog_dir).as_posix()}"
                members[name] = _archive(tar, path, name)
        if include_secrets and settings.secrets_file.exists():
            add(settings.secrets_file)
        with tempfile.TemporaryDirectory(dir=dest.parent, prefix=".store-") as scratch:
            counts, head = _export_store(settings, Path(scratch))
            for path in sorted(Path(scratch).iterdir()):
                name = f"{ROOT}/store/{path.name}"
                members[name] = _archive(tar, path, name)
        manifest = {
            "format": FORMAT,
            "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
            "home": str(home),
            "store_rows": counts,
            "store_revision": head_revision(),  # the export came through store.engine(): at this program's head
            "event_head": head,
            "catalog": catalog_member,  # where the catalog's files are in the archive
            "members": members,
        }
        _add_bytes(tar, f"{ROOT}/MANIFEST.json", json.dumps(manifest, ensure_ascii=False, indent=1).encode())
    with partial.open("rb") as fh:
        os.fsync(fh.fileno())
    partial.replace(dest)
    files = [m for m in members.values() if "size" in m]
    return BackupSummary(dest, len(members), sum(m["size"] for m in files), manifest["store_rows"], head)


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mtime = int(dt.datetime.now(dt.UTC).timestamp())
    tar.addfile(info, io.BytesIO(data))


def _problem(code: str, message_zh: str, **kw: Any) -> GovhubError:
    return GovhubError(Problem(code=code, message_zh=message_zh, **kw))


def _open_archive(stack: ExitStack, source: Path) -> tuple[tarfile.TarFile, list[tarfile.TarInfo]]:
    """The archive and its members' headers, or a refusal: unfinished (`.partial`), unreadable, cut short."""
    if source.name.endswith(".partial"):
        raise _problem(
            "backup.partial",
            f"「{source.name}」是备份被中断时留下的未完成文件，不能用于恢复；请使用完整的备份文件（.tar）",
            value=source.name,
        )
    try:
        # backups are plain tar, never compressed; closed with the caller's ExitStack
        tar = stack.enter_context(tarfile.open(source, "r:"))  # noqa: SIM115
    except (OSError, tarfile.TarError):
        raise _problem(
            "backup.unreadable", f"备份文件「{source.name}」无法读取（不是tar格式的备份）"
        ) from None
    truncated = _problem(
        "backup.truncated",
        f"备份文件「{source.name}」不完整（在结尾之前被截断，可能是备份或复制被中断），恢复未写入任何内容",
        value=source.name,
    )
    try:
        members = tar.getmembers()
        # tarfile takes a header cut short for the end of the archive: a complete one ends in two zero blocks
        tar.fileobj.seek(tar.offset)
        complete = tar.fileobj.read(2 * tarfile.BLOCKSIZE) == bytes(2 * tarfile.BLOCKSIZE)
    except (OSError, tarfile.TarError):
        raise truncated from None
    if not complete:
        raise truncated
    return tar, members


def _read_manifest(tar: tarfile.TarFile, members: list[tarfile.TarInfo], source: Path) -> dict[str, Any]:
    info = next((m for m in members if m.name == f"{ROOT}/MANIFEST.json" and m.isreg()), None)
    try:
        manifest = json.loads(tar.extractfile(info).read()) if info is not None else None
    except (json.JSONDecodeError, UnicodeDecodeError):
        manifest = None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise _problem(
            "backup.not_a_backup", f"「{source.name}」不是govhub备份文件（缺少或无法识别MANIFEST.json）"
        )
    return manifest


def _refuse_newer_store(manifest: dict[str, Any]) -> None:
    """A backup whose store a newer govhub migrated has tables or columns this program does not know."""
    backed_up = manifest.get("store_revision")  # absent in backups made before migrations: the baseline
    if backed_up is not None and backed_up not in revisions():
        raise _problem(
            "backup.newer_store",
            f"备份中的工作流数据库版本为 {backed_up}，由更新版本的 govhub 建立；请用相同或更新版本的 govhub 恢复",
            value=backed_up,
            expected=head_revision(),
        )


def _extract_checked(
    tar: tarfile.TarFile, members: list[tarfile.TarInfo], manifest: dict[str, Any], work: Path
) -> list[Problem]:
    """Judge every member from its header (nothing is written if any is refused), then write them into `work` and
    check their bytes against the manifest; the problems found, member by member (see backup_members.py)."""
    members = [m for m in members if m.name != f"{ROOT}/MANIFEST.json"]
    listed = manifest.get("members")
    if not isinstance(listed, dict):
        return [Problem(code="backup.not_a_backup", message_zh="备份清单MANIFEST.json中没有成员列表")]
    problems = member_problems(members, ROOT, work) + manifest_problems(members, listed, None)
    if problems:
        return problems
    try:
        digests = write_members(tar, members, work)
    except (OSError, tarfile.TarError):  # the file changed or failed under us after the checks above
        return [
            Problem(code="backup.unreadable", message_zh="备份文件在恢复过程中无法读出，恢复未写入任何内容")
        ]
    return manifest_problems(members, listed, digests)


def _import_rows(conn: Any, table: Any, path: Path, chunk: int = 5000) -> None:
    dates = [c.name for c in table.columns if _python_type(c.type) in (dt.date, dt.datetime)]
    batch: list[dict[str, Any]] = []
    with path.open(encoding="utf-8") as rows:
        for line in rows:
            row = json.loads(line)
            for name in dates:
                if row.get(name) is not None:
                    row[name] = _python_type(table.c[name].type).fromisoformat(row[name])
            batch.append(row)
            if len(batch) >= chunk:
                conn.execute(insert(table), batch)
                batch = []
    if batch:
        conn.execute(insert(table), batch)
    _advance_sequences(conn, table)


def _python_type(sql_type: Any) -> type | None:
    try:
        return sql_type.python_type
    except NotImplementedError:
        return None


def _move_into(source: Path, target: Path) -> None:
    """Move `source`'s tree into `target`, merging folders that exist already (the store's own state folder)."""
    if not source.exists():
        return
    for item in source.iterdir():
        destination = target / item.name
        if item.is_dir() and not item.is_symlink() and destination.is_dir():
            _move_into(item, destination)
        else:
            shutil.move(str(item), str(destination))


def _refuse_links_in_target(home: Path, files: Path) -> None:
    """A folder the restore merges into must be a folder, not a link to somewhere else (say `reports` pointing to
    a shared drive): the restore never writes through a link, the target's own included."""
    if not (home.is_dir() and files.is_dir()):
        return
    linked = sorted(item.name for item in files.iterdir() if (home / item.name).is_symlink())
    if linked:
        raise _problem(
            "backup.target_link",
            f"目标目录{home}中的“{'、'.join(linked)}”是符号链接，恢复不会经由链接写入；请先移走它",
            value=str(home / linked[0]),
        )


def _advance_sequences(conn: Any, table: Any) -> None:
    """PostgreSQL: ids inserted explicitly do not move a serial column's sequence; move it past them."""
    if conn.dialect.name != "postgresql":
        return
    from sqlalchemy import text

    for column in table.primary_key.columns:
        if column.autoincrement is True:
            conn.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('{table.name}', '{column.name}'), "
                    f"(SELECT max({column.name}) FROM {table.name}))"
                )
            )


def unpack_setup(source: Path, home: Path, catalog_dir: Callable[[], Path]) -> list[Path]:
    """Before a restore into a new folder, what the restore itself needs: the hub's `govhub.yaml` (if the target has
    none) and then, if the folder `catalog_dir()` names (asked after the yaml is in place) does not exist, the
    catalog. Only those members are written, each checked like any other (path, link, bytes against the manifest).
    Returns the files written; an archive without them (made before 2026-11-28) writes nothing."""
    written: list[Path] = []
    with ExitStack() as stack:
        tar, members = _open_archive(stack, source)
        manifest = _read_manifest(tar, members, source)
        listed = manifest.get("members") if isinstance(manifest.get("members"), dict) else {}
        prefix = manifest.get("catalog")

        def take(wanted: Callable[[str], bool], dest_of: Callable[[str], Path]) -> None:
            chosen = [m for m in members if m.isreg() and wanted(m.name)]
            if not chosen:
                return
            home.parent.mkdir(parents=True, exist_ok=True)
            work = Path(stack.enter_context(tempfile.TemporaryDirectory(dir=home.parent, prefix=".setup-")))
            expected = {m.name: listed[m.name] for m in chosen if m.name in listed}  # these members alone
            problems = member_problems(chosen, ROOT, work) or manifest_problems(
                chosen, expected, write_members(tar, chosen, work)
            )
            if problems:
                raise GovhubError(problems)
            for info in chosen:
                target = dest_of(info.name)
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(work / info.name, target)
                written.append(target)

        hub_file = f"{ROOT}/files/{HUB_FILE}"
        if not (home / HUB_FILE).exists():
            take(lambda name: name == hub_file, lambda name: home / HUB_FILE)
        target = catalog_dir()
        if isinstance(prefix, str) and not target.exists():
            take(lambda name: name.startswith(prefix + "/"), lambda name: target / name[len(prefix) + 1 :])
    return written


def restore_backup(source: Path, settings: Settings, catalog: Catalog) -> dict[str, Any]:
    """Restore the archive `source` into the empty hub `settings.home` (and its store); returns a summary."""
    from govhub.events import chain_head, verify_chain
    from govhub.warehouse.hub import sync_hub

    home = settings.home
    if home.exists() and any(p.name in ("hub", "landing") for p in home.iterdir()):
        raise _problem(
            "backup.target_not_empty",
            f"目标目录{home}中已有数据中心，恢复只能写入新的空目录",
            value=str(home),
        )
    with store.read_connection(settings) as conn:
        occupied = any(conn.execute(select(t).limit(1)).first() for t in store.metadata.tables.values())
    if occupied:
        raise _problem(
            "backup.store_not_empty", "目标工作流数据库中已有记录（事件日志、台账），恢复只能写入空库"
        )
    with ExitStack() as stack:
        tar, members = _open_archive(stack, source)
        manifest = _read_manifest(tar, members, source)
        _refuse_newer_store(manifest)
        home.parent.mkdir(parents=True, exist_ok=True)
        work = Path(stack.enter_context(tempfile.TemporaryDirectory(dir=home.parent, prefix=".restore-")))
        problems = _extract_checked(tar, members, manifest, work)
        if problems:
            # nothing was written to the target (the scratch folder goes with `stack`)
            raise GovhubError(problems)
        _refuse_links_in_target(home, work / ROOT / "files")
        home.mkdir(parents=True, exist_ok=True)
        _move_into(work / ROOT / "files", home)
        with store.write_transaction(settings) as conn:
            for name, table in archived_tables().items():
                path = work / ROOT / "store" / f"{name}.jsonl"
                if path.exists():
                    _import_rows(conn, table, path)
    broken = verify_chain(settings)
    head = chain_head(settings)
    if broken or head != manifest["event_head"]:
        raise _problem(
            "backup.chain_broken",
            "恢复后的事件日志校验失败："
            + "；".join(broken or [f"日志头{head}与备份时的{manifest['event_head']}不一致"]),
        )
    sync_hub(settings, catalog)
    return {
        "home": str(home),
        "files": sum(1 for m in manifest["members"] if "/files/" in m),
        "store_rows": manifest["store_rows"],
        "event_head": head,
        "backed_up_at": manifest["created_at"],
    }
