"""The one error-to-message mapping of the CLI (``cli/main.py``'s docstring has the table):
used by ``main``, the REPL and ``arbor sql``."""

from __future__ import annotations

import click

from arbordb.engine.errors import EngineError
from arbordb.sql.errors import SqlError

from .errors import CliError
from .render import OutputError

__all__ = ["explain"]


def explain(error: BaseException) -> tuple[str, int] | None:
    """The one-line message and exit code for a failure, or None for a bug."""
    if isinstance(error, click.ClickException):
        return error.format_message(), error.exit_code
    if isinstance(error, CliError):
        return str(error), error.exit_code
    if isinstance(error, SqlError | EngineError | OutputError):
        return str(error), 1
    if isinstance(error, OSError) and error.strerror:
        target = f": {error.filename}" if error.filename else ""
        return f"{error.strerror}{target}", 1
    return None
