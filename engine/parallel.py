"""Splitting a batch between this thread and one helper thread.

Some batch work spends most of its time in C code that releases the GIL
(BLAKE3 hashing, numpy comparisons over joined chunks); on two cores such a
batch halves in time when its two halves run at once. ``in_halves`` does that
with one process-wide helper thread, started on first use.

A forked child has no helper thread, only the parent's executor object, so the
child starts a new one (``os.register_at_fork``).
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


def in_halves(work: Callable[[Sequence[T]], list[R]], items: Sequence[T], least: int) -> list[R]:
    """``work(items)``, computed as ``work`` of each half at once (the second half on
    the helper thread) when there are at least ``least`` items; ``work`` must map
    items to results one for one, in order, and must not call ``in_halves`` itself
    (the one helper would wait on its own queue). Calls from several threads
    share the helper: they queue, they do not block each other for good."""
    if len(items) < least:
        return work(items)
    half = len(items) // 2
    second = _helper().submit(work, items[half:])
    return work(items[:half]) + second.result()


@functools.cache
def _helper() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=1, thread_name_prefix="arbordb-helper")


os.register_at_fork(after_in_child=_helper.cache_clear)
