"""``FaultyChunkStore``: a ``ChunkStore`` wrapper that fails on purpose.

Two faults, alone or together:

- ``fail_at=N``: the Nth write call (``put``, ``put_many``, ``commit``,
  ``delete_many``, ``set_meta``; counted from 1 in ``write_calls``) raises
  ``OSError(EIO)`` before it reaches the inner store, so nothing of that call
  becomes visible; the calls before and after it work. Set ``fail_at`` again to
  arm another fault.
- ``drop_unflushed=True``: ``put``/``put_many`` are held in this wrapper (visible
  to its reads, as an OS page cache would make them) until a ``commit`` writes them
  through in one transaction; ``crash()`` drops what no commit wrote, as a power
  loss would. The holding is done by a ``BufferedChunkStore``.

Delta hints (the ``bases`` of ``put_many`` and ``commit``) are passed on untouched.

A test injects a fault, then reopens or re-reads the inner store and checks that
every ref shows either the old state or the new one, never a mix.
"""

from __future__ import annotations

import errno
from collections.abc import Callable, Iterator, Mapping, Sequence

from arbordb.engine.chunks.buffered import BufferedChunkStore
from arbordb.engine.chunks.store import ChunkStore, RefUpdate


class FaultyChunkStore:
    """Wrap ``inner`` with the faults described in the module docstring."""

    def __init__(
        self, inner: ChunkStore, fail_at: int | None = None, drop_unflushed: bool = False
    ) -> None:
        self.inner = inner
        self.fail_at = fail_at
        self.drop_unflushed = drop_unflushed
        self.write_calls = 0
        self._target: ChunkStore = BufferedChunkStore(inner) if drop_unflushed else inner

    def crash(self) -> None:
        """Lose every held write that no ``commit`` wrote through (no-op without
        ``drop_unflushed``: then every write already reached ``inner``)."""
        if isinstance(self._target, BufferedChunkStore):
            self._target.discard()

    def _count_write(self, call: str) -> None:
        self.write_calls += 1
        if self.write_calls == self.fail_at:
            raise OSError(errno.EIO, f"injected fault at write call {self.write_calls} ({call})")

    # --- writes -------------------------------------------------------------------

    def put(self, data: bytes) -> bytes:
        self._count_write("put")
        return self._target.put(data)

    def put_many(
        self,
        chunks: Sequence[bytes],
        bases: Sequence[bytes | None] | None = None,
        base_chunks: Mapping[bytes, bytes] | None = None,
        deltas: Sequence[bytes | None] | None = None,
        *,
        bulk: bool = False,
        addresses: Sequence[bytes] | None = None,
    ) -> list[bytes]:
        self._count_write("put_many")
        return self._target.put_many(
            chunks, bases, base_chunks, deltas, bulk=bulk, addresses=addresses
        )

    def commit(
        self,
        chunks: Mapping[bytes, bytes],
        ref_updates: Sequence[RefUpdate] = (),
        bases: Mapping[bytes, bytes] | None = None,
        base_chunks: Mapping[bytes, bytes] | None = None,
        deltas: Mapping[bytes, bytes] | None = None,
        gc_epoch: int | None = None,
    ) -> bool:
        self._count_write("commit")
        return self._target.commit(chunks, ref_updates, bases, base_chunks, deltas, gc_epoch)

    def gc_epoch(self) -> int:
        return self._target.gc_epoch()

    def collect_garbage(self, mark: Callable[..., set[bytes]]) -> dict[str, int]:
        self._count_write("collect_garbage")
        return self._target.collect_garbage(mark)

    def delete_many(self, addresses: Sequence[bytes]) -> int:
        self._count_write("delete_many")
        return self._target.delete_many(addresses)

    def set_meta(self, key: str, value: bytes) -> None:
        self._count_write("set_meta")
        self._target.set_meta(key, value)

    # --- reads --------------------------------------------------------------------

    def get(self, address: bytes) -> bytes:
        return self._target.get(address)

    def get_many(self, addresses: Sequence[bytes]) -> list[bytes]:
        return self._target.get_many(addresses)

    def has(self, address: bytes) -> bool:
        return self._target.has(address)

    def has_many(self, addresses: Sequence[bytes]) -> list[bool]:
        return self._target.has_many(addresses)

    def get_ref(self, name: str) -> bytes | None:
        return self._target.get_ref(name)

    def get_refs(self, names: Sequence[str]) -> list[bytes | None]:
        return self._target.get_refs(names)

    def list_refs(self, prefix: str = "") -> dict[str, bytes]:
        return self._target.list_refs(prefix)

    def get_meta(self, key: str) -> bytes | None:
        return self._target.get_meta(key)

    def resolve_prefix(self, text_prefix: str) -> bytes:
        return self._target.resolve_prefix(text_prefix)

    def iter_addresses(self) -> Iterator[bytes]:
        return self._target.iter_addresses()

    def verify(self, address: bytes) -> None:
        self._target.verify(address)

    def stats(self) -> dict[str, int]:
        return self._target.stats()

    def close(self) -> None:
        self._target.close()
