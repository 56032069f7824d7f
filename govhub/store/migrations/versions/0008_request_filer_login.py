"""Who filed each sharing request, by login as well as by name

Revision 0008_request_filer_login after 0007_grant_use, written 2026-11-28 (reviewed): `sharing_requests.created_by_id`,
the applicant's login. The four-eyes rule (no one coordinates a request they filed) compared display names, so of two
people of the office with the same name neither could coordinate the other's request, and a renamed person could
coordinate their own. Requests filed before this revision are filled in where exactly one person of the registry has
the recorded name; the others keep NULL and are judged by name, as before.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_request_filer_login"
down_revision = "0007_grant_use"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sharing_requests", schema=None) as batch_op:
        batch_op.add_column(sa.Column("created_by_id", sa.String(length=100), nullable=True))
    requests = sa.table(
        "sharing_requests", sa.column("created_by", sa.String), sa.column("created_by_id", sa.String)
    )
    people = sa.table("people", sa.column("id", sa.String), sa.column("name", sa.String))
    conn = op.get_bind()
    named = conn.execute(sa.select(people.c.name, sa.func.min(people.c.id)).group_by(people.c.name)
                         .having(sa.func.count() == 1)).all()  # fmt: skip
    for name, login in named:
        conn.execute(requests.update().where(requests.c.created_by == name).values(created_by_id=login))


def downgrade() -> None:
    with op.batch_alter_table("sharing_requests", schema=None) as batch_op:
        batch_op.drop_column("created_by_id")
