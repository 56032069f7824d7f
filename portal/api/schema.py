"""The shapes the docking API answers in, as the OpenAPI document describes them (the answers themselves are
written by `services.docking`; `tests/portal/api/` checks them against this document with schemathesis)."""

from __future__ import annotations

from typing import Any

import msgspec


class ApiProblem(msgspec.Struct):
    """Every refusal and error: a stable `code`, its Chinese title and a message for the consumer's team."""

    status: int
    code: str
    title: str
    message: str


class FieldInfo(msgspec.Struct):
    name: str
    label: str
    type: str


class Access(msgspec.Struct):
    """One reason the agency may reach a resource: its own, a base resource shared unconditionally, or a grant."""

    basis: str
    basis_label: str
    fields: list[str]
    rows: list[
        dict[str, Any]
    ]  # row scope: [{"field": f, "in": [...]}, {"field": f, "between": [lo, hi]}]; [] = all
    grant_id: str | None
    purpose: str | None
    expires_on: str | None


class ResourceEntry(msgspec.Struct):
    agency: str
    resource: str
    code: str
    name: str
    snapshot_id: str
    changes_since: str  # `since` for the next changes call: this snapshot, under today's scope
    primary_key: list[str]
    fields: list[FieldInfo]
    access: list[Access]
    rows_url: str
    changes_url: str


class ResourceList(msgspec.Struct):
    agency: str
    system: str
    date: str
    resources: list[ResourceEntry]


class RowsPage(msgspec.Struct):
    agency: str
    resource: str
    snapshot_id: str
    changes_since: str  # `since` for the next changes call: this snapshot, under the scope it was read with
    columns: list[str]
    count: int
    rows: list[dict[str, Any]]
    next_cursor: str | None


class ChangesPage(msgspec.Struct):
    agency: str
    resource: str
    snapshot_id: str
    changes_since: str
    since: str
    columns: list[str]  # "_change" (insert | update | delete) first
    count: int
    changes: list[dict[str, Any]]
    next_cursor: str | None
