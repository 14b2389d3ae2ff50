"""``arbor table import`` flags as Dolt names them: --append, --map, --delim, --file-type,
--continue (with its report), --force, and the key of a table made without --pk."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import arbordb
from tests.cli.helpers import arbor, ok, refused


def _write(path: Path, text: str) -> str:
    path.write_text(text)
    return str(path)


def _rows(repo: Path, query: str) -> list[dict]:
    with arbordb.connect(str(repo)) as con:
        cur = con.cursor()
        cur.execute(query)
        return cur.fetch_arrow().to_pylist()


def _key(repo: Path, table: str) -> list[str]:
    rows = _rows(repo, f"DESCRIBE {table}")
    return [r["column_name"] for r in rows if r.get("key") == "PRI"]


def test_create_without_pk_keys_the_first_column_as_dolt_does(repo, tmp_path):
    path = _write(tmp_path / "a.csv", "code,label\nx,cat\ny,dog\n")
    out = ok(arbor(repo, "table", "import", "-c", "t", path))
    assert "primary key code" in out
    assert _key(repo, "t") == ["code"]
    repeated = _write(tmp_path / "b.csv", "code,label\nx,cat\nx,dog\n")
    refused(arbor(repo, "table", "import", "-c", "u", repeated), "b.csv, line 3", "duplicate")


def test_keyless_only_when_asked(repo, tmp_path):
    path = _write(tmp_path / "a.csv", "code,label\nx,cat\nx,cat\n")
    out = ok(arbor(repo, "table", "import", "-c", "--keyless", "t", path))
    assert "keyless" in out
    assert _key(repo, "t") == []
    assert len(_rows(repo, "SELECT * FROM t")) == 2
    refused(arbor(repo, "table", "import", "-c", "--keyless", "--pk", "code", "u", path), code=2)
    refused(arbor(repo, "table", "import", "-u", "--keyless", "t", path), "--create", code=2)


def test_create_long_names_and_force(repo, tmp_path):
    path = _write(tmp_path / "a.csv", "id,label\n1,cat\n")
    ok(arbor(repo, "table", "import", "--create-table", "--pk", "id", "t", path))
    refused(arbor(repo, "table", "import", "-c", "t", path), "already exists", "--force")
    other = _write(tmp_path / "b.csv", "id,score\n7,0.5\n8,0.25\n")
    ok(arbor(repo, "table", "import", "-c", "-f", "t", other))
    assert _rows(repo, "SELECT * FROM t ORDER BY id") == [
        {"id": 7, "score": 0.5},
        {"id": 8, "score": 0.25},
    ]


def test_append_adds_rows_and_refuses_existing_keys(labels, tmp_path):
    new = _write(tmp_path / "new.csv", "id,label,score\n5,eel,0.1\n6,fox,0.2\n")
    ok(arbor(labels, "table", "import", "--append", "labels", new))
    assert len(_rows(labels, "SELECT * FROM labels")) == 6
    clash = _write(tmp_path / "clash.csv", "id,label,score\n7,owl,0.3\n2,DOG,0.0\n")
    refused(
        arbor(labels, "table", "import", "-a", "labels", clash),
        "clash.csv, line 3",
        "already has the key (id=2)",
        "--update",
    )
    assert _rows(labels, "SELECT label FROM labels WHERE id IN (2, 7)") == [{"label": "dog"}]
    ran = arbor(labels, "table", "import", "-a", "--continue", "labels", clash)
    assert ran.code == 0, ran.err
    assert "clash.csv, line 3: table 'labels' already has the key (id=2)" in ran.err
    assert "Lines skipped: 1" in ran.err
    assert _rows(labels, "SELECT id, label FROM labels WHERE id IN (2, 7) ORDER BY id") == [
        {"id": 2, "label": "dog"},
        {"id": 7, "label": "owl"},
    ]


def test_map_renames_file_columns(labels, tmp_path):
    mapping = _write(tmp_path / "m.json", json.dumps({"ident": "id", "name": "label"}))
    path = _write(tmp_path / "a.csv", "ident,name,score\n9,yak,0.4\n")
    ok(arbor(labels, "table", "import", "-u", "--map", mapping, "labels", path))
    assert _rows(labels, "SELECT label FROM labels WHERE id = 9") == [{"label": "yak"}]
    wrong = _write(tmp_path / "w.json", json.dumps({"nope": "id"}))
    refused(arbor(labels, "table", "import", "-u", "-m", wrong, "labels", path), "'nope'")
    bad = _write(tmp_path / "bad.json", "[1, 2]")
    refused(arbor(labels, "table", "import", "-u", "-m", bad, "labels", path), "JSON object")
    twice = _write(tmp_path / "twice.json", json.dumps({"ident": "id", "name": "id"}))
    refused(arbor(labels, "table", "import", "-u", "-m", twice, "labels", path), "two columns")
    new = _write(tmp_path / "new.json", json.dumps({"ident": "key"}))
    ok(arbor(labels, "table", "import", "-c", "-m", new, "fresh", path))
    assert _key(labels, "fresh") == ["key"]


def test_delim_and_file_type(repo, tmp_path):
    semi = _write(tmp_path / "a.txt", "id;label\n1;a,b\n")
    refused(arbor(repo, "table", "import", "-c", "t", semi), "--file-type", code=2)
    ok(arbor(repo, "table", "import", "-c", "--delim", ";", "t", semi))
    assert _rows(repo, "SELECT label FROM t") == [{"label": "a,b"}]
    pipes = _write(tmp_path / "b.dat", "id|label\n2|c\n")
    ok(arbor(repo, "table", "import", "-u", "--file-type", "psv", "t", pipes))
    tabs = _write(tmp_path / "c.tsv", "id\tlabel\n3\td\n")
    ok(arbor(repo, "table", "import", "-u", "t", tabs))
    tab_txt = _write(tmp_path / "d.txt", "id\tlabel\n4\te\n")
    ok(arbor(repo, "table", "import", "-u", "--delim", "\\t", "t", tab_txt))
    lines = _write(tmp_path / "e.data", '{"id": 5, "label": "f"}\n')
    ok(arbor(repo, "table", "import", "-u", "--file-type", "json", "t", lines))
    assert [r["id"] for r in _rows(repo, "SELECT id FROM t ORDER BY id")] == [1, 2, 3, 4, 5]
    refused(arbor(repo, "table", "import", "-u", "--delim", ";", "t", lines + ".jsonl"), code=2)
    refused(
        arbor(repo, "table", "import", "-u", "--delim", ";;", "t", semi), "one character", code=2
    )


def test_continue_reports_each_skipped_line_and_quiet_only_the_count(labels, tmp_path):
    text = "id,label,score\n10,a,0.5\n11,b,oops\n12,c\n,d,0.1\n10,e,0.2\n13,f,0.3\n"
    path = _write(tmp_path / "a.csv", text)
    refused(arbor(labels, "table", "import", "-u", "labels", path), "a.csv, line")
    assert len(_rows(labels, "SELECT * FROM labels")) == 4  # nothing was imported
    ran = arbor(labels, "table", "import", "-u", "--continue", "labels", path)
    assert ran.code == 0, ran.err
    for line in (
        "line 3: column 'score'",
        "line 4: expected 3 fields",
        "line 5: primary-key",
        "line 6: duplicate primary key (id=10), first seen at line 2",
    ):
        assert f"a.csv, {line}" in ran.err, ran.err
    assert "Lines skipped: 4" in ran.err
    assert "Imported 2 rows" in ran.out
    ids = [r["id"] for r in _rows(labels, "SELECT id FROM labels ORDER BY id")]
    assert ids == [1, 2, 3, 4, 10, 13]
    quiet = arbor(labels, "table", "import", "-u", "--continue", "--quiet", "labels", path)
    assert quiet.err.strip() == "Lines skipped: 4"
    refused(arbor(labels, "table", "import", "-u", "--quiet", "labels", path), code=2)


_ROW = st.one_of(
    st.tuples(st.just("good"), st.integers(0, 12), st.floats(-5, 5, allow_nan=False)),
    st.tuples(st.just("bad_value"), st.integers(0, 12), st.just("x")),
    st.tuples(st.just("ragged"), st.integers(0, 12), st.none()),
    st.tuples(st.just("no_key"), st.none(), st.floats(-5, 5, allow_nan=False)),
)


@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
@given(rows=st.lists(_ROW, max_size=12), existing=st.sets(st.integers(0, 12), max_size=4))
def test_append_continue_keeps_exactly_the_rows_a_model_keeps(rows, existing):
    """Property: --append --continue imports the rows a plain model keeps (well-formed,
    with a key neither the table nor an earlier kept row holds) and reports the others."""
    with tempfile.TemporaryDirectory() as tmp:
        repo = Path(tmp) / "r"
        ok(arbor(Path(tmp), "init", str(repo)))
        ok(arbor(repo, "sql", "-q", "CREATE TABLE t (id BIGINT PRIMARY KEY, score DOUBLE)"))
        for key in existing:
            ok(arbor(repo, "sql", "-q", f"INSERT INTO t VALUES ({key}, 100)"))
        lines, kept, skipped, seen = ["id,score"], {}, [], set(existing)
        for number, (kind, key, value) in enumerate(rows, start=2):
            lines.append(f"{key}" if kind == "ragged" else f"{'' if key is None else key},{value}")
            if kind != "good" or key in seen:
                skipped.append(number)
            else:
                seen.add(key)
                kept[key] = value
        path = _write(Path(tmp) / "a.csv", "\n".join(lines) + "\n")
        ran = arbor(repo, "table", "import", "-a", "--continue", "t", path)
        assert ran.code == 0, ran.err
        reported = [
            int(w.split("line ")[1].split(":")[0])
            for w in ran.err.splitlines()
            if "a.csv, line" in w
        ]
        assert reported == skipped
        assert (f"Lines skipped: {len(skipped)}" in ran.err) == bool(skipped)
        got = {r["id"]: r["score"] for r in _rows(repo, "SELECT * FROM t WHERE score <> 100")}
        assert got == kept


def test_dolt_json_rows_file_and_all_text(repo, tmp_path):
    rows = {"rows": [{"id": 1, "name": "a"}, {"id": 2, "name": "b"}]}
    path = _write(tmp_path / "d.json", json.dumps(rows))
    ok(arbor(repo, "table", "import", "-c", "t", path))
    assert _rows(repo, "SELECT * FROM t ORDER BY id") == rows["rows"]
    dup = _write(tmp_path / "e.json", json.dumps({"rows": [{"id": 3}, {"id": 3}]}))
    refused(arbor(repo, "table", "import", "-u", "t", dup), "e.json, row 2", "duplicate")
    lines = _write(tmp_path / "f.json", '{"rows": [1]}\n{"rows": [2]}\n')  # JSON lines
    ok(arbor(repo, "table", "import", "-c", "--keyless", "u", lines))
    assert len(_rows(repo, "SELECT * FROM u")) == 2
    csv = _write(tmp_path / "x.csv", "id,n\n007,2\n")
    ok(arbor(repo, "table", "import", "-c", "--all-text", "v", csv))
    assert _rows(repo, "SELECT * FROM v") == [{"id": "007", "n": "2"}]
    refused(arbor(repo, "table", "import", "-u", "--all-text", "v", csv), code=2)
    ran = arbor(repo, "table", "import", "-u", "--continue", "--ignore-skipped-rows", "v", csv)
    assert ran.code == 0, ran.err


def test_exactly_one_mode(labels, tmp_path):
    path = _write(tmp_path / "a.csv", "id,label,score\n9,x,0.1\n")
    refused(arbor(labels, "table", "import", "-c", "-u", "labels", path), "one of", code=2)
    refused(arbor(labels, "table", "import", "-a", "-r", "labels", path), "one of", code=2)
    refused(arbor(labels, "table", "import", "labels", path), "--create", code=2)
    assert len(_rows(labels, "SELECT * FROM labels")) == 4


def test_schema_file_with_map_continue_and_force(repo, tmp_path):
    schema = _write(tmp_path / "s.sql", "CREATE TABLE t (id BIGINT PRIMARY KEY, score DOUBLE)")
    mapping = _write(tmp_path / "m.json", json.dumps({"key": "id"}))
    path = _write(tmp_path / "a.csv", "key,score\n1,0.5\n2,bad\n3,0.25\n")
    refused(arbor(repo, "table", "import", "-c", "-s", schema, "-m", mapping, "t", path), "line 3")
    assert "t" not in [r["name"] for r in _rows(repo, "SHOW TABLES")]
    ran = arbor(repo, "table", "import", "-c", "-s", schema, "-m", mapping, "--continue", "t", path)
    assert ran.code == 0 and "a.csv, line 3: column 'score'" in ran.err
    assert _rows(repo, "SELECT * FROM t ORDER BY id") == [
        {"id": 1, "score": 0.5},
        {"id": 3, "score": 0.25},
    ]
    refused(arbor(repo, "table", "import", "-c", "-s", schema, "-m", mapping, "t", path), "exists")
    good = _write(tmp_path / "b.csv", "key,score\n7,1.5\n")
    ok(arbor(repo, "table", "import", "-c", "-f", "-s", schema, "-m", mapping, "t", good))
    assert _rows(repo, "SELECT * FROM t") == [{"id": 7, "score": 1.5}]
