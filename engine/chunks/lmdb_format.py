"""The chunk store's format version, and the upgrades a writable handle makes.

``FORMAT_VERSION`` (ASCII decimal in meta ``store/format_version``) is 6; a change to
the record format, the sub-databases or ``hash.ADDRESS_LEN`` bumps it, and a store of
another version refuses to open (``FormatVersionError``). Versions 1 (raw records
only), 2 (no journal), 3 (no compressed records, ``records.py`` kind 1), 4 (no
leaves stored buffer by buffer, kind 3) and 5 (no packs, ``packs.py``: every record
of ``chunks`` one value) are still opened; a writable handle marks them 6 (and
creates the ``packs`` sub-database) without rewriting a record. Their records stay
as written (a raw or whole-compressed leaf is read whole, then sliced, by a scan;
an unpacked record is read from ``chunks``, beside the locators of packed ones);
chunks written from then on are compressed where that pays, and packed when they
come in a large write or a journal compaction.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import lmdb

from ..errors import FormatVersionError, StorageError

if TYPE_CHECKING:
    from .lmdb_store import LmdbChunkStore

__all__ = ["FORMAT_VERSION", "META_FORMAT_VERSION", "UPGRADABLE_VERSIONS", "check_format_version"]

FORMAT_VERSION = 6
META_FORMAT_VERSION = b"store/format_version"
# 1: raw records only; 2: no journal; 3: no compressed records; 4: no column records;
# 5: no packs. All are opened, and marked 6 by a writable handle.
UPGRADABLE_VERSIONS = (b"1", b"2", b"3", b"4", b"5")


def check_format_version(store: LmdbChunkStore) -> None:
    """Refuse a store of another format version; mark an upgradable one (1-5)
    current when ``store`` is writable.

    Raises:
        FormatVersionError: the store was written by another format version.
        StorageError: the stored version is no number (damage).
    """
    current = str(FORMAT_VERSION).encode()

    def write(txn: lmdb.Transaction) -> tuple[bool, None]:
        found = txn.get(META_FORMAT_VERSION, db=store._meta)
        if found is None or found in UPGRADABLE_VERSIONS:
            # versions 1-5 are readable here; from now on the store may hold deltas,
            # journal batches, compressed and column records and packs, which older
            # code must refuse
            txn.put(META_FORMAT_VERSION, current, db=store._meta)
        return True, None

    found = store._read(lambda txn: txn.get(META_FORMAT_VERSION, db=store._meta), False)
    if not store.readonly and (found is None or found in UPGRADABLE_VERSIONS):
        store._write(write)  # only then: opening a current store begins no write transaction
        found = store._read(lambda txn: txn.get(META_FORMAT_VERSION, db=store._meta), False)
    if found != current and not (store.readonly and found in UPGRADABLE_VERSIONS):
        if not found or not bytes(found).isdigit():  # no version a writer ever stored
            raise StorageError(
                f"the chunk store {store.path} is damaged: its format version reads "
                f"{bytes(found or b'')!r}, not a number; restore the repository from a copy"
            )
        raise FormatVersionError(f"chunk store {store.path}", int(found), FORMAT_VERSION)
