"""What every sub-command needs from the catalog, with one way of telling the user what went wrong.

Handlers raise `CliError` (or let a `GovhubError` through); `main()` prints it and returns its exit code — never a
traceback.
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from govhub.catalog.model import Catalog, Resource
    from govhub.config import Settings


class CliError(Exception):
    """A message for the person at the terminal and the exit code to end with (2: usage, the default). `problem`: a
    registered problem code for scripts (`--json`), when one says exactly what went wrong; else "usage" (exit 2) or
    "failed" (exit 1)."""

    def __init__(self, message: str, code: int = 2, *, problem: str | None = None):
        super().__init__(message)
        self.code = code
        self.problem = problem or ("usage" if code == 2 else "failed")


def require_folders(settings: Settings, needs: str) -> None:
    """The data folder (needs "hub") and the catalog folder (needs "hub" or "catalog") must exist: a mistyped --home
    or a command run outside the project is a usage error, never a new empty hub or an empty catalog."""
    if needs == "nothing":
        return
    from govhub.config import holds_a_hub

    if needs == "hub" and not settings.home.is_dir():
        raise CliError(
            f"数据文件夹 {settings.home} 不存在：请检查 --home 或 $GOVHUB_HOME；"
            f"要新建一个平台，请运行 govhub init --home {settings.home}"
        )
    # a hub whose state is configured elsewhere (PostgreSQL, a deployment's fresh volume) is a hub: the people
    # registry lives with that state, not in this folder
    if needs == "hub" and settings.state_in_folder and not holds_a_hub(settings.home):
        # an existing folder that holds no hub (a catalog folder, an empty one): acting there would make a new hub
        # with nobody registered — open to anyone — and report on nothing
        raise CliError(
            f"{settings.home} 不是 govhub 的数据文件夹（其中没有 state、hub 等）：请检查 --home 或 $GOVHUB_HOME；"
            f"要在此新建一个平台，请运行 govhub init --home {settings.home}"
        )
    if not settings.catalog_dir.is_dir():
        raise CliError(
            f"资源目录文件夹 {settings.catalog_dir} 不存在：请在项目文件夹中运行，或用 --catalog / $GOVHUB_CATALOG "
            "指定目录（govhub init --catalog 可新建一个）"
        )


def settings_and_catalog(args: argparse.Namespace) -> tuple[Settings, Catalog]:
    """The hub's settings (made once by `main`) and its catalog, which must be valid (every problem is listed)."""
    from govhub.catalog.load import CatalogInvalid, require_catalog

    settings = args.settings
    try:
        return settings, require_catalog(settings.catalog_dir)
    except CatalogInvalid as exc:
        raise CliError(
            "资源目录有误（govhub catalog validate 可查看全部问题）：\n" + str(exc), code=1
        ) from None


def checked_agency(args: argparse.Namespace) -> str | None:
    """`--agency` as a filter: one of the catalog's agencies, or a usage error naming them (an empty table for a
    typo would read as "nothing there")."""
    agency = getattr(args, "agency", None)
    if not agency:
        return agency
    from govhub.catalog.load import load_agencies

    known, problems = load_agencies(args.settings.catalog_dir)
    if problems:  # an invalid agency list is reported by what reads it next (catalog validate names it)
        return agency
    if agency not in known:
        raise CliError(
            f"目录中没有机构“{agency}”（可选：{'、'.join(known)}）", code=2, problem="scope.unknown_agency"
        )
    return agency


def find_resource(catalog: Catalog, ref: str, *, code: int = 2) -> Resource:  # 2: a usage error, everywhere
    """A resource by code, agency/resource key or id."""
    try:
        return catalog.resource(ref)
    except KeyError:
        raise CliError(f"目录中没有资源「{ref}」（可用 govhub catalog list 查看）", code=code) from None


def at_least(
    minimum: float, *, whole: bool = True, above: bool = False, most: float | None = None
) -> Callable[[str], float]:
    """An argparse type for a count (`whole`) or a number of seconds not below `minimum` (strictly above it when
    `above`) and not above `most`: `--limit -1`, `--timeout 0` or an id past what the store can hold is a usage error
    said in Chinese, not a limit nobody can mean (nor an overflow deeper down)."""

    def parse(text: str) -> float:
        try:
            value = int(text) if whole else float(text)
        except ValueError:
            value = None
        low_ok = (
            value is not None and math.isfinite(value) and (value > minimum if above else value >= minimum)
        )
        if not low_ok or (most is not None and value > most):
            kind, said = ("整数", lambda n: str(int(n))) if whole else ("数", lambda n: f"{n:g}")
            bound = f"大于 {said(minimum)}" if above else f"不小于 {said(minimum)}"
            if most is not None:
                bound += f"、不大于 {said(most)}"
            raise argparse.ArgumentTypeError(f"“{text[:40]}”不可用：应为{bound} 的{kind}")
        return value

    return parse


# the largest integer the workflow store holds (SQLite's INTEGER, PostgreSQL's BIGINT): an id given on the command line
STORE_INT_MAX = 2**63 - 1

# the days a date option may name: what the working-day calendar, the periods and the store can all work with
# (Python's dates end in 9999: a period's end, or the moment in UTC, would not; nor would the day before 0001-01-01)
FIRST_DAY, LAST_DAY = dt.date(2000, 1, 1), dt.date(2100, 12, 31)


def _in_span(text: str, day: dt.date) -> None:
    if not FIRST_DAY <= day <= LAST_DAY:
        raise argparse.ArgumentTypeError(f"“{text[:40]}”不可用：日期应在 {FIRST_DAY} 至 {LAST_DAY} 之间")


def iso_date(text: str) -> dt.date:
    """An argparse type for YYYY-MM-DD between FIRST_DAY and LAST_DAY, with a plain message for anything else: every
    date option (--as-of, --from, --to, --until, --in-service-since) uses it."""
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"“{text[:40]}”不是日期（应为 YYYY-MM-DD）") from None
    _in_span(text, day)
    return day


def day_or_time(text: str) -> dt.datetime:
    """An argparse type for a day or a moment (ISO 8601; Beijing time unless it names its zone), its day within the
    same span as `iso_date`'s: --since, --before."""
    from govhub.clock import BEIJING

    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"“{text[:40]}”不是日期或时间（应为 ISO 8601，如 2026-11-27 09:00）"
        ) from None
    _in_span(text, value.date())
    return value if value.tzinfo else value.replace(tzinfo=BEIJING)  # people mean Beijing time


def pyarrow_without_pandas_detection() -> None:
    """Tell pyarrow up front that this process hands it no pandas objects.

    pyarrow imports pandas (≈0.3 s, a third of a cold `govhub upload`) the first time it converts any Python value,
    only to check whether the value is a pandas object. Failing that first import once makes pyarrow skip the check;
    anything that really needs pandas later (`to_pandas()`, Great Expectations) still imports it normally, because
    pyarrow retries the import whenever pandas is required rather than probed. Used by the commands whose load path
    never passes pandas objects to pyarrow (upload, ingest)."""
    import sys

    if "pandas" in sys.modules:
        return

    class _NoPandas:
        def find_spec(self, name: str, path: object = None, target: object = None) -> None:
            if name == "pandas" or name.startswith("pandas."):
                raise ImportError("pandas is not probed by this command")
            return None

    blocker = _NoPandas()
    sys.meta_path.insert(0, blocker)
    try:
        import pyarrow as pa

        pa.array([0])  # the probe: pyarrow records "no pandas" and stops asking
    finally:
        sys.meta_path.remove(blocker)
