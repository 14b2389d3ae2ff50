"""Remotes benchmark: push, clone, a 1%-update push and its pull, on a 1M-row table,
beside doltlite.

One ArborDB repository (engine API) and one doltlite database hold the same table
``t (id, label, score)`` (``bench.storage.make_table``) after one commit. Each run,
alternating the two systems:

- full push: the whole repository to a fresh ``file://`` remote (time; bytes on
  the remote); then clone of that remote into a fresh directory (time; bytes);
- 1% push: ``--rows // 100`` scattered rows get a new label and score
  (``make_changes``), committed, and pushed to the remote of the first run (time;
  bytes the remote grew by);
- pull: the first run's clone pulls that commit (time).

Then the same full push and clone over a local S3 server (moto's standalone server on
127.0.0.1, ``--no-s3`` skips it), ArborDB only: doltlite's Python package has no
s3:// remote. Medians of ``--runs`` runs; the machine was shared while measuring.
"""

from __future__ import annotations

from . import peers  # first: doltlite must load before bench.storage imports sqlite3

# isort: split
import os
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import arbordb

from .common import (
    Runs,
    check,
    emit,
    fmt_bytes,
    load_average,
    machine,
    machine_line,
    markdown_table,
    metric,
    results_path,
    workload_parser,
    write_section,
)
from .storage import make_changes, make_table

TARGET_CLONE = 1.5
TARGET_PULL = 0.5
TARGET_UPDATE_BYTES = 3_000_000


def tree_bytes(path: Path) -> int:
    """Bytes of every file under ``path`` (a remote folder, or a repository)."""
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def timed(fn) -> tuple[float, Any]:
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


class DoltliteSide:
    """doltlite's file:// remotes through its SQL functions."""

    def __init__(self, root: Path, table) -> None:
        self.root = root
        self.src = peers.Doltlite.open(root / "src" / "t.db")
        self.src.create()
        self.src.insert_rows(peers.rows_of(table), message="load")

    def push(self, i: int) -> tuple[float, Path]:
        remote = self.root / f"remote{i}"
        self.src.query("SELECT dolt_remote('add', ?, ?)", (f"r{i}", remote.as_uri()))
        seconds, _ = timed(lambda: self.src.query("SELECT dolt_push(?, 'main')", (f"r{i}",)))
        return seconds, remote

    def clone(self, remote: Path, i: int) -> tuple[float, sqlite3.Connection, Path]:
        path = self.root / f"clone{i}" / "t.db"
        path.parent.mkdir()
        con = sqlite3.connect(path, isolation_level=None)
        seconds, _ = timed(
            lambda: con.execute("SELECT dolt_clone(?)", (remote.as_uri(),)).fetchall()
        )
        (count,) = con.execute("SELECT count(*) FROM t").fetchone()
        check(count > 0, "doltlite's clone holds no rows")
        return seconds, con, path

    def update_and_push(self, changes, remote: Path) -> tuple[float, int]:
        self.src.update_rows(peers.update_params(changes), message="relabel 1%")
        before = tree_bytes(remote)
        seconds, _ = timed(lambda: self.src.query("SELECT dolt_push('r0', 'main')"))
        return seconds, tree_bytes(remote) - before


def start_s3() -> tuple[subprocess.Popen, str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{port}"
    os.environ.update(
        AWS_ENDPOINT_URL=endpoint, AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench",
        AWS_DEFAULT_REGION="us-east-1",
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return server, endpoint
        except OSError:
            if time.monotonic() > deadline:
                server.kill()
                raise RuntimeError("moto's S3 server did not start") from None
            time.sleep(0.1)


def run(args) -> tuple[dict[str, Any], list, str]:
    info = machine()  # the load average at the start
    table = make_table(args.rows)
    root = Path(tempfile.mkdtemp(prefix="arbordb-remotes-", dir=args.workdir))
    ours: dict[str, list[float]] = {
        k: [] for k in ("push", "clone", "push1", "pull", "s3push", "s3clone")
    }
    theirs: dict[str, list[float]] = {k: [] for k in ("push", "clone", "push1", "pull")}
    size: dict[str, list[int]] = {
        k: [] for k in ("remote", "clone", "added", "dl_remote", "dl_clone", "dl_added")
    }
    try:
        src = arbordb.Repo(root / "src")
        src.write("t", table, primary_key=["id"])
        src.commit("load")
        dl = DoltliteSide(root / "doltlite", table)
        clones, dl_clones = [], []
        for i in range(args.runs):
            remote = root / f"remote{i}"
            src.add_remote(f"r{i}", remote.as_uri())
            seconds, _ = timed(lambda i=i: src.push(f"r{i}", "main"))
            ours["push"].append(seconds)
            size["remote"].append(tree_bytes(remote))
            seconds, dl_remote = dl.push(i)
            theirs["push"].append(seconds)
            size["dl_remote"].append(tree_bytes(dl_remote))
            seconds, copy = timed(
                lambda remote=remote, i=i: arbordb.clone(remote.as_uri(), root / f"clone{i}")
            )
            ours["clone"].append(seconds)
            size["clone"].append(tree_bytes(root / f"clone{i}"))
            check(copy.db.store.stats()["chunks"] > 0, "the clone holds no chunks")
            clones.append(copy)
            seconds, con, path = dl.clone(dl_remote, i)
            theirs["clone"].append(seconds)
            size["dl_clone"].append(tree_bytes(path.parent))
            dl_clones.append(con)
        for i in range(args.runs):
            changes = make_changes(args.rows, args.rows // 100, seed=100 + i)
            src.write("t", changes, mode="upsert")
            src.commit(f"relabel 1% ({i})")
            before = tree_bytes(root / "remote0")
            seconds, _ = timed(lambda: src.push("r0", "main"))
            ours["push1"].append(seconds)
            size["added"].append(tree_bytes(root / "remote0") - before)
            seconds, added = dl.update_and_push(changes, dl.root / "remote0")
            theirs["push1"].append(seconds)
            size["dl_added"].append(added)
            seconds, outcome = timed(lambda: clones[0].pull())  # fetch + fast-forward merge
            ours["pull"].append(seconds)
            check(outcome.message in ("merge successful", "Everything up-to-date"), outcome.message)
            seconds, _ = timed(
                lambda: dl_clones[0].execute("SELECT dolt_pull('origin', 'main')").fetchall()
            )
            theirs["pull"].append(seconds)
        check(clones[0].table("t").num_rows == args.rows, "the pulled clone lost rows")
        if not args.no_s3:
            server, _ = start_s3()
            try:
                import boto3

                for i in range(args.runs):
                    bucket = f"bench-{i}-{os.getpid()}"
                    boto3.client("s3").create_bucket(Bucket=bucket)
                    src.add_remote(f"s3r{i}", f"s3://{bucket}/t")
                    seconds, _ = timed(lambda i=i: src.push(f"s3r{i}", "main"))
                    ours["s3push"].append(seconds)
                    seconds, copy = timed(
                        lambda bucket=bucket, i=i: arbordb.clone(
                            f"s3://{bucket}/t", root / f"s3clone{i}"
                        )
                    )
                    ours["s3clone"].append(seconds)
                    check(copy.table("t").num_rows == args.rows, "the S3 clone lost rows")
                    copy.close()
            finally:
                server.terminate()
                server.wait(10)
        for c in clones:
            c.close()
        for c in dl_clones:
            c.close()
        src.close()
        dl.src.close()
    finally:
        shutil.rmtree(root, ignore_errors=True)
    info["load_avg_1m_end"] = load_average()
    return _report(args, ours, theirs, size, info)


def _report(args, ours, theirs, size, info) -> tuple[dict[str, Any], list, str]:
    def runs(values: list[float]) -> Runs:
        return Runs(seconds=values)

    metrics = [
        metric("full push (file://)", runs(ours["push"]), "doltlite", runs(theirs["push"])),
        metric(
            "clone (file://)",
            runs(ours["clone"]),
            "doltlite",
            runs(theirs["clone"]),
            target=TARGET_CLONE,
        ),
        metric("push of a 1% update", runs(ours["push1"]), "doltlite", runs(theirs["push1"])),
        metric(
            "pull of it (fetch + merge)",
            runs(ours["pull"]),
            "doltlite",
            runs(theirs["pull"]),
            target=TARGET_PULL,
        ),
    ]
    if ours["s3push"]:
        metrics += [
            metric("full push (s3://, local moto)", runs(ours["s3push"])),
            metric("clone (s3://, local moto)", runs(ours["s3clone"])),
        ]
    med = {k: int(statistics.median(v)) for k, v in size.items() if v}
    byte_rows = [
        ("remote after the full push", med["remote"], med["dl_remote"], None),
        ("clone on disk", med["clone"], med["dl_clone"], None),
        (
            "remote growth per 1% push (= what the pull reads)",
            med["added"],
            med["dl_added"],
            TARGET_UPDATE_BYTES,
        ),
    ]
    info["doltlite"] = peers.DOLTLITE_VERSION
    lines = [
        f"## remotes ({args.rows:,} rows, {args.runs} runs)",
        "",
        markdown_table(metrics),
        "",
        "| bytes | arbordb | doltlite | target | met |",
        "|---|---|---|---|---|",
    ]
    for name, a, d, target in byte_rows:
        met = "-" if target is None else ("yes" if a <= target else "NO")
        lines.append(
            f"| {name} | {fmt_bytes(a)} | {fmt_bytes(d) if d is not None else '-'} | "
            f"{'-' if target is None else f'<= {fmt_bytes(target)}'} | {met} |"
        )
    clone_met = (
        metrics[1].comparison_value is not None and metrics[1].value <= metrics[1].comparison_value
    )
    lines += [
        "",
        f"Clone <= doltlite's: {'yes' if clone_met else 'NO'}. ArborDB's remote is a folder of "
        "packs plus a manifest; doltlite's file:// remote is one database file. The 1% push "
        "sends each changed leaf as the delta the local store keeps. S3 figures are over a "
        "loopback moto server (no target). "
        f"Machine: {machine_line(info)}; doltlite {info['doltlite']}; shared with other "
        "jobs while measuring (eight helpers on two cores), so read the ratios.",
    ]
    payload = {
        "workload": "remotes",
        "rows": args.rows,
        "metrics": [m.to_json() for m in metrics],
        "bytes": {name: {"arbordb": a, "doltlite": d} for name, a, d, _ in byte_rows},
        "machine": info,
    }
    return payload, metrics, "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = workload_parser("remotes", __doc__, runs=3)
    parser.add_argument("--no-s3", action="store_true", help="skip the local S3 server runs")
    args = parser.parse_args(argv)
    payload, metrics, section = run(args)
    emit(payload, metrics)
    path = results_path(args)
    if path is not None:
        write_section(path, "remotes", section)


if __name__ == "__main__":
    main()
