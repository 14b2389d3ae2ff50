"""Every refused write raises the right typed error, names what was wrong, and
leaves the table and the store exactly as they were (checks before writes)."""

from __future__ import annotations

import pyarrow as pa
import pytest

from arbordb.engine.errors import DuplicateKey, InvalidInput, NotNullViolation
from arbordb.engine.table import Column, Index, Schema, Table

SCHEMA = Schema(
    [
        Column("id", None, pa.int64()),
        Column("email", None, pa.string()),
        Column("name", None, pa.string(), nullable=False),
        Column("age", None, pa.int8()),
    ],
    ("id",),
    (Index("by_email", ("email",), unique=True), Index("by_age", ("age",))),
    name="users",
)


@pytest.fixture
def users(nodes) -> Table:
    return Table.create(
        nodes,
        SCHEMA,
        pa.table(
            {
                "id": [1, 2, 3],
                "email": ["a@x", None, "c@x"],
                "name": ["ann", "bob", "cy"],
                "age": pa.array([30, 40, None], pa.int8()),
            }
        ),
    )


def refused(table: Table, error, match: str, write) -> None:
    """``write(table)`` raises ``error`` matching ``match`` and writes no chunk."""
    before = table.nodes.store.stats()["chunks"]
    snapshot = table.to_arrow()
    with pytest.raises(error, match=match):
        write(table)
    assert table.nodes.store.stats()["chunks"] == before
    assert table.to_arrow().equals(snapshot)


def test_duplicate_key_within_the_batch(users):
    rows = pa.table({"id": [9, 8, 9], "name": ["x", "y", "z"]})
    for write in (lambda t: t.insert(rows), lambda t: t.upsert(rows), lambda t: t.apply(rows)):
        refused(users, DuplicateKey, r"table 'users'.*key \(9\) appears more than once", write)


def test_duplicate_key_against_existing_rows(users):
    rows = pa.table({"id": [7, 2], "name": ["x", "y"]})
    refused(
        users, DuplicateKey, r"table 'users'.*key \(2\) already exists", lambda t: t.insert(rows)
    )
    # an upsert of the same rows is fine
    assert users.upsert(rows).get((2,))["name"] == "y"


def test_not_null_value_column(users):
    rows = pa.table({"id": [5, 6], "name": ["e", None]})
    refused(
        users,
        NotNullViolation,
        r"table 'users': NOT NULL column 'name' cannot be NULL; .* key \(6\)",
        lambda t: t.insert(rows),
    )
    # a missing NOT NULL column is NULL too
    refused(users, NotNullViolation, "'name'", lambda t: t.insert(pa.table({"id": [5]})))


def test_null_primary_key(users):
    rows = pa.table({"id": pa.array([None], pa.int64()), "name": ["e"]})
    refused(users, NotNullViolation, "primary-key column 'id'", lambda t: t.upsert(rows))


def test_unique_within_the_batch(users):
    rows = pa.table({"id": [5, 6], "name": ["e", "f"], "email": ["new@x", "new@x"]})
    refused(
        users,
        DuplicateKey,
        r"UNIQUE index 'by_email' on \(email\): value \('new@x'\) appears twice",
        lambda t: t.insert(rows),
    )


def test_unique_against_existing_rows(users):
    rows = pa.table({"id": [5], "name": ["e"], "email": ["c@x"]})
    refused(
        users,
        DuplicateKey,
        r"value \('c@x'\) already belongs to the row with key \(3\); "
        r"refused the row with key \(5\)",
        lambda t: t.insert(rows),
    )
    # updating row 1 onto row 3's email is refused too
    change = pa.table({"id": [1], "name": ["ann"], "email": ["c@x"]})
    refused(users, DuplicateKey, "already belongs", lambda t: t.upsert(change))


def test_unique_allows_nulls_swaps_and_reuse_after_delete(users):
    nulls = pa.table(
        {"id": [5, 6], "name": ["e", "f"], "email": pa.array([None, None], pa.string())}
    )
    assert users.insert(nulls).count() == 5
    swap = pa.table({"id": [1, 3], "name": ["ann", "cy"], "email": ["c@x", "a@x"]})
    swapped = users.upsert(swap)
    assert swapped.index_scan("by_email", ("a@x",), ("a@x",))["id"].to_pylist() == [3]
    # delete row 3 and give its email to a new row in the same batch
    reuse = users.apply(
        pa.table({"id": [4], "name": ["d"], "email": ["c@x"]}), pa.table({"id": [3]})
    )
    assert reuse.index_scan("by_email", ("c@x",), ("c@x",))["id"].to_pylist() == [4]
    # re-writing a row with its own email is no clash
    same = users.upsert(pa.table({"id": [1], "name": ["ANN"], "email": ["a@x"]}))
    assert same.get((1,))["name"] == "ANN"


def test_bad_types_and_values_that_do_not_fit(users):
    refused(
        users,
        InvalidInput,
        r"column 'age' holds int8; got values of type string",
        lambda t: t.insert(pa.table({"id": [5], "name": ["e"], "age": ["old"]})),
    )
    refused(
        users,
        InvalidInput,
        r"value 300 does not fit column 'age' \(int8\)",
        lambda t: t.insert(pa.table({"id": [5, 6], "name": ["e", "f"], "age": [20, 300]})),
    )
    refused(
        users,
        InvalidInput,
        r"value 1.5 does not fit column 'id'",
        lambda t: t.insert(pa.table({"id": [1.5], "name": ["e"]})),
    )
    refused(
        users,
        InvalidInput,
        r"table 'users' has no column 'mail' \(columns: id, email, name, age\)",
        lambda t: t.insert(pa.table({"id": [5], "name": ["e"], "mail": ["x"]})),
    )
    refused(
        users,
        InvalidInput,
        "twice",
        lambda t: t.insert(pa.Table.from_arrays([pa.array([5]), pa.array([6])], ["id", "id"])),
    )


def test_keyless_unique_counts_copies(nodes):
    schema = Schema(
        [Column("tag", None, pa.string()), Column("n", None, pa.int64())],
        indexes=(Index("u", ("tag",), unique=True),),
        name="bag",
    )
    t = Table.create(nodes, schema, pa.table({"tag": ["a", None], "n": [1, 2]}))
    refused(
        t,
        DuplicateKey,
        r"table 'bag': UNIQUE index 'u'.*stored 2 times",
        lambda t: t.insert(pa.table({"tag": ["a"], "n": [1]})),
    )
    refused(
        t,
        DuplicateKey,
        "already belongs to another row",
        lambda t: t.insert(pa.table({"tag": ["a"], "n": [5]})),
    )
    # NULLs never collide, even as repeated copies
    assert t.insert(pa.table({"tag": pa.array([None], pa.string()), "n": [2]})).count() == 3


def test_deletes_must_name_the_identifying_columns(users, nodes):
    refused(
        users, InvalidInput, "need column 'id'", lambda t: t.delete(pa.table({"name": ["ann"]}))
    )
    # other columns are ignored when the key is there
    assert users.delete(pa.table({"id": [1], "name": ["whatever"]})).count() == 2
    bag = Table.create(
        nodes, Schema([Column("a", None, pa.int64()), Column("b", None, pa.int64())])
    )
    bag = bag.insert(pa.table({"a": [1], "b": [2]}))
    refused(bag, InvalidInput, "need column 'b'", lambda t: t.delete(pa.table({"a": [1]})))


def test_create_refuses_before_writing(nodes):
    rows = pa.table({"id": [1, 2], "name": ["a", "b"], "email": ["same", "same"]})
    before = nodes.store.stats()["chunks"]
    with pytest.raises(DuplicateKey, match="appears twice"):
        Table.create(nodes, SCHEMA, rows)
    with pytest.raises(DuplicateKey, match="appears more than once"):
        Table.create(nodes, SCHEMA, pa.table({"id": [1, 1], "name": ["a", "b"]}))
    assert nodes.store.stats()["chunks"] == before
