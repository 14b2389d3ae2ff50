"""Dolt's ``dolt_ignore``: table-name patterns whose new tables are not staged.

``dolt_ignore`` is an ordinary versioned table of the working root with Dolt's fixed
schema (``pattern`` TEXT primary key, ``ignored`` BOOLEAN NOT NULL). It does not exist
until a row is inserted (reads see it empty; the first INSERT creates it). It only
affects tables that are new: not in the staged root. Staging every table (``dolt_add
-A`` / ``.``, ``dolt_commit -A``) leaves ignored new tables unstaged and ``dolt_status``
does not list them; naming one to ``dolt_add`` is refused unless ``--force``.

Patterns, as Dolt's simplified gitignore patterns: ``*`` or ``%`` matches any run of
characters, ``?`` any one character, every other character itself (letter case aside,
as table names ignore it). When a table matches patterns that disagree, the most
specific one decides: a pattern A is more specific than B when every name A matches
B matches too, and not the reverse. Containment is decided by matching B against A's
own text (B's ``*`` may take any part of A, B's ``?`` one character or ``?`` of A), which
finds it for every pair of patterns that differ in more than how their wildcards are
ordered (``?*`` and ``*?`` name the same tables, but neither is found to contain the
other). Without a most specific pattern, staging the table is refused
(``IgnoreConflict``) and names the patterns.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import pyarrow as pa

from ..errors import InvalidInput
from ..root import RootValue
from ..table import Column, Schema, Table
from ..tree.nodes import NodeStore

__all__ = ["IGNORE_SCHEMA", "IGNORE_TABLE", "IgnoreConflict", "IgnoreRules"]

IGNORE_TABLE = "dolt_ignore"
IGNORE_SCHEMA = Schema(
    (
        Column("pattern", None, pa.string(), nullable=False),
        Column("ignored", None, pa.bool_(), nullable=False),
    ),
    ("pattern",),
    name=IGNORE_TABLE,
)

_ANY_RUN, _ONE = "*", "?"


class IgnoreConflict(InvalidInput):
    """A new table matches dolt_ignore patterns that disagree, none most specific."""


@dataclass(frozen=True)
class IgnoreRules:
    """The patterns of one root's ``dolt_ignore`` (pattern -> ignored)."""

    patterns: tuple[tuple[str, bool], ...] = ()

    @classmethod
    def of(cls, root: RootValue, nodes: NodeStore) -> IgnoreRules:
        found = root.find(IGNORE_TABLE)
        if found is None:
            return cls()
        rows = Table.load(nodes, root[found]).to_arrow(["pattern", "ignored"])
        pairs = zip(
            rows.column("pattern").to_pylist(), rows.column("ignored").to_pylist(), strict=True
        )
        return cls(tuple((p, bool(i)) for p, i in pairs))

    def ignores(self, table: str) -> bool:
        """Whether new table ``table`` stays unstaged.

        Raises:
            IgnoreConflict: matching patterns disagree and none is most specific.
        """
        matching = [(p, i) for p, i in self.patterns if _matcher(p)(table)]
        if len({i for _, i in matching}) <= 1:
            return bool(matching) and matching[0][1]
        most = [(p, i) for p, i in matching if all(_covers(q, p) for q, _ in matching)]
        if most and len({i for _, i in most}) == 1:
            return most[0][1]
        listed = ", ".join(f"{p!r} ({'ignored' if i else 'not ignored'})" for p, i in matching)
        raise IgnoreConflict(
            f"table {table!r} matches dolt_ignore patterns that disagree, none more specific "
            f"than the others: {listed}; add a pattern naming the table, or delete one"
        )

    def unstaged(self, tables: Iterable[str]) -> set[str]:
        """The ones of ``tables`` (new tables) that staging everything leaves out."""
        return {t for t in tables if self.ignores(t)} if self.patterns else set()


def _tokens(pattern: str) -> tuple[str, ...]:
    return tuple(_ANY_RUN if c in "*%" else c.casefold() for c in pattern)


@functools.lru_cache(maxsize=1024)
def _matcher(pattern: str) -> Callable[[str], bool]:
    parts = (
        ".*" if t == _ANY_RUN else "." if t == _ONE else re.escape(t) for t in _tokens(pattern)
    )
    regex = re.compile("".join(parts), re.DOTALL | re.IGNORECASE)
    return lambda name: regex.fullmatch(name) is not None


@functools.lru_cache(maxsize=1024)
def _covers(wide: str, narrow: str) -> bool:
    """Whether every name ``narrow`` matches, ``wide`` matches too (see the docstring)."""
    b, a = _tokens(wide), _tokens(narrow)

    @functools.cache
    def fits(i: int, j: int) -> bool:
        if i == len(b):
            return j == len(a)
        if b[i] == _ANY_RUN:
            return fits(i + 1, j) or (j < len(a) and fits(i, j + 1))
        if j == len(a) or a[j] == _ANY_RUN:
            return False
        return (b[i] == _ONE or b[i] == a[j]) and fits(i + 1, j + 1)

    return fits(0, 0)
