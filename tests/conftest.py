"""Shared fixtures: a minimal valid registry directory that a test can spoil one file of."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

CUTOFF = "2024-07-31"

# The text of each file of a minimal valid registry (three patients, cut-off 2024-07-31).
# Line 1 is the header, so the first data row of every file is line 2.
VALID_FILES: dict[str, str] = {
    "dataset.toml": f'title = "Minimal test registry"\ncutoff = {CUTOFF}\n',
    "sites.csv": (
        "code,name\n"
        "TLN,Tallinn Children's Hospital\n"
        "TRT,Tartu University Hospital\n"
    ),
    "patients.csv": (
        "patient_id,site,sex,birth_date,diagnosis,diagnosis_detail,syndrome,functional_level,"
        "contractures_before,therapy_end_date,therapy_end_reason\n"
        "P01,TLN,M,2008-03-14,cerebral_palsy,,spastic_tetraparesis,low,yes,,\n"
        "P02,TRT,F,2011-11-02,multiple_sclerosis,,spastic_paraparesis,high,no,,\n"
        "P03,TLN,F,2005-06-30,other,anoxic injury,generalised_dystonia,low,,2023-05-10,death\n"
    ),
    "implantations.csv": (
        "patient_id,implant_date,site,kind,pump_model,reservoir_ml,catheter_type,"
        "catheter_tip_level\n"
        "P01,2015-04-20,TLN,initial,synchromed_ii,20,ascenda,T10\n"
        "P01,2022-04-12,TLN,replacement,synchromed_ii,20,ascenda,T10\n"
        "P02,2018-09-05,TRT,initial,prometra_ii,40,silicone,C5\n"
        "P02,2020-01-15,TRT,revision,,,silicone,T8\n"
        "P03,2016-02-01,TLN,initial,synchromed_ii,40,,\n"
    ),
    "complications.csv": (
        "patient_id,complication_date,type,detail\n"
        "P01,2016-07-01,catheter_kink,\n"
        "P02,2019-03-03,infection,superficial\n"
    ),
    "assessments.csv": (
        "patient_id,assessment_date,instrument,phase,body_site,value\n"
        "P01,2015-03-01,mas,screening,left knee,1+\n"
        "P01,2016-04-20,mas,follow_up,left knee,1\n"
        "P01,2016-04-20,gmfcs,follow_up,,IV\n"
        "P02,2018-08-01,pain_nrs,screening,,7\n"
        "P02,2019-09-05,gmfm,follow_up,,45.5\n"
        "P02,2019-09-05,goniometry,follow_up,left hip,-20\n"
        "P03,2017-01-10,penn,follow_up,,2\n"
        "P03,2017-01-10,tardieu,follow_up,right ankle,3\n"
    ),
    "refills.csv": (
        "patient_id,refill_date,volume_ml,concentration_mcg_ml,daily_dose_mcg\n"
        "P01,2015-10-20,20,500,150\n"
        "P02,2019-01-10,40,2000,300.5\n"
        "P03,2017-05-01,40,500,\n"
    ),
}

MakeRegistry = Callable[..., Path]


def _keyword(filename: str) -> str:
    """``patients.csv`` -> ``patients``, ``dataset.toml`` -> ``dataset``."""
    return filename.split(".", 1)[0]


def write_registry(directory: Path, **files: str | bytes | None) -> Path:
    """Write the minimal valid registry into ``directory``, with some files replaced.

    Each keyword names a file without its extension (``patients``, ``sites``, ``dataset``, …):
    text or bytes replace the file's content, ``None`` leaves the file out.
    """
    names = {_keyword(filename): filename for filename in VALID_FILES}
    unknown = set(files) - set(names)
    if unknown:
        raise TypeError(f"no such registry file: {sorted(unknown)}")
    directory.mkdir(parents=True, exist_ok=True)
    for key, filename in names.items():
        content = files.get(key, VALID_FILES[filename])
        if content is None:
            continue
        path = directory / filename
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8", newline="")
    return directory


@pytest.fixture
def valid_files() -> dict[str, str]:
    """The valid files' text by keyword (``patients``, ``sites``, ``dataset``, …), to edit."""
    return {_keyword(filename): text for filename, text in VALID_FILES.items()}


@pytest.fixture
def make_registry(tmp_path: Path) -> MakeRegistry:
    """``make_registry(patients=..., sites=None)``: a registry directory under tmp_path."""
    counter = iter(range(1_000_000))

    def make(**files: str | bytes | None) -> Path:
        return write_registry(tmp_path / f"registry{next(counter)}", **files)

    return make
