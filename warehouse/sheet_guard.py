"""A workbook read within bounds: `read_sheet_bounded` is `connectors.sheet.read_sheet` in a child process
(warehouse/sheet_child.py) that is killed past `Settings.sheet_read_timeout_s` or `sheet_read_memory_mb` of
resident memory — whatever the file holds. The readers check a workbook's declared sizes before decompressing
anything (connectors/workbook_guard.py); this bound holds also for what no check foresaw, in every process that
receives sheets (the portal, the inbox sensor, `govhub upload`), none of which reads a workbook's rows itself. (Two
smaller reads still run in the caller, after the same checks: the first rows that identify a sheet without a
template, and the marked copy of a refused file under 2 MB.)

CSV files are read in the calling process: their reading is linear in a size the upload limit already bounds.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import time
from pathlib import Path, PurePosixPath
from typing import Any

import pyarrow as pa
import pyarrow.ipc

from govhub.catalog.model import Resource
from govhub.config import Settings
from govhub.connectors.base import Extract
from govhub.connectors.sheet import read_sheet
from govhub.connectors.workbook_guard import digest_of, is_sound, trust_sound
from govhub.problems import GovhubError, Problem
from govhub.warehouse.sandbox import _zygote, spawn

log = logging.getLogger(__name__)

SHEET_CHILD = "govhub.warehouse.sheet_child"
BOUNDED = {"xlsx", "xlsm", "xls"}  # the kinds that decompress or decode a container
_PAGE = os.sysconf("SC_PAGE_SIZE")
_WATCH_S = 0.05  # how often the child's memory is looked at
_HEADER_MAX = 64 << 20  # the JSON header (a refusal's problems: up to a file's worth of row problems)
# the child's address space may exceed its resident bound by this much: Arrow, pandas and the readers' threads
# reserve address space they never touch (the 200k-row W2 workbook: ≈275 MB resident)
_ADDRESS_SPACE_MARGIN_MB = 3072


def start_reader(filename: str) -> None:
    """Start the readers' zygote now if `filename` is a workbook (a no-op once it runs): its start (≈0.7 s: imports
    and a first read) then overlaps the landing and checks that come before the read, e.g. in a one-off command."""
    if PurePosixPath(filename).suffix.lower().lstrip(".") in BOUNDED:
        _zygote(SHEET_CHILD)


def read_sheet_bounded(
    settings: Settings,
    resource: Resource,
    path: Path,
    *,
    filename: str | None = None,
    allow_empty: bool = False,
    template: dict[str, Any] | None = None,
    sha256: str | None = None,
) -> Extract:
    """`read_sheet`, with a workbook read in a child within the settings' time and memory; raises `GovhubError`
    (a refusal in Chinese) as `read_sheet` does, and `sheet.too_costly` when the child had to be stopped.
    `sha256`: the file's, when the caller knows it already (landing hashed it)."""
    name = filename or Path(path).name
    if PurePosixPath(name).suffix.lower().lstrip(".") not in BOUNDED:
        return read_sheet(resource, path, filename=filename, allow_empty=allow_empty, template=template)
    try:
        digest = sha256 or digest_of(Path(path))
        pid, outbox, inbox = spawn(SHEET_CHILD)
    except OSError as exc:  # the reader's process cannot start (or the file went): the hub's fault, said so
        log.error("no process to read %s: %s", name, exc)
        raise GovhubError(_unavailable(name)) from None
    request = {"resource": resource.model_dump(mode="json"), "path": str(Path(path).resolve()), "filename": name,
               "allow_empty": allow_empty, "template": template, "digest": digest, "known_sound": is_sound(digest),
               "address_space_bytes": (settings.sheet_read_memory_mb + _ADDRESS_SPACE_MARGIN_MB) << 20}  # fmt: skip
    try:
        with outbox:
            outbox.send_bytes(json.dumps(request, ensure_ascii=False, default=str).encode())
        _wait(settings, pid, inbox, name)
        header = json.loads(inbox.recv_bytes(_HEADER_MAX))
        if header["status"] != "ok":
            raise GovhubError(_refusal(settings, header, name))
        table = pa.ipc.open_stream(inbox.recv_bytes()).read_all()
        if header.get(
            "sound"
        ):  # the child found these bytes sound: this process knows it too (its own digest)
            trust_sound(digest)
    except (EOFError, OSError):  # the reader died (killed from outside, or aborted inside a reader)
        raise GovhubError(_too_costly(settings, name, "读取进程异常终止")) from None
    finally:
        inbox.close()
    batches = table.to_batches() or [
        pa.RecordBatch.from_pylist([], schema=table.schema)
    ]  # a sheet of no rows
    return Extract(batches=iter(batches), mode=header["mode"], problems=[Problem(**p) for p in header["problems"]],
                   source=header["source"])  # fmt: skip


def _wait(settings: Settings, pid: int, inbox: Any, name: str) -> None:
    """Until the child has answered; killed (and a `sheet.too_costly` refusal raised) past a bound. The bounds are
    looked at before each wait, so a child that answers at once is held to them too; and only while its result
    pipe is still open and silent — the child holds it until it exits, so the pid is still its own."""
    deadline = time.monotonic() + settings.sheet_read_timeout_s
    limit = settings.sheet_read_memory_mb << 20
    while not inbox.poll(0):
        over = None
        if time.monotonic() > deadline:
            over = f"超过 {settings.sheet_read_timeout_s:g} 秒"
        elif _resident(pid) > limit:
            over = f"占用内存超过 {settings.sheet_read_memory_mb} MB"
        if over:
            _kill(pid)
            log.warning("reading %s stopped: %s", name, over)
            raise GovhubError(_too_costly(settings, name, over))
        inbox.poll(_WATCH_S)


def _resident(pid: int) -> int:
    """The child's resident memory in bytes (0 once it is gone)."""
    try:
        with open(f"/proc/{pid}/statm", "rb") as f:
            return int(f.read().split()[1]) * _PAGE
    except (OSError, IndexError, ValueError):
        return 0


def _kill(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):  # it ended by itself meanwhile
        os.kill(pid, signal.SIGKILL)


def _too_costly(settings: Settings, name: str, why: str) -> Problem:
    return Problem(
        "sheet.too_costly",
        f"文件「{name}」读取时{why}，已停止读取：文件可能含有异常多的行、列或格式，或已损坏。请另存为新的"
        f"工作簿（只保留数据所在的工作表和区域）后重新上传",
        value=name,
        expected=f"{settings.sheet_read_timeout_s:g} 秒、{settings.sheet_read_memory_mb} MB 以内读完",
    )


def _unavailable(name: str) -> Problem:
    return Problem("load.reader_unavailable",
                   f"文件「{name}」已收到，但平台读取文件的进程未能运行，请稍后重新上传；如仍不成功请联系平台管理员",
                   value=name)  # fmt: skip


def _refusal(settings: Settings, header: dict[str, Any], name: str) -> list[Problem]:
    if header["status"] == "refused":
        return [Problem(**p) for p in header["problems"]]
    if header["status"] == "too_costly":
        return [_too_costly(settings, name, f"占用内存超过 {settings.sheet_read_memory_mb} MB")]
    log.error("reading %s failed in its process: %s: %s", name, header.get("kind"), header.get("message"))
    return [_unavailable(name)]  # a reader's own failure is the hub's to fix, not the agency's
