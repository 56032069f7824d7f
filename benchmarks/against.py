"""`make bench-against REV=<commit>`: W8 (many small sheets) of this tree against an earlier commit, in one run.

A change of a few percent is below this machine's noise between two runs minutes apart (the same W8 varied by 15%
within an hour), so the two trees are not run one after the other: the sheets are cut into chunks and each chunk
is loaded by the earlier commit, then by this tree, alternately, every chunk a fresh process continuing its own hub.
Drift hits both sides of a pair alike; each side goes first in every other pair, and the disks are synced before
each chunk (a process's writeback is not charged to the next). The paired ratios and the totals are reported, with
user and system CPU time (a load is CPU-bound: wall ≈ CPU).

The earlier commit is extracted with `git archive` under `benchmarks/.work/against/<rev>/`; its top-level capability
folders are linked into its `govhub/` package as its `package-dir` mapped them (before 2026-11-27 the capabilities
lived beside `govhub/`). An earlier tree delivers a sheet with `govhub.ingest.ingest_resource`, this one with
`govhub.services.upload.upload_sheet` (each through its own whole path: landing, audit, publish, records, ledger).

`--count` (`make bench-against COUNT=1`) measures what noise cannot move: each tree delivers 2 and then 2+N sheets
(N = --sheets, default there 60) in fresh processes under valgrind's callgrind (user-space instructions: the same
count whatever else the machine does) and under `strace -c -f` (system calls by name); the difference divided by N is
one sheet's cost, imports and first uses left out. Needs Debian's valgrind and strace.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
from pathlib import Path

from benchmarks.harness import REPO

WORK = Path(__file__).resolve().parent / ".work" / "against"
CHILD = Path(__file__).resolve().parent / "against_child.py"


def extract(rev: str) -> Path:
    """The tree of `rev`, importable as `govhub` from its folder."""
    sha = subprocess.run(["git", "rev-parse", rev], cwd=REPO, capture_output=True, text=True, check=True)
    tree = WORK / sha.stdout.strip()[:12]
    if not (tree / ".extracted").is_file():  # an extraction cut short is done again
        shutil.rmtree(tree, ignore_errors=True)
        tree.mkdir(parents=True)
        archive = subprocess.run(["git", "archive", rev], cwd=REPO, capture_output=True, check=True).stdout
        subprocess.run(["tar", "-x", "-C", str(tree)], input=archive, check=True)
        (tree / ".extracted").touch()
    for folder in tree.iterdir():
        link = tree / "govhub" / folder.name
        capability = (folder / "__init__.py").is_file() and folder.name not in (
            "govhub",
            "tests",
            "benchmarks",
        )
        if capability and not link.exists():
            link.symlink_to(Path("..") / folder.name)
    return tree


def chunk(label: str, tree: Path, start: int, stop: int, inputs: Path) -> dict:
    os.sync()  # the previous chunk's writeback is not charged to this one
    # each side on its own embedded hub: a store URL from the environment would be shared by both and never reset
    env = {k: v for k, v in os.environ.items() if not k.startswith("GOVHUB_")} | {"PYTHONPATH": str(tree)}
    home = WORK / "hubs" / label
    done = subprocess.run(
        [sys.executable, str(CHILD), str(inputs), str(home), str(start), str(stop)],
        env=env,
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise SystemExit(f"{label} sheets {start}-{stop} failed:\n{done.stderr[-3000:]}")
    return {"side": label, "start": start, **json.loads(done.stdout.strip().splitlines()[-1])}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--rev", default="632c9cd", help="the earlier commit (default: before the service layer)"
    )
    parser.add_argument("--sheets", type=int, default=None, help="1000, or 60 with --count")
    parser.add_argument("--chunk", type=int, default=100)
    parser.add_argument("--count", action="store_true", help="instructions and system calls, not seconds")
    args = parser.parse_args(argv)
    args.sheets = args.sheets or (60 if args.count else 1000)

    from benchmarks.prepare_inputs import small
    from benchmarks.profiles import PROFILES

    inputs = WORK / "inputs"
    if not (inputs / "small").is_dir():
        small(inputs, PROFILES["full"])
    available = len(list((inputs / "small").iterdir()))
    if (
        not (args.count or 2 <= args.chunk <= args.sheets)
        or args.sheets + (2 if args.count else 0) > available
    ):
        raise SystemExit(
            f"--sheets must be at most the {available} prepared sheets, and --chunk from 2 to --sheets"
        )
    before = extract(args.rev)
    if args.count:
        return count(args.rev, before, inputs, args.sheets)
    rows = []
    for n, start in enumerate(range(0, args.sheets, args.chunk)):
        stop = min(start + args.chunk, args.sheets)
        sides = [("before", before), ("this", REPO)]
        pair = {
            label: chunk(label, tree, start, stop, inputs) for label, tree in sides[:: 1 if n % 2 else -1]
        }
        rows += [pair["before"], pair["this"]]  # each side goes first in every other pair
        print(f"sheets {start}-{stop}: before {rows[-2]['wall']:.2f} s, this tree {rows[-1]['wall']:.2f} s")
    print(
        f"W8, {args.sheets} sheets in chunks of {args.chunk}, {args.rev} (before) vs this tree, alternately:"
    )
    for key in ("wall", "cpu", "user", "sys"):
        old, new = (sum(r[key] for r in rows if r["side"] == side) for side in ("before", "this"))
        paired = statistics.median(b[key] / a[key] for a, b in zip(rows[0::2], rows[1::2], strict=True))
        print(f"  {key:>4}: before {old:6.1f} s   this {new:6.1f} s   this/before {new / old:.3f}"
              f"   median of paired chunks {paired:.3f}")  # fmt: skip


def _counted(tool: str, tree: Path, inputs: Path, stop: int) -> dict[str, int]:
    """What `tool` counts of one fresh process delivering sheets [0, stop) to a new hub."""
    out = WORK / "counts" / f"{tree.name}-{tool}-{stop}"
    out.parent.mkdir(parents=True, exist_ok=True)
    wrap = {
        "callgrind": ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}"],
        "strace": ["strace", "-f", "-c", "-o", str(out)],
    }[tool]
    env = {k: v for k, v in os.environ.items() if not k.startswith("GOVHUB_")} | {"PYTHONPATH": str(tree)}
    home = WORK / "hubs" / f"count-{tree.name}"
    subprocess.run([*wrap, sys.executable, str(CHILD), str(inputs), str(home), "0", str(stop)], env=env,
                   capture_output=True, check=True)  # fmt: skip
    text = out.read_text(errors="replace")
    if tool == "callgrind":
        return {
            "instructions": int(
                next(line for line in text.splitlines() if line.startswith("summary:")).split()[1]
            )
        }
    calls = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) >= 5 and parts[0][:1].isdigit() and parts[-1] != "total":
            calls[parts[-1]] = int(parts[3])
    return calls


def count(rev: str, before: Path, inputs: Path, n: int) -> None:
    """Per sheet, for each tree: (2+n sheets) − (2 sheets), divided by n."""
    per: dict[str, dict[str, float]] = {}
    for label, tree in (("before", before), ("this", REPO)):
        per[label] = {}
        for tool in ("callgrind", "strace"):
            few, many = _counted(tool, tree, inputs, 2), _counted(tool, tree, inputs, 2 + n)
            per[label] |= {k: (many.get(k, 0) - few.get(k, 0)) / n for k in many.keys() | few.keys()}
    old, new = per["before"], per["this"]
    i_old, i_new = old.pop("instructions"), new.pop("instructions")
    print(f"W8 per sheet, {n} sheets, {rev} (before) vs this tree:")
    print(f"  user-space instructions: before {i_old / 1e6:.1f} M   this {i_new / 1e6:.1f} M"
          f"   this/before {i_new / i_old:.3f}")  # fmt: skip
    s_old, s_new = sum(old.values()), sum(new.values())
    print(f"  system calls: before {s_old:.0f}   this {s_new:.0f}   this/before {s_new / s_old:.3f}")
    for name in sorted(old.keys() | new.keys(), key=lambda k: -max(old.get(k, 0), new.get(k, 0)))[:16]:
        print(f"    {name:<16} before {old.get(name, 0):7.1f}   this {new.get(name, 0):7.1f}")


if __name__ == "__main__":
    main()
