"""The workflow store: event log, submission ledger, alerts sent, people, catalog drift, sharing requests and their
transitions, grants and how each was used, docking-API tokens, portal credentials and sessions, contacts and notices.

One SQLAlchemy engine per URL (`settings.state_url`): a SQLite file under `settings.state_dir` by default, in WAL mode
with a busy timeout so several processes (CLI, Dagster sensor, portal) can write; PostgreSQL when
`GOVHUB_STATE_URL` says so.

- `schema`: every table, SQLAlchemy Core on the one `metadata` (re-exported here);
- `engines`: `engine(settings)` (cached; its first use in a process brings the store to head), `write_transaction`
  for writers that must be serialised (the hash chain, "at most one row per period" rules), `read_connection`;
- `migrate` + `migrations/`: the Alembic environment and its revisions; `govhub db upgrade|current`.

A new table goes into `schema.py` with a revision under `migrations/versions/` (docs/ARCHITECTURE.md, "State").
"""

from govhub.store.engines import also_lock, dispose_engines, engine, read_connection, write_transaction
from govhub.store.ids import day_numbered_id
from govhub.store.migrate import StoreRevision, Upgrade, revision, upgrade
from govhub.store.schema import (
    alerts_sent,
    api_tokens,
    catalog_changes,
    catalog_drift,
    contacts,
    credentials,
    event_checkpoints,
    events,
    grant_use,
    grant_use_mark,
    grants,
    metadata,
    notices,
    people,
    request_transitions,
    sharing_requests,
    submissions,
    web_sessions,
)

__all__ = [
    "StoreRevision",
    "Upgrade",
    "alerts_sent",
    "also_lock",
    "api_tokens",
    "catalog_changes",
    "catalog_drift",
    "contacts",
    "credentials",
    "day_numbered_id",
    "dispose_engines",
    "engine",
    "event_checkpoints",
    "events",
    "grant_use",
    "grant_use_mark",
    "grants",
    "metadata",
    "notices",
    "people",
    "read_connection",
    "request_transitions",
    "revision",
    "sharing_requests",
    "submissions",
    "upgrade",
    "web_sessions",
    "write_transaction",
]
