"""Fixtures of the web tests."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.cache import cache
from django.test import Client
from stdnum.ee import ik

from itb.registry_io import load_registry
from itb.registry_io.synth import write_synthetic_registry
from itb.web.registry.models import (
    Assessment,
    Complication,
    Implantation,
    Patient,
    PatientIdentity,
    Refill,
    Role,
    ScreeningTrial,
    Site,
    UserProfile,
)
from itb.web.registry.views.patients import forget_counts
from itb.web.registry.views.report import forget_kept_reports

# --- data entry, report and permissions (issue 3) -------------------------------------------
# Two sites, a user of every role, and a patient at each site with a full record.

WEB_PASSWORD = "a long test password 1"
# force_login needs a backend that can load the user again (axes' backend only guards).
MODEL_BACKEND = "itb.web.registry.backends.RegistryModelBackend"
# Everyone the registry knows: the permission matrix is checked for each of them.
ROLES = ("clinician_a", "clinician_b", "coordinator", "researcher", "administrator",
         "anonymous")


def shown(message: str) -> str:
    """A core message as a form shows it, alone at its field: as a sentence."""
    return message[:1].upper() + message[1:]


def personal_code(sex: str, birth: date, serial: int = 1) -> str:
    """A valid isikukood for a sex (M/F) and birth date, as the identity form expects."""
    century = {18: 1, 19: 3, 20: 5}[birth.year // 100] + (sex == "F")
    stem = f"{century}{birth:%y%m%d}{serial:03d}"
    return stem + ik.calc_check_digit(stem + "0")


def make_user(username: str, role: Role | None, sites: list[Site] = (), *,  # type: ignore[assignment]
              superuser: bool = False, staff: bool = False, language: str = "et") -> User:
    """A user with WEB_PASSWORD, a role (None: none) and its sites."""
    user = User.objects.create_user(username, password=WEB_PASSWORD, first_name=username.title(),
                                    is_superuser=superuser, is_staff=superuser or staff)
    if role is not None:
        profile = UserProfile.objects.create(user=user, role=role, language=language)
        profile.sites.set(sites)
    return user


def make_patient(patient_id: str, site: Site, *, initial: date = date(2015, 4, 20),
                 **fields: Any) -> Patient:
    """A patient with the initial implantation every valid record has."""
    values = {"sex": "M", "birth_date": date(2008, 3, 14), "diagnosis": "cerebral_palsy",
              "syndrome": "spastic_tetraparesis", "functional_level": "low",
              "contractures_before": "yes", **fields}
    patient = Patient.objects.create(patient_id=patient_id, site=site, **values)
    Implantation.objects.create(patient=patient, implant_date=initial, site=site,
                                kind="initial", pump_model="synchromed_ii",
                                reservoir_ml=Decimal(20), catheter_type="ascenda",
                                catheter_tip_level="T10")
    return patient


@dataclass
class World:
    site_a: Site
    site_b: Site
    users: dict[str, User | None]
    patient_a: Patient
    patient_b: Patient
    events: dict[str, dict[str, int]] = field(default_factory=dict)  # patient -> table -> pk


def build_world() -> World:
    """Site A (TLN) with patient P-A1 (full record, identity), site B (TRT) with P-B1."""
    site_a = Site.objects.create(code="TLN", name="Tallinn Children's Hospital")
    site_b = Site.objects.create(code="TRT", name="Tartu University Hospital")
    users: dict[str, User | None] = {
        "clinician_a": make_user("clinician_a", Role.CLINICIAN, [site_a]),
        "clinician_b": make_user("clinician_b", Role.CLINICIAN, [site_b]),
        "coordinator": make_user("coordinator", Role.COORDINATOR),
        "researcher": make_user("researcher", Role.RESEARCHER),
        "administrator": make_user("administrator", Role.ADMINISTRATOR, superuser=True),
        "anonymous": None,
    }
    patient_a = make_patient("P-A1", site_a)
    PatientIdentity.objects.create(patient=patient_a, first_name="Mart", last_name="Tamm",
                                   personal_code=personal_code("M", patient_a.birth_date))
    refill = Refill.objects.create(patient=patient_a, refill_date=date(2015, 10, 20),
                                   volume_ml=Decimal(20), concentration_mcg_ml=Decimal(500),
                                   daily_dose_mcg=Decimal(150))
    complication = Complication.objects.create(patient=patient_a,
                                               complication_date=date(2016, 7, 1),
                                               type="catheter_kink")
    assessment = Assessment.objects.create(patient=patient_a, assessment_date=date(2015, 3, 1),
                                           instrument="mas", phase="screening",
                                           body_site="left knee", value="1+")
    trial = ScreeningTrial.objects.create(patient=patient_a, trial_date=date(2015, 3, 1),
                                          dose_mcg=Decimal(50), response="yes",
                                          side_effects="")
    patient_b = make_patient("P-B1", site_b, initial=date(2018, 9, 5), sex="F",
                             birth_date=date(2011, 11, 2), functional_level="high")
    events = {
        patient.patient_id: {"implantations": patient.implantations.get().pk}
        for patient in (patient_a, patient_b)
    }
    events["P-A1"].update(refills=refill.pk, complications=complication.pk,
                          assessments=assessment.pk, screening_trials=trial.pk)
    return World(site_a, site_b, users, patient_a, patient_b, events)


def fast_passwords(settings: Any) -> None:
    """A deliberately slow password hash (Argon2) would dominate the tests' time."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def world(db: None, settings: Any) -> World:
    fast_passwords(settings)
    return build_world()


@pytest.fixture
def client_as(world: World) -> Callable[[str], Client]:
    """``client_as("clinician_a")``: a client signed in as that user ("anonymous": nobody)."""

    def make(role: str) -> Client:
        client = Client()
        user = world.users[role]
        if user is not None:
            client.force_login(user, backend=MODEL_BACKEND)
        return client

    return make


@pytest.fixture(autouse=True)
def _fresh_cache(request: pytest.FixtureRequest, settings: Any) -> Iterator[None]:
    """Rendered reports are cached (in the database): every test starts from an empty cache,
    and computes a missing report in the request (test_views_report tests the background).
    The patient list's counts and the reports a worker keeps too (kept per process by the
    audit trail's newest entry, whose key a rolled-back test may hand to the next)."""
    settings.ITB_REPORT_BACKGROUND = False
    uses_database = bool(request.node.get_closest_marker("django_db")) or bool(
        {"db", "transactional_db", "live_server"} & set(request.fixturenames))
    if uses_database:
        cache.clear()
        forget_counts()
        forget_kept_reports()
    yield
    if uses_database:
        cache.clear()
        forget_counts()
        forget_kept_reports()


# --- import, export and the database commands (issue 3: the app, identity) -------------------

REFERENCE_COHORT = Path(__file__).resolve().parents[2] / "data" / "reference-cohort"


@pytest.fixture
def database_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """``--data-dir`` of a database command run in-process.

    Django is already set up on the test database, which the command then uses; the data
    directory only receives the environment variable the command sets, restored afterwards.
    """
    monkeypatch.setenv("ITB_DATA_DIR", str(tmp_path / "itb-data"))
    return tmp_path / "itb-data"


@pytest.fixture
def reference_copy(tmp_path: Path) -> Path:
    """A copy of the reference cohort that a test may change."""
    copy = tmp_path / "reference"
    shutil.copytree(REFERENCE_COHORT, copy)
    return copy


@pytest.fixture(scope="session")
def synthetic_registry(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An ``itb synth`` registry of 300 patients (read only: copy it to change it)."""
    out = tmp_path_factory.mktemp("synthetic") / "registry"
    write_synthetic_registry(out, 300, seed=11)
    return out


def write_identity(directory: Path, every: int = 1) -> dict[str, tuple[str, str, str]]:
    """identity.csv for every ``every``-th patient of the directory: a synthetic personal code
    agreeing with the patient's sex and birth date, and invented names."""
    registry = load_registry(directory)
    rows: dict[str, tuple[str, str, str]] = {}
    patients = registry.patients.select("patient_id", "sex", "birth_date").iter_rows()
    for n, (patient_id, sex, birth) in enumerate(patients):
        if n % every == 0:
            rows[patient_id] = (personal_code(sex, birth, serial=n % 1000), f"Eesnimi{n}",
                                f"Perenimi{n}")
    lines = ["patient_id,personal_code,first_name,last_name"]
    lines += [f"{patient_id},{code},{first},{last}"
              for patient_id, (code, first, last) in rows.items()]
    (directory / "identity.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return rows


def registry_files(directory: Path) -> dict[str, bytes]:
    """A registry directory's files by name (its README aside)."""
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir()) if p.name != "README.md"}


def server_environment(tmp_path: Path) -> dict[str, str]:
    """The environment of an ``itb`` subprocess that shares the test's database.

    PostgreSQL: the test database itself (the test must be transactional, so that what the
    subprocess commits is flushed afterwards). SQLite's test database is in memory: the
    subprocess gets its own file in a data directory under tmp_path.
    """
    from django.db import connection

    env = {**os.environ, "ITB_DATA_DIR": str(tmp_path / "server-data")}
    env.pop("DATABASE_URL", None)
    if connection.vendor == "postgresql":
        db = connection.settings_dict
        env["DATABASE_URL"] = (f"postgresql://{db['USER']}@{db['HOST'] or '127.0.0.1'}:"
                               f"{db['PORT'] or 5432}/{db['NAME']}")
    return env
