"""Landing: every input kept byte-for-byte, content-addressed, with a receipt per arrival (Measures §11).

Blobs live at `<landing>/<agency>/<resource>/<sha[:2]>/<sha256>.<ext>`; receipts (who, when, from where) at
`<landing>/<agency>/<resource>/receipts/`. Nothing here overwrites or removes: the same content delivered twice is
one blob and two receipts. Multi-part inputs (API pages, DB extract chunks) are landed part by part through a
`LandingSink` (a connector `RawSink`) into ONE bundle per pull: a tar archive whose members are the parts
byte-for-byte, fsynced once when the pull ends (one fsync per page cost more than parsing the page). A manifest names
every part with its sha256 and where it sits in the bundle; its sha256 identifies the load's input.

Bytes are first written to `<landing>/<agency>/<resource>/.incoming/<pid>-<random>.part`. A writer killed mid-copy
leaves its `.part` behind; `sweep_incoming` removes those whose writer process is gone, on the next landing of
that resource and before a backup (which never archives `.incoming/` anyway).
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import shutil
import tarfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from govhub.catalog.model import Resource
from govhub.config import Settings
from govhub.problems import GovhubError, Problem
from govhub.warehouse.meta import (
    disk_full,
    fsync_dir,
    iso,
    pause_point,
    process_alive,
    sortable_id,
    utc_now,
    write_json_atomic,
)
from govhub.warehouse.snapshots import copy_to_store

_CHUNK = 1 << 20
_TAR_BLOCK = tarfile.BLOCKSIZE


@dataclass(frozen=True)
class Receipt:
    """One arrival of input: what (sha256, size, filename), from where, from whom, when, and where it is kept."""

    agency: str
    resource: str
    sha256: str
    size: int
    filename: str
    source: str
    received_by: str
    received_at: str
    kind: str  # file | bytes | bundle
    path: str  # the landed blob (for a bundle: its manifest)
    receipt_path: str
    parts: list[dict[str, Any]] = field(default_factory=list)  # name, sha256, size, path (the tar), offset

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


INCOMING = ".incoming"


def sweep_incoming(folder: Path) -> list[Path]:
    """Remove the partial files in an `.incoming` folder whose writer process is gone; returns what was removed.
    A file of a live writer (this process included) is left alone, and so is any name not written by `Landing`."""
    removed: list[Path] = []
    if not folder.is_dir():
        return removed
    for part in sorted(folder.glob("*.part")):
        pid = part.name.split("-", 1)[0]
        if not pid.isdigit() or int(pid) == os.getpid() or process_alive(int(pid)):
            continue
        part.unlink(missing_ok=True)
        removed.append(part)
    return removed


def _ext(filename: str) -> str:
    suffix = Path(filename).suffix.lower().lstrip(".")
    return suffix if suffix and suffix.isalnum() and len(suffix) <= 10 else "bin"


class Landing:
    """The append-only store of inputs as received."""

    def __init__(self, settings: Settings):
        self.settings = settings

    def resource_dir(self, resource: Resource) -> Path:
        agency, rid = resource.key
        return self.settings.landing_dir / agency / rid

    def blob_path(self, resource: Resource, sha256: str, ext: str) -> Path:
        return self.resource_dir(resource) / sha256[:2] / f"{sha256}.{ext}"

    def _store(self, resource: Resource, tmp: Path, sha256: str, ext: str, *, sync_dir: bool = False) -> Path:
        """Move a fully written temp file to its content address, unless that content is already there."""
        final = self.blob_path(resource, sha256, ext)
        final.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(tmp, final)  # fails if the name exists: an existing blob is never replaced
            os.chmod(final, 0o444)
        except FileExistsError:
            pass
        finally:
            tmp.unlink(missing_ok=True)
        if sync_dir:
            fsync_dir(final.parent)
        relative = final.relative_to(self.settings.landing_dir).as_posix()
        copy_to_store(
            self.settings, final, f"landing/{relative}", "材料已在本机留存，但未能写入对象存储", once=True
        )
        return final

    def _tmp(self, resource: Resource) -> Path:
        d = self.resource_dir(resource) / INCOMING
        d.mkdir(parents=True, exist_ok=True)
        sweep_incoming(d)  # what a killed writer left behind; one directory listing per landing
        return d / f"{os.getpid()}-{secrets.token_hex(6)}.part"

    def sweep(self) -> list[Path]:
        """Sweep every resource's `.incoming` folder (before a backup)."""
        return [
            p
            for folder in sorted(self.settings.landing_dir.glob(f"*/*/{INCOMING}"))
            for p in sweep_incoming(folder)
        ]

    def _receipt(self, resource: Resource, **fields: Any) -> Receipt:
        agency, rid = resource.key
        now = utc_now()
        receipts = self.resource_dir(resource) / "receipts"
        name = f"{sortable_id(now)}-{fields['sha256'][:12]}-{secrets.token_hex(3)}.json"
        receipt = Receipt(
            agency=agency, resource=rid, received_at=iso(now), receipt_path=str(receipts / name), **fields
        )
        write_json_atomic(receipts / name, receipt.to_dict())
        return receipt

    def land_file(
        self, resource: Resource, path: str | os.PathLike[str], *, received_by: str, source: str
    ) -> Receipt:
        """Copy a delivered file into landing (streaming, hashing as it goes) and write its receipt."""
        src = Path(path)
        if not src.is_file():
            raise GovhubError(
                Problem(code="landing.no_file", message_zh=f"找不到要接收的文件：{src.name}", value=str(src))
            )
        tmp = self._tmp(resource)
        digest = hashlib.sha256()
        size = 0
        try:
            with open(src, "rb") as fin, open(tmp, "wb") as fout:
                while chunk := fin.read(_CHUNK):
                    digest.update(chunk)
                    size += len(chunk)
                    fout.write(chunk)
                pause_point("landing_copied")  # the crash tests kill the process here: a .part is left
                sha = digest.hexdigest()
                if not self.blob_path(resource, sha, _ext(src.name)).exists():
                    fout.flush()  # new content: durable before it is linked in (a known blob already is)
                    os.fsync(fout.fileno())
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            if not disk_full(exc):
                raise
            raise GovhubError(
                Problem(
                    "load.disk_full",
                    f"数据中心磁盘空间不足，文件“{src.name}”未能接收，当前数据保持不变；"
                    "请联系管理员清理空间后重新提交",
                    value=src.name,
                )
            ) from None
        blob = self._store(resource, tmp, sha, _ext(src.name))
        return self._receipt(
            resource, sha256=sha, size=size, filename=src.name, source=source, received_by=received_by,
            kind="file", path=str(blob),
        )  # fmt: skip

    def land_bytes(
        self,
        resource: Resource,
        data: bytes,
        *,
        filename: str,
        received_by: str,
        source: str,
        kind: str = "bytes",
    ) -> Receipt:
        """Land bytes received in memory (an upload body, one API page) with a receipt."""
        sha, blob = self._put_bytes(resource, data, _ext(filename))
        return self._receipt(
            resource, sha256=sha, size=len(data), filename=filename, source=source, received_by=received_by,
            kind=kind, path=str(blob),
        )  # fmt: skip

    def _put_bytes(self, resource: Resource, data: bytes, ext: str) -> tuple[str, Path]:
        sha = hashlib.sha256(data).hexdigest()
        if self.blob_path(resource, sha, ext).exists():
            return sha, self.blob_path(resource, sha, ext)
        tmp = self._tmp(resource)
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        return sha, self._store(resource, tmp, sha, ext)

    def sink(self, resource: Resource, *, received_by: str, source: str) -> LandingSink:
        """A connector `RawSink` landing each raw part; `close()` writes the manifest receipt."""
        return LandingSink(self, resource, received_by=received_by, source=source)

    def receipts(self, resource: Resource) -> list[Receipt]:
        """All receipts of a resource, oldest first."""
        folder = self.resource_dir(resource) / "receipts"
        if not folder.is_dir():
            return []
        return [Receipt(**json.loads(p.read_text("utf-8"))) for p in sorted(folder.glob("*.json"))]

    def open_blob(self, receipt: Receipt) -> Path:
        return Path(receipt.path)

    def copy_out(self, receipt: Receipt, dest: Path) -> Path:
        """A working copy of a landed blob (landed files are read-only and must stay untouched)."""
        shutil.copyfile(receipt.path, dest)
        return dest


class LandingSink:
    """Lands a multi-part input (API pages, DB extract chunks) as one bundle: the parts appended to one tar archive
    (fsynced once, at `close()`), plus a manifest naming each part's sha256, size and offset in the archive."""

    def __init__(self, landing: Landing, resource: Resource, *, received_by: str, source: str):
        self.landing = landing
        self.resource = resource
        self.received_by = received_by
        self.source = source
        self.parts: list[dict[str, Any]] = []
        self.receipt: Receipt | None = None
        self._tmp: Path | None = None
        self._file: Any = None
        self._digest = hashlib.sha256()
        self._offset = 0

    def write(self, name: str, data: bytes) -> None:
        """Append one part to the bundle as a tar member (not yet fsynced: `close()` makes the whole pull durable)."""
        if self.receipt is not None:
            raise RuntimeError("this landing bundle is already closed")
        if self._file is None:
            self._tmp = self.landing._tmp(self.resource)
            self._file = open(self._tmp, "wb")  # noqa: SIM115 - closed in close()
        member = tarfile.TarInfo(name)
        member.size, member.mode, member.mtime = len(data), 0o444, 0  # deterministic: same pull, same bytes
        header = member.tobuf(tarfile.PAX_FORMAT, "utf-8", "surrogateescape")
        padding = b"\0" * (-len(data) % _TAR_BLOCK)
        offset = self._offset + len(header)
        for chunk in (header, data, padding):
            self._file.write(chunk)
            self._digest.update(chunk)
        self._offset = offset + len(data) + len(padding)
        sha = hashlib.sha256(data).hexdigest()
        self.parts.append({"name": name, "sha256": sha, "size": len(data), "offset": offset})

    def _land_bundle(self) -> str | None:
        """End the archive, fsync it once and move it to its content address; returns its path."""
        if self._file is None:
            return None
        end = b"\0" * (2 * _TAR_BLOCK)
        self._file.write(end)
        self._digest.update(end)
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()
        assert self._tmp is not None
        blob = self.landing._store(self.resource, self._tmp, self._digest.hexdigest(), "tar", sync_dir=True)
        for part in self.parts:
            part["path"] = str(blob)
        return str(blob)

    def close(self) -> Receipt:
        """Make the bundle durable, then write the manifest (ordered parts) as a blob and its receipt; idempotent."""
        if self.receipt is None:
            bundle = self._land_bundle()
            manifest: dict[str, Any] = {
                "source": self.source,
                "parts": [{k: p[k] for k in ("name", "sha256", "size")} for p in self.parts],
            }
            if bundle is not None:
                manifest["bundle"] = {"format": "tar", "sha256": Path(bundle).stem}
            data = json.dumps(manifest, ensure_ascii=False, sort_keys=True).encode()
            sha, blob = self.landing._put_bytes(self.resource, data, "json")
            self.receipt = self.landing._receipt(
                self.resource, sha256=sha, size=sum(p["size"] for p in self.parts), filename="manifest.json",
                source=self.source, received_by=self.received_by, kind="bundle", path=str(blob),
                parts=list(self.parts),
            )  # fmt: skip
        return self.receipt


def read_part(part: dict[str, Any]) -> bytes:
    """One landed part of a bundle (an entry of `Receipt.parts`), read back byte-for-byte from its tar archive."""
    with open(part["path"], "rb") as f:
        f.seek(part["offset"])
        return f.read(part["size"])
