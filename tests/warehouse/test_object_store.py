"""The hub on object storage, against moto's S3 server on 127.0.0.1: each publish lands as objects switched by a
conditional pointer write; a publisher killed mid-upload or before the switch leaves readers on the old, whole
snapshot and the next load finishes the job; the lock object keeps two hosts from loading one resource at once."""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from govhub.connectors.base import Extract
from govhub.warehouse import object_store as objects
from govhub.warehouse.load import run_load
from govhub.warehouse.snapshots import current_snapshot_id, object_store, resource_paths
from tests.peak import ROOT

from .conftest import extract_of, people_batches, people_rows, people_table
from .test_load_killed import ROWS, _kill_at

pytestmark = [pytest.mark.s3, pytest.mark.scale]
TABLE = "hub/civil/people"


def _load(settings, people, rows):
    return run_load(
        settings, people, extract_of(people_table(people, rows)), receipt=None, actor="t", trigger="test"
    )


def _local_current(settings, people):
    return pq.read_table(resource_paths(settings, people).current / "part-00000.parquet")


def test_a_publish_lands_on_the_store_and_readers_follow_the_pointer(s3_settings, people):
    store = object_store(s3_settings)
    first = _load(s3_settings, people, people_rows(10))
    assert objects.read_current(store, TABLE).num_rows == 10
    second = _load(s3_settings, people, people_rows(14))
    pointer, _ = objects.read_pointer(store, TABLE)
    assert pointer["snapshot_id"] == second.snapshot_id != first.snapshot_id
    assert (
        objects.read_current(store, TABLE)
        .sort_by("person_id")
        .equals(_local_current(s3_settings, people).sort_by("person_id"))
    )
    keys = {
        o["Key"]
        for o in store.client().list_objects_v2(Bucket=store.bucket, Prefix=store.key(TABLE))["Contents"]
    }
    for snapshot_id in (first.snapshot_id, second.snapshot_id):  # history stays: every snapshot's objects
        assert store.key(TABLE, "snapshots", snapshot_id, "part-00000.parquet") in keys
    assert store.key(TABLE, ".lock") not in keys  # released


@pytest.mark.parametrize("point", ["s3_uploading", "s3_before_pointer"])
def test_a_publish_killed_on_the_store_leaves_the_old_snapshot_and_the_next_load_finishes(
    s3_settings, people, point
):
    store = object_store(s3_settings)
    before = _load(s3_settings, people, people_rows(10))
    old = objects.read_current(store, TABLE)
    _kill_at(s3_settings, point)  # a 130k-row load from another process, SIGKILLed on its way to the store
    assert objects.read_pointer(store, TABLE)[0]["snapshot_id"] == before.snapshot_id
    assert objects.read_current(store, TABLE).equals(old)  # readers: the old snapshot, whole
    # the killed process's lock object expires with its lease; here the next load's host takes it over at once
    store.client().delete_object(Bucket=store.bucket, Key=store.key(TABLE, ".lock"))
    changed = Extract(batches=people_batches(people, ROWS, age_shift=3))
    after = run_load(s3_settings, people, changed, receipt=None, actor="t", trigger="test")
    assert after.status == "published", after.problems
    pointer, _ = objects.read_pointer(store, TABLE)
    assert pointer["snapshot_id"] == after.snapshot_id == current_snapshot_id(s3_settings, people)
    assert objects.read_current(store, TABLE).num_rows == ROWS


def test_a_stale_pointer_is_never_overwritten(s3_settings, people, tmp_path):
    store = object_store(s3_settings)
    _load(s3_settings, people, people_rows(10))
    folder = resource_paths(s3_settings, people).current.resolve()
    _, etag = objects.read_pointer(store, TABLE)
    _load(s3_settings, people, people_rows(11))  # the pointer moves meanwhile
    client = store.client()
    with pytest.raises(client.exceptions.ClientError):
        client.put_object(Bucket=store.bucket, Key=store.key(TABLE, "current.json"), Body=b"{}", IfMatch=etag)
    with pytest.raises(objects.ConflictingPublish):  # a publisher that read the pointer before the move
        real = objects.read_pointer
        objects.read_pointer = lambda s, t: (None, etag)  # type: ignore[assignment]
        try:
            objects.publish(store, TABLE, "29991231T000000000000Z", folder)
        finally:
            objects.read_pointer = real  # type: ignore[assignment]
    assert objects.read_current(store, TABLE).num_rows == 11


def _held_while_another_waits(
    store, name: str, hold_s: float, *, lease_s: float = objects.LEASE_S, check=None
):
    """Hold the lock `name` for `hold_s` (then `check()`) while another host waits for it; who finished first."""
    order: list[str] = []

    def other_host():
        with objects.object_lock(store, name, wait_s=30):
            order.append("other")

    with objects.object_lock(store, name, lease_s=lease_s):
        thread = threading.Thread(target=other_host)
        thread.start()
        time.sleep(hold_s)
        if check is not None:
            check()
        order.append("holder done")
    thread.join(30)
    return order


def test_the_lock_object_excludes_other_hosts_and_expires(s3_settings):
    store = object_store(s3_settings)
    assert _held_while_another_waits(store, "hub/x/.lock", 1.0) == ["holder done", "other"]
    # a holder that died: its lease runs out and the lock is taken over, not waited for forever
    # (what a killed host leaves: its lock object, no one renewing it)
    crashed = {"owner": "crashed-host:0", "expires": time.time() + 0.5}
    store.client().put_object(
        Bucket=store.bucket, Key=store.key("hub/y/.lock"), Body=json.dumps(crashed).encode()
    )
    time.sleep(0.8)
    with objects.object_lock(store, "hub/y/.lock", wait_s=5) as owner:
        assert owner


def test_a_live_holder_renews_its_lease_past_the_lease(s3_settings):
    """A load longer than the lease keeps its lock: the holder renews; a contender waits for the release."""
    store = object_store(s3_settings)

    def renewed() -> None:
        held = store.client().get_object(Bucket=store.bucket, Key=store.key("hub/z/.lock"))
        assert json.loads(held["Body"].read())["expires"] > time.time()  # renewed, not run out

    # held for more than three leases
    assert _held_while_another_waits(store, "hub/z/.lock", 2.0, lease_s=0.6, check=renewed) == [
        "holder done",
        "other",
    ]


def test_an_unreachable_object_store_is_a_chinese_refusal_not_a_traceback(settings, people):
    """The endpoint refuses connections (nothing listens there): the load is refused in Chinese before it starts."""
    import dataclasses
    import socket

    from govhub.problems import GovhubError

    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()  # a port nothing listens on
    down = dataclasses.replace(
        settings, storage_url="s3://govhub-down/district", storage_endpoint=f"http://127.0.0.1:{port}"
    )
    with pytest.raises(GovhubError) as refused:
        _load(down, people, people_rows(10))
    assert [p.code for p in refused.value.problems] == ["storage.unreachable"]
    assert "对象存储" in refused.value.problems[0].message_zh


def test_landed_inputs_and_rebuilt_workspaces_are_kept_on_the_store(s3_settings, people, tmp_path):
    """Landing (content-addressed, uploaded once) and an agency's workspace (replaced whole) reach the store."""
    import duckdb

    from govhub.warehouse.landing import Landing
    from govhub.warehouse.scope import base_scope
    from govhub.warehouse.workspace import build_workspace

    from .conftest import build_sharing_hub

    store = object_store(s3_settings)
    client = store.client()
    delivered = tmp_path / "人口.csv"
    delivered.write_bytes("身份证号,姓名\n310101199001011234,张三\n".encode("gbk"))
    landing = Landing(s3_settings)
    receipt = landing.land_file(people, delivered, received_by="t", source="test")
    relative = Path(receipt.path).relative_to(s3_settings.landing_dir).as_posix()
    key = store.key("landing", relative)
    assert client.get_object(Bucket=store.bucket, Key=key)["Body"].read() == delivered.read_bytes()
    etag = client.head_object(Bucket=store.bucket, Key=key)["ETag"]
    landing.land_file(people, delivered, received_by="t", source="again")  # the same bytes again
    assert client.head_object(Bucket=store.bucket, Key=key)["ETag"] == etag  # kept, not rewritten
    assert receipt.sha256 in key

    hub = build_sharing_hub(s3_settings)
    built = build_workspace(s3_settings, base_scope(s3_settings, hub.catalog, "market"))
    copy = tmp_path / "from-store.duckdb"
    body = client.get_object(Bucket=store.bucket, Key=store.key("workspaces", "market", built.path.name))[
        "Body"
    ]
    copy.write_bytes(body.read())
    with (
        duckdb.connect(str(copy), read_only=True) as theirs,
        duckdb.connect(str(built.path), read_only=True) as ours,
    ):
        listing = "SELECT schema_name, table_name, estimated_size FROM duckdb_tables() ORDER BY ALL"
        assert theirs.execute(listing).fetchall() == ours.execute(listing).fetchall() != []


def test_a_slow_store_is_waited_for_not_cut_off(s3_settings, tmp_path):
    """A server that takes seconds to answer one request (completing a 3.3 GB multipart upload took moto longer than
    the AWS SDK's default 3 s without a byte, and a 100M-row publish failed on it) is waited for."""
    from urllib.parse import urlparse

    from tests.servers import TcpProxy

    upstream = urlparse(s3_settings.storage_endpoint)
    proxy = TcpProxy((upstream.hostname, upstream.port), response_delay_s=3.5)
    try:
        slow = objects.ObjectStore.from_url(s3_settings.storage_url, f"http://127.0.0.1:{proxy.port}")
        body = tmp_path / "snapshot.parquet"
        body.write_bytes(b"x" * 1000)
        assert objects.put_file(slow, slow.key("slow", "snapshot.parquet"), body)
    finally:
        proxy.close()
    store = object_store(s3_settings)
    got = store.client().get_object(Bucket=store.bucket, Key=store.key("slow", "snapshot.parquet"))
    assert got["Body"].read() == body.read_bytes()


def test_a_large_upload_streams_in_bounded_memory(s3_settings, tmp_path):
    """pyarrow's S3 stream uploads parts in the background by default and queues every part read meanwhile: the
    100M-row publish (a 3.3 GB file) took the loading process to 3.46 GB. Parts now go one at a time: a 400 MB file
    is uploaded by a process that grows by far less than the file."""
    import subprocess
    import sys

    big = tmp_path / "part-00000.parquet"
    with open(big, "wb") as f:
        for _ in range(400):
            f.write(os.urandom(1 << 20))
    script = (
        "import sys\n"
        "from pathlib import Path\n"
        "from govhub.warehouse.object_store import ObjectStore, put_file\n"
        "from tests.peak import peak_growth\n"
        "store = ObjectStore.from_url(sys.argv[1], sys.argv[2])\n"
        "with peak_growth() as grown:\n"
        "    put_file(store, store.key('big', 'part-00000.parquet'), Path(sys.argv[3]))\n"
        "print(int(grown.mb))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, s3_settings.storage_url, s3_settings.storage_endpoint, str(big)],
        capture_output=True,
        text=True,
        timeout=300,
        env={
            **os.environ,
            "PYTHONPATH": str(ROOT),
        },  # the child's peak so far is pytest's: measured from a reset
    )
    assert done.returncode == 0, done.stderr[-2000:]
    grown_mb = int(done.stdout.split()[-1])
    assert grown_mb < 150, f"uploading 400 MB grew the process by {grown_mb} MB"
    store = object_store(s3_settings)
    head = store.client().head_object(Bucket=store.bucket, Key=store.key("big", "part-00000.parquet"))
    assert head["ContentLength"] == big.stat().st_size


def test_the_object_stores_secret_key_is_used_and_kept_nowhere(s3_settings, people, monkeypatch, caplog):
    """AWS_SECRET_ACCESS_KEY signs every request of two publishes (the server checks the signature's form, not the
    key) and of a publish to a store that is not there; then every file of the hub, every object in the bucket, the
    outcomes' messages and every log record are searched for it."""
    import dataclasses
    import logging
    import secrets

    secret = "s3-" + secrets.token_hex(16)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIA" + secrets.token_hex(8).upper())
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", secret)
    # the clients are made once per endpoint and process: made again here, with the planted key (and after, without)
    import boto3

    monkeypatch.setattr(
        boto3, "DEFAULT_SESSION", None
    )  # boto3's session keeps the credentials it first found
    for made in (objects._client, objects._filesystem):
        made.cache_clear()
    caplog.set_level(logging.DEBUG)
    outcomes = [_load(s3_settings, people, people_rows(10)), _load(s3_settings, people, people_rows(14))]
    store = object_store(s3_settings)
    assert objects.read_current(store, TABLE).num_rows == 14
    signer = store.client()._request_signer._credentials.get_frozen_credentials()
    assert signer.secret_key == secret  # every request above was signed with the planted key
    gone = dataclasses.replace(s3_settings, storage_endpoint="http://127.0.0.1:1")
    try:
        outcomes.append(_load(gone, people, people_rows(12)))
        failure = ""
    except Exception as exc:  # however a publish to an unreachable store ends, what it says is searched too
        failure = f"{type(exc).__name__}: {exc}"
    client = store.client()
    blobs = {
        f"s3:{o['Key']}": client.get_object(Bucket=store.bucket, Key=o["Key"])["Body"].read()
        for o in client.list_objects_v2(Bucket=store.bucket)["Contents"]
    }
    blobs |= {
        str(p): p.read_bytes()
        for p in Path(s3_settings.home).rglob("*")
        if p.is_file() and not p.is_symlink()
    }
    blobs["said"] = (failure + "".join(str(p) for o in outcomes for p in o.problems)).encode()
    blobs["logs"] = caplog.text.encode()
    assert (
        len([k for k in blobs if k.startswith("s3:")]) >= 3 and len(caplog.records) > 10
    )  # the search bites
    assert [name for name, blob in blobs.items() if secret.encode() in blob] == []
    objects._client.cache_clear()  # later tests sign with moto's dummies again
    objects._filesystem.cache_clear()
