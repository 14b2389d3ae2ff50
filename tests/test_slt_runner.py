"""The sqllogictest runner (bench/slt.py) on small scripts, against plain DuckDB."""

from __future__ import annotations

import hashlib
import re
import textwrap
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

import arbordb
from bench.slt import (
    HALT,
    HASH_THRESHOLD,
    QUERY,
    STATEMENT,
    SltFormatError,
    engine_factory,
    format_value,
    main,
    parse_file,
    run_file,
    run_paths,
)

DUCKDB = engine_factory("duckdb", "sqlite")

SETUP = """\
statement ok
CREATE TABLE t1(a INTEGER, b TEXT)

statement ok
INSERT INTO t1 VALUES(3, 'c'), (1, 'a'), (2, 'b')

"""


def write(directory: Path, text: str, name: str = "t.test") -> Path:
    path = directory / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))
    return path


def run(tmp_path: Path, text: str, database: str = "duckdb"):
    return run_file(write(tmp_path, text), DUCKDB, database=database)


def md5_of(values: list[str]) -> str:
    """Rule (4), computed independently of the runner."""
    digest = hashlib.md5("".join(value + "\n" for value in values).encode()).hexdigest()
    return f"{len(values)} values hashing to {digest}"


def test_statement_ok_and_error(tmp_path: Path) -> None:
    result = run(
        tmp_path,
        SETUP
        + """\
statement error
SELECT * FROM no_such_table

statement ok
SELECT * FROM no_such_table

statement error
SELECT 1
""",
    )
    assert (result.passed, result.failed, result.skipped) == (3, 2, 0)
    first, second = result.failures
    assert (first.line, first.sql) == (10, "SELECT * FROM no_such_table")
    assert first.message.startswith("error: ")
    assert "no_such_table" in first.message
    assert second.line == 13
    assert "succeeded" in second.message


@pytest.mark.parametrize(
    ("sort_mode", "expected"),
    [
        ("nosort", ["3", "c", "2", "b", "1", "a"]),
        ("rowsort", ["1", "a", "2", "b", "3", "c"]),
        ("valuesort", ["1", "2", "3", "a", "b", "c"]),
    ],
)
def test_sort_modes(tmp_path: Path, sort_mode: str, expected: list[str]) -> None:
    query = f"query IT {sort_mode}\nSELECT a, b FROM t1 ORDER BY a DESC\n----\n"
    result = run(tmp_path, SETUP + query + "\n".join(expected) + "\n")
    assert (result.passed, result.failed) == (3, 0), result.failures


def test_nosort_keeps_engine_order(tmp_path: Path) -> None:
    result = run(
        tmp_path, SETUP + "query I nosort\nSELECT a FROM t1 ORDER BY a DESC\n----\n1\n2\n3\n"
    )
    assert (result.passed, result.failed) == (2, 1)


def test_rowsort_compares_rendered_text(tmp_path: Path) -> None:
    # rule (3): "10" sorts before "9" as text; rows sort column by column
    script = """\
query II rowsort
SELECT * FROM (VALUES (9, 1), (10, 2), (9, 0)) AS v(x, y)
----
10
2
9
0
9
1
"""
    result = run(tmp_path, script)
    assert (result.passed, result.failed) == (1, 0), result.failures


def test_hashed_results(tmp_path: Path) -> None:
    values = ["1", "a", "2", "b", "3", "c"]
    script = (
        SETUP
        + f"hash-threshold 2\n\nquery IT rowsort\nSELECT a, b FROM t1\n----\n{md5_of(values)}\n\n"
        + f"query IT rowsort\nSELECT a, b FROM t1 WHERE a > 1\n----\n{md5_of(values)}\n"
    )
    result = run(tmp_path, script)
    assert (result.passed, result.failed) == (3, 1)
    message = result.failures[0].message
    assert md5_of(values) in message
    assert md5_of(["2", "b", "3", "c"]) in message  # the wrong result's hash and values
    assert "\n  3\n" in message


def test_hash_line_is_checked_without_a_threshold(tmp_path: Path) -> None:
    # rule (5): the expected hash decides, whatever threshold wrote the script
    values = ["1", "2", "3", "a", "b", "c"]
    result = run(
        tmp_path, SETUP + f"query IT valuesort\nSELECT * FROM t1\n----\n{md5_of(values)}\n"
    )
    assert (result.passed, result.failed) == (3, 0), result.failures


def test_threshold_shows_a_wrong_result_as_hash(tmp_path: Path) -> None:
    script = SETUP + "hash-threshold 2\n\nquery I rowsort\nSELECT a FROM t1\n----\n1\n2\n4\n"
    result = run(tmp_path, script)
    assert result.failed == 1
    assert md5_of(["1", "2", "3"]) in result.failures[0].message


def test_wrong_expected_result_is_a_failure(tmp_path: Path) -> None:
    script = SETUP + "query T nosort\nSELECT b FROM t1 WHERE a = 2\n----\nz\n"
    result = run(tmp_path, script)
    assert (result.passed, result.failed) == (2, 1)
    failure = result.failures[0]
    assert failure.line == 7
    assert failure.sql == "SELECT b FROM t1 WHERE a = 2"
    assert failure.message == "expected:\n  z\ngot:\n  b"
    assert str(failure).startswith(f"{failure.path}:7\n    SELECT b FROM t1 WHERE a = 2\n")


def test_column_count_must_match_types(tmp_path: Path) -> None:
    result = run(tmp_path, "query II nosort\nSELECT 1\n----\n1\n")
    assert result.failed == 1
    assert "expected 2 columns" in result.failures[0].message


def test_values_render_by_type_through_the_engine(tmp_path: Path) -> None:
    script = """\
query IRTTI nosort
SELECT 7.9, 1.0 / 3, '', NULL, NULL
----
7
0.333
(empty)
NULL
NULL
"""
    result = run(tmp_path, script)
    assert (result.passed, result.failed) == (1, 0), result.failures


@pytest.mark.parametrize(
    ("value", "type_char", "text"),
    [
        (None, "I", "NULL"),
        (None, "T", "NULL"),
        (float("nan"), "R", "NULL"),
        (2.7, "I", "2"),
        (-2.7, "I", "-2"),
        (True, "I", "1"),
        (" 12abc", "I", "12"),
        ("abc", "I", "0"),
        (Decimal("1.5"), "I", "1"),
        (1, "R", "1.000"),
        (Decimal("2.0005"), "R", "2.001"),
        ("3.25x", "R", "3.250"),
        (-0.5, "R", "-0.500"),
        ("", "T", "(empty)"),
        (b"", "T", "(empty)"),
        ("a\tb\n", "T", "a@b@"),
        ("é", "T", "@@"),
        (7, "T", "7"),
        (False, "T", "0"),
        (1.0, "T", "1.0"),
        (0.1, "T", "0.1"),
        (1e20, "T", "1.0e+20"),
        (Decimal("2.50"), "T", "2.5"),
    ],
)
def test_format_value(value: object, type_char: str, text: str) -> None:
    assert format_value(value, type_char) == text


def test_skipif_and_onlyif(tmp_path: Path) -> None:
    script = """\
skipif duckdb
statement ok
SELECT broken syntax here

onlyif sqlite
query I nosort
SELECT 1
----
2

# a comment before the conditions
skipif mysql
onlyif duckdb
query I nosort
SELECT 1
----
1

skipif mssql # trailing comment
statement ok
SELECT 1
"""
    result = run(tmp_path, script)
    assert (result.passed, result.failed, result.skipped) == (2, 0, 2)
    as_arbordb = run(tmp_path, script, database="arbordb")
    assert (as_arbordb.passed, as_arbordb.failed, as_arbordb.skipped) == (1, 1, 2)


def test_halt(tmp_path: Path) -> None:
    script = """\
onlyif mssql
halt

statement ok
SELECT 1

halt

statement ok
SELECT broken syntax here
"""
    result = run(tmp_path, script)
    assert (result.passed, result.failed, result.skipped) == (1, 0, 0)


def test_limit_counts_records(tmp_path: Path) -> None:
    path = write(tmp_path, SETUP + "query I nosort\nSELECT 1\n----\n2\n")
    result = run_file(path, DUCKDB, database="duckdb", limit=2)
    assert (result.passed, result.failed) == (2, 0)


def test_parse_file(tmp_path: Path) -> None:
    path = tmp_path / "crlf.test"
    text = (
        "# header\nhash-threshold 8\n\nstatement ok \nCREATE TABLE t(x INT)\n\n"
        "skipif mysql\nquery IT rowsort label-7\nSELECT x,\n  'a'\nFROM t\n----\n1\na\n\n"
        "query I\nSELECT 1\n\nhalt\n"
    )
    path.write_bytes(text.replace("\n", "\r\n").encode())
    threshold, statement, query, bare, halt = parse_file(path)
    assert (threshold.kind, threshold.threshold, threshold.line) == (HASH_THRESHOLD, 8, 2)
    assert (statement.kind, statement.sql, statement.expect_error) == (
        STATEMENT,
        "CREATE TABLE t(x INT)",
        False,
    )
    assert query.kind == QUERY
    assert (query.types, query.sort_mode, query.label) == ("IT", "rowsort", "label-7")
    assert query.sql == "SELECT x,\n  'a'\nFROM t"
    assert query.expected == ("1", "a")
    assert query.conditions == (("skipif", "mysql"),)
    assert query.line == 8
    assert (bare.sort_mode, bare.expected, bare.label) == ("nosort", (), None)
    assert halt.kind == HALT


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("statement maybe\nSELECT 1\n", 1),
        ("\n\nquery X nosort\nSELECT 1\n", 3),
        ("query I sideways\nSELECT 1\n", 1),
        ("statement ok\n", 1),
        ("hash-threshold many\n", 1),
        ("onlyif sqlite\n", 1),
        ("select 1\n", 1),
    ],
)
def test_parse_errors_name_file_and_line(tmp_path: Path, text: str, line: int) -> None:
    path = write(tmp_path, text)
    with pytest.raises(SltFormatError, match=f"t.test:{line}: "):
        parse_file(path)


def test_run_paths_over_a_directory(tmp_path: Path) -> None:
    write(tmp_path, SETUP, "b.test")
    write(tmp_path, "statement ok\nSELECT 1\n", "sub/a.test")
    write(tmp_path, "not a script", "notes.txt")
    seen = []
    summary = run_paths([tmp_path], DUCKDB, database="duckdb", progress=seen.append)
    assert [Path(result.path).name for result in summary.files] == ["b.test", "a.test"]
    assert seen == summary.files
    assert (summary.passed, summary.failed, summary.skipped, summary.pass_rate) == (3, 0, 0, 1.0)
    with pytest.raises(FileNotFoundError, match="missing"):
        run_paths([tmp_path / "missing"], DUCKDB)


def test_command_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    scripts = tmp_path / "scripts"
    write(scripts, SETUP + "query I nosort\nSELECT 1\n----\n2\n")
    failures = tmp_path / "failures.txt"
    argv = [str(scripts), "--engine", "duckdb", "--failures", str(failures)]
    assert main(argv) == 0
    lines = capsys.readouterr().out.splitlines()
    assert re.fullmatch(r".*t\.test: 2 passed, 1 failed, 0 skipped \(\d+\.\d s\)", lines[0])
    assert "2 passed, 1 failed" in lines
    assert failures.read_text().startswith(f"{scripts / 't.test'}:7\n    SELECT 1\n")
    assert main([*argv, "--min-pass-rate", "0.6"]) == 0
    assert main([*argv, "--min-pass-rate", "0.7", "--verbose"]) == 1
    assert "  expected:\n    2\n  got:\n    1\n" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main([*argv, "--min-pass-rate", "70"])


def test_results_name_each_file_by_its_folder_with_its_pass_rate(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    scripts = tmp_path / "scripts"
    write(scripts, SETUP + "query I nosort\nSELECT 1\n----\n2\n", "one/t.test")
    write(scripts, SETUP, "two/t.test")
    results = tmp_path / "RESULTS.md"
    argv = [str(scripts), "--engine", "duckdb", "--results", str(results)]
    assert main(argv) == 0
    text = results.read_text()
    assert "| one/t.test | 2 / 3 | 66.67% | 1 | 0 |" in text
    assert "| two/t.test | 2 / 2 | 100.00% | 0 | 0 |" in text
    assert "| **total** | **4 / 5** | **80.00%** | 1 | 0 |" in text
    assert "Lowest file: one/t.test, 66.6667%." in text
    # the same figures when files run in parallel processes
    assert main([*argv, "--jobs", "2"]) == 0
    assert "| one/t.test | 2 / 3 | 66.67% | 1 | 0 |" in results.read_text()
    # the total passes 0.75, but one file does not: every file must reach the rate
    assert main([*argv, "--min-pass-rate", "0.75"]) == 1
    assert "(one/t.test) is below --min-pass-rate 0.75" in capsys.readouterr().err


def test_arbordb_engine_opens_a_fresh_repository(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened = []

    def fake_connect(path: str, **options: object) -> duckdb.DuckDBPyConnection:
        opened.append((Path(path), options))
        return duckdb.connect()

    monkeypatch.setattr(arbordb, "connect", fake_connect, raising=False)
    path = write(tmp_path, SETUP + "query IT rowsort\nSELECT * FROM t1\n----\n1\na\n2\nb\n3\nc\n")
    summary = run_paths([path, path], engine_factory("arbordb", "sqlite"))
    assert (summary.passed, summary.failed) == (6, 0)
    (first, options), (second, _) = opened
    assert options == {"dialect": "sqlite", "autocommit": True}
    assert first != second
    assert not first.parent.exists()  # the temporary repository is removed on close
