"""Catalog changes proposed by stewards and decided by the office (§10)

Revision 0009_catalog_changes after 0008_request_filer_login, written 2026-11-29: `catalog_changes`, one row per
proposed change to a resource's catalog entry (the whole new YAML, the steward's note), pending until the office
approves it (written to the catalog folder) or returns it with a reason. Starts empty.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_catalog_changes"
down_revision = "0008_request_filer_login"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "catalog_changes",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("agency", sa.String(length=100), nullable=False),
        sa.Column("resource", sa.String(length=100), nullable=False),
        sa.Column("yaml_text", sa.Text(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("proposed_by", sa.String(length=200), nullable=False),
        sa.Column("proposed_by_id", sa.String(length=100), nullable=True),
        sa.Column("proposed_at", sa.String(length=32), nullable=False),
        sa.Column("decided_by", sa.String(length=200), nullable=True),
        sa.Column("decided_at", sa.String(length=32), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("due", sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_catalog_changes_agency", "catalog_changes", ["agency"], unique=False)
    op.create_index("ix_catalog_changes_state", "catalog_changes", ["state"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_catalog_changes_state", table_name="catalog_changes")
    op.drop_index("ix_catalog_changes_agency", table_name="catalog_changes")
    op.drop_table("catalog_changes")
