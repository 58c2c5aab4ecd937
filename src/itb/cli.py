"""The ``itb`` command line: each subcommand a few lines over the library.

Exit codes: 0 success, 1 an operating-system error (e.g. an unwritable output directory),
2 invalid input data or command-line usage.

The commands that use the database (import, export, createuser, serve, demo) start Django
only when they run, so that ``itb report`` and ``itb validate`` start fast.
"""

from __future__ import annotations

import argparse
import getpass
import importlib
import os
import secrets
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from itb import __version__

if TYPE_CHECKING:
    from itb.registry_io import Registry, RegistryInvalid

EXIT_OK = 0
EXIT_OS_ERROR = 1
EXIT_INVALID = 2

REFERENCE_COHORT = Path(__file__).resolve().parents[2] / "data" / "reference-cohort"
# The roles of itb.web.registry.models.Role, here without importing Django.
ROLES = ("clinician", "coordinator", "researcher", "administrator")
DEMO_USERS = (("clinician", ("TLH", "TUK")), ("coordinator", ()), ("researcher", ()),
              ("administrator", ()))
SQLITE_FILES = ("registry.sqlite3", "registry.sqlite3-wal", "registry.sqlite3-shm")


def _date(value: str) -> date:
    from itb.domain.dates import parse_iso_date

    parsed = parse_iso_date(value)
    if parsed is None:
        raise argparse.ArgumentTypeError(f"'{value}' is not a date in the form YYYY-MM-DD")
    return parsed


# A page is mostly CPU; one worker more than the cores overlaps one's database waits with the
# others' work (docs/benchmarks.md: 3 workers on 2 cores served more than 2, and 5 no more).
DEFAULT_WORKERS = (os.cpu_count() or 1) + 1


def _positive(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number < 1:
        raise argparse.ArgumentTypeError(f"'{value}' is not a positive whole number")
    return number


def _days(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        number = -1
    if number < 0:
        raise argparse.ArgumentTypeError(f"'{value}' is not a whole number of days (0 or more)")
    return number


def _add_data_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("data_dir", type=Path, help="registry directory of CSV files")
    parser.add_argument("--cutoff", type=_date, metavar="YYYY-MM-DD",
                        help="data cut-off (default: dataset.toml's cutoff, else today)")
    _add_lang(parser)


def _add_lang(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--lang", choices=("et", "en"), default=os.environ.get("ITB_LANG", "et"),
                        help="language of the output (default: et, or $ITB_LANG)")


def _add_database_options(parser: argparse.ArgumentParser) -> None:
    # dest differs from the registry directory's ``data_dir`` (import, validate, report).
    parser.add_argument("--data-dir", dest="database_dir", type=Path, metavar="DIR",
                        help="the registry's data directory: SQLite database and secret key "
                             "(default: $ITB_DATA_DIR, else ./itb-data); DATABASE_URL selects "
                             "PostgreSQL instead of SQLite")


def _bind(value: str) -> str:
    host, _, port = value.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise argparse.ArgumentTypeError(f"'{value}' is not HOST:PORT")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="itb", description="Intrathecal baclofen (ITB) pump therapy registry.")
    parser.add_argument("--version", action="version", version=f"itb {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    report = commands.add_parser("report", help="write the study report from a registry directory")
    _add_data_options(report)
    report.add_argument("--out", type=Path, required=True, metavar="OUT_DIR",
                        help="directory to write report.html, report.md, report.json, … into")
    report.add_argument("--suppress-below", type=_positive, metavar="K",
                        help="for publication: mask counts 1…K-1 (and the cells that would "
                             "reveal them); the figure and report.json are left out")
    report.set_defaults(handler=cmd_report)

    validate = commands.add_parser("validate", help="check a registry directory, list problems")
    _add_data_options(validate)
    validate.set_defaults(handler=cmd_validate)

    demo = commands.add_parser(
        "demo", help="the reference cohort: its report, then a demo registry served locally")
    demo.add_argument("--out", type=Path, default=Path("itb-demo"), metavar="OUT_DIR",
                      help="output directory (default: ./itb-demo); the demo registry's "
                           "SQLite database is OUT_DIR/registry, new each time")
    demo.add_argument("--port", type=int, default=8000, help="port to serve on (default 8000)")
    demo.add_argument("--no-serve", action="store_true",
                      help="set up the demo registry but do not serve it")
    demo.set_defaults(handler=cmd_demo)

    synth = commands.add_parser("synth", help="write a synthetic registry of N patients")
    synth.add_argument("--patients", type=_positive, required=True, metavar="N")
    synth.add_argument("--out", type=Path, required=True, metavar="DIR")
    synth.add_argument("--seed", type=int, default=2012)
    synth.set_defaults(handler=cmd_synth)

    import_ = commands.add_parser("import", help="import a registry directory into the database")
    _add_data_options(import_)
    _add_database_options(import_)
    import_.set_defaults(handler=cmd_import)

    export = commands.add_parser("export", help="write the database as a registry directory")
    export.add_argument("out_dir", type=Path, metavar="OUT_DIR")
    export.add_argument("--with-identity", action="store_true",
                        help="also write identity.csv (names and personal codes)")
    export.add_argument("--user", metavar="USERNAME",
                        help="only what this user may export (default: the whole registry)")
    export.add_argument("--deidentified", action="store_true",
                        help="a de-identified research extract instead (docs/"
                             "research-exports.md); key: --key-file, else DATA_DIR/"
                             "deidentify.key")
    from itb.interop.commands import add_commands, add_deidentify_options

    add_deidentify_options(export)
    _add_database_options(export)
    export.set_defaults(handler=cmd_export)

    createuser = commands.add_parser("createuser", help="create a user of the registry")
    createuser.add_argument("username")
    createuser.add_argument("--role", required=True, choices=ROLES)
    createuser.add_argument("--site", dest="sites", action="append", default=[],
                            metavar="CODE", help="a site the user works at (repeatable)")
    createuser.add_argument("--language", choices=("et", "en"), default="et")
    createuser.add_argument("--password-stdin", action="store_true",
                            help="read the password from the first line of standard input")
    _add_database_options(createuser)
    createuser.set_defaults(handler=cmd_createuser)

    serve = commands.add_parser("serve", help="serve the registry's web application")
    serve.add_argument("--bind", type=_bind, default="127.0.0.1:8000", metavar="HOST:PORT",
                       help="address to listen on (default: 127.0.0.1:8000)")
    serve.add_argument("--workers", type=_positive, default=DEFAULT_WORKERS, metavar="N",
                       help=f"worker processes (default: one per processor core and one more, "
                            f"{DEFAULT_WORKERS} here)")
    _add_database_options(serve)
    serve.set_defaults(handler=cmd_serve)

    due = commands.add_parser(
        "due", help="follow-up: refills due or overdue, flags, pump replacements")
    due.add_argument("data_dir", type=Path, nargs="?", metavar="DATA_DIR",
                     help="a registry directory of CSV files (default: the database)")
    due.add_argument("--site", metavar="CODE", help="only the patients of this site")
    due.add_argument("--days", type=_days, default=30, metavar="N",
                     help="list patients due within N days, overdue or flagged (default 30)")
    due.add_argument("--on", type=_date, metavar="YYYY-MM-DD",
                     help="the date to compute for (default: today)")
    due.add_argument("--all", action="store_true", help="every patient on therapy")
    due.add_argument("--format", choices=("table", "csv", "json", "ics"), default="table",
                     help="table, csv, json, or ics (an iCalendar file to import or subscribe)")
    _add_lang(due)
    _add_database_options(due)
    due.set_defaults(handler=cmd_due)

    quality = commands.add_parser(
        "quality", help="data quality: per site, what the report lacks and what was warned of")
    quality.add_argument("--format", choices=("table", "csv", "json"), default="table",
                         help="table (counts per site, then the records), csv or json")
    _add_lang(quality)
    _add_database_options(quality)
    quality.set_defaults(handler=cmd_quality)
    add_commands(commands)  # redcap, fhir, deidentify, workbook (itb.interop.commands)
    return parser


def _load(data_dir: Path, cutoff: date | None, lang: str) -> Registry | None:
    from itb.registry_io import RegistryInvalid, load_registry

    try:
        return load_registry(data_dir, cutoff=cutoff)
    except RegistryInvalid as invalid:
        _print_problems(invalid, lang)
        return None


def _print_problems(invalid: RegistryInvalid, lang: str) -> None:
    print(invalid.render(lang), file=sys.stderr)
    summary = {"et": f"{len(invalid.problems)} viga; midagi ei kirjutatud.",
               "en": f"{len(invalid.problems)} problem(s); nothing was written."}
    print(summary[lang], file=sys.stderr)


def cmd_validate(args: argparse.Namespace) -> int:
    registry = _load(args.data_dir, args.cutoff, args.lang)
    if registry is None:
        return EXIT_INVALID
    counts = {name: getattr(registry, name).height for name in
              ("patients", "implantations", "complications", "assessments", "refills")}
    if registry.screening_trials.height:
        counts["screening trials"] = registry.screening_trials.height
    if registry.identity is not None:
        counts["identities"] = registry.identity.height
    summary = ", ".join(f"{n} {name}" for name, n in counts.items())
    print(f"{args.data_dir}: OK ({summary}; cut-off {registry.cutoff.isoformat()})")
    return EXIT_OK


def _prefetch_report_libraries() -> None:
    """Import the figure and interval libraries in the background while the CSVs are read.

    Reading and validating release the GIL (polars), so the imports overlap with them; this
    is most of the start-up time of a small report (lifelines, for the survival estimates,
    alone takes about a second).
    """

    def load() -> None:
        for module in ("matplotlib.figure", "matplotlib.backends.backend_agg", "scipy.special",
                       "lifelines", "lifelines.statistics"):
            importlib.import_module(module)

    threading.Thread(target=load, name="itb-prefetch", daemon=True).start()


def _report(data_dir: Path, out: Path, cutoff: date | None, lang: str,
            suppress_below: int | None = None) -> int:
    _prefetch_report_libraries()
    registry = _load(data_dir, cutoff, lang)
    if registry is None:
        return EXIT_INVALID
    from itb.analysis import analyse
    from itb.reports.writer import write_report

    write_report(analyse(registry), out, lang, suppress_below)
    print(out / "report.html")
    return EXIT_OK


def cmd_report(args: argparse.Namespace) -> int:
    return _report(args.data_dir, args.out, args.cutoff, args.lang, args.suppress_below)


def cmd_demo(args: argparse.Namespace) -> int:
    status = _report(REFERENCE_COHORT, args.out, None, "et")
    if status == EXIT_OK:
        status = _report(REFERENCE_COHORT, args.out / "en", None, "en")
    if status != EXIT_OK:
        return status

    registry_dir = args.out / "registry"
    for name in SQLITE_FILES:  # a new database each time; only our own files are removed
        (registry_dir / name).unlink(missing_ok=True)
    os.environ.pop("DATABASE_URL", None)  # the demo is a throwaway SQLite registry
    # The cohort's refills are dated for its cut-off: the follow-up pages compute for that
    # day, so the demo's board shows who is due and overdue as the data intends.
    from itb.registry_io.loader import read_dataset_info

    demo_date = read_dataset_info(REFERENCE_COHORT)[0].cutoff
    if demo_date is not None:
        os.environ["ITB_FOLLOW_UP_DATE"] = demo_date.isoformat()
    _start_django(registry_dir)
    from itb.web.registry.services.accounts import create_user
    from itb.web.registry.services.importing import import_registry

    import_registry(REFERENCE_COHORT, origin="itb demo")
    print(f"demo registry: {registry_dir}")
    if demo_date is not None:
        print(f"  follow-up computed for {demo_date.isoformat()} (the data's cut-off)")
    for role, sites in DEMO_USERS:
        password = secrets.token_urlsafe(12)
        create_user(role, role, password, sites=sites, language="et")
        where = f" ({', '.join(sites)})" if sites else ""
        print(f"  user {role:<13} password {password}   {role}{where}")
    if args.no_serve:
        return EXIT_OK
    print(f"http://127.0.0.1:{args.port}/", flush=True)
    # The report and the import above started polars' thread pool, which does not survive a
    # fork: gunicorn's forked workers would hang in their first analysis (the follow-up board,
    # the report). So the server starts as a fresh `itb serve` in a new process image.
    sys.stderr.flush()
    os.execv(sys.executable, [sys.executable, "-m", "itb.cli", "serve",
                              "--data-dir", str(registry_dir.resolve()),
                              "--bind", f"127.0.0.1:{args.port}", "--workers", "2"])


def cmd_synth(args: argparse.Namespace) -> int:
    from itb.registry_io.synth import write_synthetic_registry

    started = time.perf_counter()
    counts = write_synthetic_registry(args.out, args.patients, seed=args.seed)
    rows = ", ".join(f"{n} {name}" for name, n in counts.items())
    print(f"{args.out}: {rows} ({time.perf_counter() - started:.1f} s)")
    return EXIT_OK


# --- the database commands ----------------------------------------------------------------------

def _start_django(database_dir: Path | None) -> None:
    """Start Django on the data directory (or DATABASE_URL) and bring the schema up to date."""
    from itb.web.bootstrap import migrate, setup

    setup(database_dir)
    migrate()


@contextmanager
def _progress(description: str) -> Iterator[Callable[[int], Callable[[int], None]]]:
    """A progress-bar factory for the services: a bar on a terminal, silence otherwise."""
    from tqdm import tqdm

    bars: list[tqdm] = []

    def start(total: int) -> Callable[[int], None]:
        bar = tqdm(total=total, desc=description, unit=" rows", unit_scale=True, leave=False,
                   disable=not sys.stderr.isatty())
        bars.append(bar)
        return bar.update

    try:
        yield start
    finally:
        for bar in bars:
            bar.close()


def cmd_import(args: argparse.Namespace) -> int:
    _start_django(args.database_dir)
    from itb.registry_io import RegistryInvalid
    from itb.web.registry.services.importing import import_registry

    started = time.perf_counter()
    try:
        with _progress("import") as progress:
            result = import_registry(args.data_dir, cutoff=args.cutoff, progress=progress)
    except RegistryInvalid as invalid:
        _print_problems(invalid, args.lang)
        return EXIT_INVALID
    patients = result.counts["patients"]
    rows = sum(result.counts[t]["created"] for t in result.counts if t not in ("patients", "sites"))
    what = (f"{patients['created']} patients added, {patients['updated']} changed, "
            f"{patients['unchanged']} unchanged; {rows} rows written"
            if result.changed else f"nothing changed ({patients['unchanged']} patients)")
    print(f"{args.data_dir}: {what} ({time.perf_counter() - started:.1f} s)")
    return EXIT_OK


def cmd_export(args: argparse.Namespace) -> int:
    _start_django(args.database_dir)
    from django.contrib.auth import get_user_model
    from django.core.exceptions import PermissionDenied

    from itb.web.registry.services.exporting import export_registry

    user = None
    if args.user is not None:
        user = get_user_model().objects.filter(username=args.user, is_active=True).first()
        if user is None:
            print(f"itb: no active user '{args.user}'", file=sys.stderr)
            return EXIT_INVALID
    if args.deidentified:
        return _export_deidentified(args, user)
    if args.excel or args.key_file or args.keep_free_text or args.dates != "shift":
        print("itb: --key-file, --dates, --keep-free-text and --excel go with --deidentified",
              file=sys.stderr)
        return EXIT_INVALID
    started = time.perf_counter()
    try:
        with _progress("export") as progress:
            counts = export_registry(args.out_dir, user, args.with_identity, progress)
    except PermissionDenied:
        print(f"itb: the user '{args.user}' may not export this", file=sys.stderr)
        return EXIT_INVALID
    rows = ", ".join(f"{n} {name}" for name, n in counts.items())
    print(f"{args.out_dir}: {rows} ({time.perf_counter() - started:.1f} s)")
    if args.with_identity:
        print("identity.csv names people: keep it apart and never mail it", file=sys.stderr)
    return EXIT_OK


def _export_deidentified(args: argparse.Namespace, user: object) -> int:
    from django.conf import settings
    from django.core.exceptions import PermissionDenied

    from itb.interop.commands import KEY_FILE, deidentify_registry
    from itb.web.registry.services.exporting import export_for_research

    if args.with_identity:
        print("itb: --deidentified and --with-identity exclude each other", file=sys.stderr)
        return EXIT_INVALID
    try:
        with export_for_research(user) as registry:  # type: ignore[arg-type]
            data_dir = args.database_dir or Path(settings.DATA_DIR)
            key_file = args.key_file or data_dir / KEY_FILE
            return deidentify_registry(registry, args, key_file, "the registry database")
    except PermissionDenied:
        print(f"itb: the user '{args.user}' may not export this", file=sys.stderr)
        return EXIT_INVALID


def _read_password(from_stdin: bool) -> str | None:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    if not sys.stdin.isatty():
        print("itb: no terminal to ask for the password: use --password-stdin",
              file=sys.stderr)
        return None
    password = getpass.getpass("Password: ")
    if getpass.getpass("Password (again): ") != password:
        print("itb: the passwords differ", file=sys.stderr)
        return None
    return password


def _create_user(username: str, role: str, sites: Sequence[str], language: str,
                 password_from_stdin: bool) -> int:
    from django.utils import translation

    from itb.web.registry.services.accounts import UserInvalid, create_user

    password = _read_password(password_from_stdin)
    if password is None:
        return EXIT_INVALID
    try:
        with translation.override(language):  # the password rules in the user's language
            create_user(username, role, password, sites=sites, language=language)
    except UserInvalid as invalid:
        for message in invalid.messages:
            print(f"itb: {message}", file=sys.stderr)
        return EXIT_INVALID
    print(f"user {username} ({role}) created")
    return EXIT_OK


def cmd_createuser(args: argparse.Namespace) -> int:
    _start_django(args.database_dir)
    return _create_user(args.username, args.role, args.sites, args.language,
                        args.password_stdin)


def _first_administrator() -> bool:
    """Whether the registry has an administrator, offering to create one on a terminal."""
    from itb.web.registry.services.accounts import has_administrator

    if has_administrator():
        return True
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        print("itb: the registry has no administrator yet; create one with\n"
              "  itb createuser admin --role administrator", file=sys.stderr)
        return False
    answer = input("The registry has no administrator yet. Create one now? [Y/n] ")
    if answer.strip().lower() not in ("", "y", "yes", "j", "jah"):
        return False
    username = input("User name [admin]: ").strip() or "admin"
    return _create_user(username, "administrator", (), "et", False) == EXIT_OK


def cmd_serve(args: argparse.Namespace) -> int:
    _start_django(args.database_dir)
    if not _first_administrator():
        return EXIT_INVALID
    return _serve(args.bind, args.workers)


def _sqlite_missing(database_dir: Path | None) -> Path | None:
    """The SQLite file the settings would open, when it does not exist.

    Checked before Django starts: opening a missing SQLite file creates an empty one, and a
    mistyped --data-dir would then report an empty registry as free of problems.
    """
    if os.environ.get("DATABASE_URL"):
        return None
    directory = database_dir or Path(os.environ.get("ITB_DATA_DIR", "itb-data"))
    path = directory.resolve() / SQLITE_FILES[0]
    return None if path.exists() else path


def cmd_quality(args: argparse.Namespace) -> int:
    """The data-quality report of the whole registry (the coordinator's page, as text)."""
    missing = _sqlite_missing(args.database_dir)
    if missing is not None:
        print(f"itb: no registry database: {missing}", file=sys.stderr)
        return EXIT_OS_ERROR
    from itb.web.bootstrap import setup

    setup(args.database_dir)  # no migration: a report must not change the database
    from itb.web.registry.quality import quality_report, render_quality

    sys.stdout.write(render_quality(quality_report(None), args.format, args.lang))
    return EXIT_OK


def cmd_due(args: argparse.Namespace) -> int:
    """The follow-up list (itb.analysis.followup) of a directory, or of the database."""
    on = args.on or date.today()
    if args.data_dir is not None:
        registry = _load(args.data_dir, None, args.lang)
        if registry is None:
            return EXIT_INVALID
    else:
        missing = _sqlite_missing(args.database_dir)
        if missing is not None:
            print(f"itb: no registry database: {missing}", file=sys.stderr)
            return EXIT_OS_ERROR
        from itb.web.bootstrap import setup

        setup(args.database_dir)  # no migration: a list must not change the database
        from itb.web.registry.selectors import whole_registry

        registry = whole_registry(on)
    from itb.analysis.followup import due_list, follow_up
    from itb.reports.followup import render

    sites = set(registry.patients.get_column("site").to_list()) | set(registry.site_names)
    if args.site is not None and args.site not in sites:
        known = ", ".join(sorted(sites)) or "–"
        print({"et": f"itb: haiglat {args.site} ei ole; haiglad: {known}",
               "en": f"itb: no site {args.site}; sites: {known}"}[args.lang], file=sys.stderr)
        return EXIT_INVALID
    entries = follow_up(registry, on, site=args.site)
    if not args.all:
        entries = due_list(entries, args.days)
    horizon = None if args.all else on + timedelta(days=args.days)
    sys.stdout.write(render(entries, args.format, args.lang, on, horizon))
    return EXIT_OK


def _serve(bind: str, workers: int) -> int:
    """Run gunicorn in this process (static files by WhiteNoise); returns when it stops."""
    from django.db import connections
    from gunicorn.app.base import BaseApplication

    class Server(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            for key, value in {"bind": [bind], "workers": workers, "preload_app": True,
                               "errorlog": "-", "proc_name": "itb"}.items():
                self.cfg.set(key, value)
            if "control_socket_disable" in self.cfg.settings:
                # gunicorn ≥ 25 listens on ~/.gunicorn/gunicorn.ctl by default: one path for
                # every server of the user (a demo beside a registry would collide) and a
                # management interface nobody asked for.
                self.cfg.set("control_socket_disable", True)

        def load(self) -> object:
            from itb.web.wsgi import application

            return application

    # Workers are forked: none may inherit the connection the migration opened.
    connections.close_all()
    try:
        Server().run()
    except SystemExit as stop:  # gunicorn's arbiter leaves by sys.exit
        return stop.code if isinstance(stop.code, int) else EXIT_OS_ERROR
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    handler: Callable[[argparse.Namespace], int] = args.handler
    try:
        return handler(args)
    except OSError as error:
        where = f": {error.filename}" if error.filename else ""
        print(f"itb: {error.strerror or error}{where}", file=sys.stderr)
        return EXIT_OS_ERROR
    except KeyboardInterrupt:
        return 130
    except Exception as error:
        problem = _environment_problem(error)
        if problem is None:
            raise
        print(f"itb: {problem}", file=sys.stderr)
        return EXIT_OS_ERROR


def _environment_problem(error: Exception) -> str | None:
    """A database that cannot be reached or a setting that cannot be used, in words; None for
    anything else (a bug, which should show its traceback)."""
    if "django" not in sys.modules:
        return None
    from django.core.exceptions import ImproperlyConfigured
    from django.db import Error as DatabaseError

    if isinstance(error, DatabaseError):
        return f"the database: {str(error).strip() or type(error).__name__}"
    # settings.ConfigError, by name: a settings module that failed is not importable.
    kind = type(error)
    if isinstance(error, ImproperlyConfigured) or (
            kind.__module__, kind.__name__) == ("itb.web.settings", "ConfigError"):
        return f"configuration: {error}"
    return None


if __name__ == "__main__":
    sys.exit(main())
