"""Register, change and deactivate people (§16): the office manages the registry once it has anyone in it.

The very first person can be registered by anyone (a new installation has nobody to ask); from then on only the
office may change the registry, and every change is an event naming who made it.
"""

from __future__ import annotations

from govhub.access import Action, authorize
from govhub.config import Settings
from govhub.people import Contact, Person, Saved, deactivate, save_contact, save_person
from govhub.roles import Role


def register_person(
    settings: Settings,
    person_id: str,
    *,
    name: str,
    agency: str,
    roles: list[Role],
    actor: str,
    known_agencies: set[str] | None = None,
    update: bool = False,
) -> Saved:
    """Register `person_id`, or change an existing person (re-activating them if they were deactivated); the
    outcome says which. A change that would leave no active office person is refused (`people.last_office`)."""
    who = authorize(settings, actor, Action.MANAGE_PEOPLE)
    return save_person(settings, person_id, name=name, agency=agency, roles=roles, by=who.name,
                       known_agencies=known_agencies, change=update)  # fmt: skip


def set_contact(settings: Settings, contact: Contact, *, actor: str) -> Contact:
    """The office records how to reach a person (e-mail, phone, robot webhook) for reminders (催报)."""
    who = authorize(settings, actor, Action.MANAGE_PEOPLE)
    return save_contact(settings, contact, by=who.name)


def deactivate_person(settings: Settings, person_id: str, *, actor: str) -> Person:
    """The person can no longer act; their portal sessions end at once (recorded as `session.ended`)."""
    import datetime as dt

    from govhub.services.sessions import end_sessions

    who = authorize(settings, actor, Action.MANAGE_PEOPLE)
    person = deactivate(settings, person_id, by=who.name)
    end_sessions(settings, person.id, actor=actor, at=dt.datetime.now(dt.UTC))
    return person
