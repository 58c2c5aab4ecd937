"""The synthetic registry: valid, reproducible, and with something in every file."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from itb.cli import main
from itb.registry_io import load_registry
from itb.registry_io.schema import CLINICAL_FILES, SITES
from itb.registry_io.synth import CUTOFF, write_synthetic_registry

FILES = [spec.filename for spec in (SITES, *CLINICAL_FILES)] + ["dataset.toml"]


def _contents(directory: Path) -> dict[str, bytes]:
    return {name: (directory / name).read_bytes() for name in FILES}


@pytest.fixture(scope="module")
def registry_200(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, int]]:
    out = tmp_path_factory.mktemp("synth") / "registry"
    return out, write_synthetic_registry(out, 200, seed=7)


def test_loads_without_problems(registry_200: tuple[Path, dict[str, int]]) -> None:
    out, counts = registry_200
    registry = load_registry(out)
    assert registry.cutoff == CUTOFF
    assert registry.title is not None and "ynthetic" in registry.title
    assert set(registry.site_names) >= {"TLH", "TUK", "PERH", "LTKH"}
    for table in ("patients", "implantations", "complications", "assessments", "refills"):
        assert getattr(registry, table).height == counts[f"{table}.csv"]
    assert counts["patients.csv"] == 200


def test_every_file_has_content(registry_200: tuple[Path, dict[str, int]]) -> None:
    out, _ = registry_200
    assert all((out / name).stat().st_size > 0 for name in FILES)
    registry = load_registry(out)
    patients = registry.patients
    assert patients.get_column("patient_id").to_list()[:2] == ["S0000001", "S0000002"]
    assert patients.get_column("patient_id").is_unique().all()
    kinds = registry.implantations.get_column("kind").value_counts()
    kinds_by_code = dict(kinds.iter_rows())
    assert kinds_by_code["initial"] == 200
    assert kinds_by_code.get("replacement", 0) > 10
    assert kinds_by_code.get("revision", 0) > 0
    assert 0.10 <= registry.complications.get_column("patient_id").n_unique() / 200 <= 0.30
    assert registry.assessments.height > 100
    assert registry.refills.height > 1000
    assert 0 < patients.get_column("therapy_end_date").null_count() < 200
    assert set(registry.assessments.get_column("phase")) == {"screening", "follow_up"}
    assert set(registry.refills.get_column("concentration_mcg_ml")) <= {500.0, 1000.0, 2000.0}
    dose = registry.refills.get_column("daily_dose_mcg")
    assert dose.min() >= 50 and dose.max() <= 900  # type: ignore[operator]
    refills = registry.refills.join(
        registry.implantations.group_by("patient_id").agg(pl.col("reservoir_ml").min()),
        on="patient_id")
    assert (refills.get_column("volume_ml") <= refills.get_column("reservoir_ml")).all()


def test_same_seed_same_bytes_other_seed_other_data(
        registry_200: tuple[Path, dict[str, int]], tmp_path: Path) -> None:
    out, _ = registry_200
    write_synthetic_registry(tmp_path / "again", 200, seed=7)
    write_synthetic_registry(tmp_path / "other", 200, seed=8)
    assert _contents(tmp_path / "again") == _contents(out)
    other = _contents(tmp_path / "other")
    assert other["patients.csv"] != _contents(out)["patients.csv"]
    assert other["sites.csv"] == _contents(out)["sites.csv"]


def test_one_patient(tmp_path: Path) -> None:
    counts = write_synthetic_registry(tmp_path, 1, seed=1)
    registry = load_registry(tmp_path)
    assert counts["patients.csv"] == registry.patients.height == 1
    assert registry.patients.get_column("patient_id").to_list() == ["S0000001"]


def test_chunks_continue_ids_and_stay_valid(tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    from itb.registry_io import synth

    monkeypatch.setattr(synth, "CHUNK_PATIENTS", 40)
    counts = write_synthetic_registry(tmp_path, 100, seed=5)
    registry = load_registry(tmp_path)
    ids = registry.patients.get_column("patient_id").to_list()
    assert ids == [f"S{i:07d}" for i in range(1, 101)]
    assert registry.refills.height == counts["refills.csv"]
    assert (tmp_path / "refills.csv").read_text(encoding="utf-8").count("patient_id") == 1


def test_cli_synth(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["synth", "--patients", "30", "--out", str(tmp_path / "cli"), "--seed", "4"]) == 0
    assert "30 patients.csv" in capsys.readouterr().out
    assert main(["validate", str(tmp_path / "cli"), "--lang", "en"]) == 0


def test_rejects_no_patients(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        write_synthetic_registry(tmp_path, 0)
