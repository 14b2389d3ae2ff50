"""The engine's exceptions: one root, typed subclasses that carry their data.

Every error the engine raises is an ``EngineError``. Subclasses also inherit the
builtin whose meaning they share (``NotFound`` is a ``KeyError``, ``InvalidInput``
a ``ValueError``), so callers may catch either. Messages name the object, the
mix-up and the fix. ``retryable`` says whether repeating the same operation on a
fresh read may succeed (a lost compare-and-swap race) or never will.
"""

from __future__ import annotations

from .base32 import to_text


class EngineError(Exception):
    """Root of every error raised by ``arbordb.engine``."""

    retryable = False

    def __str__(self) -> str:  # KeyError would otherwise repr() the message
        return str(self.args[0]) if self.args else self.__class__.__name__


# --- storage -----------------------------------------------------------------


class StorageError(EngineError):
    """The chunk store failed or holds bytes it cannot trust."""


class MissingChunk(StorageError, KeyError):
    """A chunk that something refers to is not in the store."""

    def __init__(self, address: bytes, message: str | None = None) -> None:
        self.address = bytes(address)
        super().__init__(
            message
            or f"chunk {to_text(self.address)} is missing from the store "
            "(the repository is damaged or was garbage-collected under a reader; "
            "run `arbor fsck`)"
        )


class CorruptChunk(StorageError):
    """Stored bytes do not match their checksum or address, or do not decode."""

    def __init__(self, address: bytes, reason: str, offset: int | None = None) -> None:
        self.address = bytes(address)
        self.reason = reason
        self.offset = offset
        where = f" at byte {offset}" if offset is not None else ""
        super().__init__(
            f"chunk {to_text(self.address)} is corrupt{where}: {reason} "
            "(restore the repository from a copy; run `arbor fsck` to list damage)"
        )


class GcEpochMoved(StorageError):
    """A garbage collection deleted chunks since a writer last checked the store.

    Raised by a chunk store's ``commit`` that was told the gc epoch its writer
    read; the writer checks that what it builds on is still stored, then retries.
    """

    retryable = True


class FormatVersionError(StorageError):
    """Bytes were written by a format version this code does not read."""

    def __init__(self, what: str, found: int, supported: int) -> None:
        self.what, self.found, self.supported = what, found, supported
        super().__init__(
            f"{what} has format version {found}, this ArborDB reads version {supported} "
            "(upgrade arbordb to open it)"
        )


class AmbiguousPrefix(EngineError, KeyError):
    """A short address prefix matches more than one chunk."""

    def __init__(self, prefix: str, count: int) -> None:
        self.prefix, self.count = prefix, count
        super().__init__(
            f"address prefix {prefix!r} matches {count} objects (type more characters)"
        )


class InvalidAddress(EngineError, ValueError):
    """Text that should be an address is not one."""


# --- input -------------------------------------------------------------------


class InvalidInput(EngineError, ValueError):
    """The caller passed data the engine refuses (unsorted keys, wrong types, ...)."""


class KeyTooLarge(InvalidInput):
    """A primary key or an indexed value is longer than a key may be
    (``codec.key_batch.MAX_KEY_BYTES``)."""


class UnsupportedType(InvalidInput):
    """A column type the engine cannot store, or cannot use in a key."""


# --- objects -----------------------------------------------------------------


class NotFound(EngineError, KeyError):
    """A named object (table, branch, tag, revision, column) does not exist."""


class TableNotFound(NotFound):
    pass


class BranchNotFound(NotFound):
    pass


class BranchDeleted(BranchNotFound):
    """The branch a session works on was deleted by another connection; nothing was written."""


class TagNotFound(NotFound):
    pass


class RevisionNotFound(NotFound):
    pass


class AlreadyExists(EngineError, ValueError):
    """A name is already taken (table, branch, tag)."""


# --- constraints -------------------------------------------------------------


class ConstraintViolation(EngineError, ValueError):
    """An edit breaks a primary key, UNIQUE, NOT NULL or CHECK constraint."""


class DuplicateKey(ConstraintViolation):
    pass


class NotNullViolation(ConstraintViolation):
    pass


# --- version control ---------------------------------------------------------


class VersionError(EngineError):
    """A version-control verb was refused in the repository's current state."""


class NothingToCommit(VersionError):
    pass


class DirtyWorkingSet(VersionError):
    pass


class UnresolvedConflicts(VersionError):
    pass


class UnstagedMergeResults(UnresolvedConflicts):
    """A merge commit would leave out merge results that were never staged."""


class MergeInProgress(VersionError):
    pass


class NoMergeInProgress(VersionError):
    pass


class UnmergedBranch(VersionError):
    pass


class CommitConflict(VersionError):
    """Another writer moved a ref between our read and our compare-and-swap."""

    retryable = True


class SchemaError(EngineError, ValueError):
    """A schema definition or change is invalid."""


# --- remotes -----------------------------------------------------------------


class RemoteError(EngineError):
    """A remote (file:// or s3://) cannot be reached, read or written as asked."""


class RemoteNotFound(RemoteError, NotFound):
    """No remote has this name, or the remote holds no repository."""


class RemoteUnreachable(RemoteError):
    """The remote's storage did not answer, refused access, or has no such bucket."""


class PushRejected(RemoteError):
    """A push would move a remote branch backwards or over commits it does not hold."""


class CorruptPack(CorruptChunk):
    """A pack file on a remote is damaged: its framing or index does not hold together."""

    def __init__(self, name: str, reason: str) -> None:
        self.name = name
        self.address = bytes(20)
        self.reason = reason
        self.offset = None
        StorageError.__init__(
            self,
            f"pack {name} on the remote is damaged: {reason} (nothing was stored; "
            "push again from an intact copy, or remove the pack from the remote)",
        )
