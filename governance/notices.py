"""Notices to people (催报): reminders before a deadline, escalations, expiries, digests — each sent once, every one
recorded, through each person's channels.

`send_once` claims one `notices` row per (thing, person, channel) — a thing already claimed for a person is not sent
again, so a sensor ticking every few minutes reminds exactly once — then delivers outside the store's lock: e-mail
through the SMTP server the settings name (`smtplib`), a WeCom/DingTalk-style robot webhook (POST of
`{"msgtype": "text", …}` with httpx), or, for someone with no contact details, the log alone. Every notice is also
appended to `<state>/notices.log`. A delivery that fails is recorded `failed` with its reason and text;
`retry_failed` sends it again later, claiming the row first, so two processes never both send it. A process killed
between claiming and sending leaves the row `sending`: it is not retried (sent at most once).
"""

from __future__ import annotations

import json
import logging
import smtplib
from dataclasses import dataclass, field
from email.message import EmailMessage

from sqlalchemy import select, update

from govhub import store
from govhub.config import Settings
from govhub.connectors.secrets import redact_address, redact_url
from govhub.events import utc_stamp
from govhub.people import Contact, Person, contacts

log = logging.getLogger(__name__)
LOCK = "govhub.notices"
MAX_ATTEMPTS = 10  # a failed delivery is retried on later runs up to this many tries in all


@dataclass(frozen=True)
class Notice:
    key: str  # what it is about, e.g. "remind:SQ-20261127-0001:answer:2026-12-11"
    subject: str  # one line, Chinese
    body: str = ""


@dataclass
class Delivery:
    """What one call did: rows sent now, rows that failed (to be retried)."""

    sent: list[str] = field(default_factory=list)  # row keys: "<thing>|<person>|<channel>"
    failed: list[str] = field(default_factory=list)


def _channels(person: Person | None, contact: Contact | None) -> list[tuple[str, str | None]]:
    """(channel, address) for a person: e-mail and/or robot webhook, else the log alone."""
    found = []
    if contact is not None and contact.email:
        found.append(("email", contact.email))
    if contact is not None and contact.webhook:
        found.append(("webhook", contact.webhook))
    return found or [("log", None)]


def send_once(settings: Settings, notice: Notice, recipients: list[Person]) -> list[str]:
    """Send `notice` to each recipient who has not had it yet (all of them the first time); their ids.

    A recipient counts as notified once their rows are claimed, whether or not a channel failed (a failure is
    retried by `retry_failed`, never by sending the notice again)."""
    targets: list[Person | None] = list(recipients) or [
        None
    ]  # nobody registered to tell: still recorded once
    reach = contacts(settings, [p.id for p in recipients]) if recipients else {}
    t = store.notices
    claimed: list[tuple[int, str, str | None, str]] = []  # (row id, channel, address, person id)
    notified: list[str] = []
    with store.write_transaction(settings, LOCK) as conn:
        for person in targets:
            base = f"{notice.key}|{person.id}" if person else notice.key
            known = conn.execute(
                select(t.c.id).where((t.c.key == base) | t.c.key.startswith(base + "|")).limit(1)
            )
            if known.first() is not None:
                continue
            for channel, address in _channels(person, reach.get(person.id) if person else None):
                row = conn.execute(
                    t.insert().values(
                        key=f"{base}|{channel}",
                        person=person.id if person else None,
                        channel=channel,
                        subject=notice.subject,
                        body=notice.body,
                        address=address,
                        sent_at=utc_stamp(),
                        status="sending",
                        attempts=0,
                    )
                )
                claimed.append((row.inserted_primary_key[0], channel, address, person.id if person else ""))
            notified.append(person.id if person else "")
    if notified:
        _log_line(settings, notice, notified)
    for row_id, channel, address, _ in claimed:
        _attempt(settings, row_id, channel, address, notice.subject, notice.body)
    return notified


def retry_failed(settings: Settings) -> Delivery:
    """Deliver again every notice whose last attempt failed (fewer than MAX_ATTEMPTS tries), each claimed first."""
    t = store.notices
    done = Delivery()
    with store.read_connection(settings) as conn:
        rows = conn.execute(
            select(t.c.id, t.c.key, t.c.channel, t.c.address, t.c.subject, t.c.body)
            .where(t.c.status == "failed", t.c.attempts < MAX_ATTEMPTS)
            .order_by(t.c.id)
        ).all()
    for row in rows:
        with store.write_transaction(settings, LOCK) as conn:  # claim: only the process that flips it sends
            flipped = conn.execute(
                update(t).where(t.c.id == row.id, t.c.status == "failed").values(status="sending")
            ).rowcount
        if not flipped:
            continue
        ok = _attempt(settings, row.id, row.channel, row.address, row.subject, row.body or "")
        (done.sent if ok else done.failed).append(row.key)
    return done


def _attempt(
    settings: Settings, row_id: int, channel: str, address: str | None, subject: str, body: str
) -> bool:
    """Deliver one claimed row and record how it went."""
    error = None
    try:
        if channel == "email":
            _send_email(settings, address or "", subject, body)
        elif channel == "webhook":
            _post_webhook(address or "", subject, body)
    # SMTP, socket, HTTP (httpx, imported lazily), a refusal: recorded, retried later
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}"
        if (
            channel == "webhook"
        ):  # a robot's key is in its URL, which httpx's errors quote: kept in contacts alone
            error = redact_address(error, address)
        shown = redact_url(address or "") if channel == "webhook" else address
        error = error[:500]
        log.warning("notice %s via %s to %s failed: %s", row_id, channel, shown, error)
    t = store.notices
    with store.write_transaction(settings, LOCK) as conn:
        conn.execute(
            update(t)
            .where(t.c.id == row_id)
            .values(
                status="failed" if error else "sent",
                error=error,
                attempts=t.c.attempts + 1,
                sent_at=utc_stamp(),
            )
        )
    return error is None


class DeliveryRefused(Exception):
    """The receiving side answered but did not take the notice (no SMTP server configured, a robot's errcode)."""


def _send_email(settings: Settings, to: str, subject: str, body: str) -> None:
    if not settings.smtp_host:
        raise DeliveryRefused("未配置邮件服务器（GOVHUB_SMTP_HOST）")
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = settings.smtp_from
    message["To"] = to
    message.set_content(body or subject)
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=15) as smtp:
        if settings.smtp_starttls:
            smtp.starttls()
        if settings.smtp_user:
            smtp.login(settings.smtp_user, settings.smtp_password or "")
        smtp.send_message(message)


def _post_webhook(url: str, subject: str, body: str) -> None:
    """A WeCom/DingTalk group robot: both take `{"msgtype": "text", "text": {"content": …}}` and answer errcode 0."""
    import httpx

    response = httpx.post(
        url, json={"msgtype": "text", "text": {"content": f"{subject}\n{body}".strip()}}, timeout=10.0
    )
    response.raise_for_status()
    try:
        answer = response.json()
    except ValueError:
        return  # a receiver that answers 2xx without JSON took it
    if isinstance(answer, dict) and answer.get("errcode", 0) != 0:
        raise DeliveryRefused(f"errcode {answer.get('errcode')}: {answer.get('errmsg', '')}")


def _log_line(settings: Settings, notice: Notice, to: list[str]) -> None:
    settings.state_dir.mkdir(parents=True, exist_ok=True)
    with (settings.state_dir / "notices.log").open("a", encoding="utf-8") as fh:
        line = {
            "key": notice.key,
            "to": to,
            "subject": notice.subject,
            "body": notice.body,
            "at": utc_stamp(),
        }
        fh.write(json.dumps(line, ensure_ascii=False) + "\n")


def undelivered(settings: Settings) -> tuple[list[str], list[str]]:
    """Notice rows (thing|person|channel) whose last delivery attempt failed: those `retry_failed` will try again,
    and those it gave up on after MAX_ATTEMPTS tries (someone must check the address)."""
    t = store.notices
    with store.read_connection(settings) as conn:
        rows = conn.execute(
            select(t.c.key, t.c.attempts).where(t.c.status == "failed").order_by(t.c.id)
        ).all()
    return [k for k, n in rows if n < MAX_ATTEMPTS], [k for k, n in rows if n >= MAX_ATTEMPTS]


def already_sent(settings: Settings, key_prefix: str) -> bool:
    with store.read_connection(settings) as conn:
        t = store.notices
        return conn.execute(select(t.c.id).where(t.c.key.startswith(key_prefix)).limit(1)).first() is not None
