"""Bytes → the encoding detector and decoders (whole-file detection, GB18030 column decoding, error messages)."""

from __future__ import annotations

import sys
from pathlib import Path

import atheris

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
with atheris.instrument_imports(include=["govhub"]):
    import pyarrow as pa

    from govhub.connectors.encoding import decode_error, decode_gb18030_column, decode_text, detect_encoding
    from govhub.problems import GovhubError

from fuzz.harness import fuzz

DECLARED = ["auto", "utf-8", "utf-8-sig", "gb18030", "gbk", "gb2312"]


def test_one_input(data: bytes) -> None:
    declared = DECLARED[data[0] % len(DECLARED)] if data else "auto"
    body = data[1:]
    try:
        encoding = detect_encoding(body, declared)
        text = decode_text(body, declared)
        assert isinstance(text, str), encoding
    except GovhubError:
        pass
    decode_error(body, "gb18030", declared=declared)
    decode_error(body, "utf-8", declared=declared)
    column = pa.array(body.split(b","), pa.binary())
    decoded = decode_gb18030_column(column, 10)
    if decoded is not None:
        assert len(decoded) == len(column)


if __name__ == "__main__":
    fuzz(test_one_input)
