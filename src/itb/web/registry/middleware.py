"""Per-user language, and the idle expiry of sessions without a write on every request."""

from __future__ import annotations

import time
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils import translation

# The session's last renewal (seconds since the epoch), kept in the session itself.
RENEWED_KEY = "itb_renewed_at"
# A used session is written (its expiry renewed) at most this often: the idle limit is then
# kept to within this margin, never exceeded, and a page view is not a write transaction.
RENEW_AFTER_SECONDS = 60


class SessionRenewalMiddleware:
    """Renews a session's expiry (SESSION_COOKIE_AGE from now) when it is used, but at most
    once a minute.

    Saving the session on every request (SESSION_SAVE_EVERY_REQUEST) made every page view a
    write: on SQLite one writer at a time for all workers. Marking the session modified
    makes SessionMiddleware save it with a new expiry; between renewals the stored expiry is
    at most RENEW_AFTER_SECONDS older than the last request, so a session idle for
    SESSION_COOKIE_AGE has always expired. Empty sessions (no one signed in, nothing kept)
    are left alone, so that no visitor gets a session stored for them.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        session = request.session
        if not session.is_empty():
            now = int(time.time())
            renewed = session.get(RENEWED_KEY)
            if not isinstance(renewed, int) or not 0 <= now - renewed < RENEW_AFTER_SECONDS:
                session[RENEWED_KEY] = now  # modified: SessionMiddleware saves it
        return response


class UserLanguageMiddleware:
    """A signed-in user's profile language wins over the browser's."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        profile = getattr(request.user, "profile", None) if request.user.is_authenticated \
            else None
        if profile is not None and profile.language:
            translation.activate(profile.language)
            request.LANGUAGE_CODE = profile.language
        response = self.get_response(request)
        response.headers.setdefault("Content-Language", translation.get_language())
        return response
