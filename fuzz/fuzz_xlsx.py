"""Workbook XML → the sheet reader: one part of a good workbook (the sheet, shared strings, the workbook, styles,
custom properties) replaced by the fuzzer's bytes and zipped, so mutations reach calamine, fastexcel and our own
scans of the XML instead of dying in the zip's checksums. First byte: which part; the rest: its content."""

from __future__ import annotations

import io
import sys
import zipfile
from pathlib import Path

import atheris

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
with atheris.instrument_imports(include=["govhub"]):
    from govhub.connectors.sheet import head_rows, read_sheet
    from govhub.connectors.template import template_props
    from govhub.problems import GovhubError

import contextlib

from fuzz.harness import fuzz, resource, scratch_file
from fuzz.seeds import PARTS, good_parts

RESOURCE = resource()
GOOD = good_parts()
PATH = scratch_file("s.xlsx")


def workbook(data: bytes) -> bytes:
    members = dict(GOOD)
    if data:
        members[PARTS[data[0] % len(PARTS)]] = data[1:]
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as zf:
        for name, content in members.items():
            zf.writestr(name, content)
    return out.getvalue()


def test_one_input(data: bytes) -> None:
    PATH.write_bytes(workbook(data))
    template_props(PATH)
    head_rows(PATH)
    with contextlib.suppress(GovhubError):
        read_sheet(RESOURCE, PATH, filename="就业登记.xlsx")


if __name__ == "__main__":
    fuzz(test_one_input)
