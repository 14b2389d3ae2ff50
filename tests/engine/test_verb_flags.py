"""CLI flag strings are the SQL procedures' business (issue 11): the engine's verbs take
``all_tables=True``, and a table list holding ``.`` or ``-A`` names tables of those
names; ``dolt_add`` and ``dolt_conflicts_resolve`` translate the flags."""

from __future__ import annotations

import pyarrow as pa
import pytest

import arbordb
from arbordb.engine.db import Database
from arbordb.engine.errors import TableNotFound
from arbordb.engine.table import Column, Schema, Table


def _workspace_with_a_new_table():
    db = Database.memory()
    ws = db.workspace()
    schema = Schema((Column("id", None, pa.int64()),), ("id",))
    ws.create_table("t", Table.create(ws.nodes, schema))
    return ws


@pytest.mark.parametrize("flag", [".", "-A"])
def test_the_engine_reads_flag_strings_as_table_names(flag):
    ws = _workspace_with_a_new_table()
    with pytest.raises(TableNotFound):
        ws.add([flag])
    assert ws.staged.find("t") is None


def test_all_tables_stages_everything():
    ws = _workspace_with_a_new_table()
    ws.add(all_tables=True)
    assert ws.staged.address == ws.working.address


@pytest.mark.parametrize("args", ["'.'", "'-A'", "'--all'"])
def test_dolt_add_translates_the_flags(tmp_path, args):
    con = arbordb.connect(str(tmp_path / "repo"))
    cur = con.cursor()
    cur.execute("CREATE TABLE t (id BIGINT PRIMARY KEY)")
    cur.execute(f"CALL dolt_add({args})")
    assert cur.execute("SELECT table_name, staged FROM dolt_status").fetchall() == [("t", True)]
    con.close()
