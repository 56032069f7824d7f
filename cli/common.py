"""What every sub-command needs from the catalog, with one way of telling the user what went wrong.

Handlers raise `CliError` (or let a `GovhubError` through); `main()` prints it and returns its exit code — never a
traceback.
"""

from __future__ import annotations

import argparse
import datetime as dt
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from govhub.catalog.model import Catalog, Resource
    from govhub.config import Settings


class CliError(Exception):
    """A message for the person at the terminal and the exit code to end with."""

    def __init__(self, message: str, code: int = 2):
        super().__init__(message)
        self.code = code


def settings_and_catalog() -> tuple[Settings, Catalog]:
    """The hub's settings and its catalog, which must be valid (every problem is listed otherwise)."""
    from govhub.catalog.load import CatalogInvalid, require_catalog
    from govhub.config import get_settings

    settings = get_settings()
    try:
        return settings, require_catalog(settings.catalog_dir)
    except CatalogInvalid as exc:
        raise CliError("目录有误（govhub catalog validate 可查看全部问题）：\n" + str(exc), code=1) from None


def find_resource(catalog: Catalog, ref: str, *, code: int = 2) -> Resource:
    """A resource by code, agency/resource key or id."""
    try:
        return catalog.resource(ref)
    except KeyError:
        raise CliError(f"目录中没有资源「{ref}」（可用 govhub catalog list 查看）", code=code) from None


def iso_date(text: str) -> dt.date:
    """An argparse type for YYYY-MM-DD, with a plain message for anything else."""
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from None
