"""The history of one row: its value at each commit where it changed.

Walking a branch's history, each commit's table is looked up by key (O(log n)
node visits, nodes cached by address); a commit whose table has the same
address as the one already read is answered without any lookup, and no commit's
full diff is ever computed. Cost: one point lookup per distinct version of the
table, not a scan or diff per commit.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from ..errors import TableNotFound
from ..history import Commit, CommitLoader, ancestors
from ..root import RootValue
from ..table import Table
from ..tree import NodeStore


@dataclass(frozen=True)
class RowVersion:
    """The row (None: absent) as the commit ``address`` left it."""

    address: bytes
    commit: Commit
    row: dict | None


def row_history(
    nodes: NodeStore,
    loader: CommitLoader,
    head: bytes,
    table: str,
    key: Sequence[object],
    *,
    first_parent: bool = True,
) -> Iterator[RowVersion]:
    """The versions of the row with primary key ``key``, newest first, one entry per
    commit that changed it (added, modified or removed), ending at the commit
    that added it."""
    read: dict[bytes | None, dict | None] = {}
    newer: RowVersion | None = None
    seen_table = False
    for entry in ancestors(loader, head, first_parent=first_parent):
        root = RootValue.decode(nodes.store.get(entry.commit.root), entry.commit.root)
        name = root.find(table)
        address = root[name] if name is not None else None
        if address not in read:
            read[address] = (
                Table.load(nodes, address, name).get(key) if address and name is not None else None
            )
        seen_table |= address is not None
        row = read[address]
        current = RowVersion(entry.address, entry.commit, row)
        if newer is not None and newer.row != row:
            yield newer
        newer = current
    if not seen_table:
        raise TableNotFound(f"table {table!r} is not in the history of this branch")
    if newer is not None and newer.row is not None:
        yield newer
