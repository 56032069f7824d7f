"""Audit retention: where the event chain starts after old events were pruned

Revision 0005_event_checkpoints after 0004_notify, written 2026-11-27 (reviewed): `event_checkpoints`, one row per
`govhub events prune` — the id and hash of the newest pruned event, how many were pruned, before when, by whom — so
the hash chain of the events kept still verifies from there (网络安全法 Art. 21: logs kept at least six months).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_event_checkpoints"
down_revision = "0004_notify"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "event_checkpoints",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("through_id", sa.Integer(), nullable=False),
        sa.Column("through_hash", sa.String(length=64), nullable=False),
        sa.Column("through_at", sa.String(length=32), nullable=False),
        sa.Column("pruned", sa.Integer(), nullable=False),
        sa.Column("before", sa.String(length=32), nullable=False),
        sa.Column("at", sa.String(length=32), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )


def downgrade() -> None:
    op.drop_table("event_checkpoints")
