"""What a restore lets out of a backup archive, and how it writes it: nothing outside the data folder, ever.

An archive is input from outside (a copied file, a disk swapped in, an attacker's): its MANIFEST.json is inside it,
so a crafted archive lists its hostile members too, and matching the manifest proves nothing about safety. Every
member is judged from its header before one byte is written:

- names: relative, under `govhub-backup/`, no `..`, each name once;
- types: regular files and symbolic links only — no hard links (a backup never holds one: `_archive` adds each file
  by content), devices, FIFOs or directories;
- symbolic links: only under `files/`, target relative and without `..`. Such a link can only point down from its
  own folder, and so can a chain of them (each step stays under the folder of the link taking it), which is why
  chains need no resolving. The hub's own links (`current -> snapshots/<id>`) are of this form;
- nothing beneath a link: no member's path passes through a symlink member;
- then Python's own `tarfile.data_filter` must accept it too (PEP 706: absolute names, links leaving the
  destination, special files). It is a second opinion, not the only one: the Python here (3.11.7) predates the
  filter bypasses fixed in 3.11.13 and later (CVE-2025-4517 and others, python/cpython#135034; #149486, #151558),
  and a check of our own is exact for our archives' narrow shape.

Only then are members written, into a scratch folder: regular files first (`O_EXCL | O_NOFOLLOW`: a name never
opens anything but a new file), symbolic links last, so no write can go through a link even if a check above were
wrong. The scratch folder is moved into the target only when everything matched the manifest.
"""

from __future__ import annotations

import hashlib
import os
import tarfile
from collections.abc import Iterable
from pathlib import Path, PurePosixPath
from typing import Any

from govhub.problems import Problem

# tarfile's refusal classes, said in Chinese (the class names never reach a person)
_FILTER_REASONS = {
    "AbsolutePathError": "使用绝对路径",
    "OutsideDestinationError": "会写到目标目录之外",
    "SpecialFileError": "是特殊文件（设备或管道）",
    "AbsoluteLinkError": "是指向绝对路径的链接",
    "LinkOutsideDestinationError": "是指向目标目录之外的链接",
}


def _problem(code: str, name: str, what: str) -> Problem:
    return Problem(code=code, message_zh=f"备份成员“{name}”{what}；恢复未写入任何内容", value=name)


def _kind_problem(info: tarfile.TarInfo) -> Problem | None:
    name = info.name
    if info.islnk():
        return _problem("backup.hard_link", name, f"是指向“{info.linkname}”的硬链接，govhub的备份不含硬链接")
    if info.ischr() or info.isblk():
        return _problem("backup.special_file", name, "是设备文件，govhub的备份只含普通文件和数据目录内的链接")
    if info.isfifo():
        return _problem(
            "backup.special_file", name, "是命名管道（FIFO），govhub的备份只含普通文件和数据目录内的链接"
        )
    if not (info.isreg() or info.issym()):
        return _problem(
            "backup.unsupported_member", name, "不是普通文件或符号链接，govhub的备份中不会有这种成员"
        )
    return None


def _link_problem(info: tarfile.TarInfo, files: str) -> Problem | None:
    name, target = info.name, info.linkname
    if not name.startswith(files):
        return _problem("backup.link_escape", name, "是符号链接，但符号链接只能出现在数据文件（files/）中")
    if not target or PurePosixPath(target).is_absolute() or target.startswith("\\") or ":" in target[:3]:
        return _problem("backup.link_escape", name, f"是指向绝对路径“{target}”的符号链接，会指到数据目录之外")
    if ".." in PurePosixPath(target).parts:
        return _problem(
            "backup.link_escape", name, f"是指向“{target}”的符号链接，目标含“..”，可能指到数据目录之外"
        )
    return None


def _name_problem(info: tarfile.TarInfo, root: str) -> Problem | None:
    name = info.name
    if PurePosixPath(name).is_absolute() or name.startswith("\\") or ":" in name[:3]:
        return _problem("backup.absolute_name", name, "使用绝对路径，恢复只写入数据目录之内")
    if ".." in PurePosixPath(name).parts:
        return _problem("backup.parent_name", name, "的路径含“..”，会写到数据目录之外")
    if not name.startswith(f"{root}/"):
        return _problem("backup.unexpected_member", name, "不在备份目录之内")
    return None


def _filter_problem(info: tarfile.TarInfo, work: Path) -> Problem | None:
    try:
        tarfile.data_filter(info, str(work))
    except tarfile.FilterError as exc:
        reason = _FILTER_REASONS.get(type(exc).__name__, "被tarfile的安全过滤拒绝")
        return _problem("backup.filtered", info.name, reason)
    return None


def member_problems(members: Iterable[tarfile.TarInfo], root: str, work: Path) -> list[Problem]:
    """Every member judged from its header alone (nothing written): the problems found, member by member."""
    members = list(members)
    links = {m.name for m in members if m.issym()}
    files = f"{root}/files/"
    seen: set[str] = set()
    problems: list[Problem] = []
    for info in members:
        found = _name_problem(info, root) or _kind_problem(info)
        if found is None and info.issym():
            found = _link_problem(info, files)
        if found is None and info.name in seen:
            found = _problem(
                "backup.duplicate_member", info.name, "在备份中出现不止一次，后一个会经由前一个写入"
            )
        if found is None:
            through = next((str(p) for p in PurePosixPath(info.name).parents if str(p) in links), None)
            if through is not None:
                found = _problem(
                    "backup.through_link", info.name, f"位于符号链接“{through}”之下，恢复不会经由链接写入"
                )
        seen.add(info.name)
        problems.append(found or _filter_problem(info, work))
    return [p for p in problems if p is not None]


def write_members(tar: tarfile.TarFile, members: list[tarfile.TarInfo], work: Path) -> dict[str, str]:
    """Write checked members under `work`: regular files first, never following or replacing anything, then the
    symbolic links. Returns each regular file's sha256 as written."""
    digests: dict[str, str] = {}
    for info in members:
        if not info.isreg():
            continue
        target = work / info.name
        target.parent.mkdir(parents=True, exist_ok=True)
        mode = (info.mode & 0o644) | 0o400  # never executable, never writable by others
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, mode)
        digest = hashlib.sha256()
        source = tar.extractfile(info)
        with os.fdopen(fd, "wb") as out:
            while source is not None and (chunk := source.read(1 << 20)):
                digest.update(chunk)
                out.write(chunk)
        digests[info.name] = digest.hexdigest()
    for info in members:
        if info.issym():
            target = work / info.name
            target.parent.mkdir(parents=True, exist_ok=True)
            os.symlink(info.linkname, target)
    return digests


def manifest_problems(
    members: list[tarfile.TarInfo], listed: dict[str, dict[str, Any]], digests: dict[str, str] | None
) -> list[Problem]:
    """Members against the manifest: unlisted, different link, different bytes (once `digests` are known), missing."""
    problems = []
    for info in members:
        entry = listed.get(info.name)
        if entry is None:
            problems.append(
                Problem(
                    code="backup.unexpected_member",
                    message_zh=f"备份中有清单之外的文件“{info.name}”",
                    value=info.name,
                )
            )
        elif info.issym() and entry.get("symlink") != info.linkname:
            problems.append(
                Problem(code="backup.damaged", message_zh=f"链接“{info.name}”与清单不符", value=info.name)
            )
        elif (
            digests is not None
            and info.isreg()
            and (digests.get(info.name) != entry.get("sha256") or info.size != entry.get("size"))
        ):
            problems.append(
                Problem(
                    code="backup.damaged",
                    message_zh=f"文件“{info.name}”的内容与清单中的校验值不符",
                    value=info.name,
                )
            )
    present = {m.name for m in members}
    for name in sorted(set(listed) - present):
        problems.append(
            Problem(code="backup.missing_member", message_zh=f"清单中的文件“{name}”在备份里缺失", value=name)
        )
    return problems
