"""``arbor diff``: changed rows between two versions, as Dolt shows them (``cli/diffview.py``)."""

from __future__ import annotations

import difflib
import sys
from dataclasses import dataclass

import click
import pyarrow as pa

from arbordb.engine.arrow_arrays import values_array
from arbordb.sql.errors import SqlError

from ..client import Client, Invocation
from ..diffview import json_tables, skinny, stat_text, summary_text, table_diff_text
from ..errors import CliError, UsageError
from ..render import aligned, sql_literal, write_csv
from .common import color, example, out, pass_invocation

_PSEUDO = ("WORKING", "STAGED", "HEAD")
_NOTES = {"added": "added table", "dropped": "deleted table"}


def _is_revision(client: Client, text: str) -> bool:
    if text.upper() in _PSEUDO or ".." in text:
        return True
    try:
        client.scalar("SELECT dolt_hashof(?)", [text])
    except SqlError:  # not a revision: the caller treats it as a table
        return False
    return True


def endpoints(client: Client, args: tuple[str, ...], staged: bool) -> tuple[list[str], list[str]]:
    """(revision arguments for the dolt_diff functions, table names) from ``arbor diff`` args.

    No revision: STAGED to WORKING (HEAD to STAGED with ``staged``); one: it to WORKING;
    two: from the first to the second; ``a..b`` / ``a...b`` pass through as one argument.
    """
    revisions: list[str] = []
    tables: list[str] = []
    for arg in args:
        if not tables and len(revisions) < 2 and _is_revision(client, arg):
            revisions.append(arg)
        else:
            tables.append(arg)
    if len(revisions) == 1 and ".." not in revisions[0]:
        revisions.append("WORKING")
    return (revisions or (["HEAD", "STAGED"] if staged else ["STAGED", "WORKING"])), tables


def _check_tables(client: Client, revs: list[str], tables: list[str]) -> None:
    """Refuse a name that is neither a revision nor a table of the working set or the diff."""
    if not tables:
        return
    known = set(client.tables())
    for entry in changed_tables(client, revs, []):
        known |= {entry["from_table_name"], entry["to_table_name"]}
    unknown = [t for t in tables if t not in known]
    if unknown:
        raise CliError(
            f"{unknown[0]!r} is neither a revision nor a table "
            f"(tables: {', '.join(sorted(known - {''})) or 'none'})"
        )


def _args(*values: str) -> str:
    return ", ".join(sql_literal(v) for v in values)


def changed_tables(client: Client, revs: list[str], tables: list[str]) -> list[dict]:
    rows = client.rows(f"SELECT * FROM dolt_diff_summary({_args(*revs)})")
    return [
        r for r in rows if not tables or {r["from_table_name"], r["to_table_name"]} & set(tables)
    ]


def _row_diff(
    client: Client, revs: list[str], name: str, where: str | None, limit: int | None = None
) -> pa.Table:
    sql = f"SELECT * FROM dolt_diff({_args(*revs, name)})"
    sql += f" WHERE {where}" if where else ""
    return client.query(sql + (f" LIMIT {int(limit)}" if limit is not None else ""))


def _schema_note(client: Client, revs: list[str], name: str) -> str:
    rows = client.rows(f"SELECT * FROM dolt_schema_diff({_args(*revs, name)})")
    if not rows:
        return ""
    old = (rows[0]["from_create_statement"] or "").splitlines()
    new = (rows[0]["to_create_statement"] or "").splitlines()
    lines = [line for line in difflib.ndiff(old, new) if line[:1] in "+-"]
    return "\n".join(lines)


@dataclass(frozen=True)
class View:
    """What the default view shows of each table (``--limit``, ``--data``/``--schema``,
    ``--skinny``/``--include-cols``)."""

    where: str | None = None
    limit: int | None = None
    data: bool = True
    schema: bool = True
    skinny: bool = False
    include: tuple[str, ...] = ()


def diff_text(
    client: Client,
    *revs: str,
    tables: tuple[str, ...] | list[str] = (),
    view: View = View(),
    color: bool = False,
) -> str:
    """Dolt's default diff view of every changed table between ``revs``."""
    text = ""
    for entry in changed_tables(client, list(revs), list(tables)):
        name = entry["to_table_name"] or entry["from_table_name"]
        note = _NOTES.get(entry["diff_type"])
        if entry["diff_type"] == "renamed":
            note = f"renamed table {entry['from_table_name']} -> {name}"
        if entry["schema_change"] and entry["diff_type"] == "modified":
            note = _schema_note(client, list(revs), name)
        shows_schema = view.schema and bool(note)
        shows_data = view.data and entry["data_change"]
        if not shows_schema and not shows_data:
            continue
        data = pa.table({})
        if shows_data:
            data = _row_diff(client, list(revs), name, view.where, view.limit)
            if view.skinny:
                data = skinny(data, [*_key_of(client, name), *view.include])
        text += table_diff_text(
            name,
            data,
            old_name=entry["from_table_name"] or None,
            note=note if view.schema else None,
            color=color,
        )
    return text


def _key_of(client: Client, name: str) -> tuple[str, ...]:
    """The primary key of ``name`` in the working set (none when it is not there)."""
    return client.primary_key(name) if name in client.tables() else ()


def shift(client: Client, revs: list[str], reverse: bool, merge_base: bool) -> list[str]:
    """The revisions after ``--merge-base`` (from the merge base of the two) and ``-R``
    (the other way round); ``a..b`` and ``a...b`` become two plain revisions first."""
    if merge_base:
        if ".." in revs[0]:
            raise UsageError("--merge-base takes two revisions, not a..b or a...b")
        if revs in (["STAGED", "WORKING"], ["HEAD", "STAGED"]):
            raise UsageError("--merge-base needs a revision: arbor diff --merge-base main feature")
        second = "HEAD" if revs[1] == "WORKING" else revs[1]
        revs = [f"{revs[0]}...{second}"]
    if not reverse and not merge_base:
        return revs
    if len(revs) == 1:
        three = "..." in revs[0]
        left, right = revs[0].split("..." if three else "..", 1)
        left, right = left or "HEAD", right or "HEAD"
        if three:
            left = client.scalar("SELECT dolt_merge_base(?, ?)", [left, right])
        revs = [left, right]
    return [revs[1], revs[0]] if reverse else revs


def _shown_name(entry: dict) -> str:
    old, new = entry["from_table_name"], entry["to_table_name"]
    return f"{old} -> {new}" if old and new and old != new else new or old


def summary_view(client: Client, revs: list[str], tables: list[str], where: str | None) -> str:
    """Dolt's table of changed tables, then per table the column counts and transitions."""
    changed = changed_tables(client, revs, tables)
    if not changed:
        return ""
    overview = pa.table(
        {
            "Table name": values_array([_shown_name(r) for r in changed], pa.string()),
            "Diff type": values_array([r["diff_type"] for r in changed], pa.string()),
            "Data change": values_array([r["data_change"] for r in changed], pa.bool_()),
            "Schema change": values_array([r["schema_change"] for r in changed], pa.bool_()),
        }
    )
    text = aligned(overview)
    for entry in (e for e in changed if e["data_change"]):
        name = entry["to_table_name"] or entry["from_table_name"]
        text += summary_text(name, _row_diff(client, revs, name, where), color=color())
    return text


def stat_view(client: Client, revs: list[str], tables: list[str]) -> str:
    rows = client.rows(f"SELECT * FROM dolt_diff_stat({_args(*revs)})")
    return "".join(
        stat_text(r, color=color()) for r in rows if not tables or r["table_name"] in tables
    )


def patch_view(client: Client, revs: list[str], tables: list[str]) -> str:
    """The SQL statements (``dolt_patch``) that turn the old version into the new one."""
    statements: list[str] = []
    names: list[str | None] = list(tables) or [None]
    for name in names:
        extra = [name] if name else []
        statements += (
            client.query(f"SELECT statement FROM dolt_patch({_args(*revs, *extra)})")
            .column(0)
            .to_pylist()
        )
    return "".join(s.rstrip().removesuffix(";") + ";\n" for s in statements)


def data_view(client: Client, revs: list[str], tables: list[str], view: View, fmt: str) -> None:
    """The raw row diffs as Dolt's JSON, or as CSV (one block per table)."""
    diffs = {}
    for entry in changed_tables(client, revs, tables):
        if entry["data_change"]:
            name = entry["to_table_name"] or entry["from_table_name"]
            data = _row_diff(client, revs, name, view.where, view.limit)
            if view.skinny:
                data = skinny(data, [*_key_of(client, name), *view.include])
            diffs[name] = data
    if fmt == "json":
        out(json_tables(diffs))
    else:
        for data in diffs.values():
            write_csv(data, sys.stdout)


# -r for the views of changed rows (``diff``, ``show``): Dolt's table, or raw JSON / CSV,
# or the SQL that makes the change (dolt_patch).
result_format_option = click.option(
    "-r",
    "--result-format",
    "fmt",
    type=click.Choice(["table", "json", "csv", "sql"]),
    default="table",
    show_default=True,
    help="How to show the changed rows.",
)


@click.command(
    epilog=example(
        "arbor diff                      # working changes not staged yet",
        "arbor diff main relabel labels  # one table between two branches",
        "arbor diff --summary v1 HEAD    # per-column counts and label transitions",
        "arbor diff HEAD --where \"to_label = 'cat'\" -r csv",
    )
)
@click.argument("args", nargs=-1, metavar="[REVISION [REVISION]] [TABLE...]")
@click.option(
    "--staged", "--cached", "staged", is_flag=True, help="Compare HEAD with the staged tables."
)
@click.option(
    "--stat", is_flag=True, help="Count rows and cells added, deleted, modified per table."
)
@click.option(
    "--summary",
    is_flag=True,
    help="Changed tables, cells changed per column, and value transitions.",
)
@click.option(
    "--where",
    metavar="CONDITION",
    help="Keep only diff rows matching this SQL condition (on to_<col>, from_<col>, diff_type).",
)
@click.option(
    "--limit",
    type=click.IntRange(min=0),
    metavar="N",
    help="Show at most N changed rows per table.",
)
@click.option("-d", "--data", "data_only", is_flag=True, help="Show only data changes.")
@click.option("-s", "--schema", "schema_only", is_flag=True, help="Show only schema changes.")
@click.option(
    "-sk", "--skinny", is_flag=True, help="Show only key columns and columns that changed."
)
@click.option(
    "-ic",
    "--include-cols",
    metavar="COLS",
    help="With --skinny, also show these columns (comma-separated).",
)
@click.option("-R", "--reverse", is_flag=True, help="Swap the two versions.")
@click.option(
    "--merge-base",
    is_flag=True,
    help="Diff from the merge base of the two revisions (of the first and HEAD if one).",
)
@result_format_option
@pass_invocation
def diff(
    invocation: Invocation,
    args: tuple[str, ...],
    staged: bool,
    stat: bool,
    summary: bool,
    where: str | None,
    limit: int | None,
    data_only: bool,
    schema_only: bool,
    skinny: bool,
    include_cols: str | None,
    reverse: bool,
    merge_base: bool,
    fmt: str,
) -> None:
    """Show changed rows between two versions.

    No REVISION: changes not staged yet (--staged: staged changes). One: from it to
    the working tables. Two (or a..b, a...b): between them. TABLE names narrow it.
    """
    if fmt == "sql" and where:
        raise UsageError("--where filters rows of -r table, json or csv output, not -r sql")
    if data_only and schema_only:
        raise UsageError("--data and --schema contradict each other: give one (or neither)")
    if include_cols and not skinny:
        raise UsageError("--include-cols goes with --skinny")
    include = tuple(c.strip() for c in (include_cols or "").split(",") if c.strip())
    view = View(where, limit, not schema_only, not data_only, skinny, include)
    with invocation.client() as client:
        revs, tables = endpoints(client, args, staged)
        _check_tables(client, revs, tables)
        revs = shift(client, revs, reverse, merge_base)
        if stat:
            out(stat_view(client, revs, tables))
        elif summary:
            out(summary_view(client, revs, tables, where))
        elif fmt == "table":
            out(diff_text(client, *revs, tables=tables, view=view, color=color()))
        elif fmt == "sql":
            out(patch_view(client, revs, tables))
        else:
            data_view(client, revs, tables, view, fmt)


COMMANDS = (diff,)
