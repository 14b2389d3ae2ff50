"""Misusing the DB-API surface raises an ``arbordb.Error`` that says what to pass, never a
``TypeError`` or an ``InternalError`` from below (issue 10 item 16)."""

from __future__ import annotations

import pytest

import arbordb

CONNECT = [
    lambda p: arbordb.connect(None),
    lambda p: arbordb.connect(123),
    lambda p: arbordb.connect(p, dialect=None),
    lambda p: arbordb.connect(p, dialect="oracle"),
    lambda p: arbordb.connect(p, branch=5),
    lambda p: arbordb.connect(p + "/missing", read_only=True),
]

CURSOR = [
    lambda cur: cur.execute("SELECT 1").fetchmany("x"),
    lambda cur: cur.execute("SELECT 1").fetchmany(-1),
    lambda cur: cur.execute(1),
    lambda cur: cur.execute("SELECT ?", 5),
    lambda cur: cur.execute("SELECT ?", [object()]),
    lambda cur: cur.executemany("SELECT ?", 5),
    lambda cur: cur.executemany("SELECT ?", [5]),
    lambda cur: cur.callproc("dolt_nope", [1]),
    lambda cur: cur.callproc(5),
    lambda cur: cur.callproc("dolt_log", 5),
    lambda cur: cur.execute("SELECT $a", {"b": 1}),
]


@pytest.mark.parametrize("call", CONNECT)
def test_connect_misuse(tmp_path, call):
    with pytest.raises(arbordb.Error) as caught:
        call(str(tmp_path / "repo")).close()
    assert not isinstance(caught.value, arbordb.InternalError), caught.value


@pytest.mark.parametrize("call", CURSOR)
def test_cursor_misuse(cur, call):
    with pytest.raises(arbordb.Error) as caught:
        call(cur)
    assert not isinstance(caught.value, arbordb.InternalError), caught.value
    assert cur.execute("SELECT 1").fetchall() == [(1,)]  # the connection stays usable
