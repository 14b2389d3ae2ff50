"""``arbor blame``: the last commit that changed each row (``dolt_blame_<table>``)."""

from __future__ import annotations

import click
import pyarrow as pa
import pyarrow.compute as pc

from arbordb.sql.parse.dialect import quote_identifier

from ..client import Invocation
from ..render import aligned
from .common import color, example, out, pass_invocation


@click.command(epilog=example("arbor blame labels"))
@click.argument("table")
@pass_invocation
def blame(invocation: Invocation, table: str) -> None:
    """Show the commit that last changed each row.

    One line per row of TABLE at HEAD: its primary key, the commit, its date,
    committer and message. Tables without a primary key have no blame.
    """
    with invocation.client() as client:
        rows = client.query(f"SELECT * FROM {quote_identifier('dolt_blame_' + table)}")
    if "commit" in rows.column_names:  # short hashes and whole seconds read better here
        short = pc.utf8_slice_codeunits(rows.column("commit"), 0, 8)
        rows = rows.set_column(rows.column_names.index("commit"), "commit", short)
    if "commit_date" in rows.column_names:
        seconds = rows.column("commit_date").cast(pa.timestamp("s"), safe=False)
        rows = rows.set_column(rows.column_names.index("commit_date"), "commit_date", seconds)
    shown = [c for c in rows.column_names if c != "email"]
    out(aligned(rows.select(shown) if rows.num_columns else pa.table({}), color=color()))


COMMANDS = (blame,)
