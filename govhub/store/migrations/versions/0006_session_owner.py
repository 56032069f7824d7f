"""Portal sessions: whose each one is

Revision 0006_session_owner after 0005_event_checkpoints, written 2026-11-28 (reviewed): `web_sessions.person`
(indexed) and `web_sessions.seen_at` (its last request), so a person can see where they are signed in and end the other sessions, and the office can end every
session of a person (a lost laptop, someone leaving) without reading each session's data. Sessions opened before
this revision have no owner recorded until their next request saves them again.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_session_owner"
down_revision = "0005_event_checkpoints"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("web_sessions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("person", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("seen_at", sa.String(length=32), nullable=True))
        batch_op.create_index("ix_web_sessions_person", ["person"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("web_sessions", schema=None) as batch_op:
        batch_op.drop_index("ix_web_sessions_person")
        batch_op.drop_column("seen_at")
        batch_op.drop_column("person")
