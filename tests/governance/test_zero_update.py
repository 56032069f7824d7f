"""Zero updates: declared by a person, refused when the source changed, the period is future or already updated."""

from __future__ import annotations

import pytest

from govhub.events import list_events
from govhub.governance.freshness import parse_period
from govhub.governance.ledger import (
    LedgerState,
    ledger_rows,
    mark_missing,
    record_load_outcome,
    satisfied_periods,
)
from govhub.governance.zero_update import file_zero_update
from govhub.problems import GovhubError

from .conftest import at


def test_a_zero_update_is_recorded_with_who_and_when_and_logged(settings, weekly):
    entry = file_zero_update(settings, weekly, period="2026-W47", by="张三", at=at("2026-11-23T09:30"))
    assert (entry.period, entry.state, entry.attested_by) == (
        "2026-W47",
        LedgerState.ZERO_UPDATE_DECLARED,
        "张三",
    )
    assert entry.at == "2026-11-23T01:30:00.000000Z"
    assert satisfied_periods(settings, weekly) == {"2026-W47"}
    (event,) = list_events(settings, kind="zero_update.declared")
    assert (event.actor, event.agency, event.payload["period"]) == ("张三", "gongan", "2026-W47")


def test_default_period_is_the_one_owed(settings, weekly):
    record_load_outcome(settings, weekly, {"status": "published", "actor": "张三"}, at=at("2026-11-11T10:00"))
    owed = file_zero_update(settings, weekly, period=None, by="张三", at=at("2026-11-23T09:30"))
    assert owed.period == "2026-W47"  # last week was not delivered
    current = file_zero_update(settings, weekly, period=None, by="张三", at=at("2026-11-27T09:30"))
    assert current.period == "2026-W48"


def test_refused_when_the_source_changed_since_the_last_snapshot(settings, weekly):
    seen = []

    def changed(resource):
        seen.append(resource.id)
        return True

    with pytest.raises(GovhubError) as err:
        file_zero_update(
            settings, weekly, period="2026-W47", by="张三", source_changed=changed, at=at("2026-11-23T09:30")
        )
    assert seen == ["population"]
    assert err.value.problems[0].code == "zero_update.source_changed"
    assert "源数据" in err.value.problems[0].message_zh
    assert ledger_rows(settings) == [] and list_events(settings) == []
    # Unknown (None) is not a refusal.
    entry = file_zero_update(
        settings,
        weekly,
        period="2026-W47",
        by="张三",
        source_changed=lambda r: None,
        at=at("2026-11-23T09:30"),
    )
    assert entry.state is LedgerState.ZERO_UPDATE_DECLARED


def test_a_wrong_period_is_refused_before_the_source_is_asked(settings, weekly):
    """Asking an interface-fed source is a verification pull (seconds, and a call on the agency's system): a period
    that could never be zero-updated is refused first, without it."""
    asked = []
    file_zero_update(settings, weekly, period="2026-W46", by="张三", at=at("2026-11-23T09:30"))
    for period, code in (("2026-W49", "future_period"), ("2026-W46", "already_updated")):
        with pytest.raises(GovhubError) as err:
            file_zero_update(settings, weekly, period=period, by="张三", at=at("2026-11-23T09:30"),
                             source_changed=lambda r: asked.append(r.id))  # fmt: skip
        assert err.value.problems[0].code == f"zero_update.{code}"
    assert asked == []
    file_zero_update(settings, weekly, period="2026-W47", by="张三", at=at("2026-11-23T09:30"),
                     source_changed=lambda r: asked.append(r.id))  # fmt: skip
    assert asked == ["population"]


def test_refused_for_a_future_period(settings, weekly):
    with pytest.raises(GovhubError) as err:
        file_zero_update(settings, weekly, period="2026-W49", by="张三", at=at("2026-11-23T09:30"))
    assert err.value.problems[0].code == "zero_update.future_period"
    assert "尚未开始" in err.value.problems[0].message_zh


def test_refused_when_the_period_already_has_an_update(settings, weekly):
    record_load_outcome(settings, weekly, {"status": "published", "actor": "李四"}, at=at("2026-11-18T10:00"))
    with pytest.raises(GovhubError) as err:
        file_zero_update(settings, weekly, period="2026-W47", by="张三", at=at("2026-11-19T10:00"))
    assert err.value.problems[0].code == "zero_update.already_updated"
    assert "已更新" in err.value.problems[0].message_zh
    file_zero_update(settings, weekly, period="2026-W46", by="张三", at=at("2026-11-19T10:00"))
    with pytest.raises(GovhubError):
        file_zero_update(settings, weekly, period="2026-W46", by="张三", at=at("2026-11-19T11:00"))


def test_a_missing_period_can_still_be_zero_updated_late(settings, weekly):
    mark_missing(settings, weekly, parse_period(weekly.cycle, "2026-W47"), at=at("2026-11-25T00:00"))
    entry = file_zero_update(settings, weekly, period="2026-W47", by="张三", at=at("2026-11-26T10:00"))
    # satisfied, but late (the scorecard counts it so, as a late delivery)
    assert entry.state is LedgerState.LATE and entry.state.satisfies
    assert entry.note == "逾期申报零更新（应于 2026-11-24 前）；此前状态：未报送"
    assert len(ledger_rows(settings)) == 1
    on_time = file_zero_update(settings, weekly, period="2026-W48", by="张三", at=at("2026-11-26T10:00"))
    assert on_time.state is LedgerState.ZERO_UPDATE_DECLARED and on_time.note is None


def test_a_period_before_the_resource_was_published_is_refused(settings, resource_factory):
    weekly = resource_factory(published_on="2026-01-05")
    with pytest.raises(GovhubError) as err:
        file_zero_update(settings, weekly, period="1999-W10", by="张三", at=at("2026-11-26T10:00"))
    assert (
        err.value.problems[0].code == "zero_update.before_published"
        and "早于" in err.value.problems[0].message_zh
    )


def test_refused_for_irregular_feeds_bad_periods_and_without_a_person(settings, resource_factory, weekly):
    irregular = resource_factory(cycle="irregular")
    with pytest.raises(GovhubError, match="不定期"):
        file_zero_update(settings, irregular, period=None, by="张三")
    with pytest.raises(GovhubError) as err:
        file_zero_update(settings, weekly, period="2026-11", by="张三")
    assert err.value.problems[0].code == "period.invalid"
    from govhub.services.zero_update import declare_zero_update

    with pytest.raises(GovhubError) as err:
        declare_zero_update(settings, weekly, actor="  ")
    assert "必须由具体人员操作" in str(err.value)
