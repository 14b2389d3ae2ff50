"""``arbor ls`` and ``arbor schema show``: which tables a version has, and their schemas."""

from __future__ import annotations

import click

from arbordb.sql.parse.dialect import quote_identifier

from ..client import Client, Invocation
from ..render import sql_literal
from .common import example, out, pass_invocation


def _tables(client: Client, revision: str | None) -> list[str]:
    return client.tables_at(revision) if revision else sorted(client.tables())


def _count(client: Client, table: str, revision: str | None) -> int:
    as_of = f" AS OF {sql_literal(revision)}" if revision else ""
    return int(client.scalar(f"SELECT count(*) FROM {quote_identifier(table)}{as_of}"))


@click.command(epilog=example("arbor ls", "arbor ls -v v1"))
@click.argument("revision", required=False)
@click.option("-v", "--verbose", is_flag=True, help="Show each table's row count.")
@pass_invocation
def ls(invocation: Invocation, revision: str | None, verbose: bool) -> None:
    """List the tables of the working set, or of REVISION."""
    with invocation.client() as client:
        tables = _tables(client, revision)
        where = f"at {revision}" if revision else "in working set"
        lines = [f"Tables {where}:"]
        for table in tables:
            if verbose:
                rows = _count(client, table, revision)
                lines.append(f"\t{table:<30} {rows} {'row' if rows == 1 else 'rows'}")
            else:
                lines.append(f"\t{table}")
        if not tables:
            lines.append("\t(no tables)")
    out("\n".join(lines) + "\n")


@click.group(epilog=example("arbor schema show", "arbor schema show v1 labels"))
def schema() -> None:
    """Show table schemas."""


@schema.command(epilog=example("arbor schema show", "arbor schema show HEAD~1 labels"))
@click.argument("args", nargs=-1, metavar="[REVISION] [TABLE...]")
@pass_invocation
def show(invocation: Invocation, args: tuple[str, ...]) -> None:
    """Show the CREATE TABLE statements of the working set's tables, or of REVISION's.

    TABLE names narrow it; a first argument that is not a table of the working set
    is read as a revision.
    """
    with invocation.client() as client:
        revision, tables = None, list(args)
        if tables and tables[0] not in client.tables():
            revision, tables = tables[0], tables[1:]
            client.scalar("SELECT dolt_hashof(?)", [revision])  # an unknown revision: refused
        blocks = [
            f"{table} @ {revision or 'working'}\n{client.create_statement(table, revision)}\n"
            for table in tables or _tables(client, revision)
        ]
    out("\n".join(blocks))


COMMANDS = (ls, schema)
