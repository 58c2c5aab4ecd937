"""Estonian personal codes: each wrong part named, the code itself never in a message.

Every code here is synthetic: built from a chosen birth date and serial, with the check
digit computed by the published algorithm (implemented independently below, and compared
with python-stdnum's).
"""

from __future__ import annotations

from datetime import date

import pytest
from stdnum.ee import ik

from itb.domain.messages import message
from itb.domain.personal_code import (
    BIRTH_DATE,
    BIRTH_MISMATCH,
    CENTURY,
    CHECKSUM,
    FORMAT,
    PROBLEM_CODES,
    SEX_MISMATCH,
    is_valid_personal_code,
    personal_code_problems,
)

WEIGHTS_1 = (1, 2, 3, 4, 5, 6, 7, 8, 9, 1)
WEIGHTS_2 = (3, 4, 5, 6, 7, 8, 9, 1, 2, 3)


def check_digit(first_ten: str) -> str:
    """The isikukood check digit (Estonian standard EVS 585:2007)."""
    digits = [int(d) for d in first_ten]
    remainder = sum(w * d for w, d in zip(WEIGHTS_1, digits, strict=True)) % 11
    if remainder == 10:
        remainder = sum(w * d for w, d in zip(WEIGHTS_2, digits, strict=True)) % 11
    return str(remainder % 10)


def synthetic_code(sex: str, born: date, serial: int = 123) -> str:
    century = {1800: 1, 1900: 3, 2000: 5}[born.year // 100 * 100]
    first = century + (sex == "F")
    ten = f"{first}{born:%y%m%d}{serial:03d}"
    return ten + check_digit(ten)


def with_check_digit(ten: str) -> str:
    return ten + check_digit(ten)


def wrong_check_digit(code: str) -> str:
    return code[:-1] + str((int(code[-1]) + 1) % 10)


@pytest.mark.parametrize("serial", range(0, 1000, 37))
def test_check_digit_agrees_with_stdnum(serial: int) -> None:
    code = synthetic_code("M", date(1987, 6, 5), serial)
    assert ik.calc_check_digit(code) == code[-1]


@pytest.mark.parametrize(("sex", "born"), [
    ("M", date(1899, 12, 31)), ("F", date(1901, 1, 1)), ("M", date(1968, 5, 28)),
    ("F", date(2000, 2, 29)), ("M", date(2019, 10, 4)),
])
def test_valid_code_agreeing_with_the_patient(sex: str, born: date) -> None:
    code = synthetic_code(sex, born)
    assert personal_code_problems(code, sex, born) == []
    assert personal_code_problems(code) == []
    assert is_valid_personal_code(code)


@pytest.mark.parametrize("text", [
    "", "1234567890", "123456789012", "3870605123a", " 38706051234", "3870605-123",
    "３８７０６０５１２３４",  # full-width digits are digits to Python, not to the format
])
def test_format(text: str) -> None:
    assert personal_code_problems(text) == [FORMAT]


@pytest.mark.parametrize("first", ["0", "7", "8", "9"])
def test_century_digit(first: str) -> None:
    code = with_check_digit(first + "870605123")
    assert personal_code_problems(code) == [CENTURY]
    # The sex cannot be read from it, so it cannot disagree either.
    assert personal_code_problems(code, "F", date(1987, 6, 5)) == [CENTURY]


@pytest.mark.parametrize("digits", ["870230", "871301", "870000", "870631", "010229"])
def test_birth_date_that_does_not_exist(digits: str) -> None:
    code = with_check_digit(f"3{digits}123")
    assert personal_code_problems(code) == [BIRTH_DATE]
    assert personal_code_problems(code, "M", date(1987, 6, 5)) == [BIRTH_DATE]


def test_checksum() -> None:
    code = wrong_check_digit(synthetic_code("F", date(1995, 3, 17)))
    assert personal_code_problems(code) == [CHECKSUM]
    assert personal_code_problems(code, "F", date(1995, 3, 17)) == [CHECKSUM]


def test_second_weights_used_when_first_remainder_is_ten() -> None:
    """Some codes need the second weight series; find one and check both agree."""
    for serial in range(100):
        ten = f"49403136{serial:02d}"
        first = sum(w * int(d) for w, d in zip(WEIGHTS_1, ten, strict=True)) % 11
        if first == 10:
            code = with_check_digit(ten)
            assert ik.calc_check_digit(code) == code[-1]
            assert personal_code_problems(code) == []
            return
    pytest.fail("no code with a first remainder of 10")


def test_sex_mismatch() -> None:
    born = date(2011, 11, 2)
    assert personal_code_problems(synthetic_code("M", born), "F", born) == [SEX_MISMATCH]
    assert personal_code_problems(synthetic_code("F", born), "M", born) == [SEX_MISMATCH]


def test_birth_mismatch() -> None:
    code = synthetic_code("M", date(2008, 3, 14))
    assert personal_code_problems(code, "M", date(2008, 3, 15)) == [BIRTH_MISMATCH]
    # The same day and month a century apart is another date.
    assert personal_code_problems(code, "M", date(1908, 3, 14)) == [BIRTH_MISMATCH]


def test_several_parts_wrong_are_all_named_in_the_code_order() -> None:
    code = wrong_check_digit(synthetic_code("M", date(1990, 1, 1)))
    assert personal_code_problems(code, "F", date(1990, 1, 2)) == [
        CHECKSUM, SEX_MISMATCH, BIRTH_MISMATCH]
    impossible = wrong_check_digit(with_check_digit("4990231123"))
    assert personal_code_problems(impossible, "M", date(1999, 2, 28)) == [
        BIRTH_DATE, CHECKSUM, SEX_MISMATCH]


@pytest.mark.parametrize("problem", PROBLEM_CODES)
@pytest.mark.parametrize("lang", ["et", "en"])
def test_messages_exist_and_carry_no_code(problem: str, lang: str) -> None:
    code = synthetic_code("M", date(1987, 6, 5))
    text = message(problem, lang, column="personal_code", value=code)
    assert text and code not in text and "{" not in text
