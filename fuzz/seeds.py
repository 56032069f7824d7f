"""Seed corpora for the harnesses, written from the hostile corpus generator (tests/hostile/corpus.py) and the repo's
catalog, so each harness starts from files that already reach deep into the code."""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PARTS = [
    "xl/worksheets/sheet1.xml",
    "xl/sharedStrings.xml",
    "xl/workbook.xml",
    "xl/styles.xml",
    "xl/_rels/workbook.xml.rels",
    "docProps/custom.xml",
]
MAX_SEED = 256 << 10  # libFuzzer mutates small inputs well; the bombs stay in tests/hostile


def good_parts() -> dict[str, bytes]:
    from tests.hostile.corpus import parts, sample, xlsx

    members = parts(xlsx(sample()))
    members.setdefault("docProps/custom.xml", b"")
    return members


def _write(folder: Path, data: bytes) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / hashlib.sha1(data).hexdigest()).write_bytes(data)


def write_seeds(root: Path) -> dict[str, Path]:
    """One folder of seeds per harness under `root`; returns harness name → folder."""
    from tests.hostile.corpus import corpus, parts, sample

    g = sample()
    folders = {name: root / name for name in ("csv", "xlsx", "encoding", "headers", "catalog", "row_filter")}
    for case in corpus():
        if case.slow or case.name in {"xlsx-zip-bomb-ratio", "csv-all-nul-bytes"}:
            continue
        data = case.build(g)
        if len(data) > MAX_SEED:
            continue
        if case.kind == "csv":
            _write(folders["csv"], data)
            _write(folders["encoding"], b"\x00" + data[: 16 << 10])
    for i, part in enumerate(PARTS):
        _write(folders["xlsx"], bytes([i]) + good_parts()[part])
    for case in corpus():
        if (
            case.kind == "xlsx"
            and not case.slow
            and case.name.startswith("xlsx-")
            and "bomb" not in case.name
        ):
            try:
                members = parts(case.build(g))
            except Exception:  # not a zip: nothing to seed from
                continue
            for i, part in enumerate(PARTS):
                if part in members and 0 < len(members[part]) <= MAX_SEED:
                    _write(folders["xlsx"], bytes([i]) + members[part])
    for text in ("公民身份号码,姓名", "\ufeff公民身份号码", "姓名（必填）*", "ＩＤ", "就业日期\n", "1.0"):
        _write(folders["headers"], text.encode())
    for path in sorted((ROOT / "catalog").glob("*/*.yaml"))[:40]:
        _write(folders["catalog"], path.read_bytes())
    scopes = [
        [{"field": "deal_type", "in": ["买卖", "赠与"]}],
        [{"field": "registered_on", "between": ["2026-01-01", "2026-06-30"]}],
        [{"field": "price", "between": ["0", "100.5"]}, {"field": "buyer_name", "in": ["O'Brien", "张三"]}],
    ]
    for scope in scopes:
        _write(folders["row_filter"], b"j" + json.dumps(scope, ensure_ascii=False).encode())
    for text in (
        "deal_type in 买卖,赠与",
        "registered_on between 2026-01-01 2026-06-30",
        "price between 1 2",
    ):
        _write(folders["row_filter"], b"t" + text.encode())
    return folders


if __name__ == "__main__":
    for name, folder in write_seeds(
        Path(sys.argv[1] if len(sys.argv) > 1 else ROOT / "fuzz" / ".seeds")
    ).items():
        print(name, len(list(folder.iterdir())))
