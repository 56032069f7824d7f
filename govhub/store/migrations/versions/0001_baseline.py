"""Baseline: the store as it was before migrations (commit 0e11c27): event log, submission ledger, alerts sent,
people, catalog drift.

Stores made before migrations were built by `create_all`, and only with the tables defined when they were first
opened (`catalog_drift` only once `governance.drift` had been imported). So each table is created only where it is
missing: a new store gets all of them, an older store keeps its tables and rows and is completed and stamped.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001_baseline"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    existing = set(sa.inspect(op.get_bind()).get_table_names())
    for name, create in TABLES.items():
        if name not in existing:
            create()


def downgrade() -> None:
    raise NotImplementedError("the baseline is not undone: it would drop the hub's event log and ledger")


def _events() -> None:
    op.create_table(
        "events",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("at", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=100), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("agency", sa.String(length=100), nullable=True),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_events_kind", "events", ["kind"])
    op.create_index("ix_events_subject", "events", ["subject"])


def _submissions() -> None:
    op.create_table(
        "submissions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("agency", sa.String(length=100), nullable=False),
        sa.Column("resource", sa.String(length=100), nullable=False),
        sa.Column("period", sa.String(length=16), nullable=False),
        sa.Column("state", sa.String(length=32), nullable=False),
        sa.Column("snapshot_id", sa.String(length=100), nullable=True),
        sa.Column("load_id", sa.String(length=100), nullable=True),
        sa.Column("attested_by", sa.String(length=200), nullable=True),
        sa.Column("at", sa.String(length=32), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("agency", "resource", "period", name="uq_submission_period"),
    )


def _alerts_sent() -> None:
    op.create_table(
        "alerts_sent",
        sa.Column("agency", sa.String(length=100), nullable=False),
        sa.Column("resource", sa.String(length=100), nullable=False),
        sa.Column("period", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=50), nullable=False),
        sa.Column("at", sa.String(length=32), nullable=False),
        sa.Column("message_zh", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("agency", "resource", "period", "kind"),
    )


def _people() -> None:
    op.create_table(
        "people",
        sa.Column("id", sa.String(length=100), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("agency", sa.String(length=100), nullable=False),
        sa.Column("roles", sa.String(length=200), nullable=False),
        sa.Column("active", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )


def _catalog_drift() -> None:
    op.create_table(
        "catalog_drift",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("agency", sa.String(length=100), nullable=False),
        sa.Column("resource", sa.String(length=100), nullable=False),
        sa.Column("catalog_fingerprint", sa.String(length=32), nullable=False),
        sa.Column("detected_at", sa.String(length=40), nullable=False),
        sa.Column("deadline", sa.Date(), nullable=False),
        sa.Column("details", sa.Text(), nullable=False),
        sa.Column("resolved_at", sa.String(length=40), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )


TABLES = {
    "events": _events,
    "submissions": _submissions,
    "alerts_sent": _alerts_sent,
    "people": _people,
    "catalog_drift": _catalog_drift,
}
