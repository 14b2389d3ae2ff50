"""``arbor ls``, ``arbor schema show`` and ``SHOW CREATE TABLE [AS OF]`` (which used to fail
with an internal error)."""

from __future__ import annotations

from pathlib import Path

import pytest

import arbordb
from tests.cli.helpers import arbor, ok, refused


@pytest.fixture
def two_versions(labels: Path) -> Path:
    ok(arbor(labels, "sql", "-q", "ALTER TABLE labels ADD COLUMN note VARCHAR"))
    ok(arbor(labels, "sql", "-q", "CREATE TABLE other (k VARCHAR PRIMARY KEY)"))
    ok(arbor(labels, "commit", "-Am", "note and other"))
    return labels


def test_show_create_table_now_and_as_of(two_versions: Path) -> None:
    with arbordb.connect(str(two_versions)) as con:
        cur = con.cursor()
        cur.execute("SHOW CREATE TABLE labels")
        assert [d[0] for d in cur.description] == ["Table", "Create Table"]
        name, text = cur.fetchone()
        assert name == "labels" and '"note" VARCHAR' in text and 'PRIMARY KEY ("id")' in text
        cur.execute("SHOW CREATE TABLE labels AS OF 'HEAD~1'")
        assert '"note"' not in cur.fetchone()[1]
        with pytest.raises(arbordb.ProgrammingError, match="'other' not found at 'HEAD~1'"):
            cur.execute("SHOW CREATE TABLE other AS OF 'HEAD~1'")
        with pytest.raises(arbordb.ProgrammingError, match="one table"):
            cur.execute("SHOW CREATE TABLE labels, other")
        cur.execute("SELECT count(*) FROM labels")  # the session is still usable
        assert cur.fetchone() == (4,)


def test_ls_lists_tables_now_and_at_a_revision(two_versions: Path) -> None:
    assert ok(arbor(two_versions, "ls")) == "Tables in working set:\n\tlabels\n\tother\n"
    assert ok(arbor(two_versions, "ls", "HEAD~1")) == "Tables at HEAD~1:\n\tlabels\n"
    verbose = ok(arbor(two_versions, "ls", "-v"))
    assert "4 rows" in verbose and "0 rows" in verbose
    refused(arbor(two_versions, "ls", "nope"), "'nope'")


def test_schema_show(two_versions: Path) -> None:
    everything = ok(arbor(two_versions, "schema", "show"))
    assert "labels @ working" in everything and 'CREATE TABLE "other"' in everything
    old = ok(arbor(two_versions, "schema", "show", "HEAD~1"))
    assert "other" not in old and '"note"' not in old
    one = ok(arbor(two_versions, "schema", "show", "HEAD", "other"))
    assert one.startswith("other @ HEAD\n") and "labels" not in one
    refused(arbor(two_versions, "schema", "show", "HEAD", "nope"), "'nope'")
    refused(arbor(two_versions, "schema", "show", "nope"), "'nope'")


def test_parquet_export_records_where_it_came_from(labels: Path) -> None:
    import pyarrow.parquet as pq

    head = ok(arbor(labels, "sql", "-q", "SELECT dolt_hashof('HEAD')", "-r", "csv")).split()[-1]
    ok(arbor(labels, "table", "export", "--as-of", "HEAD", "labels", "v.parquet"))
    meta = pq.read_schema(labels / "v.parquet").metadata
    assert meta[b"arbordb.table"] == b"labels" and meta[b"arbordb.commit"] == head.encode()
    assert meta[b"arbordb.repository"] == str(labels).encode()
    ok(arbor(labels, "sql", "-q", "DELETE FROM labels WHERE id = 1"))
    ok(arbor(labels, "table", "export", "labels", "w.parquet"))
    meta = pq.read_schema(labels / "w.parquet").metadata
    assert meta[b"arbordb.revision"] == b"WORKING"
    assert meta[b"arbordb.uncommitted_changes"] == b"true"
    assert pq.read_table(labels / "w.parquet").num_rows == 3
