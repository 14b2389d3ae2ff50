"""The versioned SQL dialects: AS OF on table references, CALL, errors, transpiling.

Round trips follow sqlglot's ``validate_identity``: parse, regenerate with the same
dialect, compare the text, and parse the output again to compare the trees.
"""

from __future__ import annotations

import sqlite3

import duckdb
import pytest
import sqlglot
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlglot import exp
from sqlglot.optimizer.annotate_types import annotate_types
from sqlglot.optimizer.qualify import qualify

from arbordb.sql.parse.dialect import (
    SUPPORTED_DIALECTS,
    ProcedureCall,
    SqlParseError,
    UnrewrittenAsOf,
    UnsupportedDialect,
    Versioned,
    parse,
    procedure_call,
    table_versions,
    to_duckdb,
    versioned_dialect,
)

DIALECTS = pytest.mark.parametrize("dialect", SUPPORTED_DIALECTS)


def validate_identity(sql: str, dialect: str, write_sql: str | None = None) -> exp.Expr:
    """Parse one statement, check its regenerated text, and that the text parses back
    to an equal tree (invariant (3))."""
    (tree,) = parse(sql, dialect)
    text = tree.sql(versioned_dialect(dialect))
    assert text == (write_sql or sql)
    assert parse(text, dialect) == [tree]
    return tree


def versions(tree: exp.Expr) -> list[tuple[str, str | None, str | None]]:
    """(table name, alias, AS OF SQL) for each table reference."""
    return [(t.name, t.alias or None, v and v.sql()) for t, v in table_versions(tree)]


# --- AS OF ---------------------------------------------------------------------

# (input, output) for every dialect; None means the output is the input.
AS_OF_IDENTITIES = [
    ("SELECT * FROM t AS OF 'main'", None),
    ("SELECT * FROM t AS OF 'v1'", None),
    ("SELECT * FROM t AS OF 'HEAD~3'", None),
    ("SELECT * FROM t AS OF 'main^'", None),
    ("SELECT * FROM t AS OF 'h3k9'", None),
    ("SELECT * FROM t AS OF TIMESTAMP '2026-01-01 10:00:00'", None),
    ("SELECT * FROM t AS OF ?", None),
    ("SELECT * FROM t AS OF CONCAT('ma', 'in')", None),
    ("SELECT * FROM db.t AS OF 'main' WHERE t.a > 1", None),
    ("SELECT * FROM t AS OF 'v1' AS old", None),
    ("SELECT * FROM t AS OF 'v1' old", "SELECT * FROM t AS OF 'v1' AS old"),
    ("select a from t as of 'main'", "SELECT a FROM t AS OF 'main'"),
    ("SELECT * FROM t VERSION AS OF 'x'", "SELECT * FROM t AS OF 'x'"),
    ("SELECT * FROM t FOR VERSION AS OF 'x'", "SELECT * FROM t AS OF 'x'"),
    ("SELECT * FROM t FOR SYSTEM_TIME AS OF 'x'", "SELECT * FROM t AS OF TIMESTAMP 'x'"),
    ("SELECT * FROM t TIMESTAMP AS OF 'x'", "SELECT * FROM t AS OF TIMESTAMP 'x'"),
    (
        "SELECT * FROM t AS OF 'main' a JOIN t AS OF 'feature' b ON a.id = b.id",
        "SELECT * FROM t AS OF 'main' AS a JOIN t AS OF 'feature' AS b ON a.id = b.id",
    ),
    ("SELECT * FROM (SELECT * FROM t AS OF 'v1') AS s", None),
    ("SELECT * FROM t WHERE a IN (SELECT a FROM u AS OF 'v1')", None),
    ("WITH c AS (SELECT * FROM t AS OF 'v1') SELECT * FROM c", None),
    ("INSERT INTO t SELECT * FROM t AS OF 'main^'", None),
    ("DELETE FROM t WHERE id IN (SELECT id FROM t AS OF 'v1')", None),
    ("SELECT * FROM dolt_diff_labels AS OF 'main'", None),
]


@DIALECTS
@pytest.mark.parametrize(("sql", "write_sql"), AS_OF_IDENTITIES)
def test_as_of_round_trips(dialect: str, sql: str, write_sql: str | None) -> None:
    tree = validate_identity(sql, dialect, write_sql)
    assert any(v is not None for _, v in table_versions(tree))


@DIALECTS
def test_every_spelling_builds_the_same_version_node(dialect: str) -> None:
    # invariant (1): one exp.Version shape per meaning, whatever the spelling
    def version(sql: str) -> exp.Version:
        (tree,) = parse(sql, dialect)
        return tree.find(exp.Table).args["version"]

    revision = exp.Version(this="VERSION", kind="AS OF", expression=exp.Literal.string("x"))
    for clause in ("AS OF 'x'", "VERSION AS OF 'x'", "FOR VERSION AS OF 'x'"):
        assert version(f"SELECT * FROM t {clause}") == revision
    time = exp.Version(this="TIMESTAMP", kind="AS OF", expression=exp.Literal.string("x"))
    for clause in ("AS OF TIMESTAMP 'x'", "FOR SYSTEM_TIME AS OF 'x'", "TIMESTAMP AS OF 'x'"):
        assert version(f"SELECT * FROM t {clause}") == time


@DIALECTS
def test_as_of_then_alias_reads_the_version_first(dialect: str) -> None:
    # invariant (2)
    for sql in ("SELECT * FROM t AS OF 'v1' AS old", "SELECT * FROM t AS OF 'v1' old"):
        (tree,) = parse(sql, dialect)
        assert versions(tree) == [("t", "old", "'v1'")]


@DIALECTS
def test_as_of_with_parentheses_is_a_revision_not_an_alias_column_list(dialect: str) -> None:
    # invariant (2)
    (tree,) = parse("SELECT * FROM t AS OF ('main') AS x", dialect)
    assert versions(tree) == [("t", "x", "('main')")]
    (tree,) = parse("SELECT * FROM t AS OF (SELECT 'main') x", dialect)
    assert isinstance(table_versions(tree)[0][1], exp.Subquery)


@DIALECTS
@pytest.mark.parametrize(
    "sql",
    [
        "SELECT of.a FROM t of WHERE of.a = 1",
        'SELECT "of".a FROM t AS "of" WHERE "of".a = 1',
        "SELECT * FROM t of JOIN u ON of.id = u.id",
    ],
)
def test_alias_named_of_without_as_or_quoted(dialect: str, sql: str) -> None:
    if dialect == "mysql":
        sql = sql.replace('"', "`")
    (tree,) = parse(sql, dialect)
    assert versions(tree)[0] == ("t", "of", None)


@DIALECTS
def test_as_of_without_a_revision_hints_at_quoting(dialect: str) -> None:
    with pytest.raises(SqlParseError, match='quote it: AS "of"'):
        parse("SELECT * FROM t AS of WHERE of.a = 1", dialect)


@DIALECTS
def test_join_of_two_revisions(dialect: str) -> None:
    (tree,) = parse(
        "SELECT a.id, b.v FROM t AS OF 'main' a JOIN t AS OF 'feature' AS b ON a.id = b.id "
        "LEFT JOIN u ON u.id = a.id",
        dialect,
    )
    assert versions(tree) == [("t", "a", "'main'"), ("t", "b", "'feature'"), ("u", None, None)]


@DIALECTS
def test_as_of_expression_kinds(dialect: str) -> None:
    def revision(clause: str) -> exp.Expr:
        (tree,) = parse(f"SELECT * FROM t AS OF {clause}", dialect)
        ((_, expression),) = table_versions(tree)
        return expression

    assert revision("'HEAD~3'") == exp.Literal.string("HEAD~3")
    assert isinstance(revision("?"), exp.Placeholder)
    assert isinstance(revision("CONCAT('ma', 'in')"), exp.Concat)
    assert isinstance(revision("CURRENT_TIMESTAMP - INTERVAL '1' DAY"), exp.Sub)
    assert isinstance(revision("('main' || '^')"), exp.Paren)
    assert isinstance(revision("CAST('2026-01-01' AS DATE)"), exp.Cast)


def test_named_placeholder_as_of() -> None:
    (tree,) = parse("SELECT * FROM t AS OF $rev")
    assert table_versions(tree)[0][1] == exp.Placeholder(this="rev")
    (tree,) = parse("SELECT * FROM t AS OF :rev", "sqlite")
    assert table_versions(tree)[0][1] == exp.Placeholder(this="rev")


@DIALECTS
def test_as_of_in_update_source(dialect: str) -> None:
    if dialect == "mysql":  # MySQL writes UPDATE ... JOIN, and reads it
        sql = "UPDATE t JOIN s AS OF 'v1' ON t.id = s.id SET t.a = s.a"
    else:
        sql = "UPDATE t SET a = s.a FROM s AS OF 'v1' WHERE t.id = s.id"
    tree = validate_identity(sql, dialect)
    assert versions(tree) == [("t", None, None), ("s", None, "'v1'")]


@DIALECTS
@pytest.mark.parametrize(
    "sql",
    [
        "SELECT * FROM t FOR SYSTEM_TIME BETWEEN '2026-01-01' AND '2026-02-01'",
        "SELECT * FROM t FOR SYSTEM_TIME FROM 1 TO 2",
        "SELECT * FROM t FOR SYSTEM_TIME ALL",
    ],
)
def test_other_version_kinds_are_rejected(dialect: str, sql: str) -> None:
    # invariant (4)
    with pytest.raises(SqlParseError, match="AS OF '<revision>'") as caught:
        parse(sql, dialect)
    assert (caught.value.line, caught.value.column) == (1, 15)


def test_as_of_without_a_revision_is_rejected() -> None:
    with pytest.raises(SqlParseError, match="AS OF needs a revision") as caught:
        parse("SELECT 1;\nSELECT * FROM\n  labels AS OF QUALIFY x > 1")
    assert (caught.value.line, caught.value.column) == (3, 3)


@settings(max_examples=60, deadline=None)
@given(
    revision=st.text(
        st.characters(codec="ascii", categories=("L", "N", "P", "S", "Zs")), max_size=12
    ),
    dialect=st.sampled_from(SUPPORTED_DIALECTS),
)
def test_any_revision_string_survives_a_round_trip(revision: str, dialect: str) -> None:
    tree = exp.select("*").from_("t")
    tree.find(exp.Table).set(
        "version",
        exp.Version(this="VERSION", kind="AS OF", expression=exp.Literal.string(revision)),
    )
    (back,) = parse(tree.sql(versioned_dialect(dialect)), dialect)
    assert table_versions(back)[0][1] == exp.Literal.string(revision)


# --- CALL ----------------------------------------------------------------------


@DIALECTS
@pytest.mark.parametrize(
    ("sql", "name", "arguments"),
    [
        ("CALL dolt_commit('-am', 'msg')", "dolt_commit", [exp.Literal.string("-am"), "'msg'"]),
        ("CALL DOLT_MERGE('feature', '--no-ff')", "dolt_merge", ["'feature'", "'--no-ff'"]),
        ("CALL dolt_branch('-c', ?, ?)", "dolt_branch", ["'-c'", "?", "?"]),
        ("CALL dolt_reset('--hard', 'HEAD~' + 2)", "dolt_reset", ["'--hard'", "'HEAD~' + 2"]),
        ("CALL dolt_gc()", "dolt_gc", []),
        ("CALL dolt_tag(LOWER('V2'), 42, NULL)", "dolt_tag", [None, "42", "NULL"]),
        ("CALL db.proc(1)", "db.proc", ["1"]),
    ],
)
def test_call_parses_name_and_arguments(
    dialect: str, sql: str, name: str, arguments: list[object]
) -> None:
    (tree,) = parse(sql, dialect)
    assert isinstance(tree, ProcedureCall)
    assert not isinstance(tree, exp.Command)
    got_name, got_arguments = procedure_call(tree)
    assert got_name == name
    assert len(got_arguments) == len(arguments)
    for got, want in zip(got_arguments, arguments, strict=True):
        if isinstance(want, exp.Expr):
            assert got == want
        elif want is not None:
            assert got.sql(versioned_dialect(dialect)) == want
    assert parse(tree.sql(versioned_dialect(dialect)), dialect) == [tree]


def test_call_argument_kinds() -> None:
    (tree,) = parse("CALL dolt_commit('-m', ?, $msg, 1 + 2, CURRENT_TIMESTAMP, -3)")
    _, args = procedure_call(tree)
    assert [type(a) for a in args] == [
        exp.Literal,
        exp.Placeholder,
        exp.Placeholder,
        exp.Add,
        exp.CurrentTimestamp,
        exp.Neg,
    ]
    assert args[2].name == "msg"
    (tree,) = parse("CALL dolt_commit('-m', $1, $msg)", "postgres")
    assert [type(a) for a in procedure_call(tree)[1]] == [exp.Literal, exp.Parameter, exp.Parameter]
    (tree,) = parse("CALL dolt_commit('-m', :msg, @v)", "sqlite")
    assert [type(a) for a in procedure_call(tree)[1]] == [
        exp.Literal,
        exp.Placeholder,
        exp.Parameter,
    ]


@DIALECTS
def test_call_round_trips(dialect: str) -> None:
    validate_identity("CALL dolt_commit('-am', 'msg')", dialect)
    validate_identity("CALL DOLT_MERGE('feature', '--no-ff')", dialect)
    validate_identity("CALL dolt_checkout('-b', ?)", dialect)
    validate_identity("call dolt_gc", dialect, "CALL dolt_gc()")


def test_call_prints_without_naming_a_dialect() -> None:
    (tree,) = parse("CALL dolt_add('.')")
    assert str(tree) == "CALL dolt_add('.')"
    assert tree.sql("duckdb") == "CALL dolt_add('.')"


def test_procedure_name_case() -> None:
    assert procedure_call(parse('CALL "Odd"(1)')[0])[0] == "Odd"
    assert procedure_call(parse("CALL Dolt_Commit()")[0])[0] == "dolt_commit"


@DIALECTS
def test_select_dolt_function_stays_a_function(dialect: str) -> None:
    (tree,) = parse("SELECT dolt_commit('-m', 'x')", dialect)
    assert procedure_call(tree) is None
    function = tree.expressions[0]
    assert isinstance(function, exp.Anonymous)
    assert function.name.lower() == "dolt_commit"
    assert [a.name for a in function.expressions] == ["-m", "x"]


@DIALECTS
def test_call_stays_an_identifier_elsewhere(dialect: str) -> None:
    (tree,) = parse("SELECT t.call FROM t WHERE t.call > 1", dialect)
    assert [c.name for c in tree.find_all(exp.Column)] == ["call", "call"]


def test_execute_is_still_an_opaque_command() -> None:
    (tree,) = parse("EXECUTE plan(1, 'a')", "postgres")
    assert isinstance(tree, exp.Command)
    assert tree.sql("postgres") == "EXECUTE plan(1, 'a')"


# --- table functions and system tables ---------------------------------------


@DIALECTS
def test_table_functions_and_system_tables_parse(dialect: str) -> None:
    (tree,) = parse(
        "SELECT * FROM dolt_diff('main', 'WORKING', 'labels') AS d "
        "JOIN dolt_diff_labels ON TRUE JOIN dolt_log() AS l ON TRUE",
        dialect,
    )
    (diff, system, log) = (t for t, _ in table_versions(tree))
    assert isinstance(diff.this, exp.Anonymous)
    assert diff.this.name.lower() == "dolt_diff"
    assert [a.name for a in diff.this.expressions] == ["main", "WORKING", "labels"]
    assert diff.alias == "d"
    assert system.name == "dolt_diff_labels"
    assert isinstance(log.this, exp.Anonymous)
    assert parse(tree.sql(versioned_dialect(dialect)), dialect) == [tree]


# --- statements, dialect classes, errors ---------------------------------------


def test_multiple_statements() -> None:
    trees = parse(
        "SELECT 1;\nCALL dolt_commit('-am', 'msg');\n\n"
        "SELECT * FROM t AS OF 'main'; ; INSERT INTO t VALUES (1);"
    )
    assert [type(t) for t in trees] == [exp.Select, ProcedureCall, exp.Select, exp.Insert]
    assert parse("") == []
    assert parse(" ; ") == []


def test_dialect_classes_are_built_once_and_registered() -> None:
    assert versioned_dialect("duckdb") is Versioned
    assert versioned_dialect("DuckDB") is Versioned
    assert Versioned.__name__ == "VersionedDuckDB"
    for name in SUPPORTED_DIALECTS:
        cls = versioned_dialect(name)
        assert issubclass(cls, type(sqlglot.Dialect.get_or_raise(name)))
        # registered with sqlglot by name, so read="versionedsqlite" works too
        tree = sqlglot.parse_one("SELECT * FROM t AS OF 'x'", read=cls.__name__.lower())
        assert table_versions(tree)[0][1] == exp.Literal.string("x")
    # The base dialects are untouched: plain DuckDB still cannot read AS OF.
    with pytest.raises(sqlglot.ParseError):
        sqlglot.parse_one("SELECT * FROM t AS OF 'x'", read="duckdb")


def test_unsupported_dialect() -> None:
    with pytest.raises(UnsupportedDialect, match="use one of duckdb, mysql, postgres, sqlite"):
        parse("SELECT 1", "bigquery")
    with pytest.raises(ValueError):
        versioned_dialect("oracle")


def test_parse_error_has_line_column_and_quotes_the_text() -> None:
    with pytest.raises(SqlParseError) as caught:
        parse("SELECT 1;\nSELECT * FROM t WHERE (a = 1 AND b = ")
    error = caught.value
    assert (error.line, error.column) == (2, 36)
    assert error.near == "="
    assert error.dialect == "duckdb"
    message = str(error)
    assert "line 2, column 36 near '='" in message
    assert "SELECT * FROM t WHERE (a = 1 AND b =" in message
    assert isinstance(error, ValueError)


def test_parse_error_column_is_where_the_token_starts() -> None:
    with pytest.raises(SqlParseError) as caught:
        parse("SELECT * FROM t AS OF 'v1' WHERE WHERE")
    assert (caught.value.line, caught.value.column, caught.value.near) == (1, 34, "WHERE")


def test_parse_error_at_the_end_names_it() -> None:
    with pytest.raises(SqlParseError, match="the end of the statement") as caught:
        parse("SELECT * FROM")
    assert caught.value.line == 1


def test_unterminated_string_is_a_parse_error_with_position() -> None:
    with pytest.raises(SqlParseError, match="Missing '") as caught:
        parse("SELECT 1;\n  SELECT * FROM t AS OF 'main")
    assert (caught.value.line, caught.value.column) == (2, 25)
    assert caught.value.near == "'main"


def test_call_without_a_name() -> None:
    with pytest.raises(SqlParseError, match="procedure name after CALL") as caught:
        parse("CALL ('x')")
    assert (caught.value.line, caught.value.column) == (1, 6)


# --- DuckDB output -------------------------------------------------------------


def test_to_duckdb_refuses_an_unrewritten_as_of() -> None:
    # invariant (5)
    (tree,) = parse("SELECT * FROM main.labels AS OF 'v1' AS l")
    with pytest.raises(UnrewrittenAsOf, match="'main.labels' still carries \"AS OF 'v1'\""):
        to_duckdb(tree)


def test_to_duckdb_after_rewriting_as_of() -> None:
    (tree,) = parse(
        "SELECT a.id FROM t AS OF 'main' a JOIN t AS OF 'feature' b ON a.id = b.id", "mysql"
    )
    for number, (table, _) in enumerate(table_versions(tree)):
        table.set("version", None)
        table.set("this", exp.to_identifier(f"rel_{number}"))
    sql = to_duckdb(tree)
    assert sql == "SELECT a.id FROM rel_0 AS a JOIN rel_1 AS b ON a.id = b.id"
    con = duckdb.connect()
    con.execute("CREATE TABLE rel_0 AS SELECT 1 AS id; CREATE TABLE rel_1 AS SELECT 1 AS id")
    assert con.execute(sql).fetchall() == [(1,)]


def test_to_duckdb_writes_call_and_transpiles() -> None:
    assert to_duckdb(parse("CALL pragma_table_info('t')")[0]) == "CALL pragma_table_info('t')"
    assert to_duckdb(parse("SELECT `a` FROM t LIMIT 1, 2", "mysql")[0]) == (
        'SELECT "a" FROM t LIMIT 2 OFFSET 1'
    )
    assert "\n" in to_duckdb(parse("SELECT a, b FROM t WHERE a > 1")[0], pretty=True)


SLT_SCRIPT = """
CREATE TABLE t1(a INTEGER, b INTEGER, c INTEGER, d INTEGER, e INTEGER);
INSERT INTO t1(e,c,b,d,a) VALUES(103,102,100,101,104);
INSERT INTO t1(a,c,d,e,b) VALUES(107,106,108,109,105);
INSERT INTO t1 VALUES(NULL,112,113,114,110);
CREATE INDEX t1i0 ON t1(a,b);
SELECT a+b*2 FROM t1 WHERE c>d ORDER BY 1;
SELECT CASE WHEN c>(SELECT avg(c) FROM t1) THEN a*2 ELSE b*10 END FROM t1 ORDER BY 1;
SELECT a/b, b%3, 7/2, -a, abs(b-c) FROM t1 ORDER BY 1, 2;
SELECT count(*) FROM t1 WHERE a IS NULL OR b NOT BETWEEN 100 AND 105;
SELECT ALL x.a FROM t1 AS x CROSS JOIN t1 AS y WHERE x.a = y.a ORDER BY 1;
SELECT DISTINCT coalesce(a, b) FROM t1 ORDER BY 1 DESC LIMIT 2;
SELECT CAST(a AS TEXT) || 'x', NULLIF(a, 104) FROM t1 ORDER BY 1;
SELECT a FROM t1 WHERE EXISTS(SELECT 1 FROM t1 AS z WHERE z.b < t1.b) ORDER BY 1
"""


def test_sqllogictest_statements_transpile_from_sqlite_to_duckdb() -> None:
    # sqlite3 is the oracle. Integer division needs column types, as the session's
    # analysis will supply from the catalog: qualify + annotate_types.
    schema = {"t1": dict.fromkeys("abcde", "INT")}
    sqlite = versioned_dialect("sqlite")
    oracle = sqlite3.connect(":memory:")
    con = duckdb.connect()
    for tree in parse(SLT_SCRIPT, "sqlite"):
        want = oracle.execute(tree.sql(sqlite)).fetchall()
        if isinstance(tree, exp.Query):
            typed = qualify(tree.copy(), schema=schema, dialect=sqlite)
            tree = annotate_types(typed, schema=schema, dialect=sqlite)
        got = con.execute(to_duckdb(tree)).fetchall()
        if isinstance(tree, exp.Query):
            assert got == want, to_duckdb(tree)
    assert to_duckdb(parse("CREATE TABLE t1(a INTEGER, b INTEGER)", "sqlite")[0]) == (
        "CREATE TABLE t1 (a INT, b INT)"
    )
    assert to_duckdb(parse("SELECT a+b*2 FROM t1 WHERE c>d ORDER BY 1", "sqlite")[0]) == (
        "SELECT a + b * 2 FROM t1 WHERE c > d ORDER BY 1 NULLS FIRST"
    )
