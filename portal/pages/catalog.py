"""The catalog (§7–§10) for everyone signed in: browse and search, and one resource's page."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, get
from litestar.params import Parameter
from litestar.response import Template

from govhub.access import Action
from govhub.catalog.model import (
    Agency,
    CatalogField,
    Resource,
    ResourceClass,
    SemanticType,
    ShareType,
    UpdateCycle,
)
from govhub.config import Settings
from govhub.portal import auth
from govhub.portal.views import catalog_of, freshness_today, page, person, resource_in, settings_of, today_of
from govhub.states import FreshnessState

NOT_IN_FORCE = "not_in_force"

SEMANTIC_ZH = {  # what a field's values mean, as the catalog's readers name it
    SemanticType.CN_ID: "公民身份号码",
    SemanticType.USCC: "统一社会信用代码",
    SemanticType.ADMIN_DIVISION: "行政区划代码",
    SemanticType.PHONE: "联系电话",
    SemanticType.MOBILE: "手机号码",
    SemanticType.EMAIL: "电子邮箱",
    SemanticType.POSTAL_CODE: "邮政编码",
    SemanticType.DATE: "日期",
    SemanticType.DATETIME: "日期时间",
    SemanticType.ENUM: "代码值",
    SemanticType.PERSON_NAME: "姓名",
    SemanticType.ORG_NAME: "单位名称",
    SemanticType.ADDRESS: "地址",
    SemanticType.LONGITUDE: "经度",
    SemanticType.LATITUDE: "纬度",
    SemanticType.AMOUNT: "金额",
    SemanticType.TEXT: "文本",
}


def field_type_text(f: CatalogField) -> str:
    """A field's type in Chinese: the storage type, and what the values mean when that says more ("文本（公民身份号码）",
    but "日期" for a date that is a date)."""
    base = f.type.label_zh
    meaning = SEMANTIC_ZH.get(f.semantic) if f.semantic else None
    return f"{base}（{meaning}）" if meaning and meaning != base else base


def _search_texts(r: Resource, agency: Agency | None) -> list[str]:
    """What the keyword search looks in: the resource's name, code, summary, id and tags; its fields' labels and
    names; its agency's name, short name and data steward."""
    texts = [r.name, r.code, r.summary, r.id, *r.tags]
    texts += [t for f in r.fields for t in (f.label, f.name)]
    if agency is not None:
        texts += [agency.id, agency.name, agency.short_name or "", agency.steward.name]
    return texts


@get("/catalog", opt=auth.signed_in(), sync_to_thread=True)
def catalog_page(
    request: Request,
    agency: str | None = None,
    cls: str | None = None,
    share: str | None = None,
    cycle: str | None = None,
    feed_state: Annotated[str | None, Parameter(query="state")] = None,
    q: str | None = None,
) -> Template:

    settings = settings_of(request)
    catalog = catalog_of(settings)
    freshness = {(r.agency, r.resource): r for r in freshness_today(settings, catalog)}
    text = (q or "").strip().lower()
    rows = []
    for r in catalog.resources:
        fresh = freshness.get(r.key)
        state_value = fresh.state.value if fresh else NOT_IN_FORCE
        if (
            (agency and r.agency != agency)
            or (cls and r.resource_class.value != cls)
            or (share and r.share.type.value != share)
            or (cycle and r.cycle.value != cycle)
            or (feed_state and state_value != feed_state)
            or (text and not any(text in v.lower() for v in _search_texts(r, catalog.agencies.get(r.agency))))
        ):
            continue
        rows.append((r, catalog.agencies.get(r.agency), fresh))
    filters = {"agency": agency or "", "cls": cls or "", "share": share or "", "cycle": cycle or "",
               "state": feed_state or "", "q": q or ""}  # fmt: skip
    return page(request, "catalog.html", rows=rows, filters=filters, agencies=catalog.agencies.values(),
                classes=list(ResourceClass), shares=list(ShareType), cycles=list(UpdateCycle),
                states=list(FreshnessState), total=len(catalog.resources))  # fmt: skip


@get("/catalog/{agency:str}/{resource:str}", opt=auth.signed_in(), sync_to_thread=True)
def resource_page(request: Request, agency: str, resource: str) -> Template:
    return resource_view(request, agency, resource)


def resource_view(request: Request, agency: str, resource: str, *, problems: list[Any] | None = None,
                  form: dict[str, str] | None = None, status_code: int = 200) -> Template:  # fmt: skip
    """One resource's page; for its agency's steward (and the office) also the catalog changes proposed for it and
    the form to propose one (`problems`, `form`: a refused proposal, shown again with what was typed)."""
    from govhub.events import list_events
    from govhub.warehouse.snapshots import current_info

    settings = settings_of(request)
    catalog = catalog_of(settings)
    res = resource_in(catalog, agency, resource)
    fresh = next((r for r in freshness_today(settings, catalog) if (r.agency, r.resource) == res.key), None)
    info = current_info(settings, res)
    last = list_events(settings, kind="load.*", subject=f"{res.agency}/{res.id}", newest_first=True, limit=1)
    docs = _docs_links(settings, res) if auth.may(request, Action.OVERSEE) else []
    return page(request, "resource.html", r=res, agency=catalog.agencies.get(res.agency), fresh=fresh,
                info=None if info is None or info.initial else info, last_load=last[0] if last else None,
                last_status=_status_zh(last[0].kind) if last else None,
                docs=docs, can_deliver=auth.may(request, Action.UPLOAD, res.agency),
                field_type=field_type_text, status_code=status_code,
                **_changes_context(request, res, problems or [], form))  # fmt: skip


def _docs_links(settings: Settings, res: Resource) -> list[tuple[str, str]]:
    """The resource's own Data Docs pages that exist (its rules; its latest validation) and the site's index, as
    (address under /data-docs/, label)."""
    from urllib.parse import quote

    from govhub.expectations.docs import data_docs_index, suite_page, validation_page

    index = data_docs_index(settings)
    pages = [(suite_page(settings, res), "本资源的校验规则"), (validation_page(settings, res), "最近一次校验结果"),
             (index, "全部资源的数据质量报告")]  # fmt: skip
    return [(f"/data-docs/{quote(page.relative_to(index.parent).as_posix())}", label)
            for page, label in pages if page is not None and page.is_file()]  # fmt: skip


def _changes_context(
    request: Request, res: Resource, problems: list[Any], form: dict[str, str] | None
) -> dict[str, Any]:
    """The resource's catalog changes and the proposal form, for whoever may propose one for its agency."""
    from govhub.services.catalog_changes import current_yaml, due_text, list_changes

    settings, who = settings_of(request), person(request)
    if not auth.may(request, Action.PROPOSE_CATALOG_CHANGE, res.agency):
        return {"may_propose": False, "changes": [], "change_problems": [], "change_form": {}, "due_of": None}
    today = today_of(request)
    changes = [c for c in list_changes(settings, actor=who.id, agency=res.agency) if c.resource == res.id]
    typed = form or {"yaml_text": current_yaml(settings, res), "note": ""}
    return {"may_propose": True, "changes": changes, "change_problems": problems, "change_form": typed,
            "due_of": lambda c: due_text(settings, c, today),
            "may_review": auth.may(request, Action.REVIEW_CATALOG_CHANGE)}  # fmt: skip


def _status_zh(kind: str) -> str:
    """A load event's outcome as people read it ("load.published" → 已发布)."""
    from govhub.states import LoadStatus

    try:
        return LoadStatus(kind.removeprefix("load.")).label
    except ValueError:
        return "载入记录"
