"""Tables: schemas with stable column tags, row trees, secondary indexes, keyless tables.

``Table`` (table.py) is the immutable table value the layers above use;
``Schema`` (schema.py) describes it. The other modules each do one job:
schema_diff.py (schema changes by column tag), header.py (the table's header
chunk), rows.py (row layout, input casting), keyed.py and keyless.py (writes
to tables with and without a primary key), indexes.py (secondary index
trees), edit.py (sorted batch edits of a tree).
"""

from .header import header_references
from .indexes import ROW_HASH
from .rows import keyless_counts, rows_to_arrow, tree_value_types
from .schema import Check, Column, Index, Schema, column_tag, decode_schema, encode_schema
from .schema_diff import SchemaChange, diff_schemas
from .table import Table

__all__ = [
    "ROW_HASH",
    "Check",
    "Column",
    "Index",
    "Schema",
    "SchemaChange",
    "Table",
    "column_tag",
    "decode_schema",
    "diff_schemas",
    "encode_schema",
    "header_references",
    "keyless_counts",
    "rows_to_arrow",
    "tree_value_types",
]
