"""One chunk of `benchmarks.against`: sheets [start, stop) delivered to the hub at HOME by the govhub on PYTHONPATH.

Run as a script (`python against_child.py INPUTS HOME START STOP`), so that `govhub` and `benchmarks` are those of
the tree on PYTHONPATH. The first chunk starts a new hub, later chunks continue it; each leaves its first sheet out
of the timing (a fresh process pays its imports and first uses there). Prints one JSON line: wall, CPU, user and system seconds, sheets timed.
"""

import json
import resource
import shutil
import sys
import time
from pathlib import Path

inputs, home, start, stop = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])

from benchmarks.hubs import settings_for  # noqa: E402  (the tree on PYTHONPATH)
from benchmarks.resources import people_resource  # noqa: E402

sheets = sorted((inputs / "small").iterdir(), key=lambda p: p.name.split("-", 1)[1])
resources = {p.name.split("-")[0]: people_resource(agency=p.name.split("-")[0]) for p in sheets}
if start == 0:
    shutil.rmtree(home, ignore_errors=True)
settings = settings_for(home)
try:
    from govhub.services.upload import upload_sheet

    def deliver(path: Path):
        return upload_sheet(settings, resources[path.name.split("-")[0]], path, actor="benchmark")
except ImportError:  # before the service layer
    from govhub.ingest import ingest_resource

    def deliver(path: Path):
        resource_ = resources[path.name.split("-")[0]]
        return ingest_resource(settings, resource_, upload=path, actor="benchmark", trigger="manual")


deliver(sheets[start])  # every chunk is a fresh process: its imports and first-use costs are not timed
start += 1
before, t0, c0 = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter(), time.process_time()
for path in sheets[start:stop]:
    outcome = deliver(path)
    if "published" not in str(outcome.status):
        raise SystemExit(f"{path.name}: {outcome.status}")
after = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({"wall": time.perf_counter() - t0, "cpu": time.process_time() - c0,
                  "user": after.ru_utime - before.ru_utime, "sys": after.ru_stime - before.ru_stime,
                  "sheets": stop - start}))  # fmt: skip
