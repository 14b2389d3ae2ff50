"""Annotated tag objects and their canonical byte format.

A tag ref (``refs/tags/<name>``, see refs.py) names a tag chunk, and the tag
chunk names the tagged commit together with who tagged it, when and why, as
Dolt's tags do. Resolving a tag to its commit is "peeling" it.

Byte format (version 1). All integers are big-endian; strings are a u32 byte
length and then UTF-8, as in commit.py.

    OFFSET  SIZE    DESCRIPTION
    0       4       magic b"ATAG"
    4       1       format version, 1
    5       8       timestamp, i64: microseconds since 1970-01-01T00:00:00Z
    13      20      target commit address
    33      ...     four strings: name, tagger, email, message

Canonical encoding: every field has a fixed width or a length prefix and
nothing follows the last string, so one tag gives exactly one byte string and
decoding refuses anything else.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from arbordb.engine.chunks.store import ChunkStore
from arbordb.engine.errors import RevisionNotFound
from arbordb.engine.hash import format_address, require_address

from .commit import _pack_str, _Reader, check_str, check_timestamp, is_commit_chunk

TAG_MAGIC = b"ATAG"
TAG_VERSION = 1  # bump when the layout above changes

_HEADER = ">4sBq20s"  # magic, version, timestamp, target
_HEADER_LEN = 33
assert struct.calcsize(_HEADER) == _HEADER_LEN


@dataclass(frozen=True, kw_only=True)
class Tag:
    """One immutable annotated tag; see the module docstring for its bytes.

    Attributes:
        target: address of the tagged commit.
        name: the tag's name (refs.check_tag_name says which names are valid).
        tagger: name of the person who tagged.
        email: the tagger's e-mail.
        timestamp: int microseconds since 1970-01-01T00:00:00Z.
        message: the tag message (may be empty).

    Raises:
        InvalidInput: a field has the wrong type.
    """

    target: bytes
    name: str
    tagger: str
    email: str
    timestamp: int
    message: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "target", require_address(self.target, "tag target"))
        for name in ("name", "tagger", "email", "message"):
            check_str(getattr(self, name), f"tag {name}")
        check_timestamp(self.timestamp, "tag timestamp")


def encode_tag(tag: Tag) -> bytes:
    """Return the canonical bytes of ``tag``.

    Example:
        >>> t = Tag(target=bytes(20), name="v1", tagger="a", email="a@x",
        ...         timestamp=0, message="")
        >>> decode_tag(encode_tag(t)) == t
        True
    """
    return b"".join(
        (
            struct.pack(_HEADER, TAG_MAGIC, TAG_VERSION, tag.timestamp, tag.target),
            _pack_str(tag.name),
            _pack_str(tag.tagger),
            _pack_str(tag.email),
            _pack_str(tag.message),
        )
    )


def decode_tag(data: bytes) -> Tag:
    """Decode the bytes of a tag chunk.

    Raises:
        CorruptChunk: the bytes are not the canonical encoding of a tag.
        FormatVersionError: written by a newer format version.
    """
    r = _Reader(data, "tag", TAG_MAGIC, TAG_VERSION)
    timestamp, target = r.unpack(">q20s")
    name = r.string("tag name")
    tagger = r.string("tagger")
    email = r.string("tagger email")
    message = r.string("tag message")
    r.end()
    return Tag(
        target=target, name=name, tagger=tagger, email=email, timestamp=timestamp, message=message
    )


def tag_children(address: bytes, data: bytes) -> list[bytes]:
    """What a tag chunk names (for gc, fsck and sync): its target commit."""
    return [decode_tag(data).target]


def is_tag_chunk(data: bytes) -> bool:
    """True if ``data`` starts like a tag chunk (cheap; does not validate it)."""
    return data[:4] == TAG_MAGIC


def peel(store: ChunkStore, address: bytes) -> bytes:
    """Return the commit that ``address`` names: itself if a commit, the target if a tag.

    Raises:
        MissingChunk: ``address`` (or a tag's target) is not in the store.
        RevisionNotFound: the chunk is neither a commit nor a tag (say, a
            table or tree node address).
    """
    data = store.get(address)
    if is_tag_chunk(data):
        address = decode_tag(data).target
        data = store.get(address)
    if not is_commit_chunk(data):
        raise RevisionNotFound(
            f"{format_address(address)} is not a commit (it is some other object in the "
            "store); run `arbor log` to see commit hashes"
        )
    return address
