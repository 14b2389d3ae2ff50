"""``arbor sql``: the SQL shell, one query (``-q``), or a script read from stdin."""

from __future__ import annotations

import sys
from typing import Any

import click

from ..client import Client, Invocation
from ..errors import UsageError
from ..render import FORMATS, write_result
from ..script import split_statements
from .common import example, out


def run_statements(client: Client, text: str, fmt: str) -> None:
    """Run each statement of ``text`` in order, writing every result; stops at the first error.

    Parquet holds one table, so with ``-r parquet`` only one statement may return rows.
    """
    written = 0
    for statement in split_statements(text):
        table, count = client.execute(statement)
        if table is not None:
            if fmt == "parquet" and written:
                raise UsageError("-r parquet writes one result; run one query per command")
            write_result(table, fmt)
            written += 1
        elif fmt == "table":
            out(f"Query OK, {'1 row' if count == 1 else f'{max(count, 0)} rows'} affected\n")


@click.command(
    epilog=example(
        "arbor sql                                   # interactive shell",
        'arbor sql -q "SELECT label, count(*) FROM labels GROUP BY label"',
        "arbor sql -q \"SELECT * FROM labels AS OF 'v1'\" -r parquet > v1.parquet",
        "arbor sql < migrate.sql",
    )
)
@click.option("-q", "--query", metavar="SQL", help="Run these statements and exit (no shell).")
@click.option(
    "-r",
    "--result-format",
    "fmt",
    type=click.Choice(FORMATS),
    default="table",
    show_default=True,
    help="How to print results of -q or a script.",
)
@click.pass_context
def sql(ctx: click.Context, query: str | None, fmt: str) -> None:
    """Run SQL: a shell, one query, or a script.

    On a terminal, an interactive shell (prompt repo/branch, * when there are
    uncommitted changes; type \\help there). With -q, run those statements; else
    run the script read from stdin.
    """
    invocation = ctx.find_object(Invocation)
    with invocation.client() as client:
        if query is not None:
            run_statements(client, query, fmt)
        elif not sys.stdin.isatty():
            run_statements(client, sys.stdin.read(), fmt)
        else:
            shell_for(ctx.find_root().command, invocation, client).run()


def shell_for(group: click.Group, invocation: Invocation, client: Client, **terminal: Any) -> Any:
    """A REPL on ``client`` whose backslash verbs run ``group``'s commands on the same
    session; ``terminal`` passes prompt-toolkit's input/output/history (tests)."""
    from ..main import explain  # the one error-to-message mapping (imported late: main imports us)
    from ..repl import Shell  # prompt-toolkit loads only when a shell starts

    def run_command(args: list[str]) -> None:
        shared = Invocation(invocation.directory, shared=client)
        group.main(args, prog_name="arbor", obj=shared, standalone_mode=False)

    return Shell(client, run_command=run_command, explain=explain, **terminal)


COMMANDS = (sql,)
