"""Runs tests/sql/fixtures/*.sql: SQL cases with their expected rows (format in each file)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import arbordb

FIXTURES = sorted((Path(__file__).parent / "fixtures").glob("*.sql"))
_TITLE = re.compile(r"^-- title: (.*)$", re.MULTILINE)


def cases(text: str) -> list[tuple[str, list[str], list[str]]]:
    """(title, statements, expected lines) for each ``-- title:`` block."""
    out = []
    parts = _TITLE.split(text)[1:]
    for title, body in zip(parts[::2], parts[1::2], strict=True):
        sql, _, expected = body.partition("-- expect:")
        statements = [s.strip() for s in sql.split(";\n") if s.strip()]
        lines = [line[3:] for line in expected.strip().splitlines() if line.startswith("-- ")]
        out.append((title.strip(), statements, lines))
    return out


def render(row: tuple) -> str:
    return " | ".join("NULL" if v is None else str(v) for v in row)


def check_file(path: Path, repo: str) -> None:
    with arbordb.connect(repo, autocommit=True) as con:
        cur = con.cursor()
        for title, statements, expected in cases(path.read_text()):
            for statement in statements:
                cur.execute(statement.rstrip(";"))
            got = [render(r) for r in cur.fetchall()]
            assert got == expected, f"{path.name}: {title}"


@pytest.mark.parametrize("path", FIXTURES, ids=[p.stem for p in FIXTURES])
def test_fixture_file(path, tmp_path):
    check_file(path, str(tmp_path / "repo"))
