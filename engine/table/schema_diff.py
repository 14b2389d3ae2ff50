"""Schema diff: what changed between two versions of a table's schema.

Columns are matched by tag (schema.py), so a renamed column shows up as one
rename, not as a drop and an add, and a retyped column as a type change.
Indexes are compared by the tags of their columns, so renaming an indexed
column does not report the index as changed. Indexes and checks are matched
by name.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .schema import Schema

__all__ = ["SchemaChange", "diff_schemas"]


@dataclass(frozen=True)
class SchemaChange:
    """One difference between two schemas.

    ``kind`` is one of: "column_added", "column_dropped", "column_renamed",
    "type_changed", "nullable_changed", "default_changed", "logical_changed",
    "primary_key_changed", "index_added", "index_dropped", "index_changed",
    "check_added", "check_dropped", "check_changed". ``name`` is the column,
    index or check name (for a column: its name in the newer schema, if any);
    ``tag`` is the column tag for column changes, else None; ``old``/``new``
    are the values before and after (a Column, Index, Check, a tuple of names,
    or the changed attribute's value), None where absent.
    """

    kind: str
    name: str
    tag: int | None = None
    old: object = None
    new: object = None


def diff_schemas(a: Schema, b: Schema) -> list[SchemaChange]:
    """What changed from schema ``a`` to ``b``; columns are matched by tag.

    Changes come in a fixed order: columns (in ``b``'s order, then those only
    ``a`` has), then the primary key, indexes and checks by name.

    Example:
        >>> import pyarrow as pa
        >>> from arbordb.engine.table.schema import Column, Schema
        >>> a = Schema([Column("id", 1, pa.int64()), Column("v", 2, pa.string())], ("id",))
        >>> b = a.with_column_renamed("v", "w").with_column_changed("w", nullable=False)
        >>> [(c.kind, c.name, c.old, c.new) for c in diff_schemas(a, b)]
        [('column_renamed', 'w', 'v', 'w'), ('nullable_changed', 'w', True, False)]
    """
    out: list[SchemaChange] = []
    a_tags = {c.tag: c for c in a.columns}
    b_tags = {c.tag for c in b.columns}
    for new in b.columns:
        old = a_tags.get(new.tag)
        if old is None:
            out.append(SchemaChange("column_added", new.name, new.tag, None, new))
            continue
        if old.name != new.name:
            out.append(SchemaChange("column_renamed", new.name, new.tag, old.name, new.name))
        for attr, kind in (
            ("type", "type_changed"),
            ("nullable", "nullable_changed"),
            ("default", "default_changed"),
            ("logical", "logical_changed"),
        ):
            if getattr(old, attr) != getattr(new, attr):
                out.append(
                    SchemaChange(kind, new.name, new.tag, getattr(old, attr), getattr(new, attr))
                )
    out += [
        SchemaChange("column_dropped", c.name, c.tag, c, None)
        for c in a.columns
        if c.tag not in b_tags
    ]
    if _tags(a, a.primary_key) != _tags(b, b.primary_key):
        out.append(SchemaChange("primary_key_changed", "", None, a.primary_key, b.primary_key))
    out += _diff_named(
        {i.name: i for i in a.indexes},
        {i.name: i for i in b.indexes},
        "index",
        lambda s, i: (_tags(s, i.columns), i.unique),
        a,
        b,
    )
    out += _diff_named(
        {c.name: c for c in a.checks}, {c.name: c for c in b.checks}, "check", lambda s, c: c, a, b
    )
    return out


def _tags(schema: Schema, names: Sequence[str]) -> tuple[int, ...]:
    return tuple(schema.column(n).placed_tag for n in names)


def _diff_named(
    old: dict, new: dict, kind: str, identity, a: Schema, b: Schema
) -> list[SchemaChange]:
    """Added / dropped / changed objects matched by name; ``identity`` says what makes two equal
    (indexes compare by column tags, so a column rename does not change its indexes)."""
    out = []
    for name in sorted(old.keys() | new.keys()):
        before, after = old.get(name), new.get(name)
        if before is None:
            out.append(SchemaChange(f"{kind}_added", name, None, None, after))
        elif after is None:
            out.append(SchemaChange(f"{kind}_dropped", name, None, before, None))
        elif identity(a, before) != identity(b, after):
            out.append(SchemaChange(f"{kind}_changed", name, None, before, after))
    return out
