"""The demo district's people: someone in every role, so every path of the hub can be walked as a real user.

Each agency has its designated steward (数据专管员, the person named in `agencies.yaml`; login = the local part of
their e-mail address) and an analyst (分析人员); some have a reviewer (审核人). The coordinating office (区科委, the
catalog's coordinator agency) has the office staff (协调办公室) and the platform engineer (平台工程师).
The demo's own work is done as these people: sheets are dropped into their stewards' inbox folders, pulls run as the
engineer. Everyone gets the portal password `DEMO_PASSWORD`, set by the office as it would set initial passwords
(documented in the README; a real installation sets one per person with `govhub people password`).
"""

from __future__ import annotations

from dataclasses import dataclass

from govhub.catalog.model import Catalog
from govhub.config import Settings
from govhub.people import list_people
from govhub.roles import Role
from govhub.services.accounts import has_password, set_shared_password
from govhub.services.people import register_person

REGISTRAR = (
    "demo"  # who registers the office person on the still-empty registry; the office registers the rest
)


@dataclass(frozen=True)
class DemoPerson:
    id: str
    name: str
    agency: str
    roles: tuple[Role, ...]


# per agency: (analyst login, analyst name, reviewer login or None, reviewer name)
_ANALYSTS = {
    "gaj": ("gaj_fenxi", "钱立军", "gaj_shenhe", "孙志强"),
    "scjgj": ("scjgj_fenxi", "吴佳慧", None, None),
    "fgj": ("fgj_fenxi", "郑浩然", None, None),
    "ghzyj": ("ghzyj_fenxi", "冯晓雯", None, None),
    "rsj": ("rsj_fenxi", "陈思远", "rsj_shenhe", "褚海燕"),
    "mzj": ("mzj_fenxi", "卫欣怡", None, None),
    "wjw": ("wjw_fenxi", "蒋明轩", None, None),
    "jyj": ("jyj_fenxi", "沈雨桐", None, None),
}
DEMO_PASSWORD = "Songjiang-2016!"  # every demo person's portal password (README)
OFFICE = DemoPerson("zhaoqiang", "赵强", "kw", (Role.OFFICE,))
ENGINEER = DemoPerson("liuyang", "刘洋", "kw", (Role.ENGINEER,))


def demo_people(catalog: Catalog) -> list[DemoPerson]:
    people = []
    for agency in catalog.agencies.values():
        if agency.coordinator:
            continue
        login = (agency.steward.email or agency.id).split("@")[0]
        people.append(DemoPerson(login, agency.steward.name, agency.id, (Role.STEWARD,)))
        analyst, analyst_name, reviewer, reviewer_name = _ANALYSTS.get(
            agency.id, (f"{agency.id}_fenxi", f"{agency.display_name}分析员", None, None)
        )
        people.append(DemoPerson(analyst, analyst_name, agency.id, (Role.ANALYST,)))
        if reviewer and reviewer_name:
            people.append(DemoPerson(reviewer, reviewer_name, agency.id, (Role.REVIEWER,)))
    office_agency = next((a.id for a in catalog.agencies.values() if a.coordinator), OFFICE.agency)
    for p in (OFFICE, ENGINEER):
        people.append(DemoPerson(p.id, p.name, office_agency, p.roles))
    return people


def steward_of(catalog: Catalog, agency: str) -> str:
    """The demo login of an agency's steward."""
    return next(p.id for p in demo_people(catalog) if p.agency == agency and Role.STEWARD in p.roles)


def register_demo_people(settings: Settings, catalog: Catalog) -> list[DemoPerson]:
    """Register everyone once, as a new installation would: the office first (the registry is open while empty),
    then everyone else by the office. A hub that already has people keeps its registry as it is."""
    people = demo_people(catalog)
    office = next(p for p in people if Role.OFFICE in p.roles)
    if not list_people(settings):
        for p in [office, *(p for p in people if p is not office)]:
            register_person(settings, p.id, name=p.name, agency=p.agency, roles=list(p.roles),
                            actor=REGISTRAR if p is office else office.id,
                            known_agencies=set(catalog.agencies))  # fmt: skip
    registered = {p.id for p in list_people(settings)}
    if (
        office.id in registered
    ):  # the published password for each demo person who has none yet (earlier ones kept)
        owed = [p.id for p in people if p.id in registered and not has_password(settings, p.id)]
        set_shared_password(settings, owed, DEMO_PASSWORD, actor=office.id)
    return people
