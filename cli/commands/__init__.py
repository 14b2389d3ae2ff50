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
    checks,
    commit,
    config,
    demo,
    diff,
    info,
    init,
    log,
    maintenance,
    merge,
    reflog,
    remote,
    schema,
    sql,
    stash,
    status,
    table,
)

MODULES = (
    init, config, info, schema, status, commit, log, diff, branch, merge, checks, blame, table,
    sql, maintenance, remote, demo, stash, reflog,
)  # fmt: skip


def register(group: click.Group) -> None:
    """Add every command of every module (its ``COMMANDS`` tuple) to ``group``."""
    for module in MODULES:
        for command in module.COMMANDS:
            group.add_command(command)
