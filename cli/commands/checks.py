"""``arbor test``: run the data checks of ``dolt_tests`` (for CI pipelines)."""

from __future__ import annotations

import click

from ..client import invocation_of
from ..render import aligned, sql_literal
from .common import color, example, out


@click.command(
    epilog=example(
        "arbor test                 # every test",
        "arbor test labels          # the tests of group 'labels' (or the test so named)",
    )
)
@click.argument("selectors", nargs=-1, metavar="[GROUP | TEST]...")
@click.pass_context
def test(ctx: click.Context, selectors: tuple[str, ...]) -> None:
    """Run the data tests in dolt_tests.

    Runs the tests of each GROUP (or the TEST so named; default: every test) at the
    working set, as dolt_test_run does, and prints one row per test. The exit
    status is 1 when a test fails.
    """
    args = ", ".join(sql_literal(s) for s in selectors)
    with invocation_of(ctx).client() as client:
        results = client.query(
            f"SELECT test_name, test_group_name, status, message FROM dolt_test_run({args})"
        )
    out(aligned(results, color=color()))
    failed = results.column("status").to_pylist().count("FAIL")
    out(f"{results.num_rows - failed} passed, {failed} failed\n")
    if failed:
        ctx.exit(1)


COMMANDS = (test,)
