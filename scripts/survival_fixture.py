"""Write tests/fixtures/survival_statsmodels.json: an independent implementation's numbers.

R is not installed here (CRAN is unreachable), so statsmodels' ``duration`` module stands in
for R's survival package: ``SurvfuncRight`` (Kaplan–Meier with Greenwood standard errors),
``survdiff`` (log-rank) and ``CumIncidenceRight`` (Aalen–Johansen). Run once; the test
(tests/analysis/test_survival.py) compares itb.analysis.survival against the file.

    .venv/bin/python scripts/survival_fixture.py
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from statsmodels.duration.survfunc import CumIncidenceRight, SurvfuncRight, survdiff

OUT = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "survival_statsmodels.json"
QUERY_DAYS = [0, 30, 200, 365, 366, 800, 1095, 1500, 1826]


def data() -> tuple[list[int], list[int], list[str]]:
    """80 synthetic patients: integer days (many ties, some zeros), status 0 censored,
    1 complication, 2 death first; three groups of unequal size."""
    rng = np.random.default_rng(2012)
    n = 80
    event = rng.exponential(1500, n)
    death = rng.exponential(4000, n)
    censor = rng.uniform(0, 2500, n)
    days = np.floor(np.minimum.reduce([event, death, censor]) / 30) * 30  # months: ties
    status = np.where(event <= np.minimum(death, censor), 1,
                      np.where(death <= censor, 2, 0))
    days[:3] = 0  # complications on the day of surgery
    status[:3] = 1
    groups = np.array(["a", "b", "c"])[rng.choice(3, n, p=[0.5, 0.3, 0.2])]
    return days.astype(int).tolist(), status.astype(int).tolist(), groups.tolist()


def step(times: np.ndarray, values: np.ndarray, at: float, start: float) -> float:
    index = int(np.searchsorted(times, at, side="right")) - 1
    return start if index < 0 else float(values[index])


def main() -> None:
    days, status, groups = data()
    time = np.asarray(days, dtype=float)
    complication = (np.asarray(status) == 1).astype(int)
    km = SurvfuncRight(time, complication)
    cif = CumIncidenceRight(time, np.asarray(status))
    chisq, p_value = survdiff(time, complication, np.asarray(groups))
    at_risk = [int((time >= t).sum()) for t in QUERY_DAYS]
    fixture = {
        "source": "statsmodels " + __import__("statsmodels").__version__
                  + " duration.survfunc (scripts/survival_fixture.py)",
        "days": days, "status": status, "groups": groups,
        "query_days": QUERY_DAYS,
        "survival": [step(km.surv_times, km.surv_prob, t, 1.0) for t in QUERY_DAYS],
        "survival_se": [step(km.surv_times, km.surv_prob_se, t, 0.0) for t in QUERY_DAYS],
        "at_risk": at_risk,
        "cumulative_incidence": [step(cif.times, cif.cinc[0], t, 0.0) for t in QUERY_DAYS],
        "logrank": {"chi2": float(chisq), "p_value": float(p_value), "df": 2},
    }
    OUT.write_text(json.dumps(fixture, indent=1) + "\n", encoding="utf-8")
    print(OUT)


if __name__ == "__main__":
    main()
