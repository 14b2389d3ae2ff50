"""``arbordb.Repo`` as a notebook user drives it: DataFrames in, the version graph out."""

from __future__ import annotations

import pandas as pd
import pyarrow as pa
import pytest

import arbordb


@pytest.fixture
def repo(tmp_path):
    with arbordb.Repo(tmp_path / "r") as repo:
        repo.write(
            "labels",
            pa.table({"id": [1, 2, 3], "label": ["cat", "dog", "cat"]}),
            primary_key=["id"],
        )
        repo.commit("first labels")
        yield repo


def test_write_takes_pandas_and_arrow_streams(repo) -> None:
    repo.write("labels", pd.DataFrame({"id": [4], "label": ["owl"]}, index=[99]), mode="upsert")
    reader = pa.RecordBatchReader.from_batches(
        pa.schema([("id", pa.int64()), ("label", pa.string())]),
        [pa.record_batch({"id": [5], "label": ["bat"]})],
    )
    repo.write("labels", reader, mode="insert")
    repo.write("labels", pa.record_batch({"id": [6], "label": ["elk"]}), mode="insert")
    rows = repo.table("labels").sort_by("id").to_pydict()
    assert rows == {"id": [1, 2, 3, 4, 5, 6], "label": ["cat", "dog", "cat", "owl", "bat", "elk"]}
    with pytest.raises(arbordb.ProgrammingError, match="cannot write a list to table 'labels'"):
        repo.write("labels", [(7, "x")], mode="insert")


def test_dirty_flag_and_reading_the_committed_rows(repo) -> None:
    assert not repo.dirty
    repo.write("labels", pa.table({"id": [2], "label": ["fox"]}), mode="upsert")
    assert repo.dirty
    assert repo.table("labels").to_pydict()["label"][1] == "fox"  # the working set
    assert repo.table("labels", as_of="HEAD").to_pydict()["label"][1] == "dog"  # committed


def test_hashof_tags_show_merge_base(repo) -> None:
    first = repo.hashof("HEAD")
    assert repo.log(limit=1)[0]["commit_hash"] == first
    repo.tag("v1", message="training set v1")
    (tag,) = repo.tags
    assert (tag["name"], tag["commit_hash"], tag["message"]) == ("v1", first, "training set v1")
    repo.checkout("feature", create=True)
    repo.write("labels", pa.table({"id": [3], "label": ["owl"]}), mode="upsert")
    second = repo.commit("owl")
    assert repo.merge_base("main", "feature") == first
    shown = repo.show("HEAD")
    assert shown["commit_hash"] == second and shown["message"] == "owl"
    assert shown["diff"]["labels"].column("to_label").to_pylist() == ["owl"]
    assert repo.show("HEAD~2")["diff"] == {}  # the first commit has no parent
    repo.delete_tag("v1")
    assert repo.tags == []


def test_revert_and_cherry_pick(repo) -> None:
    repo.checkout("feature", create=True)
    repo.write("labels", pa.table({"id": [1], "label": ["lynx"]}), mode="upsert")
    picked = repo.commit("lynx")
    repo.checkout("main")
    outcome = repo.cherry_pick(picked)
    assert outcome.conflicts == 0
    assert repo.table("labels").to_pydict()["label"][0] == "lynx"
    assert repo.log(limit=1)[0]["message"] == "lynx"
    outcome = repo.revert("HEAD")
    assert outcome.conflicts == 0
    assert repo.table("labels").to_pydict()["label"][0] == "cat"
    assert repo.log(limit=1)[0]["message"] == 'Revert "lynx"'
    with pytest.raises(arbordb.ProgrammingError, match="revert needs"):
        repo.revert()
