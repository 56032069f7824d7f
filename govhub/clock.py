"""Time as the district reads it: the store keeps UTC (`events.utc_stamp`), people read Beijing time.

One place for the zone, today's date in Beijing, and the text of a moment, so every page, command and message says a
time the same way: `2026-11-27 18:56（北京时间）`.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

BEIJING = ZoneInfo("Asia/Shanghai")


def today_in_beijing() -> dt.date:
    return dt.datetime.now(BEIJING).date()


def beijing_date(at: dt.datetime) -> dt.date:
    if at.tzinfo is None:
        raise ValueError("timestamps must be timezone-aware")
    return at.astimezone(BEIJING).date()


def stored_moment(value: dt.datetime | str) -> dt.datetime:
    """A moment as the store gives it back (a UTC stamp `…Z`, ISO text, or a datetime that SQLite returns without a
    zone) as an aware datetime: the store keeps UTC, so a moment without a zone is UTC."""
    moment = (
        value
        if isinstance(value, dt.datetime)
        else dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    )
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def beijing_text(at: dt.datetime | str | None, *, seconds: bool = False, zone: bool = True) -> str:
    """A moment as people read it, the zone stated unless `zone=False` (a column headed 北京时间): a datetime must
    carry its zone (a naive one from code is a bug); text is read as the store keeps it (UTC). None is "—"."""
    if at is None or at == "":
        return "—"
    if isinstance(at, dt.datetime) and at.tzinfo is None:
        raise ValueError("timestamps must be timezone-aware")
    moment = stored_moment(at).astimezone(BEIJING)
    text = f"{moment:%Y-%m-%d %H:%M:%S}" if seconds else f"{moment:%Y-%m-%d %H:%M}"
    return f"{text}（北京时间）" if zone else text
