"""``arbor table rm|mv|cp``: remove, rename and copy tables in the working set, as
``dolt table rm|mv|cp`` do.

Each is one SQL transaction (``DROP TABLE``; ``ALTER TABLE ... RENAME TO``; the table's
own ``CREATE TABLE`` and ``CREATE INDEX`` statements re-targeted at the new name, then
``INSERT ... SELECT``), so a refused step changes nothing. Like any write they change
the working set only: ``arbor add`` and ``arbor commit`` record them.
"""

from __future__ import annotations

import click
from sqlglot import exp

from arbordb.sql.parse.dialect import parse, quote_identifier

from ..client import Client, Invocation
from ..errors import CliError
from .common import example, out, pass_invocation

SYSTEM_PREFIX = "dolt_"


def _check_name(name: str, what: str) -> None:
    if name.lower().startswith(SYSTEM_PREFIX):
        raise CliError(f"{name!r} is a system table name; {what} only tables you made")


def _existing(client: Client, names: tuple[str, ...], what: str) -> None:
    tables = client.tables()
    for name in names:
        _check_name(name, what)
        if name not in tables:
            raise CliError(
                f"table {name!r} not found in the working set (see `arbor ls` for the tables)"
            )


def _free(client: Client, name: str, force: bool) -> None:
    """``name`` may be written: it is no table yet, or ``force`` drops it (in the
    caller's transaction)."""
    _check_name(name, "write")
    if name in client.tables():
        if not force:
            raise CliError(f"table {name!r} already exists (pass -f to replace it)")
        client.execute(f"DROP TABLE {quote_identifier(name)}")


def _transaction(client: Client, work) -> None:
    client.execute("BEGIN")
    try:
        work()
        client.execute("COMMIT")
    except BaseException:
        client.execute("ROLLBACK")
        raise


@click.command("rm", epilog=example("arbor table rm scratch", "arbor table rm old1 old2"))
@click.argument("names", metavar="TABLE...", nargs=-1, required=True)
@pass_invocation
def rm(invocation: Invocation, names: tuple[str, ...]) -> None:
    """Remove tables from the working set.

    Every TABLE must exist, or none is removed. Commit the removal with
    `arbor commit -A`; a removed table is still in the history.
    """
    with invocation.client() as client:
        _existing(client, names, "remove")

        def drop() -> None:
            for name in dict.fromkeys(names):
                client.execute(f"DROP TABLE {quote_identifier(name)}")

        _transaction(client, drop)
    out("".join(f"Removed table {name}.\n" for name in dict.fromkeys(names)))


@click.command("mv", epilog=example("arbor table mv labels labels_v1"))
@click.option("-f", "--force", is_flag=True, help="Replace NEWTABLE if it exists.")
@click.argument("old", metavar="OLDTABLE")
@click.argument("new", metavar="NEWTABLE")
@pass_invocation
def mv(invocation: Invocation, force: bool, old: str, new: str) -> None:
    """Rename a table in the working set (rows, key and indexes stay)."""
    if old == new:
        raise CliError(f"OLDTABLE and NEWTABLE are both {old!r}; give a new name")
    with invocation.client() as client:
        _existing(client, (old,), "rename")

        def rename() -> None:
            _free(client, new, force)
            client.execute(f"ALTER TABLE {quote_identifier(old)} RENAME TO {quote_identifier(new)}")

        _transaction(client, rename)
    out(f"Renamed table {old} to {new}.\n")


@click.command("cp", epilog=example("arbor table cp labels labels_backup"))
@click.option("-f", "--force", is_flag=True, help="Replace NEWTABLE if it exists.")
@click.argument("old", metavar="OLDTABLE")
@click.argument("new", metavar="NEWTABLE")
@pass_invocation
def cp(invocation: Invocation, force: bool, old: str, new: str) -> None:
    """Copy a table (its columns, key, indexes and rows) to a new table in the working set."""
    if old == new:
        raise CliError(f"OLDTABLE and NEWTABLE are both {old!r}; give a new name")
    with invocation.client() as client:
        _existing(client, (old,), "copy")
        statements = _retargeted(client.create_statement(old), old, new)

        def copy() -> None:
            _free(client, new, force)
            for statement in statements:
                client.execute(statement)
            client.execute(
                f"INSERT INTO {quote_identifier(new)} SELECT * FROM {quote_identifier(old)}"
            )

        _transaction(client, copy)
        rows = client.scalar(f"SELECT count(*) FROM {quote_identifier(new)}")
    out(f"Copied table {old} to {new} ({rows:,} rows).\n")


def _retargeted(create: str, old: str, new: str) -> list[str]:
    """The statements that create ``old`` (``SHOW CREATE TABLE``), creating ``new``."""
    trees = parse(create)
    for tree in trees:
        for node in tree.find_all(exp.Table):
            if node.name == old:
                node.set("this", exp.to_identifier(new, quoted=True))
    return [tree.sql("duckdb") for tree in trees]


SUBCOMMANDS = (rm, mv, cp)  # of ``arbor table`` (cli/commands/table.py)
