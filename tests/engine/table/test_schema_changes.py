"""Schema changes on tables with rows: add / drop / rename / retype columns."""

from __future__ import annotations

import pyarrow as pa
import pytest

from arbordb.engine.errors import InvalidInput, NotNullViolation, SchemaError
from arbordb.engine.table import Check, Column, Index, Schema, Table, diff_schemas

SCHEMA = Schema(
    [
        Column("id", None, pa.int64()),
        Column("label", None, pa.string()),
        Column("n", None, pa.int32()),
    ],
    ("id",),
    (Index("by_n", ("n",)),),
    name="t",
)
DATA = pa.table(
    {"id": [3, 1, 2], "label": ["c", "a", None], "n": pa.array([30, 10, 20], pa.int32())}
)


@pytest.fixture
def table(nodes) -> Table:
    return Table.create(nodes, SCHEMA, DATA)


def test_add_column_with_and_without_fill(table):
    added = table.add_column(Column("note", None, pa.string()))
    assert added.to_arrow().column_names == ["id", "label", "n", "note"]
    assert added.to_arrow()["note"].null_count == 3
    filled = table.add_column(Column("w", None, pa.float64(), nullable=False), fill=1)
    assert filled.to_arrow()["w"].to_pylist() == [1.0, 1.0, 1.0]
    assert filled.index_trees == table.index_trees  # indexes untouched
    # the new column's tag is the derived one, and it is written like any other
    assert (
        filled.schema.column("w").tag
        == SCHEMA.with_column_added(Column("w", None, pa.float64())).column("w").tag
    )
    more = filled.insert(pa.table({"id": [4], "w": [2.5]}))
    assert more.get((4,)) == {"id": 4, "label": None, "n": None, "w": 2.5}
    # equal to the table created with that schema and those rows
    assert Table.create(table.nodes, filled.schema, filled.to_arrow()).address == filled.address


def test_add_column_refusals(table, nodes):
    with pytest.raises(NotNullViolation, match="NOT NULL column 'x' without a fill value"):
        table.add_column(Column("x", None, pa.int8(), nullable=False))
    with pytest.raises(InvalidInput, match="does not fit column 'x'"):
        table.add_column(Column("x", None, pa.int8()), fill=1000)
    with pytest.raises(SchemaError, match="duplicate column name 'LABEL'"):
        table.add_column(Column("LABEL", None, pa.int8()))
    # a NOT NULL column without fill is fine on an empty table
    assert (
        Table.create(nodes, SCHEMA).add_column(Column("x", None, pa.int8(), nullable=False)).count()
        == 0
    )


def test_drop_column(table):
    dropped = table.drop_column("label")
    assert dropped.to_arrow().to_pylist() == [
        {"id": 1, "n": 10},
        {"id": 2, "n": 20},
        {"id": 3, "n": 30},
    ]
    assert dropped.address == Table.create(table.nodes, dropped.schema, dropped.to_arrow()).address
    with pytest.raises(SchemaError, match="primary-key column 'id'"):
        table.drop_column("id")
    with pytest.raises(SchemaError, match="index 'by_n' uses it"):
        table.drop_column("n")
    with pytest.raises(KeyError, match="no column 'zz'"):
        table.drop_column("zz")


def test_rename_column_keeps_tag_rows_and_indexes(table):
    renamed = table.rename_column("n", "count").rename_column("id", "key")
    assert renamed.rows.root == table.rows.root
    assert renamed.index_trees == table.index_trees
    assert renamed.schema.column("count").tag == table.schema.column("n").tag
    assert renamed.schema.index("by_n").columns == ("count",)
    assert renamed.get((2,)) == {"key": 2, "label": None, "count": 20}
    assert [c.kind for c in diff_schemas(table.schema, renamed.schema)] == ["column_renamed"] * 2
    assert renamed.rename_column("count", "n").rename_column("key", "id").address == table.address


def test_set_column_type(table):
    wider = table.set_column_type("n", pa.int64())
    assert wider.schema.column("n").tag == table.schema.column("n").tag
    assert wider.to_arrow()["n"].type == pa.int64()
    assert wider.index_scan("by_n")["n"].to_pylist() == [10, 20, 30]
    with pytest.raises(InvalidInput, match="does not fit column 'n'"):
        wider.upsert(pa.table({"id": [1], "n": [2**40]})).set_column_type("n", pa.int16())
    with pytest.raises(InvalidInput, match="holds int32; got values of type string"):
        table.set_column_type("label", pa.int32())
    keyed_on_float = table.set_column_type("id", pa.float64())
    assert keyed_on_float.get((2.0,))["n"] == 20


def test_nullability_and_defaults(table):
    with pytest.raises(
        NotNullViolation, match=r"'label' cannot be NULL; NULL given in the row with key \(2\)"
    ):
        table.set_nullable("label", False)
    strict = table.set_nullable("n", False)
    with pytest.raises(NotNullViolation):
        strict.insert(pa.table({"id": [9]}))
    assert strict.set_nullable("n", True).address == table.address
    with pytest.raises(SchemaError, match="cannot allow NULL"):
        table.set_nullable("id", True)
    defaulted = table.set_default("label", "'none'")
    assert defaulted.schema.column("label").default == "'none'"
    assert defaulted.rows.root == table.rows.root and defaulted.address != table.address
    checked = table.add_check(Check("positive", "n > 0"))
    assert checked.schema.checks == (Check("positive", "n > 0"),)
    assert checked.drop_check("positive").address == table.address


def test_keyless_column_changes_regroup_duplicates(nodes):
    s = Schema([Column("a", None, pa.int64()), Column("b", None, pa.string())], name="k")
    t = Table.create(nodes, s, pa.table({"a": [1, 1, 2], "b": ["x", "y", "x"]}))
    assert t.rows.count() == 3
    merged = t.drop_column("b")
    assert merged.rows.count() == 2 and merged.count() == 3
    assert sorted(merged.to_arrow()["a"].to_pylist()) == [1, 1, 2]
    added = merged.add_column(Column("c", None, pa.bool_()), fill=True)
    assert added.count() == 3 and set(added.to_arrow()["c"].to_pylist()) == {True}
    assert t.rename_column("b", "bee").rows.root == t.rows.root


def test_artifacts_are_kept_and_change_the_address(table):
    art = bytes(range(20))
    marked = table.with_artifacts(art)
    assert marked.artifacts == art and marked.address != table.address
    assert marked.with_artifacts(None).address == table.address
    assert marked.add_column(Column("z", None, pa.int8())).artifacts == art
    assert art in marked.references()
