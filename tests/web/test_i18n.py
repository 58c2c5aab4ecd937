"""The web application's catalogues: Estonian complete, compiled files up to date, and the
pages in the user's language."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import polib
import pytest
from django.test import Client
from django.urls import reverse

from itb.web import settings
from tests.web.conftest import World

LOCALE = Path(settings.PACKAGE_DIR) / "locale"
LANGUAGES = ("et", "en")


def catalogue(lang: str) -> tuple[polib.POFile, polib.MOFile]:
    directory = LOCALE / lang / "LC_MESSAGES"
    return polib.pofile(str(directory / "django.po")), polib.mofile(str(directory / "django.mo"))


def _translated(entry: polib.POEntry | polib.MOEntry) -> tuple[str, ...]:
    if entry.msgid_plural:
        return tuple(entry.msgstr_plural[i] for i in sorted(entry.msgstr_plural))
    return (entry.msgstr,)


def test_every_message_has_an_estonian_translation() -> None:
    po, _mo = catalogue("et")
    untranslated = [entry.msgid for entry in po
                    if not entry.obsolete and not all(_translated(entry))]
    fuzzy = [entry.msgid for entry in po if not entry.obsolete and "fuzzy" in entry.flags]
    assert not untranslated, f"no Estonian translation: {untranslated}"
    assert not fuzzy, f"fuzzy (unchecked) Estonian translations: {fuzzy}"
    assert len(po) > 100  # the catalogue is the application's, not an empty file


def test_the_header_is_not_fuzzy_and_gives_the_plural_forms() -> None:
    for lang in LANGUAGES:
        po, mo = catalogue(lang)
        assert not po.metadata_is_fuzzy, lang
        assert mo.metadata.get("Plural-Forms") == "nplurals=2; plural=(n != 1);", lang
        assert mo.metadata.get("Language") == lang


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_compiled_catalogue_is_the_source_catalogue(lang: str) -> None:
    """The .mo holds exactly the .po's translations: run compilemessages after every edit.

    (File times are not compared: a git checkout does not keep them.)
    """
    po, mo = catalogue(lang)
    source = {(entry.msgctxt, entry.msgid): _translated(entry) for entry in po
              if not entry.obsolete and "fuzzy" not in entry.flags and any(_translated(entry))}
    compiled = {(entry.msgctxt, entry.msgid): _translated(entry) for entry in mo
                if entry.msgid}
    assert compiled == source


def test_no_message_of_the_application_is_left_out_of_the_catalogue(tmp_path: Path) -> None:
    """Every translatable text (Python and templates) is in the catalogue, translated.

    Django's own extractor runs on a copy of the application, so that the catalogues in the
    source tree are not rewritten by the test.
    """
    import shutil
    import subprocess
    import sys

    copy = tmp_path / "web"
    shutil.copytree(Path(settings.PACKAGE_DIR), copy,
                    ignore=shutil.ignore_patterns("__pycache__", "*.mo"))
    django_admin = Path(sys.executable).with_name("django-admin")
    subprocess.run([str(django_admin), "makemessages", "--locale", "et", "--no-obsolete"],
                   cwd=copy, check=True, capture_output=True,
                   env={"PATH": "/usr/bin:/bin", "DJANGO_SETTINGS_MODULE": ""})
    extracted = polib.pofile(str(copy / "locale" / "et" / "LC_MESSAGES" / "django.po"))
    po, _mo = catalogue("et")
    translated = {(entry.msgctxt, entry.msgid) for entry in po
                  if not entry.obsolete and all(_translated(entry))}
    missing = sorted(entry.msgid for entry in extracted
                     if (entry.msgctxt, entry.msgid) not in translated)
    assert not missing, f"not in the Estonian catalogue (add and translate them): {missing}"


# --- the language follows the user ----------------------------------------------------------

@pytest.mark.django_db
def test_estonian_is_the_default(world: World, client_as: Callable[[str], Client]) -> None:
    page = client_as("clinician_a").get(reverse("registry:patient_list"))
    assert page["Content-Language"] == "et"
    assert "Patsiendid" in page.content.decode() and '<html lang="et">' in page.content.decode()


@pytest.mark.django_db
def test_the_language_switch_saves_the_profile(world: World,
                                               client_as: Callable[[str], Client]) -> None:
    client = client_as("clinician_a")
    detail = reverse("registry:patient_detail", args=["P-A1"])
    response = client.post(reverse("registry:set_language"), {"language": "en", "next": detail})
    assert response.url == detail
    world.users["clinician_a"].profile.refresh_from_db()  # type: ignore[union-attr]
    assert world.users["clinician_a"].profile.language == "en"  # type: ignore[union-attr]
    page = client.get(detail).content.decode()
    assert "Timeline" in page and "Initial implantation" in page
    # The profile wins over the browser: a new session in an Estonian browser stays English.
    fresh = client_as("clinician_a")
    assert "Patients" in fresh.get(reverse("registry:patient_list"),
                                   HTTP_ACCEPT_LANGUAGE="et").content.decode()


@pytest.mark.django_db
def test_the_switch_refuses_unknown_languages_and_foreign_redirects(
        world: World, client_as: Callable[[str], Client]) -> None:
    client = client_as("clinician_a")
    response = client.post(reverse("registry:set_language"),
                           {"language": "xx", "next": "https://example.org/"})
    assert response.url == reverse("registry:patient_list")
    world.users["clinician_a"].profile.refresh_from_db()  # type: ignore[union-attr]
    assert world.users["clinician_a"].profile.language == "et"  # type: ignore[union-attr]


@pytest.mark.django_db
def test_the_sign_in_page_can_be_switched_before_signing_in(world: World) -> None:
    client = Client()
    login = reverse("login")
    assert "Logi sisse" in client.get(login, HTTP_ACCEPT_LANGUAGE="et").content.decode()
    client.post(reverse("registry:set_language"), {"language": "en", "next": login})
    assert "Sign in" in client.get(login).content.decode()
