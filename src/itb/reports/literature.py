"""Published reference figures for the literature panel, each with its source.

Only what the study's article (Soomre, Tammaru, Kadastik-Eerme, Eesti Arst 2024) states or
quotes, with the article's own reference numbers; nothing from elsewhere. The article gives
no complication rate per pump-year, so the panel shows none.
"""

from __future__ import annotations

from dataclasses import dataclass

STUDY = "Soomre M. E., Tammaru M., Kadastik-Eerme L. Eesti Arst 2024"


@dataclass(frozen=True)
class Reference:
    number: int  # in the article's reference list
    citation: str


REFERENCES = {
    3: Reference(3, "Saulino M, et al. Best practices for intrathecal baclofen therapy: "
                    "patient selection. Neuromodulation 2016;19:607–15"),
    4: Reference(4, "Boster AL, et al. Best practices for intrathecal baclofen therapy: "
                    "screening test. Neuromodulation 2016;19:616–22"),
    5: Reference(5, "Ryan MV, et al. Complications of intrathecal baclofen therapy in "
                    "children and young adults. J Neurosurg Pediatr 2024;34:659–70"),
    15: Reference(15, "Abraham M, et al. Classifying device-related complications associated "
                      "with intrathecal baclofen pumps: a MAUDE study. World Neurosurg "
                      "2020;139:e652–7"),
    16: Reference(16, "Masrour M, et al. Intrathecal baclofen efficacy for managing motor "
                      "function and spasticity severity in patients with cerebral palsy: a "
                      "systematic review and meta-analysis. BMC Neurology 2024;24:143"),
}

# The study's own figures (published-figures.md F50, F12).
STUDY_PROPORTION = (7, 43)
STUDY_PROPORTION_CI = (5, 27)  # per cent, Wald
STUDY_MEAN_USAGE_YEARS = (4, 2.7)  # mean, SD
# Quoted by the study: complications in 41–78% of patients (refs 5, 15–16).
LITERATURE_RANGE = (41, 78)
LITERATURE_RANGE_REFS = (5, 15, 16)
# Quoted by the study: the pump is replaced every 6–7 years on average (refs 3, 4).
PUMP_LIFE_REFS = (3, 4)


def cite(numbers: tuple[int, ...]) -> str:
    return "; ".join(f"[{n}] {REFERENCES[n].citation}" for n in numbers)
