"""Fill-in templates in and out (§11 平台填报): issuing a resource's template, and telling which resource — and which
template version — an uploaded sheet belongs to. The CLI, the portal and the inbox all go through here.

`identify_sheet` is the one resolver. An xlsx made by `govhub template` names its resource and catalog version in
its custom document properties (read without opening a sheet); any other sheet is matched by its header row against
every sheet-fed resource, and against the header rows of the template versions this hub issued (a CSV template
carries nothing else). A sheet from any template version is the template's business — an outdated one is told what
changed — and never evidence that the catalog is out of date (drift).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from govhub.catalog.model import Catalog, DeliveryMethod, Resource
from govhub.config import Settings
from govhub.connectors.headers import match_score, normalise_header
from govhub.connectors.template import (
    template_headers,
    template_meta,
    template_props,
    write_csv_template,
    write_template,
)
from govhub.problems import GovhubError, Problem
from govhub.warehouse.templates import issued_template, issued_templates, record_template


@dataclass(frozen=True)
class SheetOrigin:
    """Which resource a sheet is for, and the template version it was made from (None: not from a template)."""

    resource: Resource
    template: dict[str, Any] | None
    found_by: Literal["given", "template", "headers"]
    from_template: bool = False  # made from one of govhub's templates (any version, any resource)

    @property
    def outdated(self) -> bool:
        return self.template is not None and self.template.get("fingerprint") != self.resource.fingerprint


def issue_template(
    settings: Settings, catalog: Catalog, resource: Resource, dest: Path, *, fmt: str = "xlsx"
) -> Path:
    """Write `resource`'s fill-in template (xlsx or csv) and remember the catalog version it was made from."""
    if fmt == "csv":
        path = write_csv_template(resource, dest)
    else:
        agency = catalog.agencies.get(resource.agency)
        path = write_template(resource, dest, agency_name=agency.name if agency else None)
    # a template made outside any hub (`govhub template` in the project) records nothing
    if settings.home.is_dir():
        record_template(settings, resource, template_meta(resource))
    return path


def identify_sheet(
    settings: Settings,
    catalog: Catalog | None,
    path: Path,
    *,
    filename: str | None = None,
    resource: Resource | None = None,
) -> SheetOrigin:
    """The resource a sheet is for (`resource` when the caller names it) and where the sheet came from.

    Raises `GovhubError` (`sheet.unidentified`) when no resource is named and the sheet names none clearly; the
    catalog is needed only then."""
    props = template_props(path) if (filename or path.name).lower().endswith((".xlsx", ".xlsm")) else {}
    if props.get("code"):
        return _from_props(settings, catalog, props, resource)
    if resource is not None or catalog is None:
        assert resource is not None, "identify_sheet needs the catalog or the resource"
        template = _issued_version_by_headers(settings, resource, lambda: _header_rows(path, filename))
        return SheetOrigin(resource, template, "given", from_template=template is not None)
    return _by_headers(settings, catalog, path, filename)


def _from_props(
    settings: Settings, catalog: Catalog | None, props: dict[str, str], given: Resource | None
) -> SheetOrigin:
    code, fingerprint = props["code"], props.get("fingerprint", "")
    try:
        resource = given or catalog.resource(code)  # type: ignore[union-attr]
    except KeyError:
        raise GovhubError(
            Problem(
                "sheet.unidentified",
                f"该文件是资源「{code}」的填报模板，但目录中已没有该资源：请与区科委核实，或用 --resource 指定资源",
                value=code,
            )
        ) from None
    template = issued_template(settings, resource, fingerprint) if resource.code == code else None
    if template is None and resource.code == code and fingerprint == resource.fingerprint:
        template = template_meta(resource)
    return SheetOrigin(resource, template, "given" if given else "template", from_template=True)


def _header_rows(path: Path, filename: str | None) -> list[list[object]]:
    from govhub.connectors.sheet import head_rows

    return head_rows(path, filename)


def _normalised(row: list[object]) -> list[str]:
    cells = [normalise_header(c) for c in row]
    while cells and not cells[-1]:
        cells.pop()
    return cells


def _issued_version_by_headers(
    settings: Settings, resource: Resource, head: Callable[[], list[list[object]]]
) -> dict[str, Any] | None:
    """The issued template version whose header row this sheet has exactly (labels and order); the sheet is not
    opened when no template of the resource was ever issued."""
    versions = issued_templates(settings, resource)
    rows = head() if versions else []
    if not rows:
        return None
    sheet = resource.delivery.sheet
    header = (
        rows[(sheet.header_row if sheet else 1) - 1]
        if len(rows) >= (sheet.header_row if sheet else 1)
        else []
    )
    found = _normalised(header)
    for meta in reversed(versions):  # the newest first: a header unchanged across versions is the newest's
        if found == [normalise_header(h) for h in template_headers(meta)]:
            return meta
    return None


def _by_headers(settings: Settings, catalog: Catalog, path: Path, filename: str | None) -> SheetOrigin:
    rows = _header_rows(path, filename)
    candidates = [r for r in catalog.resources if r.delivery.method is DeliveryMethod.SHEET]
    scored = sorted(
        ((max((match_score(r, row) for row in rows), default=0), r) for r in candidates),
        key=lambda pair: -pair[0],
    )
    best = [r for score, r in scored if scored and score == scored[0][0] and score > 0]
    name = filename or path.name
    if len(best) == 1 and scored[0][0] >= max(1, (len(best[0].fields) + 1) // 2):
        resource = best[0]
        template = _issued_version_by_headers(settings, resource, lambda: rows)
        return SheetOrigin(resource, template, "headers", from_template=template is not None)
    near = "、".join(f"「{r.name}」（{r.code}）" for r in best[:5])
    raise GovhubError(
        Problem(
            "sheet.unidentified",
            f"无法从文件「{name}」判断它属于哪个资源"
            + (f"（表头与{near}都相近）" if len(best) > 1 else "（表头与目录中的资源都不符）")
            + "：请使用从平台下载的填报模板，或指定资源（govhub upload 文件 --resource 资源代码）",
            value=name,
        )
    )
