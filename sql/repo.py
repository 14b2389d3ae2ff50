"""``arbordb.Repo``: the engine's ``Repo`` (engine/repo.py) with PEP 249's errors.

Every public method and property of the engine's class is wrapped so that whatever it
raises reaches the caller as an ``arbordb.Error`` (``sql/errors.py``'s ``translate``:
engine errors by their class, Arrow's by theirs, an unreadable directory as an
``OperationalError``), with the original kept as ``__cause__``. ``except arbordb.Error``
then catches every failure of both public surfaces, ``connect`` and ``Repo``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from arbordb.engine.repo import Repo as _EngineRepo

from .errors import ProgrammingError, SqlError, translate

__all__ = ["Repo"]


def _translating(name: str, method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return method(*args, **kwargs)
        except SqlError:
            raise
        except (TypeError, AttributeError) as exc:  # arguments of the wrong kind
            error = ProgrammingError(
                f"Repo.{name}(): an argument has the wrong type ({exc}); see help(Repo.{name})"
            )
            error.engine_error = exc
            raise error from exc
        except Exception as exc:
            raise translate(exc) from exc

    return wrapper


class Repo(_EngineRepo):
    __doc__ = _EngineRepo.__doc__


for _name, _member in list(vars(_EngineRepo).items()):
    if _name.startswith("_") and _name not in ("__init__", "__enter__", "__exit__"):
        continue
    if isinstance(_member, property):
        setattr(Repo, _name, property(_translating(_name, _member.fget)))
    elif callable(_member):
        setattr(Repo, _name, _translating(_name, _member))
