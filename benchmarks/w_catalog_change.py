"""W12: validating a proposed catalog change (§10) against `govhub catalog validate`'s own work, in one run.

`python -m benchmarks.w_catalog_change [--copies N]`: the demo catalog (18 resources), or N copies of each agency's
resources under new ids (a district with N×18), then the median of 9 runs of `load_catalog` (the baseline: what
`catalog validate` does) and of `services.catalog_changes.check_entry` for one changed entry (a copy of the catalog
with the entry replaced, loaded twice: before and after).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import yaml

REPO_CATALOG = Path(__file__).resolve().parents[1] / "catalog"


def _catalog(root: Path, copies: int) -> Path:
    shutil.copytree(REPO_CATALOG, root)
    codes = 0
    for n in range(1, copies):
        for path in sorted(REPO_CATALOG.glob("*/*.yaml")):
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
            codes += 1
            data["id"] = f"{data['id']}c{n}"
            data["code"] = f"{data['code'].split('/')[0]}/{900000 + codes:06d}"
            (root / path.parent.name / f"{data['id']}.yaml").write_text(
                yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8"
            )
    return root


def _median(work, runs: int = 9) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def run(copies: int) -> dict[str, float]:
    from govhub.catalog.load import load_catalog, require_catalog
    from govhub.config import get_settings
    from govhub.services.catalog_changes import check_entry, current_yaml

    with tempfile.TemporaryDirectory() as tmp:
        root = _catalog(Path(tmp) / "catalog", copies)
        settings = get_settings(Path(tmp) / "home", root, env={})
        resource = require_catalog(root).resource("gaj/hjrk")
        text = current_yaml(settings, resource).replace(
            "name: 户籍人口基本信息", "name: 户籍人口基本信息（新）", 1
        )
        baseline = _median(lambda: load_catalog(root))
        proposal = _median(lambda: check_entry(settings, resource, text))
        return {
            "resources": len(require_catalog(root).resources),
            "validate_s": baseline,
            "check_entry_s": proposal,
        }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--copies", type=int, nargs="*", default=[1, 10])
    for copies in parser.parse_args().copies:
        r = run(copies)
        print(f"{r['resources']} resources: catalog validate (load_catalog) {1000 * r['validate_s']:.1f} ms, "
              f"check_entry {1000 * r['check_entry_s']:.1f} ms ({r['check_entry_s'] / r['validate_s']:.2f}×)")  # fmt: skip


if __name__ == "__main__":
    main()
