"""Where the time of ``itb report`` goes, in one process: each phase's wall and CPU time and
the process's peak memory after it, and with ``--profile`` the functions of ``itb`` that
took the most cumulative time (cProfile).

What ``bench_report.py`` measures as one number, split up: importing the libraries, reading
each file, validating, the analysis (each part of ``analyse`` with ``--profile``), and
rendering and writing the outputs.

    python benchmarks/profile_report.py benchmarks/data/synth-n1000000-seed2012
    python benchmarks/profile_report.py DATA_DIR --profile --lines 30
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import resource
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from itb.registry_io.loader import Registry

T = TypeVar("T")


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@contextmanager
def phase(label: str) -> Iterator[None]:
    wall, cpu = time.perf_counter(), time.process_time()
    yield
    print(f"{label:<28} {time.perf_counter() - wall:7.2f} s wall {time.process_time() - cpu:7.2f}"
          f" s CPU {_peak_mb():8.0f} MB peak", flush=True)


def _load_in_phases(data: Path, run: Callable[[Callable[[], T]], T]) -> Registry:
    """``load_registry``, phase by phase (its read and text frames freed on return)."""
    from itb.registry_io.loader import registry_of, resolve_cutoff, site_codes_of
    from itb.registry_io.reader import read_table
    from itb.registry_io.schema import ALL_FILES
    from itb.registry_io.validate import validate_tables

    cutoff, info, problems = resolve_cutoff(data, None)
    raw = {}
    for spec in ALL_FILES:
        with phase(f"read {spec.filename}"):
            table, file_problems = run(lambda spec=spec: read_table(data, spec))
        problems += file_problems
        if table is not None:
            raw[spec.table] = table
    with phase("validate"):
        site_codes, site_problems = site_codes_of(raw)
        validated = run(lambda: validate_tables(raw, cutoff, site_codes))
    problems += site_problems + validated.problems
    if problems:
        raise SystemExit(f"{len(problems)} problems, the first: {problems[0].render('en')}")
    return registry_of(validated, cutoff, info, data)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("data", type=Path, help="a registry directory")
    parser.add_argument("--lang", default="en", choices=("et", "en"))
    parser.add_argument("--profile", action="store_true",
                        help="also list itb's functions by cumulative time")
    parser.add_argument("--lines", type=int, default=25, help="profile lines to print")
    args = parser.parse_args(argv)

    profiler = cProfile.Profile() if args.profile else None

    def run(call: Callable[[], T]) -> T:
        return profiler.runcall(call) if profiler is not None else call()

    with phase("import polars, itb"):
        import itb
        import itb.registry_io.validate
    print(f"itb from {Path(itb.__file__).parent}", file=sys.stderr)
    with phase("import the report's libs"):
        # What `itb report` imports in the background while it reads (cli.py).
        import lifelines  # noqa: F401
        import matplotlib.backends.backend_agg  # noqa: F401
        import scipy.special  # noqa: F401

    registry = _load_in_phases(args.data, run)
    from itb.analysis import analyse
    from itb.reports.writer import write_report
    with phase("analyse"):
        result = run(lambda: analyse(registry))
    with tempfile.TemporaryDirectory() as out, phase("render and write the outputs"):
        run(lambda: write_report(result, Path(out), args.lang))

    if profiler is not None:
        stats = pstats.Stats(profiler).sort_stats("cumulative")
        stats.print_stats(r"itb/", args.lines)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
