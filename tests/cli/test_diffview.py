"""Dolt-style diff views (cli/diffview.py) on hand-made dolt_diff() results."""

from __future__ import annotations

import json

import pyarrow as pa
import pytest

from arbordb.cli import diffview
from arbordb.cli.render import GREEN, RED, RESET


def sample() -> pa.Table:
    return pa.table(
        {
            "to_id": [2, 3, None, 5],
            "to_label": ["cat", "bird", None, "dog"],
            "to_score": [0.5, 0.1, None, 0.2],
            "to_commit": ["WORKING"] * 4,
            "from_id": [2, None, 4, 5],
            "from_label": ["dog", None, "fish", "cat"],
            "from_score": [0.5, None, 0.3, 0.9],
            "from_commit": ["abc"] * 4,
            "diff_type": ["modified", "added", "removed", "modified"],
        }
    )


def test_diff_columns_skip_commit_metadata():
    assert diffview.diff_columns(sample()) == ["id", "label", "score"]


def test_rows_view_markers_and_pairs():
    text = diffview.table_diff_text("labels", sample())
    assert text.splitlines() == [
        "diff --arbor a/labels b/labels",
        "--- a/labels",
        "+++ b/labels",
        "+---+----+-------+-------+",
        "|   | id | label | score |",
        "+---+----+-------+-------+",
        "| < |  2 | dog   |   0.5 |",
        "| > |  2 | cat   |   0.5 |",
        "| + |  3 | bird  |   0.1 |",
        "| - |  4 | fish  |   0.3 |",
        "| < |  5 | cat   |   0.9 |",
        "| > |  5 | dog   |   0.2 |",
        "+---+----+-------+-------+",
    ]


def test_colour_highlights_changed_cells_only():
    text = diffview.table_diff_text("labels", sample(), color=True)
    old_line, new_line = [line for line in text.splitlines() if " 2 |" in line]
    assert f"{RED}dog  {RESET}" in old_line and f"{GREEN}cat  {RESET}" in new_line
    assert "  0.5 |" in new_line and f"{GREEN}  0.5" not in new_line  # unchanged cell plain
    added = next(line for line in text.splitlines() if "bird" in line)
    assert added.count(GREEN) == 4  # marker and every cell


def test_null_to_null_is_not_a_change():
    diff = pa.table(
        {"to_a": [None], "from_a": pa.array([None], pa.int64()), "diff_type": ["modified"]}
    )
    assert diffview.cells_differ(
        diff.column("to_a").cast(pa.int64()), diff.column("from_a")
    ).tolist() == [False]


def test_summary_counts_and_transitions():
    text = diffview.summary_text("labels", sample())
    assert text.splitlines() == [
        "labels: 1 row added, 1 row removed, 2 rows modified",
        "  cells changed per column:",
        "    label  2",
        "    score  1",
        "  label: cat -> dog  1 row",
        "         dog -> cat  1 row",
        "  score: 0.9 -> 0.2  1 row",
    ]


def test_transitions_most_frequent_first_and_skip_high_cardinality():
    n = 150
    old = ["cat"] * 120 + ["dog"] * 30
    new = ["dog"] * 120 + ["bird"] * 30
    diff = pa.table(
        {
            "to_id": list(range(n)),
            "from_id": list(range(n)),
            "to_label": new,
            "from_label": old,
            "to_score": [i / 1000 for i in range(n)],
            "from_score": [i / 999 for i in range(n)],
            "diff_type": ["modified"] * n,
        }
    )
    moves = diffview.transitions(diff, "label")
    assert moves.to_pylist() == [
        {"from": "cat", "to": "dog", "rows": 120},
        {"from": "dog", "to": "bird", "rows": 30},
    ]
    assert diffview.transitions(diff, "score") is None  # 300 distinct values: not a label
    text = diffview.summary_text("labels", diff)
    assert "  label: cat -> dog   120 rows" in text and "dog -> bird   30 rows" in text


def test_many_transitions_are_cut():
    labels = [f"l{i}" for i in range(12)]
    diff = pa.table(
        {
            "to_x": labels[1:] + labels[:1],
            "from_x": labels,
            "diff_type": ["modified"] * 12,
        }
    )
    text = diffview.summary_text("t", diff)
    assert "... and 2 more transitions" in text


def test_stat_text_percentages():
    text = diffview.stat_text(
        {
            "table_name": "t",
            "rows_unmodified": 3,
            "rows_added": 1,
            "rows_deleted": 0,
            "rows_modified": 0,
            "cells_added": 2,
            "cells_deleted": 0,
            "cells_modified": 0,
            "old_row_count": 3,
            "new_row_count": 4,
            "old_cell_count": 6,
            "new_cell_count": 8,
        }
    )
    assert " 3 Rows Unmodified (100.00%)" in text
    assert " 1 Row Added (33.33%)" in text
    assert text.rstrip().endswith("(3 Row Entries vs 4 Row Entries)")


def test_json_tables_dolt_shape():
    data = json.loads(diffview.json_tables({"labels": sample()}))
    rows = data["tables"][0]["data_diff"]
    assert data["tables"][0]["name"] == "labels"
    assert rows[1] == {"from_row": {}, "to_row": {"id": 3, "label": "bird", "score": 0.1}}
    assert rows[2]["to_row"] == {}


def test_conflicts_view_three_lines_per_conflict():
    conflicts = pa.table(
        {
            "from_root_ish": ["x"],
            "base_id": [2],
            "base_label": ["dog"],
            "our_id": [2],
            "our_label": ["cat"],
            "our_diff_type": ["modified"],
            "their_id": [None],
            "their_label": [None],
            "their_diff_type": ["removed"],
            "dolt_conflict_id": ["c1"],
        }
    )
    lines = diffview.conflicts_text("labels", conflicts).splitlines()
    assert lines[0] == "labels"
    assert lines[4:7] == [
        "|   | base   |    2 | dog   |",
        "| * | ours   |    2 | cat   |",
        "| - | theirs | NULL | NULL  |",
    ]


@pytest.mark.parametrize("rows", [0, 1])
def test_empty_and_single_row_diffs(rows):
    diff = sample().slice(0, rows)
    text = diffview.table_diff_text("t", diff, note="added table")
    assert "added table" in text
    assert ("| < |" in text) == bool(rows)
