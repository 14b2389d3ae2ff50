"""Dolt's dolt_tests / dolt_test_run, and the --check gates of dolt_merge and dolt_tag."""

from __future__ import annotations

import datetime

import pyarrow as pa
import pytest

import arbordb
from arbordb.sql.procedures.data_tests import assert_result
from tests.sql.conftest import rows, state

# The typical label checks of an ML team, as Dolt's dolt_tests rows.
LABEL_CHECKS = [
    ("allowed_labels", "labels",
     "SELECT count(*) FROM labels WHERE label NOT IN ('cat', 'dog')",
     "expected_single_value", "==", "0"),
    ("no_duplicate_texts", "labels",
     "SELECT text FROM labels GROUP BY text HAVING count(*) > 1", "expected_rows", "==", "0"),
    ("no_null_labels", "labels",
     "SELECT * FROM labels WHERE label IS NULL;", "expected_rows", "==", "0"),
    ("class_balance", "labels",
     "SELECT max(n) / min(n) FROM (SELECT count(*)::DOUBLE AS n FROM labels GROUP BY label)",
     "expected_single_value", "<=", "2"),
]  # fmt: skip


@pytest.fixture
def labelled(cur):
    cur.execute("CREATE TABLE labels (id BIGINT PRIMARY KEY, text VARCHAR, label VARCHAR)")
    cur.execute(
        "INSERT INTO labels VALUES (1, 'a purring cat', 'cat'), (2, 'a barking dog', 'dog'), "
        "(3, 'a cat asleep', 'cat')"
    )
    cur.executemany("INSERT INTO dolt_tests VALUES (?, ?, ?, ?, ?, ?)", LABEL_CHECKS)
    cur.execute("CALL dolt_commit('-Am', 'labels and their checks')")
    return cur


def statuses(cur, *selectors: str) -> dict[str, tuple[str, str]]:
    args = ", ".join(f"'{s}'" for s in selectors)
    found = rows(cur, f"SELECT test_name, status, message FROM dolt_test_run({args})")
    return {name: (status, message) for name, status, message in found}


def test_dolt_tests_has_doltS_columns_before_and_after_the_first_insert(cur):
    cur.execute("SELECT * FROM dolt_tests")
    empty = [d[0] for d in cur.description]
    assert cur.fetchall() == []
    assert empty == [
        "test_name", "test_group", "test_query",
        "assertion_type", "assertion_comparator", "assertion_value",
    ]  # fmt: skip
    assert rows(cur, "SELECT * FROM dolt_status") == []  # reading creates nothing
    with pytest.raises(arbordb.ProgrammingError, match="dolt_tests has no tests yet"):
        cur.execute("SELECT * FROM dolt_test_run()")
    cur.execute("INSERT INTO dolt_tests VALUES ('t', NULL, 'SELECT 1', 'expected_rows', '==', '1')")
    cur.execute("SELECT * FROM dolt_tests")
    assert [d[0] for d in cur.description] == empty
    assert cur.fetchall() == [("t", None, "SELECT 1", "expected_rows", "==", "1")]
    assert rows(cur, "SELECT * FROM dolt_test_run()") == [("t", "", "SELECT 1", "PASS", "")]


def test_typical_label_checks_pass_then_fail_with_doltS_messages(labelled):
    cur = labelled
    assert {s for s, _ in statuses(cur, "labels").values()} == {"PASS"}
    cur.execute("INSERT INTO labels VALUES (4, 'a purring cat', 'lynx'), (5, 'x', NULL)")
    found = statuses(cur, "labels")
    assert found["allowed_labels"] == (
        "FAIL",
        "Assertion failed: expected_single_value equal to 0, got 1",
    )
    assert found["no_duplicate_texts"] == (
        "FAIL",
        "Assertion failed: expected_rows equal to 0, got 1",
    )
    assert found["no_null_labels"] == ("FAIL", "Assertion failed: expected_rows equal to 0, got 1")
    assert found["class_balance"] == ("PASS", "")  # 2 cats : 1 dog : 1 lynx
    cur.execute("INSERT INTO labels VALUES (6, 'y', 'cat'), (7, 'z', 'cat')")
    assert statuses(cur, "class_balance")["class_balance"] == (
        "FAIL",
        "Assertion failed: expected_single_value less than or equal to 2, got 4",
    )


def test_selectors_follow_dolt(labelled):
    cur = labelled
    cur.execute(
        "INSERT INTO dolt_tests VALUES ('solo', NULL, 'SELECT 1', 'expected_rows', '==', '1')"
    )
    assert set(statuses(cur)) == set(statuses(cur, "*")) == {t[0] for t in LABEL_CHECKS} | {"solo"}
    assert set(statuses(cur, "labels")) == {t[0] for t in LABEL_CHECKS}
    assert set(statuses(cur, "solo", "no_null_labels")) == {"solo", "no_null_labels"}
    assert rows(cur, "SELECT test_group_name FROM dolt_test_run('solo')") == [("",)]
    with pytest.raises(arbordb.ProgrammingError, match="no test and no test group is named 'nope'"):
        cur.execute("SELECT * FROM dolt_test_run('nope')")


def test_bad_test_queries_fail_their_test_not_the_run(cur):
    cur.executemany(
        "INSERT INTO dolt_tests VALUES (?, NULL, ?, 'expected_rows', '==', '0')",
        [
            ("write", "DELETE FROM dolt_tests"),
            ("two", "SELECT 1; SELECT 2"),
            ("missing", "SELECT * FROM nowhere"),
            ("nested", "SELECT * FROM dolt_test_run('write')"),
        ],
    )
    found = statuses(cur)
    assert found["write"] == ("FAIL", "Cannot execute write queries")
    assert found["two"] == ("FAIL", "Can only run exactly one query")
    assert found["nested"] == ("FAIL", "Cannot call dolt_test_run in dolt_tests")
    status, message = found["missing"]
    assert status == "FAIL" and message.startswith("Query error: ") and "nowhere" in message
    assert "__arbor" not in message
    assert rows(cur, "SELECT count(*) FROM dolt_tests") == [(4,)]  # nothing was run


@pytest.mark.parametrize(
    "assertion, comparator, value, result, message",
    [
        ("expected_rows", "==", "2", pa.table({"a": [1, 2]}), ""),
        ("expected_rows", ">", "2", pa.table({"a": [1, 2]}),
         "Assertion failed: expected_rows greater than 2, got 2"),
        ("expected_rows", "==", "two", pa.table({"a": [1]}),
         "cannot run assertion on non integer value: two"),
        ("expected_columns", "<", "2", pa.table({"a": [1], "b": [2]}),
         "Assertion failed: expected_columns less than 2, got 2"),
        ("expected_single_value", "!=", "cat", pa.table({"a": ["cat"]}),
         "Assertion failed: expected_single_value not equal to cat, got cat"),
        ("expected_single_value", ">=", "0.5", pa.table({"a": [0.25]}),
         "Assertion failed: expected_single_value greater than or equal to 0.5, got 0.25"),
        ("expected_single_value", "<", "3", pa.table({"a": [3.0]}),
         "Assertion failed: expected_single_value less than 3, got 3"),
        ("expected_single_value", "==", "x", pa.table({"a": [1]}),
         "Could not compare non integer value 'x', with 1"),
        ("expected_single_value", "==", "null", pa.table({"a": pa.array([None], pa.int64())}), ""),
        ("expected_single_value", "==", "1", pa.table({"a": pa.array([None], pa.int64())}),
         "Assertion failed: expected_single_value equal to 1, got NULL"),
        ("expected_single_value", "==", "2026-01-02",
         pa.table({"a": pa.array([datetime.date(2026, 1, 2)])}), ""),
        ("expected_single_value", "==", "1", pa.table({"a": [1, 2]}),
         "expected_single_value expects exactly one cell. Received multiple rows"),
        ("expected_single_value", "==", "1", pa.table({"a": [1], "b": [1]}),
         "expected_single_value expects exactly one cell. Received multiple columns"),
        ("expected_single_value", "==", "1", pa.table({"a": pa.array([], pa.int64())}),
         "expected_single_value expects exactly one cell. Received 0 rows"),
        ("expected_rows", "=~", "1", pa.table({"a": [1]}), "=~ is not a valid comparison type"),
        ("row_count", "==", "1", pa.table({"a": [1]}), "row_count is not a valid assertion type"),
    ],
)  # fmt: skip
def test_assertions_and_comparators(assertion, comparator, value, result, message):
    assert assert_result(assertion, comparator, value, result) == message


def test_tests_are_versioned_and_merged_like_any_table(labelled):
    cur = labelled
    cur.execute("CALL dolt_checkout('-b', 'stricter')")
    cur.execute("UPDATE dolt_tests SET assertion_value = '1.5' WHERE test_name = 'class_balance'")
    cur.execute("CALL dolt_commit('-am', 'stricter balance')")
    cur.execute("CALL dolt_checkout('main')")
    assert rows(
        cur, "SELECT assertion_value FROM dolt_tests WHERE test_name = 'class_balance'"
    ) == [("2",)]
    assert statuses(cur, "class_balance")["class_balance"][0] == "PASS"
    cur.execute("CALL dolt_merge('stricter')")
    assert statuses(cur, "class_balance")["class_balance"] == (
        "FAIL",
        "Assertion failed: expected_single_value less than or equal to 1.5, got 2",
    )
    assert rows(cur, "SELECT count(*) FROM dolt_diff('HEAD~1', 'HEAD', 'dolt_tests')") == [(1,)]


def _branch_with_bad_labels(cur, name="relabel"):
    cur.execute(f"CALL dolt_checkout('-b', '{name}')")
    cur.execute("INSERT INTO labels VALUES (4, 'a parrot', 'parrot')")
    cur.execute("CALL dolt_commit('-am', 'a label outside the set')")
    cur.execute("CALL dolt_checkout('main')")


def test_merge_check_refuses_a_failing_result_and_changes_nothing(con, labelled):
    cur = labelled
    _branch_with_bad_labels(cur)
    before = state(con)
    with pytest.raises(arbordb.sql.errors.DataTestsFailed, match="allowed_labels") as caught:
        cur.execute("CALL dolt_merge('relabel', '--check', 'labels')")
    assert "group 'labels'" in str(caught.value) and "nothing changed" in str(caught.value).lower()
    assert isinstance(caught.value, arbordb.OperationalError)
    assert state(con) == before
    assert rows(cur, "SELECT count(*) FROM labels") == [(3,)]
    con.commit()
    assert state(con) == before
    # without the gate, the same merge goes through
    assert rows(cur, "CALL dolt_merge('relabel')")[0][1] == 1  # fast-forward


def test_merge_check_passes_a_good_merge_with_doltS_message(labelled):
    cur = labelled
    cur.execute("CALL dolt_checkout('-b', 'more')")
    cur.execute("INSERT INTO labels VALUES (4, 'a dog asleep', 'dog')")
    cur.execute("CALL dolt_commit('-am', 'one more dog')")
    cur.execute("CALL dolt_checkout('main')")
    cur.execute("UPDATE labels SET text = 'a cat, purring' WHERE id = 1")
    cur.execute("CALL dolt_commit('-am', 'reword')")
    merged = rows(cur, "CALL dolt_merge('more', '--check', 'labels')")[0]
    assert merged[0] and merged[1:] == (0, 0, "merge successful")
    assert rows(cur, "SELECT message FROM dolt_log LIMIT 1") == [("Merge branch 'more' into main",)]
    assert rows(cur, "SELECT count(*) FROM labels") == [(4,)]


def test_merge_check_judges_the_merged_tests_and_refuses_conflicts(con, labelled):
    cur = labelled
    _branch_with_bad_labels(cur)
    cur.execute("CALL dolt_checkout('relabel')")  # the branch also allows 'parrot'
    cur.execute(
        "UPDATE dolt_tests SET test_query = 'SELECT count(*) FROM labels WHERE label NOT IN "
        "(''cat'', ''dog'', ''parrot'')' WHERE test_name = 'allowed_labels'"
    )
    cur.execute("CALL dolt_commit('-am', 'parrots are fine')")
    cur.execute("CALL dolt_checkout('main')")
    cur.execute("UPDATE labels SET label = 'dog' WHERE id = 3")
    cur.execute("CALL dolt_commit('-am', 'main relabels 3')")
    assert rows(cur, "CALL dolt_merge('relabel', '--check', 'labels')")[0][2] == 0

    cur.execute("CALL dolt_checkout('-b', 'other')")
    cur.execute("UPDATE labels SET text = 'a lynx' WHERE id = 1")
    cur.execute("CALL dolt_commit('-am', 'lynx')")
    cur.execute("CALL dolt_checkout('main')")
    cur.execute("UPDATE labels SET text = 'a tabby' WHERE id = 1")
    cur.execute("CALL dolt_commit('-am', 'tabby')")
    before = state(con)
    with pytest.raises(arbordb.OperationalError, match="conflicts"):
        cur.execute("CALL dolt_merge('other', '--check', 'labels')")
    assert state(con) == before


def test_merge_check_of_an_unknown_group_is_refused(con, labelled):
    cur = labelled
    _branch_with_bad_labels(cur)
    before = state(con)
    with pytest.raises(arbordb.sql.errors.DataTestsFailed, match="names no test group"):
        cur.execute("CALL dolt_merge('relabel', '--check', 'lables')")
    assert state(con) == before


def test_tag_check_gates_the_tag(con, labelled):
    cur = labelled
    cur.execute("CALL dolt_tag('v1', '--check', 'labels')")
    _branch_with_bad_labels(cur)
    before = state(con)
    with pytest.raises(arbordb.sql.errors.DataTestsFailed, match="refused the tag 'v2'"):
        cur.execute("CALL dolt_tag('v2', 'relabel', '--check', 'labels')")
    assert state(con) == before
    assert rows(cur, "SELECT tag_name FROM dolt_tags") == [("v1",)]
