"""The authorization matrix, generated and checked exhaustively: every action × every role × the person's own agency
or another × active or not, plus the system actors, an unknown name and an empty name — against a specification
written here from the Measures and docs/ARCHITECTURE.md (not read from `govhub.access.RULES`), first through the pure
`decide`, then through `authorize` on a real store (each refusal recorded as `access.denied`, with its reason).

The same matrix on the portal's routes and the docking API: tests/portal/test_authorization.py,
tests/portal/api/test_docking.py; through the CLI: tests/cli/test_access_cli.py; by share type in what an agency's
analysts can reach: tests/warehouse/test_scope.py and tests/core/test_access_matrix.py::test_scope_by_share_type.
"""

from __future__ import annotations

import itertools

import pytest

from govhub.access import SYSTEM_ACTORS, Action, Actor, authorize, decide
from govhub.events import list_events
from govhub.people import Person, save_person
from govhub.problems import AccessDenied, Problem
from govhub.roles import Role

OWN, OTHER = "rsj", "mzj"
S, R, O, A, E = Role.STEWARD, Role.REVIEWER, Role.OFFICE, Role.ANALYST, Role.ENGINEER  # noqa: E741

# action → (roles allowed for their own agency, roles allowed for any agency, system actors allowed).
# The office (区科委) acts for any agency, except where noted.
SPEC: dict[Action, tuple[set[Role], set[Role], bool]] = {
    Action.UPLOAD: ({S, O}, {O}, False),  # §11: the agency's steward delivers its sheets
    Action.ZERO_UPDATE: ({S, O}, {O}, False),  # §11: who declares is responsible
    Action.PULL: ({S, O}, {O, E}, True),  # schedules pull; engineers run feeds for any agency
    Action.BACKUP: ({O, E}, {O, E}, False),
    Action.RESTORE: ({O, E}, {O, E}, False),
    Action.MANAGE_PEOPLE: ({O}, {O}, False),  # §16: the office keeps the registry
    Action.OVERSEE: ({O, E}, {O, E}, False),  # §18
    Action.AUDIT: ({O}, {O}, False),  # §16: the audit trail is the office's
    Action.PRUNE_AUDIT: ({O}, {O}, False),  # retention: the office, never before 180 days
    Action.REQUEST_SHARING: ({S, R, A, O}, {O}, False),  # §13: the requesting agency's people
    Action.DISPUTE_SHARING: ({S, R, A, O}, {O}, False),  # §13: …who may dispute the answer
    Action.WITHDRAW_SHARING: ({S, R, A, O}, {O}, False),  # …or withdraw their request
    Action.COORDINATE_SHARING: ({O}, {O}, False),  # §13: the office reviews, forwards, executes
    Action.ANSWER_SHARING: ({S, R}, set(), False),  # §13: the provider answers — not the office in its stead
    Action.REVOKE_GRANT: ({S, R, O}, {O}, False),  # §12
    Action.VIEW_SHARING: ({S, R, O, A, E}, {O}, False),
    Action.RUN_SHARING_CLOCK: ({O, E}, {O, E}, True),
    Action.QUERY: ({A}, set(), False),  # §14: analysts query their own agency's scope; not the office
    Action.DOWNLOAD_WORKSPACE: ({A}, set(), False),
    Action.BUILD_WORKSPACE: ({A, O, E}, {O, E}, True),
    Action.VIEW_WORKSPACE: (
        {A, O, E},
        {O, E},
        False,
    ),  # it names grants and rows: who may build it, no one else
    Action.MANAGE_TOKENS: ({S, O}, {O}, False),  # §13/§17: the steward answers for the systems with tokens
    Action.PROPOSE_CATALOG_CHANGE: ({S, O}, {O}, False),  # §10: the steward keeps its entries current
    Action.REVIEW_CATALOG_CHANGE: ({O}, {O}, False),  # §10: the office approves or returns them
}


def expected(role: Role, agency: str, action: Action) -> bool:
    own, anywhere, _ = SPEC[action]
    return role in anywhere or (agency == OWN and role in own)


def test_the_specification_covers_every_action() -> None:
    assert set(SPEC) == set(Action), "a new action needs its row in SPEC (who may do it, for whom)"


def _person(role: Role, active: bool = True) -> Person:
    return Person(id=f"p_{role.value}", name=f"人员{role.value}", agency=OWN, roles=(role,), active=active)


CASES = list(itertools.product(Action, Role, (OWN, OTHER)))


def test_every_role_agency_and_action_is_decided_as_specified() -> None:
    people = [_person(role) for role in Role]
    wrong = []
    for action, role, agency in CASES:
        verdict = decide(people, f"p_{role.value}", action, agency)
        if isinstance(verdict, Actor) != expected(role, agency, action):
            wrong.append(f"{action.value} by {role.value} for {agency}: {verdict}")
        elif isinstance(verdict, Problem):  # a refusal says what and why, in Chinese
            assert action.rule.action_zh in verdict.message_zh and verdict.code.startswith(
                ("people.", "access.")
            )
    assert wrong == [], "\n".join(wrong)
    assert len(CASES) == len(Action) * len(Role) * 2


def test_inactive_unknown_empty_and_system_actors_across_every_action() -> None:
    people = [_person(role, active=False) for role in Role] + [_person(Role.OFFICE, active=True)]
    people[-1] = Person(id="office", name="赵强", agency="kw", roles=(O,), active=True)
    for action in Action:
        for role in Role:  # a deactivated account can do nothing, whatever its roles
            verdict = decide(people, f"p_{role.value}", action, OWN)
            assert isinstance(verdict, Problem) and verdict.code == "people.inactive"
        assert decide(people, "nobody", action, OWN).code == "people.unknown_person"
        assert decide(people, "  ", action, OWN).code == "people.unknown_person"
        for system in SYSTEM_ACTORS:
            verdict = decide(people, system, action, OWN)
            assert isinstance(verdict, Actor) == SPEC[action][2], (system, action)


def test_the_matrix_holds_through_authorize_and_every_refusal_is_recorded(settings) -> None:
    for role in sorted(Role, key=lambda r: r != Role.OFFICE):  # the office first: a registry always has one
        save_person(
            settings, f"p_{role.value}", name=f"人员{role.value}", agency=OWN, roles=[role], by="admin"
        )
    refused = []
    for action, role, agency in CASES:
        try:
            who = authorize(settings, f"p_{role.value}", action, agency)
        except AccessDenied as exc:
            assert not expected(role, agency, action), (action, role, agency)
            refused.append((f"p_{role.value}", agency, action.value, exc.problems[0].code))
        else:
            assert expected(role, agency, action) and who.name == f"人员{role.value}"
    denied = [(e.actor, e.agency, e.payload["action"], e.payload["code"])
              for e in list_events(settings, kind="access.denied")]  # fmt: skip
    assert denied == refused and len(refused) > 100
    print(f"access matrix: {len(CASES)} cases, {len(refused)} refused and recorded")


@pytest.mark.parametrize("share", ["unconditional", "conditional", "not_shared"])
@pytest.mark.parametrize("kind", ["population", "thematic"])
def test_scope_by_share_type(settings, share, kind) -> None:
    """What another agency's analysts reach of a resource without a grant, by share type and class (§14): base data
    (人口…) shared unconditionally, its shared fields only; nothing conditional, not-shared or thematic. With grants:
    tests/warehouse/test_scope.py; a not-shared resource cannot even be requested: tests/services/test_requests.py."""
    from govhub.warehouse.scope import base_scope
    from govhub.warehouse.snapshots import ensure_initial
    from tests.warehouse.conftest import make_catalog, make_resource

    share_spec = {"type": share, **({"conditions": "按需"} if share == "conditional" else {})}
    if share == "not_shared":
        share_spec["legal_basis"] = "《测试》第一条"
    people = make_resource(agency="civil", share=share_spec, status="published", **{"class": kind})
    firms = make_resource(agency="market", rid="firms")
    catalog = make_catalog(people, firms)
    for r in (people, firms):
        ensure_initial(settings, r)
    reached = {f"{t.agency}.{t.resource}" for t in base_scope(settings, catalog, "market").tables}
    assert "market.firms" in reached  # own data, always
    assert ("civil.people" in reached) == (share == "unconditional" and kind == "population")
    assert {f"{t.agency}.{t.resource}" for t in base_scope(settings, catalog, "civil").tables} >= {
        "civil.people"
    }
