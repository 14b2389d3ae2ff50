"""Output formats of Arrow tables (cli/render.py), on hand-made tables."""

from __future__ import annotations

import datetime
import io
import json

import pyarrow as pa
import pyarrow.csv as pacsv
import pytest
from hypothesis import given
from hypothesis import strategies as st

from arbordb.cli import render


def labels() -> pa.Table:
    return pa.table(
        {
            "id": [1, 2, 30],
            "label": ["cat", None, "two\nlines"],
            "score": [0.5, 1.25, None],
            "emb": [[1.0], [2.0, 3.0], None],
        }
    )


def test_aligned_pads_columns_right_aligns_numbers_and_shows_null():
    assert render.aligned(labels()).splitlines() == [
        "+----+------------+-------+------------+",
        "| id | label      | score | emb        |",
        "+----+------------+-------+------------+",
        "|  1 | cat        |   0.5 | [1.0]      |",
        "|  2 | NULL       |  1.25 | [2.0, 3.0] |",
        "| 30 | two\\nlines |  NULL | NULL       |",
        "+----+------------+-------+------------+",
    ]


def test_aligned_empty_result_keeps_header():
    text = render.aligned(pa.table({"id": pa.array([], pa.int64())}))
    assert text.splitlines() == ["+----+", "| id |", "+----+", "+----+"]


def test_cell_strings_types():
    ts = pa.array([datetime.datetime(2026, 1, 2, 3, 4, 5)], pa.timestamp("us"))
    assert render.cell_strings(ts).to_pylist() == ["2026-01-02 03:04:05"]
    assert render.cell_strings(pa.array([b"\x00\xff"])).to_pylist() == ["0x00ff"]
    assert render.cell_strings(pa.array([True, None])).to_pylist() == ["true", "NULL"]
    dictionary = pa.array(["a", "b", "a"]).dictionary_encode()
    assert render.cell_strings(dictionary).to_pylist() == ["a", "b", "a"]


def test_csv_quotes_only_what_needs_it_and_round_trips():
    table = pa.table(
        {"s": ["plain", "", " pad", 'q"uote', "a,b", "x\ny", None], "n": [1, 2, 3, 4, 5, 6, 7]}
    )
    buffer = io.StringIO()
    render.write_csv(table, buffer)
    text = buffer.getvalue()
    assert text.splitlines()[:3] == ["s,n", "plain,1", '"",2']
    back = pacsv.read_csv(
        io.BytesIO(text.encode()),
        parse_options=pacsv.ParseOptions(newlines_in_values=True),
        convert_options=pacsv.ConvertOptions(
            strings_can_be_null=True, quoted_strings_can_be_null=False
        ),
    )
    assert back.column("s").to_pylist() == table.column("s").to_pylist()


@given(
    st.lists(
        st.one_of(
            st.none(), st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=8)
        ),
        min_size=1,
        max_size=20,
    )
)
def test_csv_round_trip_property(values):
    # A second column keeps a row whose only field is NULL from being a blank line.
    table = pa.table({"s": pa.array(values, pa.string()), "n": list(range(len(values)))})
    buffer = io.StringIO()
    render.write_csv(table, buffer)
    back = pacsv.read_csv(
        io.BytesIO(buffer.getvalue().encode()),
        parse_options=pacsv.ParseOptions(newlines_in_values=True),
        convert_options=pacsv.ConvertOptions(
            strings_can_be_null=True,
            quoted_strings_can_be_null=False,
            null_values=[""],
            column_types={"s": pa.string()},
        ),
    )
    expected = [v.replace("\r\n", "\n") if v is not None else None for v in values]
    got = [v.replace("\r\n", "\n") if v is not None else None for v in back.column("s").to_pylist()]
    assert got == expected


def test_json_is_dolts_rows_shape():
    buffer = io.StringIO()
    render.write_json(labels(), buffer)
    data = json.loads(buffer.getvalue())
    assert data["rows"][1] == {"id": 2, "label": None, "score": 1.25, "emb": [2.0, 3.0]}


def test_sql_inserts_quote_strings():
    buffer = io.StringIO()
    render.write_sql_inserts(pa.table({"a": ["it's"], "b": [None]}), buffer, "t")
    assert buffer.getvalue() == 'INSERT INTO "t" ("a", "b") VALUES (\'it\'\'s\', NULL);\n'


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_parquet_refuses_a_terminal_and_writes_bytes_otherwise(tmp_path):
    with pytest.raises(render.OutputError, match="terminal"):
        render.write_result(labels(), "parquet", _Tty())
    path = tmp_path / "out.parquet"
    with open(path, "w") as stream:
        render.write_result(labels(), "parquet", stream)
    import pyarrow.parquet as pq

    assert pq.read_table(path).equals(labels())


def test_color_only_on_a_terminal_without_no_color(monkeypatch):
    monkeypatch.delenv("NO_COLOR", raising=False)
    assert render.use_color(_Tty()) and not render.use_color(io.StringIO())
    monkeypatch.setenv("NO_COLOR", "1")
    assert not render.use_color(_Tty())


def test_row_count_line():
    assert render.row_count_line(1) == "1 row in set"
    assert render.row_count_line(3, 0.5) == "3 rows in set (0.50 sec)"
