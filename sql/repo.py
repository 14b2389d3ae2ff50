"""``arbordb.Repo``, ``arbordb.clone`` and ``arbordb.Config``: the engine's (engine/repo.py,
engine/config.py) with PEP 249's errors.

Every public method and property of the engine's class is wrapped so that whatever it
raises reaches the caller as an ``arbordb.Error`` (``sql/errors.py``'s ``translate``:
engine errors by their class, Arrow's by theirs, an unreadable directory as an
``OperationalError``), with the original kept as ``__cause__``. ``except arbordb.Error``
then catches every failure of both public surfaces, ``connect`` and ``Repo``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any

from arbordb.engine.config import Config as _EngineConfig
from arbordb.engine.repo import Repo as _EngineRepo
from arbordb.engine.repo import clone as _engine_clone

from .errors import ProgrammingError, SqlError, translate

__all__ = ["Config", "Repo", "clone"]


def _translating(owner: str, name: str, method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return method(*args, **kwargs)
        except SqlError:
            raise
        except (TypeError, AttributeError) as exc:  # arguments of the wrong kind
            error = ProgrammingError(
                f"{owner}.{name}(): an argument has the wrong type ({exc}); "
                f"see help({owner}.{name})"
            )
            error.engine_error = exc
            raise error from exc
        except Exception as exc:
            raise translate(exc) from exc

    return wrapper


class Config(_EngineConfig):
    __doc__ = _EngineConfig.__doc__


class Repo(_EngineRepo):
    __doc__ = _EngineRepo.__doc__

    @property
    def config(self) -> Config:
        """The settings this repository sees, as an ``arbordb.Config`` (so what they
        raise is an ``arbordb.Error`` too)."""
        settings = super().config
        return Config(settings.store, settings.global_path)


def _translate_members(wrapped: type, engine: type) -> None:
    """Give ``wrapped`` every public method and property of ``engine``, translating."""
    for name, member in list(vars(engine).items()):
        if name.startswith("_") and name not in ("__init__", "__enter__", "__exit__"):
            continue
        if name in vars(wrapped):  # wrapped itself (Repo.config answers a translating Config)
            continue
        if isinstance(member, property):
            getter = member.fget
            assert getter is not None  # the engine's properties are all read-only getters
            setattr(wrapped, name, property(_translating(wrapped.__name__, name, getter)))
        elif callable(member):
            setattr(wrapped, name, _translating(wrapped.__name__, name, member))


_translate_members(Repo, _EngineRepo)
_translate_members(Config, _EngineConfig)


def clone(url: str, path: str | Path, branch: str | None = None, *, remote: str = "origin") -> Repo:
    """Clone the repository at ``url`` into directory ``path`` (new, or empty) and open it
    on ``branch`` (default: the remote's default branch); see ``engine/repo.py``'s ``clone``."""
    try:
        cloned = _engine_clone(url, path, branch, remote=remote)
        checked_out = cloned.active_branch
        cloned.close()
    except SqlError:
        raise
    except Exception as exc:
        raise translate(exc) from exc
    return Repo(path, branch=checked_out, create=False)
