"""Every docstring example in the package runs (G13)."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import arbordb


def modules() -> list[str]:
    names = ["arbordb"]
    for info in pkgutil.walk_packages(arbordb.__path__, "arbordb."):
        if info.name.split(".")[1] in ("engine", "sql", "cli"):  # the installed packages
            names.append(info.name)
    return names


@pytest.mark.parametrize("name", modules())
def test_doctests(name, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # examples that create repositories do it here
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0
