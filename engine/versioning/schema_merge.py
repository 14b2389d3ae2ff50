"""Three-way merge of table schemas by column tag.

Columns are matched by their stable tag (a rename keeps it). For each tag:
changed on one side only -> that side's column; changed identically on both ->
it; changed differently (type, name, nullability, default), or dropped on one
side and changed on the other -> a ``SchemaConflict`` naming table and column.
Columns added on both sides with different tags merge as two columns. Primary
keys, indexes and checks follow the same one-side-changed rule as a whole.
Column order: ours, then columns only theirs added, in their order.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from ..table import Schema


@dataclass(frozen=True)
class SchemaConflict:
    table: str
    column: str | None
    description: str

    def as_dict(self) -> dict:
        return {"table": self.table, "column": self.column, "description": self.description}


def merge_schemas(
    table: str, base: Schema | None, ours: Schema, theirs: Schema
) -> tuple[Schema, list[SchemaConflict]]:
    if ours == theirs:
        return ours, []
    if base is None:
        return ours, [
            SchemaConflict(
                table, None, f"table {table!r} was created on both sides with different schemas"
            )
        ]
    if base == ours:
        return theirs, []
    if base == theirs:
        return ours, []
    conflicts: list[SchemaConflict] = []
    b = {c.tag: c for c in base.columns}
    o = {c.tag: c for c in ours.columns}
    t = {c.tag: c for c in theirs.columns}
    merged = []
    for tag in (
        [c.tag for c in ours.columns]
        + [c.tag for c in theirs.columns if c.tag not in o]
        + [tag for tag in b if tag not in o and tag not in t]
    ):
        bc, oc, tc = b.get(tag), o.get(tag), t.get(tag)
        if oc == tc:
            pick = oc
        elif bc == oc:
            pick = tc
        elif bc == tc:
            pick = oc
        else:
            name = (oc or tc or bc).name  # type: ignore[union-attr]
            what = (
                "dropped on one side and changed on the other"
                if oc is None or tc is None
                else "changed differently on both sides"
            )
            conflicts.append(
                SchemaConflict(table, name, f"column {name!r} of table {table!r} was {what}")
            )
            continue
        if pick is not None:
            merged.append(pick)
    names: dict[str, int] = {}
    for column in merged:
        folded = column.name.casefold()
        if folded in names and names[folded] != column.tag:
            conflicts.append(
                SchemaConflict(
                    table,
                    column.name,
                    f"column {column.name!r} of table {table!r} was added on both sides "
                    "with different definitions",
                )
            )
        names[folded] = column.placed_tag
    parts = {}
    for attr in ("primary_key", "indexes", "checks"):
        bv, ov, tv = getattr(base, attr), getattr(ours, attr), getattr(theirs, attr)
        if ov == tv or bv == tv:
            parts[attr] = ov
        elif bv == ov:
            parts[attr] = tv
        else:
            conflicts.append(
                SchemaConflict(
                    table,
                    None,
                    f"the {attr.replace('_', ' ')} of table {table!r} "
                    "changed differently on both sides",
                )
            )
            parts[attr] = ov
    if conflicts:
        return ours, conflicts
    return replace(ours, columns=tuple(merged), **parts), []
