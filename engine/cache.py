"""``LruCache``: the one bounded, thread-safe, least-recently-used map of the project.

Every cache of decoded or derived data (chunk bytes, decoded leaves and columns,
commits, table headers, parsed statements, row diffs, whole tables) is one of
these, each with its own budget. A budget is a number of *units*: ``weigh(value)``
gives a value's units, so a cache is bounded in bytes (``weigh=len`` or an Arrow
size) or in entries (the default, one unit per value).

Rules:
  (1) ``units`` never exceeds ``budget`` after a call returns: ``put`` evicts the
      least recently used entries first. A value heavier than ``max_unit`` (default:
      the whole budget) is not kept, so one huge value never flushes the rest.
  (2) ``get`` marks an entry most recently used; ``peek`` does not.
  (3) Every method holds one lock for its whole body, so threads may share a cache;
      callers compute a missing value outside the lock (``get`` then ``put``), and two
      threads that miss together both compute it, the second ``put`` keeping the
      first value (keys name immutable content: either value is right).
  (4) Keys are hashable and name what they cache by content (an address, a text),
      so an entry never goes stale; ``discard`` drops entries whose source is gone.

The lock is a plain ``threading.Lock`` (not re-entrant): ``weigh`` must not call
back into the cache.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable, Sequence
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

__all__ = ["LruCache"]


def _one(_: object) -> int:
    return 1


class LruCache(Generic[K, V]):
    """A map of at most ``budget`` units, least recently used evicted (see the module
    docstring). ``hits``, ``misses`` and ``peak`` (most units ever held) are counters
    for tests and benchmarks."""

    __slots__ = (
        "budget",
        "max_unit",
        "units",
        "peak",
        "hits",
        "misses",
        "_weigh",
        "_items",
        "_lock",
    )

    def __init__(
        self,
        budget: int,
        *,
        weigh: Callable[[V], int] = _one,
        max_unit: int | None = None,
    ) -> None:
        self.budget = budget
        self.max_unit = budget if max_unit is None else max_unit
        self.units = 0
        self.peak = 0
        self.hits = 0
        self.misses = 0
        self._weigh = weigh
        self._items: OrderedDict[K, tuple[V, int]] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._items)

    def __bool__(self) -> bool:
        return True  # a cache is there even when empty (``if cache:`` means "given")

    def __contains__(self, key: object) -> bool:
        return key in self._items

    def get(self, key: K) -> V | None:
        """The value under ``key`` (marked most recently used), or None."""
        with self._lock:
            found = self._items.get(key)
            if found is None:
                self.misses += 1
                return None
            self._items.move_to_end(key)
            self.hits += 1
            return found[0]

    def get_many(self, keys: Sequence[K]) -> list[V | None]:
        """``get`` of each key under one lock."""
        with self._lock:
            items = self._items
            touch = items.move_to_end
            out: list[V | None] = []
            for key in keys:
                found = items.get(key)
                if found is None:
                    out.append(None)
                else:
                    touch(key)
                    out.append(found[0])
            hits = sum(v is not None for v in out)
            self.hits += hits
            self.misses += len(out) - hits
            return out

    def peek(self, key: K) -> V | None:
        """``get`` without marking the entry used (rule (2)) or counting."""
        found = self._items.get(key)
        return None if found is None else found[0]

    def get_or_make(self, key: K, make: Callable[[K], V]) -> V:
        """The value under ``key``, else ``make(key)`` kept and returned (made outside
        the lock, rule (3); an exception from ``make`` is raised and nothing is kept)."""
        found = self.get(key)
        if found is None:
            found = make(key)
            self.put(key, found)
        return found

    def put(self, key: K, value: V) -> None:
        """Keep ``value`` under ``key`` unless it is already there or too heavy."""
        self.put_many([(key, value)])

    def put_many(self, pairs: Iterable[tuple[K, V]]) -> None:
        """``put`` of many (key, value) pairs under one lock."""
        weighed = [(k, v, self._weigh(v)) for k, v in pairs]
        with self._lock:
            items = self._items
            for key, value, units in weighed:
                if units > self.max_unit or key in items:
                    continue
                items[key] = (value, units)
                self.units += units
            while self.units > self.budget and items:
                _, (_, units) = items.popitem(last=False)
                self.units -= units
            self.peak = max(self.peak, self.units)

    def resize(self, budget: int) -> None:
        """Set the budget, evicting the least recently used entries until the cache is
        within it (rule (1)); a ``max_unit`` that was the whole budget stays so."""
        with self._lock:
            follows = self.max_unit == self.budget
            self.budget = budget
            self.max_unit = budget if follows else min(self.max_unit, budget)
            items = self._items
            while self.units > budget and items:
                _, (_, units) = items.popitem(last=False)
                self.units -= units

    def discard(self, keys: Iterable[K]) -> None:
        """Drop the entries of ``keys`` (absent ones are ignored)."""
        with self._lock:
            for key in keys:
                found = self._items.pop(key, None)
                if found is not None:
                    self.units -= found[1]

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self.units = 0
