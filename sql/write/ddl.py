"""DDL: CREATE, DROP and ALTER of tables, views and indexes, as working-root edits.

Views live in Dolt's ``dolt_schemas`` table of the working root (so they are
versioned, diffed and merged like rows): one row per view with ``type`` 'view',
``name``, ``fragment`` (``CREATE VIEW name AS <query>`` in DuckDB SQL with AS OF
kept), ``extra`` (JSON) and ``sql_mode``. ``CREATE TEMP VIEW`` views live in the
session only.
"""

from __future__ import annotations

import dataclasses
import json

import pyarrow as pa
from sqlglot import exp

from arbordb.engine.errors import AlreadyExists, TableNotFound
from arbordb.engine.table import Check, Column, Index, Schema, Table

from .. import catalog
from ..errors import NotSupportedError, ObjectNotFound, ProgrammingError
from ..parse.dialect import quote_identifier, versioned_dialect
from ..read import reads
from ..read.relations import table_arrow
from .common import (
    Params,
    WriteContext,
    check_constraints,
    find_column,
    put,
    run_query,
    write_target,
)

__all__ = ["SCHEMAS_SCHEMA", "alter", "create", "drop"]

SCHEMAS_SCHEMA = Schema(
    (
        Column("type", None, pa.string(), nullable=False),
        Column("name", None, pa.string(), nullable=False),
        Column("fragment", None, pa.string()),
        Column("extra", None, pa.string(), logical="json"),
        Column("sql_mode", None, pa.string()),
    ),
    ("type", "name"),
    name=reads.SCHEMAS_TABLE,
)


# --- CREATE ----------------------------------------------------------------------------


def create(session: WriteContext, tree: exp.Create, params: Params) -> int:
    kind = (tree.args.get("kind") or "").upper()
    if kind == "TABLE":
        return _create_table(session, tree, params)
    if kind == "VIEW":
        return _create_view(session, tree, params)
    if kind == "INDEX":
        return _create_index(session, tree)
    raise NotSupportedError(f"CREATE {kind} is not supported (tables, views and indexes are)")


def _temporary(tree: exp.Expr) -> bool:
    properties = tree.args.get("properties")
    return properties is not None and any(
        isinstance(p, exp.TemporaryProperty) for p in properties.expressions
    )


def _create_table(session: WriteContext, tree: exp.Create, params: Params) -> int:
    if _temporary(tree):
        raise NotSupportedError("temporary tables are not supported; create a table and drop it")
    definition = tree.this
    node = definition.this if isinstance(definition, exp.Schema) else definition
    name = node.name
    ws = session.workspace
    if name.lower().startswith("dolt_"):
        raise ProgrammingError(f"table name {name!r} is reserved: names starting dolt_ are Dolt's")
    existing = ws.working.find(name) or (
        name if reads.view_text(session, ws.working, name) else None
    )
    if existing is not None:
        if tree.args.get("exists"):
            return 0
        if not tree.args.get("replace"):
            raise AlreadyExists(
                f"table {existing!r} already exists (use IF NOT EXISTS, or drop it)"
            )
        ws.drop_table(existing)
        session.wrote()
    like = _like_source(tree)
    query = tree.expression
    if like is not None:
        table = Table.create(ws.nodes, _schema_like(session, name, like))
    elif query is not None:
        if isinstance(definition, exp.Schema) and definition.expressions:
            raise NotSupportedError(
                "CREATE TABLE with both columns and AS SELECT is not supported; "
                "create the table, then INSERT ... SELECT"
            )
        data = run_query(session, query, params)
        schema = catalog.schema_from_arrow(name, data.schema)
        table = Table.create(ws.nodes, schema, data)
    else:
        table = Table.create(ws.nodes, catalog.schema_from_create(name, definition))
    session.wrote()
    ws.create_table(name, table)
    return 0


def _like_source(tree: exp.Create) -> exp.Table | None:
    """The table of ``CREATE TABLE t LIKE s`` or ``CREATE TABLE t (LIKE s)`` (MySQL's two
    spellings), or None for other forms."""
    definition = tree.this
    properties = tree.args.get("properties")
    likes = (
        [p for p in properties.expressions if isinstance(p, exp.LikeProperty)] if properties else []
    )
    if isinstance(definition, exp.Schema):
        inside = [e for e in definition.expressions if isinstance(e, exp.LikeProperty)]
        if inside and len(definition.expressions) > 1:
            raise NotSupportedError(
                f"CREATE TABLE {definition.this.name} (LIKE ...) cannot also declare columns; "
                "create it LIKE the other table, then ALTER TABLE ... ADD COLUMN"
            )
        likes += inside
    if not likes:
        return None
    source = likes[0].this
    if len(likes) > 1 or not isinstance(source, exp.Table) or tree.expression is not None:
        raise NotSupportedError("CREATE TABLE ... LIKE takes exactly one table and nothing else")
    return source


def _schema_like(session: WriteContext, name: str, source: exp.Table) -> Schema:
    """The schema of a new table ``name`` copying ``source``'s columns, primary key,
    indexes and checks, as MySQL's ``CREATE TABLE ... LIKE`` does (no rows). Column
    tags are derived afresh for the new name, and a check named as ``source``'s
    generated ones (``<source>_chk_<i>``) is named after the new table."""
    ws = session.workspace
    if ws.working.find(source.name) is None and reads.view_text(session, ws.working, source.name):
        raise NotSupportedError(
            f"CREATE TABLE {name} LIKE {source.name}: {source.name!r} is a view; "
            "name a table, or use CREATE TABLE ... AS SELECT"
        )
    found = ws.working.find(source.name) or source.name
    model = ws.table(found).schema
    columns = tuple(dataclasses.replace(c, tag=None) for c in model.columns)
    generated = f"{found}_chk_"
    checks = tuple(
        Check(name + c.name[len(found) :], c.expression) if c.name.startswith(generated) else c
        for c in model.checks
    )
    return Schema(columns, model.primary_key, model.indexes, checks, name=name)


def _create_view(session: WriteContext, tree: exp.Create, params: Params) -> int:
    definition = tree.this
    node = definition.this if isinstance(definition, exp.Schema) else definition
    name = node.name
    query = tree.expression
    if not isinstance(query, exp.Query):
        raise ProgrammingError(
            f"CREATE VIEW {name} needs a query: CREATE VIEW {name} AS SELECT ..."
        )
    if any(True for _ in query.find_all(exp.Placeholder)):
        raise ProgrammingError("a view cannot use parameters")
    columns = definition.expressions if isinstance(definition, exp.Schema) else []
    head = quote_identifier(name) + (
        f" ({', '.join(quote_identifier(c.name) for c in columns)})" if columns else ""
    )
    fragment = f"CREATE VIEW {head} AS {query.sql(versioned_dialect('duckdb'))}"
    check = reads.bind(reads.view_template(fragment), session, [])
    session.query_arrow(f"SELECT * FROM ({check.sql}) LIMIT 0")
    lowered = name.lower()
    ws = session.workspace
    taken = lowered in session.temp_views or reads.view_text(session, ws.working, name)
    if ws.working.find(name) is not None or taken:
        if tree.args.get("exists"):
            return 0
        if not (tree.args.get("replace") and taken):
            raise AlreadyExists(f"a table or view named {name!r} already exists")
    if _temporary(tree):
        session.temp_views[lowered] = fragment
        return 0
    stored = ws.working.find(reads.SCHEMAS_TABLE)
    schemas = ws.table(stored) if stored else Table.create(ws.nodes, SCHEMAS_SCHEMA)
    row = {
        "type": ["view"],
        "name": [name],
        "fragment": [fragment],
        "extra": [json.dumps({"CreatedAt": 0})],
        "sql_mode": [None],
    }
    old = [n for n in reads.views(session, ws.working) if n == lowered]
    if old:
        _drop_stored_view(session, name)
        stored = ws.working.find(reads.SCHEMAS_TABLE)
        schemas = ws.table(stored) if stored else Table.create(ws.nodes, SCHEMAS_SCHEMA)
    put(session, reads.SCHEMAS_TABLE, schemas.insert(pa.table(row)))
    return 0


def _create_index(session: WriteContext, tree: exp.Create) -> int:
    index = tree.this
    name, table = write_target(session, index.args["table"], "index")
    columns = []
    for item in index.args["params"].args.get("columns") or []:
        node = item.this if isinstance(item, exp.Ordered) else item
        if not isinstance(node, exp.Column):
            raise NotSupportedError(f"index {index.name!r}: only column lists can be indexed")
        columns.append(find_column(table.schema, node.name).name)
    if any(i.name.lower() == index.name.lower() for i in table.schema.indexes):
        if tree.args.get("exists"):
            return 0
        raise AlreadyExists(f"table {name!r} already has an index named {index.name!r}")
    unique = bool(tree.args.get("unique"))
    put(session, name, table.add_index(Index(index.name, tuple(columns), unique)))
    return 0


# --- DROP --------------------------------------------------------------------------------


def drop(session: WriteContext, tree: exp.Drop) -> int:
    kind = (tree.args.get("kind") or "").upper()
    exists = bool(tree.args.get("exists"))
    ws = session.workspace
    for node in tree.args.get("tables") or tree.expressions:
        name = node.name
        if kind == "TABLE":
            found = ws.working.find(name)
            if found is None:
                if name.lower() in session.temp_views or reads.view_text(session, ws.working, name):
                    raise ProgrammingError(f"{name!r} is a view: use DROP VIEW {name}")
                if exists:
                    continue
                raise TableNotFound(ws.working.missing_message(name, f" on branch {ws.branch!r}"))
            session.wrote()
            ws.drop_table(found)
        elif kind == "VIEW":
            if session.temp_views.pop(name.lower(), None) is not None:
                continue
            if not _drop_stored_view(session, name):
                if ws.working.find(name) is not None:
                    raise ProgrammingError(f"{name!r} is a table: use DROP TABLE {name}")
                if not exists:
                    raise ObjectNotFound(f"view {name!r} not found on branch {ws.branch!r}")
        elif kind == "INDEX":
            _drop_index(session, tree, name, exists)
        else:
            raise NotSupportedError(f"DROP {kind} is not supported")
    return 0


def _drop_stored_view(session: WriteContext, name: str) -> bool:
    ws = session.workspace
    stored = ws.working.find(reads.SCHEMAS_TABLE)
    if stored is None:
        return False
    schemas = ws.table(stored)
    rows = table_arrow(schemas)
    names = rows.column("name").to_pylist()
    kinds = rows.column("type").to_pylist()
    match = [
        (k, n)
        for k, n in zip(kinds, names, strict=True)
        if k == "view" and n.lower() == name.lower()
    ]
    if not match:
        return False
    remaining = schemas.delete(
        pa.table({"type": [m[0] for m in match], "name": [m[1] for m in match]})
    )
    session.wrote()
    if remaining.count() == 0:
        ws.drop_table(stored)
    else:
        ws.put_table(stored, remaining)
    return True


def _drop_index(session: WriteContext, tree: exp.Drop, name: str, exists: bool) -> None:
    ws = session.workspace
    on = tree.args.get("cluster")
    candidates = [on.this.name] if isinstance(on, exp.OnProperty) else list(ws.working)
    for table_name in candidates:
        found = ws.working.find(table_name)
        if found is None:
            raise TableNotFound(ws.working.missing_message(table_name, f" on branch {ws.branch!r}"))
        table = ws.table(found).named(found)
        for index in table.schema.indexes:
            if index.name.lower() == name.lower():
                put(session, found, table.drop_index(index.name))
                return
    if not exists:
        raise ObjectNotFound(f"index {name!r} not found on branch {ws.branch!r}")


# --- ALTER ---------------------------------------------------------------------------------


def alter(session: WriteContext, tree: exp.Alter, params: Params) -> int:
    if (tree.args.get("kind") or "TABLE").upper() != "TABLE":
        raise NotSupportedError(f"ALTER {tree.args.get('kind')} is not supported")
    name, table = write_target(session, tree.this, "alter")
    ws = session.workspace
    for action in tree.args.get("actions") or []:
        if isinstance(action, exp.ColumnDef):
            table = _add_column(session, table, action)
        elif isinstance(action, exp.Drop) and (action.args.get("kind") or "").upper() == "COLUMN":
            for column in action.args.get("tables") or action.expressions:
                table = table.drop_column(find_column(table.schema, column.name).name)
        elif isinstance(action, exp.RenameColumn):
            old = find_column(table.schema, action.this.name).name
            table = table.rename_column(old, action.args["to"].name)
        elif isinstance(action, exp.AlterRename):
            new = action.this.name
            session.wrote()
            ws.put_table(name, table)
            ws.rename_table(name, new)
            name, table = new, ws.table(new).named(new)
            continue
        elif isinstance(action, exp.AlterColumn):
            table = _alter_column(session, table, action)
        else:
            raise NotSupportedError(
                f"ALTER TABLE {name}: {action.sql('duckdb')!r} is not supported (supported: "
                "ADD / DROP / RENAME COLUMN, RENAME TO, ALTER COLUMN TYPE / DEFAULT / NOT NULL)"
            )
    put(session, name, table)
    return 0


def _add_column(session: WriteContext, table: Table, definition: exp.ColumnDef) -> Table:
    column, indexes, checks = catalog.column_from_def(definition, table.name)
    if any(
        isinstance(c.args.get("kind"), exp.PrimaryKeyColumnConstraint)
        for c in definition.args.get("constraints") or []
    ):
        raise NotSupportedError("a primary-key column cannot be added to an existing table")
    fill = None
    if column.default is not None:
        fill = session.evaluate(f"CAST(({column.default}) AS {catalog.duck_type(column)})")
    table = table.add_column(column, fill)
    for index in indexes:
        table = table.add_index(index)
    for n, (check_name, text) in enumerate(checks, start=len(table.schema.checks) + 1):
        check = Check(check_name or f"{table.name}_chk_{n}", text)
        check_constraints(
            session, dataclasses.replace(table.schema, checks=(check,)), table_arrow(table)
        )
        table = table.add_check(check)
    return table


def _alter_column(session: WriteContext, table: Table, action: exp.AlterColumn) -> Table:
    name = find_column(table.schema, action.this.name).name
    if action.args.get("dtype") is not None:
        arrow, _ = catalog.column_type(action.args["dtype"], name)
        return table.set_column_type(name, arrow)
    if action.args.get("drop") and action.args.get("allow_null") is None:
        return table.set_default(name, None)
    if action.args.get("default") is not None:
        return table.set_default(name, action.args["default"].sql("duckdb"))
    if action.args.get("allow_null") is not None:
        return table.set_nullable(name, bool(action.args["allow_null"]))
    raise NotSupportedError(f"ALTER COLUMN {action.sql('duckdb')!r} is not supported")
