"""Result output: Arrow tables as aligned text, CSV, JSON, Parquet or SQL.

Everything here takes a ``pyarrow.Table`` and writes text (or Parquet bytes) to a
stream; nothing here knows about repositories. Cells are turned into strings a
column at a time with ``pyarrow.compute`` (cast, pad, join), so printing a
million-row result costs a few vectorised passes, not a Python loop per cell;
only types Arrow cannot cast to text (lists, structs, binary) take a per-value
path.

Text conventions (Dolt's, so output reads the same):

- SQL NULL prints as ``NULL`` in tables, as an empty field in CSV and as ``null``
  in JSON; a newline or tab inside a cell prints as ``\\n`` / ``\\t`` in tables.
- Numbers are right-aligned, everything else left-aligned; borders are ASCII
  (``+----+``), so output survives any terminal and any pipe.
- ``-r json`` writes ``{"rows": [...]}`` (Dolt's shape); ``-r parquet`` refuses a
  terminal, since binary output there helps no one.

Styling (diff colours) is applied to whole padded cells with ANSI codes and only
when the caller asks for colour (a terminal, and ``NO_COLOR`` unset).
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass
from typing import IO, Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from arbordb.engine.arrow_arrays import scalar, values_array
from arbordb.sql.parse.dialect import quote_identifier

FORMATS = ("table", "vertical", "csv", "json", "parquet", "sql")
NULL_TEXT = "NULL"

# ANSI styles used by the diff views; each wraps a whole padded cell.
GREEN, RED, YELLOW, BOLD, DIM, RESET = (
    "\x1b[32m",
    "\x1b[31m",
    "\x1b[33m",
    "\x1b[1m",
    "\x1b[2m",
    "\x1b[0m",
)


class OutputError(ValueError):
    """An output format cannot be written where the caller asked (e.g. Parquet to a tty)."""


def use_color(stream: IO[str]) -> bool:
    """True when ``stream`` is a terminal and the user has not set ``NO_COLOR``."""
    return hasattr(stream, "isatty") and stream.isatty() and "NO_COLOR" not in os.environ


# --- cells -----------------------------------------------------------------------


def _python_text(value: Any) -> str:
    if isinstance(value, bytes):
        return "0x" + value.hex()
    return json.dumps(value, default=str, ensure_ascii=False)


def string_scalar(value: str) -> pa.Scalar:
    """A string scalar for a compute function (a Python value there imports pandas)."""
    return scalar(value, pa.string())


def raw_strings(column: pa.Array | pa.ChunkedArray) -> pa.Array:
    """Each value of ``column`` as text, NULL kept (vectorised where Arrow can cast)."""
    array = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    kind = array.type
    if pa.types.is_dictionary(kind):
        array = array.cast(kind.value_type)
        kind = array.type
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        return array.cast(pa.string())
    if pa.types.is_binary(kind) or pa.types.is_large_binary(kind) or pa.types.is_nested(kind):
        values = array.to_pylist()
        return values_array([None if v is None else _python_text(v) for v in values], pa.string())
    if pa.types.is_null(kind):
        return pa.nulls(len(array), pa.string())
    text = array.cast(pa.string())
    if pa.types.is_timestamp(kind):
        text = pc.replace_substring_regex(text, r"\.000000$", "")
    return text


def cell_strings(column: pa.Array | pa.ChunkedArray, *, null: str = NULL_TEXT) -> pa.Array:
    """One display string per value: NULL as ``null``, newlines and tabs escaped."""
    text = raw_strings(column)
    text = pc.replace_substring(pc.replace_substring(text, "\n", "\\n"), "\t", "\\t")
    return pc.fill_null(text, string_scalar(null))


def _is_numeric(kind: pa.DataType) -> bool:
    return pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_decimal(kind)


# --- aligned text --------------------------------------------------------------------


@dataclass(frozen=True)
class Grid:
    """A table laid out as padded cell strings, before borders are drawn.

    ``cells[i]`` holds column ``i`` padded to ``widths[i]``; callers may replace a
    column by a styled copy (same visible width) before calling :meth:`lines`.
    """

    header: list[str]
    widths: list[int]
    cells: list[pa.Array]

    @classmethod
    def of(cls, table: pa.Table, *, null: str = NULL_TEXT) -> Grid:
        header, widths, cells = [], [], []
        for name, column in zip(table.column_names, table.columns, strict=True):
            text = cell_strings(column, null=null)
            longest = pc.max(pc.utf8_length(text)).as_py() if len(text) else 0
            width = max(len(name), longest or 0)
            pad = pc.utf8_lpad if _is_numeric(column.type) else pc.utf8_rpad
            header.append(name.ljust(width))
            widths.append(width)
            cells.append(pad(text, width))
        return cls(header, widths, cells)

    def rule(self) -> str:
        return "+" + "+".join("-" * (w + 2) for w in self.widths) + "+"

    def lines(self, header_style: str = "") -> list[str]:
        """Border, header, border, one line per row, border."""
        rule = self.rule()
        head = "| " + " | ".join(self.header) + " |"
        if header_style:
            head = "| " + " | ".join(f"{header_style}{h}{RESET}" for h in self.header) + " |"
        out = [rule, head, rule]
        if self.cells and len(self.cells[0]):
            body = pc.binary_join_element_wise(*self.cells, string_scalar(" | "))
            out.extend(
                pc.binary_join_element_wise(
                    string_scalar("| "), body, string_scalar(" |"), string_scalar("")
                ).to_pylist()
            )
        out.append(rule)
        return out


def aligned(table: pa.Table, *, color: bool = False) -> str:
    """``table`` as Dolt-style ASCII boxes, one text line per row."""
    if table.num_columns == 0:
        return ""
    return "\n".join(Grid.of(table).lines(BOLD if color else "")) + "\n"


def vertical(table: pa.Table) -> str:
    """One block per row, one ``name: value`` line per column (MySQL's ``\\G`` layout)::

    *************************** 1. row ***************************
       id: 7
    label: cat
    """
    if table.num_columns == 0:
        return ""
    width = max(len(name) for name in table.column_names)
    names = [name.rjust(width) + ": " for name in table.column_names]
    columns = [cell_strings(column).to_pylist() for column in table.columns]
    lines = []
    for row in range(table.num_rows):
        lines.append(f"{'*' * 27} {row + 1}. row {'*' * 27}")
        lines.extend(name + column[row] for name, column in zip(names, columns, strict=True))
    return "".join(line + "\n" for line in lines)


# --- other formats -----------------------------------------------------------------


def _csv_field(text: pa.Array) -> pa.Array:
    """Quote the fields that need it (separator, quote, line break, outer space, empty)."""
    needs = pc.match_substring_regex(text, r'[",\r\n]|^\s|\s$|^$')
    quote, empty = string_scalar('"'), string_scalar("")
    quoted = pc.binary_join_element_wise(quote, pc.replace_substring(text, '"', '""'), quote, empty)
    return pc.fill_null(pc.if_else(needs, quoted, text), empty)


def write_csv(table: pa.Table, stream: IO[str], *, header: bool = True) -> None:
    """RFC 4180 CSV (a header row first unless ``header`` is False); NULL is an empty
    field and the empty string a quoted one (``""``)."""
    if header:
        names = values_array(table.column_names, pa.string())
        stream.write(",".join(_csv_field(names).to_pylist()) + "\n")
    if table.num_rows == 0 or table.num_columns == 0:
        return
    fields = [_csv_field(raw_strings(c)) for c in table.columns]
    lines = (
        fields[0] if len(fields) == 1 else pc.binary_join_element_wise(*fields, string_scalar(","))
    )
    stream.write("\n".join(lines.to_pylist()) + "\n")


def _json_default(value: Any) -> Any:
    if isinstance(value, bytes):
        return "0x" + value.hex()
    return str(value)


def write_json(table: pa.Table, stream: IO[str]) -> None:
    """Dolt's JSON result shape: ``{"rows": [{column: value, ...}, ...]}``."""
    rows = table.to_pylist()
    stream.write(json.dumps({"rows": rows}, default=_json_default, ensure_ascii=False))
    stream.write("\n")


def sql_literal(value: Any) -> str:
    """A SQL literal for ``value`` (strings quoted with '' doubled; NULL; numbers)."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, bytes):
        return "'\\x" + value.hex() + "'::BLOB"
    if isinstance(value, list | dict):
        return "'" + json.dumps(value, default=str).replace("'", "''") + "'"
    return "'" + str(value).replace("'", "''") + "'"


def write_sql_inserts(table: pa.Table, stream: IO[str], name: str = "result") -> None:
    """One ``INSERT INTO name (...) VALUES (...);`` per row."""
    cols = ", ".join(quote_identifier(c) for c in table.column_names)
    for row in table.to_pylist():
        values = ", ".join(sql_literal(v) for v in row.values())
        stream.write(f"INSERT INTO {quote_identifier(name)} ({cols}) VALUES ({values});\n")


def write_parquet(table: pa.Table, stream: IO[str]) -> None:
    """Parquet bytes to the binary side of ``stream``; refuses a terminal."""
    if hasattr(stream, "isatty") and stream.isatty():
        raise OutputError(
            "refusing to write Parquet to a terminal "
            "(redirect the output: ... -r parquet > out.parquet)"
        )
    binary = getattr(stream, "buffer", None)
    if binary is None:
        raise OutputError("this output stream cannot take binary Parquet data")
    stream.flush()
    pq.write_table(table, binary)
    binary.flush()


def write_result(
    table: pa.Table, fmt: str, stream: IO[str] | None = None, *, name: str = "result"
) -> None:
    """Write ``table`` to ``stream`` (stdout by default) in one of :data:`FORMATS`."""
    stream = stream or sys.stdout
    if fmt == "table":
        stream.write(aligned(table, color=use_color(stream)))
    elif fmt == "vertical":
        stream.write(vertical(table))
    elif fmt == "csv":
        write_csv(table, stream)
    elif fmt == "json":
        write_json(table, stream)
    elif fmt == "parquet":
        write_parquet(table, stream)
    elif fmt == "sql":
        write_sql_inserts(table, stream, name)
    else:
        raise OutputError(f"unknown output format {fmt!r} (use one of {', '.join(FORMATS)})")


def row_count_line(count: int, seconds: float | None = None) -> str:
    """``3 rows in set (0.01 sec)``, as the MySQL/Dolt shells print after a result."""
    rows = "1 row" if count == 1 else f"{count} rows"
    return f"{rows} in set" + (f" ({seconds:.2f} sec)" if seconds is not None else "")
