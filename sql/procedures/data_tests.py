"""Data checks that travel with the data: Dolt's ``dolt_tests`` and ``dolt_test_run``.

``dolt_tests`` is an ordinary versioned table with Dolt's fixed schema, edited with
SQL, diffed and merged like any table. Until a row is inserted it does not exist in
the root: reading it gives the empty table (sql/system/registry.py) and the first INSERT
creates it (sql/write/common.py). Its columns (all text, as Dolt's)::

    test_name             primary key
    test_group            NULL allowed: tests without a group
    test_query            one read-only query
    assertion_type        expected_rows | expected_columns | expected_single_value
    assertion_comparator  ==  !=  <  <=  >  >=
    assertion_value       the expected number or value (NULL reads as '')

``dolt_test_run('*' | group | name, ...)`` runs the selected tests and returns one row
per test: ``test_name, test_group_name, query, status ('PASS' | 'FAIL'), message``
(empty on PASS). As Dolt does: no argument means '*'; an argument names a test, else
a group (an argument that selects nothing is an error); the message texts are
Dolt's (``Assertion failed: expected_rows equal to 3, got 2``). A test query that
fails, writes or is not one statement makes its test FAIL, not the call. Beyond
Dolt: a NULL single value fails every comparator but ``==``/``!=`` (Dolt passes
``<``, ``>``... against NULL), and ``expected_columns`` counts the result's columns
even when it has no rows (Dolt counts 0 there).

Tests run at one root: the session's working root (``dolt_test_run``), or the root a
gated verb would make (``--check GROUP``): the tests themselves are read from that
root's ``dolt_tests``, and table references without ``AS OF`` read that root
(sql/read/reads.py ``bind(root=...)``). Nothing here writes to the repository.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from typing import Protocol

import pyarrow as pa
import pyarrow.types as pat
from sqlglot import exp

from arbordb.engine.arrow_arrays import empty
from arbordb.engine.errors import InvalidInput
from arbordb.engine.hash import format_address
from arbordb.engine.history import merge_base
from arbordb.engine.root import RootValue
from arbordb.engine.table import Column, Schema, Table
from arbordb.engine.versioning.merge import MergeOptions, merge_roots

from ..errors import DataTestsFailed, OperationalError, ProgrammingError, translate
from ..parse.dialect import ProcedureCall, parse
from ..read import reads
from ..read.reads import ReadContext

__all__ = [
    "RESULT_COLUMNS",
    "TESTS_SCHEMA",
    "TESTS_TABLE",
    "check_merge",
    "check_revision",
    "run_tests",
    "test_run",
]


class QueryContext(ReadContext, Protocol):
    """What data tests need from a session: reads, and running a query to Arrow."""

    def query_arrow(
        self, sql: str, params: Sequence[object] | Mapping[str, object] = ()
    ) -> pa.Table: ...


TESTS_TABLE = "dolt_tests"
_TEXT = pa.string()
TESTS_SCHEMA = Schema(
    (
        Column("test_name", None, _TEXT, nullable=False),
        Column("test_group", None, _TEXT),
        Column("test_query", None, _TEXT, nullable=False),
        Column("assertion_type", None, _TEXT, nullable=False),
        Column("assertion_comparator", None, _TEXT, nullable=False),
        Column("assertion_value", None, _TEXT),
    ),
    ("test_name",),
    name=TESTS_TABLE,
)
RESULT_COLUMNS = ("test_name", "test_group_name", "query", "status", "message")

_WRITES = (
    exp.Insert, exp.Update, exp.Delete, exp.Create, exp.Drop, exp.Alter, exp.TruncateTable,
    exp.Merge, ProcedureCall,
)  # fmt: skip
_WORDS = {"==": "equal to", "!=": "not equal to", "<": "less than",
          "<=": "less than or equal to", ">": "greater than",
          ">=": "greater than or equal to"}  # fmt: skip
_DATE_FORMATS = ("%Y-%m-%d", "%Y-%m-%d %H:%M:%S", "%H:%M:%S")


def empty_tests_arrow(_ctx: object = None) -> pa.Table:
    """``dolt_tests`` read before any test exists: no rows, Dolt's columns."""
    return pa.table({c.name: empty(_TEXT) for c in TESTS_SCHEMA.columns})


# --- running -------------------------------------------------------------------------


def test_run(session: QueryContext, args: Sequence[object] | None) -> pa.Table:
    """The ``dolt_test_run(...)`` table function at the session's working root."""
    selectors = []
    for value in args or []:
        if not isinstance(value, str):
            raise InvalidInput(
                f"dolt_test_run() takes test names or groups as text, got {value!r}: "
                "call it as dolt_test_run('*' | 'group' | 'test_name', ...)"
            )
        selectors.append(value)
    return run_tests(session, selectors or ["*"])


def run_tests(
    session: QueryContext, selectors: Sequence[str], root: RootValue | None = None
) -> pa.Table:
    """Run the tests ``selectors`` pick, at ``root`` (default: the working root).

    Raises:
        ProgrammingError: a selector names no test and no group.
    """
    tests = _tests_at(session, root)
    picked: list[dict] = []
    for selector in selectors:
        if selector == "*":
            chosen = tests
        else:
            chosen = [t for t in tests if t["test_name"] == selector] or [
                t for t in tests if t["test_group"] == selector
            ]
        if not chosen and selector == "*":
            raise ProgrammingError(
                "dolt_test_run: dolt_tests has no tests yet (add them with INSERT INTO "
                "dolt_tests VALUES (name, group, query, assertion_type, comparator, value))"
            )
        if not chosen:
            names = sorted({t["test_group"] for t in tests if t["test_group"]})
            raise ProgrammingError(
                f"dolt_test_run: no test and no test group is named {selector!r} in dolt_tests "
                f"(groups: {', '.join(names) or 'none'}; add tests with INSERT INTO dolt_tests)"
            )
        picked += chosen
    rows = [_run_one(session, test, root) for test in picked]
    return pa.table(
        {name: pa.array([r[i] for r in rows], _TEXT) for i, name in enumerate(RESULT_COLUMNS)}
    )


def _tests_at(session: QueryContext, root: RootValue | None) -> list[dict]:
    ws = session.workspace
    root = ws.working if root is None else root
    found = root.find(TESTS_TABLE)
    if found is None:
        return []
    data = Table.load(ws.nodes, root[found], found).to_arrow()
    lowered = {name.lower(): name for name in data.column_names}
    missing = [c.name for c in TESTS_SCHEMA.columns if c.name not in lowered]
    if missing:
        raise ProgrammingError(
            f"table dolt_tests lacks column(s) {', '.join(missing)}: it must have Dolt's "
            f"columns ({', '.join(TESTS_SCHEMA.column_names)})"
        )
    columns = {c.name: data.column(lowered[c.name]).to_pylist() for c in TESTS_SCHEMA.columns}
    tests = [
        dict(zip(columns, values, strict=True)) for values in zip(*columns.values(), strict=True)
    ]
    return sorted(tests, key=lambda t: t["test_name"])


def _run_one(session: QueryContext, test: dict, root: RootValue | None) -> tuple[str, ...]:
    query = test["test_query"] or ""
    message = _refusal(session, query)
    passed = False
    if not message:
        try:
            result = query_at(session, query, root)
        except Exception as exc:  # a failing query fails its test, not the run
            message = f"Query error: {translate(exc, session.relations.names)}"
        else:
            message = assert_result(
                test["assertion_type"], test["assertion_comparator"],
                test["assertion_value"] or "", result,
            )  # fmt: skip
            passed = not message
    return (
        test["test_name"], test["test_group"] or "", query, "PASS" if passed else "FAIL", message,
    )  # fmt: skip


def _refusal(session: QueryContext, query: str) -> str:
    """Dolt's messages for a test query that is not one read-only query; '' when fine."""
    try:
        trees = parse(query, session.dialect)
    except Exception as exc:
        return f"query error: {translate(exc)}"
    if len(trees) != 1:
        return "Can only run exactly one query"
    if isinstance(trees[0], _WRITES):
        return "Cannot execute write queries"
    if "dolt_test_run(" in query.lower():
        return "Cannot call dolt_test_run in dolt_tests"
    if not isinstance(trees[0], exp.Query | exp.Values):
        return "query error: a test query must be a SELECT"
    return ""


def query_at(session: QueryContext, query: str, root: RootValue | None) -> pa.Table:
    """The rows of one read-only query, its table references read at ``root``."""
    (tree,) = parse(query, session.dialect)
    bound = reads.bind(reads.compile_query(tree), session, (), root=root)
    return session.query_arrow(bound.sql, bound.params)


# --- assertions ----------------------------------------------------------------------


def assert_result(assertion: str, comparator: str, value: str, result: pa.Table) -> str:
    """Dolt's AssertData: '' when the result passes, else the failure message."""
    if assertion == "expected_rows":
        return _compare_counts(assertion, comparator, value, result.num_rows)
    if assertion == "expected_columns":
        return _compare_counts(assertion, comparator, value, result.num_columns)
    if assertion == "expected_single_value":
        return _single_value(comparator, value, result)
    return f"{assertion} is not a valid assertion type"


def _compare_counts(assertion: str, comparator: str, value: str, actual: int) -> str:
    try:
        expected = int(value.strip())
    except ValueError:
        return f"cannot run assertion on non integer value: {value}"
    return _compare(comparator, expected, actual, assertion)


def _single_value(comparator: str, value: str, result: pa.Table) -> str:
    kind = "expected_single_value"
    if result.num_rows == 0:
        return f"{kind} expects exactly one cell. Received 0 rows"
    if result.num_columns != 1:
        return f"{kind} expects exactly one cell. Received multiple columns"
    if result.num_rows > 1:
        return f"{kind} expects exactly one cell. Received multiple rows"
    column = result.column(0)
    actual = column[0].as_py()
    if actual is None:
        return _compare_null(comparator, value)
    type_ = column.type
    if pat.is_boolean(type_) or pat.is_integer(type_):
        expected = _parse_int(value)
        if expected is None:
            return f"Could not compare non integer value '{value}', with {int(actual)}"
        return _compare(comparator, expected, int(actual), kind)
    if pat.is_floating(type_):
        try:
            return _compare(comparator, float(value), actual, kind)
        except ValueError:
            return f"Could not compare non float value '{value}', with {actual:f}"
    if pat.is_decimal(type_):
        try:
            return _compare(comparator, Decimal(value.strip()), actual, kind)
        except InvalidOperation:
            return f"Could not compare non decimal value '{value}', with {actual}"
    if isinstance(actual, datetime | date | time):
        return _compare_moment(comparator, value, actual)
    if pat.is_string(type_) or pat.is_large_string(type_):
        return _compare(comparator, value, actual, kind)
    return f"The type of {actual!r} is not supported by {kind}"


def _parse_int(value: str) -> int | None:
    text = value.strip().lower()
    if text in ("true", "false"):
        return int(text == "true")
    try:
        return int(text)
    except ValueError:
        return None


def _compare_null(comparator: str, value: str) -> str:
    kind = "expected_single_value"
    is_null = value.strip().lower() == "null"
    if comparator == "==" and is_null or comparator == "!=" and not is_null:
        return ""
    if comparator not in _WORDS:
        return f"{comparator} is not a valid comparison type"
    shown = value.upper() if is_null else value
    return f"Assertion failed: {kind} {_WORDS[comparator]} {shown}, got NULL"


def _compare_moment(comparator: str, value: str, actual: date | time) -> str:
    kind = "expected_single_value"
    text = value.strip()
    for fmt in (*_DATE_FORMATS, None):
        try:
            parsed = datetime.fromisoformat(text) if fmt is None else datetime.strptime(text, fmt)
        except ValueError:
            continue
        break
    else:
        return f"{value} does not appear to be a valid date"
    if isinstance(actual, datetime):
        expected: date | time = (
            parsed.replace(tzinfo=actual.tzinfo) if parsed.tzinfo is None else parsed
        )
    elif isinstance(actual, date):
        expected = parsed.date()
    else:
        expected = parsed.time()
    return _compare(comparator, expected, actual, kind)


def _compare(comparator: str, expected, actual, assertion: str) -> str:
    """Dolt's compareTestAssertion: '' when ``actual <comparator> expected`` holds."""
    holds = {
        "==": lambda: actual == expected, "!=": lambda: actual != expected,
        "<": lambda: actual < expected, "<=": lambda: actual <= expected,
        ">": lambda: actual > expected, ">=": lambda: actual >= expected,
    }.get(comparator)  # fmt: skip
    if holds is None:
        return f"{comparator} is not a valid comparison type"
    if holds():
        return ""
    return (
        f"Assertion failed: {assertion} {_WORDS[comparator]} {_shown(expected)}, "
        f"got {_shown(actual)}"
    )


def _shown(value: object) -> str:
    """A value as Go's %v prints it (3.0 as 3, 0.5 as 0.5)."""
    if isinstance(value, float):
        text = repr(value)
        return re.sub(r"\.0$", "", text)
    return str(value)


# --- gates (--check GROUP) -------------------------------------------------------------


def check_revision(session: QueryContext, group: str, root: RootValue, what: str) -> None:
    """Refuse (``DataTestsFailed``) unless every test of ``group`` passes at ``root``.

    ``what`` names the refused verb for the message (``"merge of 'relabel'"``).
    """
    if not any(t["test_group"] == group for t in _tests_at(session, root)):
        raise DataTestsFailed(
            f"refused the {what}: --check {group!r} names no test group in that version's "
            "dolt_tests (add its tests with INSERT INTO dolt_tests, or check another group); "
            "nothing changed"
        )
    results = run_tests(session, [group], root)
    failed = [
        f"{name} ({message})"
        for name, status, message in zip(
            *(results.column(c).to_pylist() for c in ("test_name", "status", "message")),
            strict=True,
        )
        if status != "PASS"
    ]
    if failed:
        raise DataTestsFailed(
            f"refused the {what}: {len(failed)} test(s) of group {group!r} failed: "
            f"{'; '.join(failed)}. Nothing changed: fix the data (or the tests) and run it "
            f"again; see SELECT * FROM dolt_test_run('{group}')",
            results,
        )


def check_merge(session: QueryContext, revision: str, group: str) -> str:
    """Gate ``dolt_merge(revision, '--check', group)``: run the group's tests on the root
    the merge would make, before anything is written. Returns the commit to merge (the
    one that was checked, so a branch that moves meanwhile cannot slip in unchecked).

    A merge that would stop on conflicts is refused too: a gate judges a finished
    result. A merge the workspace would refuse anyway (a dirty working set, a merge
    in progress) is left for ``merge_revision`` to refuse with its own message.
    """
    ws = session.workspace
    theirs = ws.resolve_commit(revision)
    if ws.merge is not None or ws.dirty:
        return revision
    base = merge_base(ws.loader, ws.head, theirs)
    if theirs == ws.head or base == theirs:
        root = ws.head_root
    elif base == ws.head:
        root = ws.commit_root(theirs)
    else:
        merged = merge_roots(
            ws.nodes,
            ws.commit_root(base) if base else RootValue(),
            ws.head_root,
            ws.commit_root(theirs),
            MergeOptions(),
        )
        if merged.conflicts or merged.schema_conflicts or merged.violations:
            raise OperationalError(
                f"refused the merge of {revision!r} with --check {group!r}: it has conflicts "
                "or constraint violations, and a check gates a finished merge. Merge without "
                "--check, resolve them, run `arbor test` / dolt_test_run, then commit; "
                "nothing changed"
            )
        root = merged.root
    check_revision(session, group, root, f"merge of {revision!r}")
    return format_address(theirs)
