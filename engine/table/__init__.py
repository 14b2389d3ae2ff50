"""Tables: schemas with stable column tags, row trees, secondary indexes, keyless tables.

``Table`` (table.py) is the immutable table value the layers above use;
``Schema`` (schema.py) describes it. The other modules each do one job:
schema_diff.py (schema changes by column tag), header.py (the table's header
chunk), rows.py (row layout, input casting), keyed.py and keyless.py (writes
to tables with and without a primary key), indexes.py (secondary index
trees), edit.py (sorted batch edits of a tree).

What the SQL layer and the other surfaces use of the layers below (the node
store tables are loaded through, the column cache of a session's scans, type
normalisation, key encoding) is re-exported here: they import nothing from
``engine.tree``, ``engine.codec`` or ``engine.chunks`` (an import-linter contract).
"""

from ..codec.keys import key_encoder
from ..codec.types import normalize_type
from ..tree import NodeStore
from ..tree.stream import ColumnCache
from .header import header_references
from .indexes import ROW_HASH
from .keyed import decode_primary_keys, encode_primary_keys
from .keyless import row_hashes
from .rows import keyless_counts, rows_to_arrow, tree_value_types
from .schema import Check, Column, Index, Schema, column_tag, decode_schema, encode_schema
from .schema_diff import SchemaChange, diff_schemas
from .table import Table

__all__ = [
    "ROW_HASH",
    "Check",
    "Column",
    "ColumnCache",
    "Index",
    "Schema",
    "SchemaChange",
    "Table",
    "NodeStore",
    "column_tag",
    "decode_primary_keys",
    "decode_schema",
    "diff_schemas",
    "key_encoder",
    "encode_primary_keys",
    "encode_schema",
    "header_references",
    "keyless_counts",
    "normalize_type",
    "row_hashes",
    "rows_to_arrow",
    "tree_value_types",
]
