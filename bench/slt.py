"""sqllogictest conformance runner: SQLite's ``.test`` scripts against a PEP 249 connection.

Usage::

    python -m bench.slt PATH... [--dialect sqlite] [--engine arbordb|duckdb] [--limit N]
                        [--verbose] [--failures FILE] [--min-pass-rate X] [--results FILE]
                        [--jobs N]

A PATH is a ``.test`` file or a directory searched recursively for ``*.test``. The runner
prints one line per file, then the totals alone on a line as ``N passed, N failed``.

Script format (SQLite's sqllogictest). A record is a block of non-blank lines; trailing
whitespace (and so a CRLF line end) is ignored::

    LINE                               MEANING
    # ...                              comment (before a record's command line)
    skipif <db> | onlyif <db>          condition on the record below: run it only when the
                                       run's database name is not | is <db>
    statement ok | statement error     the SQL on the following lines must succeed | fail
    query <types> [<sort>] [<label>]   the SQL up to a ``----`` line, then the expected
                                       result: one value a line, or one line
                                       ``N values hashing to <md5>``
    hash-threshold N                   results of more than N values are shown as a hash
    halt                               stop reading this file

``<types>`` has one character per column (``I`` integer, ``R`` real, ``T`` text), ``<sort>``
is ``nosort`` (the default), ``rowsort`` or ``valuesort``. A ``<label>`` names queries whose
results must agree; each of them carries its own expected result, and that is what is
checked.

Rendering and comparison, as SQLite's own runner does them (tests cite ``rule (n)``):

(1) A value is rendered by its column's type character: ``I`` as a decimal integer (reals
    truncate toward zero; text takes its leading integer, else 0), ``R`` as ``%.3f``, ``T``
    as text (a real as SQLite writes it: 15 significant digits and always a decimal point;
    a DECIMAL counts as a real, a boolean as 1 or 0). NULL, and a NaN, which SQLite stores
    as NULL, render as ``NULL`` whatever the type.
(2) An empty text value renders as ``(empty)``; every byte of a text value's UTF-8 form
    outside 0x20..0x7E becomes ``@``.
(3) ``nosort`` keeps the engine's row order; ``rowsort`` sorts the rows, comparing rendered
    values column by column as byte strings; ``valuesort`` sorts all values on their own.
(4) A result's hash is the md5 of every (sorted) value followed by ``\\n``, written
    ``N values hashing to <hex>`` with N counting values, not rows.
(5) Expected values written out are compared one by one; an expected hash line is compared
    with the result's hash. The hash threshold only decides how a wrong result is shown,
    so a script's verdicts do not depend on the threshold its results were made with.
(6) A query must return exactly as many columns as its type string has characters.
(7) Each file runs on a fresh connection from the factory. Records whose conditions exclude
    the database name are counted as skipped, not run; ``halt`` ends the file.
"""

from __future__ import annotations

import argparse
import hashlib
import math
import re
import shutil
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Protocol

import duckdb
import sqlglot

import arbordb

STATEMENT = "statement"
QUERY = "query"
HALT = "halt"
HASH_THRESHOLD = "hash-threshold"
SORT_MODES = ("nosort", "rowsort", "valuesort")
TYPE_CHARS = frozenset("ITR")
ENGINES = ("arbordb", "duckdb")

_HASH_LINE = re.compile(r"\d+ values hashing to [0-9a-f]{32}")
_INT_PREFIX = re.compile(r"[ \t\n\v\f\r]*[+-]?\d+")  # what SQLite's text-to-integer reads
_REAL_PREFIX = re.compile(r"[ \t\n\v\f\r]*[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_PRINTABLE = bytes(c if 0x20 <= c <= 0x7E else 0x40 for c in range(256))  # rule (2)
_INT64_MAX = 2**63 - 1
_SHOWN = 24  # values shown per side of a wrong result


class SltFormatError(ValueError):
    """A script line that is not sqllogictest syntax; the message names file and line."""


class Cursor(Protocol):
    """The part of a PEP 249 cursor the runner uses."""

    @property
    def description(self) -> Sequence[Sequence[Any]] | None: ...

    def execute(self, operation: str) -> object: ...

    def fetchall(self) -> Sequence[Sequence[Any]]: ...


class Connection(Protocol):
    """The part of a PEP 249 connection the runner uses."""

    def cursor(self) -> Cursor: ...

    def close(self) -> None: ...


ConnectionFactory = Callable[[], Connection]


# --- records -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Record:
    """One script record; ``line`` is the 1-based line of its command word."""

    kind: str
    line: int
    sql: str = ""
    conditions: tuple[tuple[str, str], ...] = ()
    expect_error: bool = False
    types: str = ""
    sort_mode: str = "nosort"
    label: str | None = None
    expected: tuple[str, ...] = ()
    threshold: int = 0

    def applies_to(self, database: str) -> bool:
        """Whether the ``skipif``/``onlyif`` conditions let ``database`` run this record."""
        return all((name == database) == (word == "onlyif") for word, name in self.conditions)

    @property
    def expected_hash(self) -> str | None:
        """The expected ``N values hashing to <md5>`` line, if the result is given that way."""
        if len(self.expected) == 1 and _HASH_LINE.fullmatch(self.expected[0]):
            return self.expected[0]
        return None


def parse_file(path: str | Path) -> list[Record]:
    """Read a sqllogictest script.

    Args:
        path: the ``.test`` file.

    Returns:
        Its records in file order (comment-only blocks dropped).

    Raises:
        SltFormatError: a record line the format does not define.
    """
    text = Path(path).read_text(encoding="utf-8", errors="surrogateescape")
    lines = [line.rstrip() for line in text.splitlines()]
    records = []
    start = 0
    while start < len(lines):
        if not lines[start]:
            start += 1
            continue
        end = start
        while end < len(lines) and lines[end]:
            end += 1
        record = _parse_block(str(path), lines, start, end)
        if record is not None:
            records.append(record)
        start = end
    return records


def _parse_block(path: str, lines: list[str], start: int, end: int) -> Record | None:
    conditions = []
    at = start
    while at < end:
        words = lines[at].split()
        if words[0].startswith("#"):
            at += 1
        elif words[0] in ("skipif", "onlyif"):
            if len(words) < 2:
                raise SltFormatError(f"{path}:{at + 1}: {words[0]} needs a database name")
            conditions.append((words[0], words[1]))
            at += 1
        else:
            break
    if at == end:
        if conditions:
            raise SltFormatError(f"{path}:{at}: {conditions[-1][0]} is not followed by a record")
        return None
    words, number, body = lines[at].split(), at + 1, lines[at + 1 : end]
    where = f"{path}:{number}"
    if words[0] == STATEMENT:
        if len(words) != 2 or words[1] not in ("ok", "error"):
            raise SltFormatError(f"{where}: write 'statement ok' or 'statement error'")
        sql = _sql(where, body)
        return Record(STATEMENT, number, sql, tuple(conditions), expect_error=words[1] == "error")
    if words[0] == QUERY:
        return _parse_query(where, number, words, body, tuple(conditions))
    if words[0] == HALT:
        return Record(HALT, number, conditions=tuple(conditions))
    if words[0] == HASH_THRESHOLD:
        if len(words) != 2 or not words[1].isdigit():
            raise SltFormatError(f"{where}: write 'hash-threshold N' with N a whole number")
        return Record(HASH_THRESHOLD, number, conditions=tuple(conditions), threshold=int(words[1]))
    raise SltFormatError(
        f"{where}: unknown record {words[0]!r}; expected statement, query, hash-threshold, "
        "halt, skipif or onlyif"
    )


def _parse_query(
    where: str,
    number: int,
    words: list[str],
    body: list[str],
    conditions: tuple[tuple[str, str], ...],
) -> Record:
    if not 2 <= len(words) <= 4:
        raise SltFormatError(f"{where}: write 'query <types> [<sort mode>] [<label>]'")
    types = words[1]
    sort_mode = words[2] if len(words) > 2 else "nosort"
    if not set(types) <= TYPE_CHARS:
        raise SltFormatError(f"{where}: query types {types!r} may only use I, T and R")
    if sort_mode not in SORT_MODES:
        raise SltFormatError(f"{where}: sort mode {sort_mode!r} is not one of {SORT_MODES}")
    cut = body.index("----") if "----" in body else len(body)
    return Record(
        QUERY,
        number,
        _sql(where, body[:cut]),
        conditions,
        types=types,
        sort_mode=sort_mode,
        label=words[3] if len(words) > 3 else None,
        expected=tuple(body[cut + 1 :]),
    )


def _sql(where: str, lines: list[str]) -> str:
    if not lines:
        raise SltFormatError(f"{where}: the record has no SQL on the lines below it")
    return "\n".join(lines)


# --- rendering -----------------------------------------------------------------


def format_value(value: Any, type_char: str) -> str:
    """Render one result value the way sqllogictest writes it (rules (1) and (2)).

    Example:
        >>> [format_value(v, t) for v, t in [(2.7, "I"), (1, "R"), ("", "T"), (None, "I")]]
        ['2', '1.000', '(empty)', 'NULL']
    """
    if isinstance(value, Decimal):
        value = float(value)  # rule (1): SQLite has no decimals, a DECIMAL is a real
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "NULL"
    if type_char == "I":
        return str(_as_integer(value))
    if type_char == "R":
        return f"{_as_real(value):.3f}"
    if isinstance(value, str) and value.isascii() and value.isprintable():
        return value or "(empty)"
    raw = value if isinstance(value, bytes) else _as_text(value).encode("utf-8")
    return raw.translate(_PRINTABLE).decode("ascii") if raw else "(empty)"  # rule (2)


def _as_integer(value: Any) -> int:
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        if math.isinf(value):
            return _INT64_MAX if value > 0 else -_INT64_MAX - 1
        return int(value)
    match = _INT_PREFIX.match(_as_text(value))
    return int(match.group()) if match else 0


def _as_real(value: Any) -> float:
    if isinstance(value, (int, float)):
        return float(value)
    match = _REAL_PREFIX.match(_as_text(value))
    return float(match.group()) if match else 0.0


def _as_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return str(int(value))
    if isinstance(value, float):
        return _real_text(value)
    if isinstance(value, bytes):
        return value.decode("latin-1")
    return str(value)


def _real_text(value: float) -> str:
    """A real as SQLite's ``%!.15g`` writes it: ``100.0``, ``0.1``, ``1.0e+20``, ``Inf``."""
    if math.isinf(value):
        return "Inf" if value > 0 else "-Inf"
    mantissa, e, exponent = f"{value:.15g}".partition("e")
    if "." not in mantissa:
        mantissa += ".0"
    return mantissa + e + exponent


def result_values(rows: Sequence[Sequence[Any]], types: str, sort_mode: str) -> list[str]:
    """Render ``rows`` by ``types`` and order them by ``sort_mode`` (rule (3)), flattened."""
    rendered = [tuple(map(format_value, row, types)) for row in rows]
    if sort_mode == "rowsort":
        rendered.sort()  # ASCII strings: Python's order is strcmp's
    values = [value for row in rendered for value in row]
    if sort_mode == "valuesort":
        values.sort()
    return values


def hash_line(values: Sequence[str]) -> str:
    """The ``N values hashing to <md5>`` line of rendered values (rule (4))."""
    digest = hashlib.md5("".join(f"{value}\n" for value in values).encode("utf-8"))
    return f"{len(values)} values hashing to {digest.hexdigest()}"


# --- running -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Failure:
    """A record that did not behave as its script says."""

    path: str
    line: int
    sql: str
    message: str

    def __str__(self) -> str:
        sql = textwrap.indent(self.sql, "    ")
        return f"{self.path}:{self.line}\n{sql}\n{textwrap.indent(self.message, '  ')}"


@dataclass(slots=True)
class FileResult:
    """Counts of one file's statement and query records, and its failures."""

    path: str
    passed: int = 0
    failed: int = 0
    skipped: int = 0
    seconds: float = 0.0
    failures: list[Failure] = field(default_factory=list)


@dataclass(slots=True)
class Summary:
    """The results of every file of a run."""

    files: list[FileResult]
    seconds: float

    @property
    def passed(self) -> int:
        return sum(result.passed for result in self.files)

    @property
    def failed(self) -> int:
        return sum(result.failed for result in self.files)

    @property
    def skipped(self) -> int:
        return sum(result.skipped for result in self.files)

    @property
    def pass_rate(self) -> float:
        """Passed records over run records; 1.0 when nothing ran."""
        return rate(self.passed, self.failed)


def run_file(
    path: str | Path,
    connect: ConnectionFactory,
    *,
    database: str = "arbordb",
    limit: int | None = None,
) -> FileResult:
    """Run every record of one script on a fresh connection (rule (7)).

    Args:
        path: the ``.test`` file.
        connect: returns a new PEP 249 connection to an empty database.
        database: the name ``skipif``/``onlyif`` lines are matched against.
        limit: stop after this many statement and query records (run or skipped).

    Returns:
        The file's counts and failures.

    Raises:
        SltFormatError: the file is not a sqllogictest script.
    """
    records = parse_file(path)
    result = FileResult(str(path))
    started = time.perf_counter()
    connection = connect()
    try:
        cursor = connection.cursor()
        threshold = 0
        for record in records:
            if limit is not None and result.passed + result.failed + result.skipped >= limit:
                break
            if not record.applies_to(database):
                result.skipped += record.kind in (STATEMENT, QUERY)
                continue
            if record.kind == HALT:
                break
            if record.kind == HASH_THRESHOLD:
                threshold = record.threshold
                continue
            message = _check(cursor, record, threshold)
            if message is None:
                result.passed += 1
            else:
                result.failed += 1
                result.failures.append(Failure(str(path), record.line, record.sql, message))
    finally:
        connection.close()
        result.seconds = time.perf_counter() - started
    return result


def run_paths(
    paths: Sequence[str | Path],
    connect: ConnectionFactory,
    *,
    database: str = "arbordb",
    limit: int | None = None,
    progress: Callable[[FileResult], None] | None = None,
) -> Summary:
    """Run each script named by ``paths`` (files, or directories searched for ``*.test``).

    Args:
        paths: files and directories, run in the order given (a directory's files sorted).
        connect, database, limit: as for :func:`run_file`.
        progress: called with each file's result as soon as it is done.

    Raises:
        FileNotFoundError: a path does not exist.
        SltFormatError: a file is not a sqllogictest script.
    """
    started = time.perf_counter()
    results = []
    for path in script_files(paths):
        result = run_file(path, connect, database=database, limit=limit)
        results.append(result)
        if progress is not None:
            progress(result)
    return Summary(results, time.perf_counter() - started)


def run_in_processes(
    paths: Sequence[str | Path],
    engine: str,
    dialect: str,
    jobs: int,
    *,
    limit: int | None = None,
    progress: Callable[[FileResult], None] | None = None,
) -> Summary:
    """As :func:`run_paths` with ``engine_factory(engine, dialect)``, ``jobs`` files at a
    time, each in its own process; results come back in file order."""
    started = time.perf_counter()
    files = script_files(paths)
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        futures = [pool.submit(_run_one, f, engine, dialect, limit) for f in files]
        results = []
        for future in futures:
            results.append(future.result())
            if progress is not None:
                progress(results[-1])
    return Summary(results, time.perf_counter() - started)


def _run_one(path: Path, engine: str, dialect: str, limit: int | None) -> FileResult:
    return run_file(path, engine_factory(engine, dialect), database=engine, limit=limit)


def script_files(paths: Sequence[str | Path]) -> list[Path]:
    """Expand directories to their ``*.test`` files (recursively, sorted); keep files as named."""
    files = []
    for path in map(Path, paths):
        if path.is_dir():
            files.extend(sorted(path.rglob("*.test")))
        elif path.is_file():
            files.append(path)
        else:
            raise FileNotFoundError(f"no sqllogictest file or directory at {path}")
    return files


def _check(cursor: Cursor, record: Record, threshold: int) -> str | None:
    """None when ``record`` behaves as its script says, else what went wrong."""
    try:
        cursor.execute(record.sql)
        rows = cursor.fetchall() if record.kind == QUERY else ()
    except Exception as error:  # any engine error is the record's outcome, not the runner's
        return None if record.expect_error else f"error: {type(error).__name__}: {error}"
    if record.kind == STATEMENT:
        return "expected an error; the statement succeeded" if record.expect_error else None
    columns = len(cursor.description or ())
    if columns != len(record.types):  # rule (6)
        return f"expected {len(record.types)} columns ({record.types}), got {columns}"
    values = result_values(rows, record.types, record.sort_mode)
    expected_hash = record.expected_hash
    if expected_hash is not None:
        same = hash_line(values) == expected_hash  # rule (5)
    else:
        same = values == list(record.expected)
    if same:
        return None
    got = ["got:"]
    if expected_hash is not None or 0 < threshold < len(values):
        got.append("  " + hash_line(values))
    return "\n".join(["expected:", *_shown(record.expected), *got, *_shown(values)])


def _shown(values: Sequence[str]) -> list[str]:
    lines = [f"  {value}" for value in values[:_SHOWN]]
    if len(values) > _SHOWN:
        lines.append(f"  ... and {len(values) - _SHOWN} more values")
    return lines


# --- engines -------------------------------------------------------------------


def engine_factory(engine: str, dialect: str = "sqlite") -> ConnectionFactory:
    """A factory of fresh, empty PEP 249 connections for ``engine``.

    Args:
        engine: ``duckdb`` (plain in-memory DuckDB, each statement translated by sqlglot
            from ``dialect``: the baseline) or ``arbordb`` (a new repository in a temporary
            directory, opened with ``dialect`` and autocommit; removed on close).
        dialect: the sqlglot dialect the scripts are written in.

    Raises:
        ValueError: an unknown engine name.
    """
    if engine == "duckdb":
        return lambda: _TranspilingConnection(dialect)
    if engine == "arbordb":
        return lambda: _RepositoryConnection(dialect)
    raise ValueError(f"unknown engine {engine!r}; choose one of {', '.join(ENGINES)}")


class _TranspilingConnection:
    """In-memory DuckDB that reads SQL written in ``dialect``."""

    def __init__(self, dialect: str) -> None:
        self._connection = duckdb.connect(":memory:")
        self._dialect = dialect

    def cursor(self) -> _TranspilingCursor:
        return _TranspilingCursor(self._connection.cursor(), self._dialect)

    def close(self) -> None:
        self._connection.close()


class _TranspilingCursor:
    def __init__(self, cursor: duckdb.DuckDBPyConnection, dialect: str) -> None:
        self._cursor = cursor
        self._dialect = dialect

    @property
    def description(self) -> Sequence[Sequence[Any]] | None:
        return self._cursor.description

    def execute(self, operation: str) -> _TranspilingCursor:
        for statement in sqlglot.transpile(operation, read=self._dialect, write="duckdb"):
            self._cursor.execute(statement)
        return self

    def fetchall(self) -> list[tuple[Any, ...]]:
        return self._cursor.fetchall()


class _RepositoryConnection:
    """An ArborDB connection to a new repository in a temporary directory."""

    def __init__(self, dialect: str) -> None:
        self._directory = tempfile.mkdtemp(prefix="arbordb-slt-")
        try:
            self._connection = arbordb.connect(
                str(Path(self._directory, "repo")), dialect=dialect, autocommit=True
            )
        except BaseException:
            shutil.rmtree(self._directory, ignore_errors=True)
            raise

    def cursor(self) -> Cursor:
        return self._connection.cursor()

    def close(self) -> None:
        try:
            self._connection.close()
        finally:
            shutil.rmtree(self._directory, ignore_errors=True)


# --- command line --------------------------------------------------------------


_LISTED_FAILURES = 200  # failures written out in RESULTS.md; --failures FILE keeps all


def file_label(path: str | Path, roots: Sequence[str | Path]) -> str:
    """A file's name relative to the directory argument holding it (``random/expr/x.test``),
    so files of one name in different folders stay apart; its name alone otherwise."""
    path = Path(path)
    for root in map(Path, roots):
        if root.is_dir() and path.is_relative_to(root):
            return path.relative_to(root).as_posix()
    return path.name


def rate(passed: int, failed: int) -> float:
    """Passed over run records; 1.0 when nothing ran."""
    return passed / (passed + failed) if passed + failed else 1.0


def results_markdown(args: argparse.Namespace, summary: Summary, failures: list[str]) -> str:
    """The ``conformance`` section of RESULTS.md: per-file figures, then the failures."""
    from bench.common import machine, machine_line

    rows = [
        f"| {file_label(r.path, args.paths)} | {r.passed} / {r.passed + r.failed} | "
        f"{rate(r.passed, r.failed):.2%} | {r.failed} | {r.skipped} |"
        for r in summary.files
    ]
    lowest = min(summary.files, key=lambda r: rate(r.passed, r.failed), default=None)
    lines = [
        f"## conformance: `python -m bench.slt {' '.join(map(str, args.paths))} "
        f"--engine {args.engine} --dialect {args.dialect}`",
        "",
        machine_line(machine()),
        "",
        f"| file | {args.engine} passed / run | pass rate | failed | skipped |",
        "|---|---|---|---|---|",
        *rows,
        f"| **total** | **{summary.passed} / {summary.passed + summary.failed}** | "
        f"**{summary.pass_rate:.2%}** | {summary.failed} | {summary.skipped} |",
        "",
        f"Pass rate {summary.pass_rate:.4%} of {summary.passed + summary.failed} records "
        f"(skipped: records marked onlyif another engine) in {summary.seconds:.0f} s.",
    ]
    if lowest is not None:
        lines.append(
            f"Lowest file: {file_label(lowest.path, args.paths)}, "
            f"{rate(lowest.passed, lowest.failed):.4%}."
        )
    if failures:
        shown = failures[:_LISTED_FAILURES]
        lines += ["", "Failures, each with its reason:", "", "```", *shown, "```"]
        if len(failures) > len(shown):
            lines.append(f"... and {len(failures) - len(shown)} more (--failures FILE lists all)")
    else:
        lines += ["", "No failures."]
    return "\n".join(lines)


def _write_results(args: argparse.Namespace, summary: Summary, failures: list[str]) -> None:
    from bench.common import write_section

    write_section(args.results, "conformance", results_markdown(args, summary, failures))


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (0, or 1 below ``--min-pass-rate``)."""
    parser = argparse.ArgumentParser(
        prog="python -m bench.slt", description="Run sqllogictest scripts against an engine."
    )
    parser.add_argument("paths", nargs="+", metavar="PATH", help=".test file or directory")
    parser.add_argument("--dialect", default="sqlite", help="SQL dialect of the scripts")
    parser.add_argument("--engine", choices=ENGINES, default="arbordb")
    parser.add_argument("--limit", type=int, metavar="N", help="run the first N records a file")
    parser.add_argument(
        "--jobs", type=int, default=1, metavar="N", help="run N files at a time, one a process"
    )
    parser.add_argument("--verbose", action="store_true", help="print every failure")
    parser.add_argument("--failures", type=Path, metavar="FILE", help="write failures to FILE")
    parser.add_argument(
        "--min-pass-rate",
        type=float,
        metavar="X",
        help="exit 1 if under this fraction pass, in total or in any one file",
    )
    parser.add_argument(
        "--results",
        type=Path,
        metavar="FILE",
        help="write the per-file pass rates, the totals and the first failures to the "
        "'conformance' section of FILE (e.g. bench/RESULTS.md)",
    )
    args = parser.parse_args(argv)
    if args.min_pass_rate is not None and not 0.0 <= args.min_pass_rate <= 1.0:
        parser.error(f"--min-pass-rate {args.min_pass_rate} is not a fraction; give e.g. 0.99")

    def report(result: FileResult) -> None:
        print(
            f"{result.path}: {result.passed} passed, {result.failed} failed, "
            f"{result.skipped} skipped ({result.seconds:.1f} s)",
            flush=True,
        )
        if args.verbose:
            for failure in result.failures:
                print(failure, flush=True)

    if args.jobs < 1:
        parser.error(f"--jobs {args.jobs}: give 1 or more")
    try:
        if args.jobs > 1:
            summary = run_in_processes(
                args.paths, args.engine, args.dialect, args.jobs, limit=args.limit, progress=report
            )
        else:
            summary = run_paths(
                args.paths,
                engine_factory(args.engine, args.dialect),
                database=args.engine,
                limit=args.limit,
                progress=report,
            )
    except (FileNotFoundError, SltFormatError) as error:
        parser.error(str(error))
    print(f"{summary.passed} passed, {summary.failed} failed")
    print(f"{summary.skipped} skipped, {len(summary.files)} files, {summary.seconds:.1f} s")
    failures = [str(failure) for result in summary.files for failure in result.failures]
    if args.failures is not None:
        args.failures.write_text("".join(f"{failure}\n\n" for failure in failures))
    if args.results is not None:
        _write_results(args, summary, failures)
    if args.min_pass_rate is None:
        return 0
    below = [
        (file_label(r.path, args.paths), rate(r.passed, r.failed))
        for r in summary.files
        if rate(r.passed, r.failed) < args.min_pass_rate
    ]
    if summary.pass_rate < args.min_pass_rate:
        below.append(("in total", summary.pass_rate))
    for what, value in below:
        print(
            f"pass rate {value:.4f} ({what}) is below --min-pass-rate {args.min_pass_rate}",
            file=sys.stderr,
        )
    return 1 if below else 0


if __name__ == "__main__":
    sys.exit(main())
