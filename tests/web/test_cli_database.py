"""The database commands: createuser, the first run of serve, demo, and serve for real."""

from __future__ import annotations

import io
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User

from itb.cli import ROLES, main
from itb.web.registry.models import ImportRecord, Patient, Role, Site
from tests.web.conftest import WEB_PASSWORD, fast_passwords, server_environment

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _quick_hashes(settings: Any) -> None:
    fast_passwords(settings)


def createuser(database_dir: Path, monkeypatch: pytest.MonkeyPatch, *args: str,
               password: str = WEB_PASSWORD) -> int:
    monkeypatch.setattr(sys, "stdin", io.StringIO(password + "\n"))
    return main(["createuser", *args, "--password-stdin", "--data-dir", str(database_dir)])


def test_roles_are_the_models_roles() -> None:
    assert set(ROLES) == set(Role.values)


def test_createuser_clinician(database_dir: Path, monkeypatch: pytest.MonkeyPatch,
                              capsys: pytest.CaptureFixture[str]) -> None:
    Site.objects.create(code="TLH", name="Tallinna Lastehaigla")
    Site.objects.create(code="TUK", name="Tartu Ülikooli Kliinikum")
    assert createuser(database_dir, monkeypatch, "mari", "--role", "clinician", "--site", "TLH",
                      "--site", "TUK", "--language", "en") == 0
    assert capsys.readouterr().out == "user mari (clinician) created\n"
    user = User.objects.get(username="mari")
    assert user.check_password(WEB_PASSWORD) and not user.is_staff
    assert user.profile.role == "clinician" and user.profile.language == "en"
    assert sorted(user.profile.sites.values_list("code", flat=True)) == ["TLH", "TUK"]


def test_createuser_administrator_manages_users_only(database_dir: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    assert createuser(database_dir, monkeypatch, "admin", "--role", "administrator") == 0
    admin = User.objects.get(username="admin")
    assert admin.is_staff and not admin.is_superuser
    assert admin.has_perm("auth.change_user") and admin.has_perm("registry.add_site")
    assert not admin.has_perm("registry.view_patient")
    assert not admin.has_perm("auditlog.view_logentry")


@pytest.mark.parametrize(("args", "password", "message"), [
    (("x", "--role", "clinician", "--site", "NOPE"), WEB_PASSWORD,
     "itb: unknown site(s) NOPE; known: none yet"),
    (("x", "--role", "coordinator"), "short",
     "itb: This password is too short. It must contain at least 10 characters."),
    (("x", "--role", "coordinator"), "1234567890123", "itb: This password is entirely numeric."),
])
def test_createuser_refuses(database_dir: Path, monkeypatch: pytest.MonkeyPatch,
                            capsys: pytest.CaptureFixture[str], args: tuple[str, ...],
                            password: str, message: str) -> None:
    assert createuser(database_dir, monkeypatch, *args, "--language", "en",
                      password=password) == 2
    assert message in capsys.readouterr().err.splitlines()
    assert not User.objects.filter(username="x").exists()


def test_createuser_existing_name(database_dir: Path, monkeypatch: pytest.MonkeyPatch,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    assert createuser(database_dir, monkeypatch, "kati", "--role", "researcher") == 0
    assert createuser(database_dir, monkeypatch, "kati", "--role", "coordinator") == 2
    assert "itb: the user 'kati' already exists" in capsys.readouterr().err
    assert User.objects.get(username="kati").profile.role == "researcher"


def test_createuser_without_terminal_needs_password_stdin(
        database_dir: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    status = main(["createuser", "x", "--role", "researcher", "--data-dir", str(database_dir)])
    assert status == 2
    assert "use --password-stdin" in capsys.readouterr().err


def test_serve_first_run_without_administrator(database_dir: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "--data-dir", str(database_dir)]) == 2
    assert "itb createuser admin --role administrator" in capsys.readouterr().err


def test_demo_without_serving(tmp_path: Path, database_dir: Path,
                              monkeypatch: pytest.MonkeyPatch,
                              capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DATABASE_URL", raising=False)  # the demo drops it; restored after
    monkeypatch.setenv("ITB_FOLLOW_UP_DATE", "")  # the demo sets it; removed after
    stale = tmp_path / "itb-demo" / "registry"
    stale.mkdir(parents=True)
    (stale / "registry.sqlite3").write_bytes(b"an old demo database")
    (stale / "keep.txt").write_text("not the demo's", encoding="utf-8")

    assert main(["demo", "--no-serve"]) == 0
    out = capsys.readouterr().out
    assert (tmp_path / "itb-demo" / "report.html").is_file()
    assert (tmp_path / "itb-demo" / "en" / "report.html").is_file()
    assert not (stale / "registry.sqlite3").exists() or \
        (stale / "registry.sqlite3").read_bytes() != b"an old demo database"
    assert (stale / "keep.txt").exists()  # only the demo's own files are removed
    assert Patient.objects.filter(patient_id__startswith="ITB").count() == 43
    assert ImportRecord.objects.get().origin == "itb demo"

    passwords = dict(re.findall(r"user (\w+) +password (\S+)", out))
    assert sorted(passwords) == sorted(ROLES)
    for username, password in passwords.items():
        user = User.objects.get(username=username)
        assert user.check_password(password) and user.profile.role == username
    clinician = User.objects.get(username="clinician")
    assert sorted(clinician.profile.sites.values_list("code", flat=True)) == ["TLH", "TUK"]
    assert "http://" not in out  # not served
    # The follow-up pages compute for the cohort's cut-off, the day its refills are dated for.
    assert os.environ["ITB_FOLLOW_UP_DATE"] == "2024-07-31"
    assert "follow-up computed for 2024-07-31" in out


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _get(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return error.code


@pytest.mark.django_db(transaction=True)
def test_serve_answers_the_login_page(tmp_path: Path) -> None:
    env = server_environment(tmp_path)
    itb = [sys.executable, "-m", "itb.cli"]
    created = subprocess.run(
        [*itb, "createuser", "admin", "--role", "administrator", "--password-stdin"],
        input=WEB_PASSWORD + "\n", env=env, capture_output=True, text=True, timeout=120,
        check=False)
    assert created.returncode == 0, created.stderr

    port = _free_port()
    server = subprocess.Popen([*itb, "serve", "--bind", f"127.0.0.1:{port}", "--workers", "1"],
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True)
    try:
        status, deadline = 0, time.monotonic() + 60
        while time.monotonic() < deadline and server.poll() is None:
            try:
                status = _get(f"http://127.0.0.1:{port}/login/")
                break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.2)
        assert status == 200
        # Static files come from WhiteNoise, and the pages need a signed-in user.
        assert _get(f"http://127.0.0.1:{port}/admin/login/") == 200
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            output, _ = server.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            output, _ = server.communicate()
    assert server.returncode == 0, output


def test_unreachable_database_is_said_not_traced(tmp_path: Path) -> None:
    env = {**server_environment(tmp_path),
           "DATABASE_URL": f"postgresql://postgres@127.0.0.1:{_free_port()}/nothing"}
    done = subprocess.run([sys.executable, "-m", "itb.cli", "export", str(tmp_path / "out")],
                          env=env, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 1
    assert done.stderr.startswith("itb: the database: ") and "Traceback" not in done.stderr
    assert not (tmp_path / "out").exists()
