"""``arbor test`` and the ``--check GROUP`` gates of ``arbor merge`` and ``arbor tag``."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.helpers import arbor, arbor_process, ok, refused, snapshot

ALLOWED = (
    "INSERT INTO dolt_tests VALUES ('allowed_labels', 'labels', "
    "'SELECT * FROM labels WHERE label NOT IN (''cat'', ''dog'', ''bird'')', "
    "'expected_rows', '==', '0'), "
    "('no_null_labels', 'labels', 'SELECT * FROM labels WHERE label IS NULL', "
    "'expected_rows', '==', '0')"
)


@pytest.fixture
def checked(labels: Path) -> Path:
    """``labels`` with two committed checks in group 'labels', and a branch 'relabel'
    that breaks one of them."""
    ok(arbor(labels, "sql", "-q", ALLOWED))
    ok(arbor(labels, "commit", "-Am", "label checks"))
    ok(arbor(labels, "checkout", "-b", "relabel"))
    ok(arbor(labels, "sql", "-q", "UPDATE labels SET label = 'parrot' WHERE id = 4"))
    ok(arbor(labels, "commit", "-am", "a parrot"))
    ok(arbor(labels, "checkout", "main"))
    return labels


def test_arbor_test_passes_then_fails_with_exit_1(checked):
    text = ok(arbor(checked, "test"))
    assert "allowed_labels" in text and "PASS" in text and "2 passed, 0 failed" in text
    ok(arbor(checked, "checkout", "relabel"))
    ran = arbor(checked, "test", "labels")
    assert ran.code == 1
    assert "FAIL" in ran.out and "Assertion failed: expected_rows equal to 0, got 1" in ran.out
    assert "1 passed, 1 failed" in ran.out
    assert ok(arbor(checked, "test", "no_null_labels")).count("PASS") == 1
    refused(arbor(checked, "test", "nope"), "no test and no test group is named 'nope'")


def test_arbor_test_exits_non_zero_in_a_real_process(checked):
    ok(arbor(checked, "checkout", "relabel"))
    assert arbor_process(checked, "test").code == 1
    ok(arbor(checked, "checkout", "main"))
    assert arbor_process(checked, "test", "labels").code == 0


def test_merge_check_refuses_and_leaves_everything_as_before(checked):
    before = snapshot(checked)
    refused(
        arbor(checked, "merge", "--check", "labels", "relabel"),
        "refused the merge of 'relabel'",
        "allowed_labels",
    )
    assert snapshot(checked) == before
    ok(arbor(checked, "merge", "relabel"))  # ungated, the same merge fast-forwards


def test_merge_check_lets_a_passing_merge_through(checked):
    ok(arbor(checked, "checkout", "-b", "birds"))
    ok(arbor(checked, "sql", "-q", "INSERT INTO labels VALUES (5, 'bird', 0.5)"))
    ok(arbor(checked, "commit", "-am", "another bird"))
    ok(arbor(checked, "checkout", "main"))
    assert "Fast-forward" in ok(arbor(checked, "merge", "--check", "labels", "birds"))


def test_tag_check(checked):
    ok(arbor(checked, "tag", "--check", "labels", "v1"))
    before = snapshot(checked)
    refused(arbor(checked, "tag", "--check", "labels", "v2", "relabel"), "refused the tag 'v2'")
    assert snapshot(checked) == before
    assert ok(arbor(checked, "tag")) == "v1\n"
