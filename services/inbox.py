"""The inbox (§11 平台填报): a folder where sheets are dropped for the hub to load, each attributed to a person.

Layout: `inbox/<agency>/<resource>/<person>/<file>` — the folder a file sits in says who delivered it, so a file
loaded by the inbox sensor is authorized exactly like a CLI or portal upload by that person (per-person folders can
be given per-person write permissions, e.g. an SFTP account chrooted to its folder). A file straight under the
resource's folder names nobody: on a hub with registered people it is refused (recorded), on an open hub it is
delivered as "inbox". Loaded files move to `processed/`, refused ones to `refused/` with a `.reason.txt` beside them
— the file itself is never deleted.
"""

from __future__ import annotations

import datetime as dt
import shutil
from dataclasses import dataclass
from pathlib import Path

from govhub.catalog.model import Resource
from govhub.config import Settings

DONE = "processed"
REFUSED = "refused"
_SKIP = {DONE, REFUSED}


@dataclass(frozen=True)
class InboxFile:
    path: Path
    person: str | None  # the person folder it was dropped in; None: straight under the resource's folder


def inbox_dir(settings: Settings, resource: Resource) -> Path:
    return settings.inbox_dir / resource.agency / resource.id


def person_inbox(settings: Settings, resource: Resource, person: str) -> Path:
    return inbox_dir(settings, resource) / person


def _files(folder: Path) -> list[Path]:
    return [p for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")]


def pending_uploads(settings: Settings, resource: Resource) -> list[InboxFile]:
    """Sheets waiting in the resource's inbox, oldest first, with the person folder each was dropped in."""
    folder = inbox_dir(settings, resource)
    if not folder.is_dir():
        return []
    found = [InboxFile(p, None) for p in _files(folder)]
    for sub in folder.iterdir():
        if sub.is_dir() and sub.name not in _SKIP and not sub.name.startswith("."):
            found += [InboxFile(p, sub.name) for p in _files(sub)]
    return sorted(found, key=lambda f: (f.path.stat().st_mtime_ns, f.path.name))


def move_aside(
    settings: Settings, resource: Resource, path: Path, *, refused_because: str | None = None
) -> None:
    """Move a handled inbox file to `processed/` (its bytes are already in landing) or `refused/` (with why)."""
    root = inbox_dir(settings, resource)
    if root not in path.parents or not path.exists():
        return  # not an inbox file (a CLI or portal upload): nothing to move
    done = root / (REFUSED if refused_because else DONE)
    done.mkdir(parents=True, exist_ok=True)
    who = path.parent.name if path.parent != root else "_"
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%f")
    target = done / f"{stamp}-{who}-{path.name}"
    shutil.move(str(path), target)
    if refused_because:
        target.with_name(target.name + ".reason.txt").write_text(refused_because + "\n", encoding="utf-8")
