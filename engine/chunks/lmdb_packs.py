"""The LMDB store's side of packs: writing records packed, and the part of garbage
collection that deletes or rewrites packs (``packs.py`` has the format and why;
``lmdb_store.py`` the sub-databases). All of it runs inside a write transaction of
``LmdbChunkStore``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import lmdb

from .journal import parse_batch
from .packs import (
    REWRITE_LIVE,
    decode_locator,
    encode_locator,
    encode_pack,
    is_locator,
    pack_key,
    split_packs,
)

__all__ = ["PackWrites"]


class PackWrites:
    """Packs' in-transaction operations, mixed into ``LmdbChunkStore``."""

    _chunks: Any
    _packs: Any

    def _pack_in(
        self, txn: lmdb.Transaction, records: Mapping[bytes, bytes], overwrite: bool = False
    ) -> None:
        """Store ``records`` (address -> record) in ``txn`` as new packs, in write order,
        and a locator for each in ``chunks`` (packs invariant (1): the pack first).
        ``overwrite``: replace what ``chunks`` holds for an address (a record that
        moves); otherwise no address may be stored yet (journal invariant (1))."""
        if not records:
            return
        cursor = txn.cursor(db=self._packs)
        number = int.from_bytes(cursor.key(), "big") + 1 if cursor.last() else 1
        locators: list[tuple[bytes, bytes]] = []
        for group in split_packs(records):
            pack, spans = encode_pack(group)
            txn.put(pack_key(number), pack, db=self._packs, append=True)
            locators += [
                (address, encode_locator(number, start, end))
                for address, (start, end) in zip(group, spans, strict=True)
            ]
            number += 1
        txn.cursor(db=self._chunks).putmulti(locators, overwrite=overwrite)

    def _sweep_packs(
        self, txn: lmdb.Transaction, touched: set[int], leaving: set[bytes]
    ) -> tuple[list[int], dict[bytes, bytes]]:
        """Which of the packs ``touched`` to delete, and the live records to move out of
        them first (copies), once the records of ``leaving`` (deleted, or rewritten
        elsewhere) are gone: a pack is deleted when its live records hold under
        ``REWRITE_LIVE`` of its record bytes, none of them or a few (packs invariant
        (2)). Reads only; the caller writes."""
        drop: list[int] = []
        moving: dict[bytes, bytes] = {}
        for number in sorted(touched):
            pack = txn.get(pack_key(number), db=self._packs)
            if pack is None:
                continue
            addresses, offsets = parse_batch(pack)
            live = []
            for address, start, end in zip(addresses, offsets[:-1], offsets[1:], strict=True):
                if address in leaving:
                    continue
                value = txn.get(address, db=self._chunks)
                if (
                    value is not None
                    and is_locator(value)
                    and decode_locator(value) == (number, start, end)
                ):
                    live.append((address, start, end))
            live_bytes = sum(end - start for _, start, end in live)
            if live and live_bytes >= REWRITE_LIVE * (offsets[-1] - offsets[0]):
                continue
            moving.update((address, bytes(pack[start:end])) for address, start, end in live)
            drop.append(number)
        return drop, moving
