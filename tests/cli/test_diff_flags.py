"""``arbor diff`` flags a Dolt user reaches for: --limit, --skinny/--include-cols,
--data/--schema, -R, --merge-base; and --summary transitions only for label-like columns."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pyarrow as pa
import pytest

from arbordb.cli.diffview import skinny, transitions
from tests.cli.helpers import arbor, ok, refused


@pytest.fixture
def forked(labels: Path) -> Path:
    """main and feature fork after 'import labels'; feature relabels 1 and 4 and adds a
    column, main changes the score of 2."""
    ok(arbor(labels, "checkout", "-b", "feature"))
    ok(arbor(labels, "sql", "-q", "UPDATE labels SET label = 'owl' WHERE id IN (1, 4)"))
    ok(arbor(labels, "sql", "-q", "ALTER TABLE labels ADD COLUMN note VARCHAR"))
    ok(arbor(labels, "commit", "-Am", "owls"))
    ok(arbor(labels, "checkout", "main"))
    ok(arbor(labels, "sql", "-q", "UPDATE labels SET score = 0.1 WHERE id = 2"))
    ok(arbor(labels, "commit", "-am", "score"))
    return labels


def _header(text: str) -> str:
    return next(line for line in text.splitlines() if line.startswith("|   |"))


def test_skinny_keeps_the_key_and_changed_columns(forked: Path) -> None:
    text = ok(arbor(forked, "diff", "main", "feature", "--skinny"))
    assert _header(text).split("|")[2:-1] == [" id ", " label ", " score "]
    text = ok(arbor(forked, "diff", "--merge-base", "main", "feature", "--skinny"))
    assert _header(text).split("|")[2:-1] == [" id ", " label "]
    text = ok(arbor(forked, "diff", "--merge-base", "main", "feature", "-sk", "-ic", "score"))
    assert _header(text).split("|")[2:-1] == [" id ", " label ", " score "]


def test_limit_data_and_schema(forked: Path) -> None:
    limited = ok(arbor(forked, "diff", "main", "feature", "--limit", "1", "--data"))
    assert limited.count("| < |") == 1 and '"note"' not in limited
    schema = ok(arbor(forked, "diff", "main", "feature", "--schema"))
    assert '"note"' in schema and "| < |" not in schema
    refused(arbor(forked, "diff", "--data", "--schema"), "contradict", code=2)
    refused(arbor(forked, "diff", "-ic", "score"), "--skinny", code=2)


def test_reverse_swaps_the_sides(forked: Path) -> None:
    forward = ok(arbor(forked, "diff", "main", "feature", "-d", "-r", "csv"))
    backward = ok(arbor(forked, "diff", "feature", "main", "-R", "-d", "-r", "csv"))
    assert forward == backward
    swapped = ok(arbor(forked, "diff", "main", "feature", "-R", "-d", "-r", "csv"))
    assert swapped != forward and "owl" in swapped


def test_merge_base_diffs_from_the_fork_point(forked: Path) -> None:
    text = ok(arbor(forked, "diff", "--merge-base", "main", "feature", "-d", "-r", "csv"))
    same = ok(arbor(forked, "diff", "main...feature", "-d", "-r", "csv"))
    assert text == same
    rows = list(csv.DictReader(io.StringIO(text)))
    assert sorted(row["to_id"] for row in rows) == ["1", "4"]  # main's change to 2 is not in it
    assert all("0.1" not in (row["to_score"], row["from_score"]) for row in rows)
    reverse = ok(arbor(forked, "diff", "main...feature", "-R", "-d", "-r", "csv"))
    assert reverse != same and "owl" in reverse
    refused(arbor(forked, "diff", "--merge-base"), "needs a revision", code=2)


def test_skinny_drops_only_unchanged_columns() -> None:
    diff = pa.table(
        {
            "to_id": [1, 2],
            "from_id": [1, None],
            "to_a": ["x", "y"],
            "from_a": ["x", None],
            "to_b": [5, None],
            "from_b": [5, None],
            "diff_type": ["modified", "added"],
        }
    )
    assert skinny(diff, []).column_names == ["to_id", "from_id", "to_a", "from_a", "diff_type"]
    assert skinny(diff, ["b"]).column_names == diff.column_names


def test_transitions_only_for_label_like_columns() -> None:
    def diff(old: list, new: list) -> pa.Table:
        return pa.table({"to_c": new, "from_c": old, "diff_type": ["modified"] * len(new)})

    assert transitions(diff(["cat", "dog"], ["dog", "cat"]), "c") is not None
    long_text = ["a" * 41, "b" * 41]
    assert transitions(diff(long_text, long_text[::-1]), "c") is None
    assert transitions(diff([[1.0], [2.0]], [[2.0], [1.0]]), "c") is None
    assert transitions(diff([b"a", b"b"], [b"b", b"a"]), "c") is None
