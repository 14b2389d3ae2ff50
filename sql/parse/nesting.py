"""Deeply nested statements: parsed, compiled and generated on a thread with a large stack.

sqlglot's parser and generator recurse once per level of nesting, some twenty Python
frames for each parenthesis, so Python's default limit of 1,000 frames stops near 40
levels while DuckDB runs 1,000 (its ``max_expression_depth``). A statement whose text
nests more than ``DEEP`` parentheses runs on a fresh thread whose stack holds
``STACK_BYTES``, with the interpreter's recursion limit raised to ``FRAMES`` while it
runs (the limit is per process; the lock keeps one deep statement at a time).
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from itertools import accumulate
from typing import TypeVar

__all__ = ["DEEP", "is_deep", "run_deep"]

DEEP = 24  # parentheses nested deeper than this take the deep path (~500 frames)
STACK_BYTES = 512 << 20  # room for FRAMES frames of the parser (~20 KB each at worst)
FRAMES = 60_000  # enough for DuckDB's 1,000 levels of nesting, with sqlglot's frames

_lock = threading.Lock()
T = TypeVar("T")


def is_deep(sql: str) -> bool:
    """Whether ``sql`` nests parentheses more than ``DEEP`` levels (an upper bound: a
    parenthesis inside a string literal counts too, which only costs a thread)."""
    if sql.count("(") <= DEEP:
        return False
    steps = (1 if c == "(" else -1 if c == ")" else 0 for c in sql)
    return max(accumulate(steps), default=0) > DEEP


def run_deep(work: Callable[[], T]) -> T:
    """``work()`` on a thread with a large stack and a raised recursion limit; returns
    its result or raises its exception."""
    outcome: dict[str, object] = {}

    def target() -> None:
        try:
            outcome["value"] = work()
        except BaseException as exc:  # handed to the caller's thread
            outcome["error"] = exc

    with _lock:
        limit = sys.getrecursionlimit()
        size = threading.stack_size(STACK_BYTES)
        try:
            thread = threading.Thread(target=target, name="arbordb-deep-statement")
            sys.setrecursionlimit(max(limit, FRAMES))
            thread.start()
        finally:
            threading.stack_size(size)
        try:
            thread.join()
        finally:
            sys.setrecursionlimit(limit)
    if "error" in outcome:
        raise outcome["error"]  # type: ignore[misc]
    return outcome["value"]  # type: ignore[return-value]
