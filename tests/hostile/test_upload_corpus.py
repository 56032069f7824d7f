"""Every case of the hostile corpus (tests/hostile/corpus.py) through the real `govhub upload`, each in a process of
its own (forked from one that has govhub imported; the biggest cases start cold, as a user's command does) against a hub whose resource holds a good snapshot: refused with its specific Chinese problem (or loaded as
the good rows), within 30 s and 1 GB, no traceback or internal name, exit code as the CLI's table says, the good
snapshot still current and the file landed byte for byte."""

from __future__ import annotations

import hashlib
import json
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from govhub.warehouse.landing import Landing
from govhub.warehouse.snapshots import current_snapshot_id
from tests.hostile.conftest import HostileHub
from tests.hostile.corpus import Case, corpus
from tests.hostile.runner import INTERNAL, MEMORY_LIMIT_MB, TIME_LIMIT_S, Upload, Zygote, upload
from tests.services.test_ingest import SHEET_CODE

CJK = re.compile(r"[\u4e00-\u9fff]")
QUICK = [c for c in corpus() if not c.slow]
SLOW = [c for c in corpus() if c.slow]
WORKERS = 3


def send(hub: HostileHub, case: Case, root: Path, zygote: Zygote | None) -> tuple[Case, bytes, Upload]:
    folder = root / case.name
    folder.mkdir(parents=True)
    data = case.build(hub.good)
    path = folder / case.filename
    path.write_bytes(data)
    run = zygote.upload(path, SHEET_CODE) if zygote else upload(path, SHEET_CODE, env=hub.env)
    return case, data, run


def judge(hub: HostileHub, case: Case, data: bytes, run: Upload) -> list[str]:
    """What is wrong with how the hub took this case (empty when all held)."""
    wrong = []
    if run.killed or run.seconds > TIME_LIMIT_S:
        wrong.append(f"took {run.seconds:.1f} s")
    if run.peak_mb > MEMORY_LIMIT_MB:
        wrong.append(f"peak RSS {run.peak_mb:.0f} MB")
    leaked = INTERNAL.search(run.out + run.err)
    if leaked:
        wrong.append(f"internal text shown: {leaked.group(0)!r}")
    try:
        outcome = json.loads(run.out)
    except ValueError:
        return [*wrong, f"exit {run.code}, no JSON outcome; stderr: {run.err[-300:]}"]
    status, problems = outcome["status"], outcome["problems"]
    codes = {p["code"] for p in problems}
    if case.expect:
        if run.code != 1 or status != "rejected":
            wrong.append(f"exit {run.code}, status {status}, expected a refusal ({codes})")
        elif not codes & set(case.expect):
            wrong.append(f"refused with {sorted(codes)}, expected one of {case.expect}")
        elif not all(CJK.search(p["message_zh"]) for p in problems):
            wrong.append("a message without Chinese")
    elif run.code != 0 or status != "zero_update":
        wrong.append(
            f"legitimate: exit {run.code}, status {status}, {[p['message_zh'] for p in problems][:3]}"
        )
    if "load.step_failed" in codes:
        wrong.append("a step after the load failed")
    sha = hashlib.sha256(data).hexdigest()
    landed = [r for r in Landing(hub.hub.settings).receipts(hub.hub.resource(SHEET_CODE)) if r.sha256 == sha]
    if not landed or Path(landed[0].path).read_bytes() != data:
        wrong.append("input not landed as received")
    return wrong


def run_corpus(
    hub: HostileHub, cases: list[Case], root: Path, workers: int, *, forked: bool
) -> dict[str, list[str]]:
    zygote = Zygote(hub.env) if forked else None
    try:
        with ThreadPoolExecutor(workers) as pool:
            runs = list(pool.map(lambda c: send(hub, c, root, zygote), cases))
    finally:
        if zygote:
            zygote.close()
    report = {}
    for case, data, run in runs:
        report[case.name] = judge(hub, case, data, run)
        print(
            f"{case.name:45} {run.code:3} {run.seconds:6.1f} s {run.peak_mb:6.0f} MB  {report[case.name] or 'ok'}"
        )
    assert current_snapshot_id(hub.hub.settings, hub.hub.resource(SHEET_CODE)) == hub.snapshot_id
    return report


def test_the_corpus_has_at_least_60_named_files_across_xlsx_xls_and_csv() -> None:
    cases = corpus()
    assert len(cases) >= 60 and len({c.name for c in cases}) == len(cases)
    assert {c.kind for c in cases} >= {"xlsx", "xls", "csv"}


def test_every_hostile_upload_is_refused_in_chinese_or_loaded_within_30s_and_1gb(
    hostile_hub: HostileHub, tmp_path: Path
) -> None:
    report = run_corpus(hostile_hub, QUICK, tmp_path, WORKERS, forked=True)
    failed = {name: wrong for name, wrong in report.items() if wrong}
    assert not failed, json.dumps(failed, ensure_ascii=False, indent=1)


def test_a_forked_upload_ends_as_the_cold_command_does(hostile_hub: HostileHub, tmp_path: Path) -> None:
    """What lets the corpus run forked: the same case gives the same exit code, outcome, problems and stderr lines
    both ways, with nothing internal shown."""
    picked = [c for c in QUICK if c.name in ("xlsx-merged-header", "csv-gbk")]
    assert len(picked) == 2
    zygote = Zygote(hostile_hub.env)
    try:
        for case in picked:
            forked = send(hostile_hub, case, tmp_path / "forked", zygote)[2]
            cold = send(hostile_hub, case, tmp_path / "cold", None)[2]
            assert (forked.code, _outcome(forked)) == (cold.code, _outcome(cold)), case.name
            leaks = [INTERNAL.search(r.out + r.err) for r in (forked, cold)]
            assert leaks == [None, None] and forked.err.count("\n") == cold.err.count("\n"), case.name
    finally:
        zygote.close()


def _outcome(run: Upload) -> tuple[str, list[str]]:
    outcome = json.loads(run.out)
    return outcome["status"], sorted(p["code"] for p in outcome["problems"])


@pytest.mark.slow
def test_the_biggest_hostile_uploads_are_refused_within_30s_and_1gb(
    hostile_hub: HostileHub, tmp_path: Path
) -> None:
    report = run_corpus(hostile_hub, SLOW, tmp_path, 1, forked=False)
    failed = {name: wrong for name, wrong in report.items() if wrong}
    assert not failed, json.dumps(failed, ensure_ascii=False, indent=1)
