"""Property tests: our identifier verdicts (the rules a load applies, `identifiers_sql.*_reason`) against
python-stdnum's (`stdnum.cn.ric`, `stdnum.cn.uscc`) on numbers Hypothesis generates.

Where the two disagree, the difference must belong to a class listed below — each with the direction it goes in
(our verdict, stdnum's) and a named test in this module that shows it on a concrete number and says why we differ.
A difference no class explains fails the property: a new disagreement is a finding, never silently ignored.

Differences come in two kinds. Spelling: stdnum first normalises (`compact`: full-width digits to ASCII, upper case,
spaces and hyphens removed or stripped); we refuse such values and tell the agency what to change, because the hub
keeps what was delivered and joins on it. Rules: where GB 32100 or our data differ from stdnum's checks.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

from hypothesis import event, given, settings
from hypothesis import strategies as st
from stdnum.cn import ric, uscc
from stdnum.exceptions import InvalidComponent

from govhub.expectations import identifiers_sql as ids
from govhub.identifiers import USCC_ALPHABET, USCC_KINDS, cn_id_check_char, uscc_check_char

EXAMPLES = 1000  # per property, new ones each run; SECURITY.md quotes this figure
RAISES = "raises"
REGIONS = sorted(ids.known_county_codes())
_FULL_WIDTH_DIGITS = str.maketrans("０１２３４５６７８９", "0123456789")


@dataclass(frozen=True)
class Difference:
    """A known class of disagreement: `applies` to a value (after the spelling classes before it were undone),
    in direction (ours, theirs); `undo` turns a spelling difference into the value stdnum actually judges."""

    test: str  # the test in this module that shows and explains it
    ours: bool
    theirs: bool | str
    applies: Callable[[str], bool]
    undo: Callable[[str], str] | None = None


def _ric(value: str) -> bool | str:
    try:
        return ric.is_valid(value)
    except KeyError:  # see test_stdnum_raises_key_error_on_an_unknown_county_under_a_known_province
        return RAISES


def _birth(value: str) -> dt.date | None:
    try:
        return dt.date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        return None


def _region_refused_for_birth_year(value: str) -> bool:
    try:
        ric.get_birth_place(value)
    except (InvalidComponent, KeyError):
        return True
    return False


def _has_full_width_digit(value: str) -> bool:
    return any(unicodedata.name(c, "").startswith("FULLWIDTH DIGIT") for c in value)


CN_ID_DIFFERENCES = [
    # spelling (stdnum's compact), undone in this order
    Difference(
        "test_stdnum_strips_surrounding_spaces_we_refuse_them",
        False, True, lambda v: v != v.strip(), lambda v: v.strip(),
    ),
    Difference(
        "test_stdnum_reads_full_width_digits_we_ask_for_half_width",
        False, True, _has_full_width_digit, lambda v: v.translate(_FULL_WIDTH_DIGITS),
    ),
    Difference(
        "test_stdnum_accepts_a_lower_case_x_we_ask_for_upper_case",
        False, True, lambda v: "x" in v, lambda v: v.replace("x", "X"),
    ),
    # rules
    Difference(
        "test_stdnum_accepts_births_before_1900_and_in_the_future",
        False, True, lambda v: (b := _birth(v)) is not None and (b.year < 1900 or b > dt.date.today()),
    ),
    Difference(
        "test_stdnum_checks_the_region_against_the_birth_year_we_accept_any_known_code",
        True, False, _region_refused_for_birth_year,
    ),
    Difference(
        "test_stdnum_raises_key_error_on_an_unknown_county_under_a_known_province",
        False, RAISES, lambda v: v[:6] not in ids.known_county_codes(),
    ),
]  # fmt: skip

USCC_DIFFERENCES = [
    Difference(
        "test_stdnum_removes_spaces_and_hyphens_we_refuse_them",
        False, True,
        lambda v: v != v.strip() or any(c in v for c in " -\u3000"),
        lambda v: v.replace("\u3000", " ").replace(" ", "").replace("-", "").strip(),
    ),
    Difference(
        "test_stdnum_reads_full_width_digits_in_a_uscc",
        False, True, _has_full_width_digit, lambda v: v.translate(_FULL_WIDTH_DIGITS),
    ),
    Difference(
        "test_stdnum_folds_lower_case_letters_we_ask_for_upper_case",
        False, True, lambda v: v != v.upper(), lambda v: v.upper(),
    ),
    Difference(
        "test_stdnum_does_not_check_the_authority_and_category_table",
        False, True, lambda v: v[:2] not in USCC_KINDS,
    ),
    Difference(
        "test_stdnum_does_not_check_the_division_code",
        False, True, lambda v: v[2:8] not in ids.known_county_codes(),
    ),
    Difference(
        "test_stdnum_refuses_the_letter_authorities_a_n_y_of_gb_32100",
        True, False, lambda v: not v[:8].isdigit(),
    ),
]  # fmt: skip


def explain(
    value: str, ours: Callable[[str], bool], theirs: Callable[[str], bool | str], known: list[Difference]
) -> list[str] | None:
    """The classes that account for our verdict differing from stdnum's on `value`; None if they do not."""
    verdict = theirs(value)
    found = []
    for difference in known:
        if difference.undo is not None and difference.applies(value):
            found.append(difference.test)
            value = difference.undo(value)
            assert theirs(value) == verdict, (
                value,
                difference.test,
            )  # stdnum judges the undone value the same
    mine = ours(value)
    if mine == verdict:
        return found
    rules = [
        d.test for d in known if d.undo is None and (d.ours, d.theirs) == (mine, verdict) and d.applies(value)
    ]
    return found + rules if rules else None


def _cn_id_ours(value: str) -> bool:
    return ids.cn_id_reason(value) is None


def _uscc_ours(value: str) -> bool:
    return ids.uscc_reason(value) is None


# --- what Hypothesis draws: numbers built the way they are issued, then spelled the ways people type them ----------


def _spelled(draw: st.DrawFn, value: str, extra: str) -> str:
    forms = draw(
        st.lists(st.sampled_from(["lower", "full-width", "spaces", "substitute", "hyphen"]), max_size=2)
    )
    for form in forms:
        if form == "lower":
            value = value.lower()
        elif form == "full-width":
            at = draw(st.integers(0, len(value) - 1))
            value = value[:at] + value[at:].translate(str.maketrans("0123456789", "０１２３４５６７８９"))
        elif form == "spaces":
            value = draw(st.sampled_from([" ", "\t", "\u3000"])) + value + " "
        elif form == "hyphen":
            at = draw(st.integers(1, len(value) - 1))
            value = value[:at] + "-" + value[at:]
        else:
            at = draw(st.integers(0, len(value) - 1))
            value = value[:at] + draw(st.sampled_from(extra)) + value[at + 1 :]
    return value


@st.composite
def cn_id_numbers(draw: st.DrawFn) -> str:
    region = draw(st.one_of(st.sampled_from(REGIONS), st.from_regex(r"[0-9]{6}", fullmatch=True)))
    birth = draw(
        st.one_of(
            st.dates(dt.date(1850, 1, 1), dt.date(2110, 12, 31)).map(lambda d: f"{d:%Y%m%d}"),
            st.from_regex(r"(18|19|20)[0-9]{2}[01][0-9][0-3][0-9]", fullmatch=True),
        )
    )
    body = region + birth + draw(st.from_regex(r"[0-9]{3}", fullmatch=True))
    check = draw(st.one_of(st.just(cn_id_check_char(body)), st.sampled_from("0123456789X")))
    return _spelled(draw, body + check, "0123456789XxＸ")


@st.composite
def usccs(draw: st.DrawFn) -> str:
    head = draw(
        st.one_of(st.sampled_from(sorted(USCC_KINDS)), st.text(USCC_ALPHABET, min_size=2, max_size=2))
    )
    region = draw(st.one_of(st.sampled_from(REGIONS), st.from_regex(r"[0-9]{6}", fullmatch=True)))
    body = head + region + draw(st.text(USCC_ALPHABET, min_size=9, max_size=9))
    check = draw(st.one_of(st.just(uscc_check_char(body)), st.sampled_from(USCC_ALPHABET)))
    return _spelled(draw, body + check, USCC_ALPHABET + "IOZSV")


# --- the properties ---------------------------------------------------------------------------------------------


@settings(max_examples=EXAMPLES, deadline=None)
@given(cn_id_numbers())
def test_id_numbers_agree_with_stdnum_or_differ_in_a_named_way(value: str) -> None:
    ours, theirs = _cn_id_ours(value), _ric(value)
    if ours == theirs:
        event("agree")
        return
    found = explain(value, _cn_id_ours, _ric, CN_ID_DIFFERENCES)
    assert found, f"unexplained difference on {value!r}: ours {ours}, stdnum {theirs}"
    for name in found:
        event(name)


@settings(max_examples=EXAMPLES, deadline=None)
@given(usccs())
def test_usccs_agree_with_stdnum_or_differ_in_a_named_way(value: str) -> None:
    ours, theirs = _uscc_ours(value), uscc.is_valid(value)
    if ours == theirs:
        event("agree")
        return
    found = explain(value, _uscc_ours, uscc.is_valid, USCC_DIFFERENCES)
    assert found, f"unexplained difference on {value!r}: ours {ours}, stdnum {theirs}"
    for name in found:
        event(name)


def test_every_class_of_difference_has_its_named_test() -> None:
    named = {d.test for d in CN_ID_DIFFERENCES + USCC_DIFFERENCES}
    assert named <= {name for name, f in globals().items() if name.startswith("test_") and callable(f)}


# --- each class, shown on one number and explained ----------------------------------------------------------------

# 110105 (Beijing's Chaoyang district) has no validity window in stdnum's loc.dat: any birth year is fine there
_X = next(b + "X" for b in (f"11010519800101{n:03d}" for n in range(1000)) if cn_id_check_char(b) == "X")


def _cn_id(region: str, birth: str) -> str:
    body = f"{region}{birth}123"
    return body + cn_id_check_char(body)


def _uscc(head: str, region: str = "310117") -> str:
    body = f"{head}{region}MA1G12345"
    return body + uscc_check_char(body)


def test_stdnum_accepts_a_lower_case_x_we_ask_for_upper_case() -> None:
    """The hub keys and joins on the number as delivered: "…x" and "…X" would be two people. We refuse and say how
    to fix it; stdnum upper-cases first."""
    lower = _X[:17] + "x"
    assert ric.is_valid(lower) and ids.cn_id_reason(lower) == "校验码应为大写X"


def test_stdnum_reads_full_width_digits_we_ask_for_half_width() -> None:
    """Full-width digits come from IME input; they are other characters (and 3 bytes each in the Parquet files)."""
    wide = _X.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    assert ric.is_valid(wide) and ids.cn_id_reason(wide) == "含全角字符，请改为半角"


def test_stdnum_strips_surrounding_spaces_we_refuse_them() -> None:
    """A padded value is not the same key; the sheet reader already trims cells, so what reaches the check is what
    the agency's system really holds."""
    assert ric.is_valid(f" {_X} ") and ids.cn_id_reason(f" {_X} ") is not None


def test_stdnum_accepts_births_before_1900_and_in_the_future() -> None:
    """GB 11643 numbers were issued from 1984: a birth before 1900 or after today is a typing error."""
    for birth in ("18991231", f"{dt.date.today().year + 1}0101"):
        number = _cn_id("110105", birth)
        assert ric.is_valid(number) and "超出合理范围" in ids.cn_id_reason(number)


def test_stdnum_checks_the_region_against_the_birth_year_we_accept_any_known_code() -> None:
    """stdnum refuses a region code outside the years its loc.dat gives for it; those windows are incomplete (a
    person keeps the number issued where they were registered, and codes were reused), so we accept any code it
    lists. 310117 (Songjiang district) dates from 1998; people born there before keep numbers under it."""
    number = _cn_id("310117", "19800101")
    assert ids.cn_id_reason(number) is None and not ric.is_valid(number)


def test_stdnum_raises_key_error_on_an_unknown_county_under_a_known_province() -> None:
    """A bug of stdnum 2.x (it does not answer at all): a 6-digit code whose province it knows but whose county it
    does not makes `ric.is_valid` raise KeyError. We refuse the code with its reason; the hub never calls stdnum
    at run time (it reads only its code list)."""
    number = _cn_id("319999", "19800101")
    assert ids.cn_id_reason(number) == "前6位行政区划代码319999不存在"
    assert _ric(number) == RAISES


def test_stdnum_does_not_check_the_authority_and_category_table() -> None:
    """stdnum checks the shape and check character only; GB 32100's table (see govhub/identifiers.py) has no
    category 4 under authority 9 (工商: 1 企业, 2 个体工商户, 3 农民专业合作社), so no registrar issued this code."""
    code = _uscc("94")
    assert uscc.is_valid(code) and ids.uscc_reason(code).startswith("登记管理部门代码“9”下没有机构类别“4”")


def test_stdnum_does_not_check_the_division_code() -> None:
    code = _uscc("91", "999999")
    assert uscc.is_valid(code) and ids.uscc_reason(code) == "第3至8位登记管理机关行政区划码999999不存在"


def test_stdnum_refuses_the_letter_authorities_a_n_y_of_gb_32100() -> None:
    """stdnum wants digits in the first 8 places, but the table has authorities A (military units), N (rural
    collectives) and Y (other): real codes such as Songjiang's village collectives (N2…) must pass."""
    for head in ("A1", "N2", "Y1"):
        assert ids.uscc_reason(_uscc(head)) is None and not uscc.is_valid(_uscc(head))


def test_stdnum_folds_lower_case_letters_we_ask_for_upper_case() -> None:
    code = _uscc("91")
    assert uscc.is_valid(code.lower()) and ids.uscc_reason(code.lower()) == "字母应为大写"


def test_stdnum_reads_full_width_digits_in_a_uscc() -> None:
    wide = _uscc("91").translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    assert uscc.is_valid(wide) and ids.uscc_reason(wide) == "含全角字符，请改为半角"


def test_stdnum_removes_spaces_and_hyphens_we_refuse_them() -> None:
    code = _uscc("91")
    for spelled in (f"{code[:2]} {code[2:8]} {code[8:]}", f"{code[:8]}-{code[8:]}"):
        assert uscc.is_valid(spelled) and ids.uscc_reason(spelled) is not None
