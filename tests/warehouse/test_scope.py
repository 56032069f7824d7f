import datetime as dt
from decimal import Decimal

import duckdb
import pytest

from govhub.problems import GovhubError
from govhub.warehouse.scope import (
    Basis,
    Between,
    InValues,
    RowFilter,
    SnapshotSource,
    base_scope,
    check_identifier,
    checked_input,
    current_source,
    scoped_table,
    shared_fields,
)
from govhub.warehouse.snapshots import current_snapshot_id

from .conftest import PEOPLE_FIELDS, make_resource


def _tables(scope):
    return {(t.name, t.basis): t for t in scope.tables}


def test_base_scope_is_own_resources_whole_and_other_agencies_unconditional_base_resources_without_unshared_fields(
    sharing_hub,
):
    tables = _tables(base_scope(sharing_hub.settings, sharing_hub.catalog, "market"))
    # benefits is thematic, registry conditional, houses a draft: none of them leaves its agency
    assert set(tables) == {("market.firms", Basis.OWN), ("civil.people", Basis.BASE)}
    people = tables["civil.people", Basis.BASE]
    assert "phone" not in people.columns  # not shared, although its resource is shared unconditionally
    assert people.columns == ("person_id", "name", "age", "score", "born", "updated_at")
    assert people.row_filter.everything and people.grant_ids == ()
    assert tables["market.firms", Basis.OWN].columns == tuple(f["name"] for f in PEOPLE_FIELDS)


def test_an_agency_reaches_its_own_unshared_fields(sharing_hub):
    tables = _tables(base_scope(sharing_hub.settings, sharing_hub.catalog, "civil"))
    assert set(tables) == {
        ("civil.people", Basis.OWN),
        ("civil.benefits", Basis.OWN),
        ("civil.registry", Basis.OWN),
    }
    assert "phone" in tables["civil.people", Basis.OWN].columns


def test_a_fields_share_type_overrides_its_resources():
    fields = [dict(f) for f in PEOPLE_FIELDS]
    fields[1]["share"] = "conditional"  # name: only on request
    resource = make_resource(share={"type": "unconditional"}, fields=fields)
    assert shared_fields(resource) == ["person_id", "age", "score", "born", "updated_at", "phone"]


def test_the_source_is_the_current_snapshot_by_id_and_a_never_delivered_resource_gets_its_empty_one(
    sharing_hub,
):
    settings = sharing_hub.settings
    people = sharing_hub.resource("civil/people")
    source = current_source(settings, people)
    assert source.snapshot_id == current_snapshot_id(settings, people)
    assert [f.parent.name for f in source.files] == [source.snapshot_id]  # not through the `current` link
    never = make_resource("civil", "later", code="101009")
    empty = current_source(settings, never)
    assert empty.files and duckdb.sql(
        f"SELECT count(*) FROM read_parquet('{empty.files[0]}')"
    ).fetchall() == [(0,)]


def test_base_scope_refuses_an_agency_the_catalog_does_not_know(sharing_hub):
    with pytest.raises(GovhubError) as err:
        base_scope(sharing_hub.settings, sharing_hub.catalog, "nobody")
    assert err.value.problems[0].code == "scope.unknown_agency"


def test_a_filter_from_stored_data_takes_the_fields_types_and_compiles_to_quoted_literals():
    resource = make_resource()
    row_filter = RowFilter.parse(
        resource,
        [
            {"field": "name", "in": ["O'Brien", "张三"]},
            {"field": "born", "between": ["1980-01-01", "1989-12-31"]},
            {"field": "score", "between": ["1.5", 10]},
        ],
    )
    assert row_filter.conditions == (
        InValues("name", ("O'Brien", "张三")),
        Between("born", dt.date(1980, 1, 1), dt.date(1989, 12, 31)),
        Between("score", Decimal("1.5"), 10),
    )
    assert row_filter.sql() == (
        """("name" IN ('O''Brien', '张三')) AND ("born" BETWEEN DATE '1980-01-01' AND DATE '1989-12-31') """
        """AND ("score" BETWEEN 1.5 AND 10)"""
    )
    assert row_filter.to_list()[1] == {"field": "born", "between": ["1980-01-01", "1989-12-31"]}
    assert RowFilter.parse(resource, row_filter.to_list()) == row_filter


def test_values_typed_as_text_take_the_fields_type_and_times_compare_across_offsets():
    """What the CLI and the portal send is text: an integer field's "2000" is 2000; a time with an offset is the
    Beijing wall-clock time the hub stores (no offset), so mixed spellings neither crash nor mis-compare."""
    resource = make_resource()
    parsed = RowFilter.parse(resource, [{"field": "age", "between": ["18", " 65 "]},
                                        {"field": "updated_at", "between": ["2026-01-01", "2026-06-30T12:00:00+08:00"]}])  # fmt: skip
    assert parsed.conditions == (
        Between("age", 18, 65),
        Between("updated_at", dt.datetime(2026, 1, 1), dt.datetime(2026, 6, 30, 12)),
    )
    assert RowFilter.parse(
        resource, [{"field": "updated_at", "in": ["2026-06-30T04:00:00Z"]}]
    ).conditions == (InValues("updated_at", (dt.datetime(2026, 6, 30, 12),)),)
    # a narrower answer written with other offsets is inside the range asked
    asked = RowFilter.parse(resource, [{"field": "updated_at", "between": ["2026-01-01T00:00:00+08:00",
                                                                           "2026-06-30T00:00:00+08:00"]}])  # fmt: skip
    narrower = RowFilter.parse(resource, [{"field": "updated_at", "between": ["2026-02-01", "2026-03-01"]}])
    assert narrower.widens(asked) == []


def test_new_rows_asked_for_name_values_and_only_an_enum_fields_values():
    fields = [*PEOPLE_FIELDS, {"name": "kind", "label": "类型", "type": "string", "semantic": "enum",
                               "enum": ["甲", "乙"]}]  # fmt: skip
    resource = make_resource(fields=fields)
    assert RowFilter.parse(resource, [{"field": "kind", "in": ["甲"]}]).conditions == (
        InValues("kind", ("甲",)),
    )
    with pytest.raises(GovhubError) as err:
        checked_input(
            resource, RowFilter.parse(resource, [{"field": "kind", "in": ["甲", "NULL", "O'Brien"]}])
        )
    problem = err.value.problems[0]
    assert problem.code == "scope.bad_value" and "NULL、O'Brien" in problem.message_zh
    with pytest.raises(GovhubError) as err:  # no value: a grant of nothing
        checked_input(resource, RowFilter.parse(resource, [{"field": "age", "in": []}]))
    assert err.value.problems[0].code == "scope.bad_condition"
    # stored grants stay readable: an empty list admits no row, a value since removed from the enum matches none
    stored = RowFilter.parse(resource, [{"field": "age", "in": []}, {"field": "kind", "in": ["丙"]}])
    assert stored.sql() == """(false) AND ("kind" IN ('丙'))"""


def test_a_value_crafted_as_sql_stays_a_value():
    resource = make_resource()
    evil = "x') OR true OR ('"
    row_filter = RowFilter.parse(resource, [{"field": "name", "in": [evil]}])
    con = duckdb.connect()
    con.execute("CREATE TABLE t AS SELECT * FROM (VALUES ('x'), ('y'), (?)) v(name)", [evil])
    assert con.execute(f"SELECT name FROM t WHERE {row_filter.sql()}").fetchall() == [(evil,)]


@pytest.mark.parametrize(
    "items, code",
    [
        ([{"field": "salary", "in": [1]}], "scope.unknown_field"),
        ([{"field": "age", "in": ["3x"]}], "scope.bad_value"),  # text that is no integer
        ([{"field": "age", "in": ["30.5"]}], "scope.bad_value"),
        # Python's int() would take "1_000"; people don't write it
        ([{"field": "age", "in": ["1_000"]}], "scope.bad_value"),
        # 12:00 Beijing is after 03:00Z (11:00 Beijing): reversed
        (
            [{"field": "updated_at", "between": ["2026-06-30T12:00:00+08:00", "2026-06-30T03:00:00Z"]}],
            "scope.bad_condition",
        ),
        ([{"field": "age", "in": [True]}], "scope.bad_value"),
        ([{"field": "score", "between": [float("nan"), 1.0]}], "scope.bad_value"),
        ([{"field": "born", "between": ["1980-13-01", "1990-01-01"]}], "scope.bad_value"),
        ([{"field": "age", "between": [1]}], "scope.bad_condition"),
        ([{"field": "age", "between": [40, 30]}], "scope.bad_condition"),  # reversed: no row could match
        ([{"field": "born", "between": ["1990-01-01", "1980-01-01"]}], "scope.bad_condition"),
        ([{"field": "age", "like": "3%"}], "scope.bad_condition"),
        ([{"field": 'name" OR 1=1 --', "in": ["x"]}], "scope.unknown_field"),
        # found by fuzz/fuzz_row_filter.py: Decimal("2\x01") raised InvalidOperation (no ValueError): a traceback
        ([{"field": "score", "between": ["1", "2\x01\x00"]}], "scope.bad_value"),
        ([{"field": "score", "between": ["1", "1,5"]}], "scope.bad_value"),
        (
            [{"field": "score", "in": ["NaN"]}],
            "scope.bad_value",
        ),  # no SQL literal: DuckDB read it as a column
        ([{"field": "score", "in": ["-Infinity"]}], "scope.bad_value"),
        ([{"field": "score", "in": ["1E+999999999"]}], "scope.bad_value"),  # a billion digits written out
        (['"]}"'], "scope.bad_condition"),  # fuzz_row_filter: a condition that is no mapping (AttributeError)
        ([{"field": "age", "in": 5}], "scope.bad_condition"),  # values that are no list (TypeError)
        ([{"field": "age", "between": "12"}], "scope.bad_condition"),  # a string of two characters
    ],
)
def test_a_filter_names_only_catalog_fields_with_values_of_their_type(items, code):
    with pytest.raises(GovhubError) as err:
        RowFilter.parse(make_resource(), items)
    problem = err.value.problems[0]
    assert problem.code == code
    for english in ("integer", "number", "date", "string", "boolean", "str", "int", "float"):
        assert f"（{english}）" not in problem.message_zh and not problem.message_zh.endswith(english), (
            problem
        )


def test_a_scoped_table_takes_only_catalog_fields_in_catalog_order():
    resource = make_resource()
    source = SnapshotSource("s1", ())
    table = scoped_table(
        resource, source, columns=["phone", "person_id"], basis=Basis.GRANT, grant_ids=["g1"]
    )
    assert table.columns == ("person_id", "phone") and table.name == "civil.people"
    with pytest.raises(GovhubError) as err:
        scoped_table(resource, source, columns=["person_id", "salary"])
    assert err.value.problems[0].code == "scope.unknown_field"
    with pytest.raises(GovhubError):
        scoped_table(resource, source, columns=[])


@pytest.mark.parametrize("name", ['a"b', "A", "1a", "a b", "a;b", "", "a.b"])
def test_identifiers_are_the_catalogs_spelling_only(name):
    with pytest.raises(GovhubError):
        check_identifier(name)
