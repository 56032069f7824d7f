"""Make a new hub (`govhub init`): its data folder, the workflow store at head, and a catalog — an existing one it
points at, or a starter catalog to fill in. Every other command refuses a data folder that does not exist, so a
mistyped --home never becomes an empty hub quietly."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from govhub import store
from govhub.catalog.load import load_catalog
from govhub.clock import today_in_beijing
from govhub.config import Settings, holds_a_hub, mark_in_service, save_hub_setting

STARTER_AGENCIES = """\
# 提供和使用数据资源的机构（《办法》第十条、第十五条）：每个机构一项，指定数据专管员。
agencies:
  - id: demo
    name: 示例局（请改为本区的机构）
    short_name: 示例局
    uscc: 11310117002425109R
    steward: {name: 张三, phone: 021-57800000, email: zhangsan@example.gov.cn}
"""
STARTER_RESOURCE = """\
# 一个数据资源的目录条目（《办法》第七至十条）：govhub catalog validate 检查，govhub template 生成填报模板。
id: example
code: 205001001/000001
name: 示例资源（请改为实际资源）
summary: 用于演示的填报资源，请按实际情况修改或删除。
agency: demo
class: thematic
share: {type: unconditional}
open: closed
cycle: monthly
delivery:
  method: sheet
  sheet: {formats: [xlsx, csv], encoding: auto}
fields:
  - {name: id_number, label: 公民身份号码, semantic: cn_id, required: true}
  - {name: name, label: 姓名, semantic: person_name, required: true}
  - {name: registered_on, label: 登记日期, type: date, semantic: date, required: true}
primary_key: [id_number]
status: draft
"""


@dataclass(frozen=True)
class InitResult:
    home: Path
    catalog: Path
    catalog_created: bool  # a starter catalog was written (else an existing one is used)
    store_revision: str
    already_a_hub: bool  # the folder held a hub already: only the store was brought to head
    resources: int
    in_service_since: dt.date | None = None  # scorecards judge nothing due before it, or on it

    def to_dict(self) -> dict[str, object]:
        return {k: str(v) if isinstance(v, Path | dt.date) else v for k, v in self.__dict__.items()}


def init_hub(
    settings: Settings, catalog: Path | None = None, *, in_service_since: dt.date | None = None
) -> InitResult:
    """Create (or complete) the hub at `settings.home` with `catalog` (default: `<home>/catalog`). `in_service_since`
    sets the day the hub went into service (an earlier hub's own, say); else a new hub's is today and an existing
    hub keeps what it has."""
    home = settings.home
    already = holds_a_hub(home)
    home.mkdir(parents=True, exist_ok=True)
    target = Path(catalog).resolve() if catalog else (home / "catalog")
    created = False
    if not (target / "agencies.yaml").exists():
        (target / "demo").mkdir(parents=True, exist_ok=True)
        (target / "agencies.yaml").write_text(STARTER_AGENCIES, encoding="utf-8")
        (target / "demo" / "example.yaml").write_text(STARTER_RESOURCE, encoding="utf-8")
        created = True
    save_hub_setting(home, "catalog", str(target) if target.parent != home else target.name)
    since = in_service_since or settings.in_service_since
    if in_service_since is not None:
        save_hub_setting(home, "in_service_since", in_service_since.isoformat())
    elif not already:  # a new hub: nothing due before today is judged (an existing one keeps what it had)
        kept = mark_in_service(home, today_in_beijing())
        since = since or kept  # the environment's, when it names one
    done = store.upgrade(settings)
    found, _ = load_catalog(target)
    return InitResult(home, target, created, done.after, already, len(found.resources), since)
