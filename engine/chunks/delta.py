"""The delta codec: a chunk written as its differences from the chunk it replaces.

An edit of a few rows rewrites a ~16 KiB leaf in which nearly every byte is the
same as in the old leaf. The LMDB store (``records.py``, record kind 2) keeps
such a chunk as a delta against that old chunk, its *base*; the chunk's address
is still the hash of its full bytes. This module only turns (base, new) byte
strings into delta bodies and back: it knows nothing of records, chains or stores.

Delta body (integers are unsigned LEB128 varints, below):

    OFFSET  SIZE  DESCRIPTION
    0       1     method: 0 = PATCH, 1 = ZSTD, 2 = ZSTD over lengths
    1       n     the method's payload, to the end of the body

PATCH (only when the new chunk has the base's length): the bytes to write over
the base, as n ops, their offsets and sizes first, then their literals:

    SIZE        DESCRIPTION
    varint      n: the number of ops
    n x varint  per op, interleaved: gap (equal bytes between the end of the
      varint    previous op, or offset 0, and this op's first byte), then size
                (bytes the op writes, >= 1)
    sum(size)   the ops' literals, in op order, to the end of the body

The new chunk is the base with every op's literal written over it; ops are in
ascending order and never overlap nor run past the base's end. (Offsets before
literals lets a reader decode all of them at once with numpy when there are
many, as in a delta that spans many commits.)

ZSTD: a zstd frame (``ZSTD_LEVEL``, with its content size, no checksum or dict
id) of the new chunk, compressed with the base as a raw-content dictionary, so
that runs shared with the base at any offset cost a few bytes each. Its content
size must be at most ``max_output(len(base))``: a damaged size field is an error,
never a huge allocation.

ZSTD over lengths (written for leaves; a leaf's header and buffer table are
``codec/leaf.py``'s): the leaf's string offsets, which all shift when one value
changes length, are replaced by the values' lengths, which do not, before the
ZSTD method's compression against the base (transformed the same way):

    SIZE        DESCRIPTION
    varint      k, then k varints: the buffers of the base taken as offsets
    varint      m, then m varints: the buffers of the new chunk taken as offsets
    n           a zstd frame (``LENGTHS_LEVEL``, content size written, no
                checksum or dict id) of the new chunk with each of its m buffers
                replaced by its u32 first differences (``x[0], x[1] - x[0], ...``
                mod 2**32), compressed with the base, its k buffers replaced the
                same way, as a raw-content dictionary

A reader replaces the base's k buffers, decompresses, and turns the new chunk's m
buffers back into running sums. The writer takes as offsets each buffer of
``4 * (rows + 1)`` bytes whose first u32 is 0 and last at most the chunk's length
(other buffers of a leaf have that length only by rare coincidence; checking every
value for order took 40% of the transform's time); the transform is invertible for
any bytes, so that guess only changes the size.

Varints: 7 bits per byte, least significant group first, high bit set on every
byte but the last. Examples: 0 -> ``00``; 127 -> ``7f``; 128 -> ``80 01``;
300 -> ``ac 02``; 16384 -> ``80 80 01``.

Worked example (PATCH): base ``b"lbl_000123 0.25 lbl_000777"``, new
``b"lbl_000456 0.25 lbl_000779"`` (26 bytes each, bytes 7-9 and 25 differ)::

    00                  method PATCH
    02                  two ops
    07 03               op 1: gap 7, size 3 -> bytes 7..9
    0f 01               op 2: gap 15 (bytes 10..24 equal), size 1 -> byte 25
    34 35 36 39         literals: "456" for op 1, "9" for op 2

Choosing a method (``encode_deltas``), measured on the leaves of a 1M-row
``(id BIGINT, label VARCHAR(10), score DOUBLE)`` table after 10,000 scattered
updates (1,847 leaf pairs, 16.7 KB each):

- same-length pairs: PATCH averages 86 B a leaf and costs ~8 us a leaf when the
  pairs of a commit are diffed in one vectorised pass (batched, below); ZSTD
  gives ~106 B at 60-90 us a leaf, so PATCH is tried first and ZSTD only when
  PATCH is not small enough. Applying a PATCH of one commit's edits (~10 ops)
  costs ~5-7 us a leaf.
- pairs of different lengths (labels changing length): ZSTD averages 1.2 KB a
  leaf (offsets past the first change all differ, a zstd match cannot add a
  constant) and ~20 us to apply. A common-prefix-plus-suffix splice was measured
  too and averaged 7.9-15.9 KB (the edits are spread over the whole leaf), so it
  is not offered. ZSTD over lengths: on the 555 leaf pairs of one commit of 1%
  updates with 8-12-character labels (300K rows), 1,044 B a leaf with plain ZSTD
  at level 1 and 1,030 B at level 3, against 171 B and 162 B over lengths; level
  1 took ~2/3 of level 3's time there (loaded machine), so ``LENGTHS_LEVEL`` = 1.
  A SPLICE over lengths (the base with runs of (offset, bytes deleted, bytes
  inserted): the changed rows' values, the changed lengths and buffer-table entries)
  was tried too: 70 B a leaf against 95 B on pairs with two edits, but 145 us of CPU
  a pair to build (numpy and Python, batched over all pairs of a commit) against
  85 us for ZSTD over lengths, and no faster to apply, so it is not offered. Levels
  -1 to -7 and smaller hash tables were no faster than level 1 either.
- same-length pairs whose bytes shifted (a label one byte longer, the next one
  byte shorter) differ in most words: such a pair is not PATCHed at all when over
  half its 8-byte words differ (a PATCH over ``1 / LARGE_PATCH`` of its chunk is
  weighed against zstd, and loses to it when bytes shifted). Nor is one built for
  a pair whose differing words alone (each costs the PATCH at least a byte) put it
  over ``1 / LARGE_PATCH``, unless the zstd methods do not beat that bound: with
  8-12-byte labels most leaf pairs of a commit keep their length (the 8-byte
  padding absorbs the change) and building their PATCHes took a third of the
  encoding time.
- ``MERGE_GAP``: two differing bytes separated by at most this many equal bytes
  go into one op, since a new op costs two varints (>= 2 bytes).

A delta is kept only when its body is at most ``1 / MAX_FRACTION`` of the new
chunk's length; otherwise the caller stores the chunk whole.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from functools import partial

import numpy as np
import zstandard

from ..errors import CorruptChunk
from ..parallel import in_halves
from .compression import FrameParams

METHOD_PATCH = 0
METHOD_ZSTD = 1
METHOD_LENGTHS = 2
MERGE_GAP = 2  # equal bytes an op may span rather than start a new op (measured: see above)
MAX_FRACTION = 4  # keep a delta only if len(body) * MAX_FRACTION <= len(new chunk)
# zstd's default level. Level 1 is no faster on 16 KiB pairs (60-90 us either way:
# loading the dictionary dominates) but its match finder skips ahead and missed
# most of the base after one 12-byte insertion (645 B against 39 B at level 3);
# levels above 3 gain under 2% on the measured leaves for up to 2.5x the time.
ZSTD_LEVEL = 3
LENGTHS_LEVEL = 1  # ZSTD over lengths (measured: see above)
# A PATCH over 1 / LARGE_PATCH of its chunk (bytes shifted, not written over) is
# weighed against the zstd methods; one commit's edits PATCH to ~86 B a 16 KiB leaf.
LARGE_PATCH = 32
# Same-length pairs are diffed this many bytes at a time: the joined bases, new
# chunks and their comparison then stay in cache, and each batch's fixed numpy
# overhead is paid rarely. Measured on the ~780 leaf pairs (12.5 MB) of one commit
# of 1,000 scattered updates, comparing 8 bytes at a time: 512 KiB 6.6 ms,
# 2 MiB 5.0 ms, 4 MiB 5.7 ms.
PATCH_BATCH_BYTES = 2 << 20
# A PATCH of more ops is applied with numpy. Measured on a 16 KiB base: 20 ops take
# 7 us one by one and 20 us with numpy; 64 ops 29 / 22 us; 300 ops 89 / 27 us.
_NUMPY_OPS = 56
_MIN_BASE = 64  # shorter bases make no useful zstd dictionary
_ZSTD_THREADED = 8  # pairs for zstd from which they are split between two threads

_ZSTD_PARAMS: FrameParams = {
    "write_content_size": True,
    "write_checksum": False,
    "write_dict_id": False,
}


def max_output(base_len: int) -> int:
    """The longest chunk a delta against a base of ``base_len`` bytes may produce.

    Writers only delta a chunk within this bound (a chunk over twice its base's
    size is no near-copy of it); readers refuse a ZSTD frame that claims more.
    """
    return 2 * base_len + 4096


def encode_delta(base: bytes, new: bytes) -> bytes | None:
    """The delta body that turns ``base`` into ``new``, or None if it is not small.

    Example:
        >>> body = encode_delta(b"x" * 100, b"x" * 50 + b"y" + b"x" * 49)
        >>> body.hex(" ")
        '00 01 32 01 79'
        >>> apply_delta(b"x" * 100, body, b"\\0" * 20) == b"x" * 50 + b"y" + b"x" * 49
        True
    """
    return encode_deltas([(base, new)])[0]


def encode_deltas(pairs: Sequence[tuple[bytes, bytes]]) -> list[bytes | None]:
    """``encode_delta`` for many (base, new) pairs; same-length pairs diffed in one pass."""
    out: list[bytes | None] = [None] * len(pairs)
    same = [i for i, (base, new) in enumerate(pairs) if len(base) == len(new) and new]
    groups = _batches(same, pairs)
    # numpy drops the GIL for the compares: two batches run at once on two cores
    bodies = in_halves(partial(_patch_groups, pairs), groups, 2)
    deferred: dict[int, int] = {}  # pair -> a lower bound on its (large) PATCH's length
    for group, group_bodies in zip(groups, bodies, strict=True):
        for i, body in zip(group, group_bodies, strict=True):
            if isinstance(body, int):
                deferred[i] = body
            elif body is not None and small_enough(body, len(pairs[i][1])):
                out[i] = body
    tried = [i for i, pair in enumerate(pairs) if _for_zstd(pair, out[i])]
    # zstd drops the GIL while it loads the base as its dictionary and compresses (most
    # of a pair's time): two halves run at once on two cores
    zstd_bodies = in_halves(partial(_zstd_bodies, pairs), tried, _ZSTD_THREADED)
    for i, body in zip(tried, zstd_bodies, strict=True):
        patch = out[i]
        if small_enough(body, len(pairs[i][1])) and (patch is None or len(body) < len(patch)):
            out[i] = body
    # a deferred PATCH is built only where it could still win: where no zstd body is
    # at or under its lower bound (a PATCH wins ties, as when it is built first)
    late = [i for i, bound in deferred.items() if _patch_may_win(out[i], bound)]
    patches = _patches([pairs[i] for i in late]) if late else []
    for i, built in zip(late, patches, strict=True):
        chosen = out[i]
        if isinstance(built, bytes) and small_enough(built, len(pairs[i][1])):
            if chosen is None or len(built) <= len(chosen):
                out[i] = built
    return out


def _patch_may_win(body: bytes | None, bound: int) -> bool:
    """Whether a deferred PATCH of at least ``bound`` bytes could still be chosen
    over ``body`` (the zstd methods' body, or None)."""
    return body is None or len(body) >= bound


def _for_zstd(pair: tuple[bytes, bytes], patch: bytes | None) -> bool:
    """Whether a pair is tried with the zstd methods: not when a few cells were written
    over (a PATCH of ``1 / LARGE_PATCH`` of the chunk at most, the common case), nor
    when no delta could be small."""
    base, new = pair
    if patch is not None and len(patch) * LARGE_PATCH <= len(new):
        return False
    return len(base) >= _MIN_BASE and len(new) <= max_output(len(base))


def _zstd_bodies(pairs: Sequence[tuple[bytes, bytes]], indices: Sequence[int]) -> list[bytes]:
    """The ZSTD-over-lengths body of each pair ``indices`` names, or its ZSTD body when
    its chunks are no leaves with offsets."""
    return [_lengths_delta(*pairs[i]) or _zstd_delta(*pairs[i]) for i in indices]


def apply_delta(base: bytes, body: bytes | memoryview, address: bytes) -> bytes:
    """The chunk that ``body`` encodes against ``base``.

    ``address`` names the chunk being rebuilt, for errors only.

    Raises:
        CorruptChunk: the body is empty, of an unknown method, or malformed.
    """
    return bytes(apply_delta_into(bytearray(base), body, address))


def apply_delta_into(buffer: bytearray, body: bytes | memoryview, address: bytes) -> bytearray:
    """``apply_delta`` on a mutable base: PATCH edits ``buffer`` in place and returns
    it, ZSTD returns a new buffer. A chain of deltas is applied to one buffer this
    way, with no copy per link.

    Raises:
        CorruptChunk: as ``apply_delta``.
    """
    if not len(body):
        raise CorruptChunk(address, "its delta body is empty", 0)
    method = body[0]
    if method == METHOD_PATCH:
        _apply_patch(buffer, body, address)
        return buffer
    if method == METHOD_ZSTD:
        return bytearray(_apply_zstd(bytes(buffer), bytes(body[1:]), address))
    if method == METHOD_LENGTHS:
        return _apply_lengths(buffer, body, address)
    raise CorruptChunk(address, f"its delta has unknown method {method}", 0)


# --- PATCH -----------------------------------------------------------------------------


def _batches(indices: list[int], pairs: Sequence[tuple[bytes, bytes]]) -> list[list[int]]:
    """``indices`` cut into runs of about ``PATCH_BATCH_BYTES`` of new chunk bytes."""
    groups: list[list[int]] = [[]]
    size = 0
    for i in indices:
        if size >= PATCH_BATCH_BYTES:
            groups.append([])
            size = 0
        groups[-1].append(i)
        size += len(pairs[i][1])
    return [group for group in groups if group]


def _patch_groups(
    pairs: Sequence[tuple[bytes, bytes]], groups: Sequence[list[int]]
) -> list[list[bytes | int | None]]:
    return [_patches([pairs[i] for i in group], defer=True) for group in groups]


def _patches(pairs: Sequence[tuple[bytes, bytes]], defer: bool = False) -> list[bytes | int | None]:
    """PATCH bodies of same-length pairs, computed for all pairs in one numpy pass;
    None for a pair whose bytes shifted (over half its 8-byte words differ). With
    ``defer``, a pair whose PATCH would be large (each differing word costs at least
    a byte: over ``1 / LARGE_PATCH`` of its chunk) gets that lower bound on its
    length instead of a body: the zstd methods are tried on it first, and usually
    win (a string value changed length and shifted the bytes after it)."""
    lengths = np.fromiter((len(new) for _, new in pairs), np.int64, len(pairs))
    ends = np.cumsum(lengths)
    old = np.frombuffer(b"".join(base for base, _ in pairs), np.uint8)
    new = np.frombuffer(b"".join(new for _, new in pairs), np.uint8)
    whole = len(old) - len(old) % 8
    words = np.flatnonzero(old[:whole].view(np.uint64) != new[:whole].view(np.uint64))
    # bytes shifted (not written over) when over half the 8-byte words differ: such
    # a PATCH loses to a zstd method, skip building it
    # differing words per pair (a word counts for the pair its first byte is in): the
    # words before each pair's end found by bisection, not each word's pair (the words
    # of pairs whose bytes shifted are most of them)
    before_end = np.searchsorted(words, (ends + 7) // 8, "left")
    per_pair = np.diff(before_end, prepend=0)
    hopeless = per_pair * 16 > lengths
    large = ~hopeless & ((per_pair + 1) * LARGE_PATCH > lengths) if defer else hopeless & False
    if not (hopeless | large).any():
        return list(patch_bodies(new, ends - lengths, ends, _differing_bytes(old, new, words)))
    skip = (hopeless | large).tolist()
    keep = [pair for pair, drop in zip(pairs, skip, strict=True) if not drop]
    bodies = iter(_patches(keep) if keep else [])
    bounds = (per_pair + 1).tolist()
    return [
        (bounds[k] if large[k] else None) if drop else next(bodies) for k, drop in enumerate(skip)
    ]


def patch_bodies(
    new: np.ndarray, starts: np.ndarray, ends: np.ndarray, differ: np.ndarray
) -> list[bytes]:
    """The PATCH body of each new chunk ``new[starts[i]:ends[i]]`` against a base of
    the same length that differs from it exactly at the (ascending) positions
    ``differ`` of ``new``; for a writer that knows where it wrote (``codec/patch.py``).
    The bodies are those ``encode_deltas`` makes, before its size test."""
    if not len(starts):
        return []
    pair_of = np.searchsorted(ends, differ, "right")
    # a run of differing bytes ends where the next one is far away or in another pair
    breaks = np.flatnonzero((np.diff(differ) > MERGE_GAP + 1) | (np.diff(pair_of) != 0))
    run_start = differ[np.concatenate([[0], breaks + 1])] if len(differ) else differ
    run_stop = differ[np.concatenate([breaks, [len(differ) - 1]])] + 1 if len(differ) else differ
    run_pair = np.searchsorted(ends, run_start, "right")
    first = np.ones(len(run_start), bool)
    first[1:] = run_pair[1:] != run_pair[:-1]
    previous_stop = np.empty_like(run_start)
    previous_stop[1:] = run_stop[:-1]
    previous_stop[first] = starts[run_pair[first]]
    gaps = run_start - previous_stop
    sizes = run_stop - run_start
    gap_len, size_len = _varint_lengths(gaps), _varint_lengths(sizes)
    n = len(starts)
    counts = np.bincount(run_pair, minlength=n)
    count_len = _varint_lengths(counts)
    op_len = gap_len + size_len
    header_len = 1 + count_len + _sum_by(run_pair, op_len, n)
    body_len = header_len + _sum_by(run_pair, sizes, n)
    body_end = np.cumsum(body_len)
    body_start = body_end - body_len
    first_op = np.maximum.accumulate(np.where(first, np.arange(len(first)), 0))
    op_pos = body_start[run_pair] + 1 + count_len[run_pair] + _rank(op_len, first_op)
    literal_pos = body_start[run_pair] + header_len[run_pair] + _rank(sizes, first_op)
    out = np.zeros(int(body_end[-1]), np.uint8)  # byte 0 of each body: METHOD_PATCH (0)
    _put_varints(out, body_start + 1, counts, count_len)
    _put_varints(out, op_pos, gaps, gap_len)
    _put_varints(out, op_pos + gap_len, sizes, size_len)
    out[_ranges(literal_pos, sizes)] = new[_ranges(run_start, sizes)]
    raw = out.tobytes()
    return [raw[a:b] for a, b in zip(body_start.tolist(), body_end.tolist(), strict=True)]


def _differing_bytes(old: np.ndarray, new: np.ndarray, words: np.ndarray) -> np.ndarray:
    """Positions where two equal-length byte arrays differ, ascending, given the
    8-byte ``words`` that differ (edits touch a few bytes of a leaf)."""
    whole = len(old) - len(old) % 8
    near = np.concatenate(
        [(words[:, None] * 8 + np.arange(8)).reshape(-1), np.arange(whole, len(old))]
    )
    return near[old[near] != new[near]]


def _sum_by(groups: np.ndarray, values: np.ndarray, count: int) -> np.ndarray:
    return np.bincount(groups, weights=values, minlength=count).astype(np.int64)


def _rank(values: np.ndarray, first: np.ndarray) -> np.ndarray:
    """For each op, the sum of ``values`` over the ops before it in its own body."""
    before = np.cumsum(values) - values
    return before - before[first]


def _varint_lengths(values: np.ndarray) -> np.ndarray:
    lengths = np.ones(len(values), np.int64)
    for bits in (7, 14, 21, 28, 35, 42, 49, 56):
        lengths += values >= (1 << bits)
    return lengths


def _put_varints(out: np.ndarray, pos: np.ndarray, values: np.ndarray, lengths: np.ndarray) -> None:
    for k in range(int(lengths.max(initial=0))):
        has = lengths > k
        byte = (values[has] >> (7 * k)) & 0x7F
        byte |= np.where(lengths[has] > k + 1, 0x80, 0)
        out[pos[has] + k] = byte


def _ranges(starts: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """The concatenation of ``arange(s, s + n)`` for each start s and size n."""
    total = int(sizes.sum())
    if not total:
        return np.zeros(0, np.int64)
    offsets = np.cumsum(sizes) - sizes
    return np.arange(total) - np.repeat(offsets - starts, sizes)


def _apply_patch(out: bytearray, body: bytes | memoryview, address: bytes) -> None:
    """Write a PATCH body's literals over ``out``: op by op in Python for a few ops,
    in one numpy scatter for many (``_NUMPY_OPS``)."""
    try:
        count, i = _varint(body, 1)
        if count > _NUMPY_OPS:
            _apply_patch_numpy(out, body, i, count, address)
            return
        ops = []
        for _ in range(count):
            byte = body[i]  # the varints are decoded inline, the one-byte case first
            i += 1
            gap = byte & 0x7F
            shift = 7
            while byte >= 0x80:
                byte = body[i]
                i += 1
                gap |= (byte & 0x7F) << shift
                shift += 7
            byte = body[i]
            i += 1
            size = byte & 0x7F
            shift = 7
            while byte >= 0x80:
                byte = body[i]
                i += 1
                size |= (byte & 0x7F) << shift
                shift += 7
            ops.append((gap, size))
    except IndexError:
        raise CorruptChunk(address, "its PATCH delta ends inside its op list", len(body)) from None
    pos, limit, end = 0, len(out), len(body)
    for gap, size in ops:
        pos += gap
        stop = pos + size
        if size == 0 or stop > limit or i + size > end:
            raise CorruptChunk(
                address, f"its PATCH delta writes {size} bytes at {pos} of {limit}", i
            )
        out[pos:stop] = body[i : i + size]
        pos = stop
        i += size
    if i != end:
        raise CorruptChunk(address, f"its PATCH delta has {end - i} bytes past its last op", i)


def _apply_patch_numpy(
    out: bytearray, body: bytes | memoryview, start: int, count: int, address: bytes
) -> None:
    raw = np.frombuffer(body, np.uint8)
    ends = np.flatnonzero(raw[start:] < 0x80)[: 2 * count]  # last byte of each varint
    if len(ends) < 2 * count:
        raise CorruptChunk(address, "its PATCH delta ends inside its op list", len(raw))
    firsts = np.concatenate([[0], ends[:-1] + 1])
    if (ends - firsts).max(initial=0) > 8:
        raise CorruptChunk(address, "its PATCH delta has a varint over 63 bits", start)
    digits = raw[start : start + ends[-1] + 1].astype(np.int64) & 0x7F
    digits <<= 7 * (np.arange(len(digits)) - np.repeat(firsts, ends - firsts + 1))
    values = np.add.reduceat(digits, firsts)
    gaps, sizes = values[0::2], values[1::2]
    stops = np.cumsum(gaps + sizes)
    literals = start + int(ends[-1]) + 1
    if (sizes == 0).any() or stops[-1] > len(out) or literals + sizes.sum() != len(raw):
        raise CorruptChunk(address, f"its PATCH ops do not fit a {len(out)}-byte base", start)
    np.frombuffer(out, np.uint8)[_ranges(stops - sizes, sizes)] = raw[literals:]


def _varint(body: bytes | memoryview, i: int) -> tuple[int, int]:
    """The varint at ``body[i]`` and the offset after it (IndexError past the end)."""
    value = shift = 0
    while True:
        byte = body[i]
        i += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return value, i


# --- ZSTD ------------------------------------------------------------------------------


def _zstd_delta(base: bytes, new: bytes) -> bytes:
    dictionary = zstandard.ZstdCompressionDict(base, dict_type=zstandard.DICT_TYPE_RAWCONTENT)
    compressor = zstandard.ZstdCompressor(level=ZSTD_LEVEL, dict_data=dictionary, **_ZSTD_PARAMS)
    return bytes([METHOD_ZSTD]) + compressor.compress(new)


def _apply_zstd(base: bytes, frame: bytes, address: bytes) -> bytes:
    try:
        size = zstandard.frame_content_size(frame)
    except zstandard.ZstdError as exc:
        raise CorruptChunk(
            address, f"its ZSTD delta has no valid frame header ({exc})", 1
        ) from None
    if size < 0 or size > max_output(len(base)):
        raise CorruptChunk(
            address, f"its ZSTD delta claims {size} bytes from a {len(base)}-byte base", 1
        )
    try:
        dictionary = zstandard.ZstdCompressionDict(base, dict_type=zstandard.DICT_TYPE_RAWCONTENT)
        data = zstandard.ZstdDecompressor(dict_data=dictionary).decompress(frame)
    except zstandard.ZstdError as exc:
        raise CorruptChunk(address, f"its ZSTD delta does not decompress ({exc})", 1) from None
    if len(data) != size:
        raise CorruptChunk(address, f"its ZSTD delta gave {len(data)} of {size} bytes", 1)
    return data


# --- ZSTD over lengths ------------------------------------------------------------------

_LEAF_HEADER = struct.Struct("<BBHI")  # version, level, buffer count, rows (codec/leaf.py)
_LEAF_VERSION = 1
_U32 = struct.Struct("<I")


def _buffers(chunk: bytes | bytearray) -> list[tuple[int, int]] | None:
    """(start, length) of each buffer of a leaf laid out as ``codec/leaf.py`` says,
    or None when ``chunk`` is not such a leaf."""
    if len(chunk) < 12:
        return None
    version, level, count, _ = _LEAF_HEADER.unpack_from(chunk)
    if version != _LEAF_VERSION or level != 0 or len(chunk) < 12 + 4 * count:
        return None
    out = []
    pos = 12 + 4 * count
    for length in struct.unpack_from(f"<{count}I", chunk, 12):
        pos = (pos + 7) & ~7
        if pos + length > len(chunk):
            return None
        out.append((pos, length))
        pos += length
    return out


def _offset_buffers(chunk: bytes, buffers: list[tuple[int, int]] | None) -> list[int] | None:
    """The buffers (``_buffers(chunk)``) of a leaf that hold offsets (see the module
    docstring), or None when ``chunk`` is not a leaf."""
    if buffers is None:
        return None
    rows = _LEAF_HEADER.unpack_from(chunk)[3]
    if not rows:
        return []
    size = 4 * (rows + 1)
    return [
        i
        for i, (start, length) in enumerate(buffers)
        if length == size
        and _U32.unpack_from(chunk, start)[0] == 0
        and _U32.unpack_from(chunk, start + size - 4)[0] <= len(chunk)
    ]


def _to_lengths(
    chunk: bytes | bytearray,
    which: Sequence[int],
    address: bytes,
    buffers: list[tuple[int, int]] | None = None,
) -> bytearray:
    """``chunk`` with the buffers ``which`` replaced by their u32 first differences
    (``buffers``: ``_buffers(chunk)`` when the caller has it)."""
    out = bytearray(chunk)
    if buffers is None and which:
        buffers = _buffers(out)
    for i in which:
        values = _offsets(out, buffers, i, address)
        values[1:] -= values[:-1]  # modulo 2**32: invertible for any bytes (numpy
        # buffers the overlapping operands, so each difference is of the old values)
    return out


def _offsets(
    chunk: bytearray, buffers: list[tuple[int, int]] | None, i: int, address: bytes
) -> np.ndarray:
    """Buffer ``i`` of ``chunk`` as a writable u32 view, refused unless it is one."""
    if buffers is None or i >= len(buffers) or buffers[i][1] % 4:
        raise CorruptChunk(address, f"its lengths delta names buffer {i}, not an offsets buffer", 1)
    start, length = buffers[i]
    return np.frombuffer(chunk, "<u4", length // 4, start)


def _from_lengths(chunk: bytearray, which: Sequence[int], address: bytes) -> bytearray:
    """The inverse of ``_to_lengths``: running sums of the buffers ``which``."""
    buffers = _buffers(chunk) if which else []
    for i in which:
        values = _offsets(chunk, buffers, i, address)
        np.cumsum(values, dtype=np.uint32, out=values)
    return chunk


def _lengths_delta(base: bytes, new: bytes) -> bytes | None:
    """A ZSTD-over-lengths body, or None when either chunk is not a leaf with offsets."""
    base_buffers, new_buffers = _buffers(base), _buffers(new)
    in_base, in_new = _offset_buffers(base, base_buffers), _offset_buffers(new, new_buffers)
    if not in_base or not in_new:
        return None
    header = bytearray([METHOD_LENGTHS])
    for which in (in_base, in_new):
        header += _varint_bytes(len(which)) + b"".join(_varint_bytes(i) for i in which)
    dictionary = zstandard.ZstdCompressionDict(
        _to_lengths(base, in_base, b"", base_buffers),
        dict_type=zstandard.DICT_TYPE_RAWCONTENT,
    )
    compressor = zstandard.ZstdCompressor(level=LENGTHS_LEVEL, dict_data=dictionary, **_ZSTD_PARAMS)
    return bytes(header) + compressor.compress(_to_lengths(new, in_new, b"", new_buffers))


def _apply_lengths(base: bytearray, body: bytes | memoryview, address: bytes) -> bytearray:
    try:
        lists = []
        i = 1
        for _ in range(2):
            count, i = _varint(body, i)
            which = []
            for _ in range(count):
                value, i = _varint(body, i)
                which.append(value)
            lists.append(which)
    except IndexError:
        raise CorruptChunk(
            address, "its lengths delta ends inside its buffer lists", len(body)
        ) from None
    reference = _to_lengths(base, lists[0], address)
    data = _apply_zstd(bytes(reference), bytes(body[i:]), address)
    return _from_lengths(bytearray(data), lists[1], address)


def _varint_bytes(value: int) -> bytes:
    out = bytearray()
    while value >= 0x80:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def small_enough(body: bytes, new_len: int) -> bool:
    """Whether a delta body is worth keeping for a chunk of ``new_len`` bytes."""
    return len(body) * MAX_FRACTION <= new_len
