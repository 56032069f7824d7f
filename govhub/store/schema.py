"""The workflow store's tables: the one schema module.

Every table of the store is defined here, on `metadata`, as SQLAlchemy Core. The database follows by migrations
(`govhub/store/migrations/versions/`): a table or column added here needs a revision there, and
`tests/core/test_store_migrations.py` fails until the two agree (Alembic's autogenerate comparison, on SQLite and
PostgreSQL).
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

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

# 网络安全法 Art. 21: logs kept at least six months; older ones may be pruned. Each prune leaves the last pruned event's
# id and hash here, where the chain now starts (`events.verify_chain`), and is itself an event (`events.pruned`).
event_checkpoints = Table(
    "event_checkpoints",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("through_id", Integer, nullable=False),  # the newest pruned event
    Column("through_hash", String(64), nullable=False),  # its hash: the next event's prev_hash
    Column("through_at", String(32), nullable=False),
    Column("pruned", Integer, nullable=False),  # how many events this prune removed
    Column("before", String(32), nullable=False),  # events before this moment (UTC stamp) were pruned
    Column("at", String(32), nullable=False),
    Column("actor", String(200), nullable=False),
)

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

# §12–§13: a sharing request and its journey (governance/requests.py: the state machine). Fields, row scope and the
# provider's answer are JSON; deadlines are Beijing dates on the PRC working-day calendar.
sharing_requests = Table(
    "sharing_requests",
    metadata,
    Column("id", String(32), primary_key=True),  # e.g. SQ-20261127-0001: readable on the phone and in letters
    Column("consumer", String(100), nullable=False),  # the requesting agency
    Column("provider", String(100), nullable=False),  # the resource's agency
    Column("resource", String(100), nullable=False),  # catalog id within the provider
    Column("code", String(64), nullable=False),  # the resource code when requested
    Column("share_type", String(20), nullable=False),  # unconditional | conditional, when requested
    Column("fields", Text, nullable=False),  # JSON list of field names wanted
    Column("row_scope", Text, nullable=False),  # JSON list of conditions (field in / between), [] = all rows
    Column("purpose", Text, nullable=False),  # 用途 (§12: for the consumer's own duties only)
    Column("basis", Text, nullable=False),  # business or legal basis
    Column("use_from", Date, nullable=False),
    Column("use_until", Date, nullable=False),
    Column("state", String(20), nullable=False),
    Column("created_by", String(200), nullable=False),  # the applicant's name, as shown
    Column("created_by_id", String(100)),  # their login (NULL: filed before 0008 by a name two people share)
    Column("created_at", String(32), nullable=False),
    Column("updated_at", String(32), nullable=False),
    Column("deadline", Date),  # when the current step is due (None: nothing pending)
    Column("deadline_step", String(20)),  # review | answer | execute | decide
    Column(
        "answer", Text
    ),  # JSON: the provider's answer (decision, fields, row_scope, conditions, reason, basis)
    Column("answered_late", Integer, nullable=False, default=0),  # the provider missed the 10 working days
    Column("grant_id", String(32)),
    Column("disputed", Integer, nullable=False, default=0),  # a request can be disputed once
)
Index("ix_sharing_requests_consumer", sharing_requests.c.consumer)
Index("ix_sharing_requests_provider", sharing_requests.c.provider)
Index("ix_sharing_requests_state", sharing_requests.c.state)

# Every transition of a request: who, when, from which state to which, with what (also in the event log).
request_transitions = Table(
    "request_transitions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("request_id", String(32), nullable=False),
    Column("action", String(20), nullable=False),
    Column("from_state", String(20)),
    Column("to_state", String(20), nullable=False),
    Column("actor", String(200), nullable=False),
    Column("at", String(32), nullable=False),
    Column("details", Text, nullable=False),  # JSON
)
Index("ix_request_transitions_request_id", request_transitions.c.request_id)

# §12: an approved request's grant — what the consumer may reach (fields, rows), why, and until when.
grants = Table(
    "grants",
    metadata,
    Column("id", String(32), primary_key=True),  # e.g. GR-20261127-0001
    Column("request_id", String(32)),
    Column("consumer", String(100), nullable=False),
    Column("provider", String(100), nullable=False),
    Column("resource", String(100), nullable=False),
    Column("fields", Text, nullable=False),  # JSON list: never a not-shared field
    Column("row_scope", Text, nullable=False),  # JSON list of conditions
    Column("purpose", Text, nullable=False),
    Column("conditions", Text),  # the provider's conditions of use, as answered
    Column("starts_on", Date, nullable=False),
    Column("expires_on", Date, nullable=False),
    Column("state", String(20), nullable=False),  # active | revoked (expiry is by date)
    Column("created_by", String(200), nullable=False),
    Column("created_at", String(32), nullable=False),
    Column("revoked_by", String(200)),
    Column("revoked_at", String(32)),
    Column("revoke_reason", Text),
)
Index("ix_grants_consumer", grants.c.consumer)
Index("ix_grants_provider", grants.c.provider)

# §15: how each grant was used (queries, exports, docking-API calls with their rows and bytes, the last use), folded
# from the event log's use events up to `grant_use_mark.through_id`, so the sharing page reads one row per grant, not a
# year of events (`governance.sharing_measures.grant_uses`); folded before an audit prune, so kept past it.
grant_use = Table(
    "grant_use",
    metadata,
    Column("grant_id", String(32), primary_key=True),
    Column("queries", Integer, nullable=False),
    Column("exports", Integer, nullable=False),
    Column("api_calls", Integer, nullable=False),
    Column("api_rows", BigInteger, nullable=False),
    Column("api_bytes", BigInteger, nullable=False),
    Column("last_used_at", String(32)),  # UTC, as the event log keeps it
)
grant_use_mark = Table(
    "grant_use_mark",
    metadata,
    Column("id", Integer, primary_key=True),  # one row
    Column("through_id", Integer, nullable=False),  # the newest event folded into `grant_use`
)

# The docking API (资源共享对接服务): one token per consumer system, stored as a hash, revocable.
api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", String(32), primary_key=True),  # public id (shown), not the secret
    Column("agency", String(100), nullable=False),
    Column("system", String(200), nullable=False),  # the consumer system's name
    Column("token_hash", String(128), nullable=False, unique=True),
    Column("created_by", String(200), nullable=False),
    Column("created_at", String(32), nullable=False),
    Column("revoked_by", String(200)),
    Column("revoked_at", String(32)),
    Column("last_used_at", String(32)),
)

# §16: portal accounts — a password hash per person (argon2), sign-in failures and lock-out.
credentials = Table(
    "credentials",
    metadata,
    Column("person", String(100), primary_key=True),
    Column("password_hash", String(255), nullable=False),
    Column("changed_at", String(32), nullable=False),
    Column("failed_sign_ins", Integer, nullable=False, default=0),
    Column("locked_until", String(32)),
    Column("first_failed_at", String(32)),  # the first failure of the current lock-out window (0003_portal)
)

# Server-side web sessions (idle and absolute expiry), shared by every portal process on this store.
web_sessions = Table(
    "web_sessions",
    metadata,
    Column("key", String(128), primary_key=True),  # a hash of the session id, never the id itself
    Column("data", Text, nullable=False),
    Column("expires_at", String(32), nullable=False),
    Column("person", String(100)),  # whose signed-in session (0006_session_owner); None: anonymous, counters
    Column("seen_at", String(32)),  # its last request (0006_session_owner)
    Column("ended_at", String(32)),  # ended by its owner or the office: never loaded nor saved again (0006)
)
Index("ix_web_sessions_expires_at", web_sessions.c.expires_at)
Index("ix_web_sessions_person", web_sessions.c.person)

# How to reach a person (催报: reminders and notices) — e-mail, phone, a WeCom/DingTalk-style robot webhook.
contacts = Table(
    "contacts",
    metadata,
    Column("person", String(100), primary_key=True),
    Column("email", String(200)),
    Column("phone", String(40)),
    Column("webhook", String(500)),
    Column("updated_at", String(32), nullable=False),
)

# Every notice sent (reminders before a deadline, escalations, digests): one row per thing, so none goes out twice.
notices = Table(
    "notices",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("key", String(300), nullable=False, unique=True),  # what it is about, e.g. remind:SQ-…:answer:2
    Column("person", String(100)),
    Column("channel", String(20), nullable=False),  # email | webhook | log
    Column("subject", Text, nullable=False),
    Column("sent_at", String(32), nullable=False),  # when it went out (or was last tried)
    Column("status", String(20), nullable=False),  # sending | sent | failed (retried later)
    Column("body", Text),  # the text, kept so a retry sends exactly what was meant (0004_notify)
    Column("address", String(500)),  # the e-mail address or webhook URL it went to
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("error", Text),  # why the last attempt failed
)

# §10: a steward's proposed change to one resource's catalog entry (the full new YAML), until the office approves it
# (then written to the catalog folder) or returns it with a reason (services/catalog_changes.py).
catalog_changes = Table(
    "catalog_changes",
    metadata,
    Column("id", String(32), primary_key=True),  # e.g. CC-20261127-0001
    Column("agency", String(100), nullable=False),
    Column("resource", String(100), nullable=False),  # catalog id within the agency
    Column("yaml_text", Text, nullable=False),  # the resource's whole entry as proposed
    Column("note", Text, nullable=False),  # what changed and why, in the steward's words
    Column("state", String(20), nullable=False),  # pending | approved | returned
    Column("proposed_by", String(200), nullable=False),
    Column("proposed_by_id", String(100)),  # their login (None: an open hub)
    Column("proposed_at", String(32), nullable=False),
    Column("decided_by", String(200)),
    Column("decided_at", String(32)),
    Column("reason", Text),  # why it was returned
    Column("due", Date),  # the §10 drift deadline the change answers (None: no open drift when proposed)
)
Index("ix_catalog_changes_agency", catalog_changes.c.agency)
Index("ix_catalog_changes_state", catalog_changes.c.state)
