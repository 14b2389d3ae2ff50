"""Remotes over real transports (file:// folders, s3:// on a local moto server):
clone, fetch, push, pull, and the failure cases of Dolt's remote test suites."""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from arbordb.engine.errors import (
    AlreadyExists,
    BranchNotFound,
    CorruptChunk,
    DirtyWorkingSet,
    InvalidInput,
    PushRejected,
    RemoteNotFound,
    RemoteUnreachable,
    TagNotFound,
)
from arbordb.engine.hash import parse_address
from arbordb.engine.remote.manifest import Manifest
from arbordb.engine.remote.opening import open_transport
from arbordb.engine.remote.sync import gc_remote
from arbordb.engine.repo import Repo, clone

from .conftest import free_port


def rows(ids, label="cat"):
    ids = list(ids)
    return pa.table(
        {"id": ids, "label": [f"{label}{i}" for i in ids], "score": [i / 7 for i in ids]}
    )


def make_repo(path: Path, n: int = 5000) -> Repo:
    repo = Repo(path)
    repo.write("labels", rows(range(n)), primary_key=["id"])
    repo.commit("first labels")
    return repo


def remote_size(url: str) -> int:
    transport = open_transport(url)
    return sum(len(transport.read_pack(n.removesuffix(".pack"))) for n in transport.list_packs())


def manifest_of(url: str) -> bytes | None:
    return open_transport(url).read_manifest()[0]


# --- the transport contract, on each transport ----------------------------------------


def test_manifest_compare_and_swap(remote_url):
    transport = open_transport(remote_url)
    assert transport.read_manifest() == (None, None)
    assert transport.swap_manifest(b"one", None)
    assert not transport.swap_manifest(b"two", None)  # exists already: create refused
    data, token = transport.read_manifest()
    assert data == b"one"
    assert transport.swap_manifest(b"three", token)
    assert not transport.swap_manifest(b"four", token)  # stale token: someone moved it
    assert transport.read_manifest()[0] == b"three"
    transport.put_pack("p1", b"pack bytes")
    assert (
        transport.read_range("p1", 5, 5) == b"bytes" and transport.read_pack("p1") == b"pack bytes"
    )
    assert list(transport.list_packs()) == ["p1"]
    transport.delete_pack("p1")
    assert transport.list_packs() == {}


# --- round trips --------------------------------------------------------------------


def test_push_then_clone_is_a_complete_offline_repository(tmp_path, remote_url):
    src = make_repo(tmp_path / "src")
    src.tag("v1", message="trained on this")
    src.add_remote("origin", remote_url)
    src.push("origin", "main", set_upstream=True)
    src.push("origin", tag="v1")
    copy = clone(remote_url, tmp_path / "copy")
    assert copy.active_branch == "main"
    assert copy.db.fsck() == []
    assert copy.table("labels").sort_by("id").equals(src.table("labels").sort_by("id"))
    assert copy.log()[0]["commit_hash"] == src.log()[0]["commit_hash"]
    assert copy.table("labels", as_of="v1").num_rows == 5000
    assert copy.table("labels", as_of="origin/main").num_rows == 5000
    assert copy.table("labels", as_of="remotes/origin/main").num_rows == 5000
    assert copy.remotes == {"origin": remote_url}
    if remote_url.startswith("file://"):  # works offline: the remote is gone
        import shutil

        shutil.rmtree(Path(remote_url[len("file://") :]))
        copy.close()
        again = Repo(tmp_path / "copy", create=False)
        assert again.table("labels").num_rows == 5000 and again.db.fsck() == []


def test_an_update_pushes_and_pulls_only_what_changed(tmp_path, remote_url):
    src = make_repo(tmp_path / "src", 20000)
    src.add_remote("origin", remote_url)
    src.push("origin", "main", set_upstream=True)
    first = remote_size(remote_url)
    copy = clone(remote_url, tmp_path / "copy")
    ids = list(range(0, 20000, 100))  # 1% of the rows, all over the table
    src.write("labels", rows(ids, "dog"), mode="upsert")
    src.commit("relabel 1%")
    src.push()
    added = remote_size(remote_url) - first
    assert added < first / 10, (added, first)  # deltas, not whole leaves
    fetched = copy.fetch("origin")
    assert fetched.wire_bytes <= added
    outcome = copy.pull()
    assert outcome.fast_forward
    assert copy.table("labels").sort_by("id").equals(src.table("labels").sort_by("id"))
    assert copy.db.fsck() == []


def test_fetch_moves_tracking_refs_and_prunes(tmp_path, remote_url):
    src = make_repo(tmp_path / "src")
    src.add_remote("origin", remote_url)
    src.branch("feature")
    src.push("origin", "main")
    src.push("origin", "feature")
    copy = clone(remote_url, tmp_path / "copy")
    assert sorted(copy.db.refs.remote_branches()) == ["origin/feature", "origin/main"]
    other = clone(remote_url, tmp_path / "other")
    other.checkout("feature", create=True)
    other.write("labels", rows([1], "x"), mode="upsert")
    other.commit("feature work")
    other.push("origin", "feature")
    result = copy.fetch("origin")
    assert list(result.updated) == ["refs/remotes/origin/feature"]
    assert copy.db.resolve("origin/feature") == other.db.resolve("feature")
    copy.fetch("origin", prune=True)  # nothing deleted on the remote: nothing pruned
    assert "origin/feature" in copy.db.refs.remote_branches()
    from arbordb.engine.remote.sync import push

    deleted = push(other.db.store, "origin", [(None, "refs/heads/feature")])  # git's :feature
    assert deleted[0].new is None and "origin/feature" not in other.db.refs.remote_branches()
    copy.fetch("origin")
    assert "origin/feature" in copy.db.refs.remote_branches()  # kept without --prune
    assert list(copy.fetch("origin", prune=True).updated) == ["refs/remotes/origin/feature"]
    assert sorted(copy.db.refs.remote_branches()) == ["origin/main"]


def test_transfers_report_progress(tmp_path):
    from arbordb.engine.remote.sync import reporting

    src = make_repo(tmp_path / "src", 3000)
    src.add_remote("origin", str(tmp_path / "remote"))
    pushed, cloned = [], []
    with reporting(lambda chunks, size: pushed.append((chunks, size))):
        src.push("origin", "main")
    with reporting(lambda chunks, size: cloned.append((chunks, size))):
        clone(str(tmp_path / "remote"), tmp_path / "copy")
    assert sum(s for _, s in pushed) == remote_size((tmp_path / "remote").as_uri())
    assert sum(c for c, _ in cloned) == sum(c for c, _ in pushed) > 3


# --- refusals ------------------------------------------------------------------------


def test_clone_of_a_missing_or_empty_remote_leaves_nothing(tmp_path, s3_endpoint):
    from .conftest import make_bucket

    empty = tmp_path / "empty"
    empty.mkdir()
    for url in [
        (tmp_path / "nowhere").as_uri(),
        empty.as_uri(),
        f"s3://{make_bucket(s3_endpoint)}/x",
    ]:
        target = tmp_path / "copy"
        with pytest.raises(RemoteNotFound, match="no ArborDB repository"):
            clone(url, target)
        assert not target.exists()
        assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_clone_failure_inside_an_empty_target_leaves_it_empty(tmp_path):
    src = make_repo(tmp_path / "src", 100)
    src.add_remote("origin", tmp_path / "remote")
    src.push("origin", "main")
    target = tmp_path / "copy"
    target.mkdir()
    with pytest.raises(BranchNotFound, match="nope"):
        clone(str(tmp_path / "remote"), target, branch="nope")
    assert target.exists() and not any(target.iterdir())
    (target / "x").write_text("keep")
    with pytest.raises(InvalidInput, match="not an empty directory"):
        clone(str(tmp_path / "remote"), target)


def test_unknown_remote_branch_and_tag(tmp_path):
    src = make_repo(tmp_path / "src", 100)
    with pytest.raises(RemoteNotFound, match="remote 'origin' not found"):
        src.push("origin", "main")
    src.add_remote("origin", str(tmp_path / "remote"))
    with pytest.raises(AlreadyExists):
        src.add_remote("origin", str(tmp_path / "elsewhere"))
    with pytest.raises(RemoteNotFound, match="did you mean 'origin'"):
        src.fetch("orgin")
    with pytest.raises(BranchNotFound, match="no such local branch"):
        src.push("origin", "nope")
    with pytest.raises(TagNotFound):
        src.push("origin", tag="v9")
    src.push("origin", "main")
    with pytest.raises(BranchNotFound, match="not found on remote 'origin'"):
        src.fetch("origin", ["nope"])
    src.remove_remote("origin")
    assert src.remotes == {} and src.db.refs.remote_branches() == {}


def test_credentials_in_a_url_are_refused(tmp_path):
    repo = make_repo(tmp_path / "src", 10)
    with pytest.raises(InvalidInput, match="AWS_ACCESS_KEY_ID"):
        repo.add_remote("origin", "s3://AKIA:secret@bucket/prefix")
    with pytest.raises(InvalidInput, match="not supported"):
        repo.add_remote("origin", "ftp://host/x")


def test_push_behind_the_tip_is_refused_and_force_accepted(tmp_path, remote_url):
    a = make_repo(tmp_path / "a", 100)
    a.add_remote("origin", remote_url)
    a.push("origin", "main", set_upstream=True)
    b = clone(remote_url, tmp_path / "b")
    b.write("labels", rows([1], "b"), mode="upsert")
    b.commit("b's work")
    b.push()
    a.write("labels", rows([2], "a"), mode="upsert")
    a.commit("a's work")
    before = manifest_of(remote_url)
    with pytest.raises(PushRejected, match="fetch first"):
        a.push()
    assert manifest_of(remote_url) == before
    a.fetch("origin")  # now a holds b's commit: refused as non-fast-forward
    with pytest.raises(PushRejected, match="non-fast-forward.*fetch first"):
        a.push()
    a.push(force=True)
    assert clone(remote_url, tmp_path / "c").log()[0]["message"] == "a's work"

    # fetch after someone force-pushed: b's tracking ref follows the remote backwards
    b.fetch("origin")
    assert b.db.resolve("origin/main") == a.db.resolve("main")
    assert b.log()[0]["message"] == "b's work"  # b's own branch is untouched


def test_pull_into_a_dirty_working_set_is_refused_and_changes_nothing(tmp_path):
    remote = str(tmp_path / "remote")
    a = make_repo(tmp_path / "a", 100)
    a.add_remote("origin", remote)
    a.push("origin", "main", set_upstream=True)
    b = clone(remote, tmp_path / "b")
    a.write("labels", rows([3], "new"), mode="upsert")
    a.commit("upstream change")
    a.push()
    b.write("labels", rows([4], "local"), mode="upsert")
    tracking = b.db.refs.remote_branches()
    with pytest.raises(DirtyWorkingSet, match="nothing was fetched"):
        b.pull()
    assert b.db.refs.remote_branches() == tracking
    assert (
        b.table("labels").filter(pa.compute.equal(pa.compute.field("id"), 4))["label"][0].as_py()
        == "local4"
    )


def test_pull_that_conflicts_leaves_conflicts_like_merge(tmp_path):
    remote = str(tmp_path / "remote")
    a = make_repo(tmp_path / "a", 100)
    a.add_remote("origin", remote)
    a.push("origin", "main", set_upstream=True)
    b = clone(remote, tmp_path / "b")
    a.write("labels", rows([5], "theirs"), mode="upsert")
    a.commit("theirs")
    a.push()
    b.write("labels", rows([5], "ours"), mode="upsert")
    b.commit("ours")
    with pytest.raises(InvalidInput, match="diverged"):
        b.pull(ff_only=True)
    outcome = b.pull()
    assert outcome.conflicts == 1 and not outcome.fast_forward
    assert ("labels", False, "conflict") in b.status()
    b.resolve("labels", "theirs")
    b.commit("merge origin")
    assert (
        b.table("labels").filter(pa.compute.equal(pa.compute.field("id"), 5))["label"][0].as_py()
        == "theirs5"
    )
    b.push()


def test_a_damaged_pack_is_refused_and_nothing_is_stored(tmp_path):
    remote = tmp_path / "remote"
    a = make_repo(tmp_path / "a", 3000)
    a.add_remote("origin", str(remote))
    a.push("origin", "main")
    b = clone(str(remote), tmp_path / "b")
    a.write("labels", rows(range(0, 3000, 50), "x"), mode="upsert")
    a.commit("second")
    a.push()
    newest = max((remote / "packs").iterdir(), key=lambda p: p.stat().st_mtime_ns)
    data = bytearray(newest.read_bytes())
    data[len(data) // 3] ^= 0x40  # inside an entry
    newest.write_bytes(bytes(data))
    before = (b.db.store.stats()["chunks"], b.db.refs.remote_branches())
    with pytest.raises(CorruptChunk):
        b.fetch("origin")
    assert (b.db.store.stats()["chunks"], b.db.refs.remote_branches()) == before
    with pytest.raises(CorruptChunk):
        clone(str(remote), tmp_path / "c")
    assert not (tmp_path / "c").exists()
    assert not [p for p in tmp_path.iterdir() if ".clone-" in p.name]  # no staging left


def test_an_unreachable_endpoint_or_missing_bucket_fails_quickly(
    tmp_path, s3_endpoint, monkeypatch
):
    repo = make_repo(tmp_path / "a", 10)
    repo.add_remote("gone", "s3://no-such-bucket-here/x")
    started = time.monotonic()
    with pytest.raises(RemoteUnreachable, match="no-such-bucket-here"):
        repo.push("gone", "main")
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{free_port()}")
    with pytest.raises(RemoteUnreachable, match="cannot reach"):
        repo.push("gone", "main")
    assert time.monotonic() - started < 20


def test_remote_gc_removes_only_old_unnamed_packs(tmp_path):
    remote = tmp_path / "remote"
    a = make_repo(tmp_path / "a", 100)
    a.add_remote("origin", str(remote))
    a.push("origin", "main")
    (remote / "packs" / "leftover.pack").write_bytes(b"half a pack")
    assert gc_remote(str(remote)) == 0  # young: may belong to a push in flight
    assert gc_remote(str(remote), grace_seconds=0) == 1
    assert clone(str(remote), tmp_path / "b").table("labels").num_rows == 100


# --- real processes -------------------------------------------------------------------

PUSHER = textwrap.dedent(
    """
    import sys
    from arbordb.engine.repo import Repo
    from arbordb.engine.errors import PushRejected
    repo = Repo(sys.argv[1])
    try:
        repo.push("origin", "main")
        print("pushed")
    except PushRejected as exc:
        print("rejected", exc)
    """
)


def test_two_processes_pushing_one_branch_one_wins_nothing_lost(tmp_path, remote_url):
    base = make_repo(tmp_path / "base", 2000)
    base.add_remote("origin", remote_url)
    base.push("origin", "main")
    heads = {}
    for start, who in enumerate(("x", "y")):
        copy = clone(remote_url, tmp_path / who)
        copy.write("labels", rows(range(start, 2000, 10), who), mode="upsert")
        heads[who] = copy.commit(f"{who}'s work")
        copy.close()
    procs = {
        w: subprocess.Popen(
            [sys.executable, "-c", PUSHER, str(tmp_path / w)], stdout=subprocess.PIPE, text=True
        )
        for w in heads
    }
    out = {w: p.communicate(timeout=60)[0] for w, p in procs.items()}
    winners = [w for w, text in out.items() if text.startswith("pushed")]
    assert len(winners) == 1, out
    loser = next(w for w in heads if w not in winners)
    assert "fetch first" in out[loser]
    check = clone(remote_url, tmp_path / "check")
    assert check.log()[0]["commit_hash"] == heads[winners[0]]
    assert check.db.fsck() == []
    retry = Repo(tmp_path / loser)
    assert not retry.pull().conflicts  # nothing lost: the loser merges the winner's work
    retry.push()
    merged = clone(remote_url, tmp_path / "merged").table("labels").to_pylist()
    labels = {r["id"]: r["label"] for r in merged}
    assert labels[10] == "x10" and labels[11] == "y11"


KILLED_PUSH = textwrap.dedent(
    """
    import sys
    from arbordb.engine.repo import Repo
    Repo(sys.argv[1]).push("origin", "main")
    print("done", flush=True)
    """
)


def test_a_push_killed_at_random_moments_leaves_the_remote_consistent(tmp_path):
    remote = str(tmp_path / "remote")
    src = make_repo(tmp_path / "src", 2000)
    src.add_remote("origin", remote)
    src.push("origin", "main")
    rng = random.Random(13)
    for round_ in range(4):
        old_head = Manifest.decode(manifest_of(remote), remote).branches()["main"]
        src.write("labels", rows(np.arange(round_, 60000, 3).tolist(), f"r{round_}"), mode="upsert")
        expected = src.commit(f"round {round_}")
        proc = subprocess.Popen(
            [sys.executable, "-c", KILLED_PUSH, str(tmp_path / "src")], stdout=subprocess.PIPE
        )
        time.sleep(rng.uniform(0.2, 1.5))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        head = Manifest.decode(manifest_of(remote), remote).branches()["main"]
        assert head in (old_head, parse_address(expected))  # old or new, never torn
        copy = clone(remote, tmp_path / f"copy{round_}")  # whichever state it is in
        assert copy.db.fsck() == []
        copy.close()
        src.push("origin", "main")  # the retry succeeds
        assert clone(remote, tmp_path / f"after{round_}").log()[0]["commit_hash"] == expected


def test_read_only_access_can_clone_but_not_push(tmp_path):
    # Outside pytest's tmp tree: concurrent pytest runs reset its top folder to 0700.
    work = Path(tempfile.mkdtemp(prefix="arbor-ro-"))
    work.chmod(0o777)
    remote = work / "remote"
    src = make_repo(tmp_path / "src", 100)
    src.add_remote("origin", str(remote))
    src.push("origin", "main")
    script = textwrap.dedent(
        """
        import os, sys
        from arbordb.engine.errors import RemoteUnreachable
        from arbordb.engine.repo import clone
        if os.geteuid() == 0:
            os.setgid(65534); os.setuid(65534)  # root ignores permissions: become nobody
        copy = clone(sys.argv[1], sys.argv[2])
        copy.push("origin", "main")  # up to date: nothing to write, so no refusal
        copy.write("labels", copy.table("labels").slice(0, 1), mode="upsert")
        copy.commit("mine", allow_empty=True)
        try:
            copy.push("origin", "main")
        except RemoteUnreachable as exc:
            print("refused:", exc)
        """
    )
    for p in [remote, *remote.rglob("*")]:
        p.chmod(0o555 if p.is_dir() else 0o444)
    try:
        before = manifest_of(remote.as_uri())
        done = subprocess.run(
            [sys.executable, "-c", script, str(remote), str(work / "copy")],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert "refused:" in done.stdout and "read-only" in done.stdout, done.stdout + done.stderr
        assert manifest_of(remote.as_uri()) == before
    finally:
        for p in [remote, *remote.rglob("*")]:
            p.chmod(0o755 if p.is_dir() else 0o644)
        import shutil

        shutil.rmtree(work, ignore_errors=True)
