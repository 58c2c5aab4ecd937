"""The Estonian personal identification code (isikukood): which part of one is wrong.

An isikukood is 11 digits ``GYYMMDDSSSC``: G gives the century of birth and the sex (1/2:
1800s, 3/4: 1900s, 5/6: 2000s; odd = male, even = female), YYMMDD the birth date, SSS a
serial number and C the check digit. The arithmetic is python-stdnum's (``stdnum.ee.ik``);
this module names the part that is wrong, as problem codes of ``itb.domain.messages``.

The code itself is never part of a problem: messages reach logs and terminals.
"""

from __future__ import annotations

from datetime import date

from stdnum.ee import ik
from stdnum.exceptions import ValidationError

FORMAT = "personal_code_format"
CENTURY = "personal_code_century"
BIRTH_DATE = "personal_code_birth_date"
CHECKSUM = "personal_code_checksum"
SEX_MISMATCH = "personal_code_sex_mismatch"
BIRTH_MISMATCH = "personal_code_birth_mismatch"

PROBLEM_CODES = (FORMAT, CENTURY, BIRTH_DATE, CHECKSUM, SEX_MISMATCH, BIRTH_MISMATCH)

# stdnum also reads 7/8 (born in the 2100s); nobody in a registry today can have them.
CENTURY_DIGITS = "123456"


def personal_code_problems(code: str, sex: str | None = None,
                           birth_date: date | None = None) -> list[str]:
    """The problem codes of ``code``: empty when it is valid and agrees with ``sex`` (M or F)
    and ``birth_date``, where those are given.

    The parts are checked one by one so that a user can find the typo: the format first
    (nothing else can be read without it), then the century digit, the birth date and the
    check digit; agreement with the registry's sex and birth date only for the parts that
    could be read.
    """
    if len(code) != 11 or not code.isascii() or not code.isdigit():
        return [FORMAT]
    problems: list[str] = []
    readable = code[0] in CENTURY_DIGITS
    encoded = _birth_date(code) if readable else None
    if not readable:
        problems.append(CENTURY)
    elif encoded is None:
        problems.append(BIRTH_DATE)
    if ik.calc_check_digit(code) != code[-1]:
        problems.append(CHECKSUM)
    if readable and sex is not None and ik.get_gender(code) != sex:
        problems.append(SEX_MISMATCH)
    if encoded is not None and birth_date is not None and encoded != birth_date:
        problems.append(BIRTH_MISMATCH)
    return problems


def is_valid_personal_code(code: str) -> bool:
    """Whether ``code`` is a well-formed isikukood (its own parts only)."""
    return not personal_code_problems(code)


def _birth_date(code: str) -> date | None:
    try:
        return ik.get_birth_date(code)
    except ValidationError:
        return None
