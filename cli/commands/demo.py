"""``arbor demo``: the label-table story, run for real on a fresh repository.

Each step is an ordinary ``arbor`` command line, printed before it runs, so the
demo doubles as a tutorial: import a CSV of labels, branch, relabel with SQL, look
at the diff's summary, merge, tag the version a model trains on, and query it
``AS OF`` the tag.
"""

from __future__ import annotations

import shlex
import tempfile
from pathlib import Path

import click

from ..client import REPO_DIR, Invocation, invocation_of
from ..errors import CliError
from .common import example, out

_ANIMALS = ("cat", "dog", "bird")
STEPS = (
    "init",
    "table import --create --pk id labels labels.csv",
    "commit -Am 'import 24 labels'",
    "checkout -b relabel",
    "sql -q \"UPDATE labels SET label = 'dog' WHERE label = 'cat' AND score < 0.6\"",
    "diff --summary",
    "commit -Am 'relabel low-confidence cats as dogs'",
    "checkout main",
    "sql -q \"INSERT INTO labels VALUES (25, 'img/0025.jpg', 'bird', 0.99)\"",
    "commit -Am 'add image 25'",
    "merge relabel",
    "tag v1 -m 'training set v1'",
    "log --oneline --graph",
    "sql -q \"SELECT label, count(*) AS n FROM labels AS OF 'v1' GROUP BY label ORDER BY label\"",
)


def _labels_csv() -> str:
    lines = ["id,image,label,score"]
    for i in range(1, 25):
        label = _ANIMALS[i % 3]
        score = round(0.35 + (i * 7 % 13) / 20, 2)
        lines.append(f"{i},img/{i:04d}.jpg,{label},{score}")
    return "\n".join(lines) + "\n"


@click.command(epilog=example("arbor demo", "arbor demo ./label-demo"))
@click.argument("directory", required=False, type=click.Path(file_okay=False, path_type=Path))
@click.pass_context
def demo(ctx: click.Context, directory: Path | None) -> None:
    """Run a short end-to-end demo.

    Imports a CSV of labels, branches, relabels with SQL, shows the diff summary,
    adds a row on main, merges and tags, printing each arbor command before it runs.
    The repository is made in DIRECTORY (default: a new temporary directory) and kept
    afterwards.
    """
    invocation = invocation_of(ctx)
    if directory is None:
        target = Path(tempfile.mkdtemp(prefix="arbor-demo-"))
    else:
        target = (invocation.directory / directory).resolve()
    if (target / REPO_DIR).exists():
        raise CliError(f"{str(target)!r} already holds a repository; give the demo a new directory")
    target.mkdir(parents=True, exist_ok=True)
    (target / "labels.csv").write_text(_labels_csv())
    group = ctx.find_root().command
    out(f"# ArborDB demo in {target}\n")
    for step in STEPS:
        out(f"\n$ arbor {step}\n")
        status = group.main(
            shlex.split(step), prog_name="arbor", obj=Invocation(target), standalone_mode=False
        )
        if status:
            raise CliError(f"demo step `arbor {step}` exited with status {status}")
    out(f"\nDone. The repository is in {target}; try: cd {shlex.quote(str(target))} && arbor sql\n")


COMMANDS = (demo,)
