"""Syntax errors point at the text the user wrote (line, column, the offending word), never
at sqlglot's names or ArborDB's rewritten SQL: DB-API, ``arbor sql -q``/``-f`` and the REPL."""

from __future__ import annotations

import re

import pytest
from prompt_toolkit.input import create_pipe_input

import arbordb
from arbordb.sql.errors import SqlParseError
from tests.cli.helpers import arbor, refused
from tests.cli.test_repl import shell

INTERNAL = re.compile(r"__arbor|<class|sqlglot|Token|exp\.|Invalid expression")


def _parse_error(repo, sql: str) -> SqlParseError:
    with arbordb.connect(str(repo)) as con:
        with pytest.raises(SqlParseError) as err:
            con.cursor().execute(sql)
    assert not INTERNAL.search(str(err.value)), str(err.value)
    return err.value


def test_dbapi_error_gives_line_column_and_word(labels):
    err = _parse_error(labels, "SELECT id\nFROM labels\nWHERE id = = 3")
    assert (err.line, err.column, err.near) == (3, 12, "=")
    err = _parse_error(labels, "SELECT ? AS a,\n  ? b c FROM labels")
    assert (err.line, err.near) == (2, "c") and "__arbor_p" not in str(err)


@pytest.mark.parametrize(
    ("typo", "meant"), [("selct", "SELECT"), ("inser", "INSERT"), ("updte", "UPDATE")]
)
def test_a_misspelt_first_word_is_named_where_it_was_written(labels, typo, meant):
    err = _parse_error(labels, f"SELECT 1;\n  {typo} * from labels")
    assert (err.line, err.column, err.near) == (2, 3, typo)
    assert f"did you mean {meant}?" in str(err)


def test_cli_query_and_script_count_lines_in_the_users_text(labels, tmp_path):
    err = refused(arbor(labels, "sql", "-q", "selct * from labels"), "line 1, column 1")
    assert "'selct'" in err and "SELECT" in err and not INTERNAL.search(err)
    script = tmp_path / "fix.sql"
    script.write_text("SELECT 1;\n\nSELECT *\n  FROM labels wher id = 1;\nSELECT 2;\n")
    err = refused(arbor(labels, "sql", "-f", str(script)))
    assert "statement 2 (" in err and "fix.sql, line 3)" in err
    assert "at line 4, column 20 near 'id'" in err and not INTERNAL.search(err)
    err = refused(arbor(labels, "sql", input=script.read_text()))
    assert "statement 2 (stdin, line 3)" in err and "at line 4, column 20" in err


def test_repl_error_points_at_the_typed_text(labels, capsys):
    with create_pipe_input() as pipe:
        sh = shell(labels, pipe)
        sh.handle("SELECT id\nFROM labels WHERE id = = 1;")
        sh._worker.shutdown()
        sh.client.close()
    out = capsys.readouterr().out
    assert "line 2, column 24 near '='" in out and not INTERNAL.search(out)
