"""govhub's benchmark suite: each workload (W1–W8) against the naive baseline a competent engineer writes first.

`make bench` (= `python -m benchmarks.run`) generates seeded inputs under `benchmarks/.work/`, runs every workload
and its baseline in fresh subprocesses on the same machine, and writes `benchmarks/results/latest.{md,json}`.
See docs/PERFORMANCE.md.
"""
