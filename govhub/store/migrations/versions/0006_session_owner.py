"""Portal sessions: whose each one is, when it was last used, and whether it was ended

Revision 0006_session_owner after 0005_event_checkpoints, written 2026-11-28 (reviewed): `web_sessions.person`
(indexed), `.seen_at` (its last request) and `.ended_at`, so a person can see where they are signed in and end the
other sessions, and the office can end every session of a person (a lost laptop, someone leaving) without reading
each session's data. An ended row stays (until it expires) so that a response still running cannot save it again.
The owner of each session already open is filled in from its data.
"""

from __future__ import annotations

import json

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
        batch_op.add_column(sa.Column("ended_at", sa.String(length=32), nullable=True))
        batch_op.create_index("ix_web_sessions_person", ["person"], unique=False)
    sessions = sa.table("web_sessions", sa.column("key", sa.String), sa.column("data", sa.Text),
                        sa.column("person", sa.String))  # fmt: skip
    conn = op.get_bind()
    for key, data in conn.execute(sa.select(sessions.c.key, sessions.c.data)).all():
        try:
            kept = json.loads(data) if data.startswith("{") else None
        except ValueError:
            kept = None
        person = kept.get("person") if isinstance(kept, dict) else None
        if isinstance(person, str):
            conn.execute(sessions.update().where(sessions.c.key == key).values(person=person))


def downgrade() -> None:
    with op.batch_alter_table("web_sessions", schema=None) as batch_op:
        batch_op.drop_index("ix_web_sessions_person")
        batch_op.drop_column("ended_at")
        batch_op.drop_column("seen_at")
        batch_op.drop_column("person")
