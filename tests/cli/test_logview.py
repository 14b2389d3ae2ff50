"""Log rendering (cli/logview.py): full, --oneline and --graph on hand-made rows."""

from __future__ import annotations

import datetime

from arbordb.cli import logview

D = datetime.datetime(2026, 1, 1, 12, 0, 0)


def row(h: str, parents: str = "", refs: str = "", message: str = "msg") -> dict:
    return {
        "commit_hash": h * 32,
        "committer": "ann",
        "email": "ann@x",
        "date": D,
        "message": message,
        "parents": " ".join(p * 32 for p in parents),
        "refs": refs,
    }


HISTORY = [
    row("M", "FR", "HEAD -> main", "Merge relabel"),
    row("R", "B", "relabel", "relabel"),
    row("F", "B", "", "fix"),
    row("B", "I", "tag: v1", "base"),
    row("I", "", "", "Initialize data repository"),
]


def test_oneline():
    assert logview.log_text(HISTORY[:2], short=True) == (
        "MMMMMMMM (HEAD -> main) Merge relabel\nRRRRRRRR (relabel) relabel\n"
    )


def test_full_entry_shows_merge_parents():
    lines = logview.full_entry(HISTORY[0])
    assert lines[0] == "commit " + "M" * 32 + " (HEAD -> main)"
    assert lines[1] == "Merge: FFFFFFFF RRRRRRRR"
    assert lines[2] == "Author: ann <ann@x>"
    assert lines[3].startswith("Date:  Thu Jan 01 12:00:00 2026")
    assert "\tMerge relabel" in lines


def test_graph_of_a_merge():
    assert logview.log_text(HISTORY, short=True, graph=True).splitlines() == [
        "*   MMMMMMMM (HEAD -> main) Merge relabel",
        "|\\",
        "| * RRRRRRRR (relabel) relabel",
        "* | FFFFFFFF fix",
        "|/",
        "* BBBBBBBB (tag: v1) base",
        "* IIIIIIII Initialize data repository",
    ]


def test_graph_full_entries_keep_lanes_beside_text():
    lines = logview.log_text(HISTORY, graph=True).splitlines()
    assert lines[0].startswith("*   commit MMMM")
    assert lines[1].startswith("|\\  Merge:")
    fix = next(i for i, line in enumerate(lines) if "commit FFFF" in line)
    assert lines[fix].startswith("* | ") and lines[fix + 1].startswith("|/  Author:")


def test_linear_graph_is_one_lane():
    lines = logview.log_text(HISTORY[3:], short=True, graph=True).splitlines()
    assert lines == ["* BBBBBBBB (tag: v1) base", "* IIIIIIII Initialize data repository"]
