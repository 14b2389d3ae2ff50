"""Import never changes data silently: NULL only where the docs say, no silent widening,
and a file of the wrong kind or encoding is one clear error (issue 10, items 8 and 19)."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import arbordb
from arbordb.cli import importer
from arbordb.cli.errors import BadInputFile
from tests.cli.helpers import arbor, arbor_process, ok, refused

NULL_LOOKALIKES = ["NA", "N/A", "null", "NULL", "nan", "NaN", "#N/A", "None", "-nan", "n/a"]


def _write(path: Path, data: bytes | str) -> str:
    if isinstance(data, str):
        data = data.encode()
    path.write_bytes(data)
    return str(path)


def _rows(repo: Path, query: str) -> list[dict]:
    with arbordb.connect(str(repo)) as con:
        cur = con.cursor()
        cur.execute(query)
        return cur.fetch_arrow().to_pylist()


# --- item 8: only an unquoted empty field is NULL --------------------------------------------


def test_null_lookalikes_are_text_with_inferred_types(tmp_path):
    lines = [f"{i},{token}" for i, token in enumerate(NULL_LOOKALIKES)]
    path = _write(tmp_path / "a.csv", "id,label\n" + "\n".join(lines) + '\n98,\n99,""\n')
    data = importer.read_file(path, "csv")
    assert data.column("label").to_pylist() == [*NULL_LOOKALIKES, None, ""]


def test_null_lookalikes_are_text_into_an_existing_table(repo, tmp_path):
    ok(arbor(repo, "sql", "-q", "CREATE TABLE t (id BIGINT PRIMARY KEY, label VARCHAR)"))
    lines = [f"{i},{token}" for i, token in enumerate(NULL_LOOKALIKES)]
    path = _write(tmp_path / "a.csv", "id,label\n" + "\n".join(lines) + "\n98,\n")
    ok(arbor(repo, "table", "import", "--update", "t", path))
    got = [r["label"] for r in _rows(repo, "SELECT label FROM t ORDER BY id")]
    assert got == [*NULL_LOOKALIKES, None]


def test_null_lookalike_in_a_number_column_is_refused_not_null(repo, tmp_path):
    ok(arbor(repo, "sql", "-q", "CREATE TABLE t (id BIGINT PRIMARY KEY, score DOUBLE)"))
    path = _write(tmp_path / "a.csv", "id,score\n1,0.5\n2,NA\n")
    refused(arbor(repo, "table", "import", "-u", "t", path), "a.csv, line 3", "'score'", "'NA'")
    assert _rows(repo, "SELECT count(*) AS n FROM t") == [{"n": 0}]


def test_integer_beyond_int64_is_refused_not_widened(repo, tmp_path):
    path = _write(tmp_path / "big.csv", "id,n\n1,5\n2,99999999999999999999\n3,7\n")
    err = refused(arbor(repo, "table", "import", "--create", "--pk", "id", "t", path))
    assert "big.csv, line 3" in err and "column 'n'" in err and "99999999999999999999" in err
    assert "64-bit" in err and "--schema" in err
    assert "t" not in _rows_tables(repo)


def test_json_integer_beyond_int64_is_refused_not_widened(repo, tmp_path):
    text = '{"id": 1, "n": 5}\n\n{"id": 2, "n": 99999999999999999999}\n'
    path = _write(tmp_path / "big.jsonl", text)
    err = refused(arbor(repo, "table", "import", "--create", "--pk", "id", "t", path))
    assert "big.jsonl, line 3" in err and "column 'n'" in err and "99999999999999999999" in err
    assert "t" not in _rows_tables(repo)
    ok(arbor(repo, "table", "import", "-c", "t", _write(tmp_path / "f.jsonl", '{"n": 1e20}\n')))


def test_one_bad_value_in_a_number_column_is_refused_not_text(repo, tmp_path):
    path = _write(tmp_path / "typo.csv", "id,score\n1,0.5\n2,0.25\n3,O.75\n4,1\n")
    err = refused(arbor(repo, "table", "import", "--create", "--pk", "id", "t", path))
    assert "typo.csv, line 4" in err and "column 'score'" in err and "'O.75'" in err
    assert "t" not in _rows_tables(repo)


def test_text_column_with_some_numbers_stays_text(tmp_path):
    path = _write(tmp_path / "a.csv", "id,label\n1,cat\n2,42\n3,dog\n")
    data = importer.read_file(path, "csv")
    assert data.column("label").to_pylist() == ["cat", "42", "dog"]


def test_schema_file_gives_the_types(repo, tmp_path):
    schema = _write(
        tmp_path / "t.sql", "CREATE TABLE t (id BIGINT PRIMARY KEY, n VARCHAR, x DOUBLE)"
    )
    path = _write(tmp_path / "big.csv", "id,n,x\n1,99999999999999999999,1\n2,NA,2.5\n")
    out = ok(arbor(repo, "table", "import", "--create", "--schema", schema, "t", path))
    assert out == "Imported 2 rows into t (create).\n"
    assert _rows(repo, "SELECT * FROM t ORDER BY id") == [
        {"id": 1, "n": "99999999999999999999", "x": 1.0},
        {"id": 2, "n": "NA", "x": 2.5},
    ]
    bad = _write(tmp_path / "bad.csv", "id,n,x\n1,a,zero\n")
    other = _write(
        tmp_path / "u.sql", "CREATE TABLE u (id BIGINT PRIMARY KEY, n VARCHAR, x DOUBLE)"
    )
    refused(
        arbor(repo, "table", "import", "-c", "-s", other, "u", bad), "bad.csv, line 2", "'zero'"
    )
    w = _write(tmp_path / "w.sql", "CREATE TABLE w (id BIGINT PRIMARY KEY)")
    refused(arbor(repo, "table", "import", "-c", "-s", w, "v", bad), "does not create table 'v'")
    refused(arbor(repo, "table", "import", "-u", "-s", schema, "t", bad), "--create only", code=2)
    two = _write(tmp_path / "two.sql", "CREATE TABLE v (id BIGINT); DROP TABLE t")
    refused(arbor(repo, "table", "import", "-c", "-s", two, "v", bad), "one CREATE TABLE")
    assert "t" in _rows_tables(repo)
    assert not {"u", "v", "w"} & set(_rows_tables(repo))


def _rows_tables(repo: Path) -> list[str]:
    with arbordb.connect(str(repo)) as con:
        cur = con.cursor()
        cur.execute("SHOW TABLES")
        return [r[0] for r in cur.fetchall()]


_TEXT = st.one_of(
    st.sampled_from([*NULL_LOOKALIKES, "", " ", '"', '""', ",", "a,b", "line\nbreak", "'"]),
    st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00")),
)
_ROWS = st.lists(
    st.tuples(st.one_of(st.none(), _TEXT), st.one_of(st.none(), st.integers(-(2**63), 2**63 - 1))),
    max_size=8,
)


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "parquet"])
def test_export_then_import_gives_identical_data(fmt):
    with tempfile.TemporaryDirectory() as tmp:
        repo = Path(tmp) / "r"
        ok(arbor(Path(tmp), "init", str(repo)))
        with arbordb.connect(str(repo)) as con:
            con.cursor().execute("CREATE TABLE t (id BIGINT PRIMARY KEY, s VARCHAR, n BIGINT)")

        @settings(max_examples=15, suppress_health_check=[HealthCheck.too_slow])
        @given(rows=_ROWS)
        def round_trip(rows):
            with arbordb.connect(str(repo)) as con:
                cur = con.cursor()
                cur.execute("DELETE FROM t")
                if rows:
                    cur.executemany(
                        "INSERT INTO t VALUES (?, ?, ?)",
                        [(i, s, n) for i, (s, n) in enumerate(rows)],
                    )
            before = _rows(repo, "SELECT * FROM t ORDER BY id")
            path = repo / f"out.{fmt}"
            ok(arbor(repo, "table", "export", "--force", "t", str(path)))
            ok(arbor(repo, "table", "import", "--replace", "t", str(path)))
            assert _rows(repo, "SELECT * FROM t ORDER BY id") == before

        round_trip()


def test_export_then_create_keeps_lookalike_text(repo, tmp_path):
    ok(arbor(repo, "sql", "-q", "CREATE TABLE t (id BIGINT PRIMARY KEY, s VARCHAR)"))
    values = [*NULL_LOOKALIKES, "", None, "plain"]
    with arbordb.connect(str(repo)) as con:
        con.cursor().executemany("INSERT INTO t VALUES (?, ?)", list(enumerate(values)))
    path = str(tmp_path / "t.csv")
    ok(arbor(repo, "table", "export", "t", path))
    ok(arbor(repo, "table", "import", "--create", "--pk", "id", "u", path))
    assert [r["s"] for r in _rows(repo, "SELECT s FROM u ORDER BY id")] == values


# --- item 19: wrong encoding or format: one clear error --------------------------------------


def _parquet(path: Path) -> str:
    pq.write_table(pa.table({"id": [1], "label": ["x"]}), path)
    return str(path)


@pytest.mark.parametrize(
    ("name", "content", "fmt", "words"),
    [
        ("latin1.csv", b"id,label\n1,ok\n2,caf\xe9\n", None, ["latin1.csv, line 3", "not UTF-8"]),
        (
            "latin1.jsonl",
            b'{"id": 1, "label": "caf\xe9"}\n',
            None,
            ["latin1.jsonl, line 1", "UTF-8"],
        ),
        ("utf16.csv", "id,label\n1,x\n".encode("utf-16"), None, ["utf16.csv", "not UTF-8"]),
        ("data.csv", "PARQUET", None, ["data.csv", "Parquet file, not CSV"]),
        ("data.jsonl", "PARQUET", None, ["data.jsonl", "Parquet file, not JSON lines"]),
        ("data.parquet", b"id,label\n1,x\n", None, ["data.parquet", "not a readable Parquet"]),
        ("rows.txt", b'{"id": 1, "label": "x"}\n', "csv", ["rows.txt", "looks like JSON, not CSV"]),
        ("rows.txt", b"id,label\n1,x\n", "jsonl", ["rows.txt, line 1", "not valid JSON"]),
        ("rows.txt", b"id,label\n1,x\n", "parquet", ["rows.txt", "not a readable Parquet"]),
        ("empty.parquet", b"", None, ["empty.parquet", "not a readable Parquet"]),
    ],
)
def test_wrong_encoding_or_format_is_one_clear_error(repo, tmp_path, name, content, fmt, words):
    path = tmp_path / name
    if content == "PARQUET":
        _parquet(path)
    else:
        path.write_bytes(content)
    args = ["--format", fmt] if fmt else []
    refused(arbor(repo, "table", "import", "--create", *args, "t", str(path)), *words)
    assert "t" not in _rows_tables(repo)


def test_wrong_format_in_a_new_process_has_no_traceback(repo, tmp_path):
    path = _write(tmp_path / "x.csv", b"id,label\n1,\xff\xfe\n")
    ran = arbor_process(repo, "table", "import", "--create", "t", str(path))
    refused(ran, "x.csv, line 2", "not UTF-8")


def test_utf8_check_names_the_line_across_read_chunks(tmp_path, monkeypatch):
    monkeypatch.setattr(importer, "_UTF8_CHUNK", 7)
    text = "id,label\n1,é\n2,ü\n".encode() + b"3,\xe9\n"
    with pytest.raises(BadInputFile) as err:
        importer.read_file(_write(tmp_path / "a.csv", text), "csv")
    assert err.value.where == "line 4"
