"""Commit objects and their canonical byte format.

A commit names one root value (the committed state of every table; an opaque
address here), its parents, who made it, when, why, free-form metadata, and
its height in the commit graph. The commit's address is the hash of its
encoding, so the address covers the data (through the root), the parents and
the metadata: two commits are the same commit exactly when every field is
equal, and no field of a stored commit can change without changing its
address (refs.py invariant (3)).

Byte format (version 1). All integers are big-endian.

    OFFSET      SIZE    DESCRIPTION
    0           4       magic b"ACMT"
    4           1       format version, 1
    5           8       height, u64: 1 for a commit without parents, else
                        1 + the greatest height among its parents
    13          8       timestamp, i64: microseconds since 1970-01-01T00:00:00Z
    21          20      root value address
    41          1       parent count P, 0..255
    42          20*P    parent addresses, first parent first, no duplicates
    42+20*P     ...     four strings, each a u32 byte length and then UTF-8:
                        author, email, message, metadata

The metadata string is a JSON object written with sorted keys, the
separators "," and ":", non-ASCII characters written as themselves (not
``\\u`` escapes) and no NaN or infinities. Nothing follows the last string.

Canonical encoding: one commit value gives exactly one byte string. Every
field has a fixed width or a length prefix, parents keep their given order
(the first parent is the branch the commit was made on), and metadata is
normalised through that one JSON spelling when the ``Commit`` is built, so
``{"b": 1, "a": (2,)}`` and ``{"a": [2], "b": 1}`` are the same commit.
Decoding refuses any byte string that encoding would not produce (unknown
version, trailing bytes, non-canonical JSON, height that contradicts the
parent count), so a chunk decodes only if it re-encodes to itself.

Timestamps are integer microseconds rather than float seconds so that the
value survives the round trip exactly and orders without rounding; use
``timestamp_from_datetime`` and ``datetime_from_timestamp`` to convert.

The string helpers ``_pack_str`` and ``_Reader`` are shared by the sibling
codecs ``tag.py`` and ``working_set.py``, which follow the same conventions.
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, NoReturn

from arbordb.engine.errors import CorruptChunk, FormatVersionError, InvalidInput
from arbordb.engine.hash import ADDRESS_LEN, address_of, format_address, require_address

COMMIT_MAGIC = b"ACMT"
COMMIT_VERSION = 1  # bump when the layout above changes (it changes every address)

# magic, version, height, timestamp, root, parent count
_HEADER = ">4sBQq20sB"
_HEADER_LEN = 42
assert struct.calcsize(_HEADER) == _HEADER_LEN
assert ADDRESS_LEN == 20  # the "20s" fields above

_STR_LEN = ">I"
_MAX_PARENTS = 255
_I64_MIN, _I64_MAX = -(2**63), 2**63 - 1
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


# --- shared codec helpers (also used by tag.py and working_set.py) ------------


def canonical_json(value: Any, what: str) -> str:
    """Return the one JSON spelling of ``value`` (an object) used inside chunks.

    Raises:
        InvalidInput: ``value`` is not a JSON object, or holds something JSON
            cannot carry (a set, bytes, NaN, non-string keys of mixed types).
    """
    if not isinstance(value, dict):
        raise InvalidInput(f"{what} must be a dict (a JSON object), got {type(value).__name__}")
    try:
        return json.dumps(
            value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
        )
    except (TypeError, ValueError) as exc:
        raise InvalidInput(f"{what} is not JSON-serialisable: {exc}") from None


def normalise_json(value: Any, what: str) -> dict[str, Any]:
    """Return a fresh dict equal to what decoding ``canonical_json(value)`` gives."""
    return json.loads(canonical_json(value, what))


def check_timestamp(value: Any, what: str) -> int:
    """Return ``value`` if it is an int that fits the i64 microsecond field."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(
            f"{what} must be int microseconds since the epoch, got {type(value).__name__} "
            "(convert a datetime with timestamp_from_datetime)"
        )
    if not _I64_MIN <= value <= _I64_MAX:
        raise InvalidInput(f"{what} {value} does not fit in 64 bits")
    return value


def check_str(value: Any, what: str) -> str:
    """Return ``value`` if it is a str that encodes to UTF-8."""
    if not isinstance(value, str):
        raise InvalidInput(f"{what} must be a str, got {type(value).__name__}")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise InvalidInput(f"{what} is not valid Unicode text: {exc}") from None
    return value


def _pack_str(text: str) -> bytes:
    raw = text.encode("utf-8")
    return struct.pack(_STR_LEN, len(raw)) + raw


class _Reader:
    """Reads fields from one chunk, raising CorruptChunk with the offset on any damage."""

    __slots__ = ("data", "pos")

    def __init__(self, data: bytes, what: str, magic: bytes, version: int) -> None:
        self.data = bytes(data)
        self.pos = 0
        found = self.data[: len(magic)]
        if found != magic:
            self.fail(f"not a {what} chunk (starts with {found!r}, expected {magic!r})", 0)
        self.pos = len(magic)
        got = self.take(1)[0]
        if got > version:
            address = format_address(address_of(self.data))
            raise FormatVersionError(f"{what} chunk {address}", got, version)
        if got != version:
            self.fail(f"{what} format version {got} is not defined", len(magic))

    def fail(self, reason: str, offset: int | None = None) -> NoReturn:
        # the address is computed only here: decoding intact chunks never pays for it
        raise CorruptChunk(address_of(self.data), reason, self.pos if offset is None else offset)

    def take(self, size: int) -> bytes:
        end = self.pos + size
        if end > len(self.data):
            self.fail(f"truncated: needs {size} bytes, {len(self.data) - self.pos} left")
        out = self.data[self.pos : end]
        self.pos = end
        return out

    def unpack(self, fmt: str) -> tuple[Any, ...]:
        return struct.unpack(fmt, self.take(struct.calcsize(fmt)))

    def string(self, what: str) -> str:
        start = self.pos
        (size,) = self.unpack(_STR_LEN)
        try:
            return self.take(size).decode("utf-8")
        except UnicodeDecodeError:
            self.fail(f"{what} is not valid UTF-8", start)

    def json_object(self, what: str) -> dict[str, Any]:
        start = self.pos
        text = self.string(what)
        if text == "{}":  # the common case, and canonical
            return {}
        try:
            value = json.loads(text)
            canonical = isinstance(value, dict) and canonical_json(value, what) == text
        except ValueError:  # bad JSON, or NaN (InvalidInput is a ValueError)
            canonical = False
        if not canonical:
            self.fail(f"{what} is not a canonical JSON object", start)
        return value

    def end(self) -> None:
        if self.pos != len(self.data):
            self.fail(f"{len(self.data) - self.pos} unexpected bytes after the last field")


# --- commits -----------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Commit:
    """One immutable commit; see the module docstring for its bytes.

    Attributes:
        root: address of the root value chunk this commit records.
        parents: parent commit addresses, first parent first (empty for the
            initial commit).
        author: author name.
        email: author e-mail.
        timestamp: int microseconds since 1970-01-01T00:00:00Z.
        message: commit message.
        height: 1 for a commit without parents, else 1 + the greatest parent
            height. The constructor checks only what it can without a store
            (1 with no parents, at least 2 with some); ``graph.make_commit``
            computes it from the stored parents.
        metadata: JSON object; stored normalised (a fresh dict, tuples become
            lists), so treat it as read-only.

    Raises:
        InvalidInput: a field has the wrong type or an impossible value.
    """

    root: bytes
    parents: tuple[bytes, ...]
    author: str
    email: str
    timestamp: int
    message: str
    height: int
    metadata: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        set_(self, "root", require_address(self.root, "commit root"))
        if isinstance(self.parents, bytes | bytearray | memoryview | str):
            raise InvalidInput("commit parents must be a sequence of addresses, not one value")
        parents = tuple(require_address(p, "commit parent") for p in self.parents)
        if len(set(parents)) != len(parents):
            raise InvalidInput("commit parents must be distinct (a commit cannot merge itself)")
        if len(parents) > _MAX_PARENTS:
            raise InvalidInput(f"a commit has at most {_MAX_PARENTS} parents, got {len(parents)}")
        set_(self, "parents", parents)
        for name in ("author", "email", "message"):
            check_str(getattr(self, name), f"commit {name}")
        check_timestamp(self.timestamp, "commit timestamp")
        _check_height(self.height, len(parents), InvalidInput)
        set_(self, "metadata", normalise_json(self.metadata, "commit metadata"))

    def __hash__(self) -> int:  # metadata is a dict, so the generated hash would fail
        return hash((self.root, self.parents, self.timestamp, self.height, self.message))

    @property
    def address(self) -> bytes:
        """The commit's address: the hash of ``encode_commit(self)``."""
        return address_of(encode_commit(self))


def _check_height(height: Any, parent_count: int, error: type[Exception]) -> None:
    if isinstance(height, bool) or not isinstance(height, int) or not 1 <= height < 2**64:
        raise error(f"commit height must be an int from 1 to 2**64-1, got {height!r}")
    if parent_count == 0 and height != 1:
        raise error(f"a commit without parents has height 1, got {height}")
    if parent_count > 0 and height < 2:
        raise error(f"a commit with parents has height at least 2, got {height}")


def encode_commit(commit: Commit) -> bytes:
    """Return the canonical bytes of ``commit`` (its address is their hash).

    Example:
        >>> c = Commit(root=bytes(20), parents=(), author="a", email="a@x",
        ...            timestamp=0, message="init", height=1)
        >>> decode_commit(encode_commit(c)) == c
        True
    """
    parts = [
        struct.pack(
            _HEADER,
            COMMIT_MAGIC,
            COMMIT_VERSION,
            commit.height,
            commit.timestamp,
            commit.root,
            len(commit.parents),
        ),
        *commit.parents,  # invariant (3): parents are inside the hashed bytes
        _pack_str(commit.author),
        _pack_str(commit.email),
        _pack_str(commit.message),
        _pack_str(canonical_json(commit.metadata, "commit metadata")),
    ]
    return b"".join(parts)


def decode_commit(data: bytes) -> Commit:
    """Decode the bytes of a commit chunk.

    Raises:
        CorruptChunk: the bytes are not a commit, or not the canonical
            encoding of one (the error names the chunk and the byte offset).
        FormatVersionError: written by a newer format version.
    """
    r = _Reader(data, "commit", COMMIT_MAGIC, COMMIT_VERSION)
    height, timestamp, root, count = r.unpack(">Qq20sB")
    parents = tuple(r.take(ADDRESS_LEN) for _ in range(count))
    if len(set(parents)) != count:
        r.fail("commit lists the same parent twice", _HEADER_LEN)
    try:
        _check_height(height, count, ValueError)
    except ValueError as exc:
        r.fail(str(exc), 5)
    author = r.string("author")
    email = r.string("email")
    message = r.string("message")
    metadata = r.json_object("metadata")
    r.end()
    # Every rule Commit.__post_init__ checks holds by now (fixed-width fields,
    # UTF-8 text, distinct parents, a consistent height, canonical JSON), so
    # skip it: walks decode thousands of commits and validation doubles the cost.
    commit = object.__new__(Commit)
    for name, value in (
        ("root", root),
        ("parents", parents),
        ("author", author),
        ("email", email),
        ("timestamp", timestamp),
        ("message", message),
        ("height", height),
        ("metadata", metadata),
    ):
        object.__setattr__(commit, name, value)
    return commit


def commit_children(address: bytes, data: bytes) -> list[bytes]:
    """What a commit chunk names (for gc, fsck and sync): its root, then its parents."""
    commit = decode_commit(data)
    return [commit.root, *commit.parents]


def is_commit_chunk(data: bytes) -> bool:
    """True if ``data`` starts like a commit chunk (cheap; does not validate it)."""
    return data[:4] == COMMIT_MAGIC


# --- timestamps --------------------------------------------------------------


def timestamp_from_datetime(moment: datetime) -> int:
    """Return ``moment`` as int microseconds since the epoch (a naive datetime is UTC).

    Example:
        >>> timestamp_from_datetime(datetime(1970, 1, 1, 0, 0, 1))
        1000000
    """
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (moment - _EPOCH) // _MICROSECOND


def datetime_from_timestamp(timestamp: int) -> datetime:
    """Return the aware UTC datetime of int microseconds since the epoch."""
    return _EPOCH + timestamp * _MICROSECOND


def now_timestamp() -> int:
    """Return the current time as int microseconds since the epoch."""
    return timestamp_from_datetime(datetime.now(UTC))
