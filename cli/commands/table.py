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

from arbordb.sql.catalog import type_name

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
    sql = _insert_sql(name, data, key, upsert=mode == "update")
    client.execute("BEGIN")
    try:
        if mode == "create":
            client.execute(_create_sql(name, data, key))
        elif mode == "replace":
            client.execute(f"DELETE FROM {quote_ident(name)}")
        with progress.task(f"writing {name}", data.num_rows) as step:
            for batch in data.to_batches(max_chunksize=WRITE_BATCH):
                client.insert_arrow(sql, batch)  # Arrow all the way: no Python values
                step.advance(batch.num_rows)
        client.execute("COMMIT")
    except BaseException:
        client.execute("ROLLBACK")
        raise


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
    "--format",
    "fmt",
    type=click.Choice(FILE_FORMATS),
    help="File format (default: from the extension).",
)
@click.argument("name", metavar="TABLE")
@click.argument("path", metavar="FILE", type=click.Path(dir_okay=False))
@pass_invocation
def import_(
    invocation: Invocation, mode: str | None, pk: str | None, fmt: str | None, name: str, path: str
) -> None:
    """Load a CSV, Parquet or JSON lines file.

    The whole FILE is checked before TABLE is touched: a bad row is reported with
    its file and line, and nothing is written. Rows land in the working set.
    """
    if mode is None:
        raise UsageError("choose --create, --update or --replace")
    if pk and mode != "create":
        raise UsageError("--pk applies to --create only (an existing table keeps its key)")
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
        target = None
        if exists:
            schema = client.columns(name)
            columns = dict(zip(schema.names, schema.types, strict=True))
            target = Target(columns, client.primary_key(name))
        with progress.task(
            f"reading {os.path.basename(path)}",
            os.path.getsize(path) if os.path.isfile(path) else None,
            as_bytes=True,
        ) as step:
            data = read_file(path, fmt, as_text=exists, on_read=step.advance)
        data = conform(data, Positions(path, fmt), target=target, primary_key=key)
        _write(client, name, data, mode, target.primary_key if target else key)
    out(f"Imported {data.num_rows:,} rows into {name} ({mode}).\n")


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
    with progress.task(f"writing {path.name}", data.num_rows) as step:
        export_file(data, str(path), fmt, on_rows=step.advance)
    out(f"Exported {data.num_rows:,} rows of {name} to {path}.\n")


COMMANDS = (table,)
