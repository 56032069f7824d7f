"""The hub on object storage (S3 API): snapshots published as objects, a pointer switched by a conditional write,
and a lock that holds across machines — where there is no rename, no symlink and no `flock`.

`GOVHUB_STORAGE_URL=s3://bucket/prefix` (+ `GOVHUB_STORAGE_ENDPOINT` for a server other than AWS, e.g. MinIO or
moto) makes every publish also publish the snapshot under `<prefix>/hub/<agency>/<resource>/`, in the same layout
as the local hub (warehouse/layout.py), so Spark, DuckDB or another host read the object store as they read the
folder. Two libraries, each for what it does best: **pyarrow.fs.S3FileSystem** moves the data (already our Parquet
library, streams multi-part uploads, no new dependency), and **boto3** makes the small conditional writes that
pyarrow's filesystem cannot express (`If-None-Match: *`, `If-Match: <etag>`; S3 has had them since 2024).

Publish: (1) upload the snapshot's objects under `snapshots/<id>/` (a new id: nothing a reader uses is touched);
(2) write `current.json` with `If-Match` on the pointer's ETag as read before step 1 (`If-None-Match: *` for the
first): a reader gets the old pointer or the new one, and both name whole, immutable snapshots. A publisher killed
between the steps leaves objects no pointer names; `sweep_unpublished` removes them under the lock. Two publishers
racing on one pointer: the second's conditional write fails (412) and it reports `ConflictingPublish` instead of
overwriting — the lock makes that a bug, not a race.

Inputs and workspaces: each landed file is uploaded under `<prefix>/landing/…` at its content address (the local
landing's path; uploaded once, never overwritten), and each rebuilt agency workspace replaces
`<prefix>/workspaces/<agency>/workspace.duckdb` (one object: a reader downloads the old file or the new one).

Lock: an object `<resource>/.lock` created with `If-None-Match: *`, holding its owner and an expiry; released by a
delete with `If-Match` (only its owner's); a lock past its expiry is taken over by a conditional overwrite, so a
crashed host never blocks a resource for longer than the lease. A live holder renews its lease (a conditional
overwrite of its own object, every third of the lease), so a load longer than the lease — a 100M-row resource takes
most of an hour — keeps its lock; a holder that could not renew (its host stalled past the lease and another took
over) finds out at the release, and its pointer write, conditional on the pointer it read, still cannot mix.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import secrets
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from govhub.problems import GovhubError, Problem
from govhub.warehouse.layout import POINTER, pointer
from govhub.warehouse.meta import pause_point

LEASE_S = 600.0
POLL_S = 0.2
# One request's time limit. The AWS SDK's default (3 s without a byte) cut off the completion of a 3.3 GB snapshot's
# multipart upload (318 parts), which a server may take minutes to assemble: a 100M-row publish failed on it.
REQUEST_TIMEOUT_S = 900.0


class ConflictingPublish(RuntimeError):
    """Another publisher switched the pointer since this one read it."""


class LockTimeout(RuntimeError):
    pass


@contextmanager
def storage_errors(what: str) -> Iterator[None]:
    """The object store's failures as Chinese refusals (the local snapshot, when one was switched, stands and is
    recorded): a lock held by another machine past the wait, the endpoint unreachable, a request refused."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        yield
    except LockTimeout:
        raise GovhubError(
            Problem(
                "storage.busy", f"{what}：另一台服务器正在载入该资源，等待超时；请稍后重试", blocking=True
            )
        ) from None
    except (BotoCoreError, ClientError, ConflictingPublish, OSError) as exc:
        # a local disk's error is not the store's
        if isinstance(exc, OSError) and "AWS Error" not in str(exc):
            raise
        raise GovhubError(
            Problem(
                "storage.unreachable",
                f"{what}：对象存储无法访问或拒绝了请求，请联系管理员检查对象存储服务后重试",
            )
        ) from None


@dataclass(frozen=True)
class ObjectStore:
    """A bucket and key prefix on an S3 API endpoint."""

    bucket: str
    prefix: str
    endpoint: str | None = None
    region: str = "us-east-1"

    @classmethod
    def from_url(cls, url: str, endpoint: str | None = None) -> ObjectStore:
        parsed = urlparse(url)
        if parsed.scheme != "s3" or not parsed.netloc:
            raise ValueError(f"not an s3://bucket/prefix URL: {url!r}")
        return cls(parsed.netloc, parsed.path.strip("/"), endpoint or None)

    def key(self, *parts: str) -> str:
        return "/".join(p.strip("/") for p in (self.prefix, *parts) if p)

    def client(self) -> Any:
        return _client(self.endpoint, self.region, os.getpid())

    def filesystem(self) -> Any:
        return _filesystem(self.endpoint, self.region, os.getpid())

    def path(self, key: str) -> str:
        """`bucket/key`, as pyarrow's S3 filesystem (and `s3://` readers) name an object."""
        return f"{self.bucket}/{key}"


# One client and one filesystem per endpoint and process (both thread-safe; the pid keeps a forked child from
# sharing its parent's connections): making a boto3 client costs tens of milliseconds, several times per publish.
@functools.cache
def _client(endpoint: str | None, region: str, pid: int) -> Any:
    import boto3

    return boto3.client("s3", endpoint_url=endpoint, region_name=region)


@functools.cache
def _filesystem(endpoint: str | None, region: str, pid: int) -> Any:
    from pyarrow import fs

    parsed = urlparse(endpoint) if endpoint else None
    return fs.S3FileSystem(
        endpoint_override=parsed.netloc if parsed else None,
        scheme=parsed.scheme if parsed else "https",
        region=region,
        request_timeout=REQUEST_TIMEOUT_S,
        background_writes=False,  # parts one at a time: in the background every part read meanwhile was queued
    )


def _precondition_failed(exc: Exception) -> bool:
    response = getattr(exc, "response", {}) or {}
    code = str(response.get("Error", {}).get("Code", ""))
    status = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return status in (409, 412) or code in ("PreconditionFailed", "ConditionalRequestConflict")


def read_pointer(store: ObjectStore, table_path: str) -> tuple[dict[str, Any] | None, str | None]:
    """(pointer, its ETag) of a resource on the store; (None, None) before its first publish."""
    client = store.client()
    try:
        got = client.get_object(Bucket=store.bucket, Key=store.key(table_path, POINTER))
    except client.exceptions.NoSuchKey:
        return None, None
    return json.loads(got["Body"].read()), got["ETag"]


def publish(store: ObjectStore, table_path: str, snapshot_id: str, folder: Path) -> dict[str, Any]:
    """Upload the finished snapshot `folder` as `table_path/snapshots/<id>/…`, then switch the pointer to it."""
    _, etag = read_pointer(store, table_path)
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        relative = path.relative_to(folder).as_posix()
        put_file(store, store.key(table_path, "snapshots", snapshot_id, relative), path)
        pause_point("s3_uploading")
    pause_point("s3_before_pointer")
    new = pointer(snapshot_id, sorted(p.name for p in folder.glob("*.parquet")))
    condition = {"IfMatch": etag} if etag else {"IfNoneMatch": "*"}
    client = store.client()
    try:
        client.put_object(
            Bucket=store.bucket,
            Key=store.key(table_path, POINTER),
            Body=json.dumps(new).encode(),
            ContentType="application/json",
            **condition,
        )
    except client.exceptions.ClientError as exc:
        if _precondition_failed(exc):
            raise ConflictingPublish(
                f"{table_path}: the pointer moved while {snapshot_id} was uploaded"
            ) from exc
        raise
    return new


def put_file(store: ObjectStore, key: str, path: Path, *, once: bool = False) -> bool:
    """Upload the local file `path` as the object `key`, streamed (S3 shows an object only once it is whole, so a
    reader never sees part of one). `once`: the key is content-addressed, an object already there holds the same
    bytes and is kept. Returns whether it uploaded."""
    from pyarrow.fs import FileType

    fs = store.filesystem()
    target = store.path(key)
    if once and fs.get_file_info(target).type != FileType.NotFound:
        return False
    with fs.open_output_stream(target) as out, open(path, "rb") as f:
        while chunk := f.read(8 << 20):
            out.write(chunk)
    return True


def sweep_unpublished(store: ObjectStore, table_path: str) -> list[str]:
    """Remove snapshot objects newer than the pointer (a publisher killed before its switch). Under the lock."""
    current, _ = read_pointer(store, table_path)
    limit = current["snapshot_id"] if current else ""
    client = store.client()
    base = store.key(table_path, "snapshots") + "/"
    removed = []
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=store.bucket, Prefix=base):
        for obj in page.get("Contents", []):
            snapshot_id = obj["Key"][len(base) :].split("/", 1)[0]
            if snapshot_id > limit:
                client.delete_object(Bucket=store.bucket, Key=obj["Key"])
                removed.append(obj["Key"])
    return removed


def read_current(store: ObjectStore, table_path: str) -> Any:
    """The current snapshot's data as an Arrow table, read through the pointer (what another host does)."""
    import pyarrow.parquet as pq

    current, _ = read_pointer(store, table_path)
    if current is None:
        return None
    fs = store.filesystem()
    files = [store.path(store.key(table_path, f)) for f in current["files"]]
    return pq.ParquetDataset(files, filesystem=fs).read()


@contextmanager
def object_lock(
    store: ObjectStore, name: str, *, lease_s: float = LEASE_S, wait_s: float = 3600.0
) -> Iterator[str]:
    """Hold the lock object `name` (e.g. `hub/civil/people/.lock`) across machines until the block ends, renewing
    its lease while the block runs."""
    client = store.client()
    key = store.key(name)
    owner = f"{socket.gethostname()}:{secrets.token_hex(8)}"
    deadline = time.monotonic() + wait_s
    etag = None
    while etag is None:
        body = _lease(owner, lease_s)
        try:
            etag = client.put_object(Bucket=store.bucket, Key=key, Body=body, IfNoneMatch="*")["ETag"]
            break
        except client.exceptions.ClientError as exc:
            if not _precondition_failed(exc):
                raise
        etag = _take_over_expired(client, store.bucket, key, body)
        if etag is None:
            if time.monotonic() > deadline:
                raise LockTimeout(f"{name} is held by someone else")
            time.sleep(POLL_S)
    lease = _Renewal(client, store.bucket, key, owner, lease_s, etag)
    lease.start()
    try:
        yield owner
    finally:
        etag = lease.stop()
        if lease.lost:
            logging.getLogger(__name__).warning("lock %s was taken over while held by %s", name, owner)
        try:
            client.delete_object(Bucket=store.bucket, Key=key, IfMatch=etag)
        except client.exceptions.NoSuchKey:
            pass  # taken over after our lease ran out, and released since
        except client.exceptions.ClientError as exc:
            if not _precondition_failed(exc):  # taken over after our lease ran out: not ours to delete
                raise


def _lease(owner: str, lease_s: float) -> bytes:
    return json.dumps({"owner": owner, "expires": time.time() + lease_s}).encode()


class _Renewal(threading.Thread):
    """Overwrites the holder's lock object (`If-Match` on its own ETag) with a fresh expiry every third of the lease
    until stopped or until the object is no longer its own."""

    def __init__(self, client: Any, bucket: str, key: str, owner: str, lease_s: float, etag: str) -> None:
        super().__init__(name=f"lease {key}", daemon=True)
        self.client, self.bucket, self.key, self.owner, self.lease_s = client, bucket, key, owner, lease_s
        self.etag = etag
        self.lost = False
        self._halt = threading.Event()

    def run(self) -> None:
        while not self._halt.wait(self.lease_s / 3):
            body = _lease(self.owner, self.lease_s)
            try:
                self.etag = self.client.put_object(
                    Bucket=self.bucket, Key=self.key, Body=body, IfMatch=self.etag
                )["ETag"]
            # a failed renewal is retried at the next turn; a lost lock ends the renewal
            except Exception as exc:
                if _precondition_failed(exc) or isinstance(exc, self.client.exceptions.NoSuchKey):
                    self.lost = True
                    return

    def stop(self) -> str:
        """Stop renewing; the ETag the lock object has if it is still ours."""
        self._halt.set()
        self.join()
        return self.etag


def _take_over_expired(client: Any, bucket: str, key: str, body: bytes) -> str | None:
    try:
        held = client.get_object(Bucket=bucket, Key=key)
    except client.exceptions.NoSuchKey:
        return None  # released meanwhile: try to create it again
    if json.loads(held["Body"].read()).get("expires", 0) > time.time():
        return None
    try:
        return client.put_object(Bucket=bucket, Key=key, Body=body, IfMatch=held["ETag"])["ETag"]
    except client.exceptions.ClientError as exc:
        if _precondition_failed(exc):
            return None  # someone else took it over first
        raise
