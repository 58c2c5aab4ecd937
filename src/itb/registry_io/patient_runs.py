"""A table's rows matched to their patients, a run of one patient's rows at a time.

Patient ids are text; hashing, joining or searching the text of every row costs seconds per
table at 10^6 patients (24 million refill rows). A registry lists a patient's rows together,
so each run of one id is looked up once, by binary search in the sorted patient ids: a
patient's *index* is its position there. Validation finds every table's runs; the analysis
takes them over with the validated registry (``KnownRuns``) instead of finding them again.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

UNKNOWN_PATIENT = -1

# Per run: the patient index (UNKNOWN_PATIENT for an id that is no patient's, or no id), and
# the run's length.
Runs = tuple[np.ndarray, np.ndarray]


def find_runs(sorted_ids: pl.Series, column: pl.Series) -> Runs:
    """The runs of equal ids in ``column``, each matched in ``sorted_ids`` (no nulls)."""
    runs = column.rle().struct.unnest()
    lengths = runs.get_column("len").to_numpy().astype(np.int64)
    values = runs.get_column("value")
    if sorted_ids.is_empty():
        return np.full(values.len(), UNKNOWN_PATIENT, dtype=np.int64), lengths
    at = sorted_ids.search_sorted(values).clip(upper_bound=sorted_ids.len() - 1)
    found = (sorted_ids.gather(at) == values).fill_null(False).to_numpy()
    return np.where(found, at.to_numpy().astype(np.int64), UNKNOWN_PATIENT), lengths


@dataclass(frozen=True, eq=False)
class KnownRuns:
    """The runs validation found, kept with the registry's tables they belong to: they are
    handed out only for those very frames, so a registry whose tables were replaced since
    (``dataclasses.replace``) has them found anew."""

    frames: dict[str, pl.DataFrame]  # by table name; "patients" for ``order``
    order: np.ndarray  # the patients table's rows in the order of their sorted ids
    runs: dict[str, Runs]

    def order_of(self, patients: pl.DataFrame) -> np.ndarray | None:
        return self.order if self.frames.get("patients") is patients else None

    def runs_of(self, table: str, frame: pl.DataFrame) -> Runs | None:
        return self.runs.get(table) if self.frames.get(table) is frame else None
