"""The database connector against real SQLite, PostgreSQL and MariaDB: full and incremental pulls, chunked streaming,
types, and the errors an agency's database can produce."""

from __future__ import annotations

import datetime as dt
import decimal
import io
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import sqlalchemy as sa

from govhub.catalog.arrow import arrow_schema
from govhub.connectors.database import read_database
from govhub.problems import GovhubError

T0 = dt.datetime(2024, 3, 1, 9, 0, 0)


@dataclass
class SourceDb:
    url: str
    engine: sa.Engine
    table: sa.Table

    def insert(self, rows: list[dict]) -> None:
        with self.engine.begin() as conn:
            conn.execute(self.table.insert(), rows)


def person_table(name: str, metadata: sa.MetaData) -> sa.Table:
    return sa.Table(
        name,
        metadata,
        sa.Column("id_number", sa.String(18), primary_key=True),
        sa.Column("NAME", sa.String(50)),  # a source spelling its columns in capitals
        sa.Column("household_size", sa.Integer),
        sa.Column("subsidy", sa.Numeric(12, 2)),
        sa.Column("is_resident", sa.Boolean),
        sa.Column("birth_date", sa.Date),
        sa.Column("updated_at", sa.DateTime),
        mysql_charset="utf8mb4",
    )


def row(i: int, updated_at: dt.datetime | None = None) -> dict:
    return {
        "id_number": f"31011719{i:010d}",
        "NAME": f"居民{i}·王",
        "household_size": i % 5 + 1,
        "subsidy": decimal.Decimal(f"{i}.25"),
        "is_resident": i % 2 == 0,
        "birth_date": dt.date(1960, 1, 1) + dt.timedelta(days=i),
        "updated_at": updated_at or T0 + dt.timedelta(minutes=i),
    }


@pytest.fixture(
    params=[
        "sqlite",
        pytest.param("postgres", marks=pytest.mark.postgres),
        pytest.param("mariadb", marks=pytest.mark.mariadb),
    ]
)
def source_db(request, tmp_path, table_name):
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'agency.db'}"
        engine = sa.create_engine(url)
    else:
        engine = request.getfixturevalue(f"{request.param}_engine")
        url = engine.url.render_as_string(hide_password=False)
    table = person_table(table_name, sa.MetaData())
    table.create(engine)
    yield SourceDb(url, engine, table)
    table.drop(engine)
    if request.param == "sqlite":
        engine.dispose()


@pytest.fixture
def db_resource(resource_with):
    def build(source: SourceDb | str, **database):
        url = source if isinstance(source, str) else source.url
        table = {} if isinstance(source, str) else {"table": source.table.name}
        return resource_with({"method": "database", "database": {"url": url, **table, **database}})

    return build


def pull(settings, resource, sink, since=None):
    extract = read_database(settings, resource, since=since, sink=sink)
    return extract, pa.Table.from_batches(list(extract.batches), schema=arrow_schema(resource, with_row=True))


def test_full_pull_lands_every_type_in_the_catalog_type(source_db, db_resource, settings, sink):
    source_db.insert([row(i) for i in range(3)])
    extract, table = pull(settings, db_resource(source_db, cursor_column="updated_at"), sink)
    assert extract.mode == "full" and extract.problems == []
    assert table.schema == arrow_schema(db_resource(source_db), with_row=True)
    got = sorted(table.to_pylist(), key=lambda r: r["id_number"])
    assert got[1] == {
        "__row__": 2,
        "id_number": "310117190000000001",
        "name": "居民1·王",
        "household_size": 2,
        "subsidy": 1.25,
        "is_resident": False,
        "birth_date": dt.date(1960, 1, 2),
        "updated_at": dt.datetime(2024, 3, 1, 9, 1),
    }
    assert extract.cursor == {
        "cursor_column": "updated_at",
        "value": "2024-03-01 09:02:00",
        "pk": ["310117190000000002"],
    }
    assert "agency.db" in extract.source or source_db.table.name in extract.source


def test_incremental_pull_reads_the_overlap_window_and_catches_a_late_commit(
    source_db, db_resource, settings, sink
):
    source_db.insert([row(i) for i in range(10)])  # updated 09:00 … 09:09
    resource = db_resource(source_db, cursor_column="updated_at", overlap_s=120)
    first, table = pull(settings, resource, sink)
    assert table.num_rows == 10 and first.cursor["value"] == "2024-03-01 09:09:00"

    # a transaction that began at 09:08:30 commits only now, after the first pull; and a new row arrives
    source_db.insert(
        [row(50, updated_at=dt.datetime(2024, 3, 1, 9, 8, 30)), row(51, T0 + dt.timedelta(minutes=30))]
    )
    second, table = pull(settings, resource, type(sink)(), since=first.cursor)
    assert second.mode == "incremental"
    got = table.column("id_number").to_pylist()
    # ordered by update time: 09:07:30 < rows 8 (09:08), 50 (09:08:30), 9 (09:09), 51 (09:30)
    assert got == [row(i)["id_number"] for i in (8, 50, 9, 51)]
    assert second.cursor == {
        "cursor_column": "updated_at",
        "value": "2024-03-01 09:30:00",
        "pk": [row(51)["id_number"]],
    }

    third, table = pull(settings, resource, type(sink)(), since=second.cursor)
    assert table.column("id_number").to_pylist() == [row(51)["id_number"]]  # only the overlap re-read
    assert third.cursor == second.cursor


def test_chunks_stream_and_each_is_landed_as_parquet(source_db, db_resource, settings, sink):
    source_db.insert([row(i) for i in range(2500)])
    extract = read_database(
        settings, db_resource(source_db, chunk_size=1000, cursor_column="updated_at"), sink=sink
    )
    sizes = [b.num_rows for b in extract.batches]
    assert sizes == [1000, 1000, 500]
    assert list(sink.pieces) == ["chunk-000001.parquet", "chunk-000002.parquet", "chunk-000003.parquet"]
    landed = [pq.read_table(io.BytesIO(b)) for b in sink.pieces.values()]
    assert [t.num_rows for t in landed] == [1000, 1000, 500]
    assert landed[2].column("name")[499].as_py() == "居民2499·王"


def test_a_query_source_selects_the_catalog_fields_by_name(source_db, db_resource, settings, sink):
    source_db.insert([row(i) for i in range(4)])
    t = source_db.table.name
    query = f"SELECT * FROM {t} WHERE household_size > 2"
    extract, table = pull(settings, db_resource(source_db.url, query=query), sink)
    assert sorted(table.column("household_size").to_pylist()) == [3, 4]
    assert extract.source.endswith("(query)")


def test_a_missing_column_is_named(source_db, db_resource, settings, sink, resource_with):
    resource = resource_with(
        {"method": "database", "database": {"url": source_db.url, "table": source_db.table.name}},
        fields=[{"name": "id_number", "label": "公民身份号码"}, {"name": "mobile", "label": "手机号码"}],
    )
    with pytest.raises(GovhubError) as err:
        read_database(settings, resource, sink=sink)
    problem = err.value.problems[0]
    assert problem.code == "db.missing_column" and problem.column == "mobile"
    assert "“mobile”" in problem.message_zh and "手机号码" in problem.message_zh


def test_values_that_do_not_fit_become_problems_on_their_row(settings, sink, tmp_path, resource_with):
    url = f"sqlite:///{tmp_path / 'loose.db'}"
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE person (id_number TEXT, household_size TEXT, birth_date TEXT)"))
        conn.execute(
            sa.text(
                "INSERT INTO person VALUES ('a', '3', '2001-02-03'), ('b', '三', '2001-02-30'), ('c', NULL, NULL)"
            )
        )
    engine.dispose()
    fields = [
        {"name": "id_number", "label": "公民身份号码"},
        {"name": "household_size", "label": "户内人数", "type": "integer"},
        {"name": "birth_date", "label": "出生日期", "type": "date"},
    ]
    resource = resource_with(
        {"method": "database", "database": {"url": url, "table": "person"}}, fields=fields
    )
    extract, table = pull(settings, resource, sink)
    assert table.column("household_size").to_pylist() == [3, None, None]
    assert {(p.row, p.field, p.value) for p in extract.problems} == {
        (2, "household_size", "三"),
        (2, "birth_date", "2001-02-30"),
    }


def test_a_missing_table_is_named(settings, sink, tmp_path, db_resource):
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    sa.create_engine(url).connect().close()
    with pytest.raises(GovhubError) as err:
        read_database(settings, db_resource(url, table="no_such_table"), sink=sink)
    assert err.value.problems[0].code == "db.missing_table"
    assert "no_such_table" in str(err.value)


@pytest.mark.parametrize(
    "url, code",
    [
        ("not a url", "db.bad_url"),
        ("nosuchdb+driver://u@h/d", "db.bad_url"),
        ("sqlite:////nonexistent/folder/agency.db", "db.connection"),
        ("postgresql+psycopg2://postgres:hunter2pw@127.0.0.1:1/test", "db.connection"),
    ],
)
def test_bad_urls_and_unreachable_servers_are_clear_errors_without_passwords(
    settings, sink, db_resource, url, code
):
    with pytest.raises(GovhubError) as err:
        read_database(settings, db_resource(url, table="person"), sink=sink)
    assert err.value.problems[0].code == code
    assert "hunter2pw" not in str(err.value)
    if "127.0.0.1:1" in url:
        assert "postgres:***@127.0.0.1:1" in str(err.value) and err.value.retryable


def test_url_variables_are_expanded(settings, sink, tmp_path, db_resource, monkeypatch):
    url = f"sqlite:///{tmp_path / 'agency.db'}"
    engine = sa.create_engine(url)
    person_table("person", sa.MetaData()).create(engine)
    engine.dispose()
    extract, table = pull(settings, db_resource("sqlite:///${GOVHUB_HOME}/agency.db", table="person"), sink)
    assert table.num_rows == 0 and str(tmp_path) in extract.source
