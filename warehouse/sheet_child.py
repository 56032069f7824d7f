"""Reading an agency's workbook in a process of its own (warehouse/sheet_guard.py), forked from a zygote.

`python -I -m govhub.warehouse.sheet_child FD` is the zygote: the query sandbox's (`sandbox_child.serve`) with the
sheet readers imported instead of a query runner. Each child reads one file with `connectors.sheet.read_sheet` and
writes a JSON header (the outcome and its problems) and, when it read rows, the rows as Arrow IPC. The parent
watches its time and memory and kills it beyond them: a workbook that expands without end costs the child, never
the portal, the inbox sensor or the command that received it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import resource
import socket
import sys
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.ipc

from govhub.catalog.model import Resource
from govhub.connectors.sheet import read_sheet
from govhub.connectors.workbook_guard import is_sound, trust_sound
from govhub.problems import GovhubError
from govhub.warehouse.sandbox_child import serve


def _problems(problems: list[Any]) -> list[dict[str, Any]]:
    return [dataclasses.asdict(p) for p in problems]


def answer(request: dict[str, Any], out: Connection) -> bool:
    """Read the sheet `request` names and send what came of it (never raises: a failure is a header too)."""
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # a crash must not write the agency's rows to disk
    space = request["address_space_bytes"]  # the parent watches resident memory; this stops a sudden runaway
    resource.setrlimit(resource.RLIMIT_AS, (space, space))
    if request["known_sound"]:  # the caller already searched these bytes (identifying the sheet): not again
        trust_sound(request["digest"])
    try:
        extract = read_sheet(Resource.model_validate(request["resource"]), Path(request["path"]),
                             filename=request["filename"], allow_empty=request["allow_empty"],
                             template=request["template"])  # fmt: skip
        table = pa.Table.from_batches(list(extract.batches))
        sink = pa.BufferOutputStream()
        with pa.ipc.new_stream(sink, table.schema) as writer:
            writer.write_table(table)
        header = {"status": "ok", "problems": _problems(extract.problems), "source": extract.source,
                  "mode": extract.mode, "sound": is_sound(request["digest"])}  # fmt: skip
        out.send_bytes(json.dumps(header, ensure_ascii=False, default=str).encode())
        out.send_bytes(sink.getvalue())
    except GovhubError as exc:  # the file refused, in Chinese: the outcome the agency reads
        out.send_bytes(
            json.dumps({"status": "refused", "problems": _problems(exc.problems)}, default=str).encode()
        )
    except MemoryError:  # the address-space limit met (Arrow's own out-of-memory error is one too)
        out.send_bytes(json.dumps({"status": "too_costly"}).encode())
    except Exception as exc:  # a reader's own failure: the parent says it in Chinese and logs the detail
        out.send_bytes(
            json.dumps({"status": "error", "kind": type(exc).__name__, "message": str(exc)[:2000]}).encode()
        )
    return True


_WARM_UP = {
    "id": "warm", "code": "000000000/000000", "name": "预热", "summary": "预热", "agency": "x", "class": "thematic",
    "share": {"type": "unconditional"}, "open": "closed", "cycle": "monthly",
    "delivery": {"method": "sheet", "sheet": {"formats": ["xlsx"], "encoding": "auto"}},
    "fields": [{"name": "id_number", "label": "身份证号", "semantic": "cn_id", "required": True},
               {"name": "n", "label": "人数", "type": "integer"}, {"name": "d", "label": "日期", "type": "date"},
               {"name": "ok", "label": "通过", "type": "boolean"}, {"name": "amount", "label": "金额", "type": "number"}],
    "primary_key": ["id_number"], "status": "published", "published_on": "2020-01-06",
}  # fmt: skip


def warm_up() -> None:
    """Read a two-row workbook once, here in the zygote: what reading imports and builds on first use (the readers,
    pandas behind fastexcel, Arrow's kernels, patterns) is then every child's from the start — otherwise each child
    would pay it again (≈0.3 s a sheet)."""
    import tempfile

    import openpyxl

    resource = Resource.model_validate(_WARM_UP)
    with tempfile.TemporaryDirectory(prefix="govhub-warm-") as tmp:
        path = Path(tmp) / "warm.xlsx"
        book = openpyxl.Workbook()
        book.active.append([f.label for f in resource.fields])
        book.active.append(["11010519491231002X", 3, "2026-01-31", "是", 12.5])
        book.save(path)
        with contextlib.suppress(GovhubError):  # refused or not, the readers have run
            list(read_sheet(resource, path, filename="warm.xlsx").batches)


if __name__ == "__main__":
    os.chdir("/")
    with contextlib.suppress(Exception):  # a zygote that could not warm up still serves: its children import
        warm_up()
    serve(socket.socket(fileno=int(sys.argv[1])), answer)
