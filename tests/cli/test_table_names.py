"""``arbor table rm|mv|cp`` (Dolt's ``dolt table rm|mv|cp``): working-set changes, errors for
missing and existing names, nothing changed by a refusal."""

from __future__ import annotations

import arbordb
from tests.cli.helpers import arbor, ok, refused


def _rows(repo, query: str) -> list[dict]:
    with arbordb.connect(str(repo)) as con:
        cur = con.cursor()
        cur.execute(query)
        return cur.fetch_arrow().to_pylist()


def _tables(repo) -> list[str]:
    return sorted(r["name"] for r in _rows(repo, "SHOW TABLES"))


def test_rm_removes_from_the_working_set_only(labels):
    ok(arbor(labels, "sql", "-q", "CREATE TABLE scratch (id INT PRIMARY KEY)"))
    out = ok(arbor(labels, "table", "rm", "labels", "scratch"))
    assert "Removed table labels." in out
    assert _tables(labels) == []
    status = ok(arbor(labels, "status"))
    assert "deleted" in status and "labels" in status
    assert len(_rows(labels, "SELECT * FROM labels AS OF 'HEAD'")) == 4  # still committed
    ok(arbor(labels, "commit", "-Am", "drop labels"))
    assert "labels" not in ok(arbor(labels, "ls"))


def test_rm_refuses_missing_and_system_tables_and_changes_nothing(labels):
    refused(arbor(labels, "table", "rm", "labels", "nope"), "'nope' not found")
    refused(arbor(labels, "table", "rm", "dolt_log"), "system table")
    refused(arbor(labels, "table", "rm"), code=2)
    assert _tables(labels) == ["labels"]
    assert ok(arbor(labels, "status")).count("nothing to commit") == 1


def test_mv_renames_and_refuses_an_existing_name_without_force(labels):
    ok(arbor(labels, "sql", "-q", "CREATE TABLE other (id INT PRIMARY KEY)"))
    refused(arbor(labels, "table", "mv", "labels", "other"), "already exists", "-f")
    refused(arbor(labels, "table", "mv", "nope", "x"), "'nope' not found")
    refused(arbor(labels, "table", "mv", "labels", "labels"), "give a new name")
    refused(arbor(labels, "table", "mv", "labels", "dolt_x"), "system table")
    assert _tables(labels) == ["labels", "other"]
    ok(arbor(labels, "table", "mv", "labels", "animals"))
    assert _tables(labels) == ["animals", "other"]
    assert len(_rows(labels, "SELECT * FROM animals")) == 4
    ok(arbor(labels, "table", "mv", "-f", "animals", "other"))
    assert _tables(labels) == ["other"]
    assert len(_rows(labels, "SELECT * FROM other")) == 4


def test_cp_copies_columns_key_indexes_and_rows(labels):
    ok(arbor(labels, "sql", "-q", "CREATE INDEX by_label ON labels (label)"))
    out = ok(arbor(labels, "table", "cp", "labels", "backup"))
    assert "4 rows" in out
    assert _rows(labels, "SELECT * FROM backup ORDER BY id") == _rows(
        labels, "SELECT * FROM labels ORDER BY id"
    )
    create = _rows(labels, "SHOW CREATE TABLE backup")[0]
    text = next(v for k, v in create.items() if k != "Table" and k.lower() != "table")
    assert 'PRIMARY KEY ("id")' in text and "by_label" in text and '"backup"' in text
    ok(arbor(labels, "sql", "-q", "UPDATE backup SET label = 'x' WHERE id = 1"))
    assert _rows(labels, "SELECT label FROM labels WHERE id = 1") == [{"label": "cat"}]
    refused(arbor(labels, "table", "cp", "labels", "backup"), "already exists")
    ok(arbor(labels, "table", "cp", "-f", "labels", "backup"))
    assert _rows(labels, "SELECT label FROM backup WHERE id = 1") == [{"label": "cat"}]
    refused(arbor(labels, "table", "cp", "nope", "x"), "'nope' not found")
    assert "new table" in ok(arbor(labels, "status"))
