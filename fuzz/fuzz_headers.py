"""Header rows → header matching (normalising, locating, duplicate/unknown/missing columns and their messages)."""

from __future__ import annotations

import sys
from pathlib import Path

import atheris

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
with atheris.instrument_imports(include=["govhub"]):
    from govhub.connectors.headers import match_headers, match_score, normalise_header

from fuzz.harness import fuzz, resource

RESOURCE = resource()


def test_one_input(data: bytes) -> None:
    fdp = atheris.FuzzedDataProvider(data)
    row = fdp.ConsumeIntInRange(1, 12)
    n = fdp.ConsumeIntInRange(0, 40)
    headers: list[object] = []
    for _ in range(n):
        kind = fdp.ConsumeIntInRange(0, 4)
        if kind == 0:
            headers.append(None)
        elif kind == 1:
            headers.append(fdp.ConsumeFloat())
        elif kind == 2:
            headers.append(fdp.ConsumeInt(8))
        else:
            headers.append(fdp.ConsumeUnicode(24))
    flags = [fdp.ConsumeBool() for _ in headers]
    for h in headers:
        normalise_header(h)
    match_score(RESOURCE, headers)
    match = match_headers(RESOURCE, headers, row=row, column_has_data=flags)
    assert all(0 <= i < len(headers) for i in match.columns.values())
    for p in match.problems:
        assert p.message_zh and p.code.startswith("sheet.")


if __name__ == "__main__":
    fuzz(test_one_input)
