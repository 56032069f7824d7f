"""A workbook read within bounds: `read_sheet_bounded` is `connectors.sheet.read_sheet` in a child process
(warehouse/sheet_child.py) that is killed past `Settings.sheet_read_timeout_s` or `sheet_read_memory_mb` of
resident memory — whatever the file holds. The readers check a workbook's declared sizes before decompressing
anything (connectors/workbook_guard.py); this bound holds also for what no check foresaw, in every process that
receives sheets (the portal, the inbox sensor, `govhub upload`), which never parses a workbook itself.

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
from govhub.connectors.workbook_guard import found_sound, trust_sound
from govhub.problems import GovhubError, Problem
from govhub.warehouse.sandbox import _zygote, spawn

log = logging.getLogger(__name__)

SHEET_CHILD = "govhub.warehouse.sheet_child"
BOUNDED = {"xlsx", "xlsm", "xls"}  # the kinds that decompress or decode a container
_PAGE = os.sysconf("SC_PAGE_SIZE")
_WATCH_S = 0.05  # how often the child's memory is looked at
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
) -> Extract:
    """`read_sheet`, with a workbook read in a child within the settings' time and memory; raises `GovhubError`
    (a refusal in Chinese) as `read_sheet` does, and `sheet.too_costly` when the child had to be stopped."""
    name = filename or Path(path).name
    if PurePosixPath(name).suffix.lower().lstrip(".") not in BOUNDED:
        return read_sheet(resource, path, filename=filename, allow_empty=allow_empty, template=template)
    request = {"resource": resource.model_dump(mode="json"), "path": str(Path(path).resolve()), "filename": name,
               "allow_empty": allow_empty, "template": template,
               "address_space_bytes": (settings.sheet_read_memory_mb + _ADDRESS_SPACE_MARGIN_MB) << 20,
               "sound": found_sound(Path(path))}  # fmt: skip
    pid, outbox, inbox = spawn(SHEET_CHILD)
    try:
        with outbox:
            outbox.send_bytes(json.dumps(request, ensure_ascii=False, default=str).encode())
        _wait(settings, pid, inbox, name)
        header = json.loads(inbox.recv_bytes())
        if header["status"] != "ok":
            raise GovhubError(_refusal(header, name))
        table = pa.ipc.open_stream(inbox.recv_bytes()).read_all()
        if header.get("sound"):  # what the child found sound, this process knows too (as if it had read it)
            trust_sound(header["sound"])
    except (EOFError, BrokenPipeError, ConnectionResetError):
        raise GovhubError(_too_costly(settings, name, "读取进程异常终止")) from None
    finally:
        inbox.close()
    batches = table.to_batches() or [
        pa.RecordBatch.from_pylist([], schema=table.schema)
    ]  # a sheet of no rows
    return Extract(batches=iter(batches), mode=header["mode"], problems=[Problem(**p) for p in header["problems"]],
                   source=header["source"])  # fmt: skip


def _wait(settings: Settings, pid: int, inbox: Any, name: str) -> None:
    """Until the child has answered; killed (and a `sheet.too_costly` refusal raised) past a bound."""
    deadline = time.monotonic() + settings.sheet_read_timeout_s
    limit = settings.sheet_read_memory_mb << 20
    while True:  # the bounds are looked at before each wait: also a child that answers at once is within them
        over = None
        if time.monotonic() > deadline:
            over = f"超过 {settings.sheet_read_timeout_s:g} 秒"
        elif _resident(pid) > limit:
            over = f"占用内存超过 {settings.sheet_read_memory_mb} MB"
        if over:
            _kill(pid)
            log.warning("reading %s stopped: %s", name, over)
            raise GovhubError(_too_costly(settings, name, over))
        if inbox.poll(_WATCH_S):
            return


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


def _refusal(header: dict[str, Any], name: str) -> list[Problem]:
    if header["status"] == "refused":
        return [Problem(**p) for p in header["problems"]]
    log.error("reading %s failed in its process: %s: %s", name, header.get("kind"), header.get("message"))
    return [Problem("sheet.not_xlsx", f"文件「{name}」无法作为 Excel 工作簿读取，请用 Excel 打开并另存为 .xlsx 后重新上传",
                    value=name)]  # fmt: skip
