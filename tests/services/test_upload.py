"""Uploads are authorized and recorded alike from every entry point (CLI, inbox, Dagster launch), and nothing after a
refusal — the annotated workbook, reports — can turn a clean refusal into a failure."""

from __future__ import annotations

import io
import shutil
import zipfile
from pathlib import Path

import dagster as dg
import pytest

from govhub.events import list_events
from govhub.problems import AccessDenied, GovhubError
from govhub.roles import Role
from govhub.services.inbox import inbox_dir, person_inbox
from govhub.services.people import register_person
from govhub.services.upload import deliver_inbox, upload_sheet
from govhub.warehouse.snapshots import current_snapshot_id
from tests.conftest import DemoHub, set_quality
from tests.services.test_ingest import BAD_AT, ID_LABEL, SHEET_CODE, clean_sheet, sheet_with_bad_ids

STEWARD, OTHER_STEWARD, ANALYST = (
    "zhanghaifeng",
    "wangjingyi",
    "rsj_fenxi",
)  # rsj's steward, mzj's, rsj's analyst


@pytest.fixture
def registered(demo_hub: DemoHub) -> DemoHub:
    """The demo's people for rsj and mzj, registered the way an installation does (office first)."""
    s = demo_hub.settings
    known = set(demo_hub.catalog.agencies)
    register_person(
        s, "zhaoqiang", name="赵强", agency="kw", roles=[Role.OFFICE], actor="installer", known_agencies=known
    )
    for pid, name, agency, role in [(STEWARD, "张海峰", "rsj", Role.STEWARD), (OTHER_STEWARD, "王静怡", "mzj", Role.STEWARD),
                                    (ANALYST, "陈思远", "rsj", Role.ANALYST)]:  # fmt: skip
        register_person(
            s, pid, name=name, agency=agency, roles=[role], actor="zhaoqiang", known_agencies=known
        )
    return demo_hub


def denials(hub: DemoHub) -> list[tuple[str, str | None, str]]:
    return [(e.actor, e.agency, e.payload["code"]) for e in list_events(hub.settings, kind="access.denied")]


def loads(hub: DemoHub) -> list:
    return list_events(hub.settings, kind="load.*")


def test_an_upload_by_someone_without_the_right_is_refused_from_the_cli_and_recorded(
    registered: DemoHub, govhub, tmp_path: Path
) -> None:
    sheet = clean_sheet(registered, tmp_path / "就业登记.xlsx")
    run = govhub("upload", sheet, "--resource", SHEET_CODE, "--by", OTHER_STEWARD)
    assert run.code == 1 and "Traceback" not in run.out + run.err
    assert "王静怡属于松江区民政局，不能为松江区人社局上传填报文件" in run.err
    assert denials(registered) == [(OTHER_STEWARD, "rsj", "people.other_agency")]
    assert loads(registered) == []  # nothing was landed or loaded
    assert not (registered.settings.landing_dir / "rsj").exists()
    run = govhub("upload", sheet, "--resource", SHEET_CODE, "--by", ANALYST)
    assert run.code == 1 and "需要数据专管员或协调办公室角色" in run.err
    assert govhub("upload", sheet, "--resource", SHEET_CODE, "--by", STEWARD).code == 0


def test_an_inbox_file_is_delivered_as_the_person_whose_folder_it_is_in_and_refused_for_anyone_else(
    registered: DemoHub, tmp_path: Path
) -> None:
    s, resource = registered.settings, registered.resource(SHEET_CODE)
    for folder in (person_inbox(s, resource, ANALYST), person_inbox(s, resource, STEWARD)):
        folder.mkdir(parents=True)
    clean_sheet(registered, person_inbox(s, resource, ANALYST) / "by-analyst.xlsx")  # may not deliver
    clean_sheet(registered, inbox_dir(s, resource) / "by-nobody.xlsx")  # names nobody
    clean_sheet(registered, person_inbox(s, resource, STEWARD) / "by-steward.xlsx")
    outcomes = {path.name: o for path, o in deliver_inbox(s, resource)}
    assert outcomes["by-steward.xlsx"].status == "published"
    assert outcomes["by-analyst.xlsx"].status == "rejected" and outcomes["by-analyst.xlsx"].load_id == ""
    assert outcomes["by-nobody.xlsx"].problems[0].code == "inbox.unattributed"
    assert sorted(denials(registered)) == [
        ("inbox", "rsj", "inbox.unattributed"),
        (ANALYST, "rsj", "people.no_role"),
    ]
    (published,) = loads(registered)
    assert published.actor == "张海峰" and published.payload["trigger"] == "inbox"
    refused = sorted(p.name for p in (inbox_dir(s, resource) / "refused").iterdir())
    assert [n.split("-", 2)[2] for n in refused] == ["by-analyst.xlsx", "by-analyst.xlsx.reason.txt",
                                                   "by-nobody.xlsx", "by-nobody.xlsx.reason.txt"]  # fmt: skip
    reason = next(
        p
        for p in (inbox_dir(s, resource) / "refused").iterdir()
        if p.name.endswith("analyst.xlsx.reason.txt")
    )
    assert "陈思远的角色为分析人员" in reason.read_text(encoding="utf-8")


def test_a_dagster_launch_uploads_only_as_a_person_with_the_right(
    registered: DemoHub, tmp_path: Path
) -> None:
    from tests.pipelines.conftest import materialize, run_outcome

    s, catalog = registered.settings, registered.catalog
    sheet = clean_sheet(registered, tmp_path / "就业登记.xlsx")
    config = {"ops": {"rsj__jydj": {"config": {"upload_path": str(sheet), "actor": OTHER_STEWARD}}}}
    with dg.instance_for_test() as instance:
        refused = materialize(s, catalog, [SHEET_CODE], run_config=config, instance=instance)
        unnamed = materialize(s, catalog, [SHEET_CODE], instance=instance,
                              run_config={"ops": {"rsj__jydj": {"config": {"upload_path": str(sheet)}}}})  # fmt: skip
        config["ops"]["rsj__jydj"]["config"]["actor"] = STEWARD
        allowed = materialize(s, catalog, [SHEET_CODE], run_config=config, instance=instance)
    assert not refused.success and run_outcome(refused)["status"] == "rejected"
    failure = next(e.step_failure_data for e in refused.all_events if e.is_step_failure)
    assert "王静怡属于松江区民政局，不能为松江区人社局上传填报文件" in failure.user_failure_data.description
    assert (
        not unnamed.success
    )  # a launch that names nobody acts as "system:dagster", which never delivers a sheet
    assert allowed.success and run_outcome(allowed)["status"] == "published"
    assert denials(registered) == [(OTHER_STEWARD, "rsj", "people.other_agency"),
                                   ("system:dagster", "rsj", "access.denied")]  # fmt: skip
    (load,) = loads(registered)
    assert load.actor == "张海峰" and load.payload["trigger"].startswith("dagster:")


def test_the_service_itself_refuses_whatever_the_caller(registered: DemoHub, tmp_path: Path) -> None:
    sheet = clean_sheet(registered, tmp_path / "就业登记.xlsx")
    with pytest.raises(AccessDenied):
        upload_sheet(
            registered.settings, registered.resource(SHEET_CODE), sheet, actor="nobody", via="portal"
        )
    assert denials(registered) == [("nobody", "rsj", "people.unknown_person")]
    with pytest.raises(GovhubError) as err:  # an interface-fed resource: said in the catalog's words
        upload_sheet(
            registered.settings, registered.resource("gaj/hjrk"), sheet, actor="nobody", via="portal"
        )
    assert err.value.problems[0].message_zh == "「户籍人口基本信息」通过接口交换汇聚，不接受填报文件"


def unannotatable(path: Path, source: Path) -> Path:
    """`source` with document properties openpyxl cannot read (an invalid creation date): the sheet reader — which
    reads only the cells — accepts it, the step that marks the agency's workbook cannot open it."""
    src = zipfile.ZipFile(source)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for name in src.namelist():
            data = src.read(name)
            if name == "docProps/core.xml":
                data = (
                    b'<?xml version="1.0"?><cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/'
                    b'metadata/core-properties" xmlns:dcterms="http://purl.org/dc/terms/" xmlns:xsi="http://www.w3.org/'
                    b'2001/XMLSchema-instance"><dcterms:created xsi:type="dcterms:W3CDTF">not a date</dcterms:created>'
                    b"</cp:coreProperties>"
                )
            z.writestr(name, data)
    path.write_bytes(out.getvalue())
    return path


def test_a_workbook_the_annotation_step_cannot_open_still_gets_the_readers_chinese_refusal(
    demo_hub: DemoHub, govhub, tmp_path: Path
) -> None:
    set_quality(demo_hub.settings.catalog_dir, SHEET_CODE, max_bad_row_pct=0)  # 3 bad rows of 100: refused
    first = govhub("upload", clean_sheet(demo_hub, tmp_path / "good.xlsx"), "--resource", SHEET_CODE)
    assert first.code == 0
    before = current_snapshot_id(demo_hub.settings, demo_hub.resource(SHEET_CODE))
    bad, wrong = sheet_with_bad_ids(demo_hub, tmp_path / "bad-ids.xlsx")
    sheet = unannotatable(tmp_path / "bad-ids-odd-properties.xlsx", bad)
    run = govhub("upload", sheet, "--resource", SHEET_CODE)
    assert run.code == 1 and "Traceback" not in run.out + run.err and "Error" not in run.out + run.err
    assert "已拒收" in run.out
    for row, value in wrong.items():
        assert f"第{row}行「{ID_LABEL}」列" in run.out and value in run.out
    assert "错误标注工作簿未能完成（不影响本次结果：已拒收）" in run.out
    assert len(wrong) == len(BAD_AT)
    assert current_snapshot_id(demo_hub.settings, demo_hub.resource(SHEET_CODE)) == before
    (refused,) = [e for e in loads(demo_hub) if e.kind == "load.rejected"]
    assert refused.payload["verdict"]["rows"]["passed"] is False


def test_a_file_that_is_no_workbook_is_refused_without_trying_to_mark_it(
    demo_hub: DemoHub, govhub, tmp_path: Path
) -> None:
    fake = tmp_path / "就业登记.xlsx"
    shutil.copyfile(clean_sheet(demo_hub, tmp_path / "x.xlsx"), fake)
    fake.write_bytes(fake.read_bytes()[:2000])  # cut short: not a zip any more
    run = govhub("upload", fake, "--resource", SHEET_CODE, "--json")
    assert run.code == 1 and '"status": "rejected"' in run.out and "sheet.not_xlsx" in run.out
    assert "annotated_path" in run.out and "load.step_failed" not in run.out


def test_the_delivery_history_pages_back_to_the_first_delivery_and_only_for_those_who_deliver(
    registered: DemoHub, tmp_path: Path
) -> None:
    """Five deliveries, two to a page: newest first, each page going back from the last one shown, the last page
    saying there is nothing older; another resource's deliveries never appear; only its agency's steward (or the
    office) may read it."""
    from govhub.services.history import deliveries

    hub, res = registered, registered.resource(SHEET_CODE)
    sent = []
    for i in range(5):
        sheet = (
            clean_sheet(hub, tmp_path / f"第{i}次.xlsx", n=20 + i)
            if i % 2 == 0
            else sheet_with_bad_ids(hub, tmp_path / f"第{i}次.xlsx")[0]
        )
        sent.append(upload_sheet(hub.settings, res, sheet, actor=STEWARD, via="test").status.value)
    upload_sheet(
        hub.settings,
        hub.resource("mzj/shjz"),
        clean_sheet(hub, tmp_path / "other.xlsx"),
        actor=OTHER_STEWARD,
        via="test",
    )  # fmt: skip  (refused: another resource's sheet — and another resource's history)
    pages, before = [], None
    while True:
        page = deliveries(hub.settings, res, actor=STEWARD, limit=2, before=before)
        pages.append(page.deliveries)
        if page.older is None:
            break
        before = page.older
    assert [len(p) for p in pages] == [2, 2, 1]
    walked = [d for p in pages for d in p]
    assert [d.source for d in walked] == [f"第{i}次.xlsx" for i in range(4, -1, -1)]
    assert [d.status.value for d in walked] == sent[::-1]
    assert [d.event_id for d in walked] == sorted((d.event_id for d in walked), reverse=True)
    everything = deliveries(hub.settings, res, actor="zhaoqiang", limit=20)
    assert everything.older is None and [d.load_id for d in everything.deliveries] == [
        d.load_id for d in walked
    ]
    with pytest.raises(AccessDenied):
        deliveries(hub.settings, res, actor=OTHER_STEWARD)
