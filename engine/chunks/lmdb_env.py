"""The LMDB environment of a chunk store: opened once per path and process, shared by
its handles, checked before it is mapped, rewritten compacted after a collection.

    check_data_file      refuse a truncated ``data.mdb`` before LMDB maps it (SIGBUS)
    open_env             LMDB's settings (``lmdb_store.py`` says why each)
    hold_environment     the read lock on ``holders.lock`` every opener holds
    SharedEnvironment    the one environment of a path in this process: its resize
                         gate, write lock, journal index and caches; ``shrink``
"""

from __future__ import annotations

import fcntl
import os
import shutil
import struct
import threading
from pathlib import Path
from typing import Any

import lmdb

from ..errors import StorageError
from .journal import JournalIndex
from .lmdb_gate import ResizeGate
from .records import RebuiltCache

__all__ = ["SharedEnvironment", "check_data_file", "fsync_path", "hold_environment", "open_env"]

# the five sub-databases (``lmdb_store.py``'s layout)
_DB_CHUNKS, _DB_JOURNAL, _DB_REFS, _DB_META = b"chunks", b"journal", b"refs", b"meta"
_DB_PACKS = b"packs"

# LMDB's meta pages (pages 0 and 1 of data.mdb; 64-bit builds, LMDB 0.9), the
# fields read here, offsets from the page's start (little-endian on this machine):
#   16  u32  mm_magic, 0xBEEFC0DE
#   40  u32  page size (the free-list database's md_pad)
#   136 u64  mm_last_pg: the last page in use
#   144 u64  mm_txnid: the meta page with the higher one is current
_LMDB_MAGIC = 0xBEEFC0DE
_LMDB_META = struct.Struct("<16xI20xI92xQQ")  # magic, page size, last page, txnid
_PAGE_SIZES = (512, 1024, 2048, 4096, 8192, 16384, 32768, 65536)


def check_data_file(data: Path) -> None:
    """Refuse a ``data.mdb`` shorter than its meta page says, before LMDB maps it:
    reading a page past the end of a mapped file kills the process (SIGBUS).

    Raises:
        StorageError: the file is damaged (truncated, or its meta pages unreadable).
    """
    try:
        with open(data, "rb") as file:
            head = file.read(_LMDB_META.size)
            if len(head) < _LMDB_META.size:
                size = os.fstat(file.fileno()).st_size
                if size == 0:
                    return  # a new environment: LMDB writes it
                raise StorageError(
                    f"the data file {data} is damaged: {size} bytes, too short for its "
                    "header (it was truncated; restore the repository from a copy)"
                )
            magic, page, _, _ = _LMDB_META.unpack(head)
            if magic != _LMDB_MAGIC or page not in _PAGE_SIZES:
                raise StorageError(
                    f"the data file {data} is damaged or not an ArborDB store (its first "
                    "page is not an LMDB meta page); restore the repository from a copy"
                )
            file.seek(page)
            metas = [head, file.read(_LMDB_META.size)]
            size = os.fstat(file.fileno()).st_size
    except FileNotFoundError:
        return  # a new environment
    except OSError as exc:
        raise StorageError(f"cannot read the data file {data}: {exc}") from exc
    valid = [
        _LMDB_META.unpack(meta)
        for meta in metas
        if len(meta) == _LMDB_META.size and _LMDB_META.unpack(meta)[0] == _LMDB_MAGIC
    ]
    _, _, last_page, _ = max(valid, key=lambda meta: meta[3])
    if (last_page + 1) * page > size:
        raise StorageError(
            f"the data file {data} is damaged: {size:,} bytes, but its header says it "
            f"holds {(last_page + 1) * page:,} (it was truncated; restore the repository "
            "from a copy)"
        )


def open_env(path: Path, map_size: int, writable: bool, create: bool) -> lmdb.Environment:
    try:
        return lmdb.open(
            str(path),
            map_size=map_size,
            readonly=not writable,
            create=create,
            sync=True,
            metasync=True,
            writemap=False,
            max_dbs=5,
            max_spare_txns=4,
        )
    except lmdb.Error as exc:
        raise StorageError(f"cannot open the chunk store at {path}: {exc}") from exc


def hold_environment(path: Path, writable: bool) -> int | None:
    """Read-lock ``holders.lock`` (created if missing) for as long as this process has
    the environment open (``SharedEnvironment.shrink``); waits while a shrink runs.
    None when the file cannot be made (a read-only directory)."""
    try:
        fd = os.open(
            path / "holders.lock", os.O_RDWR | os.O_CREAT if writable else os.O_RDONLY, 0o644
        )
    except OSError:
        return None
    try:
        fcntl.lockf(fd, fcntl.LOCK_SH)
    except OSError:
        os.close(fd)
        return None
    return fd


def fsync_path(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class SharedEnvironment:
    """The one LMDB environment of a path in this process, shared by its handles.

    LMDB forbids opening an environment twice in one process, so every
    ``LmdbChunkStore`` of a path attaches to one of these (keyed by the process id
    too: a forked child opens its own), shares its resize gate, write lock,
    journal index and caches, and the last handle to close closes it. It is
    opened writable whenever the directory allows, so a read-only handle and a
    writable one can live side by side (a read-only handle refuses writes
    itself).
    """

    _open: dict[tuple[int, str], SharedEnvironment] = {}
    _lock = threading.Lock()

    def __init__(self, key: tuple[int, str], env: lmdb.Environment, delta_cache_bytes: int) -> None:
        self.key, self.env = key, env
        self.writable = not env.flags()["readonly"]
        self.gate = ResizeGate()
        self.write_lock = threading.Lock()
        self.cache = RebuiltCache(delta_cache_bytes)
        self.index = JournalIndex()
        self.roots: dict[bytes, bytes] = {}  # delta chunk -> its chain's raw root
        self.users = 0
        self.generation = 0  # how many times ``shrink`` replaced the file
        self.holder: int | None = None  # fd of holders.lock, read-locked while open
        self.path = Path(env.path())
        self._databases: dict[bytes, Any] = {}

    @classmethod
    def attach(
        cls, path: Path, readonly: bool, map_size: int, delta_cache_bytes: int
    ) -> SharedEnvironment:
        key = (os.getpid(), os.path.realpath(path))
        with cls._lock:
            shared = cls._open.get(key)
            if shared is None:
                writable = not readonly or os.access(path, os.W_OK)
                holder = hold_environment(path, writable)
                try:
                    check_data_file(path / "data.mdb")  # before LMDB maps it
                    env = open_env(path, map_size, writable, create=not readonly)
                except BaseException:
                    if holder is not None:
                        os.close(holder)
                    raise
                shared = cls._open[key] = cls(key, env, delta_cache_bytes)
                shared.holder, shared.path = holder, path
            elif not readonly and not shared.writable:
                raise StorageError(
                    f"the chunk store at {path} is open read-only in this process (its "
                    "directory was not writable); close that handle before writing"
                )
            shared.users += 1
            return shared

    def detach(self) -> None:
        with self._lock:
            self.users -= 1
            if not self.users:
                del self._open[self.key]
                self.env.close()
                if self.holder is not None:
                    os.close(self.holder)  # drops the read lock

    def shrink(self) -> bool:
        """Rewrite data.mdb compacted (free pages dropped), if no other handle in
        this process nor any other process has the environment open; returns
        whether it did. The caller holds the write lock and the resize gate alone.

        How it stays safe: every process holds a read lock on ``holders.lock``
        while it has the environment open (taken before LMDB opens it), so a
        write lock granted without waiting means nobody else has it open, and
        any process that opens it meanwhile waits. LMDB copies the environment
        compacted (a consistent snapshot) beside it; the copy is fsynced and
        renamed over data.mdb, so a crash leaves the old file or the new one.
        """
        with self._lock:  # no handle attaches meanwhile
            if self.users != 1 or self.holder is None or not self.writable:
                return False
            try:
                fcntl.lockf(self.holder, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                return False  # another process has it open: LMDB reuses the free pages
            scratch = self.path / "compacting"
            try:
                shutil.rmtree(scratch, ignore_errors=True)
                try:
                    scratch.mkdir()
                    self.env.copy(str(scratch), compact=True)
                    fsync_path(scratch / "data.mdb")
                except (OSError, lmdb.Error):
                    return False  # no room for the copy, say: the file stays as it is
                map_size = self.env.info()["map_size"]
                self.env.close()
                try:
                    os.replace(scratch / "data.mdb", self.path / "data.mdb")
                    fsync_path(self.path)
                finally:  # the new file, or the old one if the rename failed
                    self.env = open_env(self.path, map_size, True, create=False)
                    self._databases.clear()
                    self.generation += 1
                return True
            finally:
                shutil.rmtree(scratch, ignore_errors=True)
                fcntl.lockf(self.holder, fcntl.LOCK_SH)

    def databases(self, readonly: bool) -> tuple[Any, Any, Any, Any, Any]:
        """chunks, journal, refs, meta, packs (created by a writable handle); the
        journal is None in a read-only handle of a version 1 or 2 store, which has
        none, and packs in one of a version 1-5 store."""
        with self._lock:
            try:
                chunks, refs, meta = (
                    self._database(n, readonly) for n in (_DB_CHUNKS, _DB_REFS, _DB_META)
                )
            except lmdb.Error as exc:
                raise StorageError(
                    f"{self.env.path()} is not an ArborDB chunk store ({exc}); open it without "
                    "readonly=True to create one"
                ) from exc
            try:
                journal = self._database(_DB_JOURNAL, readonly)
            except lmdb.NotFoundError:
                journal = None
            try:
                packs = self._database(_DB_PACKS, readonly)
            except lmdb.NotFoundError:
                packs = None
            return chunks, journal, refs, meta, packs

    def _database(self, name: bytes, readonly: bool) -> Any:
        handle = self._databases.get(name)
        if handle is None:
            handle = self._databases[name] = self.env.open_db(name, create=not readonly)
        return handle
