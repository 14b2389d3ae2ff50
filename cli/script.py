"""Cutting SQL text into statements, for scripts on stdin and the REPL's multi-line input.

A statement ends at a ``;`` that is outside quotes (``'...'``, ``"..."``,
backticks, with doubled quotes as escapes) and outside comments (``-- ...`` to the
end of the line, ``/* ... */``). The scanner is a small state machine over the
characters; it does not parse SQL, so it never disagrees with the SQL layer about
what a statement means, only about where it ends.

    >>> split_statements("select 1; select ';' ; -- done;\\n")
    ['select 1', "select ';'"]
    >>> is_complete("select 1"), is_complete("select 1;"), is_complete("select ';")
    (False, True, False)
"""

from __future__ import annotations

_QUOTES = "'\"`"


def _scan(text: str) -> tuple[list[tuple[int, str]], tuple[int, str], bool]:
    """(complete statements with their start offsets, the unterminated rest with its
    offset, whether the rest is inside a quote or block comment)."""
    statements: list[tuple[int, str]] = []
    start, i, n = 0, 0, len(text)
    quote: str | None = None
    while i < n:
        ch = text[i]
        if quote:
            if ch == quote:
                if i + 1 < n and text[i + 1] == quote:  # a doubled quote is an escape
                    i += 1
                else:
                    quote = None
        elif ch in _QUOTES:
            quote = ch
        elif text.startswith("--", i):
            end = text.find("\n", i)
            i = n if end < 0 else end
            continue
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            if end < 0:
                return statements, (start, text[start:]), True
            i = end + 2
            continue
        elif ch == ";":
            statements.append((start, text[start:i]))
            start = i + 1
        i += 1
    return statements, (start, text[start:]), quote is not None


def _code(text: str) -> bool:
    """Whether ``text`` holds anything besides blanks and comments (a rough test: it
    only decides whether to drop an empty piece)."""
    lines = [line.split("--", 1)[0] for line in text.splitlines()]
    joined = "\n".join(lines)
    while "/*" in joined:
        head, _, rest = joined.partition("/*")
        joined = head + rest.partition("*/")[2]
    return bool(joined.strip())


def split_statements(text: str) -> list[str]:
    """The statements of a script, in order; a last statement may omit its ``;``."""
    return [statement for _, statement in located_statements(text)]


def located_statements(text: str) -> list[tuple[int, str]]:
    """The statements of a script with the line (from 1) where each one's text begins.

    >>> located_statements("select 1;\\n\\n  select\\n 2")
    [(1, 'select 1'), (3, 'select\\n 2')]
    """
    statements, rest, _ = _scan(text)
    located = []
    for offset, piece in [*statements, rest]:
        if _code(piece):
            begins = offset + len(piece) - len(piece.lstrip())
            located.append((text.count("\n", 0, begins) + 1, piece.strip()))
    return located


def is_complete(text: str) -> bool:
    """Whether REPL input is ready to run: it ends with ``;`` (or ``\\G``) outside quotes
    and comments."""
    statements, (_, rest), open_quote = _scan(text)
    if open_quote:
        return False
    return (bool(statements) and not _code(rest)) or rest.rstrip().endswith(VERTICAL_END)


VERTICAL_END = "\\G"  # ends a statement whose result shows one column per line (MySQL's \G)
