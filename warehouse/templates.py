"""The template versions this hub has issued (`hub/_meta/templates/<agency>/<resource>/<fingerprint>.json`).

A template records its catalog version in the xlsx itself (`connectors.template`), but a CSV template cannot carry
anything besides its header row. Keeping each issued version's record here lets an upload whose header row is exactly
an earlier template's be recognised as that template (told what changed, never taken for catalog drift).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from govhub.catalog.model import Resource
from govhub.config import Settings
from govhub.warehouse.meta import write_json_atomic


def _folder(settings: Settings, resource: Resource) -> Path:
    return settings.hub_dir / "_meta" / "templates" / resource.agency / resource.id


def record_template(settings: Settings, resource: Resource, meta: dict[str, Any]) -> None:
    """Remember the version a template was made from (once per catalog version)."""
    path = _folder(settings, resource) / f"{meta['fingerprint']}.json"
    if not path.exists():
        write_json_atomic(path, meta)


def issued_templates(settings: Settings, resource: Resource) -> list[dict[str, Any]]:
    """Every template version issued for `resource`, oldest first."""
    folder = _folder(settings, resource)
    if not folder.is_dir():
        return []
    found = []
    for path in folder.glob("*.json"):
        try:
            found.append(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError):
            continue  # a record being written by another process: it is not needed to read this one
    return sorted(found, key=lambda m: str(m.get("made_on", "")))


def issued_template(settings: Settings, resource: Resource, fingerprint: str) -> dict[str, Any] | None:
    path = _folder(settings, resource) / f"{fingerprint}.json"
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
