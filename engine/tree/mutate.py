"""Applying a sorted batch of upserts and deletes to a prolly tree.

Only the leaves that hold an edited key are decoded, merged with their edits and
cut again; the cuts start at the touched leaf's first item (an old cut, still a
cut: the rule looks only at items since the previous cut) and continue until a
new cut lands on the end of an old leaf past the last edit, where the new tree
falls back into step with the old one (history independence is kept because
this gives exactly the leaves a build from scratch would). All touched leaves
are decoded, merged and hashed in one vectorised pass; only the resync step is
per run of adjacent touched leaves.

The common case takes a shorter road: when every edit updates an existing row
and keeps each of its cells' byte sizes (a label fixed to another of the same
length, a new score), the cut rule sees exactly the items it saw before, so
every leaf keeps its bounds. The rows are then found by a binary search over the
leaves' key bytes and the new values written straight into the old leaves'
bytes (``codec/patch.py``), with no decode and no re-encode; the same pass gives
each new leaf's delta against the old one for the store. A merge can also name
leaves whose result it already holds (``reuse``: theirs' leaf where ours kept
the base's), which are taken as they are, and runs of leaves to replace whole
(``swaps``: theirs' leaves for a key range ours never changed, ``regions.py``).

Touched leaves are found by descending from the root (``paths.py`` names every
entry by its path), and the internal levels are then re-cut only around the
changed leaves (``relevel.py``): nothing lists a level, so an edit costs the
changed leaves times the depth, not the size of the table. Unchanged internal
nodes come out byte-identical and dedup in the store, so what is written is the
new leaves and the internal nodes on their paths.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..arrow_arrays import bools, int64s
from ..codec.columns import PreparedColumn
from ..codec.patch import patch_leaves
from ..codec.sparse import find_rows
from ..errors import InvalidInput
from .builder import (
    Entries,
    LeafItems,
    build_root,
    cut_leaves,
    item_sizes,
    write_leaves,
    write_spans,
)
from .keyarray import comparable
from .nodes import Joined, NodeStore
from .paths import Path, TreePaths
from .regions import Swaps
from .relevel import Change, rebuild_root
from .splitter import find_cuts_in_segments


def apply_edits(
    nodes: NodeStore,
    root: bytes,
    types: Sequence[pa.DataType],
    keys: pa.BinaryArray,
    columns: Sequence[pa.Array],
    deleted: np.ndarray | None = None,
    reuse: Mapping[bytes, bytes] | None = None,
    joined: Joined | None = None,
    swaps: Swaps | None = None,
) -> bytes | None:
    """New root after upserting rows (``keys``/``columns``) and deleting keys.

    ``keys`` must be strictly ascending; rows where ``deleted`` is True are
    deletions (their column values are ignored; deleting an absent key is a no-op).
    ``reuse`` maps an old leaf to the stored leaf that this batch's edits in it
    make, where the caller knows it (a merge taking theirs' leaf that ours never
    changed: ``diff.LeafPairs``); such a leaf is taken, not rewritten, when every
    edit is an in-place update. ``joined``: leaves of this tree a caller already
    joined (``lookup.lookup_in_leaves``), used if they are the leaves to rewrite.
    ``swaps``: runs of leaves to replace by given leaves, holding no edited key;
    honoured with no edits or when every edit is an in-place update, else the
    result is None (the caller edits those ranges row by row instead).
    """
    tree = TreePaths(nodes, root)
    if len(keys) == 0:
        if swaps is None:
            return root
        return _root_or_empty(nodes, tree, _swapped(tree, swaps), keys, columns)
    deleted = np.zeros(len(keys), bool) if deleted is None else np.asarray(deleted, bool)
    if len(keys) > 1:
        (edit_s,) = comparable(keys)
        if not (edit_s[1:] > edit_s[:-1]).all():
            raise InvalidInput("edit keys must be sorted and unique (sort the batch by key first)")
    touched, edit_leaf = tree.locate(keys)  # leaf paths; each edit's index among them
    touched_addresses = [tree.address(p) for p in touched]
    # Leaves ``reuse`` names are taken whole by an in-place update: locate the rest.
    reuse = reuse if reuse and not deleted.any() else {}
    kept = np.fromiter((a in reuse for a in touched_addresses), bool, len(touched))
    patch = ~kept[edit_leaf]
    rewrite = [a for a, k in zip(touched_addresses, kept.tolist(), strict=True) if not k]
    leaf = (np.cumsum(~kept) - 1)[edit_leaf[patch]]  # index among the leaves rewritten
    if joined is not None and joined.addresses == rewrite:
        layouts = joined.layouts
    else:
        layouts = nodes.leaf_layouts(rewrite)
    patch_keys = keys if patch.all() else keys.filter(bools(patch))
    row, exists = _find(nodes, rewrite, layouts, leaf, patch_keys)
    if exists.all() and not deleted.any():
        root_in_place = _update_in_place(
            nodes, (tree, touched, kept), layouts, (leaf, row, patch), types, columns, reuse, swaps
        )
        if root_in_place is not None:
            return root_in_place
    if swaps is not None:
        return None
    if kept.any():  # the general path needs every touched leaf located
        layouts = nodes.leaf_layouts(touched_addresses)
        row, exists = _find(nodes, touched_addresses, layouts, edit_leaf, keys)

    counts = layouts.counts
    pos = (np.cumsum(counts) - counts)[edit_leaf] + row
    old_keys, old_columns = nodes.decode_leaves(touched_addresses, types)
    old_leaf = np.repeat(np.arange(len(touched)), counts)
    merged_keys, merged_columns, merged_leaf, replaced = _merge(
        (old_keys, old_columns, old_leaf), (pos, exists), keys, columns, deleted, edit_leaf
    )
    items = LeafItems(merged_keys, merged_columns)

    runs = _runs(tree, touched)  # (first, last) indices into ``touched``
    at_end = [tree.next(touched[last]) is None for _, last in runs]
    run_starts = np.searchsorted(merged_leaf, [first for first, _ in runs], "left")
    run_stops = np.searchsorted(merged_leaf, [last for _, last in runs], "right")
    if replaced is not None and _same_sizes(old_keys, old_columns, replaced, keys, columns):
        # Same keys, and every row keeps its size: the cut rule sees exactly the
        # items it saw before, so the old leaf ends are the cuts (history independence).
        run_cuts, run_synced = _old_cuts(runs, run_starts, counts, at_end)
    else:
        run_cuts, run_synced = find_cuts_in_segments(
            items.hashes, items.sizes, run_starts, run_stops, nodes.leaf_rule
        )
    spans: list[tuple[int, int]] = []
    for r, (start, stop) in enumerate(zip(run_starts.tolist(), run_stops.tolist(), strict=True)):
        bounds = [start, *run_cuts[r]]
        if not run_synced[r] and at_end[r]:
            bounds.append(stop)  # the end of the data closes the last leaf
        spans.extend(zip(bounds[:-1], bounds[1:], strict=True))
    # each new leaf replaces the old leaf its first item came from (a delta hint)
    bases = [touched_addresses[merged_leaf[a]] if a < b else None for a, b in spans]
    written = write_spans(nodes, items, spans, bases)

    changes: list[Change] = []  # old leaves first..last -> new leaves
    span = 0
    r = 0
    while r < len(runs):
        first, last = runs[r]
        new = Entries()
        n_spans = len(run_cuts[r]) + (not run_synced[r] and at_end[r])
        _copy_entries(written, span, span + n_spans, new)
        span += n_spans
        r += 1
        last_path = touched[last]
        if not run_synced[r - 1] and not at_end[r - 1]:
            # The last cut fell short of the run's end: carry the remainder into
            # the following leaves until a cut lands on the end of an old leaf.
            cut = run_cuts[r - 1][-1] if run_cuts[r - 1] else int(run_starts[r - 1])
            remainder = items.slice(cut, int(run_stops[r - 1]))
            last_path, r, skipped = _resync(
                nodes,
                types,
                (tree, touched),
                (items, runs, run_starts, run_stops),
                r,
                last_path,
                remainder,
                new,
            )
            span += sum(len(run_cuts[x]) for x in skipped)
        changes.append((touched[first], last_path, new))
    return _root_or_empty(nodes, tree, changes, keys, columns)


def _root_or_empty(nodes, tree, changes, keys, columns) -> bytes:
    """The root after ``changes``; the empty leaf when they left no row."""
    root = rebuild_root(tree, changes)
    if root is None:
        empty = LeafItems(keys.slice(0, 0), [c.slice(0, 0) for c in columns])
        return build_root(nodes, write_leaves(nodes, empty, [0, 0]))
    return root


def _resync(nodes, types, located, edited, r, last, remainder, out):
    """Extend a run leaf by leaf until its chunking meets an old boundary; returns
    the path of the last old leaf consumed, the next run and the runs absorbed."""
    tree, touched = located
    items, runs, run_starts, run_stops = edited
    pending = remainder
    skipped = []
    while True:
        following = tree.next(last)
        if r < len(runs) and touched[runs[r][0]] == following:
            # the next leaf is itself edited: absorb that whole run
            nxt = items.slice(int(run_starts[r]), int(run_stops[r]))
            last = touched[runs[r][1]]
            skipped.append(r)
            r += 1
        else:
            keys, columns = nodes.decode_leaves([tree.address(following)], types)
            nxt = LeafItems(keys, columns)
            last = following
        pending = pending.concat(nxt)
        at_end = tree.next(last) is None
        bounds, synced = cut_leaves(nodes, pending, close_last=at_end)
        if len(bounds) > 1:
            out.extend(write_leaves(nodes, pending, bounds))
        if synced or at_end:
            return last, r, skipped
        pending = pending.slice(bounds[-1], len(pending))


def _find(nodes, addresses, layouts, leaf, keys) -> tuple[np.ndarray, np.ndarray]:
    """Each edit key's row in its leaf (of the first key >= it) and whether it is
    stored there: a binary search over the leaf bytes, or over the decoded keys
    when key widths vary."""
    found = find_rows(layouts, leaf, keys)
    if found is not None:
        return found
    old_keys = nodes.leaf_keys(addresses)
    old_s, edit_s = comparable(old_keys, keys)
    pos = np.searchsorted(old_s, edit_s, "left")
    clipped = np.minimum(pos, max(len(old_s) - 1, 0))
    exists = (
        (pos < len(old_s)) & (old_s[clipped] == edit_s) if len(old_s) else np.zeros(len(keys), bool)
    )
    return pos - (np.cumsum(layouts.counts) - layouts.counts)[leaf], exists


def _update_in_place(nodes, located_leaves, layouts, located, types, columns, reuse, swaps):
    """The new root when every edit updates an existing row and keeps its cells'
    sizes, with the values written straight into the old leaves' bytes (no decode,
    no re-encode); None when some value cannot be (``codec/patch.py``).

    ``layouts`` holds the touched leaves not ``kept``; ``located`` gives the edits
    in them (``patch`` marks which) their leaf and row there. A ``kept`` leaf is
    replaced by the leaf ``reuse`` names for it, its edits not even looked at;
    ``swaps`` replace untouched runs of leaves.

    Every row keeps its key and its size, so the cut rule sees exactly the items it
    saw before: the leaves keep their bounds and only their addresses change.
    """
    tree, touched, kept = located_leaves
    leaf, row, patch = located
    prepared = []
    for column, t in zip(columns, types, strict=True):
        if column.type != t:
            raise InvalidInput(f"edit column has type {column.type}, the tree stores {t}")
        if isinstance(column, pa.ChunkedArray):
            column = column.combine_chunks()
        prepared.append(PreparedColumn(column if patch.all() else column.filter(bools(patch))))
    patched = patch_leaves(layouts, leaf, row, prepared)
    if patched is None:
        return None
    olds = [tree.address(p) for p in touched]
    rewritten = [a for a, k in zip(olds, kept.tolist(), strict=True) if not k]
    written = iter(nodes.write(patched[0], rewritten, deltas=patched[1]))
    changes: list[Change] = []
    for path, old, taken in zip(touched, olds, kept.tolist(), strict=True):
        key, _, count = tree.entry(path)
        changes.append(
            (path, path, Entries([key], [reuse[old] if taken else next(written)], [count]))
        )
    if swaps is not None:
        changes = sorted(changes + _swapped(tree, swaps), key=lambda change: change[0])
    root = rebuild_root(tree, changes)
    assert root is not None  # every row stays
    return root


def _swapped(tree: TreePaths, swaps: Swaps) -> list[Change]:
    """The swaps as changes: ours' leaves [start, stop) (indices) become theirs'."""
    paths = tree.leaf_paths()
    theirs = swaps.leaves
    return [
        (
            paths[start],
            paths[stop - 1],
            Entries(
                theirs.keys[first:last], theirs.addresses[first:last], theirs.counts[first:last]
            ),
        )
        for start, stop, first, last in swaps.runs
    ]


def _merge(old, found, keys, columns, deleted, leaf_of_edit):
    """Old items with edits applied, in key order, and the old leaf each item belongs to.

    ``old`` is (keys, columns, leaf index per row) of the touched leaves and
    ``found`` (position in the old keys, exists) per edit.
    """
    old_keys, old_columns, old_leaf = old
    pos, exists = found
    if exists.all() and not deleted.any():
        return (*_replace(old_keys, old_columns, old_leaf, columns, pos), pos)
    old_count = len(old_keys)
    keep_old = np.ones(old_count, bool)
    keep_old[pos[exists]] = False
    upsert = ~deleted
    up_pos = pos[upsert]
    kept = np.flatnonzero(keep_old)
    # new index of each kept old row: its rank among kept rows + upserts placed before it
    kept_new = np.arange(len(kept)) + np.searchsorted(up_pos, kept, "right")
    kept_before = np.concatenate([[0], np.cumsum(keep_old)])
    up_new = np.arange(len(up_pos)) + kept_before[up_pos]
    total = len(kept) + len(up_pos)
    order = np.empty(total, np.int64)
    order[kept_new] = kept
    order[up_new] = old_count + np.flatnonzero(upsert)
    leaf = np.empty(total, np.int64)
    leaf[kept_new] = old_leaf[kept]
    leaf[up_new] = leaf_of_edit[upsert]
    take = int64s(order)
    merged_keys = pa.concat_arrays([old_keys, keys]).take(take)
    merged_columns = []
    for old, new in zip(old_columns, columns, strict=True):
        if isinstance(new, pa.ChunkedArray):
            new = new.combine_chunks()
        if new.type != old.type:
            raise InvalidInput(f"edit column has type {new.type}, the tree stores {old.type}")
        merged_columns.append(pa.concat_arrays([old, new]).take(take))
    return merged_keys, merged_columns, leaf, None


def _replace(old_keys, old_columns, old_leaf, columns, positions):
    """The merge when every edit updates an existing key: keys stay, values are replaced."""
    mask = np.zeros(len(old_keys), bool)
    mask[positions] = True
    arrow_mask = bools(mask)
    merged = []
    for old, new in zip(old_columns, columns, strict=True):
        if new.type != old.type:
            raise InvalidInput(f"edit column has type {new.type}, the tree stores {old.type}")
        if pa.types.is_list(old.type):  # no replace_with_mask kernel for lists
            index = np.arange(len(old))
            index[positions] = len(old) + np.arange(len(positions))
            merged.append(pa.concat_arrays([old, new]).take(int64s(index)))
        else:
            merged.append(pc.replace_with_mask(old, arrow_mask, new))
    return old_keys, merged, old_leaf


def _same_sizes(old_keys, old_columns, positions, keys, columns) -> bool:
    """Whether the rows replaced at ``positions`` keep their sizes (the splitter's)."""
    take = int64s(positions)
    before = item_sizes(old_keys.take(take), [c.take(take) for c in old_columns])
    return bool(np.array_equal(before, item_sizes(keys, columns)))


def _old_cuts(runs, run_starts, counts, at_end) -> tuple[list[list[int]], np.ndarray]:
    """Each run's cuts at its old leaf ends (the data's end is no cut); ``counts``
    are the touched leaves' row counts, ``runs`` index them."""
    counts = np.asarray(counts, np.int64)
    cuts = []
    for (first, last), start, end in zip(runs, run_starts.tolist(), at_end, strict=True):
        ends = np.cumsum(counts[first : last + 1])
        ends += start
        cuts.append((ends[:-1] if end else ends).tolist())
    return cuts, ~np.array(at_end, bool)


def _runs(tree: TreePaths, touched: list[Path]) -> list[tuple[int, int]]:
    """Maximal runs of adjacent leaves among ``touched``, as (first, last) indices."""
    runs = []
    first = 0
    for i in range(1, len(touched) + 1):
        if i == len(touched) or tree.next(touched[i - 1]) != touched[i]:
            runs.append((first, i - 1))
            first = i
    return runs


def _copy_entries(leaves: Entries, start: int, stop: int, out: Entries) -> None:
    out.keys.extend(leaves.keys[start:stop])
    out.addresses.extend(leaves.addresses[start:stop])
    out.counts.extend(leaves.counts[start:stop])
