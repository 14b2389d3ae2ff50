"""``SpillBehind``: a streamed load stores one batch's chunks while it builds the next.

A streamed load (``Table.create_from_batches``) spills the chunks of each batch to
the store as it goes (``BufferedChunkStore.spill``). Storing them is zstd and LMDB
work that releases the GIL, so it runs on a helper thread of its own while the
writer encodes keys, cuts and encodes the next batch's leaves: at most one batch's
chunks are in flight, and the next spill waits for them first.

Use it as the load's ``after_batch`` and call ``wait`` before anything reads the
chunks or commits (``Table.create_from_batches``' ``settle``); as a context manager
it waits on exit and stops its thread, so an error in the store is raised there.
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from types import TracebackType

from .buffered import BufferedChunkStore

__all__ = ["SpillBehind"]


class SpillBehind:
    """Spills of ``buffer`` run one at a time on a helper thread (module docstring)."""

    def __init__(self, buffer: BufferedChunkStore) -> None:
        self.buffer = buffer
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="arbordb-spill")
        self._in_flight: Future[None] | None = None

    def __call__(self) -> None:
        """Spill the chunks pending now, behind the writer (after the last spill ends)."""
        self.wait()
        self._in_flight = self._pool.submit(self.buffer.detach_spill())

    def wait(self) -> None:
        """Return once every spill started has been stored (raising its error, if any)."""
        in_flight, self._in_flight = self._in_flight, None
        if in_flight is not None:
            in_flight.result()

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
