"""Locust users for ``bench_web.py``: signed-in clients reading the registry's three main pages.

``bench_web.py`` signs each client in through ``/login/`` beforehand (CSRF token from the
form; Argon2 makes a sign-in cost about a second of CPU, which is not what is measured here)
and hands over the session cookies; each user takes one. Then, with no think time, a user
requests one of the three pages at random: the patient list (one of a few typical queries, on
a random page), a random patient's page, or the report page. Any answer but 200 counts as an
error, a redirect included (a lost session would otherwise pass as a 200 sign-in page). Every
request's exact time is written as JSON when the run ends, so that the percentiles come from
the raw times and not from locust's rounded buckets.

Configured by ``bench_web.py`` through the environment:
ITB_BENCH_SESSIONS   a JSON file: one list of cookies (their attributes) per signed-in client
ITB_BENCH_PATIENTS   a file with one patient_id a line
ITB_BENCH_SITES      comma-separated site codes (list filters)
ITB_BENCH_TIMES      where the raw times go (JSON)
ITB_BENCH_PAGES      comma-separated pages to request (default: all three)
"""

from __future__ import annotations

import itertools
import json
import os
import random
from collections import defaultdict
from http.cookiejar import Cookie
from pathlib import Path
from typing import Any

from locust import FastHttpUser, constant, events, task

PAGE_SIZE = 50  # the patient list's page size (views/patients.py)

SESSIONS: list[list[dict[str, Any]]] = json.loads(
    Path(os.environ["ITB_BENCH_SESSIONS"]).read_text()) \
    if os.environ.get("ITB_BENCH_SESSIONS") else []
NEXT_SESSION = itertools.count()
PAGES = os.environ.get("ITB_BENCH_PAGES", "patient list,patient page,report page").split(",")
PATIENTS = Path(os.environ["ITB_BENCH_PATIENTS"]).read_text().split() \
    if os.environ.get("ITB_BENCH_PATIENTS") else []
SITES = [s for s in os.environ.get("ITB_BENCH_SITES", "").split(",") if s]
TIMES: dict[str, list[float]] = defaultdict(list)
ERRORS: dict[str, list[str]] = defaultdict(list)


@events.request.add_listener
def _record(name: str, response_time: float, exception: BaseException | None,
            **_: Any) -> None:
    TIMES[name].append(response_time)
    if exception is not None:
        ERRORS[name].append(str(exception)[:200])


@events.test_stop.add_listener
def _write(**_: Any) -> None:
    if target := os.environ.get("ITB_BENCH_TIMES"):
        Path(target).write_text(json.dumps({"times_ms": TIMES, "errors": ERRORS}))


def list_query(rng: random.Random, patients: int) -> str:
    """One of the list's everyday queries: a page, a site, on therapy, a level, an id prefix."""
    pages = max(1, patients // PAGE_SIZE)
    choice = rng.randrange(5)
    if choice == 0:
        return "/"
    if choice == 1:
        return f"/?page={rng.randint(1, pages)}"
    if choice == 2 and SITES:
        return f"/?site={rng.choice(SITES)}&page={rng.randint(1, max(1, pages // 8))}"
    if choice == 3:
        return f"/?status=on&level={rng.choice(('low', 'high'))}"
    prefix = rng.choice(PATIENTS)[:-2] if PATIENTS else ""
    return f"/?q={prefix}"


class RegistryReader(FastHttpUser):
    wait_time = constant(0)  # closed loop: each client sends its next request at once

    def on_start(self) -> None:
        self.rng = random.Random()
        if not SESSIONS:
            raise RuntimeError("no signed-in sessions (ITB_BENCH_SESSIONS)")
        for fields in SESSIONS[next(NEXT_SESSION) % len(SESSIONS)]:
            self.client.cookiejar.set_cookie(Cookie(**fields))

    def _get(self, path: str, name: str) -> None:
        with self.client.get(path, name=name, allow_redirects=False,
                             catch_response=True) as response:
            if response.status_code != 200:
                response.failure(f"HTTP {response.status_code}")

    @task
    def one_page(self) -> None:
        name = self.rng.choice(PAGES)
        if name == "patient list":
            self._get(list_query(self.rng, len(PATIENTS)), name)
        elif name == "patient page":
            self._get(f"/patients/{self.rng.choice(PATIENTS)}/", name)
        else:
            self._get("/report/", name)
