"""Back up and restore the hub (§16 容灾备份): the platform's engineers (or the office), recorded in the event log."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from govhub.access import Action, authorize
from govhub.catalog.model import Catalog
from govhub.config import Settings
from govhub.events import record_event
from govhub.warehouse.backup import BackupSummary, create_backup, restore_backup, unpack_setup


def backup_hub(
    settings: Settings, catalog: Catalog, dest: Path, *, actor: str, include_secrets: bool = False
) -> BackupSummary:
    who = authorize(settings, actor, Action.BACKUP)
    summary = create_backup(settings, catalog, dest, include_secrets=include_secrets)
    record_event(settings, kind="backup.created", actor=who.name, agency=None, subject=f"backup/{dest.name}",
                 payload={"path": str(dest), "files": summary.files, "bytes": summary.bytes,
                          "event_head": summary.event_head, "include_secrets": include_secrets})  # fmt: skip
    return summary


def prepare_restore(source: Path, home: Path, catalog_dir: Callable[[], Path]) -> list[Path]:
    """What a restore into a new folder needs before it can start: the hub's `govhub.yaml` and its catalog, taken
    from the archive where the target has none (checked like every member). The restore itself then authorizes."""
    return unpack_setup(source, home, catalog_dir)


def restore_hub(settings: Settings, catalog: Catalog, source: Path, *, actor: str) -> dict[str, Any]:
    """Restore into an empty hub. The target holds no registry yet (restore refuses anything else), so what guards
    a restore is who can write the empty data folder and store; the event names who did it."""
    who = authorize(settings, actor, Action.RESTORE)
    summary = restore_backup(source, settings, catalog)
    record_event(settings, kind="backup.restored", actor=who.name, agency=None, subject=f"backup/{source.name}",
                 payload={k: summary[k] for k in ("files", "event_head", "backed_up_at")})  # fmt: skip
    return summary
