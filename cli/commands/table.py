"""``arbor table import|export``: move rows between files (CSV, Parquet, JSON lines) and tables.

An import is read and validated whole (``cli/importer.py``) before the repository is
touched, then written in one SQL transaction (``BEGIN`` ... ``COMMIT``), so a bad row
or a refused write leaves the repository exactly as it was. Imported rows land in the
working set, like any SQL write; commit them with ``arbor commit``.
"""

from __future__ import annotations

import os
from pathlib import Path

import click
import pyarrow as pa
from sqlglot import exp

from arbordb.sql.catalog import type_name
from arbordb.sql.parse.dialect import parse

from .. import progress
from ..client import IMPORTED, Client, Invocation
from ..errors import CliError, UsageError
from ..importer import FILE_FORMATS, Positions, Target, conform, export_file, file_format, read_file
from ..render import quote_ident, sql_literal
from .common import example, out, pass_invocation

WRITE_BATCH = 100_000  # rows per INSERT batch (one progress step each)


@click.group(
    epilog=example(
        "arbor table import --create --pk id labels labels.csv",
        "arbor table export labels labels.parquet",
    )
)
def table() -> None:
    """Import and export table files."""


def _create_sql(name: str, data: pa.Table, pk: tuple[str, ...]) -> str:
    columns = [f"{quote_ident(f.name)} {type_name(f.type)}" for f in data.schema]
    if pk:
        columns.append(f"PRIMARY KEY ({', '.join(quote_ident(c) for c in pk)})")
    return f"CREATE TABLE {quote_ident(name)} ({', '.join(columns)})"


def _insert_sql(name: str, data: pa.Table, key: tuple[str, ...], upsert: bool) -> str:
    cols = ", ".join(quote_ident(c) for c in data.column_names)
    sql = f"INSERT INTO {quote_ident(name)} ({cols}) SELECT {cols} FROM {IMPORTED}"
    updates = [c for c in data.column_names if c not in key]
    if upsert and updates:
        sets = ", ".join(f"{quote_ident(c)} = excluded.{quote_ident(c)}" for c in updates)
        sql += f" ON CONFLICT DO UPDATE SET {sets}"
    elif upsert:
        sql += " ON CONFLICT DO NOTHING"
    return sql


def _write(client: Client, name: str, data: pa.Table, mode: str, key: tuple[str, ...]) -> None:
    """One transaction: (create | empty) the table, then insert the rows in batches."""
    client.execute("BEGIN")
    try:
        if mode == "create":
            client.execute(_create_sql(name, data, key))
        _insert(client, name, data, mode, key)
        client.execute("COMMIT")
    except BaseException:
        client.execute("ROLLBACK")
        raise


def _insert(client: Client, name: str, data: pa.Table, mode: str, key: tuple[str, ...]) -> None:
    sql = _insert_sql(name, data, key, upsert=mode == "update")
    if mode == "replace":
        client.execute(f"DELETE FROM {quote_ident(name)}")
    with progress.task(f"writing {name}", data.num_rows) as step:
        for batch in data.to_batches(max_chunksize=WRITE_BATCH):
            client.insert_arrow(sql, batch)  # Arrow all the way: no Python values
            step.advance(batch.num_rows)


def _target(client: Client, name: str) -> Target:
    schema = client.columns(name)
    return Target(dict(zip(schema.names, schema.types, strict=True)), client.primary_key(name))


def _read(path: str, fmt: str, target: Target | None, key: tuple[str, ...]) -> pa.Table:
    """The file read and conformed to ``target`` (or typed for a new table keyed by ``key``)."""
    with progress.task(
        f"reading {os.path.basename(path)}",
        os.path.getsize(path) if os.path.isfile(path) else None,
        as_bytes=True,
    ) as step:
        data = read_file(path, fmt, as_text=target is not None, on_read=step.advance)
    return conform(data, Positions(path, fmt), target=target, primary_key=key)


def _create_from_schema(client: Client, name: str, schema_file: Path, path: str, fmt: str) -> int:
    """One transaction: run the schema file's CREATE TABLE, then import into that table."""
    try:
        statement = schema_file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CliError(f"cannot read the schema file {str(schema_file)!r} ({exc})") from None
    trees = parse(statement)
    if len(trees) != 1 or not (isinstance(trees[0], exp.Create) and trees[0].kind == "TABLE"):
        raise CliError(
            f"the schema file {str(schema_file)!r} must hold one CREATE TABLE statement "
            f"(found {len(trees)} statement(s))"
        )
    client.execute("BEGIN")
    try:
        client.execute(statement)
        if name not in client.tables():
            raise CliError(
                f"the schema file {str(schema_file)!r} does not create table {name!r} "
                f"(it must hold one CREATE TABLE {name} (...) statement)"
            )
        target = _target(client, name)
        data = _read(path, fmt, target, target.primary_key)
        _insert(client, name, data, "create", target.primary_key)
        client.execute("COMMIT")
    except BaseException:
        client.execute("ROLLBACK")
        raise
    return data.num_rows


@table.command(
    "import",
    epilog=example(
        "arbor table import --create --pk id labels labels.csv",
        "arbor table import --update labels fixes.jsonl",
        "arbor table import --replace labels labels-v2.parquet",
    ),
)
@click.option(
    "-c",
    "--create",
    "mode",
    flag_value="create",
    help="Create TABLE from the file (it must not exist).",
)
@click.option(
    "-u",
    "--update",
    "mode",
    flag_value="update",
    help="Insert the file's rows; rows whose key exists are updated.",
)
@click.option(
    "-r",
    "--replace",
    "mode",
    flag_value="replace",
    help="Replace every row of TABLE by the file's rows.",
)
@click.option(
    "--pk",
    metavar="COLUMNS",
    help="Primary-key column(s) of a new table, comma-separated (default: none, keyless).",
)
@click.option(
    "-s",
    "--schema",
    "schema_file",
    metavar="SQLFILE",
    type=click.Path(dir_okay=False, path_type=Path),
    help="With --create: a file holding the CREATE TABLE statement to use instead of "
    "inferred types.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FILE_FORMATS),
    help="File format (default: from the extension).",
)
@click.argument("name", metavar="TABLE")
@click.argument("path", metavar="FILE", type=click.Path(dir_okay=False))
@pass_invocation
def import_(
    invocation: Invocation,
    mode: str | None,
    pk: str | None,
    schema_file: Path | None,
    fmt: str | None,
    name: str,
    path: str,
) -> None:
    """Load a CSV, Parquet or JSON lines file.

    The whole FILE is checked before TABLE is touched: a bad row is reported with
    its file and line, and nothing is written. Rows land in the working set.
    """
    if mode is None:
        raise UsageError("choose --create, --update or --replace")
    if pk and mode != "create":
        raise UsageError("--pk applies to --create only (an existing table keeps its key)")
    if schema_file is not None and mode != "create":
        raise UsageError("--schema applies to --create only (an existing table keeps its types)")
    if schema_file is not None and pk:
        raise UsageError("give the key in the --schema file's CREATE TABLE, not with --pk")
    path = str(invocation.directory / path)  # relative to -C PATH, as git -C does
    fmt = file_format(path, fmt)
    key = tuple(c.strip() for c in pk.split(",")) if pk else ()
    with invocation.client() as client:
        exists = name in client.tables()
        if mode == "create" and exists:
            raise CliError(
                f"table {name!r} already exists (use --update to add rows or --replace to swap them)"
            )
        if mode != "create" and not exists:
            raise CliError(
                f"table {name!r} does not exist (use --create --pk <columns> to make it)"
            )
        if schema_file is not None:
            rows = _create_from_schema(client, name, invocation.directory / schema_file, path, fmt)
        else:
            target = _target(client, name) if exists else None
            data = _read(path, fmt, target, key)
            _write(client, name, data, mode, target.primary_key if target else key)
            rows = data.num_rows
    out(f"Imported {rows:,} rows into {name} ({mode}).\n")


@table.command(
    "export",
    epilog=example(
        "arbor table export labels labels.csv",
        "arbor table export --as-of v1 labels train-v1.parquet",
    ),
)
@click.option(
    "--as-of",
    "revision",
    metavar="REVISION",
    help="Export the table as it was at this branch, tag or commit.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FILE_FORMATS),
    help="File format (default: from the extension).",
)
@click.option("-f", "--force", is_flag=True, help="Overwrite FILE if it exists.")
@click.argument("name", metavar="TABLE")
@click.argument("path", metavar="FILE", type=click.Path(dir_okay=False, path_type=Path))
@pass_invocation
def export(
    invocation: Invocation,
    revision: str | None,
    fmt: str | None,
    force: bool,
    name: str,
    path: Path,
) -> None:
    """Write a table to a CSV, Parquet or JSON lines file."""
    path = invocation.directory / path
    fmt = file_format(str(path), fmt)
    if path.exists() and not force:
        raise CliError(f"{str(path)!r} already exists (pass --force to overwrite it)")
    as_of = f" AS OF {sql_literal(revision)}" if revision else ""
    with invocation.client() as client:
        data = client.query(f"SELECT * FROM {quote_ident(name)}{as_of}")
        provenance = {
            "arbordb.repository": str(client.path),
            "arbordb.table": name,
            "arbordb.revision": revision or "WORKING",
            "arbordb.commit": client.scalar("SELECT dolt_hashof(?)", [revision or "HEAD"]),
        }
        if not revision:  # the working set: say whether it held uncommitted changes
            provenance["arbordb.uncommitted_changes"] = str(client.dirty()).lower()
    with progress.task(f"writing {path.name}", data.num_rows) as step:
        export_file(data, str(path), fmt, on_rows=step.advance, provenance=provenance)
    out(f"Exported {data.num_rows:,} rows of {name} to {path}.\n")


COMMANDS = (table,)
