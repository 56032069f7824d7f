"""How each grant was used, kept as it happens rather than recounted from the event log

Revision 0007_grant_use after 0006_session_owner, written 2026-11-28 (reviewed): `grant_use`, one row per grant
(queries, exports, docking-API calls, rows and bytes, the last use), and `grant_use_mark`, the newest event folded
into it. Both start empty: the first reading folds the whole log (`governance.sharing_measures.grant_uses`).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_grant_use"
down_revision = "0006_session_owner"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "grant_use",
        sa.Column("grant_id", sa.String(length=32), nullable=False),
        sa.Column("queries", sa.Integer(), nullable=False),
        sa.Column("exports", sa.Integer(), nullable=False),
        sa.Column("api_calls", sa.Integer(), nullable=False),
        sa.Column("api_rows", sa.BigInteger(), nullable=False),
        sa.Column("api_bytes", sa.BigInteger(), nullable=False),
        sa.Column("last_used_at", sa.String(length=32), nullable=True),
        sa.PrimaryKeyConstraint("grant_id"),
    )
    op.create_table(
        "grant_use_mark",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("through_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )


def downgrade() -> None:
    op.drop_table("grant_use_mark")
    op.drop_table("grant_use")
