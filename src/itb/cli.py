"""The ``itb`` command line: each subcommand a few lines over the library.

Exit codes: 0 success, 1 an operating-system error (e.g. an unwritable output directory),
2 invalid input data or command-line usage.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import threading
import time
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from itb import __version__

if TYPE_CHECKING:
    from itb.registry_io import Registry

EXIT_OK = 0
EXIT_OS_ERROR = 1
EXIT_INVALID = 2

REFERENCE_COHORT = Path(__file__).resolve().parents[2] / "data" / "reference-cohort"


def _date(value: str) -> date:
    from itb.domain.dates import parse_iso_date

    parsed = parse_iso_date(value)
    if parsed is None:
        raise argparse.ArgumentTypeError(f"'{value}' is not a date in the form YYYY-MM-DD")
    return parsed


def _positive(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number < 1:
        raise argparse.ArgumentTypeError(f"'{value}' is not a positive whole number")
    return number


def _add_data_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("data_dir", type=Path, help="registry directory of CSV files")
    parser.add_argument("--cutoff", type=_date, metavar="YYYY-MM-DD",
                        help="data cut-off (default: dataset.toml's cutoff, else today)")
    _add_lang(parser)


def _add_lang(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--lang", choices=("et", "en"), default=os.environ.get("ITB_LANG", "et"),
                        help="language of the output (default: et, or $ITB_LANG)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="itb", description="Intrathecal baclofen (ITB) pump therapy registry.")
    parser.add_argument("--version", action="version", version=f"itb {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    report = commands.add_parser("report", help="write the study report from a registry directory")
    _add_data_options(report)
    report.add_argument("--out", type=Path, required=True, metavar="OUT_DIR",
                        help="directory to write report.html, report.md, report.json, … into")
    report.set_defaults(handler=cmd_report)

    validate = commands.add_parser("validate", help="check a registry directory, list problems")
    _add_data_options(validate)
    validate.set_defaults(handler=cmd_validate)

    demo = commands.add_parser("demo", help="write the report of the bundled reference cohort")
    demo.add_argument("--out", type=Path, default=Path("itb-demo"), metavar="OUT_DIR",
                      help="output directory (default: ./itb-demo)")
    demo.set_defaults(handler=cmd_demo)

    synth = commands.add_parser("synth", help="write a synthetic registry of N patients")
    synth.add_argument("--patients", type=_positive, required=True, metavar="N")
    synth.add_argument("--out", type=Path, required=True, metavar="DIR")
    synth.add_argument("--seed", type=int, default=2012)
    synth.set_defaults(handler=cmd_synth)
    return parser


def _load(data_dir: Path, cutoff: date | None, lang: str) -> Registry | None:
    from itb.registry_io import RegistryInvalid, load_registry

    try:
        return load_registry(data_dir, cutoff=cutoff)
    except RegistryInvalid as invalid:
        print(invalid.render(lang), file=sys.stderr)
        summary = {"et": f"{len(invalid.problems)} viga; midagi ei kirjutatud.",
                   "en": f"{len(invalid.problems)} problem(s); nothing was written."}
        print(summary[lang], file=sys.stderr)
        return None


def cmd_validate(args: argparse.Namespace) -> int:
    registry = _load(args.data_dir, args.cutoff, args.lang)
    if registry is None:
        return EXIT_INVALID
    counts = {name: getattr(registry, name).height for name in
              ("patients", "implantations", "complications", "assessments", "refills")}
    summary = ", ".join(f"{n} {name}" for name, n in counts.items())
    print(f"{args.data_dir}: OK ({summary}; cut-off {registry.cutoff.isoformat()})")
    return EXIT_OK


def _prefetch_report_libraries() -> None:
    """Import the figure and interval libraries in the background while the CSVs are read.

    Reading and validating release the GIL (polars), so the imports overlap with them; this
    is most of the start-up time of a small report.
    """

    def load() -> None:
        for module in ("matplotlib.figure", "matplotlib.backends.backend_agg", "scipy.special"):
            importlib.import_module(module)

    threading.Thread(target=load, name="itb-prefetch", daemon=True).start()


def _report(data_dir: Path, out: Path, cutoff: date | None, lang: str) -> int:
    _prefetch_report_libraries()
    registry = _load(data_dir, cutoff, lang)
    if registry is None:
        return EXIT_INVALID
    from itb.analysis import analyse
    from itb.reports.writer import write_report

    write_report(analyse(registry), out, lang)
    print(out / "report.html")
    return EXIT_OK


def cmd_report(args: argparse.Namespace) -> int:
    return _report(args.data_dir, args.out, args.cutoff, args.lang)


def cmd_demo(args: argparse.Namespace) -> int:
    status = _report(REFERENCE_COHORT, args.out, None, "et")
    if status == EXIT_OK:
        status = _report(REFERENCE_COHORT, args.out / "en", None, "en")
    return status


def cmd_synth(args: argparse.Namespace) -> int:
    from itb.registry_io.synth import write_synthetic_registry

    started = time.perf_counter()
    counts = write_synthetic_registry(args.out, args.patients, seed=args.seed)
    rows = ", ".join(f"{n} {name}" for name, n in counts.items())
    print(f"{args.out}: {rows} ({time.perf_counter() - started:.1f} s)")
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


if __name__ == "__main__":
    sys.exit(main())
