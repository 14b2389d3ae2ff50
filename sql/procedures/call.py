"""``call_procedure``: a ``CALL dolt_<verb>(...)`` sent to its procedure, by name."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import pyarrow as pa

from ..errors import ObjectNotFound, ProgrammingError
from .verbs import PROCEDURES, ProcedureContext

__all__ = ["all_procedures", "call_procedure"]


def call_procedure(session: ProcedureContext, name: str, args: Sequence[object]) -> pa.Table:
    """Run procedure ``name`` with Dolt-style arguments; returns Dolt's result rows.

    Args:
        session: the ``Session`` to act on (its workspace, branch and transaction).
        name: the procedure name, any letter case (``dolt_commit``, ``DOLT_MERGE``).
        args: the arguments; each must be text (numbers are accepted as their text).

    Raises:
        ObjectNotFound: no such procedure, or a branch / revision / table it names.
        ProgrammingError: unknown flags or wrong arguments.
        OperationalError: the verb is refused in the repository's state (nothing to
            commit, a merge in progress, ...); nothing changed.
    """
    # the version verbs first: a first CALL of one does not load the other modules
    procedure = PROCEDURES.get(name.lower()) or all_procedures().get(name.lower())
    if procedure is None:
        known = ", ".join(sorted(all_procedures()))
        raise ObjectNotFound(f"procedure {name!r} not found (ArborDB has: {known})")
    texts = []
    for value in args:
        if value is None or isinstance(value, bytes | list | dict):
            raise ProgrammingError(f"{name}: arguments must be text, got {value!r}")
        texts.append(value if isinstance(value, str) else str(value))
    return procedure(session, texts)


def all_procedures() -> dict[str, Callable[..., pa.Table]]:
    """Every procedure by name: the version verbs (verbs.py), the remote ones (remotes.py)
    and those for uncommitted work (working.py: dolt_stash, dolt_clean), the last two
    imported here, when first needed."""
    from .remotes import PROCEDURES as remote_procedures
    from .working import PROCEDURES as working_procedures

    return {**PROCEDURES, **remote_procedures, **working_procedures}
