"""``arbor sql``: the SQL shell, one query (``-q``), or a script read from stdin."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from ..client import Client, Invocation
from ..errors import CliError, UsageError
from ..explain import explain
from ..render import FORMATS, write_result
from ..script import located_statements
from .common import example, out


class ScriptError(CliError):
    """A statement of a script failed: the message names it, its line and the reason."""


def run_statements(
    client: Client, text: str, fmt: str, *, source: str = "", keep_going: bool = False
) -> int:
    """Run each statement of ``text`` in order, writing every result; returns how many failed.

    A failure stops the script (``ScriptError`` naming the statement and its line in
    ``source``), or with ``keep_going`` is reported on stderr and the next statement
    runs. Parquet holds one table, so with ``-r parquet`` only one statement may
    return rows.
    """
    written = failed = 0
    located = located_statements(text)
    for number, (line, statement) in enumerate(located, 1):
        try:
            table, count = client.execute(statement)
        except Exception as error:
            explained = explain(error)
            if explained is None:
                raise
            where = f"{source}, line {line}" if source else f"line {line}"
            if len(located) > 1 or source:
                message = f"statement {number} ({where}): {explained[0]}"
            else:
                message = explained[0]
            if not keep_going:
                raise ScriptError(message) from error
            failed += 1
            click.echo(f"error: {message}", err=True)
            continue
        if table is not None:
            if fmt == "parquet" and written:
                raise UsageError("-r parquet writes one result; run one query per command")
            write_result(table, fmt)
            written += 1
        elif fmt in ("table", "vertical"):
            out(f"Query OK, {'1 row' if count == 1 else f'{max(count, 0)} rows'} affected\n")
    return failed


@click.command(
    epilog=example(
        "arbor sql                                   # interactive shell",
        'arbor sql -q "SELECT label, count(*) FROM labels GROUP BY label"',
        "arbor sql -q \"SELECT * FROM labels AS OF 'v1'\" -r parquet > v1.parquet",
        "arbor sql < migrate.sql",
        "arbor sql -f migrate.sql --continue",
    )
)
@click.option("-q", "--query", metavar="SQL", help="Run these statements and exit (no shell).")
@click.option(
    "-f",
    "--file",
    "script",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Run the statements in this file and exit.",
)
@click.option(
    "--continue",
    "keep_going",
    is_flag=True,
    help="Go on after a failed statement of -q, -f or stdin (exit 1 at the end).",
)
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
def sql(
    ctx: click.Context, query: str | None, script: Path | None, keep_going: bool, fmt: str
) -> None:
    """Run SQL: a shell, one query, or a script.

    On a terminal, an interactive shell (prompt repo/branch, * when there are
    uncommitted changes; type \\help there). With -q, run those statements; with
    -f, the file's; else the script read from stdin. A failed statement stops the
    run and is named with its line, unless --continue is given.
    """
    if query is not None and script is not None:
        raise UsageError("give -q or -f, not both")
    invocation = ctx.find_object(Invocation)
    text, source = None, ""
    if script is not None:
        text, source = _read_script(invocation.directory / script), str(script)
    elif query is not None:
        text = query
    elif not sys.stdin.isatty():
        text, source = sys.stdin.read(), "stdin"
    with invocation.client() as client:
        if text is None:
            shell_for(ctx.find_root().command, invocation, client).run()
        elif run_statements(client, text, fmt, source=source, keep_going=keep_going):
            raise click.exceptions.Exit(1)


def _read_script(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise CliError(f"{path}: not UTF-8 text ({error.reason} at byte {error.start})") from None


def shell_for(group: click.Group, invocation: Invocation, client: Client, **terminal: Any) -> Any:
    """A REPL on ``client`` whose backslash verbs run ``group``'s commands on the same
    session; ``terminal`` passes prompt-toolkit's input/output/history (tests)."""
    from ..repl import Shell  # prompt-toolkit loads only when a shell starts

    def run_command(args: list[str]) -> None:
        shared = Invocation(invocation.directory, shared=client)
        group.main(args, prog_name="arbor", obj=shared, standalone_mode=False)

    return Shell(client, run_command=run_command, explain=explain, **terminal)


COMMANDS = (sql,)
