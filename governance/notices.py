"""Notices to people (催报): reminders before a deadline, escalations, expiries — each sent once, every one recorded.

`send_once` writes one `notices` row per (thing, person) — a key that is already there is not sent again, so a
sensor ticking every few minutes reminds exactly once — and appends the notice to `<state>/notices.log`. Delivery
channels beyond the log (e-mail, robot webhooks) plug in here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy import select

from govhub import store
from govhub.config import Settings
from govhub.events import utc_stamp
from govhub.people import Person

LOCK = "govhub.notices"


@dataclass(frozen=True)
class Notice:
    key: str  # what it is about, e.g. "remind:SQ-20261127-0001:answer:2026-12-11"
    subject: str  # one line, Chinese
    body: str = ""


def send_once(settings: Settings, notice: Notice, recipients: list[Person]) -> list[str]:
    """Record `notice` for each recipient who has not had it yet (all of them the first time); their ids."""
    sent: list[str] = []
    targets = recipients or [None]  # nobody registered to tell: the notice is still recorded once
    t = store.notices
    with store.write_transaction(settings, LOCK) as conn:
        for person in targets:
            key = f"{notice.key}|{person.id}" if person else notice.key
            if conn.execute(select(t.c.id).where(t.c.key == key)).first() is not None:
                continue
            conn.execute(t.insert().values(key=key, person=person.id if person else None, channel="log",
                                           subject=notice.subject, sent_at=utc_stamp(), status="sent"))  # fmt: skip
            sent.append(person.id if person else "")
    if sent:
        settings.state_dir.mkdir(parents=True, exist_ok=True)
        with (settings.state_dir / "notices.log").open("a", encoding="utf-8") as log:
            line = {
                "key": notice.key,
                "to": sent,
                "subject": notice.subject,
                "body": notice.body,
                "at": utc_stamp(),
            }
            log.write(json.dumps(line, ensure_ascii=False) + "\n")
    return sent


def already_sent(settings: Settings, key_prefix: str) -> bool:
    with store.read_connection(settings) as conn:
        t = store.notices
        return conn.execute(select(t.c.id).where(t.c.key.startswith(key_prefix)).limit(1)).first() is not None
