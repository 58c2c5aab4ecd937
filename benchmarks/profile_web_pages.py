"""One client's view of the web pages of an imported registry, in one process: per request
the wall time, the process's CPU time and the SQL queries, without a server or a queue.

What ``bench_web.py`` calls the service time, split into where it goes: the median of
``--repeat`` requests per page, the queries of one request (count and their own time), and
with ``--profile`` the functions that took the most cumulative time (cProfile).

    python benchmarks/profile_web_pages.py --data-dir /tmp/bench-pages/web-sqlite-n100000 \
        --user bench-coordinator
    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/itb_bench_pages \
        python benchmarks/profile_web_pages.py --data-dir … --user bench-coordinator --profile
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path


def _pages(ids: list[str], sites: list[str], rng: random.Random) -> dict[str, Callable[[], str]]:
    """The list queries of the load test (locustfile_web.py), one by one, a patient and the
    report page (computed once by the warm-up request, then read from the cache)."""
    last_page = max(1, len(ids) // 50)
    return {
        "list first": lambda: "/",
        "list page": lambda: f"/?page={rng.randint(1, last_page)}",
        "list site": lambda: f"/?site={rng.choice(sites)}&page={rng.randint(1, last_page // 8)}",
        "list on+level": lambda: f"/?status=on&level={rng.choice(('low', 'high'))}",
        "list id prefix": lambda: f"/?q={rng.choice(ids)[:-2]}",
        "patient page": lambda: f"/patients/{rng.choice(ids)}/",
        "report page": lambda: "/report/",
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", type=Path, required=True,
                        help="the registry's data directory (and SQLite file, without "
                             "DATABASE_URL)")
    parser.add_argument("--user", required=True, help="an existing user to sign in as")
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--profile", choices=("cumulative", "tottime"),
                        help="cProfile each page too, sorted so")
    parser.add_argument("--lines", type=int, default=40, help="profile lines to print")
    parser.add_argument("--pages", nargs="+", help="only these pages (names as printed)")
    parser.add_argument("--seed", type=int, default=2012)
    args = parser.parse_args(argv)

    os.environ["ITB_ALLOWED_HOSTS"] = "testserver"
    os.environ.setdefault("ITB_REPORT_BACKGROUND", "0")
    from itb.web.bootstrap import setup

    setup(args.data_dir)
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from itb.web.registry.models import Patient, Site

    client = Client()
    client.force_login(get_user_model().objects.get(username=args.user))
    ids = list(Patient.objects.values_list("patient_id", flat=True))
    sites = list(Site.objects.values_list("code", flat=True))
    pages = _pages(ids, sites, random.Random(args.seed))
    if args.pages:
        pages = {name: pages[name] for name in args.pages}

    # The minimum beside the median: on a shared machine the other processes inflate even
    # the CPU time (caches, hyperthreads); the fastest of the runs is the least disturbed.
    print("| page | wall ms (median) | CPU ms (median) | CPU ms (min) | queries | SQL ms |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, path in pages.items():
        client.get(path())  # warm: templates, translations, the connection
        walls, cpus = [], []
        for _ in range(args.repeat):
            url = path()
            cpu, wall = time.process_time(), time.perf_counter()
            response = client.get(url)
            walls.append(1000 * (time.perf_counter() - wall))
            cpus.append(1000 * (time.process_time() - cpu))
            if response.status_code != 200:
                raise SystemExit(f"{url}: HTTP {response.status_code}")
        with CaptureQueriesContext(connection) as queries:
            client.get(path())
        # A copy: each later request clears the connection's query log (request_started).
        captured = list(queries.captured_queries)
        sql_ms = 1000 * sum(float(query["time"]) for query in captured)
        print(f"| {name} | {statistics.median(walls):.1f} | {statistics.median(cpus):.1f} | "
              f"{min(cpus):.1f} | {len(captured)} | {sql_ms:.1f} |", flush=True)
        if args.profile:
            profile = cProfile.Profile()
            profile.enable()
            for _ in range(5):
                client.get(path())
            profile.disable()
            pstats.Stats(profile, stream=sys.stdout).sort_stats(args.profile).print_stats(
                args.lines)
            for query in captured:
                print(f"  {float(query['time']) * 1000:7.1f} ms  {query['sql'][:300]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
