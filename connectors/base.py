"""What every connector returns, and where it keeps the raw input it received.

Connectors know nothing of Dagster or of the hub's storage: they read a source, hand each raw piece to a `RawSink`
(the warehouse lands it byte-for-byte), and yield Arrow record batches in the catalog's schema.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

import pyarrow as pa

from govhub.problems import Problem


class RawSink(Protocol):
    """Keeps one raw piece of input exactly as received (an API page, a DB extract chunk as Parquet, a file)."""

    def write(self, name: str, data: bytes) -> None: ...


class NullSink:
    """For callers that land elsewhere (an uploaded file is landed before it is parsed)."""

    def write(self, name: str, data: bytes) -> None:
        return None


@dataclass
class Extract:
    """One pull from a source.

    `batches` yields record batches in `arrow_schema(resource, with_row=True)`; `problems` collects per-cell problems
    found while reading (the rows stay, with NULL in the bad cell, and are quarantined by the load). `cursor` is the
    new high-water mark for incremental sources, known once `batches` is exhausted, and persisted by the warehouse only
    after the snapshot it fed is published.
    """

    batches: Iterator[pa.RecordBatch]
    mode: Literal["full", "incremental"] = "full"
    problems: list[Problem] = field(default_factory=list)
    cursor: dict[str, Any] | None = None
    source: str = ""  # for people and logs: URL, table or file name — never a secret
