"""A load's intent, written before anything it can leave behind, so that a killed load is never lost or misread.

`<hub>/<agency>/<resource>/.load.json` (one at a time: it is written and removed under the resource's lock) holds the
load's `begun` entry: load id, actor (who is responsible, §17), trigger, landed input, start time. What the load is
about to publish — the snapshot id, the previous one, the diff counts and the diff record: everything its load record
and `load.published` event say — goes into the snapshot itself (`SnapshotInfo.load`, in its `snapshot.json`, fsynced
with the snapshot's files before the folder is renamed into place), so a publish and its journal are one write. The
journal is removed once the load record and the event are written.

A process killed between the `current` switch and its records leaves the new snapshot live and this journal behind.
`reconcile` (run under the lock before the next load of the resource, before an identical re-upload is judged, and by
`govhub status --reconcile`) finishes the record from the current snapshot's entry: the publish is recorded with its
actor and counts (marked `reconciled`), so the log says who published what — and the next delivery of the same file is
then truly a zero update of a recorded publish. A journal whose load never became current is recorded as an
interrupted (`failed`) load. The `begun` entry is not fsynced (a killed process's page cache outlives it); after a
power cut it may be empty: then the current snapshot's own entry says whether a publish went unrecorded.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any

from govhub.catalog.model import Resource
from govhub.config import Settings
from govhub.problems import Problem
from govhub.warehouse.meta import (
    fsync_dir,
    iso,
    meta_dir,
    read_json,
    sweep_meta,
    utc_now,
    write_json_atomic,
    write_meta,
)
from govhub.warehouse.snapshots import (
    SnapshotInfo,
    current_info,
    current_snapshot_id,
    resource_paths,
    snapshot_info,
)

JOURNAL = ".load.json"
RECORD_KEYS = ("rows", "inserted", "updated", "deleted", "unchanged", "quarantined", "held")


def journal_path(settings: Settings, resource: Resource) -> Path:
    return resource_paths(settings, resource).root / JOURNAL


def begin(settings: Settings, resource: Resource, entry: dict[str, Any]) -> dict[str, Any]:
    """Write the journal of a load that starts (call under the resource's lock); returns it, for `publishing`. Not
    fsynced: it matters after a killed process, which the page cache outlives; after a power cut its name is on disk
    once the load has switched `current` (the switch fsyncs this folder), and what the published snapshot's record
    depends on is in the snapshot, fsynced before its rename."""
    entry = {**entry, "phase": "begun"}
    write_json_atomic(journal_path(settings, resource), entry, durable=False)
    return entry


def publishing(begun: dict[str, Any], update: dict[str, Any]) -> dict[str, Any]:
    """The entry a snapshot carries of the load that publishes it (`SnapshotInfo.load`): the journal's `begun` entry
    and what is about to be published — `reconcile`'s source if the process dies before its records."""
    return {**begun, **update, "phase": "publishing"}


def end(settings: Settings, resource: Resource) -> None:
    """The load's record and event are written: nothing left to reconcile. (A removal lost to a power cut leaves
    a journal whose record and event exist: `reconcile` then only removes it.)"""
    path = journal_path(settings, resource)
    path.unlink(missing_ok=True)


def went_live(settings: Settings, resource: Resource) -> bool:
    """Whether the running load's snapshot is already current — it failed after the switch (an interrupt, a full disk
    or an object store refusing what follows): then it must be recorded as published, never as failed."""
    entry = _read(journal_path(settings, resource))
    return bool(entry) and _published(settings, resource, entry) is not None


def pending(settings: Settings, resource: Resource) -> bool:
    """Whether a killed load left `resource` something to reconcile: its journal, or — the journal lost to a power
    cut — a current snapshot whose publishing load has no record. (A `stat`, and a read of `snapshot.json` when
    there is no journal.)"""
    if journal_path(settings, resource).exists():
        return True
    return _unrecorded(settings, current_info(settings, resource)) is not None


def _read(path: Path) -> dict[str, Any] | None:
    """The journal's entry; None when there is none, {} when a power cut left it empty or cut short."""
    try:
        entry = read_json(path)
    except FileNotFoundError:
        return None
    except ValueError:
        return {}
    return entry if isinstance(entry, dict) else {}


def _published(settings: Settings, resource: Resource, entry: dict[str, Any]) -> dict[str, Any] | None:
    """What `entry`'s load published, when its snapshot is the current one; else None. (A journal written before
    2026-11-28 held the publishing entry itself; the snapshot's own entry has the same form.)"""
    current = current_snapshot_id(settings, resource)
    if current is None:
        return None
    if entry.get("phase") == "publishing":
        return entry if entry.get("snapshot_id") == current else None
    load = snapshot_info(settings, resource, current).load
    return load if load and load.get("load_id") == entry.get("load_id") else None


def _unrecorded(settings: Settings, current: SnapshotInfo | None) -> dict[str, Any] | None:
    """The current snapshot's publishing entry when its load has no record (its journal lost to a power cut)."""
    if current is None or not current.load or not current.load_id:
        return None
    return None if (meta_dir(settings, "loads") / f"{current.load_id}.json").exists() else current.load


def reconcile(
    settings: Settings,
    resource: Resource,
    cause: list[Problem] | None = None,
    *,
    current: SnapshotInfo | None = None,
) -> list[dict[str, Any]]:
    """Record the load a killed process left unrecorded (call under the resource's lock, after `recover`); `cause`:
    what went wrong after the switch when the process lived to see it (recorded with the load, not blocking);
    `current`: the current snapshot when the caller has read it (its entry is then checked for a record even with no
    journal left).

    Returns the load records reconciled (empty when there was nothing to do). The event is written with the journal's
    actor; an event store that cannot be reached raises, and the journal stays for the next attempt."""
    path = journal_path(settings, resource)
    entry = _read(path)
    if entry is None and (entry := _unrecorded(settings, current)) is None:
        return []
    sweep_meta(settings)  # a load was cut off: its records may be half-written
    if not entry:  # emptied by a power cut: the current snapshot's entry, if its load went unrecorded
        live = current if current is not None else current_info(settings, resource)
        if (entry := _unrecorded(settings, live)) is None:
            _remove(path)
            return []
    load_id = entry["load_id"]
    record_path = meta_dir(settings, "loads") / f"{load_id}.json"
    if record_path.exists():  # killed between its load record and its event
        record = read_json(record_path)
    else:
        record, diff = _record(settings, resource, entry, cause or [])
        if diff:
            write_meta(settings, "diffs", load_id, diff)
        write_meta(settings, "loads", load_id, record)
    if not _event_recorded(settings, resource, load_id):
        from govhub.events import record_event  # lazy: the event log pulls in the workflow store

        record_event(
            settings,
            kind=f"load.{record['status']}",
            actor=record.get("actor") or entry["actor"],
            agency=resource.agency,
            subject=f"{resource.agency}/{resource.id}",
            payload={k: v for k, v in record.items() if k not in ("preview", "expectation_results")}
            | {"reconciled": True, "reconciled_at": iso(utc_now())},
        )
    _remove(path)
    return [record]


def _remove(path: Path) -> None:
    path.unlink(missing_ok=True)
    fsync_dir(path.parent)


def _record(
    settings: Settings, resource: Resource, entry: dict[str, Any], cause: list[Problem]
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """The load record of `entry`'s load, and its diff record when it published."""
    live = _published(settings, resource, entry)
    published = live is not None
    entry = live or entry
    problems = [dataclasses.replace(p, blocking=False) for p in cause] if published else []
    if published:
        why = "发布后的步骤出错（见下条）" if cause else "进程中断"
        problem = Problem(
            "load.reconciled",
            f"本次发布已生效（数据版本 {entry['snapshot_id']}），但因{why}发布后的记录未写完，已于 "
            f"{iso(utc_now())[:19]} 按发布日志补记",
            blocking=False,
        )
    else:
        problem = Problem(
            "load.interrupted",
            "本次载入因进程中断未完成，数据未发布；当前数据仍为上一版本，请重新提交",
        )
    record = {
        "load_id": entry["load_id"],
        "agency": resource.agency,
        "resource": resource.id,
        "status": "published" if published else "failed",
        **{k: entry.get(k, 0) if published else 0 for k in RECORD_KEYS},
        "snapshot_id": entry.get("snapshot_id") if published else None,
        "previous_snapshot_id": entry.get("previous_snapshot_id"),
        "landing_sha256": entry.get("landing_sha256"),
        "problem_count": 1 + len(problems),
        "problems": [problem.to_dict(), *(p.to_dict() for p in problems)],
        "actor": entry["actor"],
        "trigger": entry.get("trigger"),
        "mode": entry.get("mode"),
        "source": entry.get("source"),
        "cursor": entry.get("cursor") if published else None,
        "started_at": entry.get("started_at"),
        "finished_at": None,
        "reconciled": True,
        "reconciled_at": iso(utc_now()),
        "pid": entry.get("pid", os.getpid()),
    }
    return record, entry.get("diff") if published else None


def _event_recorded(settings: Settings, resource: Resource, load_id: str) -> bool:
    from govhub.events import list_events

    recent = list_events(
        settings, kind="load.*", subject=f"{resource.agency}/{resource.id}", newest_first=True, limit=50
    )
    return any(e.payload.get("load_id") == load_id for e in recent)
