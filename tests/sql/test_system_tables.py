"""Dolt's system tables, table functions and functions over small engine-built repositories.

Each test builds its history with the engine directly (no SQL session) and checks
columns and rows against what Dolt documents, including the error cases.
"""

from __future__ import annotations

from datetime import datetime
from types import SimpleNamespace

import duckdb
import pyarrow as pa
import pytest

from arbordb.engine.db import Database
from arbordb.engine.errors import InvalidInput, RevisionNotFound, TableNotFound
from arbordb.engine.hash import format_address
from arbordb.engine.table import Column, Index, Schema, Table
from arbordb.sql.system.common import BatchStream
from arbordb.sql.system.registry import (
    PER_TABLE_PREFIXES,
    SYSTEM_TABLE_NAMES,
    TABLE_FUNCTION_NAMES,
    scalar_function,
    system_relation,
    system_table_names,
)

LABELS = Schema(
    [
        Column("id", None, pa.int64()),
        Column("label", None, pa.string()),
        Column("score", None, pa.float64()),
    ],
    ("id",),
    name="labels",
)


def ctx_of(db: Database, ws) -> SimpleNamespace:
    return SimpleNamespace(db=db, workspace=ws, branch=ws.branch)


def rel(ctx, name, args=None, **kw) -> pa.Table:
    out = system_relation(name, args, ctx, **kw)
    assert out is not None
    return out.read_all() if isinstance(out, BatchStream) else out


def rows(table: pa.Table, *columns: str) -> list[tuple]:
    data = table.select(list(columns)).to_pylist()
    return [tuple(r[c] for c in columns) for r in data]


def upsert(ws, table: str, **columns) -> None:
    ws.put_table(table, ws.table(table).upsert(pa.table(columns)))


def delete(ws, table: str, ids) -> None:
    ws.put_table(table, ws.table(table).delete(pa.table({"id": ids})))


def at(day: int) -> datetime:
    return datetime(2026, 1, day, 12, 0, 0)


@pytest.fixture
def repo():
    """main: init -> c1 (labels 1,2,3) -> c2 (2 relabelled, 4 added); working: 1 deleted.
    feature (from c1): f1 (2 -> 'F', 5 added)."""
    db = Database.memory()
    ws = db.workspace()
    ws.create_table(
        "labels",
        Table.create(ws.nodes, LABELS).insert(
            pa.table({"id": [1, 2, 3], "label": ["cat", "dog", "cow"], "score": [1.0, 2.0, 3.0]})
        ),
    )
    c1 = ws.commit("add labels", stage_all=True, date=at(1))
    db.create_branch("feature")
    feature = db.workspace("feature")
    upsert(feature, "labels", id=[2, 5], label=["F", "eel"], score=[2.0, 5.0])
    f1 = feature.commit("feature work", stage_all=True, date=at(2))
    upsert(ws, "labels", id=[2, 4], label=["dog2", "it's"], score=[2.5, None])
    c2 = ws.commit("relabel", stage_all=True, date=at(3))
    db.create_tag("v1", "HEAD~1", message="first labels")
    delete(ws, "labels", [1])
    return SimpleNamespace(db=db, ws=ws, ctx=ctx_of(db, ws), c1=c1, c2=c2, f1=f1, feature=feature)


# --- names and dispatch -----------------------------------------------------------------


def test_names_listed_and_unknown_names_are_not_ours(repo):
    assert "dolt_log" in SYSTEM_TABLE_NAMES and "dolt_diff_" in PER_TABLE_PREFIXES
    assert "dolt_patch" in TABLE_FUNCTION_NAMES
    names = system_table_names(repo.ctx)
    assert {"dolt_status", "dolt_diff_labels", "dolt_history_labels", "dolt_blame_labels"} <= set(
        names
    )
    assert system_relation("labels", None, repo.ctx) is None
    assert system_relation("generate_series", [1, 2], repo.ctx) is None
    assert scalar_function("lower", ["x"], repo.ctx) is None


def test_table_and_function_mixups_are_named(repo):
    with pytest.raises(InvalidInput, match="is a table function"):
        system_relation("dolt_patch", None, repo.ctx)
    with pytest.raises(InvalidInput, match="is a table function"):
        system_relation("dolt_diff_stat", None, repo.ctx)
    with pytest.raises(InvalidInput, match="system table, not a table function"):
        system_relation("dolt_status", [], repo.ctx)
    with pytest.raises(TableNotFound, match="'nosuch' not found"):
        system_relation("dolt_history_nosuch", None, repo.ctx)


def test_names_ignore_case(repo):
    assert rel(repo.ctx, "DOLT_Log").num_rows == 3
    assert rel(repo.ctx, "dolt_diff_LABELS").num_rows > 0


# --- log, commits, ancestors -----------------------------------------------------------


def test_dolt_log_columns_and_order(repo):
    log = rel(repo.ctx, "dolt_log")
    assert log.column_names == [
        "commit_hash",
        "committer",
        "email",
        "date",
        "message",
        "commit_order",
        "metadata",
    ]
    assert log.schema.field("date").type == pa.timestamp("us")
    assert rows(log, "message", "commit_order") == [
        ("relabel", 3),
        ("add labels", 2),
        ("Initialize data repository", 1),
    ]
    assert log.column("commit_hash")[0].as_py() == format_address(repo.c2)
    assert log.column("date")[0].as_py() == at(3)


def test_dolt_log_function_ranges_and_flags(repo):
    ctx = repo.ctx
    msgs = lambda *a: rel(ctx, "dolt_log", list(a)).column("message").to_pylist()  # noqa: E731
    assert msgs("feature") == ["feature work", "add labels", "Initialize data repository"]
    assert msgs("main..feature") == ["feature work"]
    assert msgs("feature", "^main") == ["feature work"]
    assert msgs("feature", "--not", "main") == ["feature work"]
    assert msgs("main...feature") == ["relabel", "feature work"]
    assert msgs("--tables", "labels") == ["relabel", "add labels"]
    assert msgs("--merges") == []
    table = rel(ctx, "dolt_log", ["--parents", "--decorate", "short", "HEAD~1"])
    assert table.column_names[-2:] == ["parents", "refs"]
    assert table.column("parents").to_pylist()[0] == format_address(
        repo.ws.loader.load(repo.c1).parents[0]
    )
    assert table.column("refs").to_pylist()[0] == "tag: v1"
    full = rel(ctx, "dolt_log", ["--decorate=full"])
    assert full.column("refs")[0].as_py() == "HEAD -> refs/heads/main"


def test_dolt_log_function_errors(repo):
    with pytest.raises(RevisionNotFound, match="nosuch"):
        system_relation("dolt_log", ["nosuch"], repo.ctx)
    with pytest.raises(InvalidInput, match="unknown option '--bogus'"):
        system_relation("dolt_log", ["--bogus"], repo.ctx)
    with pytest.raises(InvalidInput, match="must be text"):
        system_relation("dolt_log", [3], repo.ctx)
    with pytest.raises(InvalidInput, match="--decorate takes"):
        system_relation("dolt_log", ["--decorate", "loud"], repo.ctx)


def merged(repo) -> bytes:
    """Merge feature into main after resolving by committing a non-conflicting state."""
    ws = repo.ws
    ws.reset("hard")
    db2 = repo.db
    side = db2.workspace("feature")
    upsert(side, "labels", id=[2], label=["dog2"], score=[2.5])
    side.commit("agree on 2", stage_all=True, date=at(4))
    outcome = ws.merge_revision("feature", message="merge feature")
    assert outcome.hash is not None
    return outcome.hash


def test_commits_and_ancestors_cover_every_branch(repo):
    ctx = repo.ctx
    commits = rel(ctx, "dolt_commits")
    assert commits.column_names == [
        "commit_hash",
        "committer",
        "email",
        "date",
        "message",
        "metadata",
    ]
    assert set(commits.column("message").to_pylist()) == {
        "Initialize data repository",
        "add labels",
        "feature work",
        "relabel",
    }
    merge = merged(repo)
    anc = rel(ctx, "dolt_commit_ancestors")
    assert anc.column_names == ["commit_hash", "parent_hash", "parent_index"]
    of_merge = [
        r
        for r in rows(anc, "commit_hash", "parent_hash", "parent_index")
        if r[0] == format_address(merge)
    ]
    assert [r[2] for r in of_merge] == [0, 1]
    assert of_merge[0][1] == format_address(repo.c2)
    roots = [r for r in rows(anc, "commit_hash", "parent_hash") if r[1] is None]
    assert len(roots) == 1
    assert rel(ctx, "dolt_log", ["--merges"]).column("message").to_pylist() == ["merge feature"]
    first = rel(ctx, "dolt_log", ["--first-parent"]).column("message").to_pylist()
    assert (
        "feature work" not in first
        and "feature work" in rel(ctx, "dolt_log").column("message").to_pylist()
    )


# --- branches, tags, status, merge status ------------------------------------------------


def test_branches_tags_status(repo):
    branches = rel(repo.ctx, "dolt_branches")
    assert branches.column_names == [
        "name",
        "hash",
        "latest_committer",
        "latest_committer_email",
        "latest_commit_date",
        "latest_commit_message",
        "remote",
        "branch",
        "dirty",
    ]
    assert rows(branches, "name", "hash", "latest_commit_message", "dirty") == [
        ("feature", format_address(repo.f1), "feature work", False),
        ("main", format_address(repo.c2), "relabel", True),
    ]
    tags = rel(repo.ctx, "dolt_tags")
    assert tags.column_names == ["tag_name", "tag_hash", "tagger", "email", "date", "message"]
    assert rows(tags, "tag_name", "tag_hash", "message") == [
        ("v1", format_address(repo.c1), "first labels")
    ]
    status = rel(repo.ctx, "dolt_status")
    assert status.column_names == ["table_name", "staged", "status"]
    assert rows(status, "table_name", "staged", "status") == [("labels", False, "modified")]
    repo.ws.add(["labels"])
    other = Schema([Column("k", None, pa.string())], ("k",), name="fresh")
    repo.ws.create_table("fresh", Table.create(repo.ws.nodes, other))
    assert rows(rel(repo.ctx, "dolt_status"), "table_name", "staged", "status") == [
        ("labels", True, "modified"),
        ("fresh", False, "new table"),
    ]


def test_merge_status_when_idle(repo):
    status = rel(repo.ctx, "dolt_merge_status")
    assert status.column_names == [
        "is_merging",
        "source",
        "source_commit",
        "target",
        "unmerged_tables",
    ]
    assert status.to_pylist() == [
        {
            "is_merging": False,
            "source": None,
            "source_commit": None,
            "target": None,
            "unmerged_tables": None,
        }
    ]


# --- dolt_diff (system table) and dolt_diff_<t> ----------------------------------------------


def test_dolt_diff_lists_changed_tables_per_commit(repo):
    diff = rel(repo.ctx, "dolt_diff")
    assert diff.column_names == [
        "commit_hash",
        "table_name",
        "committer",
        "email",
        "date",
        "message",
        "data_change",
        "schema_change",
    ]
    assert rows(diff, "commit_hash", "table_name", "data_change", "schema_change") == [
        ("WORKING", "labels", True, False),
        (format_address(repo.c2), "labels", True, False),
        (format_address(repo.c1), "labels", True, True),
    ]


def test_dolt_diff_table_walks_history_with_working(repo):
    diff = rel(repo.ctx, "dolt_diff_labels")
    assert diff.column_names == [
        "to_id",
        "to_label",
        "to_score",
        "to_commit",
        "to_commit_date",
        "from_id",
        "from_label",
        "from_score",
        "from_commit",
        "from_commit_date",
        "diff_type",
    ]
    c1, c2 = format_address(repo.c1), format_address(repo.c2)
    assert rows(diff, "to_commit", "from_commit", "to_id", "from_id", "diff_type") == [
        ("WORKING", c2, None, 1, "removed"),
        (c2, c1, 2, 2, "modified"),
        (c2, c1, 4, None, "added"),
        (c1, rows(rel(repo.ctx, "dolt_log"), "commit_hash")[2][0], 1, None, "added"),
        (c1, rows(rel(repo.ctx, "dolt_log"), "commit_hash")[2][0], 2, None, "added"),
        (c1, rows(rel(repo.ctx, "dolt_log"), "commit_hash")[2][0], 3, None, "added"),
    ]
    assert diff.column("to_commit_date").to_pylist()[:2] == [None, at(3)]
    narrowed = rel(repo.ctx, "dolt_diff_labels", filters={"TO_COMMIT": [c2]})
    assert set(narrowed.column("to_commit").to_pylist()) == {c2}


def test_dolt_diff_table_follows_a_renamed_column(repo):
    ws = repo.ws
    ws.put_table("labels", ws.table("labels").rename_column("label", "name"))
    upsert(ws, "labels", id=[3], name=["bull"], score=[3.0])
    ws.commit("rename", stage_all=True, date=at(5))
    diff = rel(repo.ctx, "dolt_diff_labels")
    assert "to_name" in diff.column_names and "to_label" not in diff.column_names
    modified = [
        r for r in rows(diff, "to_id", "to_name", "from_name", "diff_type") if r[3] == "modified"
    ]
    assert (3, "bull", "cow", "modified") in modified
    assert (2, "dog2", "dog", "modified") in modified  # an older step, read by tag
    history = rel(repo.ctx, "dolt_history_labels")
    assert history.column_names[:3] == ["id", "name", "score"]
    assert sorted(set(history.column("name").to_pylist())) == [
        "bull",
        "cat",
        "cow",
        "dog",
        "dog2",
        "it's",
    ]


def test_commit_diff_needs_both_commits(repo):
    with pytest.raises(InvalidInput, match="needs both from_commit and to_commit"):
        system_relation("dolt_commit_diff_labels", None, repo.ctx)
    with pytest.raises(InvalidInput, match="needs both"):
        system_relation(
            "dolt_commit_diff_labels", None, repo.ctx, filters={"to_commit": ["WORKING"]}
        )
    f1 = format_address(repo.f1)
    diff = rel(
        repo.ctx, "dolt_commit_diff_labels", filters={"from_commit": [f1], "to_commit": ["WORKING"]}
    )
    assert rows(
        diff, "to_id", "from_id", "to_label", "from_label", "diff_type", "from_commit", "to_commit"
    ) == [
        (None, 1, None, "cat", "removed", f1, "WORKING"),
        (2, 2, "dog2", "F", "modified", f1, "WORKING"),
        (4, None, "it's", None, "added", f1, "WORKING"),
        (None, 5, None, "eel", "removed", f1, "WORKING"),
    ]
    with pytest.raises(RevisionNotFound):
        system_relation(
            "dolt_commit_diff_labels",
            None,
            repo.ctx,
            filters={"from_commit": ["zzzz9"], "to_commit": ["HEAD"]},
        )


# --- dolt_history_<t>, dolt_blame_<t> ----------------------------------------------------------


def test_history_has_every_row_at_every_commit(repo):
    history = rel(repo.ctx, "dolt_history_labels")
    assert history.column_names == [
        "id",
        "label",
        "score",
        "commit_hash",
        "committer",
        "commit_date",
    ]
    c1, c2 = format_address(repo.c1), format_address(repo.c2)
    assert rows(history, "commit_hash", "id", "label") == [
        (c2, 1, "cat"),
        (c2, 2, "dog2"),
        (c2, 3, "cow"),
        (c2, 4, "it's"),
        (c1, 1, "cat"),
        (c1, 2, "dog"),
        (c1, 3, "cow"),
    ]
    only = rel(repo.ctx, "dolt_history_labels", filters={"commit_hash": [c1]})
    assert set(only.column("commit_hash").to_pylist()) == {c1} and only.num_rows == 3


def test_blame_names_the_last_change_of_each_committed_row(repo):
    blame = rel(repo.ctx, "dolt_blame_labels")
    assert blame.column_names == ["id", "commit", "commit_date", "committer", "email", "message"]
    c1, c2 = format_address(repo.c1), format_address(repo.c2)
    assert rows(blame, "id", "commit", "message") == [
        (1, c1, "add labels"),
        (2, c2, "relabel"),
        (3, c1, "add labels"),
        (4, c2, "relabel"),
    ]


def test_blame_passes_rows_through_merges(repo):
    merged(repo)
    blame = {r["id"]: r["message"] for r in rel(repo.ctx, "dolt_blame_labels").to_pylist()}
    assert blame == {
        1: "add labels",
        2: "relabel",
        3: "add labels",
        4: "relabel",
        5: "feature work",
    }


def test_blame_refuses_keyless_tables(repo):
    ws = repo.ws
    keyless = Schema([Column("a", None, pa.int64())], (), name="bag")
    ws.create_table("bag", Table.create(ws.nodes, keyless).insert(pa.table({"a": [1, 1]})))
    ws.commit("bag", stage_all=True)
    with pytest.raises(InvalidInput, match="no primary key"):
        system_relation("dolt_blame_bag", None, repo.ctx)


# --- table functions ---------------------------------------------------------------------------


def test_dolt_diff_function_forms(repo):
    ctx = repo.ctx
    diff = rel(ctx, "dolt_diff", ["main", "WORKING", "labels"])
    assert diff.column_names == [
        "to_id",
        "to_label",
        "to_score",
        "to_commit",
        "to_commit_date",
        "from_id",
        "from_label",
        "from_score",
        "from_commit",
        "from_commit_date",
        "diff_type",
    ]
    assert rows(diff, "from_id", "diff_type", "from_commit", "to_commit") == [
        (1, "removed", "main", "WORKING")
    ]
    assert diff.column("from_commit_date").to_pylist() == [at(3)]
    two = rel(ctx, "dolt_diff", ["main..feature", "labels"])
    assert sorted(rows(two, "to_id", "from_id", "diff_type"), key=str) == sorted(
        [(2, 2, "modified"), (None, 4, "removed"), (5, None, "added")], key=str
    )
    three = rel(ctx, "dolt_diff", ["main...feature", "labels"])
    assert rows(three, "to_id", "to_label", "from_label", "diff_type") == [
        (2, "F", "dog", "modified"),
        (5, "eel", None, "added"),
    ]
    assert three.column("from_commit")[0].as_py() == format_address(repo.c1)


def test_dolt_diff_function_uses_each_sides_schema(repo):
    ws = repo.ws
    ws.put_table("labels", ws.table("labels").add_column(Column("color", None, pa.string()), "red"))
    ws.put_table("labels", ws.table("labels").drop_column("score"))
    diff = rel(repo.ctx, "dolt_diff", ["HEAD", "WORKING", "labels"])
    assert diff.column_names == [
        "to_id",
        "to_label",
        "to_color",
        "to_commit",
        "to_commit_date",
        "from_id",
        "from_label",
        "from_score",
        "from_commit",
        "from_commit_date",
        "diff_type",
    ]
    assert rows(diff, "to_id", "to_color", "from_score", "diff_type")[:2] == [
        (None, None, 1.0, "removed"),
        (2, "red", 2.5, "modified"),
    ]


def test_dolt_diff_function_errors(repo):
    ctx = repo.ctx
    with pytest.raises(TableNotFound, match="'nosuch' exists neither"):
        system_relation("dolt_diff", ["HEAD~1", "HEAD", "nosuch"], ctx)
    with pytest.raises(RevisionNotFound, match="nosuch"):
        system_relation("dolt_diff", ["nosuch", "HEAD", "labels"], ctx)
    with pytest.raises(InvalidInput, match="call it as dolt_diff"):
        system_relation("dolt_diff", ["HEAD", "labels"], ctx)
    with pytest.raises(InvalidInput, match="got 4 argument"):
        system_relation("dolt_diff", ["a", "b", "c", "d"], ctx)
    with pytest.raises(InvalidInput, match="both sides"):
        system_relation("dolt_diff", ["..HEAD", "labels"], ctx)
    with pytest.raises(InvalidInput, match="WORKING"):
        system_relation("dolt_diff", ["WORKING...feature", "labels"], ctx)


def test_dolt_diff_stat(repo):
    stat = rel(repo.ctx, "dolt_diff_stat", ["HEAD~1", "WORKING"])
    assert stat.column_names == [
        "table_name",
        "rows_unmodified",
        "rows_added",
        "rows_deleted",
        "rows_modified",
        "cells_added",
        "cells_deleted",
        "cells_modified",
        "old_row_count",
        "new_row_count",
        "old_cell_count",
        "new_cell_count",
    ]
    assert stat.to_pylist() == [
        {
            "table_name": "labels",
            "rows_unmodified": 1,
            "rows_added": 1,
            "rows_deleted": 1,
            "rows_modified": 1,
            "cells_added": 3,
            "cells_deleted": 3,
            "cells_modified": 2,
            "old_row_count": 3,
            "new_row_count": 3,
            "old_cell_count": 9,
            "new_cell_count": 9,
        }
    ]
    assert rel(repo.ctx, "dolt_diff_stat", ["HEAD", "HEAD", "labels"]).num_rows == 0
    with pytest.raises(TableNotFound):
        system_relation("dolt_diff_stat", ["HEAD~1", "HEAD", "nosuch"], repo.ctx)


def test_dolt_diff_stat_keyless_counts_copies(repo):
    ws = repo.ws
    bag = Schema([Column("a", None, pa.int64())], (), name="bag")
    ws.create_table("bag", Table.create(ws.nodes, bag).insert(pa.table({"a": [1, 1, 2]})))
    ws.commit("bag", stage_all=True)
    ws.put_table(
        "bag", ws.table("bag").insert(pa.table({"a": [1, 3]})).delete(pa.table({"a": [2]}))
    )
    stat = rel(repo.ctx, "dolt_diff_stat", ["HEAD", "WORKING", "bag"]).to_pylist()[0]
    assert (stat["rows_added"], stat["rows_deleted"], stat["rows_modified"]) == (2, 1, None)


def test_dolt_diff_summary_kinds(repo):
    ws = repo.ws
    empty = Schema([Column("k", None, pa.int64())], ("k",), name="empty")
    ws.create_table("empty", Table.create(ws.nodes, empty))
    ws.commit("more tables", stage_all=True)
    ws.rename_table("labels", "tags")
    ws.drop_table("empty")
    summary = rel(repo.ctx, "dolt_diff_summary", ["HEAD", "WORKING"])
    assert summary.column_names == [
        "from_table_name",
        "to_table_name",
        "diff_type",
        "data_change",
        "schema_change",
    ]
    assert rows(
        summary, "from_table_name", "to_table_name", "diff_type", "data_change", "schema_change"
    ) == [
        ("empty", "", "dropped", False, True),
        ("labels", "tags", "renamed", False, True),
    ]
    added = rel(repo.ctx, "dolt_diff_summary", ["HEAD~1", "HEAD", "empty"])
    assert rows(added, "to_table_name", "diff_type", "data_change") == [("empty", "added", False)]
    assert rel(repo.ctx, "dolt_diff_summary", ["HEAD", "WORKING", "tags"]).num_rows == 1


def test_dolt_schema_diff(repo):
    ws = repo.ws
    ws.put_table("labels", ws.table("labels").add_column(Column("color", None, pa.string())))
    diff = rel(repo.ctx, "dolt_schema_diff", ["HEAD", "WORKING"])
    assert diff.column_names == [
        "from_table_name",
        "to_table_name",
        "from_create_statement",
        "to_create_statement",
    ]
    (row,) = diff.to_pylist()
    assert row["from_table_name"] == row["to_table_name"] == "labels"
    assert (
        '"color" VARCHAR' in row["to_create_statement"]
        and "color" not in row["from_create_statement"]
    )
    assert row["to_create_statement"].startswith('CREATE TABLE "labels" (\n  "id" BIGINT NOT NULL,')
    assert rel(repo.ctx, "dolt_schema_diff", ["HEAD~1", "HEAD"]).num_rows == 0  # data only


# --- dolt_patch: applying the statements reproduces the target version --------------------------


def apply_patch(con: duckdb.DuckDBPyConnection, patch: pa.Table) -> None:
    for statement in patch.column("statement").to_pylist():
        con.execute(statement)


def as_rows(table: pa.Table) -> list[tuple]:
    return sorted(tuple(r.values()) for r in table.to_pylist())


def test_patch_statements_rebuild_each_version(repo):
    ctx, ws = repo.ctx, repo.ws
    ws.put_table("labels", ws.table("labels").add_column(Column("note", None, pa.string())))
    upsert(
        ws, "labels", id=[3, 7], label=["cow", "o'k"], score=[float("nan"), -0.5], note=["n", None]
    )
    con = duckdb.connect()
    first = rel(ctx, "dolt_patch", ["HEAD~2", "HEAD~1"])
    assert first.column_names == [
        "statement_order",
        "from_commit_hash",
        "to_commit_hash",
        "table_name",
        "diff_type",
        "statement",
    ]
    assert first.column("diff_type").to_pylist()[0] == "schema"
    assert first.column("statement_order").to_pylist() == list(range(1, first.num_rows + 1))
    apply_patch(con, first)
    for a, b in (("HEAD~1", "HEAD"), ("HEAD", "WORKING")):
        patch = rel(ctx, "dolt_patch", [a, b, "labels"])
        apply_patch(con, patch)
        expected = ws.table("labels", ws.root_at(b)).to_arrow()
        got = con.sql("SELECT * FROM labels").to_arrow_table()
        assert got.column_names == expected.column_names
        assert str(as_rows(got)) == str(as_rows(expected))  # str: NaN equals NaN
    patch = rel(ctx, "dolt_patch", ["HEAD", "WORKING"])
    assert patch.column("to_commit_hash").to_pylist()[0] == "WORKING"
    assert patch.column("from_commit_hash").to_pylist()[0] == format_address(repo.c2)
    assert (
        'ALTER TABLE "labels" ADD COLUMN "note" VARCHAR;' in patch.column("statement").to_pylist()
    )
    assert 'UPDATE "labels" SET "label" = \'cow\'' not in " ".join(
        patch.column("statement").to_pylist()
    )


def test_patch_for_dropped_renamed_and_keyless_tables(repo):
    ws = repo.ws
    bag = Schema([Column("a", None, pa.int64()), Column("b", None, pa.string())], (), name="bag")
    ws.create_table(
        "bag", Table.create(ws.nodes, bag).insert(pa.table({"a": [1, 1, 2], "b": ["x", "x", None]}))
    )
    ws.commit("bag", stage_all=True)
    con = duckdb.connect()
    apply_patch(con, rel(repo.ctx, "dolt_patch", ["HEAD~3", "HEAD"]))
    ws.put_table(
        "bag",
        ws.table("bag")
        .delete(pa.table({"a": [1], "b": ["x"]}))
        .insert(pa.table({"a": [2], "b": [None]})),
    )
    apply_patch(con, rel(repo.ctx, "dolt_patch", ["HEAD", "WORKING", "bag"]))
    assert as_rows(con.sql("SELECT * FROM bag").to_arrow_table()) == as_rows(
        ws.table("bag").to_arrow()
    )
    ws.rename_table("labels", "tags")
    statements = (
        rel(repo.ctx, "dolt_patch", ["HEAD", "WORKING", "tags"]).column("statement").to_pylist()
    )
    assert statements[0] == 'ALTER TABLE "labels" RENAME TO "tags";'
    ws.drop_table("bag")
    statements = (
        rel(repo.ctx, "dolt_patch", ["HEAD", "WORKING", "bag"]).column("statement").to_pylist()
    )
    assert statements == ['DROP TABLE "bag";']


# --- conflicts, schema conflicts, violations, previews ----------------------------------------


@pytest.fixture
def conflicted():
    """main and feature both change row 2, add rows breaking a UNIQUE index, and retype
    table other's column differently; main then merges feature."""
    db = Database.memory()
    ws = db.workspace()
    schema = Schema(
        LABELS.columns, ("id",), (Index("u_label", ("label",), unique=True),), name="labels"
    )
    ws.create_table(
        "labels",
        Table.create(ws.nodes, schema).insert(
            pa.table({"id": [1, 2], "label": ["a", "b"], "score": [1.0, 2.0]})
        ),
    )
    other = Schema(
        [Column("k", None, pa.string()), Column("v", None, pa.int32())], ("k",), name="other"
    )
    ws.create_table("other", Table.create(ws.nodes, other).insert(pa.table({"k": ["x"], "v": [1]})))
    ws.commit("base", stage_all=True)
    db.create_branch("feature")
    side = db.workspace("feature")
    upsert(side, "labels", id=[2, 5], label=["theirs", "z"], score=[2.0, 5.0])
    side.put_table("other", side.table("other").set_column_type("v", pa.int64()))
    side.commit("feature", stage_all=True)
    upsert(ws, "labels", id=[2, 6], label=["ours", "z"], score=[2.5, 6.0])
    ws.put_table("other", ws.table("other").set_column_type("v", pa.float64()))
    ws.commit("main", stage_all=True)
    ctx = ctx_of(db, ws)
    preview = rel(ctx, "dolt_preview_merge_conflicts", ["main", "feature", "labels"])
    summary = rel(ctx, "dolt_preview_merge_conflicts_summary", ["main", "feature"])
    head = ws.head
    outcome = ws.merge_revision("feature")
    return SimpleNamespace(
        db=db, ws=ws, ctx=ctx, preview=preview, summary=summary, outcome=outcome, head=head
    )


def test_previews_change_nothing_and_match_the_merge(conflicted):
    c = conflicted
    assert c.summary.column_names == ["table", "num_data_conflicts", "num_schema_conflicts"]
    assert c.summary.to_pylist() == [
        {"table": "labels", "num_data_conflicts": 1, "num_schema_conflicts": 0},
        {"table": "other", "num_data_conflicts": None, "num_schema_conflicts": 1},
    ]
    stored = rel(c.ctx, "dolt_conflicts_labels")
    assert stored.column_names == c.preview.column_names
    assert stored.to_pylist() == c.preview.to_pylist()


def test_preview_errors(conflicted):
    ctx = conflicted.ctx
    with pytest.raises(InvalidInput, match="schema conflicts"):
        system_relation("dolt_preview_merge_conflicts", ["main", "feature", "other"], ctx)
    with pytest.raises(TableNotFound, match="'nosuch' not found"):
        system_relation("dolt_preview_merge_conflicts", ["main", "feature", "nosuch"], ctx)
    with pytest.raises(InvalidInput, match="call it as dolt_preview_merge_conflicts_summary"):
        system_relation("dolt_preview_merge_conflicts_summary", ["main"], ctx)
    with pytest.raises(RevisionNotFound):
        system_relation("dolt_preview_merge_conflicts_summary", ["main", "nosuch"], ctx)


def test_conflict_tables(conflicted):
    c = conflicted
    assert c.outcome.conflicts == 2
    assert rel(c.ctx, "dolt_conflicts").to_pylist() == [{"table": "labels", "num_conflicts": 1}]
    conflicts = rel(c.ctx, "dolt_conflicts_labels")
    assert conflicts.column_names == [
        "from_root_ish",
        "base_id",
        "base_label",
        "base_score",
        "our_id",
        "our_label",
        "our_score",
        "our_diff_type",
        "their_id",
        "their_label",
        "their_score",
        "their_diff_type",
        "dolt_conflict_id",
    ]
    (row,) = conflicts.to_pylist()
    assert row["from_root_ish"] == format_address(c.ws.merge.theirs)
    assert (row["base_label"], row["our_label"], row["their_label"]) == ("b", "ours", "theirs")
    assert (row["our_diff_type"], row["their_diff_type"]) == ("modified", "modified")
    assert len(row["dolt_conflict_id"]) == 22
    status = rel(c.ctx, "dolt_merge_status").to_pylist()[0]
    assert status == {
        "is_merging": True,
        "source": "feature",
        "source_commit": format_address(c.ws.merge.theirs),
        "target": "refs/heads/main",
        "unmerged_tables": "labels, other",
    }
    kinds = {(r["table_name"], r["status"]) for r in rel(c.ctx, "dolt_status").to_pylist()}
    assert {
        ("labels", "conflict"),
        ("other", "schema conflict"),
        ("labels", "constraint violation"),
    } <= kinds


def test_schema_conflicts_and_violations(conflicted):
    c = conflicted
    schema = rel(c.ctx, "dolt_schema_conflicts")
    assert schema.column_names == [
        "table_name",
        "base_schema",
        "our_schema",
        "their_schema",
        "description",
    ]
    (row,) = schema.to_pylist()
    assert row["table_name"] == "other" and "'v'" in row["description"]
    assert (
        '"v" INTEGER' in row["base_schema"],
        '"v" DOUBLE' in row["our_schema"],
        '"v" BIGINT' in row["their_schema"],
    ) == (True, True, True)
    assert rel(c.ctx, "dolt_constraint_violations").to_pylist() == [
        {"table": "labels", "num_violations": 2}
    ]
    violations = rel(c.ctx, "dolt_constraint_violations_labels")
    assert violations.column_names == ["violation_type", "id", "label", "score", "violation_info"]
    assert rows(violations, "violation_type", "id", "label") == [
        ("unique index", 5, "z"),
        ("unique index", 6, "z"),
    ]
    assert '"u_label"' in violations.column("violation_info")[0].as_py()


def test_no_conflicts_outside_a_merge(repo):
    assert rel(repo.ctx, "dolt_conflicts").num_rows == 0
    assert rel(repo.ctx, "dolt_schema_conflicts").num_rows == 0
    conflicts = rel(repo.ctx, "dolt_conflicts_labels")
    assert conflicts.num_rows == 0 and conflicts.column_names[0] == "from_root_ish"
    assert rel(repo.ctx, "dolt_constraint_violations_labels").num_rows == 0
    empty = rel(repo.ctx, "dolt_preview_merge_conflicts", ["feature", "feature", "labels"])
    assert empty.num_rows == 0 and empty.column_names[-1] == "dolt_conflict_id"


# --- scalar functions and filters ----------------------------------------------------------------


def test_scalar_functions(repo):
    ctx = repo.ctx
    assert scalar_function("ACTIVE_BRANCH", [], ctx) == "main"
    assert scalar_function("dolt_hashof", ["HEAD~1"], ctx) == format_address(repo.c1)
    assert scalar_function("hashof", ["v1"], ctx) == format_address(repo.c1)
    assert scalar_function("dolt_merge_base", ["main", "feature"], ctx) == format_address(repo.c1)
    with pytest.raises(InvalidInput, match="commit"):
        scalar_function("dolt_hashof", ["WORKING"], ctx)
    with pytest.raises(InvalidInput, match=r"dolt_merge_base\(revision, revision\)"):
        scalar_function("dolt_merge_base", ["main"], ctx)
    with pytest.raises(RevisionNotFound):
        scalar_function("dolt_hashof", ["nosuch"], ctx)


def test_patch_literals_round_trip_every_type():
    from datetime import date
    from decimal import Decimal

    db = Database.memory()
    ws = db.workspace()
    columns = {
        "id": pa.array([1, 2, 3], pa.int8()),
        "u": pa.array([0, 4_000_000_000, None], pa.uint32()),
        "d": pa.array([Decimal("1.25"), Decimal("-3.50"), None], pa.decimal128(10, 2)),
        "b": pa.array([True, False, None]),
        "day": pa.array([date(2026, 1, 2), None, date(1969, 12, 31)], pa.date32()),
        "ts": pa.array([at(1), None, at(2)], pa.timestamp("us")),
        "tz": pa.array([at(1), at(3), None], pa.timestamp("us", "UTC")),
        "blob": pa.array([b"\x00\xff'", None, b""], pa.binary()),
        "vec": pa.array([[1.5, -2.0], None, []], pa.list_(pa.float32())),
        "words": pa.array([["a'b", None], ["c"], None], pa.list_(pa.string())),
        "s": pa.array(["plain", "it's", None]),
    }
    schema = Schema([Column(n, None, a.type) for n, a in columns.items()], ("id",), name="all")
    ws.create_table("all", Table.create(ws.nodes, schema).insert(pa.table(columns)))
    patch = rel(ctx_of(db, ws), "dolt_patch", ["HEAD", "WORKING"])
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    apply_patch(con, patch)
    got = con.sql('SELECT * FROM "all" ORDER BY id').to_arrow_table()
    expected = pa.table(columns)
    for name in columns:
        assert got.column(name).to_pylist() == expected.column(name).to_pylist(), name


def test_patch_alters_schema_in_a_workable_order(repo):
    ws = repo.ws
    con = duckdb.connect()
    apply_patch(con, rel(repo.ctx, "dolt_patch", ["HEAD~2", "WORKING"]))
    t = ws.table("labels").add_index(Index("by_label", ("label",)))
    ws.put_table("labels", t)
    ws.commit("index", stage_all=True)
    con.execute('CREATE INDEX "by_label" ON "labels" ("label")')
    t = ws.table("labels").drop_index("by_label").rename_column("label", "name")
    t = t.set_column_type("score", pa.float32()).set_default("name", "'none'")
    t = t.add_column(Column("rank", None, pa.int32(), nullable=False), 0).drop_column("name")
    ws.put_table("labels", t.add_index(Index("by_rank", ("rank",))))
    patch = rel(repo.ctx, "dolt_patch", ["HEAD", "WORKING"])
    statements = patch.column("statement").to_pylist()
    assert statements[0] == 'DROP INDEX "by_label";'
    assert statements[-2:] == [  # after the data
        'ALTER TABLE "labels" ALTER COLUMN "rank" SET NOT NULL;',
        'CREATE INDEX "by_rank" ON "labels" ("rank");',
    ]
    apply_patch(con, patch)
    got = con.sql("SELECT * FROM labels").to_arrow_table()
    assert got.column_names == ["id", "score", "rank"]
    assert as_rows(got) == as_rows(ws.table("labels").to_arrow())


def test_history_of_pinned_keys_probes_each_version_by_key(tmp_path, monkeypatch):
    import arbordb
    from arbordb.engine.table import Table

    with arbordb.connect(tmp_path / "r", autocommit=True) as con:
        cur = con.cursor()
        cur.execute("CREATE TABLE t (id BIGINT PRIMARY KEY, v VARCHAR)")
        cur.execute("INSERT INTO t VALUES (1, 'a'), (2, 'b'), (3, 'c')")
        cur.execute("CALL dolt_commit('-Am', 'one')")
        cur.execute("UPDATE t SET v = 'B' WHERE id = 2")
        cur.execute("CALL dolt_commit('-am', 'two')")
        cur.execute("SELECT id, v FROM dolt_history_t ORDER BY commit_date, id")
        everything = cur.fetchall()
        calls = []
        monkeypatch.setattr(
            Table, "to_arrow", lambda self, *a, **k: calls.append(1) or pa.table({})
        )
        cur.execute("SELECT v FROM dolt_history_t WHERE id = 2 ORDER BY commit_date")
        assert [r[0] for r in cur.fetchall()] == ["b", "B"] == [v for i, v in everything if i == 2]
        assert calls == []  # no version was decoded whole


def _history_repo(path, commits: int):
    import arbordb

    con = arbordb.connect(path, autocommit=True)
    cur = con.cursor()
    cur.execute("CREATE TABLE t (id BIGINT PRIMARY KEY, v VARCHAR)")
    for i in range(commits):
        cur.execute("INSERT INTO t VALUES (?, ?)", [i, f"v{i}"])
        cur.execute("CALL dolt_commit('-Am', ?)", [f"c{i}"])
    return con, cur


SYSTAB = [  # Dolt's systab workload: a system table filtered by a commit a subquery names
    "SELECT count(*) FROM dolt_history_t WHERE commit_hash = {sub}",
    "SELECT * FROM dolt_diff_t WHERE to_commit = {sub}",
    "SELECT * FROM dolt_diff WHERE commit_hash = {sub}",
    "SELECT * FROM dolt_log WHERE commit_hash = {sub}",
    "SELECT * FROM dolt_commits WHERE commit_hash = {sub}",
    "SELECT * FROM dolt_commit_ancestors WHERE commit_hash = {sub}",
]


@pytest.mark.parametrize("query", SYSTAB)
def test_a_commit_named_by_a_subquery_filters_the_system_relation(tmp_path, monkeypatch, query):
    """``commit_hash = (SELECT commit_hash FROM dolt_log LIMIT 1 OFFSET n)`` reaches the
    system relation as a filter (the subquery runs first), with the rows the literal
    hash gives."""
    from arbordb.sql.read import reads, system_select

    con, cur = _history_repo(tmp_path / "r", 4)
    cur.execute("SELECT commit_hash FROM dolt_log LIMIT 1 OFFSET 2")
    (wanted,) = cur.fetchone()
    cur.execute(query.format(sub=f"'{wanted}'"))
    literal = sorted(cur.fetchall(), key=repr)
    seen = []
    real = reads.system_relation

    def spy(name, args, ctx, *, filters=None, **kwargs):
        seen.append((name.lower(), dict(filters or {})))
        return real(name, args, ctx, filters=filters, **kwargs)

    monkeypatch.setattr(reads, "system_relation", spy)
    monkeypatch.setattr(system_select, "system_relation", spy)  # the path without DuckDB
    cur.execute(query.format(sub="(SELECT commit_hash FROM dolt_log LIMIT 1 OFFSET 2)"))
    assert sorted(cur.fetchall(), key=repr) == literal and literal
    outer = [f for name, f in seen if name != "dolt_log" or "commit_hash" in f]
    assert any(wanted in map(str, v) for f in outer for v in f.values())
    con.close()


def test_a_correlated_or_failing_subquery_is_no_filter(tmp_path):
    """A subquery that cannot run alone (it names an outer column) or gives no row
    filters nothing: the statement's WHERE decides, as without the pushdown."""
    con, cur = _history_repo(tmp_path / "r", 3)
    cur.execute(
        "SELECT count(*) FROM dolt_log l WHERE commit_hash = "
        "(SELECT commit_hash FROM dolt_log d WHERE d.message = l.message)"
    )
    assert cur.fetchone() == (4,)  # three commits and the repository's first
    cur.execute(
        "SELECT count(*) FROM dolt_history_t WHERE commit_hash = "
        "(SELECT commit_hash FROM dolt_log WHERE message = 'no such commit')"
    )
    assert cur.fetchone() == (0,)
    con.close()


def test_history_is_made_commit_by_commit_as_it_is_read(tmp_path, monkeypatch):
    """dolt_history_<t> is a stream: reading its first batch decodes one version of
    the table, not every version (memory stays that of one version)."""
    from arbordb.sql.system import history

    con, _ = _history_repo(tmp_path / "r", 5)
    ctx = con.session  # a session is a system-relation context
    decoded = []
    real = history._aligned
    monkeypatch.setattr(history, "_aligned", lambda *a: decoded.append(1) or real(*a))
    stream = system_relation("dolt_history_t", None, ctx)
    assert isinstance(stream, BatchStream) and decoded == []
    reader = stream.reader()
    first = reader.read_next_batch()
    assert first.num_rows == 5 and decoded == [1]  # the newest version only
    assert sum(b.num_rows for b in reader) == 4 + 3 + 2 + 1
    assert len(decoded) == 5
    con.close()
