"""The access matrix through the command line: each command that acts for an agency (or the hub) run by a person of
every role, for their own agency and another, on the demo district. A refusal is exit 1 with a Chinese message naming
the action, no traceback, and an `access.denied` event; anything allowed passes the check (whatever it then finds).
Expected outcomes come from the specification in tests/core/test_access_matrix.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from govhub.access import Action
from govhub.events import list_events
from govhub.roles import Role
from govhub.services.people import register_person
from tests.conftest import DemoHub
from tests.core.test_access_matrix import OTHER, OWN, expected
from tests.services.test_ingest import clean_sheet


def _commands(hub: DemoHub, tmp_path: Path) -> list[tuple[Action, str, list[str]]]:
    sheet = clean_sheet(hub, tmp_path / "就业登记.xlsx")
    return [
        (Action.UPLOAD, OWN, ["upload", sheet, "--resource", "rsj/jydj"]),
        (Action.UPLOAD, OTHER, ["upload", sheet, "--resource", "mzj/shjz"]),
        (Action.MANAGE_TOKENS, OWN, ["token", "create", "--agency", OWN, "--system", "系统甲"]),
        (Action.MANAGE_TOKENS, OTHER, ["token", "create", "--agency", OTHER, "--system", "系统乙"]),
        (Action.BUILD_WORKSPACE, OWN, ["workspace", "build", OWN]),
        (Action.BUILD_WORKSPACE, OTHER, ["workspace", "build", OTHER]),
        (Action.BACKUP, OWN, ["backup", "-o", tmp_path / "b.tar"]),
        (
            Action.MANAGE_PEOPLE,
            OWN,
            ["people", "add", "newcomer", "--name", "新人", "--agency", OWN, "--role", "analyst"],
        ),
        (Action.PRUNE_AUDIT, OWN, ["events", "prune", "--before", "2020-01-01"]),
        (Action.AUDIT, OWN, ["events", "--json"]),
        (Action.AUDIT, OWN, ["events", "verify"]),
    ]


@pytest.mark.parametrize("role", list(Role))
def test_every_role_through_the_cli_is_allowed_or_refused_as_specified(
    demo_hub: DemoHub, govhub, tmp_path, role
):
    s = demo_hub.settings
    known = set(demo_hub.catalog.agencies)
    register_person(s, "office", name="赵强", agency="kw", roles=[Role.OFFICE], actor="installer",
                    known_agencies=known)  # fmt: skip
    person = f"p_{role.value}"
    register_person(s, person, name=f"人员{role.value}", agency=OWN, roles=[role], actor="office",
                    known_agencies=known)  # fmt: skip
    wrong = []
    for action, agency, argv in _commands(demo_hub, tmp_path):
        before = len(list_events(s, kind="access.denied"))
        run = govhub(*argv, "--by", person)
        denied = list_events(s, kind="access.denied")[before:]
        refused = bool(denied)
        assert "Traceback" not in run.out + run.err
        if refused == expected(role, agency, action):  # refused exactly when not allowed
            wrong.append(
                f"{' '.join(map(str, argv[:2]))} for {agency}: refused={refused} ({run.err.strip()})"
            )
        if refused:
            assert run.code == 1 and action.rule.action_zh in run.err, (argv, run.err)
            assert denied[0].actor == person and denied[0].payload["action"] == action.value
    assert wrong == [], "\n".join(wrong)
