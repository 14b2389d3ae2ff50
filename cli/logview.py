"""Commit history as text: ``arbor log`` in full, ``--oneline`` and ``--graph``.

Input is the rows of ``dolt_log('--parents', '--decorate', 'short')``: dicts with
``commit_hash``, ``committer``, ``email``, ``date``, ``message``, ``parents``
(space-separated hashes) and ``refs`` (``HEAD -> main, tag: v1``), newest first
(every commit after all of its children). Nothing here reads a repository.

The graph is drawn git-style, one lane per line of descent::

    *   5k2... (HEAD -> main) Merge branch 'relabel'
    |\\
    | * 9ab... (relabel) relabel cats
    * | 0c1... fix scores
    |/
    * 7de... first labels

Lanes are a list of the commit hashes each column waits for. A commit takes the
lane that waits for it (or a new one on the right); its first parent takes over
that lane and further parents open lanes to its right (``|\\``); when two lanes
wait for the same commit the right one closes (``|/``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from .render import BOLD, GREEN, RESET, YELLOW

SHORT_HASH = 8


def _decoration(refs: str | None, color: bool) -> str:
    if not refs:
        return ""
    return f" ({BOLD}{GREEN}{refs}{RESET})" if color else f" ({refs})"


def _hash(text: str, color: bool, short: bool) -> str:
    shown = text[:SHORT_HASH] if short else text
    return f"{YELLOW}{shown}{RESET}" if color else shown


def _date(value: Any) -> str:
    if isinstance(value, datetime):
        return value.strftime("%a %b %d %H:%M:%S %Y")
    return str(value)


def full_entry(
    row: Mapping[str, Any], *, color: bool = False, parents: bool = False
) -> list[str]:
    """Dolt's ``log`` block for one commit: hash line (with its parents' hashes when
    ``parents``), Merge, Author, Date, Metadata, message."""
    after = "".join(" " + p for p in (row.get("parents") or "").split()) if parents else ""
    lines = [
        f"{_hash('commit ' + row['commit_hash'] + after, color, False)}"
        f"{_decoration(row.get('refs'), color)}"
    ]
    parent_hashes = (row.get("parents") or "").split()
    if len(parent_hashes) > 1:
        lines.append("Merge: " + " ".join(p[:SHORT_HASH] for p in parent_hashes))
    lines.append(f"Author: {row['committer']} <{row['email']}>")
    lines.append(f"Date:  {_date(row['date'])}")
    if row.get("metadata") not in (None, "{}"):
        lines.append(f"Metadata: {row['metadata']}")
    lines.append("")
    lines += ["\t" + m for m in str(row["message"]).splitlines() or [""]]
    lines.append("")
    return lines


def oneline(row: Mapping[str, Any], *, color: bool = False, parents: bool = False) -> str:
    """``<short hash> [parents] (refs) <first line of the message>``."""
    subject = (str(row["message"]).splitlines() or [""])[0]
    shown = row["commit_hash"][:SHORT_HASH]
    if parents:
        shown += "".join(" " + p[:SHORT_HASH] for p in (row.get("parents") or "").split())
    return f"{_hash(shown, color, False)}{_decoration(row.get('refs'), color)} {subject}"


def log_text(
    rows: Sequence[Mapping[str, Any]],
    *,
    short: bool = False,
    graph: bool = False,
    color: bool = False,
    parents: bool = False,
    stats: Sequence[str] | None = None,
) -> str:
    """The whole log; ``short`` is ``--oneline``, ``graph`` draws lanes on the left,
    ``parents`` adds each commit's parents, ``stats`` a text block under each commit."""
    blocks = [
        [oneline(r, color=color, parents=parents)]
        if short
        else full_entry(r, color=color, parents=parents)
        for r in rows
    ]
    if stats is not None:
        for block, text in zip(blocks, stats, strict=True):
            block += text.rstrip("\n").splitlines() + ([""] if text and not short else [])
    if not graph:
        return "".join(line + "\n" for block in blocks for line in block)
    out: list[str] = []
    for lines, block in zip(graph_lines(rows), blocks, strict=True):
        star, connectors, plain = lines
        width = max(len(x) for x in [star, plain, *connectors])
        out.append(star.ljust(width) + " " + block[0])
        lefts = connectors + [plain] * max(0, len(block) - 1 - len(connectors))
        texts = block[1:] + [""] * max(0, len(connectors) - len(block) + 1)
        out += [
            (left.ljust(width) + " " + text).rstrip()
            for left, text in zip(lefts, texts, strict=True)
        ]
    return "".join(line + "\n" for line in out)


def graph_lines(rows: Sequence[Mapping[str, Any]]) -> list[tuple[str, list[str], str]]:
    """Per commit: its ``*`` line, the connector lines below it, and the plain lane line
    (``| |``) for any further text lines."""
    lanes: list[str] = []
    out = []
    for row in rows:
        commit = row["commit_hash"]
        parents = (row.get("parents") or "").split()
        if commit not in lanes:
            lanes.append(commit)
        col = lanes.index(commit)
        star = " ".join("*" if i == col else "|" for i in range(len(lanes)))
        connectors = []
        if len(parents) > 1:  # |\ : the extra parents open lanes right of this one
            connectors.append(_fan_out(len(lanes), col, len(parents) - 1))
        elif not parents and col < len(lanes) - 1:  # a root commit: lanes on its right move left
            connectors.append(_shift_left(len(lanes), col))
        lanes = lanes[:col] + parents + lanes[col + 1 :]
        for i in range(len(lanes) - 1, 0, -1):  # |/ : two lanes wait for one commit
            if lanes[i] in lanes[:i]:
                connectors.append(_shift_left(len(lanes), i))
                del lanes[i]
        out.append((star, connectors, " ".join("|" for _ in lanes)))
    return out


def _fan_out(width: int, col: int, count: int) -> str:
    """``|\\``: ``count`` new lanes open right of lane ``col``; lanes beyond it move right."""
    chars = [" "] * (2 * (width + count))
    for i in range(width):
        if i <= col:
            chars[2 * i] = "|"
        else:
            chars[2 * i + 1] = "\\"
    for j in range(count):
        chars[2 * col + 1 + 2 * j] = "\\"
    return "".join(chars).rstrip()


def _shift_left(width: int, gone: int) -> str:
    """``|/``: lane ``gone`` ends here and every lane right of it moves one to the left."""
    chars = [" "] * (2 * width - 1)
    for i in range(width):
        if i < gone:
            chars[2 * i] = "|"
        elif i > gone or i == gone and gone > 0:
            chars[2 * i - 1] = "/"
    return "".join(chars).rstrip()
