"""Results: the rows of one statement, fetched as Python tuples or as Arrow.

RowsResult    rows already in Python (point lookups, small procedure results, counts)
ArrowResult   rows held as an Arrow table (procedure results, detached DuckDB results)
DuckResult    a result pending on the session's DuckDB connection (session.py
              invariants (5) and (6))
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING

import duckdb
import pyarrow as pa

from arbordb.engine.arrow_arrays import empty

from ..errors import SqlError, translate
from ..read import describe

if TYPE_CHECKING:
    from .session import Session

__all__ = ["ArrowResult", "DuckResult", "Result", "RowsResult"]


class Result:
    """The rows of one statement, fetched as Python tuples or as Arrow.

    Attributes:
        description: PEP 249 7-tuples, or None for a statement without rows.
        rowcount: rows changed by a DML statement; -1 when not known (queries).
    """

    description: list[tuple] | None = None
    rowcount: int = -1

    def fetchone(self) -> tuple | None:
        rows = self.fetchmany(1)
        return rows[0] if rows else None

    def fetchmany(self, size: int) -> list[tuple]:
        raise NotImplementedError

    def fetchall(self) -> list[tuple]:
        raise NotImplementedError

    def arrow(self) -> pa.Table:
        """The rows not fetched yet, as one Arrow table."""
        raise NotImplementedError

    def close(self) -> None:
        """Release what the result holds."""


class RowsResult(Result):
    """Rows already in Python (point lookups, procedures' small results, DML counts)."""

    def __init__(
        self,
        rows: list[tuple],
        columns: Sequence[tuple[str, pa.DataType]] | None,
        rowcount: int = -1,
        description: list[tuple] | None = None,
    ) -> None:
        self._rows = rows
        self._at = 0
        self._columns = list(columns) if columns is not None else None
        if description is None and self._columns is not None:
            description = describe.description_of(self._columns)
        self.description = description
        self.rowcount = rowcount

    def fetchone(self) -> tuple | None:
        at = self._at
        if at < len(self._rows):
            self._at = at + 1
            return self._rows[at]
        return None

    def fetchmany(self, size: int) -> list[tuple]:
        out = self._rows[self._at : self._at + size]
        self._at += len(out)
        return out

    def fetchall(self) -> list[tuple]:
        out = self._rows[self._at :]
        self._at = len(self._rows)
        return out

    def arrow(self) -> pa.Table:
        rows = self.fetchall()
        columns = self._columns or []
        arrays = [pa.array([r[i] for r in rows], t) for i, (_, t) in enumerate(columns)]
        return pa.Table.from_arrays(arrays, names=[n for n, _ in columns])


class ArrowResult(Result):
    """Rows held as an Arrow table (procedure results, detached DuckDB results)."""

    def __init__(self, data: pa.Table, description: list[tuple] | None = None) -> None:
        self._data = data
        self._at = 0
        self.description = description or describe.description_of(
            [(f.name, f.type) for f in data.schema]
        )

    def fetchmany(self, size: int) -> list[tuple]:
        part = self._data.slice(self._at, size)
        self._at += part.num_rows
        return _tuples(part)

    def fetchall(self) -> list[tuple]:
        return self.fetchmany(self._data.num_rows - self._at)

    def arrow(self) -> pa.Table:
        part = self._data.slice(self._at)
        self._at = self._data.num_rows
        return part


def _tuples(data: pa.Table) -> list[tuple]:
    return (
        list(zip(*(c.to_pylist() for c in data.columns), strict=True)) if data.num_columns else []
    )


class DuckResult(Result):
    """A result pending on the session's DuckDB connection (invariant (5)).

    DuckDB computes rows as they are fetched, so a fetch may fail (a failed cast in a
    late row). Such a failure is translated like any statement's (the relation names
    of the statement that made the result are kept for its message) and ends the
    result: the session is free for its next statement, which it does not affect
    (invariant (6)).
    """

    def __init__(self, session: Session) -> None:
        self._session = session
        self._duck = session.duck
        self._names = dict(session.relations.names)
        self.description = [
            (d[0], str(d[1]), None, None, None, None, True) for d in self._duck.description or ()
        ]
        self._detached: ArrowResult | None = None
        self._error: SqlError | None = None
        self._done = False
        session.pending = self

    def _fetch(self, work):
        """Run one DuckDB fetch; a failure ends the result and is raised translated."""
        if self._error is not None:
            raise self._error
        try:
            return work()
        except Exception as exc:
            self._finish()
            self._error = translate(self._session.relations.take_failure(exc), self._names)
            raise self._error from exc

    def fetchmany(self, size: int) -> list[tuple]:
        if self._detached is not None:
            return self._detached.fetchmany(size)
        if self._error is not None:
            raise self._error
        if self._done:
            return []
        rows = self._fetch(lambda: self._duck.fetchmany(size))
        if len(rows) < size:
            self._finish()
        return rows

    def fetchone(self) -> tuple | None:
        if self._detached is not None:
            return self._detached.fetchone()
        if self._error is not None:
            raise self._error
        if self._done:
            return None
        row = self._fetch(self._duck.fetchone)
        if row is None:
            self._finish()
        return row

    def fetchall(self) -> list[tuple]:
        if self._detached is not None:
            return self._detached.fetchall()
        if self._error is not None:
            raise self._error
        if self._done:
            return []
        rows = self._fetch(self._duck.fetchall)
        self._finish()
        return rows

    def arrow(self) -> pa.Table:
        if self._detached is None and not self._done:
            self.detach()
        if self._error is not None:
            raise self._error
        if self._detached is None:
            return pa.table({d[0]: empty(pa.null()) for d in self.description or ()})
        return self._detached.arrow()

    def detach(self) -> None:
        """Fetch the rest into Arrow, freeing the DuckDB connection (invariant (5)).

        Never raises: a failure is kept and raised by this result's next fetch, not by
        the statement that needed the connection (invariant (6))."""
        if self._detached is not None or self._done:
            return
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # DuckDB warns that Arrow from DB-API copies
            try:
                data = self._fetch(self._duck.to_arrow_table)
            except SqlError:
                return
        self._detached = ArrowResult(data, self.description)
        self._finish()

    def _finish(self) -> None:
        self._done = True
        if self._session.pending is self:
            self._session.pending = None

    def close(self) -> None:
        if not self._done and self._detached is None:
            try:
                self._duck.abort()
            except duckdb.Error:  # the result is dropped either way
                pass
        self._finish()
