"""Security: sign-in everywhere, Argon2, throttling, idle sessions, CSRF, headers, no debug
pages, the secret key file, and logs without personal values."""

from __future__ import annotations

import logging
import os
import re
import stat
import subprocess
import sys
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import User
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import URLPattern, URLResolver, get_resolver, path, reverse
from django.utils import timezone

from itb.web import settings as itb_settings
from itb.web.registry.middleware import RENEW_AFTER_SECONDS, RENEWED_KEY
from itb.web.registry.models import (
    Implantation,
    Patient,
    PatientIdentity,
    Role,
    Site,
)
from tests.web.conftest import WEB_PASSWORD, make_user

pytestmark = pytest.mark.django_db

PASSWORD = WEB_PASSWORD  # make_user's
WRONG_PASSWORD = "Tr0ub4dor&3-wrong"
# A valid personal code of the woman born 1990-01-01 below, and her names.
CODE, FIRST, LAST = "49001010001", "Zelda", "Quibblewick"
NEW_CODE_TYPO, NEW_LAST = "49001010002", "Quibblestone"


@pytest.fixture
def site() -> Site:
    return Site.objects.create(code="TLN", name="Tallinn")


@pytest.fixture
def clinician(site: Site) -> User:
    return make_user("clinician", Role.CLINICIAN, [site])


@pytest.fixture
def patient(site: Site) -> Patient:
    patient = Patient.objects.create(
        patient_id="P01", site=site, sex="F", birth_date=date(1990, 1, 1),
        diagnosis="cerebral_palsy", syndrome="spastic_tetraparesis", functional_level="low",
        contractures_before="yes")
    PatientIdentity.objects.create(patient=patient, personal_code=CODE, first_name=FIRST,
                                   last_name=LAST)
    # A valid record (the identity edit validates the whole record): an initial implantation.
    Implantation.objects.create(patient=patient, implant_date=date(2015, 4, 20), site=site,
                                kind="initial", pump_model="synchromed_ii",
                                reservoir_ml=Decimal("20"), catheter_type="ascenda",
                                catheter_tip_level="T10")
    return patient


def signed_in(user: User, **options: Any) -> Client:
    client = Client(**options)
    client.force_login(user)
    return client


# --- sign-in required everywhere ------------------------------------------------------------

# Sample values for the URL parameters of every pattern of the project.
SAMPLES = {"patient_id": "P01", "pk": "1", "table": "refills", "name": "report.html",
           "username": "clinician", "app_label": "registry", "object_id": "1",
           "content_type_id": "1", "id": "1", "fmt": "ics"}
# Pages an anonymous visitor may open: signing in itself (ours and the admin's, which
# forwards to it), and the language switch of the sign-in page (POST only, it reads no
# data). Static files are served by WhiteNoise before any URL pattern.
PUBLIC = {"login", "admin:login", "registry:set_language"}


def named_patterns(resolver: URLResolver | None = None,
                   namespace: str = "") -> Iterator[tuple[str, list[str]]]:
    """Every named URL pattern of the project, with its parameter names."""
    resolver = resolver or get_resolver()
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from named_patterns(pattern, inner)
        elif isinstance(pattern, URLPattern) and pattern.name:
            converters = getattr(pattern.pattern, "converters", {})
            names = list(converters) or list(pattern.pattern.regex.groupindex)
            yield f"{namespace}{pattern.name}", names


def project_urls() -> list[str]:
    urls = []
    for name, params in named_patterns():
        if name not in PUBLIC:
            urls.append(reverse(name, kwargs={p: SAMPLES[p] for p in params}))
    return sorted(set(urls))


def test_every_page_sends_anonymous_visitors_to_sign_in() -> None:
    urls = project_urls()
    # The walk found the pages of every part: the registry, its reports and the admin.
    assert {"/", "/patients/P01/", "/audit/", "/quality/", "/admin/"} <= set(urls)
    # The admin's pages send to the admin's sign-in form (same accounts, same throttling).
    logins = (f"{reverse('login')}?next=", f"{reverse('admin:login')}?next=")
    for url in urls:
        response = Client().get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(logins), url


def test_sign_in_page_and_static_files_are_open() -> None:
    assert Client().get(reverse("login")).status_code == 200
    assert Client().get(f"{settings.STATIC_URL}registry/registry.css").status_code == 200


# --- passwords ------------------------------------------------------------------------------


def test_passwords_are_hashed_with_argon2(clinician: User) -> None:
    assert clinician.password.startswith("argon2")
    assert PASSWORD not in clinician.password


def test_an_older_hash_is_upgraded_to_argon2_at_sign_in(clinician: User) -> None:
    clinician.password = make_password(PASSWORD, hasher="pbkdf2_sha256")
    clinician.save()
    response = Client().post(reverse("login"), {"username": "clinician", "password": PASSWORD})
    assert response.status_code == 302
    clinician.refresh_from_db()
    assert clinician.password.startswith("argon2")


# --- login throttling -----------------------------------------------------------------------


def test_sixth_attempt_is_locked_out_even_with_the_right_password(clinician: User) -> None:
    client = Client()
    for _attempt in range(settings.AXES_FAILURE_LIMIT):
        client.post(reverse("login"), {"username": "clinician", "password": WRONG_PASSWORD})
    response = client.post(reverse("login"), {"username": "clinician", "password": PASSWORD})
    assert response.status_code == 429
    assert "registry/locked_out.html" in [t.name for t in response.templates]
    assert "_auth_user_id" not in client.session
    assert settings.AXES_COOLOFF_TIME == 0.25  # 15 minutes
    # Still locked on the next page: nothing is signed in.
    assert client.get(reverse("registry:patient_list")).status_code == 302


def test_a_right_password_before_the_limit_signs_in(clinician: User) -> None:
    client = Client()
    for _attempt in range(settings.AXES_FAILURE_LIMIT - 1):
        client.post(reverse("login"), {"username": "clinician", "password": WRONG_PASSWORD})
    response = client.post(reverse("login"), {"username": "clinician", "password": PASSWORD})
    assert response.status_code == 302
    assert client.get(reverse("registry:patient_list")).status_code == 200


def test_a_signed_in_users_profile_is_read_with_the_user(clinician: User) -> None:
    """One query for the user and the profile (role, language) every request needs
    (backends.RegistryModelBackend), for a real sign-in; a superuser without a profile
    still signs in to the admin."""
    client = Client()
    client.post(reverse("login"), {"username": "clinician", "password": PASSWORD})
    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse("registry:patient_list")).status_code == 200
    reads = [q["sql"] for q in queries.captured_queries
             if 'FROM "registry_userprofile"' in q["sql"] or 'FROM "auth_user"' in q["sql"]]
    assert len(reads) == 1 and 'JOIN "registry_userprofile"' in reads[0], reads
    User.objects.create_superuser("root", password=PASSWORD)
    root = Client()
    root.post(reverse("login"), {"username": "root", "password": PASSWORD})
    assert root.get(reverse("admin:index")).status_code == 200


# --- idle sessions --------------------------------------------------------------------------


def _session(client: Client) -> Session:
    return Session.objects.get(session_key=client.cookies[settings.SESSION_COOKIE_NAME].value)


def _set_session(client: Client, *, renewed_ago: timedelta, expires_in: timedelta) -> None:
    """The stored session as if its last renewal was ``renewed_ago`` and it expires in
    ``expires_in``."""
    key = client.cookies[settings.SESSION_COOKIE_NAME].value
    store = SessionStore(session_key=key)
    store[RENEWED_KEY] = int((timezone.now() - renewed_ago).timestamp())
    store.save()
    Session.objects.filter(session_key=key).update(expire_date=timezone.now() + expires_in)


def _session_writes(client: Client, url: str) -> list[str]:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return [q["sql"] for q in queries.captured_queries
            if "django_session" in q["sql"] and not q["sql"].startswith("SELECT")]


def test_session_lasts_30_idle_minutes_and_a_request_renews_it(clinician: User) -> None:
    assert settings.SESSION_COOKIE_AGE == 30 * 60
    client = signed_in(clinician)
    # Almost idle too long, last renewed over a minute ago: this request renews it.
    _set_session(client, renewed_ago=timedelta(seconds=RENEW_AFTER_SECONDS + 1),
                 expires_in=timedelta(minutes=1))
    assert _session_writes(client, reverse("registry:patient_list"))
    renewed = _session(client).expire_date - timezone.now()
    assert timedelta(minutes=29) < renewed <= timedelta(minutes=30)


def test_a_session_is_written_at_most_once_a_minute(clinician: User) -> None:
    """A page view is not a write transaction (SESSION_SAVE_EVERY_REQUEST is off): the
    expiry is renewed only when its last renewal is a minute old, so the idle limit is kept
    within a minute and never exceeded."""
    assert settings.SESSION_SAVE_EVERY_REQUEST is False
    client = signed_in(clinician)
    _set_session(client, renewed_ago=timedelta(seconds=RENEW_AFTER_SECONDS - 5),
                 expires_in=timedelta(minutes=29))
    before = _session(client).expire_date
    for _ in range(3):
        assert _session_writes(client, reverse("registry:patient_list")) == []
    assert _session(client).expire_date == before
    # A stamp from the future (the clock was set back) counts as stale, not as fresh.
    _set_session(client, renewed_ago=-timedelta(hours=1), expires_in=timedelta(minutes=29))
    assert _session_writes(client, reverse("registry:patient_list"))


def test_an_anonymous_visit_stores_no_session() -> None:
    assert Client().get(reverse("login")).status_code == 200
    assert not Session.objects.exists()


def test_a_session_idle_longer_than_the_limit_is_signed_out(clinician: User) -> None:
    client = signed_in(clinician)
    session = _session(client)
    session.expire_date = timezone.now() - timedelta(seconds=1)
    session.save()
    response = client.get(reverse("registry:patient_list"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


# --- CSRF -----------------------------------------------------------------------------------


def _csrf_token(html: str) -> str:
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    assert match is not None
    return match.group(1)


def test_posts_without_the_csrf_token_are_refused(clinician: User, patient: Patient) -> None:
    anonymous = Client(enforce_csrf_checks=True)
    response = anonymous.post(reverse("login"), {"username": "clinician",
                                                 "password": PASSWORD})
    assert response.status_code == 403
    client = signed_in(clinician, enforce_csrf_checks=True)
    for url, data in [(reverse("registry:personal_code_search"), {"personal_code": CODE}),
                      (reverse("registry:identity_edit", args=["P01"]),
                       {"last_name": NEW_LAST}),
                      (reverse("logout"), {})]:
        assert client.post(url, data).status_code == 403, url
    assert PatientIdentity.objects.get(patient=patient).last_name == LAST


def test_posts_with_the_csrf_token_work(clinician: User) -> None:
    client = Client(enforce_csrf_checks=True)
    token = _csrf_token(client.get(reverse("login")).content.decode())
    response = client.post(reverse("login"), {"username": "clinician", "password": PASSWORD,
                                              "csrfmiddlewaretoken": token})
    assert response.status_code == 302


# --- headers, error pages -------------------------------------------------------------------


@pytest.mark.parametrize("signed", [False, True])
def test_security_headers(clinician: User, signed: bool) -> None:
    client = signed_in(clinician) if signed else Client()
    url = reverse("registry:patient_list") if signed else reverse("login")
    response = client.get(url)
    assert response.status_code == 200
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"
    policy = {directive.split()[0]: directive.split()[1:]
              for directive in response["Content-Security-Policy"].split(";")
              if directive.strip()}
    assert policy["script-src"] == ["'self'"]
    assert policy["default-src"] == ["'self'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert "'unsafe-inline'" not in response["Content-Security-Policy"]
    assert "'unsafe-eval'" not in response["Content-Security-Policy"]


def _settings_in_a_fresh_process(tmp_path: Path, **env: str) -> str:
    """DEBUG as a fresh process reads it from the environment (the tests force DEBUG off)."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("ITB_")}
    clean.update({"ITB_DATA_DIR": str(tmp_path), **env})
    result = subprocess.run(
        [sys.executable, "-c", "from itb.web import settings; print(settings.DEBUG)"],
        env=clean, capture_output=True, text=True, check=True)
    return result.stdout.strip()


def test_debug_is_off_unless_asked_for(tmp_path: Path) -> None:
    assert _settings_in_a_fresh_process(tmp_path) == "False"
    assert _settings_in_a_fresh_process(tmp_path, ITB_DEBUG="0") == "False"
    assert _settings_in_a_fresh_process(tmp_path, ITB_DEBUG="1") == "True"


def _assert_no_internals(html: str) -> None:
    for leak in ("Traceback", "SECRET_KEY", settings.SECRET_KEY, "DATABASES",
                 "urlpatterns", "URLconf", "itb.web.settings", "site-packages"):
        assert leak not in html, leak


def test_not_found_pages_do_not_leak_settings(clinician: User) -> None:
    client = signed_in(clinician)
    for url in ("/no/such/page/", reverse("registry:patient_detail", args=["NOPE"])):
        response = client.get(url)
        assert response.status_code == 404
        _assert_no_internals(response.content.decode())


def _boom(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("a deliberate failure")


urlpatterns = [path("boom/", _boom)]


@override_settings(ROOT_URLCONF=__name__)
def test_server_errors_do_not_leak_settings(clinician: User) -> None:
    client = signed_in(clinician, raise_request_exception=False)
    response = client.get("/boom/")
    assert response.status_code == 500
    html = response.content.decode()
    _assert_no_internals(html)
    assert "deliberate" not in html


# --- the secret key -------------------------------------------------------------------------


def test_generated_secret_key_is_owner_only_and_reused(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ITB_SECRET_KEY", raising=False)
    data_dir = tmp_path / "data"
    key = itb_settings._secret_key(data_dir)
    path = data_dir / "secret_key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(key) >= 50
    assert itb_settings._secret_key(data_dir) == key  # the same key on the next start


def test_secret_key_from_the_environment_writes_no_file(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ITB_SECRET_KEY", "k" * 60)
    assert itb_settings._secret_key(tmp_path) == "k" * 60
    assert not (tmp_path / "secret_key").exists()


# --- logs -----------------------------------------------------------------------------------


@pytest.fixture
def all_logs(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """Every record of every logger, down to DEBUG, for the length of the test."""
    loggers = [logging.getLogger(name) for name in
               ("", "django", "django.request", "django.security", "axes", "auditlog")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.DEBUG)
    caplog.set_level(logging.DEBUG)
    yield caplog
    for logger, level in zip(loggers, levels, strict=True):
        logger.setLevel(level)


def _logged_text(caplog: pytest.LogCaptureFixture) -> str:
    parts = []
    for record in caplog.records:
        parts += [record.getMessage(), repr(record.args), repr(record.__dict__)]
    return "\n".join(parts)


def test_sensitive_values_never_reach_the_logs(clinician: User, patient: Patient,
                                                all_logs: pytest.LogCaptureFixture) -> None:
    # A failed sign-in with a password.
    Client().post(reverse("login"), {"username": "clinician", "password": WRONG_PASSWORD})
    # A search by personal code: found, and not found.
    client = signed_in(clinician)
    search = reverse("registry:personal_code_search")
    found = client.post(search, {"personal_code": CODE})
    assert found["Location"] == reverse("registry:patient_detail", args=["P01"])
    client.post(search, {"personal_code": NEW_CODE_TYPO})
    # An identity edit that is refused (a mistyped code), then one that is saved.
    identity_url = reverse("registry:identity_edit", args=["P01"])
    version = PatientIdentity.objects.get(patient=patient).version
    refused = client.post(identity_url, {"version": version, "personal_code": NEW_CODE_TYPO,
                                         "first_name": FIRST, "last_name": NEW_LAST})
    assert refused.status_code == 200
    saved = client.post(identity_url, {"version": version, "personal_code": CODE,
                                       "first_name": FIRST, "last_name": NEW_LAST})
    assert saved.status_code == 302, saved.context["form"].errors
    assert PatientIdentity.objects.get(patient=patient).last_name == NEW_LAST

    text = _logged_text(all_logs)
    assert all_logs.records, "nothing was logged: the test would prove nothing"
    assert any("login failure" in r.getMessage().lower() for r in all_logs.records)
    for value in (WRONG_PASSWORD, PASSWORD, CODE, NEW_CODE_TYPO, FIRST, LAST, NEW_LAST):
        assert value not in text, value
    # django-axes keeps each failed sign-in's form in the database: the password masked.
    attempts = list(AccessAttempt.objects.values_list("get_data", "post_data"))
    assert attempts and all(WRONG_PASSWORD not in get + post for get, post in attempts)
