"""The docking API's paging cursors: opaque to the consumer, tamper-proof, and silent about what they hold.

A cursor carries the caller's agency, the resource, the walk's kind (rows or changes), the snapshot it pinned, the
scope's fingerprint and the position of the next page. It is Fernet (`cryptography`: AES-CBC with an HMAC-SHA256, a
timestamp inside) under a key derived from the hub's secret (`services.keys`): nothing in it can be altered, and
nothing about the hub read from it; it expires after a day.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from dataclasses import dataclass

from cryptography.fernet import Fernet, InvalidToken

from govhub.config import Settings
from govhub.services.keys import derived_key
from govhub.warehouse.wire import json_bytes

CURSOR_MAX = 4096  # characters: a cursor is a few hundred; anything longer is not one of ours


@dataclass(frozen=True)
class Cursor:
    agency: str  # the caller's
    resource: str  # agency/resource read
    mode: str  # rows | changes
    snapshot_id: str
    scope: str  # the scope's fingerprint when the walk began
    position: int  # where the next page starts in the walk's sorted copy
    since: str | None = None  # changes: the snapshot they are counted from


class CursorRefused(Exception):
    """Not a cursor of ours (or altered), or one too old: its problem code and a Chinese message."""

    def __init__(self, code: str, message_zh: str):
        super().__init__(message_zh)
        self.code, self.message_zh = code, message_zh


def _fernet(settings: Settings) -> Fernet:
    return Fernet(base64.urlsafe_b64encode(derived_key(settings, "cursor")))


def encode_cursor(settings: Settings, cursor: Cursor) -> str:
    return _fernet(settings).encrypt(json_bytes(cursor.__dict__)).decode()


def decode_cursor(settings: Settings, text: str, *, ttl_s: int, now: dt.datetime) -> Cursor:
    bad = CursorRefused("docking.bad_cursor", "分页游标无效：请使用上一页返回的 next_cursor，不要修改它")
    if len(text) > CURSOR_MAX:
        raise bad
    fernet = _fernet(settings)
    try:
        issued = fernet.extract_timestamp(text.encode())  # checks the HMAC first
        cursor = Cursor(**json.loads(fernet.decrypt(text.encode())))
    except (InvalidToken, ValueError, TypeError):
        raise bad from None
    if now.timestamp() - issued > ttl_s:
        raise CursorRefused(
            "docking.cursor_expired", f"分页游标已过期（有效期{ttl_s // 3600}小时）：请从第一页重新读取"
        )
    return cursor
