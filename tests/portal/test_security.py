"""Security of the running portal (§16): CSRF on every state-changing route, session ids and their end, lock-out,
upload limits, zip bombs, neutralised CSV, response headers."""

from __future__ import annotations

import datetime as dt
import io
import zipfile

import httpx
import pytest

from govhub.events import list_events
from govhub.services.accounts import SIGN_IN_REFUSED_ZH
from govhub.services.sessions import open_sessions
from tests.peak import peak_growth
from tests.portal.conftest import (
    ANALYST,
    CSRF_COOKIE,
    DEMO_PASSWORD,
    OFFICE,
    OTHER_STEWARD,
    SESSION_COOKIE,
    STEWARD,
    Portal,
    csrf,
    page_token,
)
from tests.portal.test_authorization import ANALYSTS, PROVIDERS, TABLE, concrete

STATE_CHANGING = sorted((m, p) for (m, p) in TABLE if m == "POST" and p not in ("/signin", "/signout"))


def post(c: httpx.Client, path: str, token: str | None, *, header: bool = False) -> httpx.Response:
    url = concrete(path, "mzj")
    data = {"period": "", "sql": "SELECT 1", "format": "csv"} | (
        {} if token is None or header else {"_csrf_token": token}
    )
    headers = {"x-csrftoken": token} if header and token else {}
    files = {"sheet": ("a.csv", b"x\n1\n", "text/csv")} if url.endswith("/upload") else None
    return c.post(url, data=data, files=files, headers=headers)


# who may make each state-changing move for mzj (so only CSRF can refuse): the office, except where §13 or §14 says
# the agency's own people act (the provider answers; analysts query)
ACTOR = {PROVIDERS: STEWARD, ANALYSTS: ANALYST}


@pytest.mark.parametrize(("method", "path"), [*STATE_CHANGING, ("POST", "/signout")])
def test_csrf_is_required_on_every_state_changing_route(portal: Portal, method: str, path: str) -> None:
    actor = ACTOR.get(TABLE[(method, path)], OFFICE)
    office = portal.sign_in(actor)
    other = portal.sign_in(STEWARD if actor != STEWARD else OFFICE)
    for token, header in ((None, False), (csrf(other), False), (csrf(other), True), ("forged" * 20, True)):
        r = post(office, path, token, header=header)
        assert r.status_code == 403, (path, token, header, r.status_code)
        assert "安全校验" in r.text
    # another session's cookie AND token together (a planted cookie) is refused too: the token is the session's
    stolen = httpx.Client(base_url=portal.url, cookies={SESSION_COOKIE: office.cookies[SESSION_COOKIE],
                                                         CSRF_COOKIE: csrf(other)})  # fmt: skip
    assert post(stolen, path, csrf(other)).status_code == 403
    stolen.close()
    allowed = post(office, path, csrf(office), header=path != "/signout")
    # past CSRF and the guard: done (200/303), or the request/grant id in the URL names nothing here (404)
    assert allowed.status_code in ((200, 303, 404) if "_id:" in path else (200, 303)), allowed.text[:300]


def test_session_id_changes_at_sign_in_and_dies_at_sign_out(portal: Portal) -> None:
    c = portal.client()
    c.get("/signin")
    planted = (
        "a" * 64
    )  # a session id fixed before sign-in (session fixation) must not become the signed-in one
    c.cookies.set(SESSION_COOKIE, planted, domain="127.0.0.1")
    r = c.post("/signin", data={"login": STEWARD, "password": "Songjiang-2016!", "_csrf_token": csrf(c)})
    assert r.status_code == 303
    signed_in = c.cookies[SESSION_COOKIE]
    assert signed_in not in (planted, "null") and len(signed_in) == 64
    cookie_header = next(h for h in r.headers.get_list("set-cookie") if h.startswith(SESSION_COOKIE))
    assert "HttpOnly" in cookie_header and "samesite=lax" in cookie_header.lower()
    assert c.get("/").status_code == 200
    old = {SESSION_COOKIE: signed_in, CSRF_COOKIE: csrf(c)}
    assert c.post("/signout", data={"_csrf_token": csrf(c)}).status_code == 303
    replay = httpx.Client(base_url=portal.url, cookies=old)
    r = replay.get("/")
    assert r.status_code == 302 and r.headers["location"].startswith("/signin")
    replay.close()
    kinds = [e.kind for e in list_events(portal.settings, kind="session.*", subject=f"person/{STEWARD}")]
    assert "session.signed_in" in kinds and "session.signed_out" in kinds


def test_sessions_expire_when_idle_and_after_their_absolute_lifetime(portal: Portal) -> None:
    c = portal.sign_in(STEWARD)
    portal.clock.advance(portal.config.idle_timeout - dt.timedelta(minutes=1))
    assert c.get("/").status_code == 200  # used in time: the idle clock restarts
    portal.clock.advance(portal.config.idle_timeout + dt.timedelta(seconds=1))
    assert c.get("/").status_code == 302  # idle too long
    c = portal.sign_in(STEWARD)
    signed_in = portal.clock()
    steps = int(portal.config.absolute_timeout / (portal.config.idle_timeout / 2)) + 1
    for _ in range(steps):  # busy all day long, never idle…
        portal.clock.advance(portal.config.idle_timeout / 2)
        listed = open_sessions(portal.settings, STEWARD, actor=STEWARD, at=portal.clock())
        # listed while it opens pages: not once its lifetime is over, though its last page was 15 minutes ago
        assert len(listed) == (portal.clock() - signed_in < portal.config.absolute_timeout)
        last = c.get("/catalog")
        if last.status_code != 200:
            break
    assert last.status_code == 302  # …and still signed out once the absolute lifetime is over
    expired = list_events(portal.settings, kind="session.signed_out", subject=f"person/{STEWARD}")
    assert expired[-1].payload["reason"] == "expired"


def test_lock_out_after_repeated_failures_with_the_same_answer_for_unknown_names(portal: Portal) -> None:
    c = portal.client()
    page = c.get("/signin").text
    answers = []
    for login in ("nobody-at-all", OFFICE, OFFICE, OFFICE, OFFICE, OFFICE):
        r = c.post(
            "/signin", data={"login": login, "password": "not-the-password", "_csrf_token": page_token(page)}
        )
        answers.append((r.status_code, SIGN_IN_REFUSED_ZH in r.text))
    assert set(answers) == {(401, True)}  # an unknown name looks exactly like a wrong password
    # locked now: even the right password is refused, with the same answer
    r = c.post(
        "/signin", data={"login": OFFICE, "password": "Songjiang-2016!", "_csrf_token": page_token(page)}
    )
    assert r.status_code == 401 and SIGN_IN_REFUSED_ZH in r.text
    locked = list_events(portal.settings, kind="session.locked_out", subject=f"person/{OFFICE}")
    assert len(locked) == 1
    failed = list_events(portal.settings, kind="session.sign_in_failed")
    assert {e.payload["reason"] for e in failed} >= {"unknown_person", "wrong_password", "locked"}
    assert all("not-the-password" not in str(e.payload) for e in failed)  # never the password
    portal.clock.advance(portal.config.sign_in.lockout + dt.timedelta(seconds=1))
    assert portal.sign_in(OFFICE)  # the lock-out ends by itself


def test_an_upload_over_the_limit_is_refused_as_it_streams(portal: Portal) -> None:
    c = portal.sign_in(STEWARD)
    url = "/agencies/mzj/resources/shjz/upload"
    limit = portal.config.max_upload_bytes

    def body():  # no Content-Length: the server must count what arrives and stop
        chunk = b"0" * (1 << 20)
        yield b'--b\r\nContent-Disposition: form-data; name="sheet"; filename="big.csv"\r\n\r\n'
        for _ in range(limit // len(chunk) + 8):
            yield chunk

    r = c.post(url, content=body(), headers={"content-type": "multipart/form-data; boundary=b",
                                             "x-csrftoken": csrf(c), "hx-request": "true"})  # fmt: skip
    assert r.status_code == 413 and "文件过大" in r.text
    # announced too large: refused at once, before a byte of the body is read (a raw request: clients would
    # insist on sending what they announced)
    import socket
    from urllib.parse import urlparse

    where = urlparse(portal.url)
    cookies = "; ".join(f"{k}={v}" for k, v in c.cookies.items())
    head = (f"POST {url} HTTP/1.1\r\nHost: {where.netloc}\r\nCookie: {cookies}\r\nx-csrftoken: {csrf(c)}\r\n"
            f"Content-Type: multipart/form-data; boundary=b\r\nContent-Length: {limit + 1}\r\n\r\n")  # fmt: skip
    with socket.create_connection((where.hostname, where.port), timeout=30) as raw:
        raw.sendall(head.encode())
        answer = raw.recv(65536).decode(errors="replace")
    assert answer.startswith("HTTP/1.1 413")
    landed = portal.settings.landing_dir / "mzj"
    assert not landed.exists() or not list(landed.rglob("big*"))


def test_a_zip_bomb_is_refused_without_unpacking_it(portal: Portal) -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        with zf.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as part:
            zero = b"\0" * (1 << 20)
            for _ in range(2048):  # 2 GiB of zeros, ≈2 MB packed
                part.write(zero)
    bomb = buf.getvalue()
    assert len(bomb) < 5 << 20
    c = portal.sign_in(STEWARD)
    with peak_growth() as grown:
        r = c.post("/agencies/mzj/resources/shjz/upload", data={"_csrf_token": csrf(c)},
                   files={"sheet": ("bomb.xlsx", bomb, "application/octet-stream")})  # fmt: skip
    grown_mb = grown.mb
    assert r.status_code == 200 and "解压后" in r.text and "已拒收" in r.text
    assert grown_mb < 300, f"the portal's process grew by {grown_mb:.0f} MB"


def test_every_response_carries_a_strict_content_security_policy(portal: Portal) -> None:
    c = portal.client()
    for r in (c.get("/signin"), c.get("/static/portal.css"), c.get("/no-such-page"), c.post("/signout")):
        csp = r.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
        assert r.headers["x-content-type-options"] == "nosniff"
    assert "Traceback" not in c.get("/no-such-page").text


def test_an_unknown_address_is_a_404_page_with_the_persons_own_header(portal: Portal) -> None:
    signed_in, signed_out = portal.sign_in(STEWARD), portal.client()
    for path in ("/no-such-page", "/catalog/mzj/shjz/more/deep", "/agencies"):
        mine, anyone = signed_in.get(path), signed_out.get(path)
        assert mine.status_code == anyone.status_code == 404, path
        assert "页面不存在" in mine.text and "退出登录" in mine.text and "本机构报送" in mine.text, path
        assert "页面不存在" in anyone.text and "退出登录" not in anyone.text, path
    # the office holds no resources: its menu offers no feeds of its own (an empty page)
    office_home = portal.sign_in(OFFICE).get("/").text
    menu = office_home[office_home.index('aria-label="主菜单"') :].split("</nav>", 1)[0]
    assert "本机构报送" not in menu and "共享协调" in menu and 'href="/office/catalog-changes"' in menu
    steward_home = signed_in.get("/").text
    assert (
        "/office/catalog-changes" not in steward_home.split("</nav>", 1)[0]
    )  # the office's queue, not theirs
    # an agency no catalog holds is not there (404) whatever the page; another agency's is refused in names
    for path in ("/agencies/nosuch/feeds", "/agencies/nosuch/sharing", "/agencies/nosuch/query"):
        assert signed_in.get(path).status_code == 404, path
    r = signed_in.get("/agencies/gaj/feeds")
    assert r.status_code == 403 and "王静怡属于松江区民政局，不能为松江区公安分局上传填报文件" in r.text
    # other methods, the API and the static files keep their own answers
    assert signed_out.post("/no-such-page").status_code in (403, 404, 405)
    r = signed_out.get("/api/v1/no-such")
    assert r.status_code in (401, 404) and r.headers["content-type"].startswith("application/")
    assert signed_out.get("/static/no-such.css").status_code == 404
    # a session ended meanwhile shows no one's header there either
    assert signed_in.post("/signout", data={"_csrf_token": csrf(signed_in)}).status_code in (200, 303)
    assert "退出登录" not in signed_in.get("/no-such-page").text


def test_signing_in_leads_back_to_the_page_asked_for_with_its_filters(portal: Portal) -> None:
    c = portal.client()
    r = c.get("/office/freshness?agency=gaj&state=fresh")
    assert r.status_code == 302
    page = c.get(r.headers["location"])
    assert 'value="/office/freshness?agency=gaj&amp;state=fresh"' in page.text
    r = c.post("/signin", data={"login": OFFICE, "password": DEMO_PASSWORD, "_csrf_token": csrf(c),
                                "next": "/office/freshness?agency=gaj&state=fresh"})  # fmt: skip
    assert r.status_code == 303 and r.headers["location"] == "/office/freshness?agency=gaj&state=fresh"
    for outside in ("//evil.example/x", "https://evil.example/", "/\\evil.example"):  # still no open redirect
        c2 = portal.client()
        c2.get("/signin")
        r = c2.post("/signin", data={"login": OFFICE, "password": DEMO_PASSWORD, "_csrf_token": csrf(c2),
                                     "next": outside})  # fmt: skip
        assert r.headers["location"] == "/", outside


def test_pages_are_kept_by_no_cache_so_back_after_sign_out_shows_nothing(portal: Portal) -> None:
    """A page with people's data (an analyst's query, a steward's feeds) must not come back from the browser's
    cache after 退出登录; the vendored CSS and scripts may be cached."""
    from tests.portal.conftest import ANALYST

    analyst = portal.sign_in(ANALYST)
    for path in ("/", "/agencies/mzj/query", "/catalog"):
        r = analyst.get(path)
        assert r.status_code == 200 and r.headers["cache-control"] == "no-store", path
    assert "no-store" not in portal.client().get("/static/portal.css").headers.get("cache-control", "")


def test_problem_csv_neutralises_formulas(portal: Portal) -> None:
    from govhub.warehouse.reports import csv_cell

    assert csv_cell('=HYPERLINK("http://x","y")') == '\'=HYPERLINK("http://x","y")'
    assert csv_cell("+1") == "'+1" and csv_cell("@SUM(A1)") == "'@SUM(A1)" and csv_cell("张三") == "张三"


def test_a_person_changes_their_own_password_proving_the_current_one(portal: Portal) -> None:
    from govhub.demo.people import DEMO_PASSWORD
    from tests.portal.conftest import REVIEWER

    c = portal.sign_in(REVIEWER)
    assert "修改密码" in c.get("/").text  # reachable from every page
    url, new = "/account/password", "Another-Pass-2026"

    def change(current: str, fresh: str, again: str | None = None) -> httpx.Response:
        return c.post(
            url, data={"_csrf_token": csrf(c), "current": current, "new": fresh, "again": again or fresh}
        )

    wrong = change("not-my-password", new)
    assert "当前密码不正确" in wrong.text and "密码已修改" not in wrong.text
    assert "两次输入的新密码不一致" in change(DEMO_PASSWORD, new, "Another-Pass-2027").text
    assert "至少10个字符" in change(DEMO_PASSWORD, "short").text
    assert (
        c.post(url, data={"current": DEMO_PASSWORD, "new": new, "again": new}).status_code == 403
    )  # no CSRF
    done = change(DEMO_PASSWORD, new)
    assert done.status_code == 200 and "密码已修改" in done.text
    kinds = [
        e.kind for e in list_events(portal.settings, subject=f"person/{REVIEWER}", kind="people.password_*")
    ]
    assert [k for k in kinds if k != "people.password_set"] == [
        "people.password_change_refused",
        "people.password_changed",
    ]
    with pytest.raises(AssertionError):
        portal.sign_in(REVIEWER)  # the old password no longer opens the portal
    again = portal.sign_in(REVIEWER, new)
    assert (
        again.post(
            url,
            data={"_csrf_token": csrf(again), "current": new, "new": DEMO_PASSWORD, "again": DEMO_PASSWORD},
        ).status_code
        == 200
    )  # fmt: skip  (back, for other tests)


def test_a_new_password_ends_every_other_session_of_that_person(portal: Portal) -> None:
    """A password changed because it leaked must shut out whoever used it: every other session of that person ends
    at its next request (recorded), the session that made the change carries on under a NEW id, and a reset by the
    office (`people password`) ends them all."""
    from govhub.demo.people import DEMO_PASSWORD
    from govhub.services.accounts import set_password
    from tests.portal.conftest import REVIEWER

    mine, elsewhere = portal.sign_in(REVIEWER), portal.sign_in(REVIEWER)
    assert mine.get("/").status_code == 200 and elsewhere.get("/").status_code == 200
    before = mine.cookies[SESSION_COOKIE]
    new = "Leaked-Pass-Replaced-1"
    done = mine.post("/account/password",
                     data={"_csrf_token": csrf(mine), "current": DEMO_PASSWORD, "new": new, "again": new})  # fmt: skip
    assert (
        done.status_code == 200
        and "密码已修改" in done.text
        and "其他浏览器或设备上的登录已全部退出" in done.text
    )
    assert mine.cookies[SESSION_COOKIE] != before  # a new session id after the change…
    replay = httpx.Client(base_url=portal.url, cookies={SESSION_COOKIE: before})
    assert replay.get("/").status_code == 302  # …and the old one opens nothing
    replay.close()
    assert mine.get("/").status_code == 200  # still signed in here…
    stale = elsewhere.get("/")
    assert stale.status_code == 302 and stale.headers["location"].startswith("/signin")  # …and nowhere else
    ended = list_events(portal.settings, kind="session.signed_out", subject=f"person/{REVIEWER}")
    assert ended[-1].payload["reason"] == "password_changed"
    # the office resets it (the CLI's `people password`): every session ends, the changer's own included
    set_password(portal.settings, REVIEWER, DEMO_PASSWORD, actor=OFFICE, at=portal.clock())
    assert mine.get("/").status_code == 302
    assert portal.sign_in(REVIEWER).get("/").status_code == 200


def test_a_session_from_before_sessions_were_sealed_ends_as_such(portal: Portal) -> None:
    """A session a portal without seals opened (no `seal` in it) ends at its next request, recorded as `upgraded`
    — not as a password change nobody made."""
    import json

    from sqlalchemy import select

    from govhub import store
    from govhub.portal.sessions import session_key

    c = portal.sign_in(STEWARD)
    t = store.web_sessions
    key = session_key(c.cookies[SESSION_COOKIE])
    with store.write_transaction(portal.settings, "test") as conn:
        data = json.loads(conn.execute(select(t.c.data).where(t.c.key == key)).scalar_one())
        assert data.pop("seal")
        conn.execute(t.update().where(t.c.key == key).values(data=json.dumps(data)))
    assert c.get("/").status_code == 302
    ended = list_events(portal.settings, kind="session.signed_out", subject=f"person/{STEWARD}")
    assert ended[-1].payload["reason"] == "upgraded"


WINDOWS_CHROME = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36"
ANDROID_FIREFOX = "Mozilla/5.0 (Android 14; Mobile; rv:133.0) Gecko/133.0 Firefox/133.0"


def test_a_person_sees_where_they_are_signed_in_and_ends_the_other_sessions(portal: Portal) -> None:
    """A steward who left a shared computer signed in: the sessions page lists both sessions (when, from where, which
    browser; this one marked), ending the others shuts the other browser out at its next request, recorded, while
    this one carries on."""
    laptop = portal.sign_in(OTHER_STEWARD, agent=WINDOWS_CHROME)
    phone = portal.sign_in(OTHER_STEWARD, agent=ANDROID_FIREFOX)
    assert phone.get("/").status_code == 200
    listed = laptop.get("/account/sessions")
    assert listed.status_code == 200 and "登录设备" in laptop.get("/").text  # reachable from every page
    assert "Chrome（Windows）" in listed.text and "Firefox（Android）" in listed.text
    assert listed.text.count('class="session') == 2 and listed.text.count("本浏览器</strong>") == 1
    assert "127.0.0.1" in listed.text
    done = laptop.post("/account/sessions/end-others", data={"_csrf_token": csrf(laptop)})
    assert done.status_code == 200 and "已退出其他 1 处登录" in done.text
    lost = phone.get(
        "/no-such-page"
    )  # its row is kept, marked ended: a page no route draws names no one either
    assert lost.status_code == 404 and "退出登录" not in lost.text and "陆建华" not in lost.text
    shut_out = phone.get("/")
    assert shut_out.status_code == 302 and shut_out.headers["location"].startswith("/signin")
    assert laptop.get("/").status_code == 200
    after = laptop.get("/account/sessions").text
    assert after.count('class="session') == 1 and 'id="end-others" disabled' in after
    ended = list_events(portal.settings, kind="session.ended", subject=f"person/{OTHER_STEWARD}")[-1]
    assert ended.payload == {"sessions": 1, "kept_own": True} and ended.actor == "陆建华"


def test_the_office_lists_and_ends_a_persons_sessions_and_deactivation_ends_them_too(
    portal: Portal, capsys: pytest.CaptureFixture[str]
) -> None:
    """A lost laptop: the office sees where someone is signed in (`people sessions`) and ends it all (`people
    sign-out`); another steward may do neither; deactivating a person ends their sessions at once."""
    import json

    from govhub.cli.main import main
    from govhub.services.people import deactivate_person, register_person
    from govhub.services.sessions import open_sessions

    def cli(*argv: str) -> tuple[int, str, str]:
        code = main(
            ["--home", str(portal.settings.home), "--catalog", str(portal.settings.catalog_dir), *argv]
        )
        out, err = capsys.readouterr()
        return code, out, err

    lost = portal.sign_in(OTHER_STEWARD, agent=WINDOWS_CHROME)
    code, out, _ = cli("people", "sessions", OTHER_STEWARD, "--by", OFFICE, "--json")
    assert code == 0 and "Chrome（Windows）" in [s["browser"] for s in json.loads(out)]
    code, _, err = cli("people", "sign-out", OTHER_STEWARD, "--by", STEWARD)
    assert (
        code == 1 and "协调办公室" in err and "Traceback" not in err
    )  # a steward cannot end another's sessions
    assert lost.get("/").status_code == 200
    code, out, _ = cli("people", "sign-out", OTHER_STEWARD, "--by", OFFICE)
    assert code == 0 and "已结束 lujianhua 在门户的" in out
    assert lost.get("/").status_code == 302
    code, out, _ = cli("people", "sessions", OTHER_STEWARD, "--by", OFFICE)
    assert code == 0 and "目前没有登录门户" in out

    portal.sign_in(OTHER_STEWARD)
    person = deactivate_person(portal.settings, OTHER_STEWARD, actor=OFFICE)
    try:  # its row ended at once (the portal would also turn a deactivated person away at the next request)
        assert open_sessions(portal.settings, OTHER_STEWARD, actor=OFFICE, at=portal.clock()) == []
    finally:
        register_person(
            portal.settings,
            person.id,
            name=person.name,
            agency=person.agency,
            roles=list(person.roles),
            actor=OFFICE,
            update=True,
        )  # fmt: skip  (back, for other tests)


def test_the_delivery_historys_page_parameter_takes_only_a_number(portal: Portal) -> None:
    """`deliver?before=` pages the history back; anything but a number shows the latest page, never an error."""
    c = portal.sign_in(STEWARD)
    base = "/agencies/mzj/resources/shjz/deliver"
    for junk in ("abc", "-1", "1e9", "9" * 40, "1;DROP TABLE events", "²", "①", "١٢"):
        r = c.get(base, params={"before": junk})
        assert r.status_code == 200 and "最新的报送记录" not in r.text, junk
    older = c.get(base, params={"before": "1"})
    assert (
        older.status_code == 200
        and "本资源报送记录（较早的）" in older.text
        and "最新的报送记录" in older.text
    )


def test_a_response_still_running_when_its_session_ended_cannot_save_it_again(portal: Portal) -> None:
    """The race of "end the other sessions" with a request of one of them already running: its response saves the
    session as every response does — and must not bring the ended session back."""
    import anyio

    from govhub.portal.sessions import WebSessionStore
    from govhub.services.sessions import end_sessions

    phone = portal.sign_in(OTHER_STEWARD, agent=ANDROID_FIREFOX)
    session_id = phone.cookies[SESSION_COOKIE]
    sessions = WebSessionStore(portal.settings, portal.clock)
    loaded = anyio.run(sessions.get, session_id)  # the running request has loaded it…
    assert loaded is not None
    assert end_sessions(portal.settings, OTHER_STEWARD, actor=OFFICE, at=portal.clock()) >= 1  # …it is ended…
    anyio.run(sessions.set, session_id, loaded, dt.timedelta(minutes=30))  # …and its response saves it
    assert anyio.run(sessions.get, session_id) is None
    assert phone.get("/").status_code == 302


def test_people_list_says_who_signed_in_when_and_finds_accounts_left_unused(
    portal: Portal, capsys: pytest.CaptureFixture[str]
) -> None:
    """Account hygiene (等保: unused accounts are to be found and disabled): `people list` shows each person's last
    portal sign-in, and `--idle-days N` the active people with none in N days."""
    import json

    from govhub.cli.main import main

    def people(*more: str) -> list[dict]:
        home, catalog = str(portal.settings.home), str(portal.settings.catalog_dir)
        assert main(["--home", home, "--catalog", catalog, "people", "list", "--json", *more]) == 0
        return json.loads(capsys.readouterr().out)

    from govhub.events import utc_stamp

    portal.sign_in(STEWARD)
    everyone = {p["id"]: p for p in people()}
    assert everyone[STEWARD]["last_signed_in_at"] and everyone[STEWARD]["last_signed_in_at"].endswith("Z")
    never = [pid for pid, p in everyone.items() if p["last_signed_in_at"] is None]
    assert never, "some demo people never signed in during this module"
    cutoff = utc_stamp(dt.datetime.now(dt.UTC) - dt.timedelta(days=1))  # the portal's clock may run ahead
    idle = {p["id"] for p in people("--idle-days", "1")}
    assert STEWARD not in idle and set(never) <= idle
    assert idle == {
        pid for pid, p in everyone.items() if p["active"] and (p["last_signed_in_at"] or "") < cutoff
    }


def test_a_refused_deliverys_check_reads_as_one_sentence_in_chinese(portal: Portal, tmp_path) -> None:
    """The resource page's last check after a sheet without a column: the checks not run leave no empty "；；", and
    an outcome without a verdict is said in Chinese, not as the event's kind."""
    import re

    import openpyxl

    from govhub.catalog.load import require_catalog
    from tests.conftest import deliver

    sheet = tmp_path / "社会救助-少一列.xlsx"
    wb = openpyxl.load_workbook(portal.settings.home / "demo" / "sheets" / "mzj" / "shjz.xlsx")
    wb.worksheets[0].delete_cols(2)
    wb.save(sheet)
    resource = require_catalog(portal.settings.catalog_dir).resource("mzj/shjz")
    deliver(portal.settings, resource, upload=sheet, actor=STEWARD)
    page = portal.sign_in(STEWARD).get("/catalog/mzj/shjz")
    said = re.search(r"最近一次质量检查</dt><dd[^>]*>(.*?)</dd>", page.text, re.S).group(1)
    assert "与目录不一致" in said and "；；" not in said and not said.rstrip().endswith("；"), said
    assert "load." not in said, said


def test_signing_in_needs_the_pages_own_token_no_login_csrf(portal: Portal) -> None:
    """Login CSRF: a page elsewhere must not sign a browser in as the attacker (whose later uploads or requests the
    victim would then make under the attacker's name). Without the sign-in page's token, or with another browser's,
    the right password is refused and no session is opened."""
    from govhub.demo.people import DEMO_PASSWORD

    attacker = portal.client()
    attacker.get("/signin")
    for token, fresh in ((None, True), (csrf(attacker), True), ("forged" * 20, False)):
        victim = portal.client()
        if not fresh:
            victim.get("/signin")
        data = {"login": STEWARD, "password": DEMO_PASSWORD} | ({"_csrf_token": token} if token else {})
        r = victim.post("/signin", data=data)
        assert r.status_code == 403 and "安全校验" in r.text, (token, r.status_code)
        assert victim.get("/").status_code == 302  # still signed out
