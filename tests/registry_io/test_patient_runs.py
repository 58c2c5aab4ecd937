"""Rows matched to their patients a run at a time: found by validation, reused by the analysis
only for the very tables validation saw."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from itb.analysis import analyse
from itb.analysis.index import PatientIndex
from itb.registry_io import load_registry
from itb.registry_io.patient_runs import UNKNOWN_PATIENT, find_runs
from itb.registry_io.synth import write_synthetic_registry

TABLES = ("implantations", "complications", "assessments", "refills", "screening_trials")


def test_each_run_is_matched_in_the_sorted_ids() -> None:
    ids = pl.Series(["A", "C", "E"])
    column = pl.Series(["C", "C", "A", "B", "B", None, "E", "C", "Z"])
    index, lengths = find_runs(ids, column)
    assert index.tolist() == [1, 0, UNKNOWN_PATIENT, UNKNOWN_PATIENT, 2, 1, UNKNOWN_PATIENT]
    assert lengths.tolist() == [2, 1, 2, 1, 1, 1, 1]


def test_no_patients_leaves_every_run_unknown() -> None:
    index, lengths = find_runs(pl.Series([], dtype=pl.String), pl.Series(["A", "A", "B"]))
    assert index.tolist() == [UNKNOWN_PATIENT] * 2
    assert lengths.tolist() == [2, 1]


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    directory = tmp_path_factory.mktemp("synth") / "registry"
    write_synthetic_registry(directory, 400, seed=5)
    return load_registry(directory)


def test_validation_hands_over_the_runs_it_found(registry) -> None:  # type: ignore[no-untyped-def]
    known = registry.known_runs
    assert known is not None
    ids = registry.patients.get_column("patient_id")
    assert np.array_equal(known.order_of(registry.patients), ids.arg_sort().to_numpy())
    sorted_ids = ids.sort()
    for table in TABLES:
        frame = getattr(registry, table)
        found = known.runs_of(table, frame)
        assert found is not None, table
        expected = find_runs(sorted_ids, frame.get_column("patient_id"))
        assert np.array_equal(found[0], expected[0]) and np.array_equal(found[1], expected[1])


def test_a_replaced_table_has_its_runs_found_anew(registry) -> None:  # type: ignore[no-untyped-def]
    # Refills of the patients in reverse order: the runs validation found no longer fit.
    reversed_refills = registry.refills.reverse()
    changed = dataclasses.replace(registry, refills=reversed_refills)
    assert changed.known_runs.runs_of("refills", reversed_refills) is None
    index = PatientIndex(changed)
    expected = find_runs(changed.patients.get_column("patient_id").sort(),
                         reversed_refills.get_column("patient_id"))
    assert np.array_equal(index.runs("refills")[0], expected[0])
    assert analyse(changed).to_dict() == analyse(
        dataclasses.replace(changed, known_runs=None)).to_dict()


def test_the_analysis_is_the_same_with_the_runs_handed_over(registry) -> None:  # type: ignore[no-untyped-def]
    without = dataclasses.replace(registry, known_runs=None)
    assert analyse(registry).to_dict() == analyse(without).to_dict()


def test_no_runs_are_handed_over_when_patients_repeat_an_id(tmp_path: Path) -> None:
    from itb.registry_io.loader import resolve_cutoff, site_codes_of
    from itb.registry_io.reader import read_table
    from itb.registry_io.schema import ALL_FILES
    from itb.registry_io.validate import validate_tables

    directory = tmp_path / "registry"
    write_synthetic_registry(directory, 20, seed=3)
    patients = directory / "patients.csv"
    lines = patients.read_text(encoding="utf-8").splitlines(keepends=True)
    patients.write_text("".join([*lines, lines[1]]), encoding="utf-8")
    cutoff, _, _ = resolve_cutoff(directory, None)
    raw = {spec.table: table for spec in ALL_FILES
           if (table := read_table(directory, spec)[0]) is not None}
    validated = validate_tables(raw, cutoff, site_codes_of(raw)[0])
    assert validated.problems and validated.patient_order is None
