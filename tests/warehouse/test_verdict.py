"""The audit's one verdict per load: the same three checks, whichever layer found the problem."""

from __future__ import annotations

import dagster as dg

from govhub.problems import Problem
from govhub.states import LoadStatus
from govhub.warehouse.verdict import AuditVerdict
from tests.conftest import DemoHub
from tests.services.test_ingest import SHEET_CODE, sheet_rows, write_xlsx


def verdict(
    status: LoadStatus, problems: list[Problem], rows: int = 100, quarantined: int = 0
) -> AuditVerdict:
    return AuditVerdict.of(status, problems, rows=rows, quarantined=quarantined, max_bad_row_pct=5)


def test_a_missing_column_fails_the_schema_check_whichever_layer_found_it() -> None:
    for code in ("sheet.missing_column", "db.missing_column", "load.schema_mismatch", "check.schema"):
        v = verdict(LoadStatus.REJECTED, [Problem(code, "缺少列")])
        assert (v.schema.passed, v.schema.blocking, v.keys.passed, v.rows.passed) == (
            False,
            True,
            True,
            False,
        ), code


def test_warnings_fail_a_check_without_blocking_and_a_clean_publish_passes_all() -> None:
    v = verdict(
        LoadStatus.PUBLISHED, [Problem("sheet.missing_optional_column", "缺少非必填列")], quarantined=3
    )
    assert (v.schema.passed, v.schema.blocking, v.rows.passed, v.bad_row_pct) == (False, False, True, 3.0)
    clean = verdict(LoadStatus.PUBLISHED, [])
    assert all(c.passed for c in (clean.schema, clean.keys, clean.rows))
    assert AuditVerdict.from_dict(v.to_dict()) == v


def test_duplicate_keys_fail_the_keys_check_and_an_unreadable_file_fails_the_schema_check() -> None:
    assert verdict(LoadStatus.REJECTED, [Problem("check.duplicate_key", "主键重复")]).keys.passed is False
    unread = verdict(LoadStatus.REJECTED, [Problem("sheet.not_xlsx", "不是Excel文件")], rows=0)
    assert unread.schema.passed is False and "未能读取" in unread.schema.note_zh
    assert unread.keys.passed is False and unread.keys.note_zh == "文件未能读取，未核对主键"  # not "主键唯一"


def test_schema_matches_catalog_fails_on_a_schema_mismatch_refusal_in_dagster(
    demo_hub: DemoHub, tmp_path
) -> None:
    from tests.pipelines.conftest import materialize

    header, rows = sheet_rows(demo_hub)
    narrow = write_xlsx(tmp_path / "narrow.xlsx", header[:-1], [r[:-1] for r in rows[:50]])  # a column short
    config = {"ops": {"rsj__jydj": {"config": {"upload_path": str(narrow), "actor": "tester"}}}}
    with dg.instance_for_test() as instance:
        run = materialize(
            demo_hub.settings, demo_hub.catalog, [SHEET_CODE], run_config=config, instance=instance
        )
    checks = {c.check_name: c.passed for c in run.get_asset_check_evaluations()}
    assert not run.success
    assert checks == {
        "schema_matches_catalog": False,
        "primary_key_unique": True,
        "rows_within_quality_policy": False,
    }
