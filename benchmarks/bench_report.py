"""Time ``itb report`` against a pandas/tableone/statsmodels/lifelines peer pipeline.

For each size a synthetic registry is generated once with ``itb synth`` (cached under
``--work-dir`` by size and seed); then, each in a fresh subprocess, ``itb report DATA --out OUT
--lang en`` (validation, analysis and every output file) and ``benchmarks/peer_pipeline.py``
on the same data are timed: wall time and peak resident memory. The 43-patient reference
cohort (``data/reference-cohort``, or a 43-patient synthetic registry if it is not there yet)
is timed as well. Prints a Markdown table, then each target of issue 2 met or missed.

    python benchmarks/bench_report.py --sizes 1000 100000 1000000 --repeat 3

The ``itb`` measured is the one Python imports: set ``PYTHONPATH=SNAPSHOT/src`` to measure a
``git archive`` snapshot instead of a working tree that others are editing; the source and the
commit measured are printed first.
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

# Run the command as a child and write "wall peak-RSS-KiB user-s system-s" as /usr/bin/time
# does: the fallback without it.
_RUSAGE_WRAPPER = (
    "import resource, subprocess, sys\n"
    "status = subprocess.call(sys.argv[2:])\n"
    "usage = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
    "open(sys.argv[1], 'w').write(f'0 {usage.ru_maxrss} {usage.ru_utime} {usage.ru_stime}')\n"
    "sys.exit(status)\n"
)


@dataclass(frozen=True)
class Run:
    wall_s: float
    peak_mb: float
    ok: bool
    cpu_s: float = 0.0  # user + system: what the machine's other load does not inflate much


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

    @property
    def cpu_s(self) -> float:
        return self._summary([run.cpu_s for run in self.runs])


def itb_command() -> list[str]:
    found = Path(sys.executable).with_name("itb")
    if found.exists():
        return [str(found)]
    which = shutil.which("itb")
    return [which] if which else [sys.executable, "-m", "itb.cli"]


def measure(command: list[str], log: Path, env: dict[str, str] | None = None) -> Run:
    """Wall time and peak RSS of ``command`` run in a fresh process (``env``: its environment)."""
    with tempfile.NamedTemporaryFile("r", suffix=".time", delete=False) as stats_file:
        stats = Path(stats_file.name)
    try:
        if TIME.exists():
            wrapped = [str(TIME), "-o", str(stats), "-f", "%e %M %U %S", *command]
        else:
            wrapped = [sys.executable, "-c", _RUSAGE_WRAPPER, str(stats), *command]
        with log.open("ab") as output:
            started = time.perf_counter()
            status = subprocess.call(wrapped, stdout=output, stderr=output, env=env)
            wall = time.perf_counter() - started
        # /usr/bin/time may prefix a "Command exited with non-zero status" line.
        _, peak_kib, user, system = stats.read_text().splitlines()[-1].split()
    finally:
        stats.unlink(missing_ok=True)
    return Run(wall, int(peak_kib) / 1024, status == 0, float(user) + float(system))


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
    status = subprocess.call([*itb_command(), "synth", "--patients", str(patients), "--out",
                              str(partial), "--seed", str(seed)], stdout=sys.stderr)
    if status != 0:
        raise SystemExit(f"itb synth --patients {patients} failed (exit code {status})")
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


def measured_source() -> str:
    """Which itb the subprocesses import, and the commit of that tree when it is a checkout."""
    where = subprocess.run([sys.executable, "-c", "import itb; print(itb.__file__)"],
                           capture_output=True, text=True).stdout.strip()
    commit = subprocess.run(["git", "-C", str(Path(where).parent), "describe", "--always",
                             "--dirty"], capture_output=True, text=True).stdout.strip()
    return f"{where} ({'commit ' + commit if commit else 'not a git checkout'})"


@dataclass(frozen=True)
class Targets:
    """The speed targets of issue 2 §8."""

    reference_wall_s: float = 1.0
    large_patients: int = 1_000_000
    large_wall_s: float = 8.0
    large_peak_mb: float = 1536.0
    peer_ratio: float = 1 / 3


def verdicts(reference: Measurement, large: Measurement | None,
             large_peer: Measurement | None, targets: Targets = Targets()) -> list[str]:
    """Each target met or missed, and by how much."""

    def line(name: str, value: float, limit: float, unit: str) -> str:
        if value <= limit:
            return f"- {name}: {value:.2f} {unit} <= {limit:.2f} {unit}: met"
        return (f"- {name}: {value:.2f} {unit} > {limit:.2f} {unit}: missed by "
                f"{value - limit:.2f} {unit} ({value / limit:.1f}x the target)")

    lines = [line("reference cohort wall", reference.wall_s, targets.reference_wall_s, "s")]
    if large is not None:
        lines.append(line(f"{targets.large_patients} patients wall", large.wall_s,
                          targets.large_wall_s, "s"))
        lines.append(line(f"{targets.large_patients} patients peak memory", large.peak_mb,
                          targets.large_peak_mb, "MB"))
        if large_peer is not None and large_peer.wall_s > 0:
            lines.append(line(f"{targets.large_patients} patients wall ours/peer",
                              large.wall_s / large_peer.wall_s, targets.peer_ratio, ""))
    return lines


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
    print(f"itb measured: {measured_source()}", file=sys.stderr)

    cases = [reference_data(work_dir, args.seed)]
    cases += [(f"synthetic {n:,}".replace(",", " "), synthetic(work_dir, n, args.seed))
              for n in args.sizes]

    header = ("| data | patients | data rows | ours wall s | ours CPU s | ours peak MB "
              "| peer wall s | peer CPU s | peer peak MB | wall ours/peer | peak ours/peer "
              "| load avg |")
    lines = [header, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    reference: Measurement | None = None
    large: tuple[Measurement, Measurement | None] | None = None
    for index, (label, directory) in enumerate(cases):
        warm(directory)
        # Other processes on the machine skew wall times: show the 1-minute load average.
        load = os.getloadavg()[0]
        rows = data_rows(directory)
        patients = count_lines(directory / "patients.csv") - 1
        out = work_dir / "out" / directory.name
        ours = measure_repeated([*itb, "report", str(directory), "--out", str(out / "itb"),
                                 "--lang", "en"], log, args.repeat, args.stat)
        cells = [label, str(patients), str(rows), _cell(ours, ours.wall_s, 2),
                 f"{ours.cpu_s:.2f}", _cell(ours, ours.peak_mb, 0)]
        peer: Measurement | None = None
        if args.no_peer:
            cells += ["–"] * 5
        else:
            peer = measure_repeated([sys.executable, str(PEER), str(directory), "--out",
                                     str(out / "peer")], log, args.repeat, args.stat)
            cells += [_cell(peer, peer.wall_s, 2), f"{peer.cpu_s:.2f}",
                      _cell(peer, peer.peak_mb, 0),
                      _fmt_ratio(ours.wall_s, peer.wall_s), _fmt_ratio(ours.peak_mb,
                                                                         peer.peak_mb)]
        cells.append(f"{load:.1f}")
        lines.append("| " + " | ".join(cells) + " |")
        print(lines[-1], file=sys.stderr, flush=True)
        if index == 0:
            reference = ours
        elif patients == Targets.large_patients:
            large = (ours, peer)

    print("\n".join(lines))
    assert reference is not None  # the reference cohort is always the first case
    print("\n".join(verdicts(reference, *(large or (None, None)))))
    self_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"(benchmark driver itself: {self_peak:.0f} MB peak)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
