"""Time ``itb report`` against a pandas/tableone/statsmodels/lifelines peer pipeline.

For each size a synthetic registry is generated once with ``itb synth`` (cached under
``--work-dir`` by size and seed); then, each in a fresh subprocess, ``itb report DATA --out OUT
--lang en`` (validation, analysis and every output file) and ``benchmarks/peer_pipeline.py``
on the same data are timed: wall time and peak resident memory. The 43-patient reference
cohort (``data/reference-cohort``, or a 43-patient synthetic registry if it is not there yet)
is timed as well. Prints a Markdown table.

    python benchmarks/bench_report.py --sizes 1000 100000 1000000 --repeat 3
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PEER = Path(__file__).resolve().parent / "peer_pipeline.py"
REFERENCE = ROOT / "data" / "reference-cohort"
REGISTRY_FILES = ("patients.csv", "implantations.csv", "complications.csv", "assessments.csv",
                  "refills.csv", "sites.csv", "dataset.toml")
TIME = Path("/usr/bin/time")

# Run the command as a child and print its peak RSS (KiB): the fallback without /usr/bin/time.
_RUSAGE_WRAPPER = (
    "import resource, subprocess, sys\n"
    "status = subprocess.call(sys.argv[2:])\n"
    "peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss\n"
    "open(sys.argv[1], 'w').write(f'0 {peak}')\n"
    "sys.exit(status)\n"
)


@dataclass(frozen=True)
class Run:
    wall_s: float
    peak_mb: float
    ok: bool


@dataclass(frozen=True)
class Measurement:
    runs: tuple[Run, ...]
    stat: str = "median"

    @property
    def ok(self) -> bool:
        return all(run.ok for run in self.runs)

    def _summary(self, values: list[float]) -> float:
        return min(values) if self.stat == "min" else statistics.median(values)

    @property
    def wall_s(self) -> float:
        return self._summary([run.wall_s for run in self.runs])

    @property
    def peak_mb(self) -> float:
        return self._summary([run.peak_mb for run in self.runs])


def itb_command() -> list[str]:
    found = Path(sys.executable).with_name("itb")
    if found.exists():
        return [str(found)]
    which = shutil.which("itb")
    return [which] if which else [sys.executable, "-m", "itb.cli"]


def measure(command: list[str], log: Path) -> Run:
    """Wall time and peak RSS of ``command`` run in a fresh process."""
    with tempfile.NamedTemporaryFile("r", suffix=".time", delete=False) as stats_file:
        stats = Path(stats_file.name)
    try:
        if TIME.exists():
            wrapped = [str(TIME), "-o", str(stats), "-f", "%e %M", *command]
        else:
            wrapped = [sys.executable, "-c", _RUSAGE_WRAPPER, str(stats), *command]
        with log.open("ab") as output:
            started = time.perf_counter()
            status = subprocess.call(wrapped, stdout=output, stderr=output)
            wall = time.perf_counter() - started
        # /usr/bin/time may prefix a "Command exited with non-zero status" line.
        peak_kib = int(stats.read_text().split()[-1])
    finally:
        stats.unlink(missing_ok=True)
    return Run(wall, peak_kib / 1024, status == 0)


def measure_repeated(command: list[str], log: Path, repeat: int, stat: str) -> Measurement:
    return Measurement(tuple(measure(command, log) for _ in range(repeat)), stat)


def synthetic(work_dir: Path, patients: int, seed: int) -> Path:
    """The registry of ``patients`` synthetic patients, generated on first use."""
    target = work_dir / f"synth-n{patients}-seed{seed}"
    if all((target / name).exists() for name in REGISTRY_FILES):
        return target
    partial = work_dir / f".{target.name}.partial"
    shutil.rmtree(partial, ignore_errors=True)
    shutil.rmtree(target, ignore_errors=True)
    print(f"generating {patients} patients into {target} …", file=sys.stderr, flush=True)
    subprocess.run([*itb_command(), "synth", "--patients", str(patients), "--out", str(partial),
                    "--seed", str(seed)], check=True, stdout=sys.stderr)
    partial.rename(target)
    return target


def warm(directory: Path) -> None:
    """Read the files once so that neither pipeline pays for a cold page cache."""
    for path in sorted(directory.glob("*.csv")):
        with path.open("rb") as handle:
            while handle.read(1 << 24):
                pass


def count_lines(path: Path) -> int:
    lines = 0
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 24):
            lines += chunk.count(b"\n")
    return lines


def data_rows(directory: Path) -> int:
    """Rows of the clinical files (headers and sites.csv not counted)."""
    return sum(count_lines(path) - 1 for path in directory.glob("*.csv")
               if path.name != "sites.csv")


def reference_data(work_dir: Path, seed: int) -> tuple[str, Path]:
    if (REFERENCE / "patients.csv").exists():
        return "reference cohort", REFERENCE
    return "synthetic (reference cohort absent)", synthetic(work_dir, 43, seed)


def _fmt_ratio(ours: float, peer: float) -> str:
    return f"{ours / peer:.2f}" if peer > 0 else "–"


def _cell(measurement: Measurement, value: float, digits: int) -> str:
    return f"{value:.{digits}f}" if measurement.ok else f"{value:.{digits}f} (failed)"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 100_000, 1_000_000],
                        metavar="N", help="numbers of synthetic patients")
    parser.add_argument("--work-dir", type=Path, default=ROOT / "benchmarks" / "data",
                        help="where data and outputs go (gitignored)")
    parser.add_argument("--repeat", type=int, default=3,
                        help="runs per measurement (default 3)")
    parser.add_argument("--stat", choices=("median", "min"), default="median",
                        help="which run to report (default: the median)")
    parser.add_argument("--seed", type=int, default=2012)
    parser.add_argument("--no-peer", action="store_true", help="time only itb report")
    args = parser.parse_args(argv)

    work_dir: Path = args.work_dir.resolve()
    work_dir.mkdir(parents=True, exist_ok=True)
    log = work_dir / "bench.log"
    log.write_text("")
    itb = itb_command()

    print(f"machine: {platform.platform()}, {os.cpu_count()} CPUs, Python "
          f"{platform.python_version()}; peak RSS via "
          f"{'/usr/bin/time' if TIME.exists() else 'getrusage(RUSAGE_CHILDREN)'}; "
          f"{args.stat} of {args.repeat} run(s); log {log}", file=sys.stderr)

    cases = [reference_data(work_dir, args.seed)]
    cases += [(f"synthetic {n:,}".replace(",", " "), synthetic(work_dir, n, args.seed))
              for n in args.sizes]

    header = ("| data | patients | data rows | ours wall s | ours peak MB | peer wall s "
              "| peer peak MB | wall ours/peer | peak ours/peer | load avg |")
    lines = [header, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for label, directory in cases:
        warm(directory)
        # Other processes on the machine skew wall times: show the 1-minute load average.
        load = os.getloadavg()[0]
        rows = data_rows(directory)
        patients = count_lines(directory / "patients.csv") - 1
        out = work_dir / "out" / directory.name
        ours = measure_repeated([*itb, "report", str(directory), "--out", str(out / "itb"),
                                 "--lang", "en"], log, args.repeat, args.stat)
        cells = [label, str(patients), str(rows), _cell(ours, ours.wall_s, 2),
                 _cell(ours, ours.peak_mb, 0)]
        if args.no_peer:
            cells += ["–"] * 4
        else:
            peer = measure_repeated([sys.executable, str(PEER), str(directory), "--out",
                                     str(out / "peer")], log, args.repeat, args.stat)
            cells += [_cell(peer, peer.wall_s, 2), _cell(peer, peer.peak_mb, 0),
                      _fmt_ratio(ours.wall_s, peer.wall_s), _fmt_ratio(ours.peak_mb,
                                                                         peer.peak_mb)]
        cells.append(f"{load:.1f}")
        lines.append("| " + " | ".join(cells) + " |")
        print(lines[-1], file=sys.stderr, flush=True)

    print("\n".join(lines))
    self_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"(benchmark driver itself: {self_peak:.0f} MB peak)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
