"""Time the time-to-event analysis alone (itb.analysis.survival) and its lifelines peer.

Loads a registry directory once (e.g. one written by ``itb synth --patients 1000000``), then
times ``time_to_event`` (Kaplan–Meier overall and by group, log-rank, Aalen–Johansen,
incidence rates, pump and revision-free survival) and the KM figure, best of ``--repeat``
runs, after timing lifelines' import (the estimators are lifelines', imported on first use).
With ``--lifelines`` it also times one KaplanMeierFitter on one row per patient: what the
report's fits on day tables (the day's counts as case weights) save.

    python benchmarks/bench_survival.py /tmp/s1m --repeat 3 --lifelines
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from types import SimpleNamespace


def best(function: object, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()  # type: ignore[operator]
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--lifelines", action="store_true")
    args = parser.parse_args()

    from itb.analysis.study import patient_cohort
    from itb.analysis.survival import _events, time_to_event
    from itb.registry_io import load_registry
    from itb.reports.figures import survival_figure

    start = time.perf_counter()
    registry = load_registry(args.data)
    print(f"load_registry: {time.perf_counter() - start:.2f} s "
          f"({registry.patients.height} patients)")
    cohort = patient_cohort(registry)
    start = time.perf_counter()
    from lifelines import KaplanMeierFitter

    print(f"import lifelines: {time.perf_counter() - start:.2f} s")
    seconds = best(lambda: time_to_event(registry, cohort), args.repeat)
    print(f"time_to_event: {seconds:.2f} s (best of {args.repeat})")
    # The figure reads only the survival results: no need for the whole (slower) analysis.
    survival = SimpleNamespace(survival=time_to_event(registry, cohort).survival)
    seconds = best(lambda: survival_figure(survival, "en"), args.repeat)  # type: ignore[arg-type]
    print(f"survival_figure (PNG + SVG): {seconds:.2f} s")
    if args.lifelines:
        follow = _events(registry, cohort).follow
        days = follow.get_column("days").to_numpy()
        event = (follow.get_column("status") == 1).to_numpy()
        seconds = best(lambda: KaplanMeierFitter().fit(days, event), args.repeat)
        print(f"lifelines KaplanMeierFitter, one row per patient, overall only: "
              f"{seconds:.2f} s")


if __name__ == "__main__":
    main()
