"""A column's failing cells get one message naming the cause and the fix (issue 13): IDs Excel stored as numbers,
dates typed as text or as Excel serial numbers, full-width digits, spaces, a lower-case x, old 15-digit IDs, numbers
with units — not a wall of per-row symptoms. Each row problem is still kept for the quarantine and the workbook."""

from __future__ import annotations

import json
from pathlib import Path

from govhub.catalog.model import Resource
from govhub.connectors.diagnosis import diagnose
from govhub.problems import Problem
from tests.conftest import DemoHub, deliver
from tests.connectors.conftest import make_resource

ID = "310117199003070021"


def resource() -> Resource:
    return make_resource(
        {"method": "sheet"},
        fields=[{"name": "id_number", "label": "公民身份号码", "semantic": "cn_id", "required": True},
                {"name": "born", "label": "出生日期", "type": "date"},
                {"name": "size", "label": "家庭人口数", "type": "integer"}],
    )  # fmt: skip


def cell(code: str, row: int, field: str, value: str) -> Problem:
    return Problem(code=code, message_zh="…", row=row, field=field, value=value)


def test_each_cause_is_said_once_per_column_and_explains_its_rows() -> None:
    problems = [
        *(cell("check.cn_id", r, "id_number", "31011719900307" + "0" * 4) for r in range(2, 40)),
        *(cell("type.precision_lost", r, "id_number", "3.10117199003070e+17") for r in range(2, 40)),
        cell("check.cn_id", 40, "id_number", "３１０１１７１９９００３０７００２１"),
        cell("check.cn_id", 41, "id_number", "310117 199003070021"),
        cell("check.cn_id", 42, "id_number", ID[:17] + "x"),
        cell("check.cn_id", 43, "id_number", "310117900307002"),
        cell("check.cn_id", 44, "id_number", ID[:17] + "5"),  # a real check-digit error: stays per row
        cell("type.date", 2, "born", "二〇二五年三月"),
        cell("type.date", 3, "born", "45292"),
        cell("type.date", 4, "born", "2025-02-30"),  # a real but impossible date: stays per row
        cell("type.integer", 5, "size", "3人"),
    ]
    found = diagnose(resource(), problems)
    codes = [n.code for n in found.notes]
    assert codes == ["diagnosis.number_stored", "diagnosis.full_width", "diagnosis.spaces",
                     "diagnosis.id_lowercase_x", "diagnosis.id_15_digits", "diagnosis.date_serial",
                     "diagnosis.date_text", "diagnosis.number_with_unit"]  # fmt: skip
    stored = found.notes[0].message_zh
    assert (
        stored.startswith("“公民身份号码”列的值被Excel存成了数字（如3.1E+17），后几位已丢失")
        and "共38处" in stored
    )
    assert "请把该列设为“文本”格式后重新录入" in stored
    left = found.unexplained(problems)
    assert [(p.row, p.value) for p in left] == [(44, ID[:17] + "5"), (4, "2025-02-30")]
    assert all(not n.blocking and n.row is None for n in found.notes)


def test_a_clean_delivery_costs_nothing() -> None:
    found = diagnose(resource(), [])
    assert found.notes == [] and found.explained == set()


def test_the_numeric_id_workbook_gets_one_cause_naming_message(demo_hub: DemoHub, tmp_path: Path) -> None:
    manifest = json.loads(
        (demo_hub.settings.demo_dir / "sheets" / "_broken" / "README.json").read_text("utf-8")
    )
    broken = next(b for b in manifest["files"] if b["problem"] == "precision_lost")
    sheet = demo_hub.settings.demo_dir / "sheets" / "_broken" / broken["file"]
    outcome = deliver(demo_hub.settings, demo_hub.resource(broken["resource"]), sheet)

    assert outcome.status == "rejected"
    naming = [p for p in outcome.problems if "被Excel存成了数字" in p.message_zh]
    assert len(naming) == 1 and naming[0].code == "diagnosis.number_stored"
    assert "后几位已丢失：请把该列设为“文本”格式后重新录入" in naming[0].message_zh
    assert not [p for p in outcome.problems if p.code in ("check.cn_id", "type.precision_lost")]
    assert outcome.problem_count > 100 and outcome.to_dict()["problems_truncated"] is True
    report = json.loads((Path(outcome.report_path) / "problems.json").read_text(encoding="utf-8"))
    cells = {p["row"] for p in report["problems"] if p["code"] in ("check.cn_id", "type.precision_lost")}
    assert len(cells) == outcome.quarantined  # every cell is still listed, row by row


def test_an_unreadable_required_cell_is_one_problem_in_every_report(
    demo_hub: DemoHub, tmp_path: Path
) -> None:
    """A required date that cannot be read is reported once — as the value it is, not also as "必填项为空" — on
    the page, in problems.csv and problems.json, and in the count."""
    import csv

    manifest = json.loads((demo_hub.settings.demo_dir / "manifest.json").read_text("utf-8"))
    clean = demo_hub.settings.demo_dir / manifest["resources"]["mzj/shjz"]["path"]
    resource = demo_hub.resource("mzj/shjz")
    import pyarrow as pa

    from govhub.catalog.arrow import arrow_schema
    from govhub.connectors.sheet import read_sheet

    batches = list(read_sheet(resource, clean).batches)
    table = pa.Table.from_batches(batches, schema=arrow_schema(resource, with_row=True))
    header = [f.label for f in resource.fields]
    yes_no = {True: "是", False: "否", None: ""}
    rows = [[yes_no[v] if isinstance(v, bool) or v is None else str(v) for v in r.values()][1:]
            for r in table.to_pylist()]  # fmt: skip
    column = [f.name for f in resource.fields].index("checked_on")
    rows[0][column] = "2025-02-30"  # Excel row 2: a date that does not exist, in a required column
    sheet = tmp_path / "shjz.csv"
    with sheet.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows([header, *rows])

    outcome = deliver(demo_hub.settings, resource, sheet)
    assert outcome.quarantined == 1  # the row is held back all the same: by the reader's problem
    at_cell = [p for p in outcome.problems if p.row == 2 and p.field == "checked_on"]
    assert [p.code for p in at_cell] == ["type.date"]
    report = Path(outcome.report_path)
    with (report / "problems.csv").open(encoding="utf-8-sig") as fh:
        lines = [r for r in csv.DictReader(fh) if r["row"] == "2"]
    assert [r["code"] for r in lines] == ["type.date"], lines
    stored = json.loads((report / "problems.json").read_text("utf-8"))["problems"]
    assert [p["code"] for p in stored if p.get("row") == 2] == ["type.date"]
    assert outcome.problem_count == len(stored)
    # and the suite's "not null" result counts it apart, not as an empty cell
    (required,) = [r for r in outcome.expectation_results
                   if r["expectation_type"] == "expect_column_values_to_not_be_null" and r["column"] == "checked_on"]  # fmt: skip
    assert required["unexpected_count"] == 0 and required["unreadable_count"] == 1 and required["success"]
