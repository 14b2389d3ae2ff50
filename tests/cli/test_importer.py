"""Reading, validating and exporting files (cli/importer.py), without a repository."""

from __future__ import annotations

import datetime

import pyarrow as pa
import pytest

from arbordb.cli import importer
from arbordb.cli.errors import BadInputFile, UsageError

TARGET = importer.Target({"id": pa.int64(), "label": pa.string(), "score": pa.float64()}, ("id",))


def write(tmp_path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def load(path: str, fmt: str = "csv", target=None, pk=("id",)) -> pa.Table:
    data = importer.read_file(path, fmt, as_text=target is not None)
    return importer.conform(data, importer.Positions(path, fmt), target=target, primary_key=pk)


def test_format_from_extension():
    assert importer.file_format("a.CSV") == "csv"
    assert importer.file_format("a.ndjson") == "jsonl"
    assert importer.file_format("a.pq") == "parquet"
    assert importer.file_format("a.txt", "csv") == "csv"
    with pytest.raises(UsageError, match="--format"):
        importer.file_format("a.txt")


def test_types_inferred_from_every_row(tmp_path):
    rows = "\n".join(f"{i},{i}.5,2026-01-0{i % 9 + 1},true,w{i}" for i in range(5000))
    path = write(tmp_path, "a.csv", "id,x,day,flag,t\n" + rows + "\n5000,7,2026-01-01,false,8\n")
    data = load(path)
    assert data.schema.types == [pa.int64(), pa.float64(), pa.date32(), pa.bool_(), pa.string()]
    numbers = "\n".join(f"{i},{i}.5" for i in range(5000))
    late = write(tmp_path, "b.csv", "id,x\n" + numbers + "\n5000,oops\n")
    with pytest.raises(BadInputFile, match="line 5002: column 'x' holds numbers, but 'oops'"):
        load(late)


def test_empty_field_is_null_and_quoted_empty_is_empty_string(tmp_path):
    data = load(write(tmp_path, "a.csv", 'id,label\n1,\n2,""\n'))
    assert data.column("label").to_pylist() == [None, ""]


def test_bad_value_names_the_physical_line(tmp_path):
    text = 'id,label,score\n1,cat,0.5\n2,"multi\nline",0.7\n\n3,dog,abc\n'
    path = write(tmp_path, "a.csv", text)
    with pytest.raises(BadInputFile) as err:
        load(path, target=TARGET)
    assert err.value.where == "line 6"
    assert "column 'score'" in str(err.value) and "'abc'" in str(err.value)
    assert str(err.value).endswith("(nothing was imported)")


def test_wrong_field_count(tmp_path):
    path = write(tmp_path, "b.csv", "id,label\n1,cat\n2,dog,extra\n")
    with pytest.raises(
        BadInputFile, match=r"b\.csv, line 3: expected 2 fields as in the header, found 3"
    ):
        importer.read_file(path, "csv")


def test_duplicate_and_missing_keys(tmp_path):
    path = write(tmp_path, "c.csv", "id,label\n1,cat\n2,dog\n1,bird\n")
    with pytest.raises(
        BadInputFile, match=r"line 4: duplicate primary key \(id=1\), first seen at line 2"
    ):
        load(path)
    path = write(tmp_path, "d.csv", "id,label\n1,cat\n,dog\n")
    with pytest.raises(BadInputFile, match="line 3: primary-key column 'id' is empty"):
        load(path)
    with pytest.raises(BadInputFile, match="primary-key column 'nope' is not in the file"):
        load(path, pk=("nope",))


def test_composite_key_duplicates(tmp_path):
    path = write(tmp_path, "k.csv", "a,b\n1,x\n1,y\n2,x\n1,y\n")
    with pytest.raises(BadInputFile, match="line 5: duplicate primary key \\(a=1, b='y'\\)"):
        load(path, pk=("a", "b"))


def test_unknown_column_for_existing_table(tmp_path):
    path = write(tmp_path, "e.csv", "id,colour\n1,red\n")
    with pytest.raises(BadInputFile, match="column 'colour' is not in the table"):
        load(path, target=TARGET)


def test_existing_table_types_are_not_guessed(tmp_path):
    target = importer.Target({"zip": pa.string(), "n": pa.int32()}, ("zip",))
    data = load(write(tmp_path, "z.csv", "zip,n\n00123,7\n"), target=target)
    assert data.to_pylist() == [{"zip": "00123", "n": 7}]
    assert data.schema.types == [pa.string(), pa.int32()]


def test_header_problems(tmp_path):
    with pytest.raises(BadInputFile, match="no header"):
        importer.read_file(write(tmp_path, "h.csv", ""), "csv")
    with pytest.raises(BadInputFile, match="column 'a' appears twice"):
        importer.read_file(write(tmp_path, "h2.csv", "a,a\n1,2\n"), "csv")
    with pytest.raises(BadInputFile, match="no such file"):
        importer.read_file(str(tmp_path / "missing.csv"), "csv")


def test_jsonl_lines_and_errors(tmp_path):
    good = write(tmp_path, "g.jsonl", '{"id": 1, "label": "a"}\n\n{"id": 2, "label": "b"}\n')
    assert load(good, "jsonl").num_rows == 2
    bad = write(tmp_path, "b.jsonl", '{"id": 1}\n\n{"id": 2\n')
    with pytest.raises(BadInputFile, match="line 3: not valid JSON"):
        importer.read_file(bad, "jsonl")
    dup = write(tmp_path, "d.jsonl", '{"id": 1}\n\n{"id": 1}\n')
    with pytest.raises(BadInputFile, match="line 3: duplicate"):
        load(dup, "jsonl")


def test_parquet_rows_and_list_columns(tmp_path):
    import pyarrow.parquet as pq

    path = tmp_path / "p.parquet"
    pq.write_table(pa.table({"id": [1, 2, 2], "emb": [[1.0], [2.0], None]}), path)
    with pytest.raises(BadInputFile, match="row 3: duplicate"):
        load(str(path), "parquet")
    with pytest.raises(BadInputFile, match="not a readable Parquet file"):
        importer.read_file(write(tmp_path, "x.parquet", "nope"), "parquet")


def test_list_column_from_csv_json_text(tmp_path):
    target = importer.Target({"id": pa.int64(), "emb": pa.list_(pa.float64())}, ("id",))
    data = load(write(tmp_path, "l.csv", 'id,emb\n1,"[1.0, 2.5]"\n2,\n'), target=target)
    assert data.column("emb").to_pylist() == [[1.0, 2.5], None]
    with pytest.raises(BadInputFile, match="line 2: column 'emb'"):
        load(write(tmp_path, "l2.csv", "id,emb\n1,[oops\n"), target=target)


@pytest.mark.parametrize("fmt", ["csv", "parquet", "jsonl"])
def test_export_round_trip(tmp_path, fmt):
    table = pa.table(
        {
            "id": [1, 2, 3],
            "label": ["cat", None, "a,b\nc"],
            "day": [datetime.date(2026, 1, 1), None, datetime.date(2026, 1, 3)],
        }
    )
    path = str(tmp_path / f"out.{fmt}")
    seen = []
    importer.export_file(table, path, fmt, on_rows=seen.append)
    assert sum(seen) == 3
    back = load(path, fmt)
    assert back.column("id").to_pylist() == [1, 2, 3]
    assert back.column("label").to_pylist() == ["cat", None, "a,b\nc"]
    days = [str(v)[:10] if v else None for v in back.column("day").to_pylist()]
    assert days == ["2026-01-01", None, "2026-01-03"]  # JSON reads dates back as timestamps
