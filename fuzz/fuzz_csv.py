"""CSV bytes → the sheet reader (encoding detection, pyarrow parsing, header location and matching, typing)."""

from __future__ import annotations

import sys
from pathlib import Path

import atheris

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
with atheris.instrument_imports(include=["govhub"]):
    from govhub.connectors.sheet import head_rows, read_sheet
    from govhub.problems import GovhubError

import contextlib

from fuzz.harness import fuzz, resource, scratch_file

RESOURCE = resource()
PATH = scratch_file("s.csv")


def test_one_input(data: bytes) -> None:
    PATH.write_bytes(data)
    head_rows(PATH)
    with contextlib.suppress(GovhubError):
        read_sheet(RESOURCE, PATH, filename="就业登记.csv")


if __name__ == "__main__":
    fuzz(test_one_input)
