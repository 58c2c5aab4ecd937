"""Values computed from the registry's data, kept per process under a key that names the
data version (``selectors.latest_change``): such a value never goes stale, it only stops
being asked for. Bounded: the least recently used go first."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable
from typing import Generic, TypeVar

V = TypeVar("V")


class Kept(Generic[V]):
    """A bounded, thread-safe map (a worker's request threads and its report thread)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._values: OrderedDict[Hashable, V] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> V | None:
        with self._lock:
            value = self._values.get(key)
            if value is not None:
                self._values.move_to_end(key)
            return value

    def keep(self, key: Hashable, value: V) -> V:
        """Keep ``value`` under ``key`` unless a value is kept there already; the kept one."""
        with self._lock:
            kept = self._values.setdefault(key, value)
            while len(self._values) > self.size:
                self._values.popitem(last=False)
            return kept

    def clear(self) -> None:
        with self._lock:
            self._values.clear()
