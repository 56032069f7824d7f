"""Entry point of a measured subprocess: `python -m benchmarks.child <workload/side> <context json>`."""

from __future__ import annotations

import json
import sys

from benchmarks.harness import RESULT_MARK, Context, run_in_child
from benchmarks.registry import case_class


def main(argv: list[str]) -> int:
    key, ctx_json = argv
    ctx = Context.from_json(ctx_json)
    case = case_class(key)(ctx)
    result = run_in_child(case, case.repeats())
    print(RESULT_MARK + json.dumps(result, default=str), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
