"""Which chunks a chunk names: the edges a push or fetch follows from the refs.

The same edges garbage collection follows (``versioning/reach.py``'s ``KINDS``), read
from a chunk's bytes alone, since during a fetch the chunk is not in any store yet. A
working set is never sent (it is local to a clone): no chunk sent names one.
"""

from __future__ import annotations

from ..codec.internal import decode_internal, node_level
from ..errors import CorruptChunk
from ..versioning.reach import KINDS


def children(address: bytes, data: bytes) -> tuple[list[bytes], bool]:
    """The addresses ``data`` names, and whether they are tree leaves (level-1 node).

    Raises:
        CorruptChunk: the chunk does not decode as what its magic says it is.
    """
    try:
        kind = KINDS.get(bytes(data[:4]))
        if kind is not None:
            return kind(address, bytes(data)), False
        if len(data) < 2 or node_level(data) == 0:
            return [], False
        node = decode_internal(data)
        return list(node.addresses), node.level == 1
    except CorruptChunk:
        raise
    except Exception as exc:  # noqa: BLE001 - any decode failure means damaged bytes
        raise CorruptChunk(address, f"it does not decode ({exc})") from None
