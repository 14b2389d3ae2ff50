"""The ``ChunkStore`` protocol: what every chunk store promises.

A chunk store keeps three things:

- chunks: immutable byte strings, each under its address (``hash.address_of``);
- refs: mutable names (``refs/heads/main``) that each hold one chunk address and
  move only by compare-and-swap;
- meta: a few small named byte values (format version, configuration).

Implementations: ``MemoryChunkStore`` (the reference), ``LmdbChunkStore`` (on disk);
wrappers: ``BufferedChunkStore`` (one write transaction per logical operation) and,
for tests, ``FaultyChunkStore``. All pass ``tests/engine/conformance/chunk_store_suite.py``.

Invariants every implementation keeps:
  (1) A chunk stored under address ``a`` is the byte string whose address is ``a``;
      a read never returns other bytes: it raises ``CorruptChunk`` instead.
  (2) Every ref names a chunk that is in the store: a commit writes its chunks in
      the same atomic step as (or before) the refs that name them, and refuses a
      ref whose target is neither in that commit nor already stored.
  (3) A commit is all or nothing: after it returns (or raises), either all of its
      chunks and ref updates are visible, or none of them is.
  (4) A ref moves only by compare-and-swap from the value its writer read; a lost
      race is the return value ``False``, never an exception and never a write.
  (5) Garbage collection never deletes a chunk that a ref reaches when it
      deletes, nor one written after it began, whatever writers do meanwhile; a
      collection that deletes anything moves ``gc_epoch``, and a ``commit`` told an
      older epoch raises ``GcEpochMoved`` without writing, so a writer whose new
      chunks name stored ones it read before the collection checks them again.
      Every write keeps the stored chunks closed: whatever a stored chunk names
      is stored too.

Visibility: a write is visible to every reader of the same store once the call
returns, and to readers in other processes from then on too (LMDB); a read that
spans several items (``get_many``, ``list_refs``) sees one consistent state.
Durability: what the ``LmdbChunkStore`` returned from is on disk (fsync), and
survives a crash or power loss; the memory store is never durable; a buffered
store's ``put`` is neither visible to others nor durable until its ``flush``.
Concurrency: ``MemoryChunkStore`` and ``LmdbChunkStore`` are safe to call from
many threads (LMDB: from many processes too; readers never block the writer);
write calls are serialised by the store. Wrappers are single-threaded.

Delta hints: a writer may say which stored chunk each new chunk replaces
(``put_many(chunks, bases)``, ``commit(chunks, ref_updates, bases)``), e.g. the
old leaf an edited leaf was cut from. A store may keep the new chunk as a delta
against that base (``LmdbChunkStore``) or ignore the hint (``MemoryChunkStore``).
Hints never change what ``get`` returns, what ``has`` answers, nor which chunks
``delete_many`` may remove: a store that stores deltas keeps each one readable
when its base is deleted. A hint naming a chunk that is not stored is ignored.

Names: a ref name or meta key is a non-empty ``str`` of at most
``MAX_NAME_BYTES`` bytes in UTF-8 (LMDB's key limit). Refs sort by name in code
point order, which is the byte order of their UTF-8 form.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import NamedTuple, Protocol, runtime_checkable

from ..errors import AmbiguousPrefix, InvalidInput, MissingChunk
from ..hash import address_of, format_address, prefix_range, require_address

MAX_NAME_BYTES = 511  # LMDB's default maximum key size; also enforced by the memory store


class RefUpdate(NamedTuple):
    """One compare-and-swap of a ref inside ``ChunkStore.commit``.

    ``expected`` is the address the writer read (``None``: the ref must not exist);
    ``new`` is the address to store (``None``: delete the ref).
    """

    name: str
    expected: bytes | None
    new: bytes | None


@runtime_checkable
class ChunkStore(Protocol):
    """A content-addressed chunk store with compare-and-swap refs (see module docstring)."""

    def get(self, address: bytes) -> bytes:
        """The bytes of one chunk.

        Raises:
            MissingChunk: no chunk has this address.
            CorruptChunk: the stored bytes fail their integrity check (invariant (1)).
            InvalidAddress: ``address`` is not 20 bytes.
        """
        ...

    def get_many(self, addresses: Sequence[bytes]) -> list[bytes]:
        """The bytes of many chunks, in the order asked, read from one consistent state.

        Raises:
            MissingChunk: for the first address that is not stored.
            CorruptChunk: for the first chunk that fails its check.
        """
        ...

    def has(self, address: bytes) -> bool:
        """Whether a chunk with this address is stored (no integrity check)."""
        ...

    def has_many(self, addresses: Sequence[bytes]) -> list[bool]:
        """``has`` for many addresses, in order, from one consistent state."""
        ...

    def put(self, data: bytes) -> bytes:
        """Store one chunk and return its address; storing existing bytes again is a no-op.

        Visible to ``get`` when it returns. Prefer ``put_many`` or ``commit`` for
        more than one chunk: each ``put`` is its own (durable) write transaction.
        """
        ...

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
        """Store many chunks in one atomic write; return their addresses in order.

        Chunks that are already stored (or repeated in ``chunks``) are kept once.
        ``bases``, if given, holds for each chunk (by position) the address of the
        chunk it replaces, or None: a delta hint (module docstring).
        ``base_chunks`` maps some of those bases to the bytes the caller already
        holds; a store may use them instead of reading the base, once they match
        the base's stored checksum (bytes that do not are ignored). ``deltas``
        holds for each chunk (by position) its delta body against its hinted base
        if the caller already made one (``delta.py``'s format), or None.
        ``bulk``: many chunks that no ref names yet (a streamed load's spill); a store
        may then skip what it does for small writes (``LmdbChunkStore``: its journal).
        ``addresses``: each chunk's address, when the caller has just computed them from
        these bytes (a write buffer spilling what it hashed); a store may take them
        instead of hashing the chunks again.
        """
        ...

    def commit(
        self,
        chunks: Mapping[bytes, bytes],
        ref_updates: Sequence[RefUpdate] = (),
        bases: Mapping[bytes, bytes] | None = None,
        base_chunks: Mapping[bytes, bytes] | None = None,
        deltas: Mapping[bytes, bytes] | None = None,
        gc_epoch: int | None = None,
    ) -> bool:
        """Store ``chunks`` and compare-and-swap every ref, as one atomic write.

        ``chunks`` maps each address to its bytes; the caller computed the
        addresses (stores check them only when built to, for tests). ``bases``
        maps a chunk's address to the address of the chunk it replaces: a delta
        hint (module docstring); ``base_chunks`` as for ``put_many``, and
        ``deltas`` maps a chunk's address to its body against its hinted base,
        where the caller made one. If any ref's
        current value differs from its ``expected``, nothing at all is written
        and the result is ``False`` (invariants (3), (4)); the caller re-reads and
        retries, or gives up. ``True`` means everything is visible (and durable,
        for a durable store). ``gc_epoch``: the ``gc_epoch()`` the writer read
        before it read what it builds on; if a collection deleted chunks since,
        nothing is written (invariant (5)).

        Raises:
            GcEpochMoved: ``gc_epoch`` is given and no longer current.
            MissingChunk: a ``new`` address is neither in ``chunks`` nor stored
                (invariant (2)); nothing is written.
            InvalidInput: two updates name the same ref, or a name is invalid.
            InvalidAddress: an address is not 20 bytes.
        """
        ...

    def get_ref(self, name: str) -> bytes | None:
        """The address a ref holds, or ``None`` if there is no such ref."""
        ...

    def get_refs(self, names: Sequence[str]) -> list[bytes | None]:
        """The address each ref of ``names`` holds (``None``: no such ref), all from one
        state: a verb that reads a few refs before a compare-and-swap of them reads
        them in one snapshot."""
        ...

    def list_refs(self, prefix: str = "") -> dict[str, bytes]:
        """Every ref whose name starts with ``prefix``, sorted by name, from one state."""
        ...

    def get_meta(self, key: str) -> bytes | None:
        """A meta value, or ``None`` if it was never set."""
        ...

    def set_meta(self, key: str, value: bytes) -> None:
        """Set a meta value (visible and durable on return, like ``put``)."""
        ...

    def resolve_prefix(self, text_prefix: str) -> bytes:
        """The one stored chunk whose text address starts with ``text_prefix``.

        Raises:
            InvalidAddress: the prefix is empty, too long or not base32 text.
            AmbiguousPrefix: more than one stored chunk matches (carries the count).
            MissingChunk: no stored chunk matches.
        """
        ...

    def iter_addresses(self) -> Iterator[bytes]:
        """Every stored address in ascending byte order.

        Chunks stored or deleted while the iterator runs may or may not appear.
        """
        ...

    def delete_many(self, addresses: Sequence[bytes]) -> int:
        """Remove chunks in one atomic write (for tools and tests: garbage collection
        beside writers is ``collect_garbage``).

        Returns how many of them were stored; absent addresses are ignored. The
        caller keeps invariant (2): it deletes only chunks no ref reaches. A chunk
        kept that was stored as a delta against a deleted one stays readable.
        """
        ...

    def gc_epoch(self) -> int:
        """How many garbage collections have deleted chunks from this store."""
        ...

    def collect_garbage(self, mark: Callable[..., set[bytes]]) -> dict[str, int]:
        """Delete every chunk that no ref reaches (invariant (5)).

        ``mark(roots, read_many, known)`` returns every address reachable from
        ``roots`` outside ``known`` (where it may stop), reading chunks with
        ``read_many(addresses) -> list of bytes``. Returns counts: ``kept``,
        ``deleted`` and ``freed_bytes``.
        """
        ...

    def verify(self, address: bytes) -> None:
        """Re-hash one chunk with BLAKE3 and compare it to its address (for fsck).

        Raises:
            MissingChunk: no chunk has this address.
            CorruptChunk: the bytes do not hash to the address.
        """
        ...

    def stats(self) -> dict[str, int]:
        """Counts: at least ``chunks`` (how many) and ``stored_bytes`` (the space they
        take in this store, at least the sum of their lengths)."""
        ...

    def close(self) -> None:
        """Release the store's resources; idempotent. Do not use the store afterwards."""
        ...


def encode_name(name: object, what: str = "ref name") -> bytes:
    """The UTF-8 bytes of a ref name or meta key, after checking the rules above.

    Raises:
        InvalidInput: not a ``str``, empty, not encodable, or over ``MAX_NAME_BYTES``.
    """
    if not isinstance(name, str) or not name:
        raise InvalidInput(f"{what} {name!r} must be a non-empty string")
    try:
        raw = name.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise InvalidInput(f"{what} {name!r} is not valid Unicode text ({exc.reason})") from None
    if len(raw) > MAX_NAME_BYTES:
        raise InvalidInput(
            f"{what} {name[:40]!r}... is {len(raw)} bytes in UTF-8; the limit is {MAX_NAME_BYTES}"
        )
    return raw


def check_ref_updates(ref_updates: Sequence[RefUpdate]) -> list[tuple[bytes, RefUpdate]]:
    """Validate a commit's ref updates: names, addresses, no ref named twice.

    Returns each update with its encoded name. Shared by every implementation so
    that they refuse the same inputs with the same errors.
    """
    checked: list[tuple[bytes, RefUpdate]] = []
    seen: set[str] = set()
    for update in ref_updates:
        name, expected, new = update
        raw = encode_name(name)
        if name in seen:
            raise InvalidInput(
                f"ref {name!r} is updated twice in one commit; merge the updates into one"
            )
        seen.add(name)
        if expected is not None:
            expected = require_address(expected, f"expected value of ref {name!r}")
        if new is not None:
            new = require_address(new, f"new value of ref {name!r}")
        checked.append((raw, RefUpdate(name, expected, new)))
    return checked


def check_chunk_addresses(chunks: Mapping[bytes, bytes]) -> None:
    """Debug and test check that each key of ``chunks`` is the address of its bytes.

    Stores run it only when built with ``check_addresses=True``: re-hashing every
    chunk of a commit would double the cost of the hot write path.

    Raises:
        InvalidInput: for the first chunk filed under an address that is not its own.
    """
    for address, data in chunks.items():
        actual = address_of(data)
        if actual != address:
            raise InvalidInput(
                f"commit files a {len(data)}-byte chunk under {format_address(address)} but "
                f"its address is {format_address(actual)} (compute keys with address_of)"
            )


def dangling_ref(name: str, new: bytes) -> MissingChunk:
    """The error for a ref update whose target is not stored (invariant (2))."""
    return MissingChunk(
        new,
        f"ref {name!r} would point at chunk {format_address(new)}, which is neither in "
        "this commit nor in the store (write the chunk in the same commit, or before it)",
    )


def unique_match(text_prefix: str, matches: Sequence[bytes], count: int | None = None) -> bytes:
    """The one address in ``matches`` for ``resolve_prefix``, or the error to raise.

    ``count`` is the number of matches when ``matches`` holds only the first few.

    Raises:
        AmbiguousPrefix: more than one match.
        MissingChunk: no match.
    """
    count = len(matches) if count is None else count
    if count == 1:
        return matches[0]
    if count > 1:
        raise AmbiguousPrefix(text_prefix, count)
    low, _ = prefix_range(text_prefix)
    raise MissingChunk(low, f"no chunk address starts with {text_prefix!r}")
