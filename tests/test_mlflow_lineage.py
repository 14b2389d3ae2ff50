"""arbordb.mlflow with the real MLflow and a local tracking store (SQLite in a temp folder).

MLflow is slow to import and to create its store, so this one module holds every
MLflow test and shares one store; each check that needs a new process (the run id
alone must bring the rows back) starts one.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import arbordb

mlflow = pytest.importorskip("mlflow")  # the test extra installs it; arbordb[mlflow] too
import arbordb.mlflow as lineage  # noqa: E402
from arbordb.sql.errors import ObjectNotFound  # noqa: E402
from tests.cli.helpers import arbor, ok  # noqa: E402

V1 = [(1, "a purring cat", "cat"), (2, "a barking dog", "dog"), (3, "a cat asleep", "cat")]


@pytest.fixture(scope="module")
def tracking(tmp_path_factory):
    """A SQLite tracking store for this module (and for the processes it starts)."""
    uri = f"sqlite:///{tmp_path_factory.mktemp('mlflow') / 'mlflow.db'}"
    before = os.environ.get("MLFLOW_TRACKING_URI")
    os.environ["MLFLOW_TRACKING_URI"] = uri
    mlflow.set_tracking_uri(uri)
    yield uri
    if before is None:
        os.environ.pop("MLFLOW_TRACKING_URI", None)
    else:
        os.environ["MLFLOW_TRACKING_URI"] = before


def make_labels(path: Path) -> None:
    with arbordb.connect(path) as con:
        cur = con.cursor()
        cur.execute("CREATE TABLE labels (id BIGINT PRIMARY KEY, text VARCHAR, label VARCHAR)")
        cur.executemany("INSERT INTO labels VALUES (?, ?, ?)", V1)
        cur.execute("CALL dolt_commit('-Am', 'labels v1')")
        cur.execute("CALL dolt_tag('v1')")


def move_main_on(path: Path) -> None:
    with arbordb.connect(path) as con:
        cur = con.cursor()
        cur.execute("UPDATE labels SET label = 'lynx' WHERE id = 3")
        cur.execute("INSERT INTO labels VALUES (4, 'a parrot', 'parrot')")
        cur.execute("CALL dolt_commit('-am', 'main moves on')")


def rows(table) -> list[tuple]:
    data = table.to_pydict()
    return sorted(zip(*data.values(), strict=True))


# A new process that knows only the tracking store and the run ids: MLflow finds the
# source through the entry point (``import_first`` decides which package loads first).
FRESH = """
import json, sys
first, ids = sys.argv[1], sys.argv[2:]
if first == "arbordb":
    import arbordb.mlflow
import mlflow
out = {}
for run_id in ids:
    run = mlflow.get_run(run_id)
    (source,) = [mlflow.data.get_source(i) for i in run.inputs.dataset_inputs]
    via_source = source.load()
    import arbordb.mlflow
    via_load = arbordb.mlflow.load(run_id)
    out[run_id] = {
        "class": type(source).__module__ + "." + type(source).__name__,
        "source": sorted(map(list, zip(*via_source.to_pydict().values()))),
        "load": sorted(map(list, zip(*via_load.to_pydict().values()))),
        "tags": {k: v for k, v in run.data.tags.items() if k.startswith("arbordb.")},
    }
print(json.dumps(out))
"""


def fresh_process(import_first: str, *run_ids: str) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", FRESH, import_first, *run_ids],
        capture_output=True, text=True, timeout=300, env=dict(os.environ),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "Failure attempting to register" not in done.stderr, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_v1_rows_come_back_from_the_run_id_alone(tracking, tmp_path):
    repo = tmp_path / "labels"
    make_labels(repo)
    with arbordb.connect(repo) as con, mlflow.start_run() as run:
        logged = lineage.log_input(con, "labels", rev="v1", tag_commit=True)
        v1_hash, table_hash = (
            con.cursor()
            .execute("SELECT dolt_hashof('v1'), dolt_hashof_table('labels', 'v1')")
            .fetchone()
        )
    move_main_on(repo)

    assert logged.commit == v1_hash and logged.digest == table_hash and logged.num_rows == 3
    assert logged.uri == f"arbordb://{repo.resolve()}?table=labels&rev={v1_hash}"
    assert logged.tag == f"mlflow/{run.info.run_id}"
    (dataset,) = [i.dataset for i in mlflow.get_run(run.info.run_id).inputs.dataset_inputs]
    assert dataset.digest == table_hash and dataset.source_type == "arbordb"
    assert json.loads(dataset.profile) == {"num_rows": 3, "commit": v1_hash}
    assert [c["name"] for c in json.loads(dataset.schema)["mlflow_colspec"]] == [
        "id", "text", "label",
    ]  # fmt: skip

    got = fresh_process("mlflow", run.info.run_id)[run.info.run_id]
    assert got["class"] == "arbordb.mlflow.source.ArborDBDatasetSource"
    assert [tuple(r) for r in got["source"]] == V1 == [tuple(r) for r in got["load"]]
    assert got["tags"] == {
        "arbordb.repo": f"arbordb://{repo.resolve()}",
        "arbordb.branch": "main",
        "arbordb.commit": v1_hash,
        "arbordb.table_hash": table_hash,
    }
    assert rows(lineage.load(run.info.run_id)) == V1  # and in this process

    # the commit carries the run: arbor log and dolt_log show it
    assert f"tag: mlflow/{run.info.run_id}" in ok(arbor(repo, "log", "--oneline"))
    with arbordb.connect(repo, read_only=True) as con:
        (refs,) = (
            con.cursor()
            .execute(
                "SELECT refs FROM dolt_log('--decorate', 'short') WHERE commit_hash = ?", [v1_hash]
            )
            .fetchone()
        )
    assert f"mlflow/{run.info.run_id}" in refs


def test_rows_come_back_from_a_file_remote_without_the_repository(tracking, tmp_path, monkeypatch):
    monkeypatch.setenv("ARBOR_CACHE_HOME", str(tmp_path / "cache"))  # where remotes are cloned
    repo, remote = tmp_path / "labels", tmp_path / "remote"
    make_labels(repo)
    ok(arbor(repo, "remote", "add", "origin", remote.as_uri()))
    ok(arbor(repo, "push", "origin", "main"))
    with arbordb.connect(repo) as con, mlflow.start_run() as run:
        logged = lineage.log_input(con, "labels", rev="v1", remote=f"arbordb+file://{remote}")
    assert logged.uri.startswith(f"arbordb+file://{remote}?table=labels&rev=")
    shutil.rmtree(repo)  # only the remote is left

    got = fresh_process("arbordb", run.info.run_id)[run.info.run_id]
    assert [tuple(r) for r in got["source"]] == V1 == [tuple(r) for r in got["load"]]
    assert got["tags"]["arbordb.repo"] == f"arbordb+file://{remote}"


def test_a_query_result_is_logged_by_its_own_digest(tracking, tmp_path):
    repo = tmp_path / "labels"
    make_labels(repo)
    query = "SELECT label, count(*) AS n FROM labels GROUP BY label"
    with arbordb.connect(repo) as con, mlflow.start_run() as run:
        logged = lineage.log_input(con, "labels", rev="v1", query=query, context="evaluation")
    move_main_on(repo)
    assert rows(lineage.load(run.info.run_id)) == [("cat", 2), ("dog", 1)]
    assert logged.num_rows == 2 and logged.digest != lineage.parse_uri(logged.uri).rev
    (entry,) = mlflow.get_run(run.info.run_id).inputs.dataset_inputs
    assert [t.value for t in entry.tags if t.key == "mlflow.data.context"] == ["evaluation"]
    with arbordb.connect(repo) as con, mlflow.start_run():  # the same rows, another order
        again = lineage.log_input(con, "labels", rev="v1", query=query + " ORDER BY n")
    assert again.digest == logged.digest


def test_a_dirty_working_set_is_refused_or_committed_first(tracking, tmp_path):
    repo = tmp_path / "labels"
    make_labels(repo)
    with arbordb.connect(repo) as con, mlflow.start_run() as run:
        cur = con.cursor()
        cur.execute("INSERT INTO labels VALUES (9, 'uncommitted', 'dog')")
        head = cur.execute("SELECT dolt_hashof('HEAD')").fetchone()[0]
        with pytest.raises(arbordb.OperationalError, match="uncommitted changes"):
            lineage.log_input(con, "labels")
        assert cur.execute("SELECT dolt_hashof('HEAD')").fetchone()[0] == head
        assert mlflow.get_run(run.info.run_id).inputs.dataset_inputs == []
        lineage.log_input(con, "labels", rev="v1")  # a tag is immutable: logged as it is
        logged = lineage.log_input(con, "labels", commit_dirty=True, tag_commit=True)
        new_head, message = cur.execute(
            "SELECT commit_hash, message FROM dolt_log LIMIT 1"
        ).fetchone()
    assert logged.commit == new_head != head and run.info.run_id in message
    with pytest.raises(arbordb.ProgrammingError, match="several ArborDB datasets"):
        lineage.load(run.info.run_id)
    assert (9, "uncommitted", "dog") in rows(
        lineage.load(run.info.run_id, table="labels@" + new_head[:8])
    )


def test_a_repo_works_like_a_connection(tracking, tmp_path):
    make_labels(tmp_path / "labels")
    repo = arbordb.Repo(tmp_path / "labels")
    try:
        with mlflow.start_run() as run:
            logged = lineage.log_input(repo, "labels", rev="v1", tag_commit=True)
        assert logged.digest == repo.table_hash("labels", as_of="v1")
        assert f"mlflow/{run.info.run_id}" in [name for name, _ in repo.db.tags()]
        repo.write("labels", repo.table("labels").slice(0, 1))  # the repo is still usable
        repo.commit("keep one row")
    finally:
        repo.close()


def test_bad_input_is_refused_clearly(tracking, tmp_path):
    with mlflow.start_run() as run:
        mlflow.log_param("x", 1)
    with pytest.raises(ObjectNotFound, match="logged no ArborDB dataset"):
        lineage.load(run.info.run_id)
    with pytest.raises(arbordb.ProgrammingError, match="needs rev="):
        lineage.parse_uri("arbordb:///tmp/x?table=t")
    with pytest.raises(arbordb.ProgrammingError, match="not an ArborDB dataset URI"):
        lineage.parse_uri("s3://bucket/x?table=t&rev=abc")
    with pytest.raises(arbordb.NotSupportedError, match="arbordb\\+gs"):
        lineage.ArborDBDatasetSource("arbordb+gs://bucket/prefix?table=t&rev=abc").load()
    with pytest.raises(arbordb.ProgrammingError, match="no ArborDB repository or remote"):
        lineage.ArborDBDatasetSource(f"arbordb+file://{tmp_path}/none?table=t&rev=abc").load()
    make_labels(tmp_path / "r")
    with arbordb.connect(tmp_path / "r") as con, mlflow.start_run():
        with pytest.raises(arbordb.ProgrammingError, match="nope"):
            lineage.log_input(con, "nope", rev="v1")
        with pytest.raises(arbordb.ProgrammingError, match="needs a table, or a query"):
            lineage.log_input(con)


def test_import_arbordb_does_not_import_mlflow_until_arbordb_mlflow_is_used():
    code = (
        "import sys, arbordb; before = 'mlflow' in sys.modules; "
        "arbordb.mlflow.log_input; print(before, 'mlflow' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.stdout.strip() == "False True", done.stderr
