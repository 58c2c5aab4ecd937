"""Each registry table's rows as integer patient indices, found once per analysis.

Patient ids are text; a join, group-by or sort on them costs seconds per table at 10^6
patients (24 million refill rows). An index here is a patient's position in the sorted ids,
so per-patient arrays are plain numpy arrays indexed by it. ``analyse`` makes one
``PatientIndex`` and every part of the analysis shares it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import polars as pl

from itb.registry_io.loader import Registry

UNKNOWN_PATIENT = -1
_DAY_BITS = 32  # a (patient, day) key: patient index above, day (shifted to >= 0) below
FIRST_DAY = -(1 << (_DAY_BITS - 1))  # the day of a patient's smallest key


def day_key(pid: np.ndarray, day: np.ndarray) -> np.ndarray:
    """One sortable integer per (patient index, day since 1970); days fit in 32 bits either
    side of 1970."""
    return (pid.astype(np.int64) << _DAY_BITS) + (day.astype(np.int64) + (1 << (_DAY_BITS - 1)))


def key_patient(key: np.ndarray) -> np.ndarray:
    """The patient index of ``day_key`` keys."""
    return key >> _DAY_BITS


def key_day(key: np.ndarray) -> np.ndarray:
    """The day of ``day_key`` keys."""
    return (key & ((1 << _DAY_BITS) - 1)) - (1 << (_DAY_BITS - 1))


@dataclass(frozen=True, eq=False)
class PatientIndex:
    registry: Registry
    _runs: dict[str, tuple[np.ndarray, np.ndarray]] = field(
        default_factory=dict, init=False, repr=False)

    @cached_property
    def order(self) -> np.ndarray:
        """The patients table's row positions, in the order of the sorted ids."""
        return self.registry.patients.get_column("patient_id").arg_sort().to_numpy()

    @cached_property
    def ids(self) -> pl.Series:
        """The patient ids, sorted: index i is ``ids[i]``."""
        return self.registry.patients.get_column("patient_id").gather(self.order)

    @cached_property
    def rank(self) -> np.ndarray:
        """Each patients row's index (the inverse of ``order``)."""
        rank = np.empty(self.order.size, dtype=np.int64)
        rank[self.order] = np.arange(self.order.size)
        return rank

    def runs(self, table: str) -> tuple[np.ndarray, np.ndarray]:
        """The runs of equal ids in ``table``'s ``patient_id``: each run's index
        (``UNKNOWN_PATIENT`` for an id not in the patients table) and its length.

        A registry lists a patient's rows together, so each run is looked up once, by binary
        search: several times faster than searching or hashing every row's text.
        """
        if table not in self._runs:
            column = getattr(self.registry, table).get_column("patient_id")
            runs = column.rle().struct.unnest()
            lengths = runs.get_column("len").to_numpy().astype(np.int64)
            values = runs.get_column("value")
            ids = self.ids
            if ids.is_empty():
                index = np.full(values.len(), UNKNOWN_PATIENT, dtype=np.int64)
            else:
                at = ids.search_sorted(values).clip(upper_bound=ids.len() - 1)
                found = (ids.gather(at) == values).fill_null(False).to_numpy()
                index = np.where(found, at.to_numpy().astype(np.int64), UNKNOWN_PATIENT)
            self._runs[table] = index, lengths
        return self._runs[table]

    def rows(self, table: str) -> np.ndarray:
        """Each row's patient index in ``table`` (``UNKNOWN_PATIENT`` for an unknown id)."""
        index, lengths = self.runs(table)
        return np.repeat(index, lengths)
