"""Every failure of ``arbor`` is one ``error: ...`` line and exit status 1 or 2, never a
traceback or an internal name (issue 10 item 16); statements come from the SQL fuzzer."""

from __future__ import annotations

import random
import re

import pytest

from tests.sql.test_fuzz import SEEDS, mutate

from .helpers import arbor

_LEAKS = re.compile(r"Traceback|__arbor|sqlglot|LINE \d+:|internal error")


def _clean(ran, what: str) -> None:
    assert ran.code in (0, 1, 2), f"{what}: exit {ran.code}: {ran.err}"
    if ran.code:
        lines = [line for line in ran.err.splitlines() if line.strip()]
        assert lines and lines[0].startswith(("error:", "Usage:")), f"{what}: {ran.err}"
    for leak in _LEAKS.finditer(ran.err):
        assert leak.group(0) in what, f"{what}: {ran.err}"  # or quoted from the statement


@pytest.mark.parametrize(
    "args",
    [
        ("log", "nope"),
        ("checkout", "nope"),
        ("diff", "nope"),
        ("merge", "nope"),
        ("branch", "-d", "main"),
        ("sql", "-q", "SELECT (((("),
        ("sql", "-q", "SELECT * FROM missing"),
        ("sql", "-q", "SELECT CAST('x' AS INT)"),
        ("sql", "-q", "SELECT " + "(" * 300 + "1" + ")" * 300),
        ("table", "import", "--create", "--pk", "id", "t", "no-such-file.csv"),
        ("reset", "--hard", "HEAD~5"),
        ("tag", "v1", "nope"),
    ],
)
def test_failures_are_one_clean_line(labels, args):
    _clean(arbor(labels, *args), " ".join(args))


def test_fuzzed_statements_through_arbor_sql(labels):
    rng = random.Random(7)
    for _ in range(60):
        statement = mutate(rng.choice(SEEDS), rng)
        _clean(arbor(labels, "sql", "-q", statement), statement)
