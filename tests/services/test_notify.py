"""Reminders that really go out (催报, issue 13): through a real SMTP server and a robot-webhook receiver on
127.0.0.1 started here, a reminder reaches the steward exactly once before a due date on the PRC calendar (the
National Day holiday moves it), an escalation reaches the steward and the office once after it, a digest once a day,
and a delivery that failed is retried later without a duplicate."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml
from aiosmtpd.controller import Controller

from govhub import store

AGENCIES = {
    "agencies": [
        {"id": "mzj", "name": "松江区民政局", "uscc": "11310117002425109R",
         "steward": {"name": "王静怡", "phone": "021-57800000", "email": "wangjingyi@example.gov.cn"}},
        {"id": "kw", "name": "松江区科委", "uscc": "11310117002431867C", "coordinator": True,
         "steward": {"name": "赵强", "phone": "021-57800001", "email": "zhaoqiang@example.gov.cn"}},
    ]
}  # fmt: skip
RESOURCE = {
    "id": "shjz", "code": "204001001/000001", "name": "社会救助对象信息", "summary": "测试用填报资源", "agency": "mzj",
    "class": "thematic", "share": {"type": "unconditional"}, "cycle": "monthly",
    "delivery": {"method": "sheet"}, "status": "published", "published_on": "2026-01-05",
    "fields": [{"name": "id_number", "label": "公民身份号码", "semantic": "cn_id", "required": True}],
    "primary_key": ["id_number"],
}  # fmt: skip
FEED = "remind:feed:mzj/shjz:2026-09"
ESCALATION = "escalate:feed:mzj/shjz:2026-09"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Mailbox:
    """What the local SMTP server received: (recipients, subject)."""

    messages: list[tuple[list[str], str]] = field(default_factory=list)

    async def handle_DATA(self, server, session, envelope):  # aiosmtpd's handler hook
        from email import message_from_bytes, policy

        subject = message_from_bytes(envelope.original_content, policy=policy.default)["Subject"]
        self.messages.append((list(envelope.rcpt_tos), str(subject)))
        return "250 OK"

    def to(self, address: str) -> list[str]:
        return [subject for rcpt, subject in self.messages if address in rcpt]


@pytest.fixture
def smtp() -> Iterator[tuple[Mailbox, int]]:
    box, port = Mailbox(), _free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    yield box, port
    controller.stop()


@pytest.fixture
def robot() -> Iterator[tuple[list[dict], str]]:
    """A WeCom/DingTalk-style group robot: takes JSON, answers errcode 0."""
    received: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            body = b'{"errcode": 0, "errmsg": "ok"}'
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield received, f"http://127.0.0.1:{server.server_address[1]}/cgi-bin/webhook/send?key=test"
    server.shutdown()


@pytest.fixture
def hub(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, govhub, smtp) -> Path:
    """A one-feed hub (monthly fill-in sheet) whose August was declared: September is the period owed."""
    catalog = tmp_path / "catalog"
    (catalog / "mzj").mkdir(parents=True)
    (catalog / "agencies.yaml").write_text(yaml.safe_dump(AGENCIES, allow_unicode=True), encoding="utf-8")
    (catalog / "mzj" / "shjz.yaml").write_text(yaml.safe_dump(RESOURCE, allow_unicode=True), encoding="utf-8")
    home = tmp_path / "home"
    for name in ("GOVHUB_STATE_URL", "GOVHUB_ALERT_WEBHOOK"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("GOVHUB_HOME", str(home))
    monkeypatch.setenv("GOVHUB_CATALOG", str(catalog))
    monkeypatch.setenv("GOVHUB_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("GOVHUB_SMTP_PORT", str(smtp[1]))
    monkeypatch.setenv("GOVHUB_SMTP_FROM", "govhub@songjiang.example")
    # in service since January: --as-of re-runs only days the hub has lived through (the tests replay September)
    assert govhub("init", "--home", home, "--catalog", catalog, "--in-service-since", "2026-01-01").code == 0
    for args in (("zhaoqiang", "--name", "赵强", "--agency", "kw", "--role", "office", "--by", "installer"),
                 ("wangjingyi", "--name", "王静怡", "--agency", "mzj", "--role", "steward", "--by", "zhaoqiang")):  # fmt: skip
        assert govhub("people", "add", *args).code == 0
    done = govhub("zero-update", "mzj/shjz", "--period", "2026-08", "--by", "wangjingyi")
    assert done.code == 0, done.err
    yield home
    store.dispose_engines()


def notify(govhub, day: str) -> dict:
    run = govhub("notify", "run", "--as-of", day, "--json", "--by", "system:sensor")
    assert run.code in (0, 1), run.err
    return json.loads(run.out)


def test_a_reminder_goes_out_once_before_the_due_date_and_an_escalation_once_after_it(
    hub, govhub, smtp, robot
) -> None:
    box, _ = smtp
    received, url = robot
    assert govhub("people", "contact", "wangjingyi", "--email", "wangjingyi@mzj.example",
                  "--webhook", url, "--by", "zhaoqiang").code == 0  # fmt: skip
    assert (
        govhub("people", "contact", "zhaoqiang", "--email", "zhaoqiang@kw.example", "--by", "zhaoqiang").code
        == 0
    )

    # September is due on 9 October: 1–7 October are the National Day holiday on the PRC calendar
    assert notify(govhub, "2026-09-29")["reminded"] == []  # 3 working days left: not yet
    first = notify(govhub, "2026-09-30")  # 2 working days left (8 and 9 October)
    assert first["reminded"] == [FEED]
    reminders = [s for s in box.to("wangjingyi@mzj.example") if s.startswith("提醒")]
    assert reminders == [
        "提醒：「社会救助对象信息」（204001001/000001）2026-09 期数据须于 2026-10-09 前报送（还有 2 个工作日）"
    ]
    assert [
        m["text"]["content"].splitlines()[0] for m in received if m["text"]["content"].startswith("提醒")
    ] == reminders
    assert box.to("zhaoqiang@kw.example") == []  # the office is not bothered before the deadline

    for day in ("2026-09-30", "2026-10-05", "2026-10-08", "2026-10-09"):  # ticks again, through the holiday
        again = notify(govhub, day)
        assert again["reminded"] == [] and again["escalated"] == []  # not overdue while the holiday lasts
    assert len([s for s in box.to("wangjingyi@mzj.example") if s.startswith("提醒")]) == 1

    late = notify(govhub, "2026-10-12")
    assert late["escalated"] == [ESCALATION] and late["undelivered"] == []
    escalations = [s for s in box.to("zhaoqiang@kw.example") if s.startswith("逾期")]
    assert len(escalations) == 1 and "应于 2026-10-09 前报送" in escalations[0]
    assert len([s for s in box.to("wangjingyi@mzj.example") if s.startswith("逾期")]) == 1
    assert notify(govhub, "2026-10-13")["escalated"] == []  # once
    assert len([s for s in box.to("zhaoqiang@kw.example") if s.startswith("逾期")]) == 1

    digests = [s for s in box.to("wangjingyi@mzj.example") if s.startswith("每日待办")]
    assert len(digests) == len({s.split("）")[0] for s in digests})  # at most one a day


def test_a_failed_delivery_is_recorded_and_retried_later_without_a_duplicate(
    hub, govhub, smtp, monkeypatch
) -> None:
    box, port = smtp
    assert (
        govhub(
            "people", "contact", "wangjingyi", "--email", "wangjingyi@mzj.example", "--by", "zhaoqiang"
        ).code
        == 0
    )
    monkeypatch.setenv("GOVHUB_SMTP_PORT", str(_free_port()))  # the mail server is down
    down = notify(govhub, "2026-09-30")
    # what failed on its first try is reported as such (not only what failed on a retry)
    assert (
        down["reminded"] == [FEED]
        and f"{FEED}|wangjingyi|email" in down["undelivered"]
        and box.messages == []
    )
    assert down["given_up"] == []
    with _engine(hub) as conn:
        row = (
            conn.execute(store.notices.select().where(store.notices.c.key == f"{FEED}|wangjingyi|email"))
            .mappings()
            .one()
        )
    assert row["status"] == "failed" and row["attempts"] == 1 and "Error" in row["error"]

    monkeypatch.setenv("GOVHUB_SMTP_PORT", str(port))  # back up: the next run delivers it, once
    up = notify(govhub, "2026-09-30")
    assert f"{FEED}|wangjingyi|email" in up["retried"] and up["reminded"] == [] and up["undelivered"] == []
    assert notify(govhub, "2026-10-01")["retried"] == []
    assert len([s for s in box.to("wangjingyi@mzj.example") if s.startswith("提醒")]) == 1


def test_a_notice_failing_every_try_is_given_up_and_said_so(hub, govhub, smtp, monkeypatch) -> None:
    from govhub.governance.notices import MAX_ATTEMPTS

    assert govhub("people", "contact", "wangjingyi", "--email", "wangjingyi@mzj.example",
                  "--by", "zhaoqiang").code == 0  # fmt: skip
    monkeypatch.setenv("GOVHUB_SMTP_PORT", str(_free_port()))  # the mail server stays down
    key = f"{FEED}|wangjingyi|email"
    said = govhub(
        "notify", "run", "--as-of", "2026-09-30", "--by", "system:sensor"
    )  # as an operator reads it
    reminded = [line for line in said.out.splitlines() if line.startswith("  - ")]
    assert said.code == 1 and reminded and not any(FEED in line for line in reminded[:1]), said.out
    assert key in notify(govhub, "2026-09-30")["undelivered"]
    from govhub.config import get_settings

    with store.engine(get_settings(hub)).begin() as conn:  # as after MAX_ATTEMPTS - 1 failed runs
        conn.execute(
            store.notices.update().where(store.notices.c.key == key).values(attempts=MAX_ATTEMPTS - 1)
        )
    last = govhub("notify", "run", "--as-of", "2026-09-30", "--by", "system:sensor")
    assert last.code == 1 and "不再重发" in last.out and key in last.out
    report = notify(govhub, "2026-09-30")
    assert report["given_up"] == [key] and key not in report["undelivered"] and report["retried"] == []
    with _engine(hub) as conn:
        row = conn.execute(store.notices.select().where(store.notices.c.key == key)).mappings().one()
    assert row["attempts"] == MAX_ATTEMPTS and row["status"] == "failed"  # not tried again


def _engine(home: Path):
    from govhub.config import get_settings

    return store.engine(get_settings(home)).connect()


def test_a_future_day_is_refused_it_would_send_now_and_keep_the_notices_as_sent(hub, govhub, smtp) -> None:
    import datetime as dt

    from govhub.clock import today_in_beijing
    from govhub.config import get_settings

    box, _ = smtp
    later = (today_in_beijing() + dt.timedelta(days=40)).isoformat()
    run = govhub("notify", "run", "--as-of", later, "--by", "system:sensor")
    # a usage error, said by the CLI (the service refuses it too, for its other callers)
    assert run.code == 2 and "不能按未来日期" in run.err and box.messages == []
    with store.engine(get_settings(hub)).connect() as conn:
        assert conn.execute(store.notices.select()).first() is None


def test_the_service_itself_refuses_a_day_before_the_hub_went_into_service(hub, smtp) -> None:
    """The rule holds for every caller (the Dagster sensor, a script), not only for the CLI."""
    import dataclasses
    import datetime as dt

    from govhub.catalog.load import require_catalog
    from govhub.config import get_settings
    from govhub.problems import GovhubError
    from govhub.services.notify import run_notifications

    settings = dataclasses.replace(get_settings(hub), in_service_since=dt.date(2026, 6, 1))
    with pytest.raises(GovhubError) as caught:
        run_notifications(settings, require_catalog(settings.catalog_dir), as_of=dt.date(2026, 5, 31))
    assert caught.value.problems[0].code == "notify.before_in_service" and smtp[0].messages == []
    assert run_notifications(settings, require_catalog(settings.catalog_dir), as_of=dt.date(2026, 6, 1)).ok


def test_someone_without_contact_details_is_still_noticed_once_in_the_log(hub, govhub, smtp) -> None:
    assert notify(govhub, "2026-09-30")["reminded"] == [FEED]
    assert notify(govhub, "2026-09-30")["reminded"] == []
    lines = [json.loads(x) for x in (hub / "state" / "notices.log").read_text(encoding="utf-8").splitlines()]
    assert [x["to"] for x in lines if x["key"] == FEED] == [["wangjingyi"]]
    assert smtp[0].messages == []


def test_the_mail_servers_password_is_used_and_kept_nowhere(hub, govhub, monkeypatch) -> None:
    """GOVHUB_SMTP_PASSWORD reaches the mail server's AUTH (accepted: delivered; refused: recorded as undelivered) and
    nothing else: not the notices table, the event log, the hub's files or anything printed."""
    import secrets as tokens

    from aiosmtpd.smtp import AuthResult

    password, tried = "smtp-" + tokens.token_hex(12), []

    def authenticate(server, session, envelope, mechanism, auth_data):  # aiosmtpd's authenticator hook
        tried.append(auth_data.password.decode())
        return AuthResult(success=auth_data.password.decode() == password)

    box, port = Mailbox(), _free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port, authenticator=authenticate,
                            auth_require_tls=False, auth_required=True)  # fmt: skip
    controller.start()
    try:
        assert (
            govhub("people", "contact", "wangjingyi", "--email", "w@mzj.example", "--by", "zhaoqiang").code
            == 0
        )
        monkeypatch.setenv("GOVHUB_SMTP_PORT", str(port))
        monkeypatch.setenv("GOVHUB_SMTP_USER", "govhub")
        monkeypatch.setenv("GOVHUB_SMTP_PASSWORD", "wrong-" + password)
        refused = govhub("notify", "run", "--as-of", "2026-09-30", "--json", "--by", "system:sensor")
        assert refused.code == 1 and box.messages == []
        monkeypatch.setenv("GOVHUB_SMTP_PASSWORD", password)
        sent = govhub("notify", "run", "--as-of", "2026-09-30", "--json", "--by", "system:sensor")
        assert sent.code == 0 and box.to("w@mzj.example") and set(tried) == {"wrong-" + password, password}
    finally:
        controller.stop()
    store.dispose_engines()
    places = {str(p): p.read_bytes() for p in hub.rglob("*") if p.is_file()}
    places["printed"] = (refused.out + refused.err + sent.out + sent.err).encode()
    assert len(places) >= 4 and any(b"w@mzj.example" in blob for blob in places.values())  # the search bites
    assert [name for name, blob in places.items() if password.encode() in blob] == []


def test_a_robots_key_is_kept_in_the_contact_details_alone(hub, govhub, caplog) -> None:
    """A robot webhook that refuses (HTTP 500): the failure is recorded and retried, and the key in its URL — which
    httpx's error quotes — appears in no notice's error, log line, event or printed output."""
    import logging
    import secrets as tokens

    from govhub.config import get_settings
    from govhub.events import list_events

    key = tokens.token_hex(16)

    class Refusing(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers["Content-Length"]))
            self.send_response(500)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Refusing)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/cgi-bin/webhook/send?key={key}"
    caplog.set_level(logging.DEBUG)
    try:
        assert govhub("people", "contact", "wangjingyi", "--webhook", url, "--by", "zhaoqiang").code == 0
        run = govhub("notify", "run", "--as-of", "2026-09-30", "--json", "--by", "system:sensor")
    finally:
        server.shutdown()
    assert run.code == 1 and f"{FEED}|wangjingyi|webhook" in json.loads(run.out)["undelivered"]
    with _engine(hub) as conn:
        rows = (
            conn.execute(store.notices.select().where(store.notices.c.channel == "webhook")).mappings().all()
        )
        contact = (
            conn.execute(store.contacts.select().where(store.contacts.c.person == "wangjingyi"))
            .mappings()
            .one()
        )
    assert rows and all(
        r["status"] == "failed" and "500" in r["error"] and "/***" in r["error"] for r in rows
    )
    assert contact["webhook"] == url  # its home: the person's contact details
    store.dispose_engines()
    settings = get_settings(hub)
    shown = [
        *(r["error"] for r in rows),
        run.out,
        run.err,
        caplog.text,
        *(json.dumps(e.payload) for e in list_events(settings)),
    ]
    shown += [p.read_text(encoding="utf-8") for p in (hub / "state").glob("*.log")]
    assert [text[:200] for text in shown if key in text] == []
