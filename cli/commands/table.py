"""``arbor table import|export``: move rows between files (CSV, Parquet, JSON lines) and tables
(``rm``, ``mv`` and ``cp`` live in ``table_names.py``).

An import is read and validated whole (``cli/importer.py``) before the repository is
touched, then written in one SQL transaction (``BEGIN`` ... ``COMMIT``), so a bad row
or a refused write leaves the repository exactly as it was. A Parquet file that
creates or replaces a table is streamed instead (``_write_streamed``): each batch is
checked on its way into one streamed INSERT, and a bad one fails that statement, so
the transaction rolls back just the same. Imported rows land in the
working set, like any SQL write; commit them with ``arbor commit``.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import click
import numpy as np
import pyarrow as pa
from sqlglot import exp

from arbordb.sql.catalog import type_name
from arbordb.sql.errors import IntegrityError
from arbordb.sql.parse.dialect import parse, quote_identifier

from .. import progress
from ..client import IMPORTED, Client, Invocation
from ..errors import CliError, UsageError
from ..importer import (
    FILE_FORMATS,
    IMPORT_FILE_TYPES,
    ParquetStream,
    Positions,
    Rejects,
    Target,
    conform,
    export_file,
    file_format,
    import_format,
    infer_types,
    is_dolt_json,
    mapped,
    read_file,
)
from ..render import sql_literal
from .common import example, out, pass_invocation
from .table_names import SUBCOMMANDS

WRITE_BATCH = 100_000  # rows per INSERT batch (one progress step each)


@click.group(
    epilog=example(
        "arbor table import --create --pk id labels labels.csv",
        "arbor table export labels labels.parquet",
        "arbor table cp labels labels_backup",
    )
)
def table() -> None:
    """Import, export, remove, rename and copy tables."""


for _command in SUBCOMMANDS:
    table.add_command(_command)


def _create_sql(name: str, data: pa.Table, pk: tuple[str, ...]) -> str:
    columns = [f"{quote_identifier(f.name)} {type_name(f.type)}" for f in data.schema]
    if pk:
        columns.append(f"PRIMARY KEY ({', '.join(quote_identifier(c) for c in pk)})")
    return f"CREATE TABLE {quote_identifier(name)} ({', '.join(columns)})"


def _insert_sql(name: str, data: pa.Table, key: tuple[str, ...], upsert: bool) -> str:
    cols = ", ".join(quote_identifier(c) for c in data.column_names)
    sql = f"INSERT INTO {quote_identifier(name)} ({cols}) SELECT {cols} FROM {IMPORTED}"
    updates = [c for c in data.column_names if c not in key]
    if upsert and updates:
        sets = ", ".join(f"{quote_identifier(c)} = excluded.{quote_identifier(c)}" for c in updates)
        sql += f" ON CONFLICT DO UPDATE SET {sets}"
    elif upsert:
        sql += " ON CONFLICT DO NOTHING"
    return sql


@dataclass
class _Plan:
    """One import, as the flags ask for it."""

    name: str
    path: str
    fmt: str
    delimiter: str
    mode: str  # create | update | append | replace
    key: tuple[str, ...]  # of a new table (--pk, or the file's first column)
    key_given: bool
    force: bool
    mapping: dict[str, str]
    keep_going: bool
    all_text: bool


def _write(client: Client, plan: _Plan, data: pa.Table, key: tuple[str, ...]) -> None:
    """One transaction: (create | empty) the table, then insert the rows in batches."""
    client.execute("BEGIN")
    try:
        if plan.mode == "create":
            if plan.force and plan.name in client.tables():
                client.execute(f"DROP TABLE {quote_identifier(plan.name)}")
            client.execute(_create_sql(plan.name, data, key))
        _insert(client, plan.name, data, plan.mode, key)
        client.execute("COMMIT")
    except BaseException:
        client.execute("ROLLBACK")
        raise


def _insert(client: Client, name: str, data: pa.Table, mode: str, key: tuple[str, ...]) -> None:
    sql = _insert_sql(name, data, key, upsert=mode == "update")
    if mode == "replace":
        client.execute(f"DELETE FROM {quote_identifier(name)}")
    with progress.task(f"writing {name}", data.num_rows) as step:
        for batch in data.to_batches(max_chunksize=WRITE_BATCH):
            client.insert_arrow(sql, batch)  # Arrow all the way: no Python values
            step.advance(batch.num_rows)


def _target(client: Client, name: str) -> Target:
    schema = client.columns(name)
    return Target(dict(zip(schema.names, schema.types, strict=True)), client.primary_key(name))


def _read(plan: _Plan, target: Target | None, rejects: Rejects) -> pa.Table:
    """The file read, renamed by --map, and conformed to ``target`` (or typed for a new
    table keyed by the plan's key, the file's first column unless --pk names it)."""
    path = plan.path
    with progress.task(
        f"reading {os.path.basename(path)}",
        os.path.getsize(path) if os.path.isfile(path) else None,
        as_bytes=True,
    ) as step:
        data = read_file(
            path,
            plan.fmt,
            as_text=True,
            on_read=step.advance,
            delimiter=plan.delimiter,
            rejects=rejects,
        )
    data = mapped(data, plan.mapping, path)
    if target is None and plan.fmt == "csv" and not plan.all_text:
        data = infer_types(data, rejects.where, rejects)
    key = target.primary_key if target is not None else plan.key
    if target is None and not plan.key_given and data.num_columns:
        key = (data.column_names[0],)  # Dolt: the first column, unless --pk names others
        plan.key = key
    return conform(data, rejects.where, target=target, primary_key=key, rejects=rejects)


def _read_mapping(path: Path) -> dict[str, str]:
    """A Dolt mapping file: one JSON object, ``{"file column": "table column", ...}``."""
    try:
        mapping = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CliError(f"cannot read the --map file {str(path)!r} ({exc})") from None
    if not isinstance(mapping, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in mapping.items()
    ):
        raise CliError(
            f"the --map file {str(path)!r} must hold one JSON object of names, "
            'as in {"file_column": "table_column"}'
        )
    return mapping


def _existing_keys(client: Client, name: str, data: pa.Table, key: tuple[str, ...]) -> list[int]:
    """The rows of ``data`` (indices, ascending) whose key the table already holds."""
    if not key or not data.num_rows:
        return []
    keys = data.select(list(key)).append_column("__row", pa.array(range(data.num_rows)))
    cols = ", ".join(quote_identifier(c) for c in key)
    found = client.query_arrow_with(
        f"SELECT i.__row FROM {IMPORTED} AS i JOIN (SELECT {cols} FROM {quote_identifier(name)}) "
        f"AS t USING ({cols}) ORDER BY i.__row",
        keys,
    )
    return found.column(0).to_pylist()


def _refuse_existing(
    client: Client, plan: _Plan, data: pa.Table, key: tuple[str, ...], rejects: Rejects
) -> pa.Table:
    """--append adds rows only: a row whose key the table holds is refused (or, with
    --continue, skipped)."""
    existing = _existing_keys(client, plan.name, data, key)
    if not existing:
        return data
    rows = rejects.alive(rejects.num_rows)  # data's rows -> the file's
    for index in existing:
        value = ", ".join(f"{c}={data.column(c)[index].as_py()!r}" for c in key)
        rejects.reject(
            int(rows[index]),
            f"table {plan.name!r} already has the key ({value}) (--append adds rows only; "
            "use --update to change rows, or --continue to skip them)",
        )
    keep = np.ones(data.num_rows, dtype=bool)
    keep[existing] = False
    return data.filter(pa.array(keep))


def _create_from_schema(client: Client, plan: _Plan, schema_file: Path, rejects: Rejects) -> int:
    """One transaction: run the schema file's CREATE TABLE, then import into that table."""
    name = plan.name
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
        if plan.force and name in client.tables():
            client.execute(f"DROP TABLE {quote_identifier(name)}")
        client.execute(statement)
        if name not in client.tables():
            raise CliError(
                f"the schema file {str(schema_file)!r} does not create table {name!r} "
                f"(it must hold one CREATE TABLE {name} (...) statement)"
            )
        target = _target(client, name)
        data = _read(plan, target, rejects)
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
        "arbor table import --append --continue labels more.csv",
        "arbor table import -c --map names.json --delim ';' labels export.txt",
    ),
)
@click.option(
    "-c",
    "--create",
    "--create-table",
    "create_mode",
    is_flag=True,
    help="Create TABLE from the file (it must not exist, unless --force).",
)
@click.option(
    "-u",
    "--update",
    "--update-table",
    "update_mode",
    is_flag=True,
    help="Insert the file's rows; rows whose key exists are updated.",
)
@click.option(
    "-a",
    "--append",
    "--append-table",
    "append_mode",
    is_flag=True,
    help="Insert the file's rows, changing none of TABLE's: a key TABLE already holds "
    "is an error (skipped with --continue).",
)
@click.option(
    "-r",
    "--replace",
    "--replace-table",
    "replace_mode",
    is_flag=True,
    help="Replace every row of TABLE by the file's rows.",
)
@click.option("-f", "--force", is_flag=True, help="With --create: replace TABLE if it exists.")
@click.option(
    "--pk",
    metavar="COLUMNS",
    help="Primary-key column(s) of a new table, comma-separated (default: the file's "
    "first column, as in Dolt).",
)
@click.option(
    "--keyless",
    is_flag=True,
    help="With --create: make a table without a primary key (rows may repeat).",
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
    "-m",
    "--map",
    "map_file",
    metavar="JSONFILE",
    type=click.Path(dir_okay=False, path_type=Path),
    help='Rename the file\'s columns: a JSON object {"file column": "table column", ...}.',
)
@click.option(
    "--continue",
    "keep_going",
    is_flag=True,
    help="Skip rows that cannot be imported (bad values, repeated or existing keys, "
    "wrong field counts) and report them.",
)
@click.option(
    "--quiet",
    "--ignore-skipped-rows",
    "quiet",
    is_flag=True,
    help="With --continue: print only how many rows were skipped.",
)
@click.option(
    "--all-text",
    is_flag=True,
    help="With --create: make every column of a CSV-style file text (VARCHAR).",
)
@click.option(
    "--file-type",
    "--format",
    "file_type",
    type=click.Choice(IMPORT_FILE_TYPES),
    help="File type (default: from the extension); psv is CSV separated by '|'.",
)
@click.option(
    "--delim",
    metavar="CHAR",
    help="Field separator of a CSV-style file (default ',' ; '\\t' for tab).",
)
@click.argument("name", metavar="TABLE")
@click.argument("path", metavar="FILE", type=click.Path(dir_okay=False))
@pass_invocation
def import_(
    invocation: Invocation,
    create_mode: bool,
    update_mode: bool,
    append_mode: bool,
    replace_mode: bool,
    force: bool,
    pk: str | None,
    keyless: bool,
    schema_file: Path | None,
    map_file: Path | None,
    keep_going: bool,
    quiet: bool,
    all_text: bool,
    file_type: str | None,
    delim: str | None,
    name: str,
    path: str,
) -> None:
    """Load a CSV, Parquet or JSON lines file.

    The whole FILE is checked before TABLE is touched: a bad row is reported with
    its file and line, and nothing is written (with --continue, bad rows are
    skipped and listed instead). A new table's primary key is --pk, else the
    file's first column; --keyless makes a table without one. Rows land in the
    working set.
    """
    chosen = [
        m
        for m, given in (
            ("create", create_mode),
            ("update", update_mode),
            ("append", append_mode),
            ("replace", replace_mode),
        )
        if given
    ]
    if len(chosen) != 1:
        raise UsageError("choose one of --create, --update, --append or --replace")
    (mode,) = chosen
    for flag, given in (("--pk", pk), ("--keyless", keyless), ("--force", force)):
        if given and mode != "create":
            raise UsageError(f"{flag} applies to --create only (an existing table keeps its key)")
    if schema_file is not None and mode != "create":
        raise UsageError("--schema applies to --create only (an existing table keeps its types)")
    if schema_file is not None and (pk or keyless):
        raise UsageError(
            "give the key in the --schema file's CREATE TABLE, not with --pk/--keyless"
        )
    if pk and keyless:
        raise UsageError("give --pk or --keyless, not both")
    if all_text and (mode != "create" or schema_file is not None):
        raise UsageError("--all-text applies to --create without --schema only")
    if quiet and not keep_going:
        raise UsageError("--quiet applies to --continue only")
    path = str(invocation.directory / path)  # relative to -C PATH, as git -C does
    fmt, delimiter = import_format(path, file_type, delim)
    if fmt == "jsonl" and is_dolt_json(path):
        fmt = "json"  # Dolt's {"rows": [...]} file
    plan = _Plan(
        name=name,
        path=path,
        fmt=fmt,
        delimiter=delimiter,
        mode=mode,
        key=tuple(c.strip() for c in pk.split(",")) if pk else (),
        key_given=bool(pk) or keyless,
        force=force,
        mapping=_read_mapping(invocation.directory / map_file) if map_file else {},
        keep_going=keep_going,
        all_text=all_text,
    )
    rejects = Rejects(Positions(path, fmt, delimiter), keep_going=keep_going)
    with invocation.client() as client:
        exists = name in client.tables()
        if mode == "create" and exists and not force:
            raise CliError(
                f"table {name!r} already exists (use --update to add rows, --replace to swap "
                "them, or --create --force to replace the table)"
            )
        if mode != "create" and not exists:
            raise CliError(
                f"table {name!r} does not exist (use --create --pk <columns> to make it)"
            )
        if schema_file is not None:
            rows = _create_from_schema(client, plan, invocation.directory / schema_file, rejects)
        elif _streams(plan):
            rows = _write_streamed(client, plan, exists)
        else:
            target = _target(client, name) if exists and mode != "create" else None
            data = _read(plan, target, rejects)
            key = target.primary_key if target else plan.key
            if mode == "append":
                data = _refuse_existing(client, plan, data, key, rejects)
            _write(client, plan, data, key)
            rows = data.num_rows
    _report_skipped(rejects, quiet)
    keyed = ""
    if mode == "create" and schema_file is None and not pk:
        keyed = f", primary key {plan.key[0]}" if plan.key else ", keyless"
    out(f"Imported {rows:,} rows into {name} ({mode}{keyed}).\n")


def _streams(plan: _Plan) -> bool:
    """Whether the import reads its file a batch at a time (``_write_streamed``): a
    Parquet file (its types are in it) that creates or replaces a table, all or
    nothing (no --continue)."""
    return plan.fmt == "parquet" and plan.mode in ("create", "replace") and not plan.keep_going


def _write_streamed(client: Client, plan: _Plan, exists: bool) -> int:
    """One transaction, as ``_write``, whose INSERT reads the file as DuckDB pulls it:
    each batch checked and cast (``ParquetStream``) on its way to the engine, which
    builds the new table as the batches come, so memory holds a few batches, not the
    file. A bad batch raises from inside the statement; its error is raised as it
    was, after the rollback. A key repeated across batches is refused by the engine;
    the whole-file check then runs to name its rows (nothing was changed)."""
    target = _target(client, plan.name) if exists and plan.mode != "create" else None
    key = target.primary_key if target is not None else plan.key
    stream = ParquetStream(plan.path, target, key, plan.mapping).open()
    if target is None and not plan.key_given and stream.schema.names:
        key = (stream.schema.names[0],)  # Dolt: the first column, unless --pk names others
        plan.key = key
        stream = ParquetStream(plan.path, None, key, plan.mapping).open()
    failed: list[BaseException] = []

    def batches():
        try:
            for batch in stream.batches():
                step.advance(batch.num_rows)
                yield batch
        except BaseException as exc:  # DuckDB rewraps what a stream raises
            failed.append(exc)
            raise

    empty = pa.Table.from_batches([], stream.schema)  # empty_table() imports pandas
    client.execute("BEGIN")
    try:
        if plan.mode == "create":
            if plan.force and plan.name in client.tables():
                client.execute(f"DROP TABLE {quote_identifier(plan.name)}")
            client.execute(_create_sql(plan.name, empty, key))
        else:
            client.execute(f"DELETE FROM {quote_identifier(plan.name)}")
        with progress.task(f"writing {plan.name}", stream.num_rows) as step:
            reader = pa.RecordBatchReader.from_batches(stream.schema, batches())
            client.insert_arrow(_insert_sql(plan.name, empty, key, upsert=False), reader)
        client.execute("COMMIT")
    except BaseException as exc:
        client.execute("ROLLBACK")
        if failed:
            raise failed[0] from None
        if not _duplicate_key(exc):
            raise
        _read(plan, target, Rejects(Positions(plan.path, plan.fmt)))  # names the rows
        raise
    return stream.rows


def _duplicate_key(error: BaseException) -> bool:
    return isinstance(error, IntegrityError) and "duplicate primary key" in str(error)


def _report_skipped(rejects: Rejects, quiet: bool) -> None:
    """Dolt's --continue report on stderr: each skipped row, then how many."""
    if not len(rejects):
        return
    if not quiet:
        click.echo("The following rows were skipped:", err=True)
        for line in rejects.report():
            click.echo(f"  {line}", err=True)
    click.echo(f"Lines skipped: {len(rejects):,}", err=True)


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
        data = client.query(f"SELECT * FROM {quote_identifier(name)}{as_of}")
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
