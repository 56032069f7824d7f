"""A handful of the hostile corpus through the portal's upload route (the web server's own process, unlike the CLI's
child): the same Chinese refusals, no traceback or internal name on the page, the server alive and its memory flat."""

from __future__ import annotations

import time

import pytest

from tests.hostile.corpus import corpus, sample
from tests.hostile.runner import INTERNAL, TIME_LIMIT_S
from tests.peak import peak_growth
from tests.portal.conftest import STEWARD, Portal, csrf, portal  # noqa: F401 — the module's portal fixture

THROUGH_THE_PORTAL = {
    "xlsx-far-corner-cell-XFD1048576": "超过系统可读取的",  # aborted the process before the workbook guard
    "xlsx-shared-strings-claims-2-billion": "共享字符串表声明有",  # likewise
    "xlsx-row-number-out-of-range": "超出Excel的范围",
    "xlsx-lower-case-column-letters": "超出Excel的范围",  # found by fuzz_xlsx: a 4.8 TB allocation, an abort
    "xlsx-zip-bomb-ratio": "解压后",
    "xlsx-zip-directory-lies-about-size": "无法读取",
    "xlsx-corrupt-deflate-stream": "无法读取",  # was a zlib.error traceback
    "xls-really-html-table": "网页（HTML）表格",
    "csv-mixed-utf8-and-gbk": "无法识别的字节",
    "csv-10MB-cell": "超过了Excel单元格的上限",
    "name-control-characters": "已拒收",  # another resource's sheet; the name shown without its escape codes
}


@pytest.mark.parametrize("name", sorted(THROUGH_THE_PORTAL))
def test_a_hostile_upload_through_the_portal_is_refused_in_chinese(portal: Portal, name: str) -> None:  # noqa: F811
    case = next(c for c in corpus() if c.name == name)
    data = case.build(sample())
    c = portal.sign_in(STEWARD)
    started = time.monotonic()
    with peak_growth() as grown:
        r = c.post("/agencies/mzj/resources/shjz/upload", data={"_csrf_token": csrf(c)},
                   files={"sheet": (case.filename, data, "application/octet-stream")})  # fmt: skip
    seconds, grown_mb = time.monotonic() - started, grown.mb
    assert r.status_code == 200 and "已拒收" in r.text, r.text[-2000:]
    assert THROUGH_THE_PORTAL[name] in r.text
    assert not INTERNAL.search(r.text), INTERNAL.search(r.text)
    assert "\x1b" not in r.text and "\x01" not in r.text
    assert seconds < TIME_LIMIT_S and grown_mb < 300, (seconds, grown_mb)
    assert c.get("/signin").status_code in (200, 302, 303)  # the server is still there
