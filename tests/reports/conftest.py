"""The reference cohort's result and its rendered report, computed once per test session."""

from __future__ import annotations

import pytest

from itb.analysis import StudyResult, analyse
from itb.cli import REFERENCE_COHORT
from itb.registry_io import load_registry
from itb.reports.writer import render_report


@pytest.fixture(scope="session")
def result() -> StudyResult:
    return analyse(load_registry(REFERENCE_COHORT))


@pytest.fixture(scope="session")
def files_et(result: StudyResult) -> dict[str, bytes]:
    return render_report(result, "et")


@pytest.fixture(scope="session")
def files_en(result: StudyResult) -> dict[str, bytes]:
    return render_report(result, "en")
