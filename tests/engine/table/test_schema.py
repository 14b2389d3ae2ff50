"""Schemas: validation, canonical encoding, stable tags, and schema diff."""

from __future__ import annotations

import dataclasses

import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st

from arbordb.engine.errors import (
    FormatVersionError,
    InvalidInput,
    NotFound,
    SchemaError,
    UnsupportedType,
)
from arbordb.engine.table import (
    Check,
    Column,
    Index,
    Schema,
    column_tag,
    decode_schema,
    diff_schemas,
    encode_schema,
)

KEY_TYPES = [
    pa.int8(),
    pa.int64(),
    pa.uint32(),
    pa.float64(),
    pa.decimal128(18, 2),
    pa.bool_(),
    pa.date32(),
    pa.timestamp("us"),
    pa.timestamp("us", "UTC"),
    pa.string(),
    pa.binary(),
]
VALUE_TYPES = [*KEY_TYPES, pa.list_(pa.float32()), pa.list_(pa.string())]
texts = st.text(st.characters(codec="utf-8"), min_size=1, max_size=8)


@st.composite
def schemas(draw) -> Schema:
    names = draw(st.lists(texts, min_size=1, max_size=7, unique_by=str.casefold))
    columns = [
        Column(
            name,
            draw(st.one_of(st.none(), st.integers(0, 2**64 - 1))),
            draw(st.sampled_from(VALUE_TYPES)),
            nullable=draw(st.booleans()),
            default=draw(st.one_of(st.none(), st.text(max_size=10))),
            logical=draw(st.one_of(st.none(), st.sampled_from(["json", "uuid"]))),
        )
        for name in names
    ]
    tags = [c.tag for c in columns if c.tag is not None]
    if len(set(tags)) != len(tags):  # explicit tags must be unique: derive them instead
        columns = [dataclasses.replace(c, tag=None) for c in columns]
    keyable = [c.name for c in columns if not pa.types.is_list(c.type)]
    pk = draw(st.lists(st.sampled_from(keyable), unique=True, max_size=3)) if keyable else []
    index_names = draw(st.lists(texts, unique=True, max_size=3)) if keyable else []
    indexes = [
        Index(
            n,
            tuple(draw(st.lists(st.sampled_from(keyable), min_size=1, max_size=3, unique=True))),
            draw(st.booleans()),
        )
        for n in index_names
    ]
    checks = [Check(n, "x > 0") for n in draw(st.lists(texts, unique=True, max_size=2))]
    return Schema(tuple(columns), tuple(pk), tuple(indexes), tuple(checks), name=draw(texts))


def schema_abc(**kw) -> Schema:
    columns = [
        Column("id", None, pa.int64()),
        Column("a", None, pa.string()),
        Column("b", None, pa.float64()),
    ]
    return Schema(columns, ("id",), name="t", **kw)


# --- encoding ----------------------------------------------------------------


@given(schemas())
def test_encode_decode_round_trip(schema):
    data = encode_schema(schema)
    back = decode_schema(data, schema.name)
    assert back == schema
    assert encode_schema(back) == data


@given(schemas(), st.randoms())
def test_encoding_is_canonical_in_index_and_check_order(schema, rnd):
    indexes, checks = list(schema.indexes), list(schema.checks)
    rnd.shuffle(indexes)
    rnd.shuffle(checks)
    shuffled = Schema(schema.columns, schema.primary_key, tuple(indexes), tuple(checks))
    assert shuffled == schema
    assert encode_schema(shuffled) == encode_schema(schema)


def test_table_name_is_not_in_the_bytes():
    a = Schema([Column("x", 5, pa.int64())], name="one")
    b = Schema([Column("x", 5, pa.int64())], name="two")
    assert a == b and encode_schema(a) == encode_schema(b)
    assert decode_schema(encode_schema(a), "three").name == "three"


def test_decode_refuses_non_canonical_bytes():
    data = encode_schema(schema_abc(indexes=(Index("i", ("a",)), Index("j", ("b",)))))
    with pytest.raises(InvalidInput, match="after the last field"):
        decode_schema(data + b"\0")
    with pytest.raises(InvalidInput, match="not a schema"):
        decode_schema(b"XXXX" + data[4:])
    with pytest.raises(InvalidInput, match="truncated"):
        decode_schema(data[:-3])
    with pytest.raises(FormatVersionError):
        decode_schema(data[:4] + b"\x02" + data[5:])
    # the pk column written as nullable: the flags byte of column 0 is at offset 15
    assert data[15] == 0
    with pytest.raises(InvalidInput, match="canonical"):
        decode_schema(data[:15] + b"\x01" + data[16:])
    with pytest.raises(InvalidInput, match="unknown bits"):
        decode_schema(data[:15] + b"\x08" + data[16:])
    # indexes written out of name order
    i = data.index(b"\x00\x00\x00\x01i")
    j = data.index(b"\x00\x00\x00\x01j")
    size = j - i
    swapped = data[:i] + data[j : j + size] + data[i:j] + data[j + size :]
    with pytest.raises(InvalidInput, match="canonical"):
        decode_schema(swapped)


# --- validation and normalisation ---------------------------------------------


def test_primary_key_columns_become_not_null():
    s = schema_abc()
    assert s.column("id").nullable is False
    assert s.column("a").nullable is True
    assert s.key_types == (pa.int64(),)
    assert [c.name for c in s.value_columns] == ["a", "b"]
    assert not s.is_keyless and Schema([Column("x", None, pa.int8())]).is_keyless


def test_types_are_normalised_and_unsupported_ones_refused():
    assert Column("s", None, pa.large_string()).type == pa.string()
    with pytest.raises(UnsupportedType, match="'t'"):
        Column("t", None, pa.time64("us"))
    with pytest.raises(UnsupportedType, match="primary key"):
        Schema([Column("v", None, pa.list_(pa.float32()))], ("v",))


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: Schema([]), "no columns"),
        (
            lambda: Schema([Column("a", None, pa.int8()), Column("A", None, pa.int8())]),
            "duplicate column name 'A'",
        ),
        (
            lambda: Schema([Column("a", 1, pa.int8()), Column("b", 1, pa.int8())]),
            "same tag 1",
        ),
        (lambda: Schema([Column("a", None, pa.int8())], ("b",)), "no column 'b'"),
        (lambda: Schema([Column("a", None, pa.int8())], ("a", "a")), "twice"),
        (lambda: Schema([Column("a", None, pa.int8())], "a"), "tuple of names"),
        (
            lambda: Schema([Column("a", None, pa.int8())], (), (Index("i", ("z",)),)),
            "no column 'z'",
        ),
        (
            lambda: Schema(
                [Column("a", None, pa.int8())], (), (Index("i", ("a",)), Index("i", ("a",)))
            ),
            "more than one index",
        ),
        (lambda: Index("i", ()), "lists no columns"),
        (lambda: Column("", None, pa.int8()), "non-empty"),
        (lambda: Column("a", -1, pa.int8()), "tag"),
        (lambda: Check("c", "  "), "empty expression"),
    ],
)
def test_invalid_schemas_are_refused(make, message):
    with pytest.raises((SchemaError, NotFound), match=message):
        make()


def test_column_lookup_names_table_and_lists_columns():
    with pytest.raises(NotFound, match=r"table 't' has no column 'zz' \(columns: id, a, b\)"):
        schema_abc().column("zz")
    with pytest.raises(NotFound, match="indexes: none"):
        schema_abc().index("nope")


# --- tags ----------------------------------------------------------------------


def test_derived_tags_are_deterministic_and_depend_on_table_name_and_type():
    s1, s2 = schema_abc(), schema_abc()
    assert [c.tag for c in s1.columns] == [c.tag for c in s2.columns]
    assert s1.column("a").tag == column_tag("t", "a", pa.string())
    assert column_tag("t", "a", pa.string()) != column_tag("u", "a", pa.string())
    assert column_tag("t", "a", pa.string()) != column_tag("t", "a", pa.binary())
    assert 0 <= s1.column("a").tag < 2**48


def test_tag_collisions_are_resolved_deterministically():
    tag = column_tag("t", "a", pa.int64())
    other = column_tag("t", "a", pa.int64(), taken=[tag])
    assert other != tag
    assert column_tag("t", "a", pa.int64(), taken=[tag]) == other
    s = Schema([Column("b", tag, pa.int8()), Column("a", None, pa.int64())], name="t")
    assert s.column("a").tag == other


def test_rename_keeps_tag_everywhere():
    s = schema_abc(indexes=(Index("ia", ("a", "b"), unique=True),))
    renamed = s.with_column_renamed("a", "alpha").with_column_renamed("id", "key")
    assert renamed.column("alpha").tag == s.column("a").tag
    assert renamed.column("key").tag == s.column("id").tag
    assert renamed.primary_key == ("key",)
    assert renamed.index("ia").columns == ("alpha", "b")
    # renaming back gives the original bytes
    back = renamed.with_column_renamed("alpha", "a").with_column_renamed("key", "id")
    assert encode_schema(back) == encode_schema(s)


def test_two_branches_adding_the_same_column_agree_on_its_tag():
    base = schema_abc()
    ours = base.with_column_added(Column("note", None, pa.string()))
    theirs = base.with_column_added(Column("note", None, pa.string()))
    assert ours.column("note").tag == theirs.column("note").tag
    assert encode_schema(ours) == encode_schema(theirs)


def test_changed_copies():
    s = schema_abc(indexes=(Index("ib", ("b",)),))
    with pytest.raises(SchemaError, match="primary-key column 'id'"):
        s.with_column_dropped("id")
    with pytest.raises(SchemaError, match="index 'ib' uses it"):
        s.with_column_dropped("b")
    assert s.with_column_dropped("a").column_names == ["id", "b"]
    with pytest.raises(SchemaError, match="needs a column"):
        Schema([Column("x", None, pa.int8())]).with_column_dropped("x")
    assert s.with_index_dropped("ib").indexes == ()
    with_check = s.with_check_added(Check("pos", "b > 0"))
    assert with_check.with_check_dropped("pos") == s
    with pytest.raises(NotFound):
        s.with_check_dropped("pos")
    changed = s.with_column_changed("b", type=pa.float32(), default="1.5")
    assert changed.column("b").tag == s.column("b").tag
    assert changed.column("b").default == "1.5"


# --- diff ----------------------------------------------------------------------


def test_diff_by_tag():
    a = schema_abc(indexes=(Index("ia", ("a",)),), checks=(Check("c1", "b > 0"),))
    b = (
        a.with_column_renamed("a", "label")
        .with_column_changed("b", type=pa.float32(), nullable=False, default="0")
        .with_column_added(Column("extra", None, pa.int32()))
        .with_index_added(Index("ib", ("b",), unique=True))
        .with_check_dropped("c1")
    )
    changes = [(c.kind, c.name) for c in diff_schemas(a, b)]
    assert changes == [
        ("column_renamed", "label"),
        ("type_changed", "b"),
        ("nullable_changed", "b"),
        ("default_changed", "b"),
        ("column_added", "extra"),
        ("index_added", "ib"),
        ("check_dropped", "c1"),
    ]  # the index on the renamed column is unchanged (compared by tags)
    back = [(c.kind, c.name) for c in diff_schemas(b, a)]
    assert ("column_dropped", "extra") in back and ("index_dropped", "ib") in back
    assert diff_schemas(a, a) == []


def test_diff_reports_primary_key_and_index_changes():
    a = schema_abc(indexes=(Index("i", ("a",)),))
    b = Schema(a.columns, ("id", "a"), (Index("i", ("a", "b")),), name="t")
    kinds = [c.kind for c in diff_schemas(a, b)]
    assert "primary_key_changed" in kinds and "index_changed" in kinds
