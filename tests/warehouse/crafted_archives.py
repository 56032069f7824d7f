"""Crafted backup archives: a small legitimate hub tree (a snapshot, its `current` symlink, a landed file), and
hostile variants of it, each with a MANIFEST.json that lists the hostile members as a real attacker's would (the
manifest is inside the archive: whoever crafts one writes its manifest too).

`CASES` maps a name to (build, expected problem code, the member the refusal must name); `build(home, outside)`
writes the archive and returns its path. `outside` is an existing empty folder beside the target, the place an
escape would write into; the tests check it stays empty.
"""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from govhub.warehouse.backup import FORMAT, ROOT

FILES = f"{ROOT}/files"
SNAPSHOT = "20260101T000000Z-0001"
PEOPLE = f"{FILES}/hub/civil/people"

Member = tuple[tarfile.TarInfo, bytes | None]


def regular(name: str, data: bytes) -> Member:
    info = tarfile.TarInfo(name)
    info.size, info.mode = len(data), 0o644
    return info, data


def special(name: str, kind: bytes, linkname: str = "", **attrs: Any) -> Member:
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, linkname
    for key, value in attrs.items():
        setattr(info, key, value)
    return info, None


def symlink(name: str, target: str) -> Member:
    return special(name, tarfile.SYMTYPE, target)


def legit_members() -> list[Member]:
    """What a backup of a one-resource hub holds: a snapshot file, `current -> snapshots/<id>`, a landed input."""
    return [
        # 64 KB: big enough that an archive cut in half is cut inside this member
        regular(
            f"{PEOPLE}/snapshots/{SNAPSHOT}/part-00000.parquet", b"PAR1" + bytes(range(256)) * 256 + b"PAR1"
        ),
        regular(f"{PEOPLE}/snapshots/{SNAPSHOT}/snapshot.json", b'{"id": "%s"}' % SNAPSHOT.encode()),
        symlink(f"{PEOPLE}/current", f"snapshots/{SNAPSHOT}"),
        regular(f"{FILES}/landing/civil/people/ab/ab12.csv", "人员编号,姓名\nP1,张三\n".encode()),
    ]


def manifest_entry(info: tarfile.TarInfo, data: bytes | None) -> dict[str, Any]:
    if info.issym():
        return {"symlink": info.linkname}
    if data is None:  # a hard link, device or FIFO: listed as the attacker pleases
        return {"size": 0, "sha256": hashlib.sha256(b"").hexdigest()}
    return {"size": len(data), "sha256": hashlib.sha256(data).hexdigest()}


def write_archive(
    path: Path,
    members: list[Member],
    *,
    lie: dict[str, dict[str, Any]] | None = None,
    omit: tuple[str, ...] = (),
) -> Path:
    """A tar of `members` plus a manifest listing every one of them (`lie` overrides entries, `omit` leaves some
    out)."""
    manifest = {
        "format": FORMAT,
        "created_at": "2026-11-01T00:00:00Z",
        "home": "/srv/govhub",
        "store_rows": {},
        "event_head": None,
        "members": {i.name: manifest_entry(i, d) for i, d in members if i.name not in omit} | (lie or {}),
    }
    with tarfile.open(path, "w", format=tarfile.PAX_FORMAT) as tar:
        for info, data in members:
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
        body = json.dumps(manifest, ensure_ascii=False).encode()
        tar.addfile(regular(f"{ROOT}/MANIFEST.json", body)[0], io.BytesIO(body))
    return path


def _hostile(*extra: Member, **manifest: Any) -> Callable[[Path, Path], Path]:
    def build(home: Path, outside: Path) -> Path:
        return write_archive(home.parent / "crafted.tar", [*legit_members(), *extra], **manifest)

    return build


def _with_outside(make: Callable[[Path], list[Member]]) -> Callable[[Path, Path], Path]:
    """A case whose members name the real `outside` folder (an absolute path known only at test time)."""

    def build(home: Path, outside: Path) -> Path:
        return write_archive(home.parent / "crafted.tar", [*legit_members(), *make(outside)])

    return build


def _cut(at: float | None, suffix: str = ".tar") -> Callable[[Path, Path], Path]:
    """A legitimate archive cut short at fraction `at` of its bytes (a kill during the backup, a copy cut off);
    `at=None` cuts right after the last member, where only the end-of-archive blocks are missing."""

    def build(home: Path, outside: Path) -> Path:
        whole = write_archive(home.parent / "whole.tar", legit_members())
        data = whole.read_bytes()
        if at is None:
            with tarfile.open(whole) as tar:
                last = tar.getmembers()[-1]
            end = last.offset_data + -(-last.size // tarfile.BLOCKSIZE) * tarfile.BLOCKSIZE
        else:
            end = int(len(data) * at)
        whole.unlink()
        cut = home.parent / f"backup{suffix}"
        cut.write_bytes(data[:end])
        return cut

    return build


def _partial_whole(home: Path, outside: Path) -> Path:
    """A `.partial` that happens to hold a complete archive (killed between the last write and the rename)."""
    return write_archive(home.parent / "backup.tar.partial", legit_members())


def _changed_bytes(home: Path, outside: Path) -> Path:
    """Same size, other bytes than the manifest's sha256 says (a flipped disk block, or a swapped file)."""
    members = legit_members()
    info, data = members[0]
    listed = manifest_entry(info, data)
    members[0] = (info, data[:-4] + b"XXXX")
    return write_archive(home.parent / "crafted.tar", members, lie={info.name: listed})


ESCAPE = f"{PEOPLE}/escape"

ESCAPE = f"{PEOPLE}/escape"
PART = f"{PEOPLE}/snapshots/{SNAPSHOT}/part-00000.parquet"

# name -> (build, problem code, the member the refusal names)
CASES: dict[str, tuple[Callable[[Path, Path], Path], str, str]] = {
    "symlink to an outside folder, listed in the manifest, then a file through it": (
        _with_outside(lambda out: [symlink(ESCAPE, str(out)), regular(f"{ESCAPE}/pwned.txt", b"owned")]),
        "backup.link_escape", ESCAPE,
    ),
    "relative symlink climbing out with ../, then a file through it": (
        _hostile(symlink(ESCAPE, "../../../../../../../.."), regular(f"{ESCAPE}/tmp/pwned.txt", b"owned")),
        "backup.link_escape", ESCAPE,
    ),
    "symlink chain: each link lexically inside, together outside": (
        _hostile(
            symlink(f"{PEOPLE}/d1/d2/up", ".."),
            symlink(f"{PEOPLE}/d1/d2/climb", "up/../../../../../.."),
            regular(f"{PEOPLE}/d1/d2/climb/pwned.txt", b"owned"),
        ),
        "backup.link_escape", f"{PEOPLE}/d1/d2/climb",
    ),
    "symlink to a symlink that points outside": (
        _with_outside(lambda out: [symlink(f"{FILES}/reports/b", str(out)), symlink(f"{FILES}/reports/a", "b")]),
        "backup.link_escape", f"{FILES}/reports/b",
    ),
    "a file written through the legitimate current symlink": (
        _hostile(regular(f"{PEOPLE}/current/part-99999.parquet", b"smuggled")),
        "backup.through_link", f"{PEOPLE}/current/part-99999.parquet",
    ),
    "a symlink, then a regular file of the same name": (
        _hostile(symlink(f"{FILES}/reports/x", "y"), regular(f"{FILES}/reports/x", b"written through the link")),
        "backup.duplicate_member", f"{FILES}/reports/x",
    ),
    "symlink outside files/ (in the store)": (
        _hostile(symlink(f"{ROOT}/store/events.jsonl", "ledger.jsonl")),
        "backup.link_escape", f"{ROOT}/store/events.jsonl",
    ),
    "absolute member name": (
        _with_outside(lambda out: [regular(str(out / "absolute.txt"), b"owned")]),
        "backup.absolute_name", "absolute.txt",
    ),
    "../ in a member name": (
        _hostile(regular(f"{FILES}/../../../outside/dotdot.txt", b"owned")),
        "backup.parent_name", f"{FILES}/../../../outside/dotdot.txt",
    ),
    "hard link to /etc/passwd": (
        _hostile(special(f"{FILES}/hub/passwd", tarfile.LNKTYPE, "/etc/passwd")),
        "backup.hard_link", f"{FILES}/hub/passwd",
    ),
    "hard link inside the tree": (
        _hostile(special(f"{FILES}/hub/copy.parquet", tarfile.LNKTYPE, PART)),
        "backup.hard_link", f"{FILES}/hub/copy.parquet",
    ),
    "character device": (
        _hostile(special(f"{FILES}/hub/null", tarfile.CHRTYPE, devmajor=1, devminor=3)),
        "backup.special_file", f"{FILES}/hub/null",
    ),
    "block device": (
        _hostile(special(f"{FILES}/hub/sda", tarfile.BLKTYPE, devmajor=8, devminor=0)),
        "backup.special_file", f"{FILES}/hub/sda",
    ),
    "FIFO": (_hostile(special(f"{FILES}/hub/pipe", tarfile.FIFOTYPE)), "backup.special_file", f"{FILES}/hub/pipe"),
    "directory member": (_hostile(special(f"{FILES}/hub/dir", tarfile.DIRTYPE)), "backup.unsupported_member", f"{FILES}/hub/dir"),
    "member missing from the manifest": (
        _hostile(regular(f"{FILES}/hub/unlisted.txt", b"not listed"), omit=(f"{FILES}/hub/unlisted.txt",)),
        "backup.unexpected_member", f"{FILES}/hub/unlisted.txt",
    ),
    "member whose bytes differ from the manifest": (_changed_bytes, "backup.damaged", PART),
    "truncated inside a member": (_cut(0.5), "backup.truncated", "backup.tar"),
    "truncated where only the end-of-archive blocks are missing": (_cut(None), "backup.truncated", "backup.tar"),
    ".partial left by a killed backup": (_cut(0.6, ".tar.partial"), "backup.partial", "backup.tar.partial"),
    "complete-looking .partial": (_partial_whole, "backup.partial", "backup.tar.partial"),
}  # fmt: skip
