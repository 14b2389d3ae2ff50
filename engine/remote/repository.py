"""``RemoteRepository``: a remote's manifest and packs, read through a ``Transport``.

It answers which chunks the remote holds (the union of the indexes of the packs
its manifest names; a leftover pack of an interrupted push is not named, so it
counts for nothing) and fetches their pack entries: a whole pack when it is small
(``WHOLE_PACK``) or when much of it is wanted, otherwise one ranged read per
entry. Whole packs are kept for the life of the object, so a walk that comes
back to a pack reads nothing again.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from ..errors import MissingChunk, RemoteError
from ..hash import format_address
from .manifest import Manifest
from .pack import FOOTER, INDEX_ROW, index_rows, parse_footer, parse_index, read_pack
from .transport import Transport

WHOLE_PACK = 8 << 20  # packs up to this size are read whole when any entry is wanted
SMALL_PACK = 256 << 10  # packs up to this size are read whole even to learn their index
THREADS = 8  # parallel requests to the remote


class RemoteRepository:
    manifest: Manifest  # set by reload(), which __init__ calls

    def __init__(self, transport: Transport, *, whole_packs: bool = False) -> None:
        self.transport = transport
        self.whole_packs = whole_packs  # a clone wants nearly everything: read packs whole
        self.url = transport.url
        self.token: str | None = None
        self._where: dict[bytes, tuple[str, int, int]] = {}  # address -> pack, offset, length
        self._indexed: set[str] = set()
        self._packs: dict[str, bytes] = {}  # whole packs read so far
        self.reload()

    def reload(self) -> Manifest:
        """Read the manifest again (an empty one if the remote holds none yet)."""
        data, self.token = self.transport.read_manifest()
        self.manifest = Manifest() if data is None else Manifest.decode(data, self.url)
        return self.manifest

    @property
    def exists(self) -> bool:
        return self.token is not None

    def _index(self) -> dict[bytes, tuple[str, int, int]]:
        todo = [n for n in self.manifest.packs if n not in self._indexed]
        if todo:
            for name, rows in zip(todo, self._map(self._read_index, todo), strict=True):
                for address, offset, length in index_rows(rows):
                    self._where.setdefault(address, (name, offset, length))
                self._indexed.add(name)
        return self._where

    def _read_index(self, name: str) -> np.ndarray:
        size = self.manifest.packs[name]
        if size <= SMALL_PACK or self.whole_packs:
            data = self._packs[name] = self.transport.read_pack(name)
            return read_pack(name, data)
        offset, count = parse_footer(
            name, self.transport.read_range(name, size - FOOTER.size, FOOTER.size), size
        )
        raw = self.transport.read_range(name, offset, count * INDEX_ROW.itemsize)
        return parse_index(name, raw, offset)

    def has_many(self, addresses: Sequence[bytes]) -> list[bool]:
        where = self._index()
        return [a in where for a in addresses]

    def entries(self, addresses: Sequence[bytes]) -> dict[bytes, bytes]:
        """The pack entry of each address (its kind byte onwards).

        Raises:
            RemoteError: the remote's manifest names a chunk none of its packs holds.
        """
        where = self._index()
        by_pack: dict[str, list[bytes]] = {}
        for address in addresses:
            found = where.get(address)
            if found is None:
                raise RemoteError(
                    f"the remote at {self.url} lacks chunk {format_address(address)} that its "
                    "refs reach (the remote is damaged: push again from a complete copy)"
                ) from MissingChunk(address)
            by_pack.setdefault(found[0], []).append(address)
        out: dict[bytes, bytes] = {}
        ranged: list[tuple[str, bytes]] = []
        whole = [
            n
            for n, wanted in by_pack.items()
            if n not in self._packs and self._read_whole(n, wanted)
        ]
        for name, data in zip(whole, self._map(self.transport.read_pack, whole), strict=True):
            read_pack(name, data)  # checks the framing before any entry is trusted
            self._packs[name] = data
        for name, wanted in by_pack.items():
            data = self._packs.get(name)
            for address in wanted:
                _, offset, length = where[address]
                if data is not None:
                    out[address] = data[offset : offset + length]
                else:
                    ranged.append((name, address))
        reads = self._map(
            lambda item: self.transport.read_range(item[0], *where[item[1]][1:]), ranged
        )
        for (_, address), entry in zip(ranged, reads, strict=True):
            out[address] = entry
        return out

    def _read_whole(self, name: str, wanted: list[bytes]) -> bool:
        size = self.manifest.packs[name]
        return (
            size <= WHOLE_PACK
            or self.whole_packs
            or sum(self._where[a][2] for a in wanted) * 4 >= size
        )

    def _map(self, fn, items: list) -> list:
        if len(items) <= 1:
            return [fn(item) for item in items]
        with ThreadPoolExecutor(min(THREADS, len(items))) as pool:
            return list(pool.map(fn, items))
