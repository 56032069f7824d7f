"""Synthetic identities are valid by the national standards and by python-stdnum's stricter checks."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from stdnum import numdb
from stdnum.cn import ric, uscc

from govhub.demo import identities as ids
from govhub.demo.places import SONGJIANG_TOWNS, TOWN_CODES, TOWN_PLACES
from govhub.identifiers import cn_id_problem, uscc_problem

SAMPLE = 100_000


@pytest.fixture(scope="module")
def people() -> tuple[np.ndarray, np.ndarray, list[str]]:
    rng = ids.rng_for(7, "people")
    births = ids.birth_dates(rng, SAMPLE, first="1925-01-01", last="2026-06-30")
    male = rng.random(SAMPLE) < 0.5
    return births, male, ids.cn_ids(rng, births, male).to_pylist()


@pytest.mark.slow  # python-stdnum looks each region up in its data file: ~4 s for 100k numbers
def test_every_generated_id_number_passes_stdnum_including_region_in_birth_year(people) -> None:
    _, _, numbers = people
    invalid = [n for n in numbers if not ric.is_valid(n)]
    assert invalid == []
    assert len(set(numbers)) == SAMPLE, "ID numbers are unique"


def test_id_numbers_carry_the_real_birth_date_and_sex(people) -> None:
    births, male, numbers = people
    for i in range(0, SAMPLE, 997):
        assert ric.get_birth_date(numbers[i]) == births[i].astype(dt.date)
        assert int(numbers[i][16]) % 2 == int(male[i])
        assert cn_id_problem(numbers[i]) is None


def test_songjiang_births_use_the_county_code_before_1998_and_the_district_code_after(people) -> None:
    _, _, numbers = people
    assert not [n for n in numbers if n.startswith("310117") and int(n[6:10]) < 1998]
    assert not [n for n in numbers if n.startswith("310227") and int(n[6:10]) > 1998]
    assert any(n.startswith("310227") for n in numbers) and any(n.startswith("310117") for n in numbers)


def test_embedded_region_table_agrees_with_stdnum_for_every_year() -> None:
    db = numdb.get("cn/loc")
    for group in ids.CN_ID_REGIONS.values():
        for code, lo, hi in group:
            assert db.info(code)[-1][1], f"{code} is unknown to stdnum"
            for year in range(1930, 2027):
                inside = (lo is None or year >= lo) and (hi is None or year <= hi)
                if inside:
                    assert ric.is_valid(_an_id(code, year)), (code, year)


def _an_id(region: str, year: int) -> str:
    first17 = f"{region}{year}0101001"
    return first17 + ric.calc_check_digit(first17 + "0")


def test_migrants_are_born_outside_shanghai() -> None:
    rng = ids.rng_for(7, "migrants")
    births = ids.birth_dates(rng, 20_000)
    numbers = ids.cn_ids(rng, births, rng.random(20_000) < 0.5, mix=ids.MIGRANT_MIX).to_pylist()
    assert not [n for n in numbers if n.startswith("31")]
    assert all(ric.is_valid(n) for n in numbers)


@pytest.mark.parametrize(
    ("kind", "sample"),
    [("company", SAMPLE), ("institution", 20_000), ("association", 20_000), ("foundation", 20_000)],
)
def test_every_generated_uscc_passes_stdnum_and_carries_its_kind_and_region(kind: str, sample: int) -> None:
    codes = ids.uscc_numbers(ids.rng_for(7, kind), sample, kind=kind).to_pylist()
    assert [c for c in codes if not uscc.is_valid(c)] == []
    assert len(set(codes)) == sample
    assert {c[:8] for c in codes} == {ids.USCC_KINDS[kind] + "310117"}
    assert all(uscc_problem(c) is None for c in codes[:5000])


def test_uscc_organisation_code_has_its_gb11714_check_character() -> None:
    for code in ids.uscc_numbers(ids.rng_for(7, "org"), 2000).to_pylist():
        body, check = code[8:16], code[16]
        expected = (
            11 - sum(int(c) * w for c, w in zip(body, (3, 7, 9, 10, 5, 8, 4, 2), strict=True)) % 11
        ) % 11
        assert check == ("X" if expected == 10 else str(expected))


def test_phone_numbers_have_real_shapes() -> None:
    rng = ids.rng_for(7, "phones")
    mobiles = ids.mobile_numbers(rng, 10_000).to_pylist()
    assert all(len(m) == 11 and m[:3] in ids.MOBILE_PREFIXES for m in mobiles)
    phones = ids.fixed_phones(rng, 10_000).to_pylist()
    assert all(p.startswith("021-") and len(p) == 12 and p[4:].isdigit() for p in phones)


def test_some_names_need_gb18030_and_all_encode_in_it() -> None:
    rng = ids.rng_for(7, "names")
    names = ids.person_names(rng, rng.random(50_000) < 0.5).to_pylist()
    for name in names:
        name.encode("gb18030")
        assert 2 <= len(name) <= 4
    not_gbk = [n for n in names if not _encodes(n, "gbk")]
    assert 0 < len(not_gbk) < len(names) * 0.01
    assert any("䶮" in n for n in names)


def _encodes(text: str, encoding: str) -> bool:
    try:
        text.encode(encoding)
    except UnicodeEncodeError:
        return False
    return True


def test_places_are_songjiang_towns_roads_and_postal_codes() -> None:
    rng = ids.rng_for(7, "places")
    towns = ids.town_indexes(rng, 5000)
    codes = ids.town_codes(towns).to_pylist()
    assert set(codes) <= set(SONGJIANG_TOWNS) and len(set(codes)) > 15
    for code, address in zip(codes, ids.addresses(rng, towns).to_pylist(), strict=True):
        assert address.startswith("上海市松江区" + SONGJIANG_TOWNS[code])
        assert any(road in address for road in TOWN_PLACES[code][3])
    assert all(p.startswith("2016") and len(p) == 6 for p in ids.postal_codes(towns).to_pylist())
    lon, lat = ids.coordinates(rng, towns)
    assert (lon > 120.9).all() and (lon < 121.45).all() and (lat > 30.85).all() and (lat < 31.25).all()
    assert len(TOWN_CODES) == 20


def test_same_seed_gives_same_identities() -> None:
    def draw() -> list[str]:
        rng = ids.rng_for(2016, "again")
        births = ids.birth_dates(rng, 1000)
        male = rng.random(1000) < 0.5
        return ids.cn_ids(rng, births, male).to_pylist() + ids.person_names(rng, male).to_pylist()

    assert draw() == draw()
