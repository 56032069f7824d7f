"""W12: how each grant was used, as the sharing page and `govhub grant show` read it, on a long event log.

The log holds `profile.use_events` use events (full: 400,000 — a year of one consumer system calling the docking API
every 80 seconds, or a few systems and analysts) spread over 20 grants, plus as many other events; before each run
(untimed) an hour of new use arrives (`NEW_EVENTS`). govhub reads what `grant_use` keeps plus the events since its
mark, the log having been folded once before (untimed: the sharing clock's tick; how long that first fold of the
whole log took is reported as `first_fold_s`); the baseline counts every use event since the grants were issued, as
the page did before `grant_use` (and as anyone writes it first). Both report the uses they counted, which must agree.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from typing import Any

from benchmarks.harness import Case

GRANTS = [f"GR-20260105-{n:04d}" for n in range(1, 21)]
NEW_EVENTS = 100  # an hour of use, between two readings of the page
START = dt.datetime(2026, 1, 5, 1, 0, tzinfo=dt.UTC)
_KINDS = ["api.call", "api.call", "query.run", "export.written", "load.published", "session.signed_in"]


def _rows(first_id: int, count: int) -> list[dict[str, Any]]:
    """`count` events from id `first_id` on, a minute apart: two in three a use of one or two grants."""
    rows = []
    for i in range(first_id, first_id + count):
        kind = _KINDS[i % len(_KINDS)]
        grants = [GRANTS[i % len(GRANTS)]] + ([GRANTS[(i * 7) % len(GRANTS)]] if i % 5 == 0 else [])
        payload = {"token": "TK-1", "system": "就业服务系统", "resource": "mzj/dibao", "grants": grants,
                   "rows": 1000 + i % 500, "bytes": 180_000 + i % 9000, "status": 200}  # fmt: skip
        at = START + dt.timedelta(minutes=i)
        rows.append({"id": i, "at": at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"), "kind": kind, "actor": "就业服务系统",
                     "agency": "rsj", "subject": "mzj/dibao",
                     "payload": json.dumps(payload, ensure_ascii=False, separators=(",", ":"), sort_keys=True),
                     "prev_hash": "0" * 64, "hash": "0" * 64})  # fmt: skip
    return rows


class _UseLog(Case):
    workload = "W12"

    def rows(self) -> int:
        return (
            self.ctx.profile.use_events * len(_KINDS) // 4
        )  # every event of the log (use events are 4 in 6)

    def prepare(self) -> None:
        """Untimed: a hub whose log holds the events (written in bulk: the chain's hashes are not read here)."""
        from govhub import store
        from govhub.config import get_settings
        from govhub.governance.grants import list_grants

        home = self.ctx.scratch(f"W12-{self.side}")
        shutil.rmtree(home)
        (home / "catalog").mkdir(parents=True)
        self.settings = get_settings(home, home / "catalog")
        self.next_id = 1
        self._append(self.rows())
        with store.write_transaction(self.settings) as conn:
            conn.execute(store.grants.insert(), [_grant_row(g) for g in GRANTS])
        self.grants = list_grants(self.settings)

    def _append(self, count: int) -> None:
        from govhub import store

        with store.write_transaction(self.settings) as conn:
            for start in range(self.next_id, self.next_id + count, 50_000):
                conn.execute(store.events.insert(), _rows(start, min(50_000, self.next_id + count - start)))
        self.next_id += count

    def reset(self) -> None:
        self._append(NEW_EVENTS * len(_KINDS) // 4)  # an hour's use events among other events

    def run(self) -> dict[str, Any]:
        used = self.read()
        return {
            "uses": sum(u.times for u in used.values()),
            "api_rows": sum(u.api_rows for u in used.values()),
        }

    def read(self) -> dict[str, Any]:
        """Each grant's use (`GrantUse`) by grant id."""
        raise NotImplementedError


class W12Govhub(_UseLog):
    side = "govhub"
    title = "grant use of 20 grants on the sharing page: kept per grant, plus the last hour's events"

    def prepare(self) -> None:
        import time

        from govhub.governance.sharing_measures import fold_grant_uses

        super().prepare()
        start = time.perf_counter()
        fold_grant_uses(self.settings)  # as the sharing clock's tick does (the first one folds the whole log)
        self.first_fold_s = round(time.perf_counter() - start, 3)

    def run(self) -> dict[str, Any]:
        return {**super().run(), "first_fold_s": self.first_fold_s}

    def read(self) -> dict[str, Any]:
        from govhub.governance.sharing_measures import grant_uses

        return grant_uses(self.settings, self.grants)


class W12Baseline(_UseLog):
    side = "baseline"
    title = "the same, every use event since the grants were issued counted again (the page before grant_use)"

    def read(self) -> dict[str, Any]:
        from benchmarks.naive import scan_grant_uses

        return scan_grant_uses(self.settings, self.grants)


def _grant_row(grant_id: str) -> dict[str, Any]:
    return {"id": grant_id, "consumer": "rsj", "provider": "mzj", "resource": "dibao", "fields": '["name"]',
            "row_scope": "[]", "purpose": "核对", "starts_on": START.date(),
            "expires_on": START.date() + dt.timedelta(days=730), "state": "active", "created_by": "赵强",
            "created_at": START.strftime("%Y-%m-%dT%H:%M:%S.%fZ")}  # fmt: skip
