"""The resize gate of an LMDB environment: calls share it, a remap or an abort runs alone
(``lmdb_store.py`` invariants (3) and (5))."""

from __future__ import annotations

import threading
from collections.abc import Callable

__all__ = ["ResizeGate"]


class ResizeGate:
    """Any number of calls may use the environment at once, or one action alone.

    The actions are remapping (invariant (3)) and aborting a write transaction
    (invariant (5)). A waiting action holds back new calls, so a stream of readers
    cannot starve it.
    """

    __slots__ = ("_lock", "_changed", "_users", "_closed_to_new")

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._users = 0
        self._closed_to_new = False

    def enter(self) -> None:
        with self._lock:
            while self._closed_to_new:
                self._changed.wait()
            self._users += 1

    def leave(self) -> None:
        with self._lock:
            self._users -= 1
            if self._closed_to_new and not self._users:
                self._changed.notify_all()

    def alone(self, action: Callable[[], object]) -> None:
        """Run ``action`` once no call is inside; the caller must not be inside."""
        with self._lock:
            while self._closed_to_new:
                self._changed.wait()
            self._closed_to_new = True
            try:
                while self._users:
                    self._changed.wait()
                action()
            finally:
                self._closed_to_new = False
                self._changed.notify_all()
