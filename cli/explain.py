"""The one error-to-message mapping of the CLI (``cli/main.py``'s docstring has the table):
used by ``main``, the REPL and ``arbor sql``."""

from __future__ import annotations

import sys

import click

from arbordb.engine.errors import EngineError

from .errors import CliError

__all__ = ["explain"]


def explain(error: BaseException) -> tuple[str, int] | None:
    """The one-line message and exit code for a failure, or None for a bug."""
    if isinstance(error, click.ClickException):
        return error.format_message(), error.exit_code
    if isinstance(error, CliError):
        return str(error), error.exit_code
    if isinstance(error, EngineError) or _is_error_of(error, "arbordb.sql.errors", "SqlError"):
        return str(error), 1
    if _is_error_of(error, "arbordb.cli.render", "OutputError"):
        return str(error), 1
    if isinstance(error, OSError) and error.strerror:
        target = f": {error.filename}" if error.filename else ""
        return f"{error.strerror}{target}", 1
    return None


def _is_error_of(error: BaseException, module: str, name: str) -> bool:
    """Whether ``error`` is a ``module.name``; a module not loaded yet raised none (so a
    command that went straight to the engine does not load the SQL layer to say so)."""
    loaded = sys.modules.get(module)
    return loaded is not None and isinstance(error, getattr(loaded, name))
