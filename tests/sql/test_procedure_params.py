"""A procedure's ``?`` arguments reach it as the values DuckDB would have evaluated them
to, without a DuckDB round trip for plain values."""

from __future__ import annotations

import pytest

import arbordb


def outcome(con, sql, params):
    cur = con.cursor()
    try:
        cur.execute(sql, params)
        rows = cur.fetchall()
    except arbordb.Error as exc:
        return type(exc).__name__, str(exc)
    return rows, sorted(r[0] for r in cur.execute("SELECT name FROM dolt_branches").fetchall())


@pytest.mark.parametrize("value", ["feat", 7, 2**70, 1.5, True, None, -0.0, "it's"])
def test_a_parameter_is_the_value_duckdb_gives(tmp_path, value):
    by_param, by_literal = arbordb.connect(tmp_path / "p"), arbordb.connect(tmp_path / "l")
    (evaluated,) = by_literal.cursor().execute("SELECT ?", [value]).fetchone()
    literal = "NULL" if evaluated is None else "'" + str(evaluated).replace("'", "''") + "'"
    assert outcome(by_param, "CALL dolt_branch(?)", [value]) == outcome(
        by_literal, f"CALL dolt_branch({literal})", []
    )
    by_param.close()
    by_literal.close()


def test_plain_parameters_skip_duckdb(tmp_path, monkeypatch):
    con = arbordb.connect(tmp_path / "r")
    monkeypatch.setattr(con.session, "evaluate", None)  # would fail if called
    assert outcome(con, "CALL dolt_branch(?)", ["b1"]) == ([(0,)], ["b1", "main"])
    con.close()
