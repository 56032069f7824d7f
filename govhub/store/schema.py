"""The workflow store's tables: the one schema module.

Every table of the store is defined here, on `metadata`, as SQLAlchemy Core. The database follows by migrations
(`govhub/store/migrations/versions/`): a table or column added here needs a revision there, and
`tests/core/test_store_migrations.py` fails until the two agree (Alembic's autogenerate comparison, on SQLite and
PostgreSQL).
"""

from __future__ import annotations

from sqlalchemy import Column, Date, Index, Integer, MetaData, String, Table, Text, UniqueConstraint

# Names for constraints a table leaves unnamed, so later migrations can drop or alter them on SQLite (batch mode
# recreates tables and must find constraints by name). Primary keys stay unnamed: the baseline has them that way.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)

# §16–§17: every action tied to a person and an agency; hash-chained so silent edits are detected.
events = Table(
    "events",
    metadata,
    Column(
        "id", Integer, primary_key=True, autoincrement=False
    ),  # assigned under the write lock: part of the hash
    Column(
        "at", String(32), nullable=False
    ),  # UTC, ISO 8601 with microseconds and Z: stable text for hashing
    Column("kind", String(100), nullable=False),
    Column("actor", String(200), nullable=False),
    Column("agency", String(100)),
    Column("subject", String(300), nullable=False),
    Column("payload", Text, nullable=False),  # canonical JSON exactly as hashed
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
)
Index("ix_events_kind", events.c.kind)
Index("ix_events_subject", events.c.subject)

# §11: one row per agency × resource × period: what the agency delivered (or declared) for that period.
submissions = Table(
    "submissions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("agency", String(100), nullable=False),
    Column("resource", String(100), nullable=False),
    Column("period", String(16), nullable=False),
    Column("state", String(32), nullable=False),
    Column("snapshot_id", String(100)),
    Column("load_id", String(100)),
    Column("attested_by", String(200)),
    Column("at", String(32), nullable=False),
    Column("note", Text),
    UniqueConstraint("agency", "resource", "period", name="uq_submission_period"),
)

# Alerts already raised, so each (resource, period, kind) is sent once.
alerts_sent = Table(
    "alerts_sent",
    metadata,
    Column("agency", String(100), primary_key=True),
    Column("resource", String(100), primary_key=True),
    Column("period", String(16), primary_key=True),
    Column("kind", String(50), primary_key=True),
    Column("at", String(32), nullable=False),
    Column("message_zh", Text),
)

# §16–§17: the people who act (data stewards, reviewers, the office, analysts, engineers), each of one agency.
people = Table(
    "people",
    metadata,
    Column("id", String(100), primary_key=True),  # login name, e.g. "zhangmin"
    Column("name", String(200), nullable=False),  # 姓名, as recorded with every action
    Column("agency", String(100), nullable=False),
    Column(
        "roles", String(200), nullable=False
    ),  # comma-separated: steward, reviewer, office, analyst, engineer
    Column("active", Integer, nullable=False, default=1),
    Column("updated_at", String(32), nullable=False),
)

# §10: a resource whose delivered columns differ from its catalog entry ("catalog out of date"), until the entry
# changes (governance/drift.py).
catalog_drift = Table(
    "catalog_drift",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("agency", String(100), nullable=False),
    Column("resource", String(100), nullable=False),
    Column("catalog_fingerprint", String(32), nullable=False),
    Column("detected_at", String(40), nullable=False),
    Column("deadline", Date, nullable=False),
    Column("details", Text, nullable=False),  # JSON list of the problems that revealed the drift
    Column("resolved_at", String(40)),
)
