"""Three-way merge of prolly trees, key by key and cell by cell.

Base, ours and theirs store the same value columns (the layer above maps
schemas onto them first); the merge knows nothing of what the columns mean.
Key ranges theirs changed and ours did not take theirs' leaves whole, unread
(``regions.py``). Elsewhere it diffs base->theirs, looks up ours' rows at the
keys theirs changed (ours' changes elsewhere need nothing: the merge starts from
ours), and decides each key changed on both sides with column-wise comparisons
of its cells against base. A key changed on one side only takes that side's
change.

Classification of a key changed on both sides (o = ours, t = theirs, b = base):

    ours      theirs    outcome
    --------  --------  -----------------------------------------------------
    removed   removed   clean (the key stays deleted)
    removed   modified  CONFLICT (delete vs modify), in both directions
    added     added     clean if the rows are equal, else CONFLICT on the
                        differing cells (Dolt's rule: no merge against an
                        all-NULL base)
    modified  modified  mode "cell": cell c conflicts when o[c] != b[c],
                        t[c] != b[c] and o[c] != t[c]; every other cell
                        takes t[c] if t[c] != b[c], else o[c]
                        mode "row": every cell where o[c] != t[c] conflicts,
                        so any two different edits of one row conflict

Cells compare as ``diff.column_equal`` does: NULL equals NULL, NaN equals NaN.

Rules resolve conflicting cells at merge time, one rule per column (a mapping
column index -> rule, over a default rule for every column):

    "ours" / "theirs"   that side's value
    "max" / "min"       the larger / smaller of the two values, vectorised by
                        pyarrow's element-wise kernels: a NULL or NaN loses to
                        any value; booleans order False < True; columns with no
                        order (lists) refuse these rules with UnsupportedType
    callable            f(base_value, our_value, their_value) -> value, called
                        once per conflicting cell with Python values (the base
                        value is None where base has no row); its result must
                        fit the column's type

("newest" needs commit timestamps the tree does not know: the caller turns it
into "ours" or "theirs" before calling.) A delete-vs-modify conflict has no
cells to decide; it is resolved only when every column's rule is "ours", or
every column's rule is "theirs": the row then follows that side, its row or
its deletion.

Invariants (the code cites them by number):

(1) Cost is proportional to theirs' changes: the merge reads the level-1
    entries of the three trees, the diff base->theirs outside the ranges it
    swaps, and ours' leaves holding the keys that diff names (one batched
    lookup), and nothing else; it never scans a tree.
(2) The merged tree is ``ours`` with theirs' leaves swapped in and one sorted
    ``edit`` batch of the clean changes, so by history independence its root is
    the root a build from the merged rows gives, whatever order the edits of
    either side came in. When the batch cannot be written in place, theirs'
    leaves are swapped in first and the batch then edits that tree: each swapped
    run starts and ends at a cut all three trees share, so the swapped tree is
    the one a build from its rows gives, and the edit keeps that (``mutate.py``).
(3) A key left in conflict keeps OUR row in the merged tree (Dolt's behaviour);
    cells that merged cleanly elsewhere in that row are not applied.
(4) A conflicting key is resolved only when a rule decides every one of its
    conflicting cells; then it becomes a clean merged row and each decided cell
    is reported. Rules decide nothing in rows that stay in conflict.
(5) ``preview`` classifies exactly as ``merge`` does and writes no chunk.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..arrow_arrays import int64s
from ..errors import InvalidInput, UnsupportedType
from .cursor import leaf_entries
from .diff import ADDED, MODIFIED, REMOVED, TreeDiff, column_equal, diff_leaves, rows_equal
from .lookup import lookup_in_leaves
from .mutate import apply_edits
from .nodes import Joined
from .prolly import ProllyTree
from .regions import Regions, Swaps, plan_regions

Rule = str | Callable[[object, object, object], object]
NAMED_RULES = ("ours", "theirs", "max", "min")
MODES = ("cell", "row")


@dataclass(frozen=True)
class MergeConflicts:
    """The keys left in conflict, in key order, with all three versions of each row.

    ``base`` columns are NULL where ``base_present`` is False (both sides added
    the key); ``ours`` / ``theirs`` columns are NULL where that side removed the
    row. ``our_kinds`` / ``their_kinds`` hold ADDED / MODIFIED / REMOVED
    (``diff.DIFF_TYPE_NAMES`` names them).
    """

    keys: pa.BinaryArray
    base_present: np.ndarray
    base: list[pa.Array]
    ours: list[pa.Array]
    our_kinds: np.ndarray
    theirs: list[pa.Array]
    their_kinds: np.ndarray

    def __len__(self) -> int:
        return len(self.keys)


@dataclass(frozen=True)
class Resolution:
    """Conflicts one rule decided: for ``column`` c, the chosen ``values`` of cell c
    of each of ``keys``. ``column`` None: whole delete-vs-modify rows that follow
    the side named by ``rule`` (its row or its deletion); ``values`` is then None.
    ``rule`` is the rule's name, a callable's ``__qualname__``."""

    column: int | None
    rule: str
    keys: pa.BinaryArray
    values: pa.Array | None

    def items(self) -> Iterator[tuple[bytes, int | None, str, object]]:
        """Each decision as (key, column, rule, chosen value as a Python object)."""
        values = self.values.to_pylist() if self.values is not None else [None] * len(self.keys)
        for key, value in zip(self.keys.to_pylist(), values, strict=True):
            yield key, self.column, self.rule, value


@dataclass(frozen=True)
class MergeStats:
    """Counts of one merge (or preview)."""

    theirs_changed: int  # rows that differ from base to theirs, outside the leaves taken
    both_changed: int  # keys changed on both sides, identically or not
    upserts: int  # rows the merge writes over ours, outside the leaves taken
    deletes: int  # keys the merge deletes from ours, outside the leaves taken
    conflicts: int  # keys left in conflict (they keep our row)
    resolved_rows: int  # conflicting keys that rules made clean
    resolved_cells: int  # cells rules decided (a whole-row resolution counts none)
    leaves_taken: int = 0  # theirs' leaves the merge takes whole, their rows unread


@dataclass(frozen=True)
class MergePreview:
    conflicts: MergeConflicts
    resolutions: list[Resolution]
    stats: MergeStats


@dataclass(frozen=True)
class MergeResult(MergePreview):
    tree: ProllyTree


@dataclass(frozen=True)
class _Edits:
    """The sorted batch that turns ours into the merged tree."""

    keys: pa.BinaryArray
    columns: list[pa.Array]
    deleted: np.ndarray
    reuse: dict[bytes, bytes]  # a leaf of ours -> theirs' leaf the batch makes of it
    joined: Joined | None  # ours' leaves the plan's lookup joined


def merge(
    base: ProllyTree,
    ours: ProllyTree,
    theirs: ProllyTree,
    *,
    mode: str = "cell",
    rules: Mapping[int, Rule] | None = None,
    default_rule: Rule | None = None,
) -> MergeResult:
    """Merge theirs into ours against their common base.

    Args:
        base: the merge base; ``ours`` and ``theirs`` must store its value types
            in the same node store.
        ours: the tree merged into; conflicted keys keep its rows.
        theirs: the tree whose changes are merged in.
        mode: "cell" (different columns of one row merge cleanly) or "row"
            (any two different edits of one row conflict).
        rules: column index -> rule for that column's conflicting cells.
        default_rule: the rule for columns ``rules`` does not name; None leaves
            their conflicts unresolved.

    Returns:
        ``MergeResult``: the merged tree, the conflicts, the resolutions rules
        applied and counts.

    Raises:
        InvalidInput: the trees store different value types, or a mode, rule or
            column index is unknown, or a callable rule returned a value that
            does not fit its column.
        UnsupportedType: "max" or "min" for a column whose type has no order.
    """
    planned, edits, regions = _plan(base, ours, theirs, mode, rules, default_rule)
    swaps = regions.swaps if regions is not None and regions.swaps.runs else None
    if not len(edits.keys) and swaps is None:
        tree = ours
    elif ours.root == base.root:
        tree = theirs  # invariant (2): the edit batch would rebuild theirs exactly
    else:
        root = None
        start = ours
        if swaps is not None:
            root = apply_edits(
                ours.nodes,
                ours.root,
                ours.types,
                edits.keys,
                edits.columns,
                edits.deleted,
                edits.reuse,
                edits.joined,
                swaps,
            )
            if root is None:  # invariant (2): the batch is not in place; swap first
                start = _swapped(ours, swaps)
        if root is not None:
            tree = ProllyTree(ours.nodes, root, ours.types)
        else:
            tree = start.edit(edits.keys, edits.columns, edits.deleted, edits.reuse, edits.joined)
    return MergeResult(planned.conflicts, planned.resolutions, planned.stats, tree)


def preview(
    base: ProllyTree,
    ours: ProllyTree,
    theirs: ProllyTree,
    *,
    mode: str = "cell",
    rules: Mapping[int, Rule] | None = None,
    default_rule: Rule | None = None,
) -> MergePreview:
    """What ``merge`` with the same arguments would report, writing nothing
    (invariant (5)). Arguments and errors as for ``merge``."""
    return _plan(base, ours, theirs, mode, rules, default_rule)[0]


# --- planning -----------------------------------------------------------------


def _regions(base: ProllyTree, ours: ProllyTree, theirs: ProllyTree) -> Regions | None:
    """Theirs' changed key ranges split into swaps and the rest (``regions.py``);
    None where there is nothing to split (a side unchanged, or a one-leaf tree)."""
    if base.root in (ours.root, theirs.root):
        return None
    return plan_regions(base.nodes, base.root, ours.root, theirs.root)


def _swapped(ours: ProllyTree, swaps: Swaps) -> ProllyTree:
    """Ours with theirs' leaves swapped in and nothing else edited (invariant (2))."""
    empty = pa.nulls(0, pa.binary())
    columns = [pa.nulls(0, t) for t in ours.types]
    root = apply_edits(ours.nodes, ours.root, ours.types, empty, columns, swaps=swaps)
    assert root is not None  # swaps alone are always honoured
    return ProllyTree(ours.nodes, root, ours.types)


def _plan(
    base, ours, theirs, mode, rules, default_rule
) -> tuple[MergePreview, _Edits, Regions | None]:
    if mode not in MODES:
        raise InvalidInput(f"unknown merge mode {mode!r} (use 'cell' or 'row')")
    if not base.types == ours.types == theirs.types:
        raise InvalidInput(
            "a three-way merge needs trees with one value layout: base stores "
            f"{_names(base.types)}, ours {_names(ours.types)}, theirs {_names(theirs.types)} "
            "(merge the schemas first)"
        )
    column_rules = _column_rules(base.types, rules, default_rule)
    regions = _regions(base, ours, theirs)
    if regions is None:
        theirs_diff = base.diff(theirs)
    else:  # invariant (1): the ranges not swapped
        theirs_diff = diff_leaves(base.nodes, regions.only_base, regions.only_theirs, base.types)
    ours_diff, at_theirs, reuse, joined = _ours_at(ours, theirs_diff)
    matched = np.zeros(len(theirs_diff), bool)
    matched[at_theirs] = True
    both = _Both(ours_diff, theirs_diff, np.arange(len(at_theirs)), at_theirs, mode, column_rules)
    edits = _edits(theirs_diff, np.flatnonzero(~matched), both, reuse, joined)
    n_deletes = int(edits.deleted.sum())
    stats = MergeStats(
        theirs_changed=len(theirs_diff),
        both_changed=both.n,
        upserts=len(edits.deleted) - n_deletes,
        deletes=n_deletes,
        conflicts=int(both.conflict.sum()),
        resolved_rows=int((both.resolved_cells.any(axis=1) | both.resolved_rows).sum()),
        resolved_cells=int(both.resolved_cells.sum()),
        leaves_taken=len(reuse) + (regions.swaps.taken() if regions else 0),
    )
    return MergePreview(both.conflicts(), both.resolutions, stats), edits, regions


def _ours_at(
    ours: ProllyTree, theirs_diff: TreeDiff
) -> tuple[TreeDiff, np.ndarray, dict[bytes, bytes], Joined | None]:
    """Ours' changes from base at the keys theirs changed, as a diff of those keys
    (base's rows are theirs' from-rows), each one's index in ``theirs_diff``, the
    leaves theirs changed that ours still holds as base had them, each with
    theirs' leaf for it (``diff.LeafPairs``; the edit takes those leaves whole),
    and ours' leaves the lookup joined (the edit rewrites the same leaves).

    Keys in such leaves are unchanged in ours; the others are looked up in ours in
    one batch (invariant (1)). A key ours changed and theirs did not needs
    nothing: the merge starts from ours.
    """
    unchanged = np.zeros(len(theirs_diff), bool)
    reuse: dict[bytes, bytes] = {}
    pairs = theirs_diff.pairs
    if pairs is not None:
        held = set(leaf_entries(ours.nodes, ours.root).addresses)
        kept = np.fromiter((a in held for a in pairs.a), bool, len(pairs.a))
        unchanged = kept[pairs.of_row]
        reuse = {a: b for a, b, k in zip(pairs.a, pairs.b, kept.tolist(), strict=True) if k}
    probed = np.flatnonzero(~unchanged)
    take = int64s(probed)
    keys = theirs_diff.keys.take(take)
    base_rows = [c.take(take) for c in theirs_diff.from_columns]
    found, rows, joined = lookup_in_leaves(ours, keys)
    in_base = theirs_diff.kinds[probed] != ADDED
    if rows:
        same = rows_equal(base_rows, rows)
    else:  # no value columns: a row is its key
        same = np.ones(len(found), bool)
    changed = np.flatnonzero(np.where(in_base, ~found | ~same, found))
    kinds = np.where(in_base, np.where(found, MODIFIED, REMOVED), ADDED).astype(np.int8)
    take = int64s(changed)
    diff = TreeDiff(
        keys.take(take),
        [c.take(take) for c in base_rows],
        [c.take(take) for c in rows],
        kinds[changed],
    )
    return diff, probed[changed], reuse, joined


class _Both:
    """The keys both sides changed: their classification and merged rows.

    Row masks over these keys are (n,) arrays; cell masks are (n, columns) arrays.
    """

    def __init__(self, ours_diff: TreeDiff, theirs_diff: TreeDiff, at_ours, at_theirs, mode, rules):
        self.n, self.at_theirs = len(at_ours), at_theirs
        take_o, take_t = int64s(at_ours), int64s(at_theirs)
        self.keys = theirs_diff.keys.take(take_t)
        self.our_kinds = ours_diff.kinds[at_ours]
        self.their_kinds = theirs_diff.kinds[at_theirs]
        # base->ours and base->theirs share their from-rows: both are base's row
        self.base = [c.take(take_o) for c in ours_diff.from_columns]
        self.ours = [c.take(take_o) for c in ours_diff.to_columns]
        self.theirs = [c.take(take_t) for c in theirs_diff.to_columns]
        cells, theirs_changed = self._classify(mode)
        self._resolve(rules, cells)
        self._merge_cells(rules, theirs_changed)
        self._plan_edits()

    def _classify(self, mode: str) -> tuple[np.ndarray, np.ndarray]:
        """Conflicting cells, and the cells theirs changed; sets the row kinds."""
        n, width = self.n, len(self.base)
        same, ours_changed, theirs_changed = (np.zeros((n, width), bool) for _ in range(3))
        for c in range(width):
            same[:, c] = column_equal(self.ours[c], self.theirs[c])
            ours_changed[:, c] = ~column_equal(self.base[c], self.ours[c])
            theirs_changed[:, c] = ~column_equal(self.base[c], self.theirs[c])
        self.removed_t = self.their_kinds == REMOVED
        self.delete_vs_modify = (self.our_kinds == REMOVED) != self.removed_t
        add_add = self.our_kinds == ADDED  # then theirs added it too: base has no row
        mod_mod = (self.our_kinds == MODIFIED) & (self.their_kinds == MODIFIED)
        self.two_rows = add_add | mod_mod
        if mode == "cell":
            both_changed = ours_changed & theirs_changed & ~same
            cells = np.where(mod_mod[:, None], both_changed, add_add[:, None] & ~same)
        else:  # a cell neither side changed is equal on both: every difference conflicts
            cells = self.two_rows[:, None] & ~same
        return cells, theirs_changed

    def _resolve(self, rules: list[Rule | None], cells: np.ndarray) -> None:
        """Which conflicts stay, which cells and whole rows the rules decide."""
        # invariant (4): a row resolves only if a rule covers each of its conflicting cells
        has_rule = np.array([r is not None for r in rules], bool)
        unresolved = (cells & ~has_rule).any(axis=1)
        self.side = _row_side(rules)
        self.conflict = (cells.any(axis=1) & unresolved) | (
            self.delete_vs_modify & (self.side is None)
        )
        self.resolved_cells = cells & ~self.conflict[:, None]
        self.resolved_rows = self.delete_vs_modify & ~self.conflict
        self.to_theirs = self.resolved_rows & (self.side == "theirs")

    def _merge_cells(self, rules: list[Rule | None], theirs_changed: np.ndarray) -> None:
        """Merged rows: theirs' cell where theirs changed it, else ours; rules override."""
        n = self.n
        from_theirs = theirs_changed | self.to_theirs[:, None]
        self.merged: list[pa.Array] = []
        self.resolutions: list[Resolution] = []
        for c, rule in enumerate(rules):
            index = np.where(from_theirs[:, c], n + np.arange(n), np.arange(n))
            parts = [self.ours[c], self.theirs[c]]
            decided = np.flatnonzero(self.resolved_cells[:, c])
            if len(decided):
                assert rule is not None  # invariant (4): a cell resolves only under a rule
                values = self._decide(c, rule, decided)
                index[decided] = 2 * n + np.arange(len(decided))
                parts.append(values)
                keys = self.keys.take(int64s(decided))
                self.resolutions.append(Resolution(c, _rule_name(rule), keys, values))
            self.merged.append(pa.concat_arrays(parts).take(int64s(index)))
        if self.resolved_rows.any():
            assert self.side is not None  # a delete-vs-modify row resolves only with a side
            keys = self.keys.take(int64s(np.flatnonzero(self.resolved_rows)))
            self.resolutions.append(Resolution(None, self.side, keys, None))

    def _plan_edits(self) -> None:
        """Rows to write over ours: clean merged rows that differ from ours, and
        delete-vs-modify rows resolved towards theirs (their row or deletion)."""
        candidates = np.flatnonzero(self.two_rows & ~self.conflict)
        if self.merged:
            pick = int64s(candidates)
            merged = [m.take(pick) for m in self.merged]
            differs = ~rows_equal(merged, [o.take(pick) for o in self.ours])
        else:  # no value columns: rows with equal keys are equal
            differs = np.zeros(len(candidates), bool)
        theirs_rows = np.flatnonzero(self.to_theirs & ~self.removed_t)
        self.upserts = np.sort(np.concatenate([candidates[differs], theirs_rows]))
        self.deletes = np.flatnonzero(self.to_theirs & self.removed_t)

    def _decide(self, c: int, rule: Rule, rows: np.ndarray) -> pa.Array:
        """The values ``rule`` picks for cell ``c`` of ``rows``."""
        take = int64s(rows)
        ours, theirs = self.ours[c].take(take), self.theirs[c].take(take)
        if rule == "ours":
            return ours
        if rule == "theirs":
            return theirs
        if rule in ("max", "min"):
            return _extreme(rule, ours, theirs)
        # a callable: the one Python loop, over conflicting cells only
        assert callable(rule), rule  # _rules refused every other string
        base = self.base[c].take(take).to_pylist()
        chosen = [
            rule(b, o, t)
            for b, o, t in zip(base, ours.to_pylist(), theirs.to_pylist(), strict=True)
        ]
        try:
            return pa.array(chosen, ours.type)
        except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError, OverflowError) as e:
            raise InvalidInput(
                f"merge rule {_rule_name(rule)} for column {c} returned a value that is not "
                f"{ours.type} ({e}); make it return a value of the column's type or None"
            ) from e

    def conflicts(self) -> MergeConflicts:
        rows = np.flatnonzero(self.conflict)
        take = int64s(rows)
        return MergeConflicts(
            keys=self.keys.take(take),
            base_present=self.our_kinds[rows] != ADDED,
            base=[c.take(take) for c in self.base],
            ours=[c.take(take) for c in self.ours],
            our_kinds=self.our_kinds[rows],
            theirs=[c.take(take) for c in self.theirs],
            their_kinds=self.their_kinds[rows],
        )


def _edits(
    theirs_diff: TreeDiff,
    theirs_only: np.ndarray,
    both: _Both,
    reuse: dict[bytes, bytes],
    joined: Joined | None,
) -> _Edits:
    """One sorted batch: theirs' one-sided changes plus the merged rows of ``both``;
    ``reuse`` and ``joined`` as ``_ours_at`` gives them.

    Every edited key is a key of the base->theirs diff, so sorting by position in
    that diff sorts by key; values come from theirs' rows or the merged rows.
    """
    total = len(theirs_diff)
    position = np.concatenate(
        [theirs_only, both.at_theirs[both.upserts], both.at_theirs[both.deletes]]
    )
    source = np.concatenate([theirs_only, total + both.upserts, total + both.deletes])
    deleted = np.concatenate(
        [
            theirs_diff.kinds[theirs_only] == REMOVED,
            np.zeros(len(both.upserts), bool),
            np.ones(len(both.deletes), bool),
        ]
    )
    order = np.argsort(position, kind="stable")
    take = int64s(source[order])
    columns = [
        pa.concat_arrays([t, m]).take(take)
        for t, m in zip(theirs_diff.to_columns, both.merged, strict=True)
    ]
    return _Edits(
        theirs_diff.keys.take(int64s(position[order])),
        columns,
        deleted[order],
        reuse,
        joined,
    )


# --- rules --------------------------------------------------------------------


def _column_rules(
    types, rules: Mapping[int, Rule] | None, default: Rule | None
) -> list[Rule | None]:
    """The rule for each value column, validated."""
    width = len(types)
    out: list[Rule | None] = [default] * width
    for c, rule in (rules or {}).items():
        if isinstance(c, bool) or not isinstance(c, int | np.integer) or not 0 <= c < width:
            raise InvalidInput(
                f"merge rule given for column {c!r}, but the trees store {width} value "
                f"columns (index them 0..{width - 1})"
            )
        out[int(c)] = rule
    for c, chosen in enumerate(out):
        if chosen is None or callable(chosen):
            continue
        if chosen not in NAMED_RULES:
            raise InvalidInput(
                f"unknown merge rule {chosen!r} for column {c} (use 'ours', 'theirs', 'max', "
                "'min' or a callable f(base, ours, theirs); resolve 'newest' to 'ours' or "
                "'theirs' before merging)"
            )
        if chosen in ("max", "min"):
            empty = pa.nulls(0, types[c])
            try:
                _extreme(chosen, empty, empty)
            except pa.ArrowNotImplementedError as e:
                raise UnsupportedType(
                    f"merge rule {chosen!r} cannot order column {c} of type {types[c]} "
                    "(give that column a callable rule instead)"
                ) from e
    return out


def _extreme(rule: str, ours: pa.Array, theirs: pa.Array) -> pa.Array:
    pick = pc.max_element_wise if rule == "max" else pc.min_element_wise
    if pa.types.is_boolean(ours.type):  # no boolean kernel: order False < True via int8
        return pick(ours.cast(pa.int8()), theirs.cast(pa.int8())).cast(pa.bool_())
    return pick(ours, theirs)


def _row_side(rules: list[Rule | None]) -> str | None:
    """The side every column's rule names, which decides whole rows; else None."""
    for side in ("ours", "theirs"):
        if rules and all(isinstance(r, str) and r == side for r in rules):
            return side
    return None


def _rule_name(rule: Rule) -> str:
    return rule if isinstance(rule, str) else getattr(rule, "__qualname__", repr(rule))


def _names(types) -> str:
    return "(" + ", ".join(str(t) for t in types) + ")"
