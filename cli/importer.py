"""Reading import files and writing export files: CSV, Parquet, JSON lines.

Import runs in two phases so that a bad file changes nothing (a Parquet file that
creates or replaces a table is instead checked batch by batch as it is written,
``ParquetStream``, inside the one transaction that a bad batch rolls back):

1. **Read and validate the whole file** (this module): parse it with pyarrow,
   cast every column to the target table's type (or infer types for a new table),
   check that primary-key values are present and unique. The first bad row is
   reported by file and line (``labels.csv, line 7: column 'score': 'abc' is not a
   double``) as ``BadInputFile``; the repository has not been touched yet.
2. **Write it in one SQL transaction** (``cli/commands/table.py``): a refused write
   (a constraint) rolls the whole import back.

Conventions:

- CSV: first line is the header; an unquoted empty field is NULL and a quoted one
  (``""``) the empty string; nothing else is NULL (``NA``, ``null``, ``nan`` are
  text); quoted fields may span lines; blank lines are skipped.
  Line numbers count physical lines of the file, header = line 1.
- CSV and JSON lines must be UTF-8 (a BOM is allowed); the first byte that is not
  is reported by line. A file that is plainly another format (Parquet's magic
  bytes, a JSON object where CSV was expected) is named as such.
- JSON lines: one object per line; blank lines are skipped; line numbers are
  physical lines. A JSON file in Dolt's import format, one object
  ``{"rows": [{...}, ...]}``, is read as those rows (format ``json``; positions are
  ``row N``).
- Parquet: positions are ``row N`` (1-based data rows).
- Type inference for a new table (CSV; JSON and Parquet carry types) uses every
  row, not a first block: a column is BIGINT if every value is a decimal integer,
  DOUBLE if every value is a decimal number, else DATE (``YYYY-MM-DD``), TIMESTAMP,
  BOOLEAN (``true``/``false``), else VARCHAR. A column with no values is VARCHAR.
  Inference never widens silently: an integer column with a value beyond 64 bits,
  or a column whose values are mostly numbers but not all, is refused, naming the
  column, line and value (``--schema FILE`` gives the types instead).

Casts are vectorised (one ``pyarrow`` cast per column); only when a cast fails are
the failing values located, by bisection (O(n) cast work for one bad value).

A bad row stops the import at once (``BadInputFile``), unless the import runs with
``--continue``: then ``Rejects`` records every bad row with its line and reason (a
value that does not cast, a missing or repeated key, a CSV record with the wrong
number of fields) and the rows that remain are imported.
"""

from __future__ import annotations

import codecs
import csv
import itertools
import json
import os
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.json as pajson
import pyarrow.parquet as pq

from arbordb.engine.arrow_arrays import empty, numpy_bools

from .errors import BadInputFile, UsageError
from .render import write_csv

FILE_FORMATS = ("csv", "parquet", "jsonl")
# --file-type values for import, as Dolt names them: psv is CSV separated by '|', json
# is JSON lines here; tsv (tab-separated) besides
IMPORT_FILE_TYPES = ("csv", "psv", "tsv", "parquet", "jsonl", "json")
_DELIMITERS = {"csv": ",", "psv": "|", "tsv": "\t"}
_EXTENSIONS = {
    ".csv": "csv",
    ".psv": "psv",
    ".tsv": "tsv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "jsonl",
}
_CAST_ERRORS = (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError, OverflowError)
_DATE = r"^\d{4}-\d{2}-\d{2}$"
_INTEGER = r"^[+-]?\d+$"
_NUMBER = r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$"
_PARQUET_MAGIC = b"PAR1"
_SNIFF_BYTES = 4096
_UTF8_CHUNK = 1 << 20
EXPORT_BATCH = 65_536


def file_format(path: str, explicit: str | None = None) -> str:
    """``explicit`` if given, else the format named by ``path``'s extension."""
    if explicit:
        return explicit
    found = _EXTENSIONS.get(Path(path).suffix.lower())
    if found in _DELIMITERS:
        found = "csv"
    if found is None:
        raise UsageError(
            f"cannot tell the format of {path!r} from its extension "
            f"(name it .csv, .parquet or .jsonl, or pass --format {'|'.join(FILE_FORMATS)})"
        )
    return found


def import_format(path: str, file_type: str | None, delim: str | None) -> tuple[str, str]:
    """(format, CSV delimiter) of an import file, as Dolt's ``--file-type`` and
    ``--delim`` choose them: the type given, else the extension's; a file of unknown
    extension with ``--delim`` is CSV.

    Raises:
        UsageError: no type can be told, or a delimiter for a file that is not CSV.
    """
    kind = file_type or _EXTENSIONS.get(Path(path).suffix.lower())
    if kind is None and delim is not None:
        kind = "csv"
    if kind is None:
        raise UsageError(
            f"cannot tell the type of {path!r} from its extension (name it .csv, .psv, .tsv, "
            f".parquet or .jsonl, or pass --file-type {'|'.join(IMPORT_FILE_TYPES)})"
        )
    if kind not in _DELIMITERS:
        if delim is not None:
            raise UsageError(f"--delim applies to CSV-style files, not to {kind} files")
        return ("jsonl" if kind == "json" else kind), ","
    if delim is not None:
        delim = {"\\t": "\t", "tab": "\t"}.get(delim, delim)
        if len(delim) != 1 or delim in '\r\n"':
            raise UsageError(
                f"--delim takes one character other than a quote or line break, got {delim!r}"
            )
    return "csv", delim or _DELIMITERS[kind]


@dataclass(frozen=True)
class Target:
    """The shape an import must fit: column name -> Arrow type (table order) and key."""

    columns: Mapping[str, pa.DataType]
    primary_key: tuple[str, ...]


# --- reading ------------------------------------------------------------------------------


class _Counting:
    """A binary file wrapper that reports each read's size (for a byte progress bar)."""

    def __init__(self, path: str, on_read: Callable[[int], None]) -> None:
        self._file = open(path, "rb")  # noqa: SIM115 - closed by the caller's with-block
        self._on_read = on_read
        self.closed = False

    def read(self, size: int = -1) -> bytes:
        data = self._file.read(size)
        self._on_read(len(data))
        return data

    def close(self) -> None:
        self._file.close()
        self.closed = True

    def __enter__(self) -> _Counting:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def read_file(
    path: str,
    fmt: str,
    *,
    as_text: bool = False,
    on_read: Callable[[int], None] = lambda n: None,
    delimiter: str = ",",
    rejects: Rejects | None = None,
) -> pa.Table:
    """The rows of an import file, every column as text when ``as_text`` (CSV only).
    ``delimiter`` separates CSV fields; with ``rejects`` keeping going, CSV records of
    the wrong width are recorded there and left out.

    Raises:
        BadInputFile: the file is missing, unreadable, of another format, not UTF-8
            (CSV, JSON lines) or malformed; names the line.
    """
    if not os.path.isfile(path):
        raise BadInputFile(path, None, "no such file")
    if fmt == "json":
        _check_kind(path, "jsonl")
        on_read(os.path.getsize(path))
        return _read_dolt_json(path)
    if fmt not in FILE_FORMATS:
        raise UsageError(f"unknown file format {fmt!r} (use one of {', '.join(FILE_FORMATS)})")
    _check_kind(path, fmt)
    try:
        if fmt == "csv":
            return _read_csv(path, as_text, on_read, delimiter, rejects)
        if fmt == "jsonl":
            if not _jsonl_lines(path):
                return pa.table({})  # no records: no rows (conform gives a target its columns)
            with _Counting(path, on_read) as stream:
                return pajson.read_json(stream)
        on_read(os.path.getsize(path))
        return pq.read_table(path)
    except pa.ArrowInvalid as exc:
        if fmt == "parquet":
            raise BadInputFile(path, None, f"not a readable Parquet file ({exc})") from None
        if fmt == "csv":
            raise _csv_parse_error(path, str(exc), delimiter) from None
        raise _jsonl_parse_error(path, str(exc)) from None
    except OSError as exc:
        raise BadInputFile(path, None, f"cannot read the file ({exc.strerror or exc})") from None


_DOLT_JSON_HEAD = re.compile(rb'^\s*\{\s*"rows"\s*:\s*\[')


def is_dolt_json(path: str) -> bool:
    """Whether ``path`` holds Dolt's JSON import format, ``{"rows": [{...}, ...]}`` (a
    JSON lines file whose first object has a "rows" list is not: it has more lines)."""
    try:
        with open(path, "rb") as f:
            if not _DOLT_JSON_HEAD.match(f.read(_SNIFF_BYTES)):
                return False
        with open(path, encoding="utf-8-sig") as f:
            whole = json.load(f)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return False
    return isinstance(whole, dict) and list(whole) == ["rows"] and isinstance(whole["rows"], list)


def _read_dolt_json(path: str) -> pa.Table:
    with open(path, encoding="utf-8-sig") as f:
        rows = json.load(f)["rows"]
    for number, row in enumerate(rows, start=1):
        if not isinstance(row, dict):
            raise BadInputFile(path, f"row {number}", "each row must be one JSON object")
    try:
        return pa.Table.from_pylist(rows)
    except (*_CAST_ERRORS,) as exc:
        raise BadInputFile(
            path, None, f"the rows' values do not fit one type per column ({exc})"
        ) from None


_FORMAT_NAMES = {"csv": "CSV", "jsonl": "JSON lines", "parquet": "Parquet"}


def _check_kind(path: str, fmt: str) -> None:
    """Refuse a file that is plainly not ``fmt`` (by its first bytes), or not UTF-8 text."""
    try:
        with open(path, "rb") as f:
            head = f.read(_SNIFF_BYTES)
    except OSError as exc:
        raise BadInputFile(path, None, f"cannot read the file ({exc.strerror or exc})") from None
    is_parquet = head.startswith(_PARQUET_MAGIC)
    if fmt == "parquet":
        if not is_parquet:
            raise BadInputFile(
                path,
                None,
                "not a readable Parquet file (it does not start with PAR1); "
                "pass the right --format",
            )
        return
    if is_parquet:
        raise BadInputFile(
            path,
            None,
            f"this is a Parquet file, not {_FORMAT_NAMES[fmt]} (pass --format parquet "
            "or name it .parquet)",
        )
    _check_utf8(path)
    first = head.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    if fmt == "csv" and first in (b"{", b"["):
        raise BadInputFile(
            path, "line 1", "this looks like JSON, not CSV (pass --format jsonl or name it .jsonl)"
        )


def _check_utf8(path: str) -> None:
    """Raise BadInputFile naming the line of the first byte sequence that is not UTF-8."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    lines = 1
    with open(path, "rb") as f:
        while True:
            chunk = f.read(_UTF8_CHUNK)
            try:
                decoder.decode(chunk, final=not chunk)
            except UnicodeDecodeError as exc:
                # exc.object: the bytes held back from the last chunk (an incomplete
                # character, never a newline), then this chunk.
                line = lines + exc.object.count(b"\n", 0, exc.start)
                byte = exc.object[exc.start : exc.start + 1].hex()
                raise BadInputFile(
                    path,
                    f"line {line}",
                    f"not UTF-8 text (byte 0x{byte}); convert the file to UTF-8 "
                    "(e.g. iconv -f latin1 -t utf-8)",
                ) from None
            if not chunk:
                return
            lines += chunk.count(b"\n")


def _read_csv(
    path: str,
    as_text: bool,
    on_read: Callable[[int], None],
    delimiter: str,
    rejects: Rejects | None,
) -> pa.Table:
    keep_going = rejects is not None and rejects.keep_going
    ragged: list[pacsv.InvalidRow] = []

    def skip_ragged(row: pacsv.InvalidRow) -> str:
        ragged.append(row)
        return "skip"

    parse = pacsv.ParseOptions(
        delimiter=delimiter,
        newlines_in_values=True,
        invalid_row_handler=skip_ragged if keep_going else None,
    )
    header = _csv_header(path, delimiter)
    if not header:
        raise BadInputFile(
            path, "line 1", "the file has no header line (the first line names the columns)"
        )
    if len(set(header)) != len(header):
        dup = next(h for h in header if header.count(h) > 1)
        raise BadInputFile(path, "line 1", f"column {dup!r} appears twice in the header")
    convert = pacsv.ConvertOptions(
        null_values=[""],  # only an unquoted empty field: NA, null, nan stay text
        strings_can_be_null=True,
        quoted_strings_can_be_null=False,
        column_types={name: pa.string() for name in header},
    )
    with _Counting(path, on_read) as stream:
        table = pacsv.read_csv(stream, parse_options=parse, convert_options=convert)
    if ragged and rejects is not None:  # the reader skipped them: name their lines
        for line, fields in _csv_records(path, delimiter)[1:]:
            if len(fields) != len(header):
                rejects.where.skip_lines.add(line)
                rejects.dropped(
                    f"line {line}",
                    f"expected {len(header)} fields as in the header, found {len(fields)}",
                )
    if as_text:
        return table
    if rejects is None:
        rejects = Rejects(Positions(path, "csv", delimiter))
    return infer_types(table, rejects.where, rejects)


def _csv_header(path: str, delimiter: str = ",") -> list[str]:
    with open(path, newline="", encoding="utf-8-sig") as f:
        return next(csv.reader(f, delimiter=delimiter), [])


def _csv_records(path: str, delimiter: str = ",") -> list[tuple[int, list[str]]]:
    """(first line, fields) of every non-blank CSV record, header included (error path)."""
    out = []
    with open(path, newline="", encoding="utf-8-sig") as f:
        reader = csv.reader(f, delimiter=delimiter)
        last = 0
        for fields in reader:
            if fields:
                out.append((last + 1, fields))
            last = reader.line_num
    return out


def _csv_parse_error(path: str, message: str, delimiter: str = ",") -> BadInputFile:
    records = _csv_records(path, delimiter)
    width = len(records[0][1]) if records else 0
    for line, fields in records[1:]:
        if len(fields) != width:
            return BadInputFile(
                path,
                f"line {line}",
                f"expected {width} fields as in the header, found {len(fields)}",
            )
    return BadInputFile(path, None, message)


def _jsonl_lines(path: str) -> list[int]:
    """Physical line number of each non-blank line (the records of a JSON lines file)."""
    with open(path, encoding="utf-8") as f:
        return [i for i, line in enumerate(f, start=1) if line.strip()]


def _jsonl_parse_error(path: str, message: str) -> BadInputFile:
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, start=1):
            if not line.strip():
                continue
            try:
                value = json.loads(line)
            except json.JSONDecodeError as exc:
                return BadInputFile(path, f"line {number}", f"not valid JSON: {exc.msg}")
            if not isinstance(value, dict):
                return BadInputFile(path, f"line {number}", "each line must be one JSON object")
    return BadInputFile(path, None, message)


def infer_types(table: pa.Table, where: Positions, rejects: Rejects | None = None) -> pa.Table:
    """Every text column cast to the narrowest type all its values fit (module docstring).

    Raises:
        BadInputFile: an integer column with a value beyond 64 bits, or a column of
            mostly numbers with a value that is not one; names the line (unless
            ``rejects`` keeps going: then the row is rejected).
    """
    rejects = rejects if rejects is not None else Rejects(where)
    return pa.table(
        [
            _infer(c, name, where, rejects)
            for name, c in zip(table.column_names, table.columns, strict=True)
        ],
        names=table.column_names,
    )


def _infer(
    column: pa.ChunkedArray, name: str, where: Positions, rejects: Rejects
) -> pa.ChunkedArray:
    values = column.drop_null()
    if len(values) == 0:
        return column
    numbers = pc.match_substring_regex(column, _NUMBER).fill_null(False)
    counted = int(pc.sum(numbers).as_py() or 0)
    if counted * 2 > len(values) and counted < len(values):
        bad_mask = pc.and_(pc.invert(numbers), column.is_valid())
        for bad in np.flatnonzero(bad_mask.to_numpy(zero_copy_only=False)):
            rejects.reject(
                int(bad),
                f"column {name!r} holds numbers, but {_show(column[int(bad)].as_py())} is not "
                "one (fix the value, or give the column's type with --schema FILE)",
            )
        column = _nulled(column, bad_mask)
        values = column.drop_null()
        counted = len(values)
    if counted == len(values):
        if pc.all(pc.match_substring_regex(values, _INTEGER)).as_py():
            return _cast_integers(column, name, where, rejects)
        return column.cast(pa.float64())
    candidates: list[pa.DataType] = []
    if pc.all(pc.match_substring_regex(values, _DATE)).as_py():
        candidates.append(pa.date32())
    candidates.append(pa.timestamp("us"))
    if pc.all(pc.is_in(pc.utf8_lower(values), pa.array(["true", "false"]))).as_py():
        candidates.append(pa.bool_())
    for kind in candidates:
        try:
            return column.cast(kind)
        except _CAST_ERRORS:
            continue
    return column


def _cast_integers(
    column: pa.ChunkedArray, name: str, where: Positions, rejects: Rejects
) -> pa.ChunkedArray:
    try:
        return column.cast(pa.int64())
    except _CAST_ERRORS:
        array = column.combine_chunks()
        bad = _bad_indices(array, pa.int64())
        for index in bad:
            rejects.reject(
                index,
                f"column {name!r}: {array[index].as_py()} does not fit a 64-bit integer "
                "(BIGINT); give the column's type with --schema FILE (e.g. DOUBLE or VARCHAR)",
            )
        return _nulled(array, _mask(len(array), bad)).cast(pa.int64())


def _mask(length: int, indices: Sequence[int]) -> pa.Array:
    mask = np.zeros(length, dtype=bool)
    mask[list(indices)] = True
    return pa.array(mask)


def _nulled(column: pa.ChunkedArray | pa.Array, mask: pa.Array | pa.ChunkedArray):
    """``column`` with the values where ``mask`` is true replaced by NULL."""
    return pc.if_else(mask, pa.scalar(None, column.type), column)


# --- rejected rows ------------------------------------------------------------------------


class Rejects:
    """The rows validation refuses. By default the first raises ``BadInputFile`` (nothing
    is imported); with ``keep_going`` (``--continue``) each is recorded with its reason
    and ``keep`` leaves it out of the rows to import.

    ``reasons``: data-row index -> reason; ``dropped_rows``: (where, reason) of records
    the reader already left out (CSV records of the wrong width)."""

    def __init__(self, where: Positions, keep_going: bool = False) -> None:
        self.where = where
        self.keep_going = keep_going
        self.reasons: dict[int, str] = {}
        self.dropped_rows: list[tuple[str, str]] = []
        self.num_rows = 0  # of the data ``keep`` was given (row indices refer to it)

    def reject(self, index: int, reason: str) -> None:
        if not self.keep_going:
            raise BadInputFile(self.where.path, self.where(index), reason)
        self.reasons.setdefault(index, reason)

    def dropped(self, where: str, reason: str) -> None:
        self.dropped_rows.append((where, reason))

    def __len__(self) -> int:
        return len(self.reasons) + len(self.dropped_rows)

    def alive(self, num_rows: int) -> np.ndarray:
        """The indices of the rows not rejected, in order."""
        keep = np.ones(num_rows, dtype=bool)
        keep[list(self.reasons)] = False
        return np.flatnonzero(keep)

    def keep(self, data: pa.Table) -> pa.Table:
        """``data`` without the rejected rows."""
        self.num_rows = data.num_rows
        if not self.reasons:
            return data
        return data.take(pa.array(self.alive(data.num_rows)))

    def report(self) -> list[str]:
        """One line per skipped row, in file order: ``<file>, line N: <reason>``."""
        rows = [(self.where(i), r) for i, r in self.reasons.items()] + self.dropped_rows
        rows.sort(key=lambda wr: int(wr[0].split()[1]))
        return [f"{self.where.path}, {w}: {r}" for w, r in rows]


# --- validation ---------------------------------------------------------------------------


class Positions:
    """Maps a 0-based data-row index of a read file to ``line N`` / ``row N`` text.
    ``skip_lines``: CSV records the reader left out (they hold no data row)."""

    def __init__(self, path: str, fmt: str, delimiter: str = ",") -> None:
        self.path, self.fmt, self.delimiter = path, fmt, delimiter
        self.skip_lines: set[int] = set()
        self._lines: list[int] | None = None

    def __call__(self, index: int) -> str:
        if self.fmt in ("parquet", "json"):
            return f"row {index + 1}"
        if self._lines is None:  # computed only when an error needs it
            if self.fmt == "csv":
                records = _csv_records(self.path, self.delimiter)[1:]
                self._lines = [line for line, _ in records if line not in self.skip_lines]
            else:
                self._lines = _jsonl_lines(self.path)
        return f"line {self._lines[index]}"


def conform(
    data: pa.Table,
    where: Positions,
    *,
    target: Target | None,
    primary_key: Sequence[str],
    rejects: Rejects | None = None,
    check_repeats: bool = True,
) -> pa.Table:
    """``data`` checked and cast to fit ``target`` (or a new table keyed by ``primary_key``).
    With ``rejects`` keeping going, bad rows are recorded there and left out. Without
    ``check_repeats``, a repeated key is left for the engine to refuse (a streamed batch:
    the engine sees every batch's keys, and a refusal names the rows afterwards).

    Raises:
        BadInputFile: an unknown or missing column, a value that does not cast, a
            missing or duplicate primary-key value; names the first offending line.
    """
    rejects = rejects if rejects is not None else Rejects(where)
    path = where.path
    if data.num_columns == 0 and target is not None:
        data = pa.table({name: empty(kind) for name, kind in target.columns.items()})
    if data.num_columns == 0:
        raise BadInputFile(path, None, "the file has no columns")
    if target is not None:
        unknown = [c for c in data.column_names if c not in target.columns]
        if unknown:
            raise BadInputFile(
                path,
                None,
                f"column {unknown[0]!r} is not in the table (its columns: "
                f"{', '.join(target.columns)}; --map FILE renames the file's columns)",
            )
        arrays = {
            name: _cast(data.column(name), kind, name, where, rejects)
            for name, kind in target.columns.items()
            if name in data.column_names
        }
        data = pa.table(arrays)
    else:
        if where.fmt == "jsonl":
            _check_json_integers(data, where, rejects)
        data = _normalize(data)
    key = list(target.primary_key if target is not None else primary_key)
    missing = [c for c in key if c not in data.column_names]
    if missing:
        raise BadInputFile(
            path,
            None,
            f"primary-key column {missing[0]!r} is not in the file (its columns: "
            f"{', '.join(data.column_names)})",
        )
    _check_key(data, key, where, rejects, check_repeats)
    return rejects.keep(data)


def _check_json_integers(data: pa.Table, where: Positions, rejects: Rejects) -> None:
    """Refuse a JSON column of whole numbers that pyarrow widened to DOUBLE because one
    is beyond 64 bits (it would lose digits), naming the line and the number."""
    for name, column in zip(data.column_names, data.columns, strict=True):
        if not pa.types.is_floating(column.type):
            continue
        values = column.drop_null()
        if len(values) == 0 or not pc.all(pc.equal(pc.floor(values), values)).as_py():
            continue
        big = pc.fill_null(pc.greater_equal(pc.abs(column), 2.0**63), False)
        if not pc.any(big).as_py():
            continue
        for index in np.flatnonzero(big.to_numpy(zero_copy_only=False)):
            line = where(int(index))
            number = json.loads(_physical_line(where.path, int(line.split()[1])))[name]
            if isinstance(number, int):  # written as an integer, not as 1e20
                rejects.reject(
                    int(index),
                    f"column {name!r}: {number} does not fit a 64-bit integer (BIGINT); "
                    "give the column's type with --schema FILE (e.g. DOUBLE or VARCHAR)",
                )


def _physical_line(path: str, number: int) -> str:
    with open(path, encoding="utf-8") as f:
        return next(itertools.islice(f, number - 1, None))


def _normalize(data: pa.Table) -> pa.Table:
    """Types a new table can store: NULL-only -> text, any timestamp unit -> microseconds."""
    arrays = []
    for column in data.columns:
        kind = column.type
        if pa.types.is_null(kind):
            column = column.cast(pa.string())
        elif pa.types.is_timestamp(kind) and kind.unit != "us":
            column = column.cast(pa.timestamp("us", kind.tz))
        elif pa.types.is_large_string(kind):
            column = column.cast(pa.string())
        arrays.append(column)
    return pa.table(arrays, names=data.column_names)


def _cast(
    column: pa.ChunkedArray, kind: pa.DataType, name: str, where: Positions, rejects: Rejects
) -> pa.ChunkedArray:
    if column.type == kind:
        return column
    if pa.types.is_nested(kind) and (pa.types.is_string(column.type)):
        return _cast_json_text(column, kind, name, where, rejects)
    try:
        return column.cast(kind)
    except pa.ArrowNotImplementedError:
        raise BadInputFile(
            where.path, None, f"column {name!r}: cannot convert {column.type} values to {kind}"
        ) from None
    except _CAST_ERRORS:
        array = column.combine_chunks()
        bad = _bad_indices(array, kind)
        for index in bad:
            rejects.reject(
                index, f"column {name!r}: {_show(array[index].as_py())} is not a valid {kind}"
            )
        return _nulled(array, _mask(len(array), bad)).cast(kind)


def _bad_indices(array: pa.Array, kind: pa.DataType, start: int = 0) -> list[int]:
    """The indices (ascending, offset by ``start``) of the values of ``array`` that do not
    cast to ``kind``: halves that cast are dropped, failing ones bisected further."""
    try:
        array.cast(kind)
        return []
    except _CAST_ERRORS:
        if len(array) == 1:
            return [start]
    mid = len(array) // 2
    return _bad_indices(array.slice(0, mid), kind, start) + _bad_indices(
        array.slice(mid), kind, start + mid
    )


def _cast_json_text(
    column: pa.ChunkedArray, kind: pa.DataType, name: str, where: Positions, rejects: Rejects
) -> pa.Array:
    values = []
    for i, text in enumerate(column.to_pylist()):
        try:
            values.append(None if text is None else json.loads(text))
        except json.JSONDecodeError:
            rejects.reject(i, f"column {name!r}: {_show(text)} is not a JSON {kind}")
            values.append(None)
    try:
        return pa.array(values, kind)
    except _CAST_ERRORS as exc:
        raise BadInputFile(
            where.path, None, f"column {name!r}: values do not fit {kind} ({exc})"
        ) from None


def _show(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _check_key(
    data: pa.Table,
    key: Sequence[str],
    where: Positions,
    rejects: Rejects,
    check_repeats: bool = True,
) -> None:
    """Primary-key values must be present and unique within the file: an empty one is
    rejected, and of rows sharing a key every one after the first in the file."""
    for name in key:
        column = data.column(name)
        nulls = np.flatnonzero(numpy_bools(column.is_null())) if column.null_count else ()
        for index in nulls:
            rejects.reject(int(index), f"primary-key column {name!r} is empty")
    alive = rejects.alive(data.num_rows)
    if not key or len(alive) < 2 or not check_repeats:
        return
    rows = data.select(list(key)).take(pa.array(alive))
    rows = rows.append_column("__row", pa.array(alive))
    order = pc.sort_indices(rows, [(c, "ascending") for c in (*key, "__row")]).to_numpy()
    same = np.ones(len(order) - 1, dtype=bool)
    for name in key:
        values = rows.column(name).take(pa.array(order))
        same &= pc.equal(values.slice(0, len(order) - 1), values.slice(1)).to_numpy(
            zero_copy_only=False
        )
    # a run of equal keys, ordered by row: its first row stays, the others repeat it
    run_start = np.concatenate([[0], np.flatnonzero(~same) + 1])
    first_of = run_start[np.searchsorted(run_start, np.arange(len(order)), side="right") - 1]
    repeats = sorted(
        (int(alive[order[i]]), int(alive[order[first_of[i]]]))
        for i in np.flatnonzero(np.concatenate([[False], same]))
    )
    for b, a in repeats:
        value = ", ".join(f"{c}={_show(data.column(c)[a].as_py())}" for c in key)
        rejects.reject(b, f"duplicate primary key ({value}), first seen at {where(a)}")


# --- streamed Parquet ---------------------------------------------------------------------

STREAM_BATCH_ROWS = 1 << 16  # rows per batch of a streamed Parquet import


class _Shifted(Positions):
    """Positions of one batch of a streamed file: index 0 is data row ``base``."""

    def __init__(self, where: Positions, base: int) -> None:
        super().__init__(where.path, where.fmt, where.delimiter)
        self.base = base

    def __call__(self, index: int) -> str:
        return super().__call__(self.base + index)


class ParquetStream:
    """A Parquet file read a batch at a time, each batch checked and cast as ``conform``
    does the whole file (types, missing keys; a repeated key is the engine's to
    refuse, and the caller's to name by its rows). ``schema`` is the rows'
    schema before any is read; ``rows`` counts the rows handed on; ``mapping``
    renames the file's columns (``--map``).

    Raises (``open``, and while iterating):
        BadInputFile: as ``read_file`` and ``conform``, naming the row.
    """

    def __init__(
        self,
        path: str,
        target: Target | None,
        primary_key: Sequence[str],
        mapping: Mapping[str, str],
    ) -> None:
        self.path = path
        self.where = Positions(path, "parquet")
        self.target = target
        self.primary_key = tuple(target.primary_key if target is not None else primary_key)
        self.mapping = dict(mapping)
        self.rows = 0
        self._file: pq.ParquetFile | None = None
        self.schema = pa.schema([])

    def open(self) -> ParquetStream:
        if not os.path.isfile(self.path):
            raise BadInputFile(self.path, None, "no such file")
        _check_kind(self.path, "parquet")
        try:
            # pre_buffer=False: pyarrow keeps every pre-buffered row group of an
            # iter_batches pass until it ends (memory in proportion to the file)
            self._file = pq.ParquetFile(self.path, pre_buffer=False)
            empty = pa.Table.from_batches([], self._file.schema_arrow)  # no pandas import
        except (pa.ArrowInvalid, OSError) as exc:
            raise BadInputFile(self.path, None, f"not a readable Parquet file ({exc})") from None
        self.schema = self._conformed(empty, self.where).schema
        return self

    @property
    def num_rows(self) -> int:
        return self._file.metadata.num_rows if self._file is not None else 0

    def batches(self) -> Iterator[pa.RecordBatch]:
        assert self._file is not None, "open() first"
        try:
            for batch in self._file.iter_batches(batch_size=STREAM_BATCH_ROWS):
                where = _Shifted(self.where, self.rows)
                data = self._conformed(pa.Table.from_batches([batch]), where)
                self.rows += data.num_rows
                yield from data.cast(self.schema).to_batches()
        except (pa.ArrowInvalid, OSError) as exc:
            raise BadInputFile(self.path, None, f"not a readable Parquet file ({exc})") from None

    def _conformed(self, data: pa.Table, where: Positions) -> pa.Table:
        if self.mapping:
            data = mapped(data, self.mapping, self.path)
        return conform(
            data, where, target=self.target, primary_key=self.primary_key, check_repeats=False
        )


def mapped(data: pa.Table, mapping: Mapping[str, str], path: str) -> pa.Table:
    """``data`` with its columns renamed as the --map file says (file name -> column)."""
    if not mapping:
        return data
    unknown = [c for c in mapping if c not in data.column_names]
    if unknown:
        raise BadInputFile(
            path,
            None,
            f"the --map file names column {unknown[0]!r}, which the file does not have "
            f"(its columns: {', '.join(data.column_names)})",
        )
    names = [mapping.get(c, c) for c in data.column_names]
    twice = next((n for n in names if names.count(n) > 1), None)
    if twice is not None:
        raise BadInputFile(path, None, f"the --map file gives two columns the name {twice!r}")
    return data.rename_columns(names)


# --- export -------------------------------------------------------------------------------


def export_file(
    table: pa.Table,
    path: str,
    fmt: str,
    on_rows: Callable[[int], None] = lambda n: None,
    provenance: Mapping[str, str] | None = None,
) -> None:
    """Write ``table`` to ``path`` as CSV, Parquet or JSON lines, in batches of rows;
    ``provenance`` (where the rows came from) goes into a Parquet file's key-value
    metadata."""
    batches = table.to_batches(max_chunksize=EXPORT_BATCH)
    if fmt == "parquet":
        schema = table.schema.with_metadata(
            {
                **(table.schema.metadata or {}),
                **{k.encode(): v.encode() for k, v in (provenance or {}).items()},
            }
        )
        with pq.ParquetWriter(path, schema) as writer:
            for batch in batches:
                writer.write_batch(batch)
                on_rows(batch.num_rows)
        return
    with open(path, "w", encoding="utf-8", newline="") as out:
        if fmt == "csv":
            write_csv(table.slice(0, 0), out)
        for batch in batches:
            part = pa.Table.from_batches([batch])
            if fmt == "csv":
                write_csv(part, out, header=False)
            else:
                out.writelines(
                    json.dumps(row, default=str, ensure_ascii=False) + "\n"
                    for row in part.to_pylist()
                )
            on_rows(batch.num_rows)
