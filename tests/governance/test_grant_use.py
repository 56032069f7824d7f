"""How each grant was used (§15), kept as it happens: `grant_use` is folded from the event log's use events and must
always say what a recount of the whole log says — read after any run of events, in chunks, by threads folding at once,
on SQLite and PostgreSQL — and must keep saying it after the events themselves were pruned."""

from __future__ import annotations

import datetime as dt
import random
import threading

import pytest

from govhub.events import record_event
from govhub.governance import sharing_measures
from govhub.governance.grants import Grant, GrantState
from govhub.governance.sharing_measures import USE_KINDS, GrantUse, grant_uses
from govhub.roles import Role

START = dt.datetime(2026, 1, 5, 1, 0, tzinfo=dt.UTC)
GRANTS = [f"GR-20260105-{n:04d}" for n in range(1, 6)]
JUNK = [17, None, "x" * 40, {"id": GRANTS[0]}]  # what a damaged payload might hold instead of a grant id
OTHER_KINDS = ["load.published", "api.failed", "grant.issued"]


def _grant(grant_id: str) -> Grant:
    return Grant(id=grant_id, request_id=None, consumer="rsj", provider="mzj", resource="dibao", fields=["name"],
                 row_scope=[], purpose="核对", conditions=None, starts_on=START.date(),
                 expires_on=START.date() + dt.timedelta(days=365), state=GrantState.ACTIVE, created_by="赵强",
                 created_at="2026-01-05T01:00:00.000000Z", revoked_by=None, revoked_at=None,
                 revoke_reason=None)  # fmt: skip


def _recount(settings) -> dict[str, GrantUse]:
    """The oracle: every use event of the log counted again from scratch (W12's baseline)."""
    from benchmarks.naive import scan_grant_uses

    return scan_grant_uses(settings, [_grant(g) for g in GRANTS])


def _use(settings, rng: random.Random, n: int) -> None:
    kind = rng.choice(USE_KINDS + OTHER_KINDS)
    grants = rng.sample(GRANTS, rng.randint(0, 3)) + ([rng.choice(JUNK)] if rng.random() < 0.1 else [])
    payload = {"grants": grants, "rows": rng.randint(0, 10**9), "bytes": rng.randint(0, 10**12)}
    record_event(settings, kind=kind, actor="张海峰", agency="rsj", subject="rsj/x", payload=payload,
                 at=START + dt.timedelta(minutes=n))  # fmt: skip


@pytest.fixture(params=["sqlite", "postgres"])
def hub(request):
    return request.getfixturevalue("settings" if request.param == "sqlite" else "pg_settings")


def test_the_kept_use_always_equals_a_recount_of_the_log(hub, monkeypatch) -> None:
    monkeypatch.setattr(sharing_measures, "_FOLD_CHUNK", 7)  # many chunk boundaries
    rng = random.Random(20261128)
    grants = [_grant(g) for g in GRANTS]
    assert grant_uses(hub, grants) == {g: GrantUse() for g in GRANTS}  # an empty log
    for n in range(400):
        _use(hub, rng, n)
        if rng.random() < 0.05:
            sharing_measures.fold_grant_uses(hub)  # the sharing clock's tick, now and then
        if rng.random() < 0.08:
            assert grant_uses(hub, grants) == _recount(hub), n  # kept + what came since, never twice
    assert sharing_measures.fold_grant_uses(hub) > 0
    assert sharing_measures.fold_grant_uses(hub) == 0  # nothing new: nothing folded twice
    used = grant_uses(hub, grants)
    assert used == _recount(hub) and sum(u.times for u in used.values()) > 100
    assert grant_uses(hub, [grants[0]]) == {GRANTS[0]: _recount(hub)[GRANTS[0]]}


def test_big_counts_are_kept_exactly_and_damaged_events_stop_nothing(hub) -> None:
    """Rows and bytes beyond 2^31 add up exactly (BIGINT); an event whose payload is damaged — not an object, grants
    as text, counts as text, fractions, negatives, beyond 2^53 — counts for nothing, and every event after it is
    still counted (one bad event stopped every later fold: and the sharing page and audit prunes with it)."""
    g = GRANTS[0]
    damaged = [["not", "an", "object"], {"grants": g}, {"grants": [g], "rows": "12.5", "bytes": "abc"},
               {"grants": [g], "rows": -5, "bytes": 2**70}, {"grants": [g], "rows": True, "bytes": 1.5}]  # fmt: skip
    for n, payload in enumerate(damaged):
        record_event(hub, kind="api.call", actor="系统", agency="rsj", subject="rsj/x", payload=payload,  # type: ignore[arg-type]
                     at=START + dt.timedelta(minutes=n))  # fmt: skip
    for n in range(3):
        record_event(hub, kind="api.call", actor="系统", agency="rsj", subject="rsj/x",
                     payload={"grants": [g], "rows": 3_000_000_000, "bytes": 5 * 2**40},
                     at=START + dt.timedelta(hours=1, minutes=n))  # fmt: skip
    assert (
        sharing_measures.fold_grant_uses(hub) == 5 + 3 - 2
    )  # the two that name no list of grants read as none
    used = grant_uses(hub, [_grant(g)])[g]
    assert (used.api_calls, used.api_rows, used.api_bytes) == (3 + 3, 9_000_000_000, 15 * 2**40)
    from govhub import store

    with store.read_connection(hub) as conn:  # grants given as text were not read letter by letter
        assert [r.grant_id for r in conn.execute(store.grant_use.select())] == [g]


def test_a_mark_past_the_log_is_counted_again(settings) -> None:
    """A store put together from two moments (counts from after the last event it holds) is counted again from the
    log it holds, not left to skip the events that will take those ids."""
    from govhub import store

    rng = random.Random(3)
    for n in range(30):
        _use(settings, rng, n)
    sharing_measures.fold_grant_uses(settings)
    with store.write_transaction(settings) as conn:
        conn.execute(store.grant_use_mark.update().values(through_id=10_000))
    for n in range(30, 40):
        _use(settings, rng, n)
    sharing_measures.fold_grant_uses(settings)
    assert grant_uses(settings, [_grant(g) for g in GRANTS]) == _recount(settings)


def test_threads_appending_folding_and_reading_at_once_count_every_use_once(hub, monkeypatch) -> None:
    monkeypatch.setattr(sharing_measures, "_FOLD_CHUNK", 5)
    grants = [_grant(g) for g in GRANTS]
    failures: list[BaseException] = []

    def work(seed: int) -> None:
        rng = random.Random(seed)
        try:
            for n in range(50):
                _use(hub, rng, seed * 1000 + n)
                if n % 5 == seed % 5:
                    sharing_measures.fold_grant_uses(hub)
                if n % 6 == 0:
                    grant_uses(hub, grants)
        except BaseException as exc:  # reported below, with the thread's traceback
            failures.append(exc)

    threads = [threading.Thread(target=work, args=(seed,)) for seed in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not failures, failures
    assert grant_uses(hub, grants) == _recount(hub)
    sharing_measures.fold_grant_uses(hub)
    assert grant_uses(hub, grants) == _recount(hub)


def test_a_grants_use_is_still_told_after_its_events_were_pruned(settings) -> None:
    from govhub.services.audit import prune
    from govhub.services.people import register_person

    rng = random.Random(7)
    for n in range(50):
        _use(settings, rng, n)
    # registered today, after the uses: kept by the prune
    register_person(settings, "zhaoqiang", name="赵强", agency="kw", roles=[Role.OFFICE], actor="installer",
                    known_agencies={"kw"})  # fmt: skip
    before = _recount(settings)
    assert sum(u.times for u in before.values()) > 10
    now = START + dt.timedelta(days=400)
    done = prune(settings, before=now - dt.timedelta(days=200), actor="zhaoqiang", now=now)
    assert done.count >= 50 and _recount(settings) == {g: GrantUse() for g in GRANTS}  # the events are gone…
    assert grant_uses(settings, [_grant(g) for g in GRANTS]) == before  # …what they said of the grants is not
