"""The records of ``LmdbChunkStore`` (values of its ``chunks`` sub-database, or
slices of a journal batch): their bytes, delta chains, and which chunks a write
stores as deltas.

The functions that read records take a ``get`` (address -> record bytes or buffer,
or None) of one LMDB read or write transaction; ``lmdb_store.py`` owns the
transactions, this module the bytes.

Record format (little-endian throughout):

    OFFSET  SIZE  DESCRIPTION
    0       1     kind: 0 = raw, 1 = zstd-compressed, 2 = delta against a base chunk,
                  3 = a leaf stored buffer by buffer
    1       8     xxh3-64 of the FULL chunk bytes (not of the body), unsigned
    kind 0:
    9       n     the chunk's bytes
    kind 1 (``compression.py``: when compressing saves at least 1/8):
    9       1     the chunk's byte 1 (its node level), read by garbage collection
    10      n     a zstd frame of the chunk's bytes
    kind 3 (``column_frames.py``: a leaf with a buffer worth compressing):
    9       n     the head (its length, its xxh3, the leaf's header and buffer
                  table, stored sizes, frame checksums, small buffers), then one
                  zstd frame per compressed buffer
    kind 2:
    9       1     depth: 1..255, above the base record's depth (a raw record's is 0)
    10      20    base: the address of the chunk the delta applies to
    30      n     delta body (``delta.py``: a method byte, then PATCH ops or a
                  zstd frame)

The address stays the BLAKE3 of the full chunk, whatever its record kind, and the
xxh3 too is of the full (uncompressed, rebuilt) chunk: a chunk has one address
however it is stored (``compression.py`` says why). A change to this format bumps
``lmdb_format.FORMAT_VERSION`` (kind 1 came with version 4, kind 3 with version 5).

Worked example: a 15,216-byte leaf of the benchmark table in which four rows got
a new label and score, written with a hint naming the leaf it replaces (raw, so
the depth is 1). Its record is 94 bytes instead of 15,225::

    02                        kind 2
    9d e1 78 b9 b9 55 2d 30   xxh3-64 of the new leaf, 0x302d55b9b978e19d
    01                        depth 1
    19 f0 1e f6 ... 7d 87     base: the old leaf, 37o1ttlq9tbqeqfsl7r4vr7bef7bkvc7
    00 08                     delta method PATCH, eight ops
    c5 39 03                  op 1: gap 7365, 3 bytes (a label's last digits)
    de 0d 02                  op 2: gap 1758, 2 bytes
    ...                       ops 3-8: two more labels, then four scores (7 bytes each)
    35 35 30 30 30 ...        the ops' literals, 44 bytes

Chain caps and why (invariant (3)): ``CHAIN_CAP`` = 8 with ``CAP_SPREAD`` = 4, so
each chunk's cap is 5-8 links, drawn from its address. Measured on a 1M-row table
(1,874 leaves of ~16 KiB) taking 1% scattered updates per commit: a plain chunk
store grows ~35 MB a commit (every leaf rewritten, 20 KiB of LMDB overflow pages
each); with deltas the growth starts at 0.5 MB a commit and levels off below
2 MB, where leaves whose delta against their chain's root has grown past a
quarter of the leaf are rewritten whole. One cap for all chunks (no spread) made
every leaf restart at the root in the same commit: 2-8 MB spikes, and a 35 MB one
once those deltas grew too large. A lower cap (4) restarts twice as often and
grew 60% more; a higher one (16) grew a little less but doubles the worst read.
The cap is writer policy, not format: any depth up to ``MAX_DEPTH`` is read.

Invariants:
  (1) Every read of a chunk checks the record kind and the xxh3 before returning
      bytes, for each link of a delta chain too; a mismatch raises
      ``CorruptChunk(address, reason, offset)`` (store invariant (1)).
  (2) A delta record's depth is above its base record's, so a chain ends at a
      raw record within ``depth`` links; readers check it at every link, which
      also stops a cycle. The depth is an upper bound on the chain's length
      (the rewrites of (4) may shorten a chain below a record).
  (3) A chunk is stored as a delta only when a writer's hint names its base, the
      base is stored (``LmdbChunkStore`` checks it again in its write
      transaction), and the delta body is at most a quarter of the chunk
      (``delta.MAX_FRACTION``). Its depth is its base's plus one, up to its cap
      (``chain_cap``); a chunk whose base is at its cap is a delta against that
      chain's raw root instead (depth 1), and is stored whole when that delta is
      too large.
  (5) Only tree leaves (chunks whose second byte, the node level, is 0; no
      object magic has a zero second byte) are stored as deltas, so a delta
      record names no other chunk: garbage collection learns that from the
      record's kind byte and its chain root's level byte (``names_nothing``; a
      compressed record keeps that byte outside its frame), without rebuilding or
      decompressing the chunk.
  (4) ``rebase_records`` keeps every delta readable when chunks are deleted: each
      kept delta whose base is deleted is rewritten against its nearest kept
      ancestor (never deeper than before), or whole when none is kept or the
      delta is too large.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from typing import Any, NamedTuple

from ..cache import LruCache
from ..errors import CorruptChunk, MissingChunk, StorageError
from ..hash import ADDRESS_LEN, checksum, format_address
from .column_frames import (
    KIND_COLUMNS,
    LEVEL_OFFSET,
    TOP_LEN,
    decode_column_record,
    encode_column_records,
)
from .compression import compress_many, decompress_many

# ``delta`` (and with it numpy) is imported by the functions that make or apply deltas:
# reading commits and refs (``arbor branch``) never needs it.


def encode_deltas(pairs: Sequence[tuple[bytes, bytes]]) -> list[bytes | None]:
    """``delta.encode_deltas`` (imported on first use, see above)."""
    from .delta import encode_deltas as encode

    return encode(pairs)


KIND_RAW = 0  # body = chunk bytes
KIND_ZSTD = 1  # body = the chunk's level byte, then a zstd frame of the chunk (compression.py)
KIND_DELTA = 2  # depth, base address, then a delta body (delta.py)
# KIND_COLUMNS = 3: a leaf, its buffers stored one by one (column_frames.py)
_DELTA_KIND_BYTE = bytes([KIND_DELTA])

RECORD_HEADER = "<BQ"  # kind, xxh3-64 of the full chunk
RECORD_HEADER_LEN = 9
assert struct.calcsize(RECORD_HEADER) == RECORD_HEADER_LEN
_HEADER = struct.Struct(RECORD_HEADER)

DELTA_HEADER = "<BQB20s"  # kind, xxh3-64 of the full chunk, depth, base address
DELTA_HEADER_LEN = 30
assert struct.calcsize(DELTA_HEADER) == DELTA_HEADER_LEN
assert ADDRESS_LEN == 20  # DELTA_HEADER spells the base address's length
_DELTA = struct.Struct(DELTA_HEADER)
MAX_DEPTH = 255  # the most a depth byte holds: the format's bound on any chain
CHAIN_CAP = 8  # writer policy, not format: the deepest chain a new delta may make
CAP_SPREAD = 4  # each new chunk's own cap is CHAIN_CAP - (its first byte % CAP_SPREAD)

_Get = Callable[[bytes], Any]  # address -> record (bytes or buffer) or None
_Links = dict[bytes, tuple[int, "bytes | None"]]  # address -> (depth, base or None when raw)


def encode_record(data: bytes) -> bytes:
    """The kind-0 record that stores ``data``."""
    return _HEADER.pack(KIND_RAW, checksum(data)) + data


def encode_records(chunks: dict[bytes, bytes]) -> dict[bytes, bytes]:
    """The record that stores each chunk whole (address -> chunk): kind 3 for a leaf
    with a buffer worth compressing (``column_frames.py``), else kind 1 where
    compressing the whole chunk pays (``compression.py``), else kind 0."""
    datas = list(chunks.values())
    digests = [checksum(data) for data in datas]
    columns = encode_column_records(datas, digests)
    rest = [i for i, record in enumerate(columns) if record is None]
    frames = compress_many([datas[i] for i in rest])
    whole: dict[int, bytes | None] = dict(zip(rest, frames, strict=True))
    out = {}
    for i, address in enumerate(chunks):
        data, digest = datas[i], digests[i]
        record = columns[i]
        if record is not None:
            out[address] = record
        elif (frame := whole[i]) is None:
            out[address] = _HEADER.pack(KIND_RAW, digest) + data
        else:
            out[address] = b"".join((_HEADER.pack(KIND_ZSTD, digest), data[1:2], frame))
    return out


def encode_delta_record(data: bytes, depth: int, base: bytes, body: bytes) -> bytes:
    """The kind-2 record of ``data`` as the delta ``body`` against ``base`` (invariant (2))."""
    return _DELTA.pack(KIND_DELTA, checksum(data), depth, base) + body


def decode_record(address: bytes, record: bytes | memoryview) -> bytes:
    """The chunk bytes in a raw (kind 0) or compressed (kind 1) ``record``, after the
    checks of invariant (1).

    Raises:
        CorruptChunk: the record is truncated, of an unknown kind, fails its xxh3, or
            its frame does not decompress.
    """
    return decode_records([(address, record)])[0]


def decode_records(pairs: Sequence[tuple[bytes, bytes | memoryview]]) -> list[bytes]:
    """``decode_record`` of many (address, record) pairs, decompressing together."""
    out: list[bytes | None] = [None] * len(pairs)
    compressed = []
    for i, (address, record) in enumerate(pairs):
        if len(record) < RECORD_HEADER_LEN:
            raise CorruptChunk(
                address, f"its record is {len(record)} bytes, shorter than the 9-byte header", 0
            )
        kind, digest = _HEADER.unpack_from(record)
        if kind == KIND_RAW:
            body = record[RECORD_HEADER_LEN:]
            if checksum(body) != digest:
                raise CorruptChunk(
                    address, "the xxh3 checksum of its bytes does not match the record", 1
                )
            out[i] = bytes(body)
        elif kind == KIND_COLUMNS:
            data = decode_column_record(address, record)
            if checksum(data) != digest:
                raise CorruptChunk(
                    address, "the xxh3 checksum of the leaf its buffers rebuild does not match", 1
                )
            out[i] = data
        elif kind != KIND_ZSTD:
            raise CorruptChunk(address, f"record kind {kind} (unknown)", 0)
        elif len(record) <= RECORD_HEADER_LEN + 1:
            raise CorruptChunk(
                address, f"its compressed record is {len(record)} bytes, too short", 0
            )
        else:
            compressed.append(i)
    frames = [memoryview(pairs[i][1])[RECORD_HEADER_LEN + 1 :] for i in compressed]
    made = decompress_many(frames, [pairs[i][0] for i in compressed], RECORD_HEADER_LEN + 1)
    for i, data in zip(compressed, made, strict=True):
        address, record = pairs[i]
        if checksum(data) != _HEADER.unpack_from(record)[1]:
            raise CorruptChunk(
                address, "the xxh3 checksum of its decompressed bytes does not match", 1
            )
        if len(data) < 2 or data[1] != record[RECORD_HEADER_LEN]:
            raise CorruptChunk(address, "its level byte does not match its decompressed bytes", 9)
        out[i] = data
    return out  # type: ignore[return-value]  # every slot was filled above


def load_chunks(
    get: _Get,
    addresses: Iterable[bytes],
    known: dict[bytes, bytes],
    links: _Links,
    cache: RebuiltCache | None = None,
    held: Mapping[bytes, bytes] | None = None,
) -> None:
    """Put the bytes of each address in ``known``, rebuilding deltas from their chains.

    ``get`` reads records from one transaction; ``links`` receives the (depth,
    base) of every record read. Records are fetched a chain level at a time, each
    base once however many chunks share it; a chain is then applied to one buffer,
    checking the xxh3 of every link (invariant (1)). A delta found in ``cache`` is
    taken from it (its record is still read: the chunk must be stored) and the
    chain below it is not read; so is a chunk in ``held`` (bytes a writer holds)
    whose xxh3 matches its record's, raw or delta.

    Raises:
        MissingChunk: an address is not stored.
        CorruptChunk: a record fails invariant (1) or (2); a missing base is reported
            as corruption of the chunk whose delta needs it.
    """
    deltas: dict[bytes, tuple[int, memoryview]] = {}
    whole: list[tuple[bytes, bytes | memoryview]] = []  # raw and compressed records
    wanted = [a for a in dict.fromkeys(addresses) if a not in known]
    wanted_by: dict[bytes, bytes] = {}
    seen = set(wanted)
    frontier = wanted
    while frontier:
        following = []
        for address in frontier:
            record = get(address)
            if record is None:
                if address in wanted_by:
                    raise CorruptChunk(
                        wanted_by[address],
                        f"its delta base {format_address(address)} is missing",
                        10,
                    )
                raise MissingChunk(address)
            if not (len(record) and record[0] == KIND_DELTA):
                given = held.get(address) if held else None
                if given is not None and _raw_digest(record) == checksum(given):
                    known[address] = given
                else:
                    whole.append((address, record))  # decoded together, below
                links[address] = (0, None)
                continue
            digest, depth, base, body = _parse_delta(address, record)
            links[address] = (depth, base)
            hit = held.get(address) if held else None
            if hit is not None and checksum(hit) != digest:
                hit = None
            if hit is None and cache is not None:
                hit = cache.get(address)
            if hit is not None:
                known[address] = hit
                continue
            deltas[address] = (digest, body)
            if base not in known and base not in seen:
                seen.add(base)
                wanted_by[base] = address
                following.append(base)
        frontier = following
    known.update(zip((a for a, _ in whole), decode_records(whole), strict=True))
    for address in wanted:
        if address not in known:
            known[address] = _rebuild(address, deltas, known, links)
            if cache is not None:
                cache.put(address, known[address])


def delta_parts(record: bytes | memoryview) -> tuple[bytes, bytes] | None:
    """(base address, delta body) of a delta record, None for a raw one (unchecked:
    whoever rebuilds the chunk from them checks it against its address)."""
    if len(record) <= DELTA_HEADER_LEN or record[0] != KIND_DELTA:
        return None
    return bytes(record[10:DELTA_HEADER_LEN]), bytes(record[DELTA_HEADER_LEN:])


def _raw_digest(record: bytes | memoryview) -> int | None:
    """The xxh3 a raw record states for its chunk (None if it is too short)."""
    return _HEADER.unpack_from(record)[1] if len(record) >= RECORD_HEADER_LEN else None


def _parse_delta(address: bytes, record: bytes | memoryview) -> tuple[int, int, bytes, memoryview]:
    if len(record) <= DELTA_HEADER_LEN:
        raise CorruptChunk(
            address, f"its delta record is {len(record)} bytes, not above its 30-byte header", 0
        )
    _, digest, depth, base = _DELTA.unpack_from(record)
    if depth < 1:
        raise CorruptChunk(address, "its delta record has depth 0", 9)  # invariant (2)
    return digest, depth, base, memoryview(record)[DELTA_HEADER_LEN:]


def _rebuild(
    address: bytes,
    deltas: dict[bytes, tuple[int, memoryview]],
    known: dict[bytes, bytes],
    links: _Links,
) -> bytes:
    chain = []
    while address not in known:
        chain.append(address)
        depth, base = links[address]
        below = links.get(base, (0, None))[0] if base is not None else 0
        if base is None or below >= depth:  # invariant (2); also ends a cycle of bases
            raise CorruptChunk(
                address, f"its delta depth {depth} is not above its base's {below}", 9
            )
        address = base
    from .delta import apply_delta_into

    buffer = bytearray(known[address])
    for address in reversed(chain):
        digest, body = deltas[address]
        buffer = apply_delta_into(buffer, body, address)
        if checksum(buffer) != digest:
            raise CorruptChunk(
                address, "the xxh3 checksum of the bytes its delta rebuilds does not match", 1
            )
    return bytes(buffer)


def chain_cap(address: bytes) -> int:
    """The deepest chain the chunk ``address`` may end (invariant (3)): between
    ``CHAIN_CAP - CAP_SPREAD + 1`` and ``CHAIN_CAP``, by its address's first byte."""
    return CHAIN_CAP - address[0] % CAP_SPREAD


def _chain_root(get: _Get, address: bytes) -> bytes:
    """The raw chunk at the bottom of ``address``'s delta chain, found by reading
    record headers only.

    Raises:
        CorruptChunk: a link is missing, or the chain is longer than ``MAX_DEPTH``.
    """
    for _ in range(MAX_DEPTH + 1):
        record = get(address)
        if record is None:
            raise CorruptChunk(address, "a chunk on its delta chain is missing", 10)
        if not (len(record) > DELTA_HEADER_LEN and record[0] == KIND_DELTA):
            return address
        address = bytes(record[10:DELTA_HEADER_LEN])
    raise CorruptChunk(address, f"its delta chain is longer than {MAX_DEPTH} links", 9)


def is_leaf(chunk: bytes | memoryview) -> bool:
    """Whether ``chunk`` is a tree leaf (level byte 0; invariant (5))."""
    return len(chunk) >= 2 and chunk[1] == 0


def names_nothing(
    get: _Get, address: bytes, record: bytes | memoryview, roots: dict[bytes, bytes]
) -> bool:
    """Whether the chunk of ``record`` is a leaf, read from record headers alone: a raw
    record's level byte, or a delta's chain root's (invariant (5)); ``roots``
    remembers chain roots found. False when unsure (then rebuild the chunk).

    Raises:
        CorruptChunk: a link of the delta's chain is missing.
    """
    if len(record) > RECORD_HEADER_LEN + 1 and record[0] == KIND_RAW:
        return record[RECORD_HEADER_LEN + 1] == 0
    if len(record) > RECORD_HEADER_LEN + 1 and record[0] == KIND_ZSTD:
        return record[RECORD_HEADER_LEN] == 0
    if len(record) > TOP_LEN + 1 and record[0] == KIND_COLUMNS:
        return record[LEVEL_OFFSET] == 0
    if not (len(record) > DELTA_HEADER_LEN and record[0] == KIND_DELTA):
        return False
    walked = []
    link, root = address, roots.get(address)
    while root is None:  # down the chain by headers, until a link whose root is known
        walked.append(link)
        if len(walked) > MAX_DEPTH + 1:
            raise CorruptChunk(address, f"its delta chain is longer than {MAX_DEPTH} links", 9)
        record = get(link) if link != address else record
        if record is None:
            raise CorruptChunk(link, "a chunk on its delta chain is missing", 10)
        if not (len(record) > DELTA_HEADER_LEN and record[0] == KIND_DELTA):
            root = link
        else:
            link = bytes(record[10:DELTA_HEADER_LEN])
            root = roots.get(link)
    roots.update(dict.fromkeys(walked, root))
    base = get(root)
    if base is not None and len(base) > TOP_LEN + 1 and base[0] == KIND_COLUMNS:
        return base[LEVEL_OFFSET] == 0
    if base is None or len(base) <= RECORD_HEADER_LEN + 1:
        return False
    return base[RECORD_HEADER_LEN + (1 if base[0] == KIND_RAW else 0)] == 0


def is_delta_on(record: bytes | memoryview, bases: Collection[bytes]) -> bool:
    """Whether ``record`` is a delta whose base is in ``bases`` (header only, unchecked)."""
    return record[:1] == _DELTA_KIND_BYTE and bytes(record[10:DELTA_HEADER_LEN]) in bases


def plan_records(
    owned: dict[bytes, bytes],
    hints: dict[bytes, bytes],
    known: dict[bytes, bytes],
    links: _Links,
    roots: dict[bytes, bytes],
    doomed: Collection[bytes] = (),
    made: Mapping[bytes, bytes | None] | None = None,
) -> tuple[dict[bytes, bytes], dict[bytes, bytes]]:
    """Records for the chunks of one write, deltas where a hint allows (invariant (3)).

    ``hints`` maps chunks of ``owned`` not yet stored to the chunk each replaces;
    ``known``/``links`` hold the stored bases (``load_chunks``), and ``roots`` the
    chain root of each stored base at the cap of a chunk that replaces it (loaded
    too); no delta is made against a chunk in ``doomed``; ``made`` holds bodies the
    writer already made against the hinted base, used when that base is the one
    chosen and the body is small enough. Returns the records, and for each delta
    whose base is outside ``owned`` that base, which the write transaction must
    still find stored.
    """
    plan: dict[bytes, tuple[bytes, int]] = {}  # chunk -> (delta base, depth)
    decided: set[bytes] = set()
    hints = {a: b for a, b in hints.items() if is_leaf(owned[a])}  # invariant (5)
    for start in hints:
        walk = []
        address = start
        while address in hints and address not in decided and address not in walk:
            walk.append(address)
            address = hints[address]
        for address in reversed(walk):  # bases before the chunks that replace them
            decided.add(address)
            base = hints[address]
            if base in plan:  # a base written in this same batch
                depth = plan[base][1]
            elif base in links:
                depth = links[base][0]
            elif base in owned and (base not in hints or base in decided):
                depth = 0
            else:  # absent, or a cycle of hints: store whole
                continue
            root = roots.get(base)
            if depth < chain_cap(address):
                plan[address] = (base, depth + 1)
            elif root is not None and root not in doomed:  # invariant (3): restart at the root
                plan[address] = (root, 1)
    from .delta import small_enough

    made = made or {}
    bodies: dict[bytes, bytes | None] = {}
    pairs = []
    for address, (base, _) in plan.items():
        body = made.get(address) if base == hints[address] else None
        if body is not None and small_enough(body, len(owned[address])):
            bodies[address] = body
        elif base in known or base in owned:
            pairs.append((address, (known[base] if base in known else owned[base], owned[address])))
        # else: a base read for its header alone (``load_bases``): the chunk stays whole
    for (address, _), body in zip(pairs, encode_deltas([pair for _, pair in pairs]), strict=True):
        bodies[address] = body
    records: dict[bytes, bytes] = {}
    outside: dict[bytes, bytes] = {}
    for address, body in bodies.items():
        if body is not None:
            base, depth = plan[address]
            records[address] = encode_delta_record(owned[address], depth, base, body)
            if base not in owned:
                outside[address] = base
    records.update(encode_records({a: d for a, d in owned.items() if a not in records}))
    return records, outside


def load_bases(
    get: _Get,
    hints: dict[bytes, bytes],
    cache: RebuiltCache | None,
    held: Mapping[bytes, bytes] | None = None,
    made: Collection[bytes] = (),
    known_roots: Mapping[bytes, bytes] | None = None,
) -> tuple[dict[bytes, bytes], dict[bytes, bytes], _Links, dict[bytes, bytes]]:
    """What ``plan_records`` needs for one write's ``hints`` (chunk -> the chunk it
    replaces), read through ``get`` (one snapshot): the hints of the chunks not yet
    stored, then the ``known``, ``links`` and ``roots`` of their stored bases.
    ``held``: bases' bytes the writer holds, used where their records' checksums
    match (``load_chunks``). ``made``: the chunks whose delta body the writer made;
    a base that only such chunks replace is read for its header alone.
    ``known_roots``: chain roots found before (``chain_roots_of``), not walked again.

    A damaged base is left out, so the chunks that replace it are stored whole.
    """
    fresh = {a: b for a, b in hints.items() if get(a) is None}  # else: stored already
    needed = {b for a, b in fresh.items() if a not in made}
    stored, headers = [], {}  # headers: the links of the bases read for their header alone
    for base in dict.fromkeys(fresh.values()):
        record = get(base)
        if record is not None:
            stored.append(base)
            if base not in needed:
                try:
                    headers[base] = _link(base, record)
                except CorruptChunk:
                    needed.add(base)  # read it whole below, where damage is handled
    try:
        return (fresh, *_load_bases(get, fresh, stored, cache, held, needed, headers, known_roots))
    except StorageError:  # a damaged base: load the others one by one; the
        pass  # chunks that replace the damaged one are stored whole
    known: dict[bytes, bytes] = {}
    links: _Links = {}
    roots: dict[bytes, bytes] = {}
    for base in stored:
        try:
            one = _load_bases(get, fresh, [base], cache)
        except StorageError:
            continue
        known.update(one[0])
        links.update(one[1])
        roots.update(one[2])
    return fresh, known, links, roots


def _load_bases(
    get: _Get,
    hints: dict[bytes, bytes],
    bases: list[bytes],
    cache: RebuiltCache | None,
    held: Mapping[bytes, bytes] | None = None,
    needed: Collection[bytes] | None = None,
    headers: Mapping[bytes, tuple[int, bytes | None]] | None = None,
    known_roots: Mapping[bytes, bytes] | None = None,
) -> tuple[dict[bytes, bytes], _Links, dict[bytes, bytes]]:
    """Load ``bases`` (only the links of those not ``needed``, default all, taken
    from ``headers``), and the chain root of each one at the cap of a chunk that
    replaces it: the ``known``, ``links`` and ``roots`` of ``plan_records``."""
    known: dict[bytes, bytes] = {}
    links: _Links = {}
    if needed is None:
        load_chunks(get, bases, known, links, cache, held)
    else:
        load_chunks(get, [b for b in bases if b in needed], known, links, cache, held)
        for base in bases:
            if base not in needed:
                links[base] = (
                    headers[base] if headers and base in headers else _link(base, get(base))
                )
    capped = {b for a, b in hints.items() if b in links and links[b][0] >= chain_cap(a)}
    known_roots = known_roots or {}
    roots = {
        base: known_roots.get(base) or _chain_root(get, base) for base in capped
    }  # invariant (3)
    load_chunks(get, list(roots.values()), known, links, cache)
    return known, links, roots


def chain_roots_of(
    records: Mapping[bytes, bytes], known_roots: Mapping[bytes, bytes]
) -> dict[bytes, bytes]:
    """The chain root of each delta record in ``records`` that one step finds: its
    base for a depth-1 delta (a base below depth 1 is raw, invariant (2)), else its
    base's entry in ``known_roots``. A root found once stays a root (a raw record is
    never rewritten), so a writer may remember these; one deleted since is caught
    where every delta base is (``lmdb_store`` invariant (6))."""
    found: dict[bytes, bytes] = {}
    for address, record in records.items():
        if record[:1] == _DELTA_KIND_BYTE and len(record) > DELTA_HEADER_LEN:
            base = record[10:DELTA_HEADER_LEN]
            root = base if record[9] == 1 else found.get(base) or known_roots.get(base)
            if root is not None:
                found[address] = root
    return found


def _link(address: bytes, record: bytes | memoryview) -> tuple[int, bytes | None]:
    """(depth, base) from a record's header: (0, None) for a raw record."""
    if len(record) and record[0] == KIND_DELTA:
        _, depth, base, _ = _parse_delta(address, record)
        return depth, base
    return 0, None


def rebase_records(get: _Get, dependents: list[bytes], doomed: set[bytes]) -> dict[bytes, bytes]:
    """New records for ``dependents``, the kept deltas whose base is in ``doomed``
    (the chunks about to be deleted), against their nearest kept ancestors or whole
    (invariant (4))."""
    known: dict[bytes, bytes] = {}
    links: _Links = {}
    load_chunks(get, dependents, known, links)  # no cache: every link is needed below
    owned = {address: known[address] for address in dependents}
    hints = {}
    for address in dependents:
        ancestor = links[address][1]
        while ancestor in doomed:
            ancestor = links[ancestor][1]
        if ancestor is not None:
            hints[address] = ancestor
    capped = {b for a, b in hints.items() if links[b][0] >= chain_cap(a)}
    roots = {base: _chain_root(get, base) for base in capped}
    load_chunks(get, [*hints.values(), *roots.values()], known, links)
    # The ancestors' depths stay as stored, upper bounds once they too are
    # rebased, so every chain still descends (invariant (2)).
    records, _ = plan_records(owned, hints, known, links, roots, doomed)
    return records


class RecordInfo(NamedTuple):
    """How a chunk is stored (``LmdbChunkStore.record_info``)."""

    kind: int  # KIND_RAW, KIND_ZSTD or KIND_DELTA (-1: an empty, damaged record)
    depth: int  # 0 for a raw record
    base: bytes | None  # the delta base, None for a raw record
    size: int  # bytes of the record, header included


def describe_record(record: bytes | memoryview) -> RecordInfo:
    """How ``record`` stores its chunk (header only, unchecked)."""
    if len(record) > DELTA_HEADER_LEN and record[0] == KIND_DELTA:
        base = bytes(record[10:DELTA_HEADER_LEN])
        return RecordInfo(KIND_DELTA, record[9], base, len(record))
    return RecordInfo(record[0] if len(record) else -1, 0, None, len(record))


class RebuiltCache(LruCache[bytes, bytes]):
    """Chunks rebuilt from (or just written as) deltas, at most ``limit`` bytes.

    Safe to share between threads. Entries never go stale (chunks are immutable);
    ``discard`` drops deleted ones."""

    __slots__ = ()

    def __init__(self, limit: int) -> None:
        super().__init__(limit, weigh=len)

    @property
    def limit(self) -> int:
        return self.budget
