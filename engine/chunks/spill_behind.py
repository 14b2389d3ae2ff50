"""``SpillBehind``: a streamed load stores its chunks while it builds the next batches.

A streamed load (``Table.create_from_batches``) spills the chunks of each batch to
the store as it goes (``BufferedChunkStore.spill``). Storing them is zstd and LMDB
work that mostly releases the GIL, so it runs on helper threads of their own while
the writer encodes keys, cuts and encodes the next batch's leaves.

Up to ``DEPTH`` spills are in flight at once (the next waits for the oldest): a
store compresses a spill's records before it takes the store's write lock and
writes them in one transaction (``LmdbChunkStore.put_many``), so with two in flight
one spill's zstd runs while the other's transaction writes and syncs. Memory holds
at most ``DEPTH`` spills' chunks besides the batch being built. Measured at 4M bench
rows on a quiet machine (December 2026), depths 1, 2 and 3 load in the same time
within noise (1.2-1.4 s; +6 MiB peak for a second spill): the load is bound by the
GIL-held part of its work (docs/architecture.md, Loads), not by the spill's syncs.

Use it as the load's ``after_batch`` and call ``wait`` before anything reads the
chunks or commits (``Table.create_from_batches``' ``settle``); as a context manager
it waits on exit and stops its threads, so an error in the store is raised there.
"""

from __future__ import annotations

from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from types import TracebackType

from .buffered import BufferedChunkStore

__all__ = ["DEPTH", "SpillBehind"]

DEPTH = 2  # spills in flight at once


class SpillBehind:
    """Spills of ``buffer`` run on helper threads, at most ``depth`` at once
    (module docstring)."""

    def __init__(self, buffer: BufferedChunkStore, depth: int = DEPTH) -> None:
        self.buffer = buffer
        self.depth = depth
        self._pool = ThreadPoolExecutor(max_workers=depth, thread_name_prefix="arbordb-spill")
        self._in_flight: deque[Future[None]] = deque()

    def __call__(self) -> None:
        """Spill the chunks pending now, behind the writer (once fewer than ``depth``
        spills are in flight)."""
        while len(self._in_flight) >= self.depth:
            self._in_flight.popleft().result()
        self._in_flight.append(self._pool.submit(self.buffer.detach_spill()))

    def wait(self) -> None:
        """Return once every spill started has been stored; raise the first error of
        any of them (after all have ended)."""
        error: BaseException | None = None
        while self._in_flight:
            failed = self._in_flight.popleft().exception()
            error = error or failed
        if error is not None:
            raise error

    def __enter__(self) -> SpillBehind:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        try:
            self.wait()
        finally:
            self._pool.shutdown(wait=True)
