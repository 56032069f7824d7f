"""Catalog clocks (§10): a catalog element that changed must be updated within 2 working days, and every resource
needs a full review once a year.

When delivered data's columns differ from the catalog's fields, the resource is flagged "catalog out of date"
(目录待更新) and the agency's 2-working-day clock starts. Only sources (database and API schemas) and sheets made from
no template version can reveal drift: a sheet from a template — outdated or altered by hand — is the template's
problem, told to the steward (`services.templates`, `services.loads`). The flag resolves itself once the resource's catalog entry
changes (its fingerprint differs from the one the flag was raised against).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

from sqlalchemy import select

from govhub import store
from govhub.catalog.model import Catalog, Resource
from govhub.clock import beijing_date
from govhub.config import Settings
from govhub.events import record_event, utc_stamp
from govhub.governance.alerts import Alert, catalog_review_due, raise_alert
from govhub.governance.workdays import calendar_for
from govhub.problems import Problem

DRIFT_DAYS = 2  # working days to update the catalog (§10)
DRIFT_LOCK = "catalog_drift"

# Problems that mean "the source's columns are not the catalog's fields".
DRIFT_CODES = frozenset(
    {
        "sheet.unknown_column",
        "sheet.missing_column",
        "sheet.missing_optional_column",
        "db.missing_column",
        "db.extra_column",
        "check.schema",
        "check.schema_type",
    }
)

catalog_drift = store.catalog_drift  # defined with every other table in govhub/store/schema.py


@dataclass(frozen=True)
class DriftFlag:
    agency: str
    resource: str
    catalog_fingerprint: str
    detected_at: str
    deadline: dt.date
    details: list[dict]
    resolved_at: str | None = None

    @property
    def open(self) -> bool:
        return self.resolved_at is None


def _flag(row) -> DriftFlag:
    return DriftFlag(
        row.agency, row.resource, row.catalog_fingerprint, row.detected_at, row.deadline, json.loads(row.details),
        row.resolved_at,
    )  # fmt: skip


def drift_problems(problems: list[Problem]) -> list[Problem]:
    return [p for p in problems if p.code in DRIFT_CODES]


def flag_drift(
    settings: Settings, resource: Resource, problems: list[Problem], *, at: dt.datetime
) -> DriftFlag | None:
    """Flag the resource "catalog out of date" if these problems reveal drift; None if there is none or it is known."""
    found = drift_problems(problems)
    if not found:
        return None
    with store.write_transaction(settings, DRIFT_LOCK) as conn:
        open_row = conn.execute(
            select(catalog_drift).filter_by(
                agency=resource.agency,
                resource=resource.id,
                catalog_fingerprint=resource.fingerprint,
                resolved_at=None,
            )
        ).first()
        if open_row is not None:
            return None
        deadline = calendar_for(settings.catalog_dir).add_working_days(beijing_date(at), DRIFT_DAYS)
        flag = DriftFlag(
            resource.agency,
            resource.id,
            resource.fingerprint,
            utc_stamp(at),
            deadline,
            [p.to_dict() for p in found],
        )
        conn.execute(
            catalog_drift.insert().values(
                agency=flag.agency, resource=flag.resource, catalog_fingerprint=flag.catalog_fingerprint,
                detected_at=flag.detected_at, deadline=flag.deadline, details=json.dumps(flag.details, ensure_ascii=False),
            )
        )  # fmt: skip
    columns = "、".join(p.value or p.column or p.code for p in found)
    message = f"「{resource.name}」({resource.code})交付数据的列与目录不一致（{columns}），请于{deadline.isoformat()}前更新资源目录"
    record_event(
        settings, kind="catalog.drift", actor="system", agency=resource.agency,
        subject=f"{resource.agency}/{resource.id}", payload={"deadline": deadline.isoformat(), "problems": flag.details},
    )  # fmt: skip
    raise_alert(
        settings,
        Alert(
            "catalog_drift",
            resource.agency,
            resource.id,
            resource.fingerprint,
            "drift",
            message,
            flag.detected_at,
        ),
    )
    return flag


def resolve_updated(
    settings: Settings, catalog: Catalog, *, at: dt.datetime | None = None
) -> list[DriftFlag]:
    """Close the flags of resources whose catalog entry has changed since the flag was raised."""
    current = {(r.agency, r.id): r.fingerprint for r in catalog.resources}
    closed = []
    with store.write_transaction(settings, DRIFT_LOCK) as conn:
        for row in conn.execute(select(catalog_drift).filter_by(resolved_at=None)).all():
            fingerprint = current.get((row.agency, row.resource))
            if fingerprint is not None and fingerprint != row.catalog_fingerprint:
                conn.execute(
                    catalog_drift.update()
                    .where(catalog_drift.c.id == row.id)
                    .values(resolved_at=utc_stamp(at))
                )
                closed.append(_flag(row))
    return closed


def open_flags(settings: Settings) -> list[DriftFlag]:
    with store.read_connection(settings) as conn:
        return [_flag(r) for r in conn.execute(select(catalog_drift).filter_by(resolved_at=None)).all()]


def catalog_alerts(settings: Settings, catalog: Catalog, as_of: dt.date) -> list[Alert]:
    """Alerts for the catalog clocks: drift past its 2-working-day deadline, and annual reviews that are due.
    Deduplicated by `raise_alert` (per resource and catalog version / year); returns the ones sent now."""
    resolve_updated(settings, catalog)
    by_key = {(r.agency, r.id): r for r in catalog.resources}
    sent = []
    stamp = utc_stamp()
    for flag in open_flags(settings):
        resource = by_key.get((flag.agency, flag.resource))
        if resource and as_of > flag.deadline:
            message = f"「{resource.name}」({resource.code})目录更新已逾期：应于{flag.deadline.isoformat()}前完成（§10）"
            alert = Alert(
                "catalog_drift_overdue",
                flag.agency,
                flag.resource,
                flag.catalog_fingerprint,
                "overdue",
                message,
                stamp,
            )
            if raise_alert(settings, alert):
                sent.append(alert)
    for resource in catalog.resources:
        if catalog_review_due(resource, as_of):
            message = f"「{resource.name}」({resource.code})已超过一年未进行目录全面维护（§10）"
            alert = Alert(
                "catalog_review_due",
                resource.agency,
                resource.id,
                str(as_of.year),
                "review_due",
                message,
                stamp,
            )
            if raise_alert(settings, alert):
                sent.append(alert)
    return sent
