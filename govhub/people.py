"""People and roles (§16–§17: access control by role; whoever acts is responsible).

Each person belongs to one agency and holds roles: `steward` (数据专管员: catalog, uploads, zero updates, answers
requests), `reviewer` (审核人), `office` (区科委/领导小组办公室: reviews and coordinates for every agency), `analyst`
(分析人员: queries), `engineer` (平台工程师: runs ingestion). Every change to the registry is an event.

Who may do what is decided in `govhub.access` from this registry; the services call it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import Connection, select, update

from govhub import store
from govhub.config import Settings
from govhub.events import record_event, utc_stamp
from govhub.problems import GovhubError, Problem
from govhub.roles import Role

PEOPLE_LOCK = "people"
# a login names the person's inbox folder (inbox/<agency>/<resource>/<login>/): letters of any script, digits, _ . -
LOGIN = re.compile(r"\w[\w.-]{0,63}")


@dataclass(frozen=True)
class Person:
    id: str
    name: str
    agency: str
    roles: tuple[Role, ...]
    active: bool

    def to_dict(self) -> dict[str, object]:
        return {**self.__dict__, "roles": [r.value for r in self.roles]}


@dataclass(frozen=True)
class Saved:
    """What `save_person` did: `before` is None for a new person, else who they were (a change, or a re-activation)."""

    person: Person
    before: Person | None = None

    @property
    def changes_zh(self) -> list[str]:
        """What changed, in words (empty for a new person or for saving the same again)."""
        if self.before is None:
            return []
        b, a = self.before, self.person
        out = [f"{label}：{old} → {new}" for label, old, new in (
            ("姓名", b.name, a.name),
            ("机构", b.agency, a.agency),
            ("角色", "、".join(r.label for r in b.roles), "、".join(r.label for r in a.roles)),
        ) if old != new]  # fmt: skip
        return out + ([] if b.active else ["账号：已停用 → 重新启用"])


def _refuse(code: str, message_zh: str, **kw: str) -> GovhubError:
    return GovhubError(Problem(code=f"people.{code}", message_zh=message_zh, **kw))


def _person(row: dict) -> Person:
    roles = tuple(Role(r) for r in row["roles"].split(",") if r)
    return Person(row["id"], row["name"], row["agency"], roles, bool(row["active"]))


# built once: every authorized action lists the registry, and building the statement cost more than running it
_EVERYONE = select(store.people).order_by(store.people.c.agency, store.people.c.id)


def list_people(settings: Settings, *, agency: str | None = None) -> list[Person]:
    q = _EVERYONE if agency is None else _EVERYONE.where(store.people.c.agency == agency)
    with store.read_connection(settings) as conn:
        return [_person(dict(r)) for r in conn.execute(q).mappings()]


def names_of(settings: Settings, ref: str) -> list[str]:
    """Every name `ref` acts under in the event log: refusals record the login given, actions the person's name."""
    found = find_person(list_people(settings), ref)
    return list(dict.fromkeys([ref] + ([found.name, found.id] if found else [])))


def find_person(people: list[Person], ref: str) -> Person | None:
    """A person by login id, or by name when exactly one person has it."""
    by_id = [p for p in people if p.id == ref]
    by_name = [p for p in people if p.name == ref]
    return (by_id or (by_name if len(by_name) == 1 else [None]))[0]


def save_person(
    settings: Settings,
    person_id: str,
    *,
    name: str,
    agency: str,
    roles: list[Role],
    by: str,
    known_agencies: set[str] | None = None,
    change: bool = False,
) -> Saved:
    """Register a person, or — with `change` — change their name, agency or roles (an event either way). Saving a
    registered person differently without `change` is refused: a mistyped login must not move a steward."""
    if not person_id.strip() or not name.strip():
        raise _refuse("incomplete", "人员登记需要登录名和姓名")
    if not LOGIN.fullmatch(person_id):
        raise _refuse("bad_login", f"登录名“{person_id}”不可用：只能由字母、数字、下划线、点和连字符组成（不含空格和斜杠，"
                      "不以点开头，至多64个字符）", value=person_id)  # fmt: skip
    if not roles:
        raise _refuse("no_role", f"请为{name}指定至少一个角色", expected="、".join(r.value for r in Role))
    if known_agencies is not None and agency not in known_agencies:
        raise _refuse(
            "unknown_agency",
            f"机构“{agency}”不在目录中",
            value=agency,
            expected="、".join(sorted(known_agencies)),
        )
    row = {
        "id": person_id,
        "name": name,
        "agency": agency,
        "roles": ",".join(r.value for r in roles),
        "active": 1,
        "updated_at": utc_stamp(),
    }
    with store.write_transaction(settings, PEOPLE_LOCK) as conn:
        before = conn.execute(select(store.people).where(store.people.c.id == person_id)).mappings().first()
        offices = _offices(conn)
        saved = Saved(_person(row), _person(dict(before)) if before else None)
        if saved.changes_zh and not change:
            was = saved.before
            raise _refuse("exists", f"登录名 {person_id} 已登记为 {was.name}（{was.agency}，"
                          f"{'、'.join(r.label for r in was.roles)}{'' if was.active else '，已停用'}）；"
                          f"要修改（{'；'.join(saved.changes_zh)}），请确认后加 --update", value=person_id)  # fmt: skip
        if before is None:
            conn.execute(store.people.insert().values(**row))
        else:
            conn.execute(update(store.people).where(store.people.c.id == person_id).values(**row))
        _keep_an_office(conn, person_id, name, before=offices, first=before is None)
    kind = "people.registered" if before is None else "people.changed"
    record_event(settings, kind=kind, actor=by, agency=agency, subject=f"person/{person_id}",
                 payload={"name": name, "roles": row["roles"], "before": dict(before) if before else None})  # fmt: skip
    return saved


def _offices(conn: Connection) -> int:
    """How many active people hold the office role."""
    rows = conn.execute(select(store.people.c.roles, store.people.c.active)).all()
    return sum(1 for roles, active in rows if active and Role.OFFICE.value in roles.split(","))


def _keep_an_office(conn: Connection, person_id: str, name: str, *, before: int, first: bool) -> None:
    """Once anyone is registered, someone active must hold the office role: only the office manages people, so a
    registry without one could never be changed again (short of editing the database). Raised inside the write
    transaction, so the change that would leave none is rolled back. `before`: active office people before it."""
    if _offices(conn):
        return
    if (
        first
        and conn.execute(select(store.people.c.id).where(store.people.c.id != person_id)).first() is None
    ):
        raise _refuse("no_office", f"第一位登记的人员须担任{Role.OFFICE.label}角色：此后由其登记和管理人员",
                      value=person_id)  # fmt: skip
    if before:
        raise _refuse("last_office", f"{name}（{person_id}）是最后一位在用的{Role.OFFICE.label}人员，"
                      f"此项修改后将无人能管理人员和角色；请先登记另一位{Role.OFFICE.label}人员",
                      value=person_id)  # fmt: skip


@dataclass(frozen=True)
class Contact:
    """How to reach a person (催报): e-mail, phone (for people to call), a WeCom/DingTalk-style robot webhook."""

    person: str
    email: str | None = None
    phone: str | None = None
    webhook: str | None = None

    def to_dict(self) -> dict[str, object]:
        return dict(self.__dict__)


def contacts(settings: Settings, person_ids: list[str] | None = None) -> dict[str, Contact]:
    q = select(store.contacts)
    if person_ids is not None:
        q = q.where(store.contacts.c.person.in_(person_ids))
    with store.read_connection(settings) as conn:
        return {
            r["person"]: Contact(r["person"], r["email"], r["phone"], r["webhook"])
            for r in conn.execute(q).mappings()
        }


def save_contact(settings: Settings, contact: Contact, *, by: str) -> Contact:
    """Record how to reach a registered person (an event names who changed it; no address is put in it)."""
    if contact.email is not None and (contact.email.count("@") != 1 or " " in contact.email):
        raise _refuse("bad_email", f"“{contact.email}”不是有效的电子邮箱地址", value=contact.email)
    if contact.webhook is not None and not contact.webhook.startswith(("https://", "http://")):
        raise _refuse("bad_webhook", "机器人Webhook应为 http(s):// 开头的地址", value=contact.webhook)
    with store.write_transaction(settings, PEOPLE_LOCK) as conn:
        person = (
            conn.execute(select(store.people).where(store.people.c.id == contact.person)).mappings().first()
        )
        if person is None:
            raise _refuse("unknown_person", f"没有登录名为“{contact.person}”的人员", value=contact.person)
        before = conn.execute(select(store.contacts).where(store.contacts.c.person == contact.person)).first()
        values = {k: v for k, v in contact.to_dict().items() if k != "person" and v is not None}
        if before is None:
            conn.execute(
                store.contacts.insert().values(person=contact.person, **values, updated_at=utc_stamp())
            )
        else:
            conn.execute(update(store.contacts).where(store.contacts.c.person == contact.person)
                         .values(**values, updated_at=utc_stamp()))  # fmt: skip
    record_event(settings, kind="people.contact_changed", actor=by, agency=person["agency"],
                 subject=f"person/{contact.person}", payload={"channels": sorted(values)})  # fmt: skip
    return contacts(settings, [contact.person])[contact.person]


def deactivate(settings: Settings, person_id: str, *, by: str) -> Person:
    with store.write_transaction(settings, PEOPLE_LOCK) as conn:
        row = conn.execute(select(store.people).where(store.people.c.id == person_id)).mappings().first()
        if row is None:
            raise _refuse("unknown_person", f"没有登录名为“{person_id}”的人员", value=person_id)
        offices = _offices(conn)
        conn.execute(
            update(store.people)
            .where(store.people.c.id == person_id)
            .values(active=0, updated_at=utc_stamp())
        )
        _keep_an_office(conn, person_id, row["name"], before=offices, first=False)
    record_event(settings, kind="people.deactivated", actor=by, agency=row["agency"], subject=f"person/{person_id}",
                 payload={"name": row["name"]})  # fmt: skip
    return _person({**row, "active": 0})
