"""The user's language, and the error pages."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

LANGUAGES = {code for code, _name in settings.LANGUAGES}


@login_not_required
@require_POST
def set_language(request: HttpRequest) -> HttpResponse:
    """Switch the language: saved in the profile (it follows the user), and in a cookie (the
    sign-in page, before anyone is signed in)."""
    language = request.POST.get("language", "")
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                           require_https=request.is_secure()):
        target = reverse("registry:patient_list")
    response = HttpResponseRedirect(target)
    if language not in LANGUAGES:
        return response
    profile = getattr(request.user, "profile", None) if request.user.is_authenticated \
        else None
    if profile is not None and profile.language != language:
        profile.language = language
        profile.save(update_fields=["language"])
    translation.activate(language)
    response.set_cookie(settings.LANGUAGE_COOKIE_NAME, language,
                        max_age=365 * 24 * 3600, samesite="Lax",
                        secure=settings.SESSION_COOKIE_SECURE, httponly=True)
    return response


def forbidden(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "registry/error.html", {"status": 403}, status=403)


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "registry/error.html", {"status": 404}, status=404)
