"""Alembic's environment for the workflow store.

govhub passes the connection to migrate (`config.attributes["connection"]`, in a transaction it holds under its
migration lock: `govhub/store/migrate.py`). From the `alembic` command line (writing a revision) the store is the
one of the current settings (`GOVHUB_HOME`, `GOVHUB_STATE_URL`); with `--sql` the SQL is printed instead.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from govhub.store.schema import metadata

OPTIONS = {
    "target_metadata": metadata,
    "render_as_batch": True,  # SQLite alters tables by recreating them: autogenerate writes batch operations
    "compare_type": True,
}


def run(conn: Connection) -> None:
    context.configure(connection=conn, **OPTIONS)
    with context.begin_transaction():  # a no-op inside govhub's own transaction
        context.run_migrations()


def main() -> None:
    conn = context.config.attributes.get("connection")
    if conn is not None:
        run(conn)
        return
    from govhub.config import get_settings
    from govhub.store.connect import open_engine

    url = context.config.get_main_option("sqlalchemy.url") or get_settings().state_url
    if context.is_offline_mode():
        context.configure(url=url, literal_binds=True, **OPTIONS)
        with context.begin_transaction():
            context.run_migrations()
        return
    eng = open_engine(url)
    try:
        with eng.connect() as conn:
            run(conn)
            conn.commit()
    finally:
        eng.dispose()


main()
