"""Row diffs as people read them: Dolt's diff view, ``--stat``, ``--summary``, JSON, CSV, SQL.

Input is the Arrow table that ``dolt_diff(from, to, table)`` returns: for each
column ``c`` of the union of both schemas a pair ``to_c`` / ``from_c``, then
``diff_type`` in {'added', 'modified', 'removed'}; the metadata columns
``to_commit``, ``from_commit``, ``to_commit_date``, ``from_commit_date`` may be
present and are not shown. Nothing here reads a repository.

The default view (``dolt diff``)::

    diff --arbor a/labels b/labels
    --- a/labels
    +++ b/labels
    +---+----+-------+
    |   | id | label |
    +---+----+-------+
    | < |  2 | dog   |      modified: the old row ...
    | > |  2 | cat   |      ... then the new one, changed cells highlighted
    | + |  3 | bird  |      added (green)
    | - |  4 | fish  |      removed (red)
    +---+----+-------+

Lines are built column-wise: each diff row expands to one line (added, removed)
or two (modified) with ``numpy.repeat`` and ``take``, so a diff of a million
rows is a few array passes.

``--summary`` (:func:`summary_text`) counts, per table, rows added / removed /
modified and per column the cells changed; for a low-cardinality column (at most
:data:`LOW_CARDINALITY` distinct values across the diff, e.g. labels) it also
lists the value transitions among modified rows, most frequent first::

    label: cat -> dog   120 rows
           dog -> bird    3 rows
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from arbordb.engine.arrow_arrays import (
    bools,
    int64s,
    numpy_bools,
    numpy_numbers,
    scalar,
    values_array,
)

from .render import BOLD, DIM, GREEN, RED, RESET, YELLOW, Grid, cell_strings, string_scalar

LOW_CARDINALITY = 20  # a column with at most this many distinct diff values gets transitions
MAX_TRANSITION_TEXT = 40  # text longer than this is free text, not a label: no transitions
MAX_TRANSITIONS = 10  # transitions listed per column before "... and N more"
_METADATA = frozenset({"commit", "commit_date"})


def diff_columns(diff: pa.Table) -> list[str]:
    """The data columns of a ``dolt_diff`` result (``c`` for each ``to_c``/``from_c`` pair)."""
    names = set(diff.column_names)
    out = []
    for name in diff.column_names:
        if name.startswith("to_") and name[3:] not in _METADATA and "from_" + name[3:] in names:
            out.append(name[3:])
    return out


def cells_differ(a: pa.Array | pa.ChunkedArray, b: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """Per row, whether ``a`` and ``b`` hold different values (NULL equals NULL)."""
    try:
        equal = pc.fill_null(pc.equal(a, b), scalar(False, pa.bool_()))
    except (pa.ArrowNotImplementedError, pa.ArrowInvalid):  # nested types: compare as text
        equal = pc.equal(cell_strings(a), cell_strings(b))
    both_null = pc.and_(pc.is_null(a), pc.is_null(b))
    return ~numpy_bools(pc.or_(equal, both_null))


def _kinds(diff: pa.Table) -> np.ndarray:
    return np.asarray(diff.column("diff_type").to_pylist(), dtype=object)


# --- the default view ---------------------------------------------------------------------


def header_lines(name: str, *, old_name: str | None = None, color: bool = False) -> list[str]:
    """``diff --arbor a/t b/t`` plus ``---``/``+++`` lines (bold on a terminal)."""
    old = old_name or name
    lines = [f"diff --arbor a/{old} b/{name}", f"--- a/{old}", f"+++ b/{name}"]
    return [f"{BOLD}{line}{RESET}" for line in lines] if color else lines


def rows_view(diff: pa.Table, *, color: bool = False) -> list[str]:
    """The changed rows as Dolt's bordered table with ``+``/``-``/``<``/``>`` markers."""
    columns = diff_columns(diff)
    kinds = _kinds(diff)
    modified = kinds == "modified"
    counts = np.where(modified, 2, 1)
    source = np.repeat(np.arange(len(kinds)), counts)
    first = np.ones(len(source), dtype=bool)
    starts = np.cumsum(counts) - counts
    first[starts[modified] + 1] = False  # the second line of a modified pair
    kind = kinds[source]
    old_line = (kind == "removed") | ((kind == "modified") & first)
    marker = np.select([kind == "added", kind == "removed", old_line], ["+", "-", "<"], default=">")
    take = int64s(source)
    use_old = bools(old_line)
    data, changed = {}, {}
    for c in columns:
        old, new = diff.column("from_" + c), diff.column("to_" + c)
        data[c] = pc.if_else(use_old, old.take(take), new.take(take))
        changed[c] = cells_differ(old, new)[source] & (kind == "modified")
    table = pa.table({" ": values_array(marker.tolist(), pa.string()), **data})
    grid = Grid.of(table)
    if color:
        _paint(grid, marker, changed, columns)
    return grid.lines(BOLD if color else "")


def _styled(cells: pa.Array, mask: np.ndarray, style: str) -> pa.Array:
    if not mask.any():
        return cells
    painted = pc.binary_join_element_wise(
        string_scalar(style), cells, string_scalar(RESET), string_scalar("")
    )
    return pc.if_else(bools(mask), painted, cells)


def _paint(
    grid: Grid, marker: np.ndarray, changed: Mapping[str, np.ndarray], columns: Sequence[str]
) -> None:
    """Colour whole added/removed lines and the changed cells of modified pairs."""
    added, removed = marker == "+", marker == "-"
    old, new = marker == "<", marker == ">"
    grid.cells[0] = _styled(grid.cells[0], added, GREEN)
    grid.cells[0] = _styled(grid.cells[0], removed, RED)
    grid.cells[0] = _styled(grid.cells[0], old | new, YELLOW)
    for i, c in enumerate(columns, start=1):
        cells = _styled(grid.cells[i], added | (new & changed[c]), GREEN)
        grid.cells[i] = _styled(cells, removed | (old & changed[c]), RED)


def table_diff_text(
    name: str,
    diff: pa.Table,
    *,
    old_name: str | None = None,
    note: str | None = None,
    color: bool = False,
) -> str:
    """Header, an optional note (``added table``, schema change) and the rows view."""
    lines = header_lines(name, old_name=old_name, color=color)
    if note:
        lines.append(f"{DIM}{note}{RESET}" if color else note)
    if diff.num_rows:
        lines += rows_view(diff, color=color)
    return "\n".join(lines) + "\n"


# --- --stat -------------------------------------------------------------------------------


def _count(n: int, one: str) -> str:
    return f"{n:,} {one}" if n == 1 else f"{n:,} {one}s"


def _entries(n: int) -> str:
    return f"{n:,} Row Entry" if n == 1 else f"{n:,} Row Entries"


def stat_text(stat: Mapping[str, Any], *, color: bool = False) -> str:
    """One ``dolt_diff_stat`` row as Dolt prints it (percentages of the old counts)."""
    name = stat.get("table_name") or ""
    lines = header_lines(name, color=color)
    old_rows, old_cells = stat.get("old_row_count") or 0, stat.get("old_cell_count") or 0

    def line(n: int | None, what: str, verb: str, base: int) -> str:
        n = n or 0
        share = f" ({100 * n / base:.2f}%)" if base else ""
        return f" {_count(n, what)} {verb}{share}"

    lines += [
        line(stat.get("rows_unmodified"), "Row", "Unmodified", old_rows),
        line(stat.get("rows_added"), "Row", "Added", old_rows),
        line(stat.get("rows_deleted"), "Row", "Deleted", old_rows),
        line(stat.get("rows_modified"), "Row", "Modified", old_rows),
        line(stat.get("cells_added"), "Cell", "Added", old_cells),
        line(stat.get("cells_deleted"), "Cell", "Deleted", old_cells),
        line(stat.get("cells_modified"), "Cell", "Modified", old_cells),
        f" ({_entries(old_rows)} vs {_entries(stat.get('new_row_count') or 0)})",
    ]
    return "\n".join(lines) + "\n"


# --- --summary ---------------------------------------------------------------------------


def column_changes(diff: pa.Table) -> dict[str, int]:
    """Per data column, how many modified rows changed that cell."""
    modified = diff.filter(pc.equal(diff.column("diff_type"), string_scalar("modified")))
    return {
        c: int(cells_differ(modified.column("from_" + c), modified.column("to_" + c)).sum())
        for c in diff_columns(diff)
    }


def transitions(diff: pa.Table, column: str) -> pa.Table | None:
    """``from``/``to``/``rows`` counts of a low-cardinality column's changes, most first.

    None when the column has more than :data:`LOW_CARDINALITY` distinct values in
    the diff (then transitions would be noise) or no modified row changed it.
    """
    old_all, new_all = diff.column("from_" + column), diff.column("to_" + column)
    if not _label_like(old_all) or not _label_like(new_all):
        return None
    both = pa.concat_arrays([cell_strings(old_all), cell_strings(new_all)])
    if pc.count_distinct(both, mode="all").as_py() > LOW_CARDINALITY:
        return None
    modified = numpy_bools(pc.equal(diff.column("diff_type"), string_scalar("modified")))
    mask = modified & cells_differ(old_all, new_all)
    if not mask.any():
        return None
    keep = bools(mask)
    # Counted with numpy over dictionary codes: Table.group_by loads pyarrow's dataset
    # module, which imports pandas.
    olds = cell_strings(old_all).filter(keep).dictionary_encode()
    news = cell_strings(new_all).filter(keep).dictionary_encode()
    width = len(news.dictionary)
    codes = numpy_numbers(olds.indices).astype(np.int64) * width + numpy_numbers(news.indices)
    pairs, rows = np.unique(codes, return_counts=True)
    counts = pa.table(
        {
            "from": olds.dictionary.take(int64s(pairs // width)),
            "to": news.dictionary.take(int64s(pairs % width)),
            "rows": int64s(rows),
        }
    )
    return counts.sort_by([("rows", "descending"), ("from", "ascending"), ("to", "ascending")])


def _label_like(values: pa.ChunkedArray) -> bool:
    """Whether a column's values could be labels: scalar (no lists, structs or bytes), and
    for text, no value longer than :data:`MAX_TRANSITION_TEXT` characters."""
    kind = values.type
    if pa.types.is_nested(kind) or pa.types.is_binary(kind) or pa.types.is_large_binary(kind):
        return False
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        longest = pc.max(pc.utf8_length(values)).as_py()
        return longest is None or longest <= MAX_TRANSITION_TEXT
    return True


def skinny(diff: pa.Table, keep: Sequence[str]) -> pa.Table:
    """``diff`` with only the columns in ``keep`` (the key and any asked for) and those
    with a changed cell in some row (``dolt diff --skinny``); other columns are dropped."""
    wanted = set(keep)
    dropped = [
        c
        for c in diff_columns(diff)
        if c not in wanted
        and not cells_differ(diff.column("from_" + c), diff.column("to_" + c)).any()
    ]
    return diff.drop_columns([f"{side}_{c}" for c in dropped for side in ("to", "from")])


def _rows(n: int) -> str:
    return "1 row" if n == 1 else f"{n:,} rows"


def summary_text(name: str, diff: pa.Table, *, color: bool = False) -> str:
    """Rows added/removed/modified, cells changed per column, and label transitions."""
    kinds = _kinds(diff)
    added, removed = int((kinds == "added").sum()), int((kinds == "removed").sum())
    modified = int((kinds == "modified").sum())
    title = f"{BOLD}{name}{RESET}" if color else name
    lines = [f"{title}: {_rows(added)} added, {_rows(removed)} removed, {_rows(modified)} modified"]
    changes = {c: n for c, n in column_changes(diff).items() if n}
    if changes:
        width = max(len(c) for c in changes)
        lines.append("  cells changed per column:")
        lines += [f"    {c.ljust(width)}  {n:,}" for c, n in changes.items()]
    for c in changes:
        moves = transitions(diff, c)
        if moves is None:
            continue
        lines += _transition_lines(c, moves, color)
    return "\n".join(lines) + "\n"


def _transition_lines(column: str, moves: pa.Table, color: bool) -> list[str]:
    shown = moves.slice(0, MAX_TRANSITIONS)
    olds, news, rows = (shown.column(k).to_pylist() for k in ("from", "to", "rows"))
    w_old = max(len(s) for s in olds)
    w_new = max(len(s) for s in news)
    w_rows = max(len(_rows(n)) for n in rows)
    prefix = f"  {column}: "
    out = []
    for i, (a, b, n) in enumerate(zip(olds, news, rows, strict=True)):
        lead = prefix if i == 0 else " " * len(prefix)
        a_text, b_text = a.ljust(w_old), b.ljust(w_new)
        if color:
            a_text, b_text = f"{RED}{a_text}{RESET}", f"{GREEN}{b_text}{RESET}"
        out.append(f"{lead}{a_text} -> {b_text}  {_rows(n).rjust(w_rows)}")
    if moves.num_rows > MAX_TRANSITIONS:
        out.append(
            f"{' ' * len(prefix)}... and {moves.num_rows - MAX_TRANSITIONS} more transitions"
        )
    return out


# --- machine formats ---------------------------------------------------------------------


def _side(diff: pa.Table, prefix: str) -> pa.Table:
    cols = diff_columns(diff)
    return pa.table([diff.column(prefix + c) for c in cols], names=cols)


def json_tables(diffs: Mapping[str, pa.Table]) -> str:
    """Dolt's JSON diff: ``{"tables": [{"name", "data_diff": [{"from_row", "to_row"}]}]}``."""
    tables = []
    for name, diff in diffs.items():
        kinds = _kinds(diff)
        olds, news = _side(diff, "from_").to_pylist(), _side(diff, "to_").to_pylist()
        rows = [
            {"from_row": {} if k == "added" else o, "to_row": {} if k == "removed" else n}
            for k, o, n in zip(kinds, olds, news, strict=True)
        ]
        tables.append({"name": name, "data_diff": rows})
    return json.dumps({"tables": tables}, default=str, ensure_ascii=False) + "\n"


# --- merge conflicts -----------------------------------------------------------------------

_SIDE_MARK = {"added": "+", "removed": "-", "modified": "*"}


def conflict_columns(conflicts: pa.Table) -> list[str]:
    """The data columns of a ``dolt_conflicts_<t>`` result
    (``c`` of ``base_c``/``our_c``/``their_c``)."""
    names = set(conflicts.column_names)
    return [
        n[5:]
        for n in conflicts.column_names
        if n.startswith("base_") and f"our_{n[5:]}" in names and f"their_{n[5:]}" in names
    ]


def conflicts_text(name: str, conflicts: pa.Table, *, color: bool = False) -> str:
    """Each conflict as three lines, base / ours / theirs, with ``+ - *`` for each side's change."""
    n = conflicts.num_rows
    if n == 0:
        return f"{name}: no conflicts\n"
    side = np.tile(np.array(["base", "ours", "theirs"], dtype=object), n)
    marks = np.full(3 * n, " ", dtype=object)
    for offset, column in ((1, "our_diff_type"), (2, "their_diff_type")):
        kinds = conflicts.column(column).to_pylist()
        marks[offset::3] = [_SIDE_MARK.get(k, " ") for k in kinds]
    data = {" ": values_array(marks, pa.string()), "": values_array(side, pa.string())}
    # Line 3i+k shows side k of conflict i: index k*n + i of the three sides stacked.
    order = int64s(np.tile([0, n, 2 * n], n) + np.repeat(np.arange(n), 3))
    for c in conflict_columns(conflicts):
        parts = [conflicts.column(f"{p}_{c}").combine_chunks() for p in ("base", "our", "their")]
        kind = next((p.type for p in parts if not pa.types.is_null(p.type)), pa.null())
        data[c] = pa.concat_arrays([p.cast(kind) for p in parts]).take(order)
    grid = Grid.of(pa.table(data))
    if color:
        ours, theirs = side == "ours", side == "theirs"
        grid.cells[1] = _styled(_styled(grid.cells[1], ours, GREEN), theirs, YELLOW)
    return (
        "\n".join([f"{BOLD}{name}{RESET}" if color else name, *grid.lines(BOLD if color else "")])
        + "\n"
    )
