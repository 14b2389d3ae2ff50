"""A tiny DSL for commit graphs built by hand, on a MemoryChunkStore."""

from __future__ import annotations

import pytest

from arbordb.engine.chunks.memory import MemoryChunkStore
from arbordb.engine.hash import address_of
from arbordb.engine.history import CommitLoader, encode_commit, make_commit


class History:
    """Named commits: ``h.commit("c", "a", "b")`` makes c with parents a then b."""

    def __init__(self) -> None:
        self.store = MemoryChunkStore()
        self.loader = CommitLoader(self.store)
        self.addr: dict[str, bytes] = {}
        self.name: dict[bytes, str] = {}
        self._clock = 1_000_000

    def commit(self, name: str, *parents: str, ts: int | None = None) -> bytes:
        if ts is None:
            self._clock += 1_000_000
            ts = self._clock
        c = make_commit(
            self.store,
            root=address_of(b"root " + name.encode()),
            parents=[self.addr[p] for p in parents],
            author="Tess",
            email="tess@example.com",
            message=name,
            timestamp=ts,
        )
        address = self.store.put(encode_commit(c))
        self.addr[name], self.name[address] = address, name
        return address

    def chain(self, *names: str, parent: str | None = None) -> None:
        for n in names:
            self.commit(n, *([parent] if parent else []))
            parent = n

    def names(self, addresses) -> list[str]:
        return [self.name[a] for a in addresses]


@pytest.fixture
def h() -> History:
    return History()
