"""`make bench-scale` = `python -m benchmarks.scale [--only S1/load-1x,…] [--out file.json] [--servers]`.

Each case runs in a fresh process (benchmarks.harness: wall time, peak RSS as VmHWM) and its row is appended to
the results file as soon as it ends, so a long run (the 100M-row load) can be watched and survives a stop. The
configuration measured is the environment's: embedded defaults, or `GOVHUB_STATE_URL` on PostgreSQL and
`GOVHUB_STORAGE_URL` on an S3 server (every publish uploaded, locks as objects). `--servers` sets that up here:
moto's S3 server started on 127.0.0.1 with a fresh bucket, and a fresh schema on the local PostgreSQL (dropped after).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import secrets
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from benchmarks.harness import Context, measure_case
from benchmarks.profiles import PROFILES
from benchmarks.registry import CASES, case_class

ORDER = [k for k in CASES if k.startswith(("S1/", "S2/", "S3/"))]
WORK = Path(__file__).resolve().parent / ".work" / "scale"
RESULTS = Path(__file__).resolve().parent / "results"
POSTGRES = "postgresql+psycopg2://postgres@127.0.0.1:5432/test"


@contextmanager
def local_servers() -> Iterator[None]:
    """The PostgreSQL + S3 configuration on this machine: a fresh schema on the local PostgreSQL for the workflow
    store and moto's S3 server on 127.0.0.1 with a fresh bucket, in this process's environment (the cases' too)."""
    import boto3
    from sqlalchemy import create_engine, text

    schema = f"bench_{secrets.token_hex(4)}"
    admin = create_engine(POSTGRES)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    from tests.servers import moto_server

    os.environ.update(
        AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench", AWS_DEFAULT_REGION="us-east-1"
    )
    try:
        with moto_server(subprocess.DEVNULL) as endpoint:
            bucket = f"govhub-bench-{secrets.token_hex(4)}"
            boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1").create_bucket(Bucket=bucket)
            os.environ.update(
                GOVHUB_STATE_URL=f"{POSTGRES}?options=-csearch_path%3D{schema}",
                GOVHUB_STORAGE_URL=f"s3://{bucket}/district",
                GOVHUB_STORAGE_ENDPOINT=endpoint,
            )
            yield
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def configuration() -> str:
    parts = []
    if os.environ.get("GOVHUB_STATE_URL", "").startswith("postgres"):
        parts.append("postgres")
    if os.environ.get("GOVHUB_STORAGE_URL", "").startswith("s3://"):
        parts.append("s3")
    return "+".join(parts) or "embedded"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="comma-separated case keys (default: all S1–S3)")
    parser.add_argument("--out", type=Path, help="JSON-lines results file")
    parser.add_argument(
        "--servers", action="store_true", help="PostgreSQL + S3 (moto) on 127.0.0.1, set up here"
    )
    args = parser.parse_args(argv)
    if args.servers:
        with local_servers():
            return _run(args)
    return _run(args)


def _run(args: argparse.Namespace) -> int:
    keys = [k.strip() for k in args.only.split(",")] if args.only else ORDER
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M")
    out = args.out or RESULTS / f"{stamp}-scale-{configuration()}.jsonl"
    out.parent.mkdir(parents=True, exist_ok=True)
    ctx = Context(WORK, PROFILES["full"])
    WORK.mkdir(parents=True, exist_ok=True)
    for key in keys:
        title = (case_class(key).__doc__ or key).splitlines()[0]
        m = measure_case(key, ctx, title, timeout_s=4 * 3600)
        row = m.to_dict() | {"configuration": configuration(), "at": dt.datetime.now(dt.UTC).isoformat()}
        with open(out, "a", encoding="utf-8") as f:
            f.write(json.dumps(row, ensure_ascii=False, default=str) + "\n")
        print(f"{key}: {m.seconds} s, peak {m.peak_rss_mb} MB, {m.error or m.facts}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
