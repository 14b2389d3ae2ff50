"""``arbor diff``: changed rows between two versions, as Dolt shows them (``cli/diffview.py``)."""

from __future__ import annotations

import difflib
import sys

import click
import pyarrow as pa

from ..client import Client, Invocation
from ..diffview import json_tables, stat_text, summary_text, table_diff_text
from ..errors import UsageError
from ..render import aligned, sql_literal, write_csv
from .common import color, example, out, pass_invocation

_PSEUDO = ("WORKING", "STAGED", "HEAD")
_NOTES = {"added": "added table", "dropped": "deleted table"}


def _is_revision(client: Client, text: str) -> bool:
    if text.upper() in _PSEUDO or ".." in text:
        return True
    try:
        client.scalar("SELECT dolt_hashof(?)", [text])
    except Exception:  # noqa: BLE001 - not a revision: the caller treats it as a table
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


def _args(*values: str) -> str:
    return ", ".join(sql_literal(v) for v in values)


def changed_tables(client: Client, revs: list[str], tables: list[str]) -> list[dict]:
    rows = client.rows(f"SELECT * FROM dolt_diff_summary({_args(*revs)})")
    return [r for r in rows if not tables or {r["from_table_name"], r["to_table_name"]} & set(tables)]


def _row_diff(client: Client, revs: list[str], name: str, where: str | None) -> pa.Table:
    sql = f"SELECT * FROM dolt_diff({_args(*revs, name)})"
    return client.query(sql + (f" WHERE {where}" if where else ""))


def _schema_note(client: Client, revs: list[str], name: str) -> str:
    rows = client.rows(f"SELECT * FROM dolt_schema_diff({_args(*revs, name)})")
    if not rows:
        return ""
    old = (rows[0]["from_create_statement"] or "").splitlines()
    new = (rows[0]["to_create_statement"] or "").splitlines()
    lines = [line for line in difflib.ndiff(old, new) if line[:1] in "+-"]
    return "\n".join(lines)


def diff_text(client: Client, *revs: str, tables: tuple[str, ...] | list[str] = (), where: str | None = None,
              color: bool = False) -> str:
    """Dolt's default diff view of every changed table between ``revs``."""
    text = ""
    for entry in changed_tables(client, list(revs), list(tables)):
        name = entry["to_table_name"] or entry["from_table_name"]
        note = _NOTES.get(entry["diff_type"])
        if entry["diff_type"] == "renamed":
            note = f"renamed table {entry['from_table_name']} -> {name}"
        if entry["schema_change"] and entry["diff_type"] == "modified":
            note = _schema_note(client, list(revs), name)
        data = _row_diff(client, list(revs), name, where) if entry["data_change"] else pa.table({})
        text += table_diff_text(name, data, old_name=entry["from_table_name"] or None, note=note, color=color)
    return text


@click.command(epilog=example(
    "arbor diff                      # working changes not staged yet",
    "arbor diff main relabel labels  # one table between two branches",
    "arbor diff --summary v1 HEAD    # per-column counts and label transitions",
    "arbor diff HEAD --where \"to_label = 'cat'\" -r csv",
))
@click.argument("args", nargs=-1, metavar="[REVISION [REVISION]] [TABLE...]")
@click.option("--staged", "--cached", "staged", is_flag=True, help="Compare HEAD with the staged tables.")
@click.option("--stat", is_flag=True, help="Count rows and cells added, deleted, modified per table.")
@click.option("--summary", is_flag=True, help="Changed tables, cells changed per column, and value transitions.")
@click.option("--where", help="Keep only diff rows matching this SQL condition (on to_<col>, from_<col>, diff_type).")
@click.option("-r", "--result-format", "fmt", type=click.Choice(["table", "json", "csv", "sql"]), default="table",
              show_default=True, help="Output format.")
@pass_invocation
def diff(invocation: Invocation, args: tuple[str, ...], staged: bool, stat: bool, summary: bool,
         where: str | None, fmt: str) -> None:
    """Show the rows that differ between two versions (default: staged vs working tables)."""
    if fmt == "sql" and where:
        raise UsageError("--where filters rows of -r table, json or csv output, not -r sql")
    with invocation.client() as client:
        revs, tables = endpoints(client, args, staged)
        if stat:
            selected = [r for r in client.rows(f"SELECT * FROM dolt_diff_stat({_args(*revs)})")
                        if not tables or r["table_name"] in tables]
            out("".join(stat_text(r, color=color()) for r in selected))
        elif summary:
            changed = changed_tables(client, revs, tables)
            out(aligned(pa.Table.from_pylist(changed)) if changed else "")
            for entry in (e for e in changed if e["data_change"]):
                name = entry["to_table_name"] or entry["from_table_name"]
                out(summary_text(name, _row_diff(client, revs, name, where), color=color()))
        elif fmt == "table":
            out(diff_text(client, *revs, tables=tables, where=where, color=color()))
        elif fmt == "sql":
            for name in tables or [None]:
                patch = client.query(f"SELECT statement FROM dolt_patch({_args(*revs, *([name] if name else []))})")
                out("".join(s + ";\n" if not s.rstrip().endswith(";") else s + "\n"
                            for s in patch.column(0).to_pylist()))
        else:
            diffs = {}
            for entry in changed_tables(client, revs, tables):
                if entry["data_change"]:
                    name = entry["to_table_name"] or entry["from_table_name"]
                    diffs[name] = _row_diff(client, revs, name, where)
            if fmt == "json":
                out(json_tables(diffs))
            else:
                for data in diffs.values():
                    write_csv(data, sys.stdout)


COMMANDS = (diff,)
