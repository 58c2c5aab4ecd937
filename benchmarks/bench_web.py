"""Time ``itb import`` of a large synthetic registry, then load-test the web app on gunicorn.

For each database (SQLite in a data directory, PostgreSQL in a database of its own that is
dropped afterwards): a fresh registry; ``itb import`` of ``--patients`` synthetic patients
(wall time, peak memory); two users (an administrator, which ``itb serve`` requires, and the
coordinator who signs in: all sites, so every page reads the whole registry); ``itb serve``
with ``--workers`` gunicorn workers on 127.0.0.1. Then:

1. the report page's first, uncached computation, alone on an idle server;
2. ``--clients`` sign-ins through ``/login/`` (CSRF token, then the session cookie kept), one
   after another, timed: the load test starts from these sessions;
3. one report request per worker at once, so that each worker's cache is warm (the cache is
   per process) — the times are printed as well;
4. ``--probe`` requests of each page from one client, one at a time: the time a request takes
   with no queue in front of it (the service time; under load, latency ≈ queue + this), and
   the CPU the server's processes and PostgreSQL's spent per request (from /proc): two cores
   serve at most 2000 / (their sum) requests a second;
5. locust (``benchmarks/locustfile_web.py``, headless): ``--clients`` signed-in clients with no
   think time for ``--duration`` seconds at the patient list, a patient page and the report
   page; p50/p95/p99 latency, throughput and errors per page, from every request's time.

Prints Markdown tables and each target of issue 3 met or missed.

    python benchmarks/bench_web.py --patients 100000 --clients 20 --duration 60 --workers 2
"""

from __future__ import annotations

import argparse
import http.cookiejar
import json
import os
import random
import re
import resource
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

# The sibling script (not a package): importable once its directory is on the path.
sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_report import (
    ROOT,
    Run,
    itb_command,
    measure,
    measured_source,
    synthetic,
)

LOCUSTFILE = Path(__file__).resolve().parent / "locustfile_web.py"
PAGES = ("patient list", "patient page", "report page")
CSRF_FIELD = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
REPORT_PREPARING = 'http-equiv="refresh"'  # the page that says the report is being prepared


@dataclass(frozen=True)
class Targets:
    """The targets of issue 3's benchmark."""

    page_p95_ms: float = 200.0  # patient list and patient page
    report_s: float = 2.0
    import_s: float = 120.0


@dataclass(frozen=True)
class PageStats:
    name: str
    requests: int
    errors: int
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    per_second: float


@dataclass(frozen=True)
class DatabaseResult:
    database: str
    imported: Run
    uncached_report: tuple[float, int]  # seconds, HTTP status
    report_ready_s: float | None  # computed in the background: until the page showed it
    sign_in_s: float
    warm_report: list[tuple[float, int]]
    service_ms: dict[str, float]
    service_cpu_ms: dict[str, tuple[float, float]]  # one client: server, PostgreSQL per request
    pages: list[PageStats]
    load_before: float
    error_samples: dict[str, list[str]]
    cpu_shares: dict[str, float]  # who used the machine's cores during the load: share of all


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def process_cpu_s(pids: list[int]) -> dict[int, float]:
    """User + system CPU seconds so far of each of these processes still running
    (/proc/PID/stat)."""
    seconds = {}
    for pid in pids:
        try:
            # After the command's closing parenthesis: utime and stime are fields 14 and 15.
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError):
            continue
        seconds[pid] = (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
    return seconds


class CpuSampler:
    """The CPU seconds the processes ``find()`` lists use while it runs, read from /proc
    twice a second: a process that ends in between (a database connection closed and
    reopened) counts up to its last reading, one that starts counts whole."""

    def __init__(self, find: Callable[[], list[int]]) -> None:
        self.find = find
        self.before = process_cpu_s(find())
        self.latest = dict(self.before)
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self.stop.wait(0.5):
            self.latest.update(process_cpu_s(self.find()))

    def seconds(self) -> float:
        self.stop.set()
        self.thread.join()
        self.latest.update(process_cpu_s(self.find()))
        return sum(cpu - self.before.get(pid, 0.0) for pid, cpu in self.latest.items())


def processes_named(name: str) -> list[int]:
    """The pids whose command (/proc/PID/comm) starts with ``name``."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().startswith(name):
                    pids.append(int(entry.name))
            except (FileNotFoundError, ProcessLookupError):
                continue
    return pids


def children_of(pid: int) -> list[int]:
    """The pid and its descendants (gunicorn's arbiter and its workers)."""
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        for task in Path(f"/proc/{current}/task").glob("*"):
            try:
                todo += [int(child) for child in (task / "children").read_text().split()]
            except (FileNotFoundError, ProcessLookupError):
                continue
    return found


def page_stats(name: str, times_ms: list[float], errors: int, duration_s: float) -> PageStats:
    if not times_ms:
        return PageStats(name, 0, errors, 0.0, 0.0, 0.0, 0.0, 0.0)
    ordered = sorted(times_ms)
    if len(ordered) == 1:
        p50 = p95 = p99 = ordered[0]
    else:
        # Linear interpolation between order statistics (R type 7), as in the report.
        cuts = statistics.quantiles(ordered, n=100, method="inclusive")
        p50, p95, p99 = cuts[49], cuts[94], cuts[98]
    return PageStats(name, len(ordered), errors, p50, p95, p99, ordered[-1],
                     len(ordered) / duration_s)


class Browser:
    """A signed-in client for the single requests (urllib: a cookie jar, no extra library)."""

    def __init__(self, base_url: str, username: str, password: str) -> None:
        self.base_url = base_url
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        form = self.opener.open(f"{base_url}/login/", timeout=60).read().decode()
        match = CSRF_FIELD.search(form)
        if match is None:
            raise SystemExit("no CSRF token in the sign-in form")
        body = urllib.parse.urlencode({"username": username, "password": password,
                                       "csrfmiddlewaretoken": match.group(1)}).encode()
        request = urllib.request.Request(f"{base_url}/login/", data=body,
                                         headers={"Referer": f"{base_url}/login/"})
        landed = self.opener.open(request, timeout=120)
        if urllib.parse.urlparse(landed.geturl()).path.startswith("/login/"):
            raise SystemExit(f"could not sign in as {username}")

    def cookies(self) -> list[dict[str, object]]:
        """The session's cookies as ``http.cookiejar.Cookie`` keyword arguments."""
        jar = next(h for h in self.opener.handlers
                   if isinstance(h, urllib.request.HTTPCookieProcessor)).cookiejar
        return [{**{k: v for k, v in vars(c).items() if not k.startswith("_")},
                 "rest": c._rest} for c in jar]  # type: ignore[attr-defined]

    def timed_get(self, path: str) -> tuple[float, int]:
        """Seconds and HTTP status (an error answer is a result here, not a stop)."""
        started = time.perf_counter()
        try:
            with self.opener.open(f"{self.base_url}{path}", timeout=600) as response:
                response.read()
                status = int(response.status)
        except urllib.error.HTTPError as error:
            status = error.code
        return time.perf_counter() - started, status

    def wait_for_report(self, started: float, timeout_s: float = 1800) -> float | None:
        """Seconds from ``started`` until the report page shows a report of the current data
        (it is computed in the background); None if the first answer had it already."""
        polled = False
        while time.perf_counter() - started < timeout_s:
            with self.opener.open(f"{self.base_url}/report/", timeout=600) as response:
                if REPORT_PREPARING not in response.read().decode():
                    return time.perf_counter() - started if polled else None
            polled = True
            time.sleep(2)
        raise SystemExit(f"the report was not ready within {timeout_s:.0f} s")


def wait_until_up(url: str, server: subprocess.Popen[bytes], timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"itb serve stopped (exit code {server.returncode}); see the log")
        try:
            with urllib.request.urlopen(f"{url}/login/", timeout=5) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.5)
    raise SystemExit(f"itb serve did not answer within {timeout_s:.0f} s")


def run_checked(command: list[str], env: dict[str, str], log: Path, stdin: str = "") -> None:
    with log.open("ab") as output:
        status = subprocess.run(command, input=stdin.encode(), stdout=output, stderr=output,
                                env=env).returncode
    if status != 0:
        raise SystemExit(f"{' '.join(command[:3])} … failed (exit code {status}); see {log}")


def postgres(statement: str) -> None:
    import psycopg  # a dependency of the registry; only this database needs it

    with psycopg.connect(ADMIN_URL, autocommit=True) as connection:
        connection.execute(statement)  # type: ignore[arg-type]


def postgres_has(database: str) -> bool:
    import psycopg

    with psycopg.connect(ADMIN_URL, autocommit=True) as connection:
        return connection.execute("SELECT 1 FROM pg_database WHERE datname = %s",
                                  (database,)).fetchone() is not None


def fresh_import(database: str, args: argparse.Namespace, data: Path, data_dir: Path,
                 env: dict[str, str], log: Path) -> tuple[Run, str, str]:
    """A new, empty registry; its two users; then the import, timed."""
    itb = itb_command()
    shutil.rmtree(data_dir, ignore_errors=True)
    data_dir.mkdir(parents=True)
    if database == "postgresql":
        postgres(f"DROP DATABASE IF EXISTS {args.pg_database} WITH (FORCE)")
        postgres(f"CREATE DATABASE {args.pg_database}")
    # The schema first (createuser migrates), so that the import is timed alone.
    username, password = "bench-coordinator", secrets.token_urlsafe(18)
    run_checked([*itb, "createuser", "bench-admin", "--role", "administrator",
                 "--password-stdin", "--data-dir", str(data_dir)], env, log,
                secrets.token_urlsafe(18) + "\n")
    run_checked([*itb, "createuser", username, "--role", "coordinator", "--language", "en",
                 "--password-stdin", "--data-dir", str(data_dir)], env, log, password + "\n")
    print(f"[{database}] importing {args.patients} patients …", file=sys.stderr, flush=True)
    imported = measure([*itb, "import", "--data-dir", str(data_dir), str(data)], log, env)
    if not imported.ok:
        raise SystemExit(f"[{database}] itb import failed; see {log}")
    print(f"[{database}] import: {imported.wall_s:.1f} s, {imported.peak_mb:.0f} MB",
          file=sys.stderr, flush=True)
    return imported, username, password


def bench_database(database: str, args: argparse.Namespace, data: Path, work_dir: Path,
                   log: Path) -> DatabaseResult:
    itb = itb_command()
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    data_dir = work_dir / f"web-{database}-n{args.patients}"
    marker = data_dir / "bench-import.json"  # a finished import: its measurement, the account
    if database == "postgresql":
        env["DATABASE_URL"] = f"postgresql://postgres@127.0.0.1:5432/{args.pg_database}"
    reuse = args.reuse_import and marker.exists() and (
        database != "postgresql" or postgres_has(args.pg_database))
    server: subprocess.Popen[bytes] | None = None
    try:
        if reuse:
            earlier = json.loads(marker.read_text())
            imported = Run(**earlier["import"])
            username, password = earlier["username"], earlier["password"]
            print(f"[{database}] reusing the import of an earlier run ({imported.wall_s:.1f} s)",
                  file=sys.stderr, flush=True)
        else:
            imported, username, password = fresh_import(database, args, data, data_dir, env,
                                                        log)
            descriptor = os.open(marker, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(descriptor, "w") as handle:
                json.dump({"import": vars(imported), "username": username,
                           "password": password}, handle)

        port = args.port or free_port()
        url = f"http://127.0.0.1:{port}"
        with log.open("ab") as output:
            server = subprocess.Popen(
                [*itb, "serve", "--data-dir", str(data_dir), "--bind", f"127.0.0.1:{port}",
                 "--workers", str(args.workers)], stdout=output, stderr=output, env=env,
                start_new_session=True)
        wait_until_up(url, server, 120)

        first = Browser(url, username, password)
        uncached = first.timed_get("/report/")
        print(f"[{database}] first (uncached) report page: {uncached[0]:.2f} s, HTTP "
              f"{uncached[1]}", file=sys.stderr, flush=True)
        ready_s = first.wait_for_report(started=time.perf_counter() - uncached[0])
        if ready_s is not None:
            print(f"[{database}] report ready (computed in the background) after "
                  f"{ready_s:.1f} s", file=sys.stderr, flush=True)
        browsers, sign_ins = [], []
        for _ in range(args.clients):
            started = time.perf_counter()
            browsers.append(Browser(url, username, password))
            sign_ins.append(time.perf_counter() - started)
        with ThreadPoolExecutor(args.workers) as pool:
            warm = list(pool.map(lambda browser: browser.timed_get("/report/"),
                                 browsers[:args.workers]))
        ids = [line.split(",", 1)[0] for line in
               (data / "patients.csv").read_text(encoding="utf-8").splitlines()[1:]]
        rng = random.Random(args.seed)
        probes = {"patient list": lambda: f"/?page={rng.randint(1, max(1, len(ids) // 50))}",
                  "patient page": lambda: f"/patients/{rng.choice(ids)}/",
                  "report page": lambda: "/report/"}
        if uncached[1] != 200:
            del probes["report page"]  # each try would take the worker's timeout
        # One request at a time: its time, and the CPU the server and the database spent on
        # it (what the load can at most be served at, with nothing queued).
        service, service_cpu = {}, {}
        server_pid = server.pid
        for name, path in probes.items():
            if name not in args.pages:
                continue
            server_cpu = CpuSampler(lambda: children_of(server_pid))
            database_cpu = CpuSampler(lambda: processes_named("postgres"))
            service[name] = 1000 * statistics.median(browsers[0].timed_get(path())[0]
                                                     for _ in range(args.probe))
            service_cpu[name] = (1000 * server_cpu.seconds() / args.probe,
                                 1000 * database_cpu.seconds() / args.probe)
        print(f"[{database}] one client, median ms (server + PostgreSQL CPU ms): " +
              ", ".join(f"{name} {ms:.0f} ({service_cpu[name][0]:.1f} + "
                        f"{service_cpu[name][1]:.1f})" for name, ms in service.items()),
              file=sys.stderr, flush=True)
        sessions_file = work_dir / f"web-{database}-sessions.json"
        sessions_file.write_text(json.dumps([browser.cookies() for browser in browsers]))

        patients_file = work_dir / f"patient-ids-n{args.patients}.txt"
        patients_file.write_text("\n".join(ids) + "\n")
        sites = [line.split(",", 1)[0] for line in
                 (data / "sites.csv").read_text(encoding="utf-8").splitlines()[1:]]
        times_file = work_dir / f"web-{database}-times.json"
        times_file.unlink(missing_ok=True)
        locust_env = {**env, "ITB_BENCH_SESSIONS": str(sessions_file),
                      "ITB_BENCH_PAGES": ",".join(args.pages),
                      "ITB_BENCH_PATIENTS": str(patients_file),
                      "ITB_BENCH_SITES": ",".join(sites), "ITB_BENCH_TIMES": str(times_file)}
        locust = Path(sys.executable).with_name("locust")
        print(f"[{database}] {args.clients} clients for {args.duration} s …", file=sys.stderr,
              flush=True)
        load_before = os.getloadavg()[0]
        # Where the cores went during the load: the server's workers, the load tool (a child
        # of this process, counted once it has exited), the database server, everything.
        samplers = {"server": CpuSampler(lambda: children_of(server_pid)),
                    "PostgreSQL": CpuSampler(lambda: processes_named("postgres"))}
        children_before, started = resource.getrusage(resource.RUSAGE_CHILDREN), os.times().elapsed
        with log.open("ab") as output:
            subprocess.run([str(locust), "-f", str(LOCUSTFILE), "--headless",
                            "--users", str(args.clients), "--spawn-rate", str(args.clients),
                            "--run-time", f"{args.duration}s", "--stop-timeout", "30",
                            "--host", url, "--only-summary", "--loglevel", "WARNING"],
                           stdout=output, stderr=output, env=locust_env, check=False)
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        elapsed = (os.times().elapsed - started) * (os.cpu_count() or 1)
        shares = {"server": samplers["server"].seconds(),
                  "load tool": (children.ru_utime + children.ru_stime)
                  - (children_before.ru_utime + children_before.ru_stime),
                  "PostgreSQL": samplers["PostgreSQL"].seconds()}
        cpu_shares = {name: seconds / elapsed for name, seconds in shares.items()}
        if not times_file.exists():
            raise SystemExit(f"locust wrote no times; see {log}")
        recorded = json.loads(times_file.read_text())
        pages = [page_stats(name, recorded["times_ms"].get(name, []),
                            len(recorded["errors"].get(name, [])), args.duration)
                 for name in PAGES if name in args.pages]
        samples = {name: sorted(set(errors))[:3] for name, errors in recorded["errors"].items()}
        sessions_file.unlink()
        return DatabaseResult(database, imported, uncached, ready_s,
                              statistics.median(sign_ins), warm,
                              service, service_cpu, pages, load_before, samples, cpu_shares)
    finally:
        if server is not None:
            server.send_signal(signal.SIGTERM)  # gunicorn's arbiter stops its workers
            try:
                server.wait(60)
            except subprocess.TimeoutExpired:
                server.kill()
        if database == "postgresql" and not args.keep:
            postgres(f"DROP DATABASE IF EXISTS {args.pg_database} WITH (FORCE)")


def _timed(answer: tuple[float, int]) -> str:
    seconds, status = answer
    return f"{seconds:.2f}" if status == 200 else f"{seconds:.2f} (HTTP {status})"


def markdown(results: list[DatabaseResult], args: argparse.Namespace) -> list[str]:
    lines = ["| database | import s | import peak MB | first report s (uncached) "
             "| report ready s (background) | report per worker, warming s "
             "| sign-in s (median) | load avg |",
             "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for result in results:
        warm = ", ".join(_timed(t) for t in result.warm_report)
        lines.append(f"| {result.database} | {result.imported.wall_s:.1f} | "
                     f"{result.imported.peak_mb:.0f} | {_timed(result.uncached_report)} | "
                     f"{'–' if result.report_ready_s is None else f'{result.report_ready_s:.1f}'}"
                     f" | {warm} "
                     f"| {result.sign_in_s:.2f} | {result.load_before:.1f} |")
    lines += ["", f"{args.clients} clients, {args.duration} s, {args.workers} gunicorn workers:",
              "", "| database | page | one client: median ms | one client: CPU ms, server + "
              "PostgreSQL | requests | errors | p50 ms | p95 ms | p99 ms | max ms | requests/s |",
              "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for result in results:
        for page in result.pages:
            server_ms, database_ms = result.service_cpu_ms.get(page.name, (0.0, 0.0))
            lines.append(f"| {result.database} | {page.name} "
                         f"| {result.service_ms.get(page.name, 0):.0f} "
                         f"| {server_ms:.1f} + {database_ms:.1f} "
                         f"| {page.requests} | {page.errors} "
                         f"| {page.p50_ms:.0f} | {page.p95_ms:.0f} | {page.p99_ms:.0f} "
                         f"| {page.max_ms:.0f} | {page.per_second:.1f} |")
    lines += ["", f"CPU during the load, as a share of all {os.cpu_count()} cores' time:", "",
              "| database | " + " | ".join(results[0].cpu_shares) + " |",
              "|---|" + "---:|" * len(results[0].cpu_shares)] if results else []
    for result in results:
        lines.append(f"| {result.database} | " + " | ".join(
            f"{share:.0%}" for share in result.cpu_shares.values()) + " |")
    return lines


def verdicts(results: list[DatabaseResult], targets: Targets = Targets()) -> list[str]:
    def line(what: str, value: float, limit: float, unit: str) -> str:
        if value <= limit:
            return f"- {what}: {value:.2f} {unit} <= {limit:g} {unit}: met"
        return (f"- {what}: {value:.2f} {unit} > {limit:g} {unit}: missed by "
                f"{value - limit:.2f} {unit} ({value / limit:.1f}x the target)")

    lines = []
    for result in results:
        name = result.database
        lines.append(line(f"{name} import", result.imported.wall_s, targets.import_s, "s"))
        for page in result.pages:
            if page.name in ("patient list", "patient page"):
                lines.append(line(f"{name} {page.name} p95", page.p95_ms, targets.page_p95_ms,
                                  "ms"))
            elif page.name == "report page":
                lines.append(line(f"{name} report page p95 (cached)", page.p95_ms / 1000,
                                  targets.report_s, "s"))
        seconds, status = result.uncached_report
        if status == 200 and result.report_ready_s is not None:
            lines.append(line(f"{name} report page, first answer (being prepared)", seconds,
                              targets.report_s, "s"))
            lines.append(f"- {name} report computed in the background: ready after "
                         f"{result.report_ready_s:.1f} s")
        elif status == 200:
            lines.append(line(f"{name} report page, first computation", seconds,
                              targets.report_s, "s"))
        else:
            lines.append(f"- {name} report page, first computation: HTTP {status} after "
                         f"{seconds:.1f} s: missed")
        errors = sum(page.errors for page in result.pages)
        lines.append(f"- {name} errors: {errors} ({'met' if errors == 0 else 'missed'})")
        for page, samples in result.error_samples.items():
            lines.append(f"  - {page}: {'; '.join(samples)}")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=2012)
    parser.add_argument("--clients", type=int, default=20, help="concurrent clients (20)")
    parser.add_argument("--duration", type=int, default=60, help="seconds of load (60)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (2)")
    parser.add_argument("--probe", type=int, default=20,
                        help="one-client requests per page before the load (20)")
    parser.add_argument("--pages", nargs="+", choices=PAGES, default=list(PAGES),
                        metavar="PAGE", help=f"pages under load (default: all; {PAGES})")
    parser.add_argument("--reuse-import", action="store_true",
                        help="keep the registry an earlier run imported (its import time is "
                             "the one reported); PostgreSQL: with --keep that time")
    parser.add_argument("--port", type=int, default=0, help="port (default: a free one)")
    parser.add_argument("--databases", nargs="+", choices=("sqlite", "postgresql"),
                        default=["sqlite", "postgresql"])
    parser.add_argument("--pg-database", default="itb_bench",
                        help="PostgreSQL database to create and drop (itb_bench)")
    parser.add_argument("--keep", action="store_true",
                        help="keep the PostgreSQL database afterwards")
    parser.add_argument("--work-dir", type=Path, default=ROOT / "benchmarks" / "data",
                        help="where data, databases and logs go (gitignored)")
    args = parser.parse_args(argv)
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", args.pg_database):
        parser.error("--pg-database: lower-case letters, digits and _ only")

    work_dir: Path = args.work_dir.resolve()
    work_dir.mkdir(parents=True, exist_ok=True)
    log = work_dir / "bench-web.log"
    log.write_text("")
    print(f"{os.cpu_count()} CPUs; itb measured: {measured_source()}; log {log}",
          file=sys.stderr)
    data = synthetic(work_dir, args.patients, args.seed)
    results = [bench_database(database, args, data, work_dir, log)
               for database in args.databases]
    print("\n".join(markdown(results, args)))
    print("\n".join(verdicts(results)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
