"""Notices that really go out: what was sent, to which address, how often it was tried

Revision 0004_notify after 0003_portal, written 2026-11-27 (reviewed): `notices.body`, `address`, `attempts` and
`error`, so a notice whose delivery failed (an SMTP server down, a robot webhook refusing) is retried later with the
same text to the same address — never sent twice: each (thing, person, channel) is one row.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_notify"
down_revision = "0003_portal"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("notices", schema=None) as batch_op:
        batch_op.add_column(sa.Column("body", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("address", sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("error", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("notices", schema=None) as batch_op:
        batch_op.drop_column("error")
        batch_op.drop_column("attempts")
        batch_op.drop_column("address")
        batch_op.drop_column("body")
