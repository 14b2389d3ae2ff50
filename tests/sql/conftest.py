"""Fixtures for the SQL layer: a fresh repository and a connection to it."""

from __future__ import annotations

import pytest

import arbordb


@pytest.fixture
def path(tmp_path):
    return str(tmp_path / "repo")


@pytest.fixture
def con(path):
    connection = arbordb.connect(path)
    yield connection
    connection.close()


@pytest.fixture
def cur(con):
    return con.cursor()


def state(con) -> tuple:
    """Everything a statement could change: the session's roots and every stored ref."""
    ws = con.session.workspace
    refs = tuple(sorted(con.session.db.store.list_refs().items()))
    return ws.branch, ws.working.address, ws.staged.address, ws.merge, refs


def rows(cur, sql, params=None) -> list[tuple]:
    return cur.execute(sql, params).fetchall()
