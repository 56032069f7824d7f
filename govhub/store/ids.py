"""Ids people read out and write in letters: PREFIX-YYYYMMDD-NNNN (SQ- requests, GR- grants, TK- tokens, CC- catalog
changes), numbered within the day. Called inside the writer's serialising transaction, so never twice."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import func, select


def day_numbered_id(conn: Any, table: Any, prefix: str, day: dt.date) -> str:
    """The next id of `table` for `day` (the day as the district reads it: Beijing)."""
    stem = f"{prefix}-{day:%Y%m%d}-"
    count = conn.execute(
        select(func.count()).select_from(table).where(table.c.id.startswith(stem))
    ).scalar_one()
    return f"{stem}{count + 1:04d}"
