"""Each registry table's rows as integer patient indices, found once per analysis.

Patient ids are text; a join, group-by or sort on them costs seconds per table at 10^6
patients (24 million refill rows). An index here is a patient's position in the sorted ids,
so per-patient arrays are plain numpy arrays indexed by it. ``analyse`` makes one
``PatientIndex`` and every part of the analysis shares it; a registry that
``load_registry`` validated brings each table's runs of patients along
(``itb.registry_io.patient_runs``), so they are not found twice.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import polars as pl

from itb.registry_io.loader import Registry
from itb.registry_io.patient_runs import Runs, find_runs

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
    _runs: dict[str, Runs] = field(
        default_factory=dict, init=False, repr=False)

    @cached_property
    def order(self) -> np.ndarray:
        """The patients table's row positions, in the order of the sorted ids."""
        patients = self.registry.patients
        known = self.registry.known_runs
        order = known.order_of(patients) if known is not None else None
        if order is not None:
            return order
        return patients.get_column("patient_id").arg_sort().to_numpy()

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

    def runs(self, table: str) -> Runs:
        """The runs of equal ids in ``table``'s ``patient_id``: each run's index
        (``UNKNOWN_PATIENT`` for an id not in the patients table) and its length; those
        validation found, when the registry still has the table it found them in."""
        if table not in self._runs:
            frame = getattr(self.registry, table)
            known = self.registry.known_runs
            runs = known.runs_of(table, frame) if known is not None else None
            self._runs[table] = runs if runs is not None else find_runs(
                self.ids, frame.get_column("patient_id"))
        return self._runs[table]

    def rows(self, table: str) -> np.ndarray:
        """Each row's patient index in ``table`` (``UNKNOWN_PATIENT`` for an unknown id)."""
        index, lengths = self.runs(table)
        return np.repeat(index, lengths)
