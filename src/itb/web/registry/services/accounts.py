"""Creating users from the command line (``itb createuser``, ``itb demo``, first run).

A user is a Django user with a ``UserProfile``: a role, the sites a clinician works at, a
language. An administrator manages users and sites in the administrator's pages and gets the
model permissions for exactly that: staff, but not a superuser, so that the clinical record
and the audit trail stay out of their reach (permissions.py).
"""

from __future__ import annotations

from collections.abc import Sequence

from django.contrib.auth import get_user_model, password_validation
from django.contrib.auth.models import AbstractUser, Permission
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q

from itb.web.registry.models import Role, Site, UserProfile

# What the administrator's pages edit (admin.py): users with their profile, and sites.
ADMINISTRATOR_MODELS = (("auth", "user"), ("registry", "userprofile"), ("registry", "site"))


class UserInvalid(Exception):
    """The user cannot be created as asked; ``messages`` says why (nothing was written)."""

    def __init__(self, messages: Sequence[str]) -> None:
        super().__init__("; ".join(messages))
        self.messages = list(messages)


def create_user(username: str, role: str, password: str, sites: Sequence[str] = (),
                language: str = "et") -> AbstractUser:
    """Create a user with a profile; raise ``UserInvalid`` listing every problem."""
    user_model = get_user_model()
    problems: list[str] = []
    if role not in Role.values:
        problems.append(f"unknown role '{role}'; allowed: {', '.join(Role.values)}")
    if user_model.objects.filter(username=username).exists():
        problems.append(f"the user '{username}' already exists")
    known = dict(Site.objects.filter(code__in=sites).values_list("code", "pk"))
    unknown = [code for code in sites if code not in known]
    if unknown:
        all_codes = ", ".join(Site.objects.values_list("code", flat=True)) or "none yet"
        problems.append(f"unknown site(s) {', '.join(unknown)}; known: {all_codes}")
    try:
        password_validation.validate_password(password, user_model(username=username))
    except ValidationError as error:
        problems += [str(message) for message in error.messages]
    if problems:
        raise UserInvalid(problems)

    with transaction.atomic():
        user = user_model.objects.create_user(username, password=password,
                                              is_staff=role == Role.ADMINISTRATOR)
        profile = UserProfile.objects.create(user=user, role=role, language=language)
        profile.sites.set(known.values())
        if role == Role.ADMINISTRATOR:
            user.user_permissions.set(_administrator_permissions())
    return user


def _administrator_permissions() -> list[Permission]:
    models = Q()
    for app_label, model in ADMINISTRATOR_MODELS:
        models |= Q(content_type__app_label=app_label, content_type__model=model)
    return list(Permission.objects.filter(models))


def has_administrator() -> bool:
    """Whether anyone can manage users: an administrator or a superuser."""
    user_model = get_user_model()
    return (UserProfile.objects.filter(role=Role.ADMINISTRATOR, user__is_active=True).exists()
            or user_model.objects.filter(is_superuser=True, is_active=True).exists())
