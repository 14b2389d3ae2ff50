"""The README's "Share a repository" section runs as written, over file:// and over a
local S3 server (the commands run in-process, line by line, as a user types them)."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

from tests.cli.helpers import LABELS_CSV, arbor, ok

from .conftest import make_bucket

README = Path(__file__).resolve().parents[3] / "README.md"


def share_blocks() -> list[str]:
    section = README.read_text().split("## Share a repository", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```bash\n(.*?)```", section, re.S)


def run_block(block: str, cwd: Path, monkeypatch) -> list[str]:
    outputs = []
    for line in block.splitlines():
        command = line.split("  #")[0].strip()
        for part in filter(None, (p.strip() for p in command.split("&&"))):
            words = shlex.split(part)
            if words[0] == "cd":
                cwd = (cwd / words[1]).resolve()
            elif words[0] == "export":
                continue  # the fixture already points the AWS variables at the test server
            else:
                assert words[0] == "arbor", part
                monkeypatch.chdir(cwd)
                outputs.append(ok(arbor(cwd, *words[1:])))
    return outputs


def make_labels(root: Path) -> Path:
    repo = root / "labels"
    repo.mkdir()
    (root / "labels.csv").write_text(LABELS_CSV)
    ok(arbor(repo, "init"))
    ok(arbor(repo, "table", "import", "--create", "--pk", "id", "labels", str(root / "labels.csv")))
    ok(arbor(repo, "commit", "-Am", "first labels"))
    ok(arbor(repo, "tag", "trained-v1"))
    return repo


def test_share_over_a_folder(tmp_path, monkeypatch):
    repo = make_labels(tmp_path)
    block = share_blocks()[0].replace("/tmp/shared", str(tmp_path / "shared"))
    outputs = run_block(block, repo, monkeypatch)
    assert "remotes/origin/main" in outputs[-2]
    assert " 0.9 |" in outputs[-1] and "modified" in outputs[-1]  # score 0.9 -> 1
    copy = tmp_path / "labels-copy"
    assert ok(arbor(copy, "log", "--oneline")).count("\n") == 3  # init, first labels, fix


def test_share_over_s3(tmp_path, monkeypatch, s3_endpoint):
    repo = make_labels(tmp_path)
    bucket = make_bucket(s3_endpoint)
    run_block(share_blocks()[1].replace("my-bucket", bucket), repo, monkeypatch)
    copy = tmp_path / "labels-from-s3"
    assert "4" in ok(arbor(copy, "sql", "-q", "SELECT count(*) FROM labels"))
