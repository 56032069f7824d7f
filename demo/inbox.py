"""The demo's sheet-fed agencies deliver their clean sheets the way a steward would: into their own inbox folder."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from govhub.catalog.model import Catalog, DeliveryMethod
from govhub.config import Settings
from govhub.demo.people import steward_of
from govhub.services.inbox import person_inbox


def deliver_demo_sheets(settings: Settings, catalog: Catalog, manifest: dict[str, Any]) -> int:
    """Copy each sheet-fed resource's clean sheet into `inbox/<agency>/<resource>/<its steward>/`."""
    count = 0
    for resource in catalog.resources:
        if resource.delivery.method is not DeliveryMethod.SHEET:
            continue
        entry = manifest["resources"].get(f"{resource.agency}/{resource.id}", {})
        source = Path(entry.get("path") or entry.get("source") or "")
        if not source.is_file():
            continue
        folder = person_inbox(settings, resource, steward_of(catalog, resource.agency))
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, folder / source.name)
        count += 1
    return count
