"""The main menu: each role's links, the current page marked, in the user's language (built
once per role, language and page: templatetags.registry.main_menu)."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from django.test import Client
from django.urls import reverse

from tests.web.conftest import World

pytestmark = pytest.mark.django_db

ClientAs = Callable[[str], Client]
LINK = re.compile(r'<a href="([^"]*)"( aria-current="page")?>([^<]*)</a>')


def menu(client: Client, url: str) -> list[tuple[str, bool, str]]:
    """(link, current, text) of the page's main menu."""
    page = client.get(url).content.decode()
    nav = re.search(r'<nav class="mainnav" aria-label="([^"]*)">(.*?)</nav>', page, re.S)
    assert nav is not None
    return [(href, bool(current), text) for href, current, text in LINK.findall(nav.group(2))]


def test_a_clinician_sees_patients_follow_up_and_report(world: World,
                                                        client_as: ClientAs) -> None:
    client = client_as("clinician_a")
    assert menu(client, reverse("registry:patient_list")) == [
        (reverse("registry:patient_list"), True, "Patsiendid"),
        (reverse("registry:follow_up"), False, "Jälgimine"),
        (reverse("registry:report"), False, "Aruanne")]
    # A patient's page is under "Patients"; the follow-up board is its own.
    patient = reverse("registry:patient_detail", args=["P-A1"])
    assert [current for _, current, _ in menu(client, patient)] == [True, False, False]
    board = reverse("registry:follow_up")
    assert [current for _, current, _ in menu(client, board)] == [False, True, False]


def test_a_coordinator_also_sees_data_quality_and_the_audit_trail(
        world: World, client_as: ClientAs) -> None:
    assert menu(client_as("coordinator"), reverse("registry:quality")) == [
        (reverse("registry:patient_list"), False, "Patsiendid"),
        (reverse("registry:follow_up"), False, "Jälgimine"),
        (reverse("registry:report"), False, "Aruanne"),
        (reverse("registry:quality"), True, "Andmete kvaliteet"),
        (reverse("registry:audit"), False, "Auditilogi")]


def test_a_researcher_sees_the_report_alone_and_in_english(world: World,
                                                           client_as: ClientAs) -> None:
    client = client_as("researcher")
    assert menu(client, reverse("registry:report")) == [
        (reverse("registry:report"), True, "Aruanne")]
    profile = world.users["researcher"].profile  # type: ignore[union-attr]
    profile.language = "en"
    profile.save()
    page = client.get(reverse("registry:report")).content.decode()
    assert '<nav class="mainnav" aria-label="Main menu">' in page
    assert menu(client, reverse("registry:report")) == [
        (reverse("registry:report"), True, "Report")]


def test_an_administrator_manages_users_and_sites(world: World, client_as: ClientAs) -> None:
    # The administrator's pages are Django's admin; the registry's own (here, the refusal
    # of a patient's page) show the link to it.
    client = client_as("administrator")
    refused = reverse("registry:patient_detail", args=["P-A1"])
    assert client.get(refused).status_code == 403
    assert menu(client, refused) == [
        (reverse("admin:index"), False, "Kasutajad ja haiglad")]
