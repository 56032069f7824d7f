"""The demo district's sharing (§12–§13), so every page and command has something real to show: a granted request
for a base resource, a conditional one answered narrower and granted, one waiting for its provider's answer (the
countdown runs), one refused and disputed (the office's queue). Made through the same services people use, as the
demo's people; skipped when the hub already has requests."""

from __future__ import annotations

import datetime as dt

from govhub.catalog.model import Catalog
from govhub.config import Settings
from govhub.demo.people import OFFICE, steward_of
from govhub.governance.requests import list_requests
from govhub.services import requests as svc
from govhub.states import Decision

YEAR = dt.timedelta(days=365)


def seed_demo_sharing(settings: Settings, catalog: Catalog, today: dt.date) -> list[str]:
    """The demo's requests (ids), made once."""
    if list_requests(settings):
        return []
    office = OFFICE.id

    def request(consumer: str, ref: str, fields: list[str], purpose: str, basis: str, rows=None):  # type: ignore[no-untyped-def]
        return svc.file_request(settings, catalog, catalog.resource(ref), actor=steward_of(catalog, consumer),
                                fields=fields, row_scope=rows or [], purpose=purpose, basis=basis, use_from=today,
                                use_until=today + YEAR, today=today)  # fmt: skip

    made = []
    # 人社局 asks for 民政局's social organisations (a legal-entity base resource, unconditional): the office approves
    shzz = request("rsj", "mzj/shzz", ["uscc", "org_name", "org_type"], "核对社会组织用工和社保登记单位",
                   "《社会保险法》第五十七条")  # fmt: skip
    svc.review(settings, catalog, shzz.id, actor=office, approve=True, today=today)
    made.append(shzz.id)
    # 民政局 asks for 公安's registered population (conditional): answered narrower, executed, granted
    hjrk = request("mzj", "gaj/hjrk", ["id_number", "name", "birth_date", "town_code"], "低保家庭成员户籍核查",
                   "《社会救助暂行办法》第十一条", rows=[{"field": "town_code", "in": ["310117107", "310117003"]}])  # fmt: skip
    svc.forward(settings, hjrk.id, actor=office, today=today)
    svc.answer(settings, catalog, hjrk.id, actor=steward_of(catalog, "gaj"), decision=Decision.APPROVE,
               fields=["id_number", "name", "town_code"], conditions="仅用于低保核查，不得向第三方提供", today=today)  # fmt: skip
    svc.execute(settings, catalog, hjrk.id, actor=office, today=today)
    made.append(hjrk.id)
    # 市场监管局 asks for 公安's non-local residents (conditional): waiting for the answer, the clock running
    lhry = request("scjgj", "gaj/lhry", ["id_number", "name", "town_code"], "个体工商户经营者身份核验",
                   "《市场主体登记管理条例》第十七条")  # fmt: skip
    svc.forward(settings, lhry.id, actor=office, today=today)
    made.append(lhry.id)
    # 卫健委 asks for 房管局's housing transactions (conditional): refused with its basis, then disputed
    clfjy = request("wjw", "fgj/clfjy", ["contract_no", "house_id", "buyer_id"], "家庭医生签约居住地核实",
                    "《基本医疗卫生与健康促进法》第三十一条")  # fmt: skip
    svc.forward(settings, clfjy.id, actor=office, today=today)
    svc.answer(settings, catalog, clfjy.id, actor=steward_of(catalog, "fgj"), decision=Decision.REFUSE,
               reason="交易合同含个人财产信息，与申请用途不相称", legal_basis="《个人信息保护法》第六条（最小必要）", today=today)  # fmt: skip
    svc.execute(settings, catalog, clfjy.id, actor=office, today=today)
    svc.dispute(
        settings,
        clfjy.id,
        actor=steward_of(catalog, "wjw"),
        reason="仅需房屋编号核实居住地，可去除合同金额",
        today=today,
    )
    made.append(clfjy.id)
    return made
