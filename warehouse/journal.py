"""A load's intent, written before anything it can leave behind, so that a killed load is never lost or misread.

`<hub>/<agency>/<resource>/.load.json` (one at a time: it is written and removed under the resource's lock):

    begun       when the load starts: load id, actor (who is responsible, §17), trigger, landed input, start time
    publishing  rewritten just before the snapshot folder is renamed into place: the snapshot id, the previous one,
                the diff counts and the diff record — everything the load record and `load.published` event say
    (removed)   once the load record and the event are written

A process killed between the `current` switch and its records leaves the new snapshot live and this journal behind.
`reconcile` (run under the lock before the next load of the resource, before an identical re-upload is judged, and by
`govhub status --reconcile`) finishes the record from it: the publish is recorded with its actor and counts (marked
`reconciled`), so the log says who published what — and the next delivery of the same file is then truly a zero update
of a recorded publish. A journal whose snapshot never became current is recorded as an interrupted (`failed`) load.
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
from govhub.warehouse.snapshots import current_snapshot_id, resource_paths

JOURNAL = ".load.json"
RECORD_KEYS = ("rows", "inserted", "updated", "deleted", "unchanged", "quarantined", "held")


def journal_path(settings: Settings, resource: Resource) -> Path:
    return resource_paths(settings, resource).root / JOURNAL


def begin(settings: Settings, resource: Resource, entry: dict[str, Any]) -> dict[str, Any]:
    """Write the journal of a load that starts (call under the resource's lock); returns it, for `publishing`. Not
    fsynced: it matters after a killed process, which the page cache outlives; after a power loss nothing of this
    load can be live, and `publishing` (fsynced, before the rename) is what a published snapshot's record depends on."""
    entry = {**entry, "phase": "begun"}
    write_json_atomic(journal_path(settings, resource), entry, durable=False)
    return entry


def publishing(settings: Settings, resource: Resource, begun: dict[str, Any], update: dict[str, Any]) -> None:
    """Add what the load is about to publish to its journal `begun` (before the rename, so it is on disk before
    `current` can move)."""
    write_json_atomic(journal_path(settings, resource), {**begun, **update, "phase": "publishing"})


def end(settings: Settings, resource: Resource) -> None:
    """The load's record and event are written: nothing left to reconcile. (A removal lost to a power cut leaves
    a journal whose record and event exist: `reconcile` then only removes it.)"""
    path = journal_path(settings, resource)
    path.unlink(missing_ok=True)


def went_live(settings: Settings, resource: Resource) -> bool:
    """Whether the running load's snapshot is already current — it failed after the switch (an interrupt, a full disk
    or an object store refusing what follows): then it must be recorded as published, never as failed."""
    path = journal_path(settings, resource)
    if not path.exists():
        return False
    entry = read_json(path)
    return entry.get("phase") == "publishing" and current_snapshot_id(settings, resource) == entry.get(
        "snapshot_id"
    )


def reconcile(
    settings: Settings, resource: Resource, cause: list[Problem] | None = None
) -> list[dict[str, Any]]:
    """Record the load a killed process left unrecorded (call under the resource's lock, after `recover`); `cause`:
    what went wrong after the switch when the process lived to see it (recorded with the load, not blocking).

    Returns the load records reconciled (empty when there was nothing to do). The event is written with the journal's
    actor; an event store that cannot be reached raises, and the journal stays for the next attempt."""
    path = journal_path(settings, resource)
    if not path.exists():
        return []
    sweep_meta(settings)  # a load was cut off: its records may be half-written
    entry = read_json(path)
    load_id = entry["load_id"]
    record_path = meta_dir(settings, "loads") / f"{load_id}.json"
    if record_path.exists():  # killed between its load record and its event
        record = read_json(record_path)
    else:
        record = _record(settings, resource, entry, cause or [])
        if record["status"] == "published" and entry.get("diff"):
            write_meta(settings, "diffs", load_id, entry["diff"])
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
    path.unlink()
    fsync_dir(path.parent)
    return [record]


def _record(
    settings: Settings, resource: Resource, entry: dict[str, Any], cause: list[Problem]
) -> dict[str, Any]:
    published = entry.get("phase") == "publishing" and current_snapshot_id(settings, resource) == entry.get(
        "snapshot_id"
    )
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
    return {
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


def _event_recorded(settings: Settings, resource: Resource, load_id: str) -> bool:
    from govhub.events import list_events

    recent = list_events(
        settings, kind="load.*", subject=f"{resource.agency}/{resource.id}", newest_first=True, limit=50
    )
    return any(e.payload.get("load_id") == load_id for e in recent)
