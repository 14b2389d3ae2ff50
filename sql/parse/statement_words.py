"""The first word of a statement: when a statement fails to parse because it begins with a
word that starts no statement (``selct * from t``), the error names that word, where the
user wrote it, and the statement it most resembles, instead of the place further on
where the parser gave up.
"""

from __future__ import annotations

import difflib

from sqlglot.dialects.dialect import Dialect
from sqlglot.errors import TokenError
from sqlglot.tokens import TokenType

STATEMENT_WORDS = (
    "SELECT", "INSERT", "UPDATE", "DELETE", "CREATE", "DROP", "ALTER", "WITH", "CALL",
    "DESCRIBE", "SHOW", "EXPLAIN", "BEGIN", "COMMIT", "ROLLBACK", "VALUES", "SET", "REPLACE",
    "TRUNCATE", "FROM", "PRAGMA",
)  # fmt: skip


def unknown_first_word(reader: Dialect, sql: str, offset: int) -> tuple[int, int, str, str]:
    """For a parse error at character ``offset`` of ``sql``: (line, column, word, hint) of
    the first word of the statement holding ``offset`` when that word is a plain name
    (no SQL keyword), else ``(0, 0, "", "")``. ``hint`` names the closest statement word."""
    try:
        tokens = reader.tokenize(sql)
    except TokenError:
        return 0, 0, "", ""
    first = None
    for token in tokens:
        if token.start > offset:
            break
        if token.token_type == TokenType.SEMICOLON:
            first = None
        elif first is None:
            first = token
    if first is None or first.token_type != TokenType.VAR:
        return 0, 0, "", ""
    column = first.col - len(first.text) + 1  # sqlglot gives the last character's column
    close = difflib.get_close_matches(first.text.upper(), STATEMENT_WORDS, n=1)
    hint = (
        f"did you mean {close[0]}?"
        if close
        else f"a statement starts with {', '.join(STATEMENT_WORDS[:6])}, ..."
    )
    return first.line, column, first.text, hint
