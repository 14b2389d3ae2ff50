"""The ``arbor`` commands, one module per family of verbs; :func:`register` adds them all.

Each command is a thin click function (STYLE G12): it parses flags, opens the
repository through ``Invocation.client()`` and runs SQL; output formatting lives
in ``cli/render.py``, ``cli/diffview.py`` and ``cli/logview.py``. Every command's
help ends with an ``Example:`` block (``docs/cli.md`` is checked against it).
"""

from __future__ import annotations

import click

from . import (
    blame,
    branch,
    commit,
    demo,
    diff,
    init,
    log,
    maintenance,
    merge,
    remote,
    sql,
    status,
    table,
)

MODULES = (init, status, commit, log, diff, branch, merge, blame, table, sql, maintenance, demo, remote)


def register(group: click.Group) -> None:
    """Add every command of every module (its ``COMMANDS`` tuple) to ``group``."""
    for module in MODULES:
        for command in module.COMMANDS:
            group.add_command(command)
